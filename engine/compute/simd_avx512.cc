// simd_avx512.cc - AVX-512F versions of the F16 kernels' vector loops (simd_avx512.h). Compiled
// with the x86-64-v3 baseline: only these functions carry target("avx512f"), and they run only
// when chosen (simd_level.h). A 512-bit accumulator holds two of the AVX2 kernel's 8-lane
// accumulators side by side (lanes 0-7 = elements i..i+7, lanes 8-15 = i+8..i+15), so every lane
// sees the same fused multiply-adds in the same order as on AVX2.
#include "compute/simd_avx512.h"

// GCC 12's avx512fintrin.h seeds some intrinsics with _mm512_undefined_*(), which -Wall reports
// as uninitialised once inlined here; the lanes are all overwritten.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define FLASHCHAT_AVX512 __attribute__((target("avx512f")))

namespace flashchat::simd512 {
namespace {

FLASHCHAT_AVX512 inline __m512 load16_f16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

FLASHCHAT_AVX512 inline __m256 low8(__m512 v) { return _mm512_castps512_ps256(v); }

FLASHCHAT_AVX512 inline __m256 high8(__m512 v) {
  return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
}

FLASHCHAT_AVX512 inline __m256 load8_f16(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

}  // namespace

FLASHCHAT_AVX512 __m256 dot_f16_acc2(const uint16_t* w, const float* x, int64_t n,
                                     int64_t* done) {
  __m512 a = _mm512_setzero_ps();  // [a0 | a1]
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) a = _mm512_fmadd_ps(load16_f16(w + i), _mm512_loadu_ps(x + i), a);
  __m256 a0 = low8(a);
  const __m256 a1 = high8(a);
  if (i + 8 <= n) {
    a0 = _mm256_fmadd_ps(load8_f16(w + i), _mm256_loadu_ps(x + i), a0);
    i += 8;
  }
  *done = i;
  return _mm256_add_ps(a0, a1);
}

FLASHCHAT_AVX512 void dot4_f16_acc2(const uint16_t* const w[4], const float* x, int64_t n,
                                    __m256 out[4], int64_t* done) {
  __m512 a[4];
  for (int r = 0; r < 4; ++r) a[r] = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 xv = _mm512_loadu_ps(x + i);
    for (int r = 0; r < 4; ++r) a[r] = _mm512_fmadd_ps(load16_f16(w[r] + i), xv, a[r]);
  }
  const bool block8 = i + 8 <= n;
  for (int r = 0; r < 4; ++r) {
    __m256 a0 = low8(a[r]);
    if (block8) a0 = _mm256_fmadd_ps(load8_f16(w[r] + i), _mm256_loadu_ps(x + i), a0);
    out[r] = _mm256_add_ps(a0, high8(a[r]));
  }
  *done = block8 ? i + 8 : i;
}

FLASHCHAT_AVX512 __m256 dot_f16_acc4(const uint16_t* w, const float* x, int64_t n,
                                     int64_t* done) {
  __m512 a = _mm512_setzero_ps(), b = _mm512_setzero_ps();  // [a0 | a1], [a2 | a3]
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a = _mm512_fmadd_ps(load16_f16(w + i), _mm512_loadu_ps(x + i), a);
    b = _mm512_fmadd_ps(load16_f16(w + i + 16), _mm512_loadu_ps(x + i + 16), b);
  }
  __m256 a0 = low8(a);
  for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(load8_f16(w + i), _mm256_loadu_ps(x + i), a0);
  *done = i;
  return _mm256_add_ps(_mm256_add_ps(a0, high8(a)), _mm256_add_ps(low8(b), high8(b)));
}

FLASHCHAT_AVX512 void dot2_f16_acc2(const uint16_t* w0, const uint16_t* w1, const float* x,
                                    int64_t n, __m256* s0, __m256* s1, int64_t* done) {
  __m512 a = _mm512_setzero_ps(), b = _mm512_setzero_ps();  // [a0 | a1], [b0 | b1]
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 xv = _mm512_loadu_ps(x + i);
    a = _mm512_fmadd_ps(load16_f16(w0 + i), xv, a);
    b = _mm512_fmadd_ps(load16_f16(w1 + i), xv, b);
  }
  __m256 a0 = low8(a), b0 = low8(b);
  for (; i + 8 <= n; i += 8) {
    const __m256 x0 = _mm256_loadu_ps(x + i);
    a0 = _mm256_fmadd_ps(load8_f16(w0 + i), x0, a0);
    b0 = _mm256_fmadd_ps(load8_f16(w1 + i), x0, b0);
  }
  *s0 = _mm256_add_ps(a0, high8(a));
  *s1 = _mm256_add_ps(b0, high8(b));
  *done = i;
}

FLASHCHAT_AVX512 int64_t axpy_f16(const uint16_t* w, float a, float* out, int64_t n) {
  const __m512 va = _mm512_set1_ps(a);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(out + i, _mm512_fmadd_ps(va, load16_f16(w + i), _mm512_loadu_ps(out + i)));
  }
  if (i + 8 <= n) {
    _mm256_storeu_ps(out + i, _mm256_fmadd_ps(_mm256_set1_ps(a), load8_f16(w + i),
                                              _mm256_loadu_ps(out + i)));
    i += 8;
  }
  return i;
}

}  // namespace flashchat::simd512
