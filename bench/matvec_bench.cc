// matvec_bench.cc - how close the matvec kernels come to the machine's memory bandwidth.
//
// Measures (1) the memory-read bandwidth: a large buffer summed by all threads (TBB), best of
// several runs; (2) matvec throughput for F32/F16/BF16 weights at LLM-sized shapes, as GB/s of
// weight bytes streamed, cycling over enough copies of the matrix that it cannot live in cache.
// Prints a human-readable log and a Markdown table.
#include <immintrin.h>
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "compute/matvec.h"
#include "compute/simd_level.h"
#include "core/error.h"
#include "formats/dtype.h"

#include "memory_bandwidth.h"

using namespace flashchat_bench;

namespace {

struct MatvecResult {
  std::string dtype;
  int64_t rows = 0, cols = 0;
  double weight_mib = 0.0;
  int copies = 0;
  double best_ms = 0.0, median_ms = 0.0;
  double best_gbs = 0.0, median_gbs = 0.0;
};

// W (rows, cols) of `dtype` @ x -> out, cycling over `copies` matrices; best and median time.
MatvecResult measure_matvec(flashchat::DType dtype, int64_t rows, int64_t cols,
                            double min_footprint_mib, int iters) {
  flashchat::Tensor proto;
  proto.dtype = dtype;
  proto.rows = rows;
  proto.cols = cols;
  const size_t bytes = static_cast<size_t>(proto.size_bytes());
  const int copies = std::max(1, static_cast<int>(std::ceil(min_footprint_mib * 1024.0 * 1024.0 /
                                                            static_cast<double>(bytes))));
  std::vector<std::unique_ptr<AlignedBuffer>> mats;
  std::vector<flashchat::Tensor> tensors;
  for (int c = 0; c < copies; ++c) {
    mats.push_back(std::make_unique<AlignedBuffer>(bytes));
    uint8_t* d = mats.back()->data;
    // deterministic small values so that no denormals/NaNs slow anything down
    const int64_t n = rows * cols;
    tbb::parallel_for(
        tbb::blocked_range<int64_t>(0, n, 1 << 16), [&](const tbb::blocked_range<int64_t>& r) {
          for (int64_t i = r.begin(); i < r.end(); ++i) {
            const float v = static_cast<float>((i * 2654435761u + c) % 2001) / 1000.0f - 1.0f;
            if (dtype == flashchat::DType::F32) {
              reinterpret_cast<float*>(d)[i] = v;
            } else if (dtype == flashchat::DType::F16) {
              reinterpret_cast<uint16_t*>(d)[i] = flashchat::fp32_to_fp16(v);
            } else {
              reinterpret_cast<uint16_t*>(d)[i] = flashchat::fp32_to_bf16(v);
            }
          }
        });
    flashchat::Tensor t = proto;
    t.data = d;
    tensors.push_back(t);
  }
  std::vector<float> x(static_cast<size_t>(cols)), out(static_cast<size_t>(rows));
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (float& v : x) v = dist(rng);

  for (int c = 0; c < copies; ++c) flashchat::matvec(tensors[c], x.data(), out.data());  // warm-up
  std::vector<double> ms;
  for (int i = 0; i < iters; ++i) {
    const auto t0 = Clock::now();
    flashchat::matvec(tensors[static_cast<size_t>(i % copies)], x.data(), out.data());
    ms.push_back(seconds_since(t0) * 1e3);
  }
  std::sort(ms.begin(), ms.end());
  MatvecResult r;
  r.dtype = flashchat::dtype_name(dtype);
  r.rows = rows;
  r.cols = cols;
  r.weight_mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
  r.copies = copies;
  r.best_ms = ms.front();
  r.median_ms = ms[ms.size() / 2];
  r.best_gbs = static_cast<double>(bytes) / (r.best_ms * 1e-3) / 1e9;
  r.median_gbs = static_cast<double>(bytes) / (r.median_ms * 1e-3) / 1e9;
  return r;
}

bool parse_shape(const std::string& s, int64_t& rows, int64_t& cols) {
  const auto x = s.find('x');
  if (x == std::string::npos) return false;
  try {
    rows = std::stoll(s.substr(0, x));
    cols = std::stoll(s.substr(x + 1));
  } catch (const std::exception&) {
    return false;
  }
  return rows > 0 && cols > 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"matvec_bench: memory bandwidth vs matvec weight streaming rate"};
  int buffer_mib = 1024;
  int bandwidth_runs = 7;
  int slice_mib = 64;
  int iters = 40;
  int threads = 0;
  double footprint_mib = 512.0;
  std::vector<std::string> shapes = {"4096x4096", "11008x4096", "4096x11008"};
  std::vector<std::string> dtypes = {"F32", "F16", "BF16"};
  app.add_option("--buffer-mib", buffer_mib, "bandwidth test buffer size (MiB)")
      ->check(CLI::PositiveNumber);
  app.add_option("--bandwidth-runs", bandwidth_runs, "bandwidth runs (best is kept)")
      ->check(CLI::PositiveNumber);
  app.add_option("--slice-mib", slice_mib, "bandwidth slice timed on its own (MiB)")
      ->check(CLI::PositiveNumber);
  app.add_option("--iters", iters, "timed matvecs per shape and dtype")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "worker threads (0 = all)")->check(CLI::NonNegativeNumber);
  app.add_option("--footprint-mib", footprint_mib,
                 "cycle over copies of each matrix totalling at least this (defeats caches)")
      ->check(CLI::PositiveNumber);
  app.add_option("--shape", shapes, "ROWSxCOLS, repeatable");
  app.add_option("--dtype", dtypes, "F32, F16, BF16, repeatable");
  std::vector<std::string> simd_levels = {flashchat::simd_level_name(flashchat::simd_level())};
  app.add_option("--simd", simd_levels,
                 "kernel level(s) to run side by side: avx2, avx512 (default: the one in force)")
      ->check(CLI::IsMember({"avx2", "avx512"}));
  CLI11_PARSE(app, argc, argv);

  std::unique_ptr<tbb::global_control> limit;
  if (threads > 0) {
    limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                  static_cast<size_t>(threads));
  }
  const size_t n_threads =
      tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism);

  try {
    std::printf("threads: %zu\n", n_threads);
    const Bandwidth band =
        measure_read_bandwidth(static_cast<size_t>(buffer_mib) << 20,
                               static_cast<size_t>(slice_mib) << 20, bandwidth_runs);
    // The reference is the best slice: a matvec also runs for milliseconds, so both are peaks
    // over the same time scale (a full pass on a busy machine is interrupted by other work).
    const double bw = std::max(band.slice_gbs, band.whole_gbs);
    std::printf(
        "memory read bandwidth: %.2f GB/s best %d MiB slice, %.2f GB/s best full pass "
        "(%d MiB buffer, %d passes)\n",
        band.slice_gbs, slice_mib, band.whole_gbs, buffer_mib, bandwidth_runs);
    std::fflush(stdout);

    std::vector<MatvecResult> results;
    for (const std::string& s : shapes) {
      int64_t rows = 0, cols = 0;
      if (!parse_shape(s, rows, cols)) {
        std::fprintf(stderr, "matvec_bench: bad shape '%s' (want ROWSxCOLS)\n", s.c_str());
        return 2;
      }
      for (const std::string& d : dtypes) {
        flashchat::DType dtype;
        if (d == "F32")
          dtype = flashchat::DType::F32;
        else if (d == "F16")
          dtype = flashchat::DType::F16;
        else if (d == "BF16")
          dtype = flashchat::DType::BF16;
        else {
          std::fprintf(stderr, "matvec_bench: bad dtype '%s' (F32, F16, BF16)\n", d.c_str());
          return 2;
        }
        for (const std::string& level : simd_levels) {
        flashchat::simd_level_set(level == "avx512" ? flashchat::SimdLevel::Avx512
                                                    : flashchat::SimdLevel::Avx2);
        MatvecResult r = measure_matvec(dtype, rows, cols, footprint_mib, iters);
        if (simd_levels.size() > 1) r.dtype += "/" + level;
        std::printf(
            "%-11s %6lldx%-6lld %8.1f MiB x%-3d best %7.3f ms (%6.2f GB/s, %5.2fx bw)  "
            "median %7.3f ms (%6.2f GB/s, %5.2fx bw)\n",
            r.dtype.c_str(), static_cast<long long>(r.rows), static_cast<long long>(r.cols),
            r.weight_mib, r.copies, r.best_ms, r.best_gbs, r.best_gbs / bw, r.median_ms,
            r.median_gbs, r.median_gbs / bw);
        std::fflush(stdout);
        results.push_back(r);
        }
      }
    }

    std::printf(
        "\n| dtype | shape | weights (MiB) | best (ms) | best GB/s | best / bw | median (ms) "
        "| median GB/s | median / bw |\n");
    std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    std::printf(
        "| (memory read, %zu threads) | %d MiB slices of %d MiB | | | %.2f | 1.00 | | %.2f | |\n",
        n_threads, slice_mib, buffer_mib, bw, band.whole_gbs);
    for (const MatvecResult& r : results) {
      std::printf("| %s | %lldx%lld | %.1f | %.3f | %.2f | %.2f | %.3f | %.2f | %.2f |\n",
                  r.dtype.c_str(), static_cast<long long>(r.rows), static_cast<long long>(r.cols),
                  r.weight_mib, r.best_ms, r.best_gbs, r.best_gbs / bw, r.median_ms, r.median_gbs,
                  r.median_gbs / bw);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "matvec_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
