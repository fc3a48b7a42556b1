// bundle_kernels.cc - raw-pointer dot/axpy for F32/F16/BF16 rows (AVX2 + FMA + F16C; F16 16
// lanes at a time on AVX-512 CPUs, bit-identical: simd_level.h) and for block-quantised rows:
// Q8_0 and Q4_0 (the bundle formats; inline or with the scales apart) with dedicated AVX2 loops,
// the
// other GGUF types one dequantised block at a time (dtype_block_to_fp32) into a stack buffer.
#include "compute/bundle_kernels.h"
#include "compute/simd_avx2.h"
#include "compute/simd_avx512.h"
#include "compute/simd_level.h"

#include <immintrin.h>

#include <cstring>
#include <type_traits>

namespace flashchat {
namespace {

using simd::hsum;
using simd::load8_bf16;
using simd::load8_f16;

// 8 elements of each dtype -> 8 floats.
struct F32 {
  using T = float;
  static __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
  static float one(float v) { return v; }
};
struct F16 {
  using T = uint16_t;
  static __m256 load8(const uint16_t* p) { return load8_f16(p); }
  static float one(uint16_t h) { return _cvtsh_ss(h); }
};
struct BF16 {
  using T = uint16_t;
  static __m256 load8(const uint16_t* p) { return load8_bf16(p); }
  static float one(uint16_t b) { return bf16_to_fp32(b); }
};

// w (n,) . x (n,); four accumulators to hide FMA latency.
template <class D>
float dot(const typename D::T* w, const float* x, int64_t n) {
  if constexpr (std::is_same_v<D, F16>) {
    if (simd_detail::wide()) {  // the same sums 16 lanes at a time (simd_level.h)
      int64_t i = 0;
      float sum = hsum(simd512::dot_f16_acc4(w, x, n, &i));
      for (; i < n; ++i) sum += D::one(w[i]) * x[i];
      return sum;
    }
  }
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_fmadd_ps(D::load8(w + i), _mm256_loadu_ps(x + i), a0);
    a1 = _mm256_fmadd_ps(D::load8(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
    a2 = _mm256_fmadd_ps(D::load8(w + i + 16), _mm256_loadu_ps(x + i + 16), a2);
    a3 = _mm256_fmadd_ps(D::load8(w + i + 24), _mm256_loadu_ps(x + i + 24), a3);
  }
  for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(D::load8(w + i), _mm256_loadu_ps(x + i), a0);
  float sum = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < n; ++i) sum += D::one(w[i]) * x[i];
  return sum;
}

// w0 (n,) . x and w1 (n,) . x in one pass over x.
template <class D>
void dot2(const typename D::T* w0, const typename D::T* w1, const float* x, int64_t n, float* d0,
          float* d1) {
  if constexpr (std::is_same_v<D, F16>) {
    if (simd_detail::wide()) {
      __m256 v0, v1;
      int64_t i = 0;
      simd512::dot2_f16_acc2(w0, w1, x, n, &v0, &v1, &i);
      float s0 = hsum(v0), s1 = hsum(v1);
      for (; i < n; ++i) {
        s0 += D::one(w0[i]) * x[i];
        s1 += D::one(w1[i]) * x[i];
      }
      *d0 = s0;
      *d1 = s1;
      return;
    }
  }
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + 8);
    a0 = _mm256_fmadd_ps(D::load8(w0 + i), x0, a0);
    a1 = _mm256_fmadd_ps(D::load8(w0 + i + 8), x1, a1);
    b0 = _mm256_fmadd_ps(D::load8(w1 + i), x0, b0);
    b1 = _mm256_fmadd_ps(D::load8(w1 + i + 8), x1, b1);
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 x0 = _mm256_loadu_ps(x + i);
    a0 = _mm256_fmadd_ps(D::load8(w0 + i), x0, a0);
    b0 = _mm256_fmadd_ps(D::load8(w1 + i), x0, b0);
  }
  float s0 = hsum(_mm256_add_ps(a0, a1)), s1 = hsum(_mm256_add_ps(b0, b1));
  for (; i < n; ++i) {
    s0 += D::one(w0[i]) * x[i];
    s1 += D::one(w1[i]) * x[i];
  }
  *d0 = s0;
  *d1 = s1;
}

// out (n,) += a * w (n,)
template <class D>
void axpy(const typename D::T* w, float a, float* out, int64_t n) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  if constexpr (std::is_same_v<D, F16>) {
    if (simd_detail::wide()) i = simd512::axpy_f16(w, a, out, n);
  }
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(out + i, _mm256_fmadd_ps(va, D::load8(w + i), _mm256_loadu_ps(out + i)));
  }
  for (; i < n; ++i) out[i] += a * D::one(w[i]);
}

// ---- block-quantised rows. Block dots are summed in fp32 and scaled once per block.

// 8 int8 -> 8 floats.
inline __m256 i8x8_to_ps(__m128i v) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v));
}

// The 32 quants of a Q4_0 block as signed bytes (nibble - 8): elements 0..15, 16..31.
inline void q4_0_unpack(const uint8_t* qs, __m128i* lo, __m128i* hi) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i mask = _mm_set1_epi8(0x0f), eight = _mm_set1_epi8(8);
  *lo = _mm_sub_epi8(_mm_and_si128(bytes, mask), eight);
  *hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(bytes, 4), mask), eight);
}

// The 32 quants of a Q8_0 / Q4_0 block (qs: its quants, after the scale) as four vectors of 8
// floats.
inline void block_quants(DType t, const uint8_t* qs, __m256 v[4]) {
  if (t == DType::Q8_0) {
    for (int k = 0; k < 4; ++k) {
      v[k] = i8x8_to_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(qs + 8 * k)));
    }
    return;
  }
  __m128i lo, hi;
  q4_0_unpack(qs, &lo, &hi);
  v[0] = i8x8_to_ps(lo);
  v[1] = i8x8_to_ps(_mm_srli_si128(lo, 8));
  v[2] = i8x8_to_ps(hi);
  v[3] = i8x8_to_ps(_mm_srli_si128(hi, 8));
}

inline float half_to_float(const void* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// Where block b's quants and scale are: inline blocks [d | quants] ...
struct InlineBlocks {
  const uint8_t* w;
  int64_t bb;
  const uint8_t* quants(int64_t b) const { return w + b * bb + 2; }
  float scale(int64_t b) const { return half_to_float(w + b * bb); }
};
// ... or split rows: quants block after block, scales apart (dtype_blocks_split).
struct SplitBlocks {
  const uint8_t* q;
  const uint16_t* s;
  int64_t qb;
  const uint8_t* quants(int64_t b) const { return q + b * qb; }
  float scale(int64_t b) const { return _cvtsh_ss(s[b]); }
};

// Q8_0 / Q4_0 row (n,) . x (n,)
template <class Blocks>
float dot_q_simple(DType t, const Blocks& w, const float* x, int64_t n) {
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 32; ++b, x += 32) {
    __m256 v[4];
    block_quants(t, w.quants(b), v);
    __m256 s = _mm256_mul_ps(v[0], _mm256_loadu_ps(x));
    s = _mm256_fmadd_ps(v[1], _mm256_loadu_ps(x + 8), s);
    s = _mm256_fmadd_ps(v[2], _mm256_loadu_ps(x + 16), s);
    s = _mm256_fmadd_ps(v[3], _mm256_loadu_ps(x + 24), s);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(w.scale(b)), s, acc);
  }
  return hsum(acc);
}

// out (n,) += a * Q8_0 / Q4_0 row (n,)
template <class Blocks>
void axpy_q_simple(DType t, const Blocks& w, float a, float* out, int64_t n) {
  for (int64_t b = 0; b < n / 32; ++b, out += 32) {
    __m256 v[4];
    block_quants(t, w.quants(b), v);
    const __m256 va = _mm256_set1_ps(a * w.scale(b));
    for (int k = 0; k < 4; ++k) {
      _mm256_storeu_ps(out + 8 * k, _mm256_fmadd_ps(va, v[k], _mm256_loadu_ps(out + 8 * k)));
    }
  }
}

// Any other quantised row (n,) . x (n,): one dequantised block at a time.
float dot_q_blocks(DType t, const uint8_t* w, const float* x, int64_t n) {
  const int64_t be = dtype_block_elems(t), bb = dtype_block_bytes(t);
  alignas(32) float tmp[256];
  float sum = 0.0f;
  for (int64_t b = 0; b < n / be; ++b) {
    dtype_block_to_fp32(t, w + b * bb, tmp);
    sum += dot<F32>(tmp, x + b * be, be);
  }
  return sum;
}

// out (n,) += a * any other quantised row (n,)
void axpy_q_blocks(DType t, const uint8_t* w, float a, float* out, int64_t n) {
  const int64_t be = dtype_block_elems(t), bb = dtype_block_bytes(t);
  alignas(32) float tmp[256];
  for (int64_t b = 0; b < n / be; ++b) {
    dtype_block_to_fp32(t, w + b * bb, tmp);
    axpy<F32>(tmp, a, out + b * be, be);
  }
}

float dot_quant(DType t, const void* w, const float* x, int64_t n) {
  const auto* p = static_cast<const uint8_t*>(w);
  if (t == DType::Q8_0 || t == DType::Q4_0) return dot_q_simple(t, InlineBlocks{p, dtype_block_bytes(t)}, x, n);
  return dot_q_blocks(t, p, x, n);
}

void axpy_quant(DType t, const void* w, float a, float* out, int64_t n) {
  const auto* p = static_cast<const uint8_t*>(w);
  if (t == DType::Q8_0 || t == DType::Q4_0) {
    axpy_q_simple(t, InlineBlocks{p, dtype_block_bytes(t)}, a, out, n);
  } else {
    axpy_q_blocks(t, p, a, out, n);
  }
}

template <class D>
const typename D::T* as(const void* p) {
  return static_cast<const typename D::T*>(p);
}

}  // namespace

bool bundle_dtype_supported(DType t) {
  return t == DType::F32 || t == DType::F16 || t == DType::BF16 || t == DType::Q8_0 ||
         t == DType::Q4_0;
}

// w (n,) . x (n,) -> scalar
float dot_raw(DType t, const void* w, const float* x, int64_t n) {
  switch (t) {
    case DType::F32: return dot<F32>(as<F32>(w), x, n);
    case DType::F16: return dot<F16>(as<F16>(w), x, n);
    case DType::BF16: return dot<BF16>(as<BF16>(w), x, n);
    default: return dot_quant(t, w, x, n);
  }
}

// w0 (n,) . x, w1 (n,) . x -> d0, d1
void dot2_raw(DType t, const void* w0, const void* w1, const float* x, int64_t n, float* d0,
              float* d1) {
  switch (t) {
    case DType::F32: return dot2<F32>(as<F32>(w0), as<F32>(w1), x, n, d0, d1);
    case DType::F16: return dot2<F16>(as<F16>(w0), as<F16>(w1), x, n, d0, d1);
    case DType::BF16: return dot2<BF16>(as<BF16>(w0), as<BF16>(w1), x, n, d0, d1);
    default:
      *d0 = dot_quant(t, w0, x, n);
      *d1 = dot_quant(t, w1, x, n);
  }
}

// out (n,) += a * w (n,)
void axpy_raw(DType t, const void* w, float a, float* out, int64_t n) {
  switch (t) {
    case DType::F32: return axpy<F32>(as<F32>(w), a, out, n);
    case DType::F16: return axpy<F16>(as<F16>(w), a, out, n);
    case DType::BF16: return axpy<BF16>(as<BF16>(w), a, out, n);
    default: return axpy_quant(t, w, a, out, n);
  }
}

// split Q8_0 / Q4_0 row (n,) . x (n,)
float dot_split(DType t, const uint8_t* quants, const uint16_t* scales, const float* x, int64_t n) {
  return dot_q_simple(t, SplitBlocks{quants, scales, dtype_block_bytes(t) - 2}, x, n);
}

// out (n,) += a * split Q8_0 / Q4_0 row (n,)
void axpy_split(DType t, const uint8_t* quants, const uint16_t* scales, float a, float* out,
                int64_t n) {
  axpy_q_simple(t, SplitBlocks{quants, scales, dtype_block_bytes(t) - 2}, a, out, n);
}

}  // namespace flashchat
