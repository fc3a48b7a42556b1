// attention.cc - one head's attention over a block-allocated KV cache: F32 in llama2.c's scalar
// order (the reference), F16 with AVX2 + F16C (four key rows per pass, value columns in registers).
#include "compute/attention.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "compute/simd_avx2.h"
#include "core/error.h"

namespace flashchat {
namespace {

using simd::hsum;
using simd::load8_f16;

// k (n,) F16 . q (n,) -> scalar: two accumulators over 16, one block of 8, scalar tail.
inline float dot_f16(const uint16_t* k, const float* q, int n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_fmadd_ps(load8_f16(k + i), _mm256_loadu_ps(q + i), a0);
    a1 = _mm256_fmadd_ps(load8_f16(k + i + 8), _mm256_loadu_ps(q + i + 8), a1);
  }
  if (i + 8 <= n) {
    a0 = _mm256_fmadd_ps(load8_f16(k + i), _mm256_loadu_ps(q + i), a0);
    i += 8;
  }
  float sum = hsum(_mm256_add_ps(a0, a1));
  for (; i < n; ++i) sum += _cvtsh_ss(k[i]) * q[i];
  return sum;
}

// Four key rows k[0..3] (n,) F16 . q (n,) -> out (4,), q loaded once for all four; per row the
// same arithmetic as dot_f16 (a score never depends on how rows were grouped).
inline void dot4_f16(const uint16_t* const k[4], const float* q, int n, float* out) {
  __m256 a0[4], a1[4];
  for (int r = 0; r < 4; ++r) a0[r] = a1[r] = _mm256_setzero_ps();
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 q0 = _mm256_loadu_ps(q + i), q1 = _mm256_loadu_ps(q + i + 8);
    for (int r = 0; r < 4; ++r) {
      a0[r] = _mm256_fmadd_ps(load8_f16(k[r] + i), q0, a0[r]);
      a1[r] = _mm256_fmadd_ps(load8_f16(k[r] + i + 8), q1, a1[r]);
    }
  }
  if (i + 8 <= n) {
    const __m256 q0 = _mm256_loadu_ps(q + i);
    for (int r = 0; r < 4; ++r) a0[r] = _mm256_fmadd_ps(load8_f16(k[r] + i), q0, a0[r]);
    i += 8;
  }
  for (int r = 0; r < 4; ++r) {
    float sum = hsum(_mm256_add_ps(a0[r], a1[r]));
    for (int j = i; j < n; ++j) sum += _cvtsh_ss(k[r][j]) * q[j];
    out[r] = sum;
  }
}

// Calls fn(keys, values, t0, count) for each block holding positions [0, n): keys/values point at
// the block's first row (element type T), count = positions of the block that are < n.
template <typename T, typename Fn>
inline void blocks_visit(const KvBlocksView& kv, int n, Fn&& fn) {
  const int64_t half = int64_t{kv.block_positions} * kv.row_elems;
  for (int b = 0, t0 = 0; t0 < n; ++b, t0 += kv.block_positions) {
    const T* keys = static_cast<const T*>(kv.blocks[b]);
    fn(keys, keys + half, t0, std::min(kv.block_positions, n - t0));
  }
}

// att (n,) <- softmax(att) in fp32, max subtracted (llama2.c's order).
void softmax_inplace(float* att, int n) {
  float max_val = att[0];
  for (int t = 1; t < n; ++t) max_val = std::max(max_val, att[t]);
  float sum = 0.0f;
  for (int t = 0; t < n; ++t) {
    att[t] = std::exp(att[t] - max_val);
    sum += att[t];
  }
  for (int t = 0; t < n; ++t) att[t] /= sum;
}

// F32 keys/values: the scalar reference arithmetic, one position after another.
void attention_head_f32(const KvBlocksView& kv, int64_t kv_off, int hd, const float* q, int n,
                        float score_div, float* att, float* out) {
  const int64_t stride = kv.row_elems;
  blocks_visit<float>(kv, n, [&](const float* keys, const float*, int t0, int count) {
    for (int j = 0; j < count; ++j) {
      const float* k = keys + j * stride + kv_off;
      float score = 0.0f;
      for (int i = 0; i < hd; ++i) score += q[i] * k[i];
      att[t0 + j] = score / score_div;
    }
  });
  softmax_inplace(att, n);
  std::fill(out, out + hd, 0.0f);
  blocks_visit<float>(kv, n, [&](const float*, const float* values, int t0, int count) {
    for (int j = 0; j < count; ++j) {
      const float* v = values + j * stride + kv_off;
      const float a = att[t0 + j];
      for (int i = 0; i < hd; ++i) out[i] += a * v[i];
    }
  });
}

// F16 keys/values: scores four rows at a time; out accumulated 32 (then 8) columns at a time in
// registers over all positions, so each value element is loaded once.
void attention_head_f16(const KvBlocksView& kv, int64_t kv_off, int hd, const float* q, int n,
                        float score_div, float* att, float* out) {
  const int64_t stride = kv.row_elems;
  blocks_visit<uint16_t>(kv, n, [&](const uint16_t* keys, const uint16_t*, int t0, int count) {
    const uint16_t* base = keys + kv_off;
    int j = 0;
    for (; j + 4 <= count; j += 4) {
      const uint16_t* const k[4] = {base + j * stride, base + (j + 1) * stride,
                                    base + (j + 2) * stride, base + (j + 3) * stride};
      dot4_f16(k, q, hd, att + t0 + j);
    }
    for (; j < count; ++j) att[t0 + j] = dot_f16(base + j * stride, q, hd);
  });
  for (int t = 0; t < n; ++t) att[t] /= score_div;
  softmax_inplace(att, n);

  int c = 0;
  for (; c + 32 <= hd; c += 32) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps()};
    blocks_visit<uint16_t>(kv, n, [&](const uint16_t*, const uint16_t* values, int t0, int count) {
      const uint16_t* v = values + kv_off + c;
      for (int j = 0; j < count; ++j, v += stride) {
        const __m256 a = _mm256_set1_ps(att[t0 + j]);
        for (int r = 0; r < 4; ++r) acc[r] = _mm256_fmadd_ps(a, load8_f16(v + 8 * r), acc[r]);
      }
    });
    for (int r = 0; r < 4; ++r) _mm256_storeu_ps(out + c + 8 * r, acc[r]);
  }
  for (; c + 8 <= hd; c += 8) {
    __m256 acc = _mm256_setzero_ps();
    blocks_visit<uint16_t>(kv, n, [&](const uint16_t*, const uint16_t* values, int t0, int count) {
      const uint16_t* v = values + kv_off + c;
      for (int j = 0; j < count; ++j, v += stride) {
        acc = _mm256_fmadd_ps(_mm256_set1_ps(att[t0 + j]), load8_f16(v), acc);
      }
    });
    _mm256_storeu_ps(out + c, acc);
  }
  for (; c < hd; ++c) {
    float sum = 0.0f;
    blocks_visit<uint16_t>(kv, n, [&](const uint16_t*, const uint16_t* values, int t0, int count) {
      const uint16_t* v = values + kv_off + c;
      for (int j = 0; j < count; ++j, v += stride) sum += att[t0 + j] * _cvtsh_ss(*v);
    });
    out[c] = sum;
  }
}

}  // namespace

int64_t kv_block_bytes(DType dtype, int block_positions, int64_t row_elems) {
  return 2 * dtype_bytes_for(dtype, int64_t{block_positions} * row_elems);
}

// src (n,) fp32 -> dst (n,) F32 or F16
void kv_row_store(DType dtype, const float* src, void* dst, int64_t n) {
  if (dtype == DType::F32) {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  if (dtype != DType::F16) {
    fail("attention", std::string("kv_row_store: unsupported KV dtype ") + dtype_name(dtype));
  }
  uint16_t* h = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i packed = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h + i), packed);
  }
  for (; i < n; ++i) h[i] = _cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT);
}

void attention_head(const KvBlocksView& kv, int64_t kv_off, int head_dim, const float* q,
                    int n_positions, float score_div, float* att, float* out) {
  if (kv.dtype == DType::F32) {
    attention_head_f32(kv, kv_off, head_dim, q, n_positions, score_div, att, out);
  } else {
    attention_head_f16(kv, kv_off, head_dim, q, n_positions, score_div, att, out);
  }
}

}  // namespace flashchat
