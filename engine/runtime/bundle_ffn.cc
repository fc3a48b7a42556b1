// bundle_ffn.cc - sparse FFN over bundle rows: dots with gate/up, activation, axpy of down.
#include "runtime/bundle_ffn.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <string>
#include <vector>

#include "compute/bundle_kernels.h"
#include "compute/matmul.h"
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
// bundle_ffn_compute_tokens: rows visited together by all tokens of a group (64 bundles of a
// 4096-dim F16 FFN are 1.5 MiB: within L2/L3), and token groups run in parallel (each group
// reads every row once; more groups, more parallelism, more reads).
constexpr int32_t kTokenChunkRows = 64;
constexpr int kTokenGroups = 4;

struct Ctx {
  const FlashLayout& layout;
  const ModelConfig& cfg;
  const uint8_t* rows;
  const int32_t* ids;     // by row
  const int32_t* select;  // item -> row, or nullptr (item k is row k)
  const float* up_bias;
  const float* x;
  float* row_hidden;
  BundleAux aux;
};

// Part `part_offset` of row r's bundle . x, and out += a * part (inline or split-scale rows).
float part_dot(const Ctx& c, const uint8_t* row, int32_t r, int64_t part_offset, const float* x) {
  const FlashLayout& L = c.layout;
  if (!L.split_scales) return dot_raw(L.dtype, row + part_offset, x, L.dim);
  const uint16_t* s = c.aux.scales + int64_t{c.ids[r]} * L.bundle_scales() +
                      part_offset / L.part_bytes() * L.part_scales();
  return dot_split(L.dtype, row + part_offset, s, x, L.dim);
}
void part_axpy(const Ctx& c, const uint8_t* row, int32_t r, int64_t part_offset, float a,
               float* out) {
  const FlashLayout& L = c.layout;
  if (!L.split_scales) return axpy_raw(L.dtype, row + part_offset, a, out, L.dim);
  const uint16_t* s = c.aux.scales + int64_t{c.ids[r]} * L.bundle_scales() +
                      part_offset / L.part_bytes() * L.part_scales();
  axpy_split(L.dtype, row + part_offset, s, a, out, L.dim);
}

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
      if (c.layout.split_scales || !c.layout.gate_in_bundle()) {
        if (c.layout.gate_in_bundle()) g[j] = part_dot(c, row, row_of[j], c.layout.gate_offset(), c.x);
        u[j] = part_dot(c, row, row_of[j], c.layout.up_offset(), c.x);
      } else if (gated) {
        // gate (d,) . x, up (d,) . x
        dot2_raw(t, row + c.layout.gate_offset(), row + c.layout.up_offset(), c.x, d, &g[j], &u[j]);
      } else {
        u[j] = dot_raw(t, row + c.layout.up_offset(), c.x, d);
      }
      if (c.up_bias != nullptr) u[j] += c.up_bias[c.ids[row_of[j]]];
    }
    if (c.layout.gate_resident) {
      // h = act(gate . x), computed for every neuron by the caller, * up . x
      for (int32_t j = 0; j < nb; ++j) h[j] = c.aux.gate_act[c.ids[row_of[j]]] * u[j];
    } else {
      ffn_activate(c.cfg, gated ? g : nullptr, u, h, nb);
    }
    for (int32_t j = 0; j < nb; ++j) {
      if (c.row_hidden != nullptr) c.row_hidden[b0 + j] = h[j];
      if (h[j] == 0.0f) continue;
      ++active;
      // acc (d,) += h * down column (d,)
      part_axpy(c, c.rows + int64_t{row_of[j]} * bb, row_of[j], c.layout.down_offset(), h[j], acc);
    }
  }
  return active;
}

}  // namespace

namespace {

// Throws unless layout and cfg agree, the bundle dtype is one the kernels take and split scales
// come with their table.
void check_layout(const FlashLayout& layout, const ModelConfig& cfg, const BundleAux& aux) {
  if (layout.split_scales && aux.scales == nullptr) fail("bundle ffn", "split-scale bundles without their scales");
  if (layout.gate_resident && aux.gate_act == nullptr) fail("bundle ffn", "gate-resident bundles without the gate activations");
  if (layout.dim != cfg.dim || layout.gated != cfg.ffn_gated) {
    fail("bundle ffn", "layout (dim " + std::to_string(layout.dim) +
                           (layout.gated ? ", gated" : ", ungated") + ") does not match the model (dim " +
                           std::to_string(cfg.dim) + (cfg.ffn_gated ? ", gated)" : ", ungated)"));
  }
  if (!bundle_dtype_supported(layout.dtype)) {
    fail("bundle ffn", std::string("unsupported bundle dtype ") + dtype_name(layout.dtype));
  }
  if (layout.bundle_bytes != layout.parts() * layout.part_bytes()) {
    fail("bundle ffn", "bundle_bytes " + std::to_string(layout.bundle_bytes) +
                           " does not match dim and dtype");
  }
}

// Throws unless every selected row is inside the block and holds a neuron of the layer.
void check_items(const FlashLayout& layout, int32_t n_rows, const int32_t* row_neuron_ids,
                 const int32_t* select, int32_t n_items) {
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
}

// The shared body: n_items items (rows, or rows picked by select) of a block of n_rows rows.
void compute_impl(const FlashLayout& layout, const ModelConfig& cfg, const uint8_t* rows,
                  int32_t n_rows, const int32_t* row_neuron_ids, const int32_t* select,
                  int32_t n_items, const float* up_bias, const float* x, float* out,
                  float* item_hidden, BundleFfnStats* stats, const BundleAux& aux) {
  check_layout(layout, cfg, aux);
  if (stats != nullptr) *stats = BundleFfnStats();
  if (n_items <= 0) return;
  if (rows == nullptr || row_neuron_ids == nullptr || x == nullptr || out == nullptr) {
    fail("bundle ffn", "null input");
  }
  check_items(layout, n_rows, row_neuron_ids, select, n_items);
  const Ctx c{layout, cfg, rows, row_neuron_ids, select, up_bias, x, item_hidden, aux};
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
                        const float* x, float* out, float* row_hidden, BundleFfnStats* stats,
                        const BundleAux& aux) {
  compute_impl(layout, cfg, rows, n_rows, row_neuron_ids, nullptr, n_rows, up_bias, x, out,
               row_hidden, stats, aux);
}

// rows[row_list] (n_list, [gate|up|down] x dim), x (dim,) -> out (dim,) +=
void bundle_ffn_compute_selected(const FlashLayout& layout, const ModelConfig& cfg,
                                 const uint8_t* rows, int32_t n_rows,
                                 const int32_t* row_neuron_ids, const int32_t* row_list,
                                 int32_t n_list, const float* up_bias, const float* x, float* out,
                                 float* item_hidden, BundleFfnStats* stats,
                                 const BundleAux& aux) {
  if (n_list > 0 && row_list == nullptr) fail("bundle ffn", "null row list");
  compute_impl(layout, cfg, rows, n_rows, row_neuron_ids, row_list, n_list, up_bias, x, out,
               item_hidden, stats, aux);
}

// x (n, dim) -> out (n, dim) +=, token t over rows[row_lists[t]] (ascending) or all rows
void bundle_ffn_compute_tokens(const FlashLayout& layout, const ModelConfig& cfg,
                               const uint8_t* rows, int32_t n_rows, const int32_t* row_neuron_ids,
                               const std::span<const int32_t>* row_lists, int n, const float* up_bias,
                               const float* x, float* out, const BundleAux& aux) {
  check_layout(layout, cfg, aux);
  if (n <= 0 || n_rows <= 0) return;
  if (rows == nullptr || row_neuron_ids == nullptr || x == nullptr || out == nullptr) {
    fail("bundle ffn", "null input");
  }
  for (int t = 0; t < n; ++t) {
    const std::span<const int32_t>* list = row_lists != nullptr ? &row_lists[t] : nullptr;
    if (list == nullptr) {
      check_items(layout, n_rows, row_neuron_ids, nullptr, n_rows);
      break;  // the same rows for every token
    }
    check_items(layout, n_rows, row_neuron_ids, list->data(), static_cast<int32_t>(list->size()));
    if (!std::is_sorted(list->begin(), list->end())) fail("bundle ffn", "row list not ascending");
  }
  const int64_t d = layout.dim;
  const int64_t bb = layout.bundle_bytes;
  const DType dt = layout.dtype;
  // Every row for every token: the up (and gate) dots of the whole block as one matrix product
  // (each row decoded once), then the activations; h (n, n_rows).
  std::vector<float> h, g;
  // Split-scale and gate-resident rows have no matmul: every token multiplies every row as a listed one would.
  const bool all_rows_matmul = row_lists == nullptr && !layout.split_scales && !layout.gate_resident;
  if (all_rows_matmul) {
    const size_t cells = static_cast<size_t>(n) * static_cast<size_t>(n_rows);
    h.resize(cells);
    matmul_raw(dt, rows + layout.up_offset(), n_rows, d, bb, x, n, h.data());
    if (up_bias != nullptr) {
      for (int t = 0; t < n; ++t) {
        float* ht = h.data() + static_cast<size_t>(t) * n_rows;
        for (int32_t r = 0; r < n_rows; ++r) ht[r] += up_bias[row_neuron_ids[r]];
      }
    }
    if (layout.gated) {
      g.resize(cells);
      matmul_raw(dt, rows + layout.gate_offset(), n_rows, d, bb, x, n, g.data());
    }
    ffn_activate(cfg, layout.gated ? g.data() : nullptr, h.data(), h.data(),
                 static_cast<int64_t>(cells));
  }
  // Tokens [t0, t1) on one thread: chunk by chunk of rows, every token of the range multiplies
  // its rows of the chunk (the chunk stays in cache for all of them).
  auto run = [&](int t0, int t1) {
    std::vector<size_t> cursor(static_cast<size_t>(t1 - t0), 0);
    for (int32_t c0 = 0; c0 < n_rows; c0 += kTokenChunkRows) {
      const int32_t c1 = std::min(n_rows, c0 + kTokenChunkRows);
      for (int t = t0; t < t1; ++t) {
        if (row_lists == nullptr && !all_rows_matmul) {
          const Ctx c{layout, cfg, rows, row_neuron_ids, nullptr, up_bias, x + t * d, nullptr, aux};
          compute_rows(c, c0, c1, out + t * d);
          continue;
        }
        if (row_lists == nullptr) {
          // out_t (d,) += h[t, r] * down column of row r
          const float* ht = h.data() + static_cast<size_t>(t) * n_rows;
          for (int32_t r = c0; r < c1; ++r) {
            if (ht[r] != 0.0f) axpy_raw(dt, rows + int64_t{r} * bb + layout.down_offset(), ht[r], out + t * d, d);
          }
          continue;
        }
        const Ctx c{layout, cfg, rows, row_neuron_ids, row_lists[t].data(), up_bias, x + t * d,
                    nullptr, aux};
        const std::span<const int32_t> list = row_lists[t];
        size_t& k = cursor[static_cast<size_t>(t - t0)];
        const size_t k0 = k;
        while (k < list.size() && list[k] < c1) ++k;
        if (k > k0) compute_rows(c, static_cast<int32_t>(k0), static_cast<int32_t>(k), out + t * d);
      }
    }
  };
  const int groups = std::min(n, kTokenGroups);
  if (groups <= 1) {
    run(0, n);
    return;
  }
  tbb::parallel_for(0, groups, [&](int g) { run(g * n / groups, (g + 1) * n / groups); });
}

}  // namespace flashchat
