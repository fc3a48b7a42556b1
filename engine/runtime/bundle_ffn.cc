// bundle_ffn.cc - sparse FFN over bundle rows: dots with gate/up, activation, axpy of down.
#include "runtime/bundle_ffn.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <string>
#include <vector>

#include "compute/bundle_kernels.h"
#include "core/error.h"
#include "model/transformer.h"

namespace flashchat {
namespace {

// Rows handled per activation batch (gate/up dots -> ffn_activate -> down axpys).
constexpr int32_t kBatch = 64;
// Row blocks for the parallel path: at least kMinBlockRows rows each, at most kMaxBlocks blocks,
// fixed by n_rows alone so the summation order never depends on scheduling.
constexpr int32_t kMinBlockRows = 64;
constexpr int32_t kMaxBlocks = 16;
// Below this many multiply-adds the call stays on the calling thread.
constexpr int64_t kSerialMacs = 1 << 18;

struct Ctx {
  const FlashLayout& layout;
  const ModelConfig& cfg;
  const uint8_t* rows;
  const int32_t* ids;     // by row
  const int32_t* select;  // item -> row, or nullptr (item k is row k)
  const float* up_bias;
  const float* x;
  float* row_hidden;
};

// Items [r0, r1) accumulated into acc (dim,); returns the items whose h != 0.
int32_t compute_rows(const Ctx& c, int32_t r0, int32_t r1, float* acc) {
  const DType t = c.layout.dtype;
  const int64_t d = c.layout.dim;
  const int64_t bb = c.layout.bundle_bytes;
  const bool gated = c.layout.gated;
  float g[kBatch], u[kBatch], h[kBatch];
  int32_t active = 0;
  for (int32_t b0 = r0; b0 < r1; b0 += kBatch) {
    const int32_t nb = std::min(kBatch, r1 - b0);
    int32_t row_of[kBatch];
    for (int32_t j = 0; j < nb; ++j) row_of[j] = c.select != nullptr ? c.select[b0 + j] : b0 + j;
    for (int32_t j = 0; j < nb; ++j) {
      const uint8_t* row = c.rows + int64_t{row_of[j]} * bb;
      if (gated) {
        // gate (d,) . x, up (d,) . x
        dot2_raw(t, row + c.layout.gate_offset(), row + c.layout.up_offset(), c.x, d, &g[j], &u[j]);
      } else {
        u[j] = dot_raw(t, row + c.layout.up_offset(), c.x, d);
      }
      if (c.up_bias != nullptr) u[j] += c.up_bias[c.ids[row_of[j]]];
    }
    ffn_activate(c.cfg, gated ? g : nullptr, u, h, nb);
    for (int32_t j = 0; j < nb; ++j) {
      if (c.row_hidden != nullptr) c.row_hidden[b0 + j] = h[j];
      if (h[j] == 0.0f) continue;
      ++active;
      // acc (d,) += h * down column (d,)
      axpy_raw(t, c.rows + int64_t{row_of[j]} * bb + c.layout.down_offset(), h[j], acc, d);
    }
  }
  return active;
}

}  // namespace

namespace {

// The shared body: n_items items (rows, or rows picked by select) of a block of n_rows rows.
void compute_impl(const FlashLayout& layout, const ModelConfig& cfg, const uint8_t* rows,
                  int32_t n_rows, const int32_t* row_neuron_ids, const int32_t* select,
                  int32_t n_items, const float* up_bias, const float* x, float* out,
                  float* item_hidden, BundleFfnStats* stats) {
  if (layout.dim != cfg.dim || layout.gated != cfg.ffn_gated) {
    fail("bundle ffn", "layout (dim " + std::to_string(layout.dim) +
                           (layout.gated ? ", gated" : ", ungated") + ") does not match the model (dim " +
                           std::to_string(cfg.dim) + (cfg.ffn_gated ? ", gated)" : ", ungated)"));
  }
  if (!bundle_dtype_supported(layout.dtype)) {
    fail("bundle ffn", std::string("unsupported bundle dtype ") + dtype_name(layout.dtype));
  }
  if (layout.bundle_bytes != (layout.gated ? 3 : 2) * layout.part_bytes()) {
    fail("bundle ffn", "bundle_bytes " + std::to_string(layout.bundle_bytes) +
                           " does not match dim and dtype");
  }
  if (stats != nullptr) *stats = BundleFfnStats();
  if (n_items <= 0) return;
  if (rows == nullptr || row_neuron_ids == nullptr || x == nullptr || out == nullptr) {
    fail("bundle ffn", "null input");
  }
  for (int32_t k = 0; k < n_items; ++k) {
    const int32_t r = select != nullptr ? select[k] : k;
    if (r < 0 || r >= n_rows) {
      fail("bundle ffn", "selected row " + std::to_string(r) + " outside the " +
                             std::to_string(n_rows) + " rows");
    }
    if (row_neuron_ids[r] < 0 || row_neuron_ids[r] >= layout.neurons) {
      fail("bundle ffn", "row " + std::to_string(r) + ": neuron " +
                             std::to_string(row_neuron_ids[r]) + " outside [0, " +
                             std::to_string(layout.neurons) + ")");
    }
  }
  const Ctx c{layout, cfg, rows, row_neuron_ids, select, up_bias, x, item_hidden};
  const int64_t d = layout.dim;
  const int64_t macs = int64_t{n_items} * d * (layout.gated ? 3 : 2);
  int32_t active = 0;
  if (macs < kSerialMacs || n_items < 2 * kMinBlockRows) {
    active = compute_rows(c, 0, n_items, out);
  } else {
    const int32_t blocks = std::min(kMaxBlocks, n_items / kMinBlockRows);
    const int32_t per = (n_items + blocks - 1) / blocks;
    // Per-block partial sums, reduced in block order (deterministic). Kept per calling thread
    // so the buffer is allocated once, not per token.
    thread_local std::vector<float> partial_storage;
    std::vector<float>& partial = partial_storage;  // the caller's, shared with the workers
    partial.assign(static_cast<size_t>(blocks) * static_cast<size_t>(d), 0.0f);
    std::vector<int32_t> block_active(static_cast<size_t>(blocks), 0);
    tbb::parallel_for(0, blocks, [&](int32_t b) {
      const int32_t r0 = b * per, r1 = std::min(n_items, r0 + per);
      if (r0 < r1) {
        block_active[static_cast<size_t>(b)] =
            compute_rows(c, r0, r1, partial.data() + static_cast<size_t>(b) * d);
      }
    });
    for (int32_t b = 0; b < blocks; ++b) {
      const float* p = partial.data() + static_cast<size_t>(b) * d;
      for (int64_t i = 0; i < d; ++i) out[i] += p[i];
      active += block_active[static_cast<size_t>(b)];
    }
  }
  if (stats != nullptr) {
    stats->rows = n_items;
    stats->rows_active = active;
  }
}

}  // namespace

// rows (n_rows, [gate|up|down] x dim), x (dim,) -> out (dim,) +=
void bundle_ffn_compute(const FlashLayout& layout, const ModelConfig& cfg, const uint8_t* rows,
                        int32_t n_rows, const int32_t* row_neuron_ids, const float* up_bias,
                        const float* x, float* out, float* row_hidden, BundleFfnStats* stats) {
  compute_impl(layout, cfg, rows, n_rows, row_neuron_ids, nullptr, n_rows, up_bias, x, out,
               row_hidden, stats);
}

// rows[row_list] (n_list, [gate|up|down] x dim), x (dim,) -> out (dim,) +=
void bundle_ffn_compute_selected(const FlashLayout& layout, const ModelConfig& cfg,
                                 const uint8_t* rows, int32_t n_rows,
                                 const int32_t* row_neuron_ids, const int32_t* row_list,
                                 int32_t n_list, const float* up_bias, const float* x, float* out,
                                 float* item_hidden, BundleFfnStats* stats) {
  if (n_list > 0 && row_list == nullptr) fail("bundle ffn", "null row list");
  compute_impl(layout, cfg, rows, n_rows, row_neuron_ids, row_list, n_list, up_bias, x, out,
               item_hidden, stats);
}

}  // namespace flashchat
