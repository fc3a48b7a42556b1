// attention.h - one head's causal attention over a KV cache kept in blocks of positions, keys and
// values stored as F32 (the reference arithmetic) or F16 (AVX2 + F16C, converted 8 at a time).
#pragma once

#include <cstdint>

#include "formats/dtype.h"

namespace flashchat {

// One layer's KV cache as the kernel reads it. Block b holds positions
// [b * block_positions, (b + 1) * block_positions): keys (block_positions, row_elems), then values
// (block_positions, row_elems), row-major, in `dtype` (F32 or F16). row_elems = n_kv_heads *
// head_dim. Blocks never move; only the first ceil(n_positions / block_positions) are read.
struct KvBlocksView {
  DType dtype = DType::F16;
  const void* const* blocks = nullptr;
  int block_positions = 0;
  int64_t row_elems = 0;
};

// Bytes of one block of one layer (keys and values): 2 * block_positions * row_elems * elem.
int64_t kv_block_bytes(DType dtype, int block_positions, int64_t row_elems);

// src (n,) fp32 -> dst (n,) in `dtype` (F32: copy; F16: round to nearest even). Throws Error for
// any other dtype.
void kv_row_store(DType dtype, const float* src, void* dst, int64_t n);

// q (head_dim,) . keys [0, n_positions) of the kv head at column kv_off -> scores / score_div,
// softmax (max subtracted, fp32) -> att (n_positions,); out (head_dim,) = sum_t att[t] * v_t.
// score_div = 1 leaves the scores as they are (exact). F32 runs the scalar llama2.c order
// (score += q[i]*k[i], serial over t) so reference checkpoints reproduce their text; F16 runs
// AVX2 + F16C. Single-threaded (callers split over heads). n_positions >= 1; unchecked.
void attention_head(const KvBlocksView& kv, int64_t kv_off, int head_dim, const float* q,
                    int n_positions, float score_div, float* att, float* out);

}  // namespace flashchat
