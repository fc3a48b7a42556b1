// bundle_ffn.h - one layer's FFN computed from neuron bundles (cache rows or an I/O buffer).
//
// A bundle is [gate row (d) | up row (d) | down column (d)] in the stored dtype (no gate when the
// FFN is ungated, see FlashLayout). For every given row (neuron i):
//   g = gate . x, u = up . x (+ up_bias[i]), h = act(g) * u (ungated: act(u)), out += h * down.
// Summed over all neurons this is exactly DenseFfn without the down bias (the caller adds it);
// over a subset it is the FFN restricted to those neurons. Rows may be in any order.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "flash/flash_model.h"
#include "model/model_config.h"

namespace flashchat {

// What a layer's bundles need besides their rows: the split block scales (FlashModel::
// layer_scales; required when layout.split_scales) and, when the layout keeps the gate resident,
// act(gate . x) of every neuron of the layer by neuron id (required when layout.gate_resident:
// then h = gate_act[neuron] * (up . x)).
struct BundleAux {
  const uint16_t* scales = nullptr;
  const float* gate_act = nullptr;
};

// What one bundle_ffn_compute call did (per layer per token).
struct BundleFfnStats {
  int32_t rows = 0;         // bundles multiplied
  int32_t rows_active = 0;  // of those, h != 0 (their down column was accumulated)
};

// rows: n_rows bundles of layout.bundle_bytes each, contiguous (row r at rows + r*bundle_bytes).
// row_neuron_ids (n_rows,): the neuron of each row (indexes up_bias; also checked < neurons).
// up_bias (layout.neurons,): OPT's fc1 bias or nullptr. x (dim,): the FFN input.
// out (dim,): accumulated into, not zeroed. row_hidden (n_rows,), optional: receives h per row.
// stats, optional: overwritten. aux: see BundleAux. Parallel over rows (TBB) when the work is large; the result does
// not depend on the thread count. Throws Error when layout and cfg disagree (dim, gating) or
// the dtype is not F32/F16/BF16/Q8_0/Q4_0, or aux lacks what the layout needs.
void bundle_ffn_compute(const FlashLayout& layout, const ModelConfig& cfg, const uint8_t* rows,
                        int32_t n_rows, const int32_t* row_neuron_ids, const float* up_bias,
                        const float* x, float* out, float* row_hidden = nullptr,
                        BundleFfnStats* stats = nullptr, const BundleAux& aux = {});

// The same over only the rows listed in row_list (n_list entries, each in [0, n_rows); e.g. the
// current token's neurons among a cache's rows), in list order. item_hidden (n_list,), optional:
// h per listed row. stats->rows counts listed rows. Throws Error on a row outside [0, n_rows).
void bundle_ffn_compute_selected(const FlashLayout& layout, const ModelConfig& cfg,
                                 const uint8_t* rows, int32_t n_rows,
                                 const int32_t* row_neuron_ids, const int32_t* row_list,
                                 int32_t n_list, const float* up_bias, const float* x, float* out,
                                 float* item_hidden = nullptr, BundleFfnStats* stats = nullptr,
                                 const BundleAux& aux = {});

// A block of n tokens over the same rows (FlashFfn's prompt blocks): token t (x row t, (n, dim)
// row-major) multiplies the rows listed in row_lists[t] (ascending row indices, each in
// [0, n_rows)), or every row when row_lists is nullptr; out (n, dim) is accumulated into.
// Every row (plain or inline-block dtypes): the up/gate dots of all tokens are one matrix product (compute/matmul.h, each row
// decoded once; a transient (n, n_rows) buffer). Then, and for listed rows, rows are visited in
// chunks by every token of a group (groups run in parallel over TBB), so each row is read from
// memory once per group, not once per token; each token sums its rows in ascending order. The
// result equals bundle_ffn_compute(_selected) per token within float summation order. Throws
// Error like bundle_ffn_compute, or when a list is not ascending.
void bundle_ffn_compute_tokens(const FlashLayout& layout, const ModelConfig& cfg,
                               const uint8_t* rows, int32_t n_rows, const int32_t* row_neuron_ids,
                               const std::span<const int32_t>* row_lists, int n, const float* up_bias,
                               const float* x, float* out, const BundleAux& aux = {});

}  // namespace flashchat
