// simd_avx512.h - the 16-lane (AVX-512F) halves of the F16 kernels in matvec.cc and
// bundle_kernels.cc, internal to engine/compute. Each returns the AVX2 kernel's 8-lane partial
// sums exactly (same lanes, same order of operations) plus how many elements it covered; the
// caller finishes with the same horizontal sum and scalar tail as on AVX2, so results are
// bit-identical (simd_level.h). Call only when simd_detail::wide() says so.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace flashchat::simd512 {

// matvec's dot_half: a0 + a1 of its two accumulators over blocks of 16 and one block of 8.
// *done = elements covered (the rest is the scalar tail).
__m256 dot_f16_acc2(const uint16_t* w, const float* x, int64_t n, int64_t* done);
// matvec's dot4_half: the four rows' a0 + a1.
void dot4_f16_acc2(const uint16_t* const w[4], const float* x, int64_t n, __m256 out[4],
                   int64_t* done);
// bundle_kernels' dot: (a0 + a1) + (a2 + a3) of its four accumulators over blocks of 32, then
// blocks of 8 into a0.
__m256 dot_f16_acc4(const uint16_t* w, const float* x, int64_t n, int64_t* done);
// bundle_kernels' dot2: a0 + a1 and b0 + b1 over blocks of 16, then blocks of 8.
void dot2_f16_acc2(const uint16_t* w0, const uint16_t* w1, const float* x, int64_t n,
                   __m256* s0, __m256* s1, int64_t* done);
// out (n,) += a * w (n,) over whole blocks of 8; returns the elements done.
int64_t axpy_f16(const uint16_t* w, float a, float* out, int64_t n);

}  // namespace flashchat::simd512
