// flash_read_bench.cc - random-read throughput of FlashStore (io_uring vs preadv thread pool)
// against fio on the same file, to pick the default backend and see how close to the device
// the store gets.
//
//   flash_read_bench [--file F] [--size-mb 1024] [--seconds 5] [--sizes 16,32,64] [--batch 128]
//                    [--rounds 3] [--fio] [--unaligned | --align-to-size]
// Runs are random 4 KiB-aligned offsets (fio's randread aligns to the block size: --align-to-size)
// of the given sizes in KiB, read
// with direct I/O in batches of --batch runs per read_runs() call (a layer's worth of loads).
// --unaligned: offsets at arbitrary bytes (staged path). --fio: also runs
//   fio --rw=randread --bs=SIZE --direct=1 --ioengine=io_uring --iodepth=32 on the file.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "runtime/flash_store.h"

using flashchat::FlashReadBackend;
using flashchat::FlashStore;
using flashchat::FlashStoreOptions;
using flashchat::ReadRun;

namespace {

// Creates (or reuses, when the size matches) a file of random bytes.
void ensure_file(const std::string& path, uint64_t size) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) == size) return;
  std::printf("writing %s (%llu MiB)...\n", path.c_str(), static_cast<unsigned long long>(size >> 20));
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) throw flashchat::Error(path + ": cannot create");
  std::vector<uint64_t> buf(1 << 17);  // 1 MiB
  std::mt19937_64 rng(1);
  for (uint64_t done = 0; done < size; done += buf.size() * 8) {
    for (auto& v : buf) v = rng();
    const size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size() * 8, size - done));
    if (std::fwrite(buf.data(), 1, n, f) != n) throw flashchat::Error(path + ": write failed");
  }
  std::fflush(f);
  ::fsync(::fileno(f));
  std::fclose(f);
  const int fd = ::open(path.c_str(), O_RDONLY);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct Result {
  double cpu_ms_per_gb = 0;  // process CPU time (user + sys, all threads) per GB read
  double mb_per_s = 0;
  double ms_per_batch = 0;
  double requests_per_run = 0;
};

Result bench_store(const std::string& path, const FlashStoreOptions& opt, uint64_t run_bytes,
                   int batch, double seconds, bool unaligned, uint64_t align_bytes,
                   uint64_t file_size) {
  FlashStore store;
  store.open(path, true, opt);
  if (!store.direct_io()) std::printf("  (O_DIRECT refused: buffered fallback)\n");
  const size_t arena_bytes = static_cast<size_t>(batch) * ((run_bytes + 8191) & ~uint64_t{4095});
  auto* arena = static_cast<uint8_t*>(std::aligned_alloc(4096, arena_bytes));
  std::memset(arena, 0, arena_bytes);
  std::mt19937_64 rng(42);
  std::vector<ReadRun> runs(static_cast<size_t>(batch));
  const uint64_t span = file_size - run_bytes;
  auto fill_batch = [&] {
    size_t cursor = 0;
    for (auto& r : runs) {
      uint64_t off = rng() % span;
      if (!unaligned) off -= off % align_bytes;
      r = {off, run_bytes, arena + cursor + (unaligned ? off % 4096 : 0)};
      cursor += (run_bytes + 8191) & ~uint64_t{4095};
    }
  };
  // Warm-up (first cold reads are slow), then timed.
  const auto warm_end = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  while (std::chrono::steady_clock::now() < warm_end) {
    fill_batch();
    store.read_runs(runs);
  }
  store.reset_counters();
  int64_t batches = 0;
  const double cpu0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  double elapsed = 0;
  while (elapsed < seconds) {
    fill_batch();
    store.read_runs(runs);
    ++batches;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  const double cpu = cpu_seconds() - cpu0;
  std::free(arena);
  const auto& c = store.counters();
  Result r;
  r.cpu_ms_per_gb = cpu * 1e3 / (static_cast<double>(c.bytes_requested) / 1e9);
  r.mb_per_s = static_cast<double>(c.bytes_requested) / 1e6 / elapsed;
  r.ms_per_batch = c.io_ms / static_cast<double>(batches);
  r.requests_per_run = static_cast<double>(c.requests) / static_cast<double>(c.runs);
  return r;
}

// fio randread MB/s (decimal), or -1 when fio is missing or fails.
double run_fio(const std::string& path, uint64_t bs_kib, int seconds, uint64_t size_mb) {
  const std::string cmd = "fio --name=r --filename=" + path +
                          " --rw=randread --bs=" + std::to_string(bs_kib) +
                          "k --direct=1 --ioengine=io_uring --iodepth=32 --runtime=" +
                          std::to_string(seconds) + " --time_based --size=" +
                          std::to_string(size_mb) + "M --output-format=json 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (::pclose(p) != 0) return -1;
  try {
    const auto j = nlohmann::json::parse(out.substr(out.find('{')));
    return j["jobs"][0]["read"]["bw_bytes"].get<double>() / 1e6;
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"FlashStore random-read throughput vs fio"};
  std::string file = "flash_read_bench.bin";
  uint64_t size_mb = 1024;
  double seconds = 5;
  std::vector<uint64_t> sizes_kib{16, 32, 64};
  int batch = 128;
  bool with_fio = false, unaligned = false;
  int fio_seconds = 10;
  int rounds = 3;
  bool align_to_size = false;
  app.add_option("--file", file, "test file (created when missing or of another size)");
  app.add_option("--size-mb", size_mb, "file size, MiB");
  app.add_option("--seconds", seconds, "timed seconds per configuration");
  app.add_option("--sizes", sizes_kib, "run sizes, KiB")->delimiter(',');
  app.add_option("--batch", batch, "runs per read_runs() call");
  app.add_flag("--fio", with_fio, "also run fio randread qd32 for each size");
  app.add_option("--fio-seconds", fio_seconds, "fio runtime per size");
  app.add_option("--rounds", rounds, "interleaved rounds per size (medians reported)");
  app.add_flag("--align-to-size", align_to_size, "offsets multiples of the run size (as fio)");
  app.add_flag("--unaligned", unaligned, "unaligned offsets (staged reads)");
  CLI11_PARSE(app, argc, argv);

  try {
    const uint64_t file_size = size_mb << 20;
    ensure_file(file, file_size);
    struct Config {
      const char* name;
      FlashStoreOptions opt;
    };
    std::vector<Config> configs;
    for (int qd : {32, 64}) {
      FlashStoreOptions o;
      o.backend = FlashReadBackend::IoUring;
      o.queue_depth = qd;
      configs.push_back({qd == 32 ? "io_uring qd32" : "io_uring qd64", o});
    }
    for (int t : {8, 16, 32}) {
      FlashStoreOptions o;
      o.backend = FlashReadBackend::ThreadPool;
      o.threads = t;
      configs.push_back({t == 8 ? "pool 8 thr" : t == 16 ? "pool 16 thr" : "pool 32 thr", o});
    }
    std::printf("file %s, %llu MiB, batch %d runs, %s offsets, %.1f s each\n", file.c_str(),
                static_cast<unsigned long long>(size_mb), batch, unaligned ? "unaligned" : "4K-aligned",
                seconds);
    // Rounds interleave every configuration (and fio) so that load from elsewhere on the
    // machine hits all of them alike; medians are reported.
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v.empty() ? -1.0 : v[v.size() / 2];
    };
    for (const uint64_t kib : sizes_kib) {
      std::vector<std::vector<double>> mb(configs.size()), ms(configs.size()), cpu(configs.size());
      std::vector<double> fio;
      for (int round = 0; round < rounds; ++round) {
        if (with_fio) {
          const double f = run_fio(file, kib, fio_seconds, size_mb);
          if (f > 0) fio.push_back(f);
        }
        for (size_t i = 0; i < configs.size(); ++i) {
          const Result r =
              bench_store(file, configs[i].opt, kib * 1024, batch, seconds, unaligned,
                          align_to_size ? kib * 1024 : 4096, file_size);
          mb[i].push_back(r.mb_per_s);
          ms[i].push_back(r.ms_per_batch);
          cpu[i].push_back(r.cpu_ms_per_gb);
        }
      }
      const double fio_med = median(fio);
      std::printf("\nrun %llu KiB", static_cast<unsigned long long>(kib));
      if (fio_med > 0) {
        std::printf("  fio io_uring qd32: %.0f MB/s (median of %zu; min %.0f max %.0f)", fio_med,
                    fio.size(), *std::min_element(fio.begin(), fio.end()),
                    *std::max_element(fio.begin(), fio.end()));
      }
      std::printf("\n");
      for (size_t i = 0; i < configs.size(); ++i) {
        const double m = median(mb[i]);
        std::printf("  %-14s %7.0f MB/s (min %5.0f max %5.0f)  %6.2f ms/batch  %5.0f cpu-ms/GB",
                    configs[i].name, m, *std::min_element(mb[i].begin(), mb[i].end()),
                    *std::max_element(mb[i].begin(), mb[i].end()), median(ms[i]), median(cpu[i]));
        if (fio_med > 0) std::printf("  %.2f x fio", m / fio_med);
        std::printf("\n");
      }
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flash_read_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
