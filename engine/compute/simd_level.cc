// simd_level.cc - run-time choice of the F16 kernels' vector width (cpuid, a timing, or
// FLASHCHAT_SIMD).
#include "compute/simd_level.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "compute/matvec.h"
#include "core/error.h"
#include "formats/dtype.h"

namespace flashchat {
namespace simd_detail {

std::atomic<int8_t> g_state{-1};

namespace {

// Best of a few single-threaded matvecs of a 256 x 1024 F16 matrix (512 KiB: in L2/L3, so the
// kernels' arithmetic is timed, not memory) at the level in force, ms.
double time_matvec_ms(const Tensor& W, const float* x, float* out) {
  using Clock = std::chrono::steady_clock;
  double best = 1e30;
  for (int round = 0; round < 12; ++round) {
    const auto t0 = Clock::now();
    matvec_rows(W, x, out, 0, W.rows);
    best = std::min(best, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return best;
}

bool avx512_measured_faster() {
  constexpr int64_t kRows = 256, kCols = 1024;
  std::vector<uint16_t> w(static_cast<size_t>(kRows * kCols));
  for (size_t i = 0; i < w.size(); ++i) w[i] = fp32_to_fp16(static_cast<float>(i % 97) / 97.0f - 0.5f);
  std::vector<float> x(static_cast<size_t>(kCols), 0.25f), out(static_cast<size_t>(kRows));
  const Tensor W{DType::F16, kRows, kCols, w.data()};
  g_state.store(0);
  time_matvec_ms(W, x.data(), out.data());  // warm the caches
  const double narrow = time_matvec_ms(W, x.data(), out.data());
  g_state.store(1);
  const double wide = time_matvec_ms(W, x.data(), out.data());
  return wide < narrow * 0.95;
}

}  // namespace

bool choose() {
  static std::once_flag once;
  std::call_once(once, [] {
    bool avx512 = simd_level_detected() == SimdLevel::Avx512;
    const char* env = std::getenv("FLASHCHAT_SIMD");
    if (env != nullptr && std::strcmp(env, "avx2") == 0) {
      avx512 = false;
    } else if (avx512 && (env == nullptr || std::strcmp(env, "avx512") != 0)) {
      avx512 = avx512_measured_faster();
    }
    g_state.store(avx512 ? 1 : 0);
  });
  return g_state.load() != 0;
}

}  // namespace simd_detail

const char* simd_level_name(SimdLevel level) {
  return level == SimdLevel::Avx512 ? "avx512" : "avx2";
}

SimdLevel simd_level_detected() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") ? SimdLevel::Avx512 : SimdLevel::Avx2;
}

SimdLevel simd_level() {
  return simd_detail::wide() ? SimdLevel::Avx512 : SimdLevel::Avx2;
}

void simd_level_set(SimdLevel level) {
  if (level == SimdLevel::Avx512 && simd_level_detected() != SimdLevel::Avx512) {
    fail("simd", "this CPU has no AVX-512F: the avx512 kernels cannot run here");
  }
  simd_detail::choose();  // so a later first use does not overrule this
  simd_detail::g_state.store(level == SimdLevel::Avx512 ? 1 : 0);
}

}  // namespace flashchat
