// simd_level.h - which vector width the F16 kernels use, chosen once at run time.
//
// Shipped builds target x86-64-v3 (AVX2, FMA, F16C). On a CPU with AVX-512F the hot F16 kernels
// (matvec rows, bundle dots and axpys) have 16-lane versions (simd_avx512.cc). Those do exactly
// the arithmetic of the AVX2 ones, lane for lane and in the same order (an AVX-512 accumulator
// holds the AVX2 kernel's two 8-lane accumulators side by side), so results are bit-identical
// whichever level runs: tests and reference outputs hold on every machine.
// Wider is not always faster (CPUs that split 512-bit operations in two gain nothing), so on
// first use the two levels are timed on an in-cache F16 matvec (about a millisecond) and AVX-512
// is chosen only when it is at least 5% faster. FLASHCHAT_SIMD=avx2|avx512 in the environment
// decides instead (avx512 only where the CPU has it).
#pragma once

#include <atomic>
#include <cstdint>

namespace flashchat {

enum class SimdLevel : uint8_t { Avx2, Avx512 };

const char* simd_level_name(SimdLevel level);
// The widest level this CPU runs (cpuid).
SimdLevel simd_level_detected();
// The level in force (chosen on first use, see above).
SimdLevel simd_level();
// Sets the level in force (tests, benchmarks). Throws Error("simd", ...) when the CPU lacks it.
// Not thread-safe against kernels running at the same time (results are the same either way).
void simd_level_set(SimdLevel level);

namespace simd_detail {
// -1 until chosen, then 0 (avx2) or 1 (avx512). The kernels ask wide() on every call.
extern std::atomic<int8_t> g_state;
bool choose();
inline bool wide() {
  const int8_t s = g_state.load(std::memory_order_relaxed);
  return s < 0 ? choose() : s != 0;
}
}  // namespace simd_detail

}  // namespace flashchat
