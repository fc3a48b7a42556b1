// memory_bandwidth.h - the machine's memory-read bandwidth, measured the way a matvec reads
// weights: all threads stream a buffer much larger than the caches. Shared by the benchmarks.
#pragma once

#include <immintrin.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace flashchat_bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// 64-byte aligned, zero-initialised in parallel (so pages are touched by the threads that read
// them later).
struct AlignedBuffer {
  explicit AlignedBuffer(size_t size_bytes) : size(size_bytes) {
    const size_t rounded = (size_bytes + 63) / 64 * 64;
    data = static_cast<uint8_t*>(std::aligned_alloc(64, rounded));
    if (data == nullptr) throw flashchat::Error("matvec_bench: out of memory");
    tbb::parallel_for(
        tbb::blocked_range<size_t>(0, rounded, 1 << 20),
        [&](const tbb::blocked_range<size_t>& r) { std::memset(data + r.begin(), 0, r.size()); });
  }
  ~AlignedBuffer() { std::free(data); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  uint8_t* data = nullptr;
  size_t size = 0;
};

// Sum of floats f[0, n) by all threads (AVX2). Each task reads four sequential streams at once
// (like a kernel working on several rows), which keeps more cache misses in flight than one.
inline float parallel_sum(const float* f, size_t n) {
  return tbb::parallel_reduce(
      tbb::blocked_range<size_t>(0, n / 32, 1 << 14), 0.0f,
      [&](const tbb::blocked_range<size_t>& r, float acc) {
        __m256 a[8];
        for (__m256& v : a) v = _mm256_setzero_ps();
        const size_t quarter = r.size() / 4;
        const float* s0 = f + r.begin() * 32;
        for (size_t b = 0; b < quarter; ++b) {
          for (int k = 0; k < 4; ++k) {
            const float* p = s0 + (k * quarter + b) * 32;
            a[2 * k] =
                _mm256_add_ps(a[2 * k], _mm256_add_ps(_mm256_load_ps(p), _mm256_load_ps(p + 8)));
            a[2 * k + 1] = _mm256_add_ps(
                a[2 * k + 1], _mm256_add_ps(_mm256_load_ps(p + 16), _mm256_load_ps(p + 24)));
          }
        }
        for (size_t b = r.begin() + 4 * quarter; b < r.end(); ++b) {  // leftover blocks
          const float* p = f + b * 32;
          for (int k = 0; k < 4; ++k) a[k] = _mm256_add_ps(a[k], _mm256_load_ps(p + 8 * k));
        }
        __m256 t = a[0];
        for (int k = 1; k < 8; ++k) t = _mm256_add_ps(t, a[k]);
        alignas(32) float lanes[8];
        _mm256_store_ps(lanes, t);
        for (float l : lanes) acc += l;
        return acc;
      },
      [](float a, float b) { return a + b; });
}

struct Bandwidth {
  double whole_gbs = 0.0;  // best full pass over the buffer
  double slice_gbs = 0.0;  // best single slice (same time scale as one matvec; robust to
                           // preemption on a shared machine)
};

// Reads a (size_bytes,) buffer with all threads, `runs` passes, each pass slice by slice (every
// slice comes from DRAM: the rest of the buffer evicted it since the last pass).
inline Bandwidth measure_read_bandwidth(size_t size_bytes, size_t slice_bytes, int runs) {
  AlignedBuffer buf(size_bytes);
  float* f = reinterpret_cast<float*>(buf.data);
  const size_t n = size_bytes / sizeof(float);
  tbb::parallel_for(tbb::blocked_range<size_t>(0, n, 1 << 18),
                    [&](const tbb::blocked_range<size_t>& r) {
                      for (size_t i = r.begin(); i < r.end(); ++i) f[i] = static_cast<float>(i & 7);
                    });
  const size_t slice_n = std::max<size_t>(slice_bytes / sizeof(float) / 32 * 32, 32);
  Bandwidth bw;
  volatile float sink = 0.0f;
  for (int run = 0; run < runs; ++run) {
    double pass_s = 0.0;
    size_t pass_bytes = 0;
    for (size_t off = 0; off + slice_n <= n; off += slice_n) {
      const auto t0 = Clock::now();
      sink = sink + parallel_sum(f + off, slice_n);
      const double s = seconds_since(t0);
      pass_s += s;
      pass_bytes += slice_n * sizeof(float);
      bw.slice_gbs = std::max(bw.slice_gbs, static_cast<double>(slice_n * sizeof(float)) / s / 1e9);
    }
    bw.whole_gbs = std::max(bw.whole_gbs, static_cast<double>(pass_bytes) / pass_s / 1e9);
  }
  return bw;
}

}  // namespace flashchat_bench
