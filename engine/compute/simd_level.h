// simd_level.h - which vector width the F16 kernels use, chosen once at run time.
//
// Shipped builds target x86-64-v3 (AVX2, FMA, F16C). On a CPU with AVX-512F the hot F16 kernels
// (matvec rows, bundle dots and axpys) switch to 16-lane versions (simd_avx512.cc). Those do
// exactly the arithmetic of the AVX2 ones, lane for lane and in the same order (an AVX-512
// accumulator holds the AVX2 kernel's two 8-lane accumulators side by side), so results are
// bit-identical whichever level runs: tests and reference outputs hold on every machine.
// FLASHCHAT_SIMD=avx2 in the environment forces the baseline (for comparisons).
#pragma once

#include <cstdint>

namespace flashchat {

enum class SimdLevel : uint8_t { Avx2, Avx512 };

const char* simd_level_name(SimdLevel level);
// The widest level this CPU runs (cpuid).
SimdLevel simd_level_detected();
// The level in force: detected, or avx2 when FLASHCHAT_SIMD=avx2 (read once at first use).
SimdLevel simd_level();
// Sets the level in force (tests, benchmarks). Throws Error("simd", ...) when the CPU lacks it.
// Not thread-safe against kernels running at the same time.
void simd_level_set(SimdLevel level);

namespace simd_detail {
extern bool g_avx512;  // simd_level() == Avx512, read by the kernels on every call
}

}  // namespace flashchat
