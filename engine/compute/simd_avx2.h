// simd_avx2.h - the AVX2 + F16C building blocks the compute kernels share: a horizontal sum and
// 8-wide loads of F16 / BF16 into floats. Internal to engine/compute (x86-64-v3 baseline).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace flashchat::simd {

// The sum of the 8 lanes of v.
inline float hsum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v);
  lo = _mm_add_ps(lo, _mm256_extractf128_ps(v, 1));
  __m128 sh = _mm_movehdup_ps(lo);
  __m128 s = _mm_add_ps(lo, sh);
  sh = _mm_movehl_ps(sh, s);
  s = _mm_add_ss(s, sh);
  return _mm_cvtss_f32(s);
}

// 8 halves at p -> 8 floats.
inline __m256 load8_f16(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// 8 bfloat16 at p -> 8 floats (bf16 is the top half of an fp32).
inline __m256 load8_bf16(const uint16_t* p) {
  const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

}  // namespace flashchat::simd
