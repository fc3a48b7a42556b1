// bundle_kernels.cc - raw-pointer dot/axpy for F32/F16/BF16 rows (AVX2 + FMA + F16C).
#include "compute/bundle_kernels.h"
#include "compute/simd_avx2.h"

#include <immintrin.h>

#include <cstring>

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
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(out + i, _mm256_fmadd_ps(va, D::load8(w + i), _mm256_loadu_ps(out + i)));
  }
  for (; i < n; ++i) out[i] += a * D::one(w[i]);
}

template <class D>
const typename D::T* as(const void* p) {
  return static_cast<const typename D::T*>(p);
}

}  // namespace

bool bundle_dtype_supported(DType t) {
  return t == DType::F32 || t == DType::F16 || t == DType::BF16;
}

// w (n,) . x (n,) -> scalar
float dot_raw(DType t, const void* w, const float* x, int64_t n) {
  switch (t) {
    case DType::F32: return dot<F32>(as<F32>(w), x, n);
    case DType::F16: return dot<F16>(as<F16>(w), x, n);
    case DType::BF16: return dot<BF16>(as<BF16>(w), x, n);
    default: return 0.0f;
  }
}

// w0 (n,) . x, w1 (n,) . x -> d0, d1
void dot2_raw(DType t, const void* w0, const void* w1, const float* x, int64_t n, float* d0,
              float* d1) {
  switch (t) {
    case DType::F32: return dot2<F32>(as<F32>(w0), as<F32>(w1), x, n, d0, d1);
    case DType::F16: return dot2<F16>(as<F16>(w0), as<F16>(w1), x, n, d0, d1);
    case DType::BF16: return dot2<BF16>(as<BF16>(w0), as<BF16>(w1), x, n, d0, d1);
    default: *d0 = *d1 = 0.0f;
  }
}

// out (n,) += a * w (n,)
void axpy_raw(DType t, const void* w, float a, float* out, int64_t n) {
  switch (t) {
    case DType::F32: return axpy<F32>(as<F32>(w), a, out, n);
    case DType::F16: return axpy<F16>(as<F16>(w), a, out, n);
    case DType::BF16: return axpy<BF16>(as<BF16>(w), a, out, n);
    default: return;
  }
}

}  // namespace flashchat
