// simd_level.cc - run-time choice of the F16 kernels' vector width (cpuid + FLASHCHAT_SIMD).
#include "compute/simd_level.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "core/error.h"

namespace flashchat {
namespace simd_detail {

namespace {

bool initial_avx512() {
  if (simd_level_detected() != SimdLevel::Avx512) return false;
  const char* env = std::getenv("FLASHCHAT_SIMD");
  return env == nullptr || std::strcmp(env, "avx2") != 0;
}

}  // namespace

bool g_avx512 = initial_avx512();

}  // namespace simd_detail

const char* simd_level_name(SimdLevel level) {
  return level == SimdLevel::Avx512 ? "avx512" : "avx2";
}

SimdLevel simd_level_detected() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") ? SimdLevel::Avx512 : SimdLevel::Avx2;
}

SimdLevel simd_level() {
  return simd_detail::g_avx512 ? SimdLevel::Avx512 : SimdLevel::Avx2;
}

void simd_level_set(SimdLevel level) {
  if (level == SimdLevel::Avx512 && simd_level_detected() != SimdLevel::Avx512) {
    fail("simd", "this CPU has no AVX-512F: the avx512 kernels cannot run here");
  }
  simd_detail::g_avx512 = level == SimdLevel::Avx512;
}

}  // namespace flashchat
