#include "session/read_probe.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/file_writer.h"
#include "core/read_file.h"
#include "flash/flash_manifest.h"
#include "flash/flash_model.h"
#include "runtime/budget.h"
#include "runtime/cache_planner.h"
#include "runtime/flash_store.h"

namespace flashchat {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kCacheVersion = 1;
constexpr int kWarmupBatches = 4;  // not counted: first reads after open are slower

struct FileId {
  std::string path;  // canonical
  std::string device;  // "major:minor"
  uint64_t size_bytes = 0;
  int64_t mtime_ns = 0;
};

// The parts of the manifest's "ffn" section a read needs (flash_model_open would also load the
// resident weights, which the probe does not need).
FlashLayout layout_read(const std::string& dir, std::string* ffn_path) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail(dir, "not a flash model directory");
  const std::string manifest = dir + "/manifest.json";
  const json j = file_read_json(manifest);
  const ManifestFields top(j, manifest);
  const ManifestFields f = top.object("ffn");
  FlashLayout L;
  const std::string dtype = f.string("dtype");
  if (!flash_dtype_from_name(dtype, &L.dtype)) f.bad("dtype", "= '" + dtype + "' (F32, F16, BF16, Q8_0, Q4_0)");
  L.dim = static_cast<int>(f.integer("dim", 1, int64_t{1} << 30));
  L.neurons = static_cast<int>(f.integer("neurons", 1, int64_t{1} << 30));
  L.gated = f.boolean("gated");
  L.bundle_bytes = f.integer("bundle_bytes", 1, int64_t{1} << 40);
  L.size_bytes = f.unsigned_integer("size_bytes");
  for (const json& o : f.array("layer_offsets")) {
    if (!o.is_number_unsigned()) f.bad("layer_offsets", "must hold non-negative integers");
    L.layer_offsets.push_back(o.get<uint64_t>());
  }
  L.n_layers = static_cast<int>(L.layer_offsets.size());
  if (L.n_layers == 0) f.bad("layer_offsets", "is empty");
  const uint64_t region = uint64_t(L.neurons) * uint64_t(L.bundle_bytes);
  for (uint64_t off : L.layer_offsets) {
    if (off > L.size_bytes || region > L.size_bytes - off) {
      f.bad("layer_offsets", "reach beyond ffn.bin's " + std::to_string(L.size_bytes) + " bytes");
    }
  }
  *ffn_path = dir + "/" + f.string("file");
  return L;
}

FileId file_id(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(path, "cannot stat the model's FFN file");
  std::error_code ec;
  const fs::path canonical = fs::canonical(path, ec);
  FileId id;
  id.path = ec ? path : canonical.string();
  id.device = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  id.size_bytes = static_cast<uint64_t>(st.st_size);
  id.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
  return id;
}

// The engine's store options for this model: the request size FlashFfn's I/O plan fits to the
// layer (runtime/budget.h), the store's default queue depth.
FlashStoreOptions engine_store_options(const FlashLayout& layout) {
  return budget_io_plan(layout, FfnMode::Flash, /*direct_io=*/true, FlashStoreOptions()).store;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The cached result when `cache_file` holds one for this file and request shape.
bool cache_lookup(const std::string& cache_file, const FileId& id, const FlashStoreOptions& store,
                  ReadProbeResult* out) {
  std::error_code ec;
  if (!fs::exists(cache_file, ec)) return false;
  try {
    const json j = file_read_json(cache_file);
    if (!j.is_object() || j.value("version", 0) != kCacheVersion) return false;
    if (j.at("path").get<std::string>() != id.path || j.at("device").get<std::string>() != id.device ||
        j.at("file_size_bytes").get<uint64_t>() != id.size_bytes ||
        j.at("file_mtime_ns").get<int64_t>() != id.mtime_ns ||
        j.at("request_bytes").get<int64_t>() != store.request_bytes ||
        j.at("queue_depth").get<int>() != store.queue_depth) {
      return false;
    }
    const double mb_per_s = j.at("mb_per_s").get<double>();
    if (!(mb_per_s > 0)) return false;
    out->mb_per_s = mb_per_s;
    out->seconds = j.at("seconds").get<double>();
    return true;
  } catch (const std::exception&) {
    return false;  // unreadable or corrupt: measure again and rewrite it
  }
}

void cache_write(const std::string& cache_file, const FileId& id, const FlashStore& store,
                 const ReadProbeResult& r) {
  const json j = {{"version", kCacheVersion},
                  {"path", id.path},
                  {"device", id.device},
                  {"file_size_bytes", id.size_bytes},
                  {"file_mtime_ns", id.mtime_ns},
                  {"request_bytes", r.request_bytes},
                  {"queue_depth", r.queue_depth},
                  {"backend", FlashStore::backend_name(store.backend())},
                  {"direct_io", store.direct_io()},
                  {"mb_per_s", r.mb_per_s},
                  {"bytes_read", r.bytes_read},
                  {"seconds", r.seconds},
                  {"measured_at", utc_now()}};
  std::error_code ec;
  const fs::path parent = fs::path(cache_file).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  file_write_atomic(cache_file, j.dump(2) + "\n");
}

struct FreeDeleter {
  void operator()(uint8_t* p) const { std::free(p); }
};

// Random runs of `run_bundles` adjacent bundles (at least one), never two adjacent runs (so the
// block layer cannot merge them into a sequential read), a batch of up to 2 x queue depth runs
// per read_runs() call, layer after layer, until a limit; read with bundling on or off
// (ffn_runs_append, as FlashFfn reads). Fills bytes_read, seconds and mb_per_s; returns the
// store's counters of the measurement and the neurons read.
std::pair<FlashStore::Counters, int64_t> measure(FlashStore& store, const FlashLayout& layout, int run_bundles,
                                    bool bundling, const ReadProbeLimits& limits,
                                    ReadProbeResult* r) {
  run_bundles = std::clamp(run_bundles, 1, layout.neurons);
  const int slots = layout.neurons / run_bundles;   // run positions in a layer
  const int candidates = (slots + 1) / 2;           // every other one: no two adjacent
  const int batch = std::clamp(2 * store.options().queue_depth, 1, std::max(1, candidates / 2));
  const size_t dst_bytes =
      (size_t(batch) * size_t(run_bundles) * size_t(layout.bundle_bytes) + 4095) / 4096 * 4096;
  std::unique_ptr<uint8_t, FreeDeleter> dst(static_cast<uint8_t*>(std::aligned_alloc(4096, dst_bytes)));
  if (!dst) fail(store.path(), "out of memory for the read probe's buffer");
  std::mt19937 rng(12345);
  std::vector<int32_t> starts(static_cast<size_t>(candidates));
  for (int i = 0; i < candidates; ++i) starts[static_cast<size_t>(i)] = 2 * i * run_bundles;
  std::vector<int32_t> chosen, neurons;
  std::vector<uint8_t*> dsts;
  std::vector<ReadRun> runs;
  int64_t neurons_read = 0;
  auto one_batch = [&](int layer) {
    // Partial Fisher-Yates: `batch` distinct random run starts, ascending like the engine's ids.
    for (int i = 0; i < batch; ++i) {
      std::uniform_int_distribution<int> pick(i, candidates - 1);
      std::swap(starts[static_cast<size_t>(i)], starts[static_cast<size_t>(pick(rng))]);
    }
    chosen.assign(starts.begin(), starts.begin() + batch);
    std::sort(chosen.begin(), chosen.end());
    neurons.clear();
    dsts.clear();
    for (int32_t s : chosen) {
      for (int b = 0; b < run_bundles && s + b < layout.neurons; ++b) {
        dsts.push_back(dst.get() + neurons.size() * size_t(layout.bundle_bytes));
        neurons.push_back(s + b);
      }
    }
    runs.clear();
    ffn_runs_append(layout, layer, bundling, neurons, dsts, runs);
    store.read_runs(runs);
    neurons_read += static_cast<int64_t>(neurons.size());
  };
  for (int w = 0; w < kWarmupBatches; ++w) one_batch(w % layout.n_layers);
  store.reset_counters();
  neurons_read = 0;
  const Clock::time_point start = Clock::now();
  int layer = 0;
  while (true) {
    one_batch(layer);
    layer = (layer + 1) % layout.n_layers;
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (store.counters().bytes_read >= limits.max_bytes || seconds >= limits.max_seconds) break;
  }
  const FlashStore::Counters& c = store.counters();
  r->bytes_read = c.bytes_read;
  r->seconds = c.io_ms / 1e3;
  r->mb_per_s = c.io_ms > 0 ? double(c.bytes_read) / 1e3 / c.io_ms : 0.0;
  if (!(r->mb_per_s > 0)) fail(store.path(), "the read probe measured no throughput");
  return {c, neurons_read};
}

}  // namespace

ReadProbeResult read_probe_run(const std::string& flash_model_dir, const std::string& cache_file,
                               bool remeasure, const ReadProbeLimits& limits) {
  ReadProbeResult r;
  const FlashLayout layout = layout_read(flash_model_dir, &r.ffn_path);
  const FileId id = file_id(r.ffn_path);
  if (id.size_bytes != layout.size_bytes) {
    fail(r.ffn_path, "is " + std::to_string(id.size_bytes) + " bytes, the manifest says " +
                         std::to_string(layout.size_bytes));
  }
  const FlashStoreOptions options = engine_store_options(layout);
  r.request_bytes = options.request_bytes;
  r.queue_depth = options.queue_depth;
  if (!remeasure && cache_lookup(cache_file, id, options, &r)) return r;

  FlashStore store;
  store.open(r.ffn_path, /*direct=*/true, options);
  measure(store, layout,
          static_cast<int>(std::clamp<int64_t>(options.request_bytes / layout.bundle_bytes, 1,
                                               layout.neurons)),
          /*bundling=*/true, limits, &r);
  r.measured = true;
  cache_write(cache_file, id, store, r);
  return r;
}

std::vector<ReadSweepPoint> read_probe_sweep(const std::string& flash_model_dir,
                                             const std::vector<int>& run_neurons,
                                             const ReadProbeLimits& limits) {
  std::string ffn_path;
  FlashLayout layout = layout_read(flash_model_dir, &ffn_path);
  const FlashStoreOptions options = engine_store_options(layout);
  FlashStore store;
  store.open(ffn_path, /*direct=*/true, options);
  std::vector<ReadSweepPoint> points;
  for (const int k : run_neurons) {
    for (const bool bundled : {true, false}) {
      ReadProbeResult r;
      const auto [c, neurons] = measure(store, layout, k, bundled, limits, &r);
      ReadSweepPoint p;
      p.run_neurons = k;
      p.bundled = bundled;
      p.mb_per_s = r.mb_per_s;
      p.useful_mb_per_s = c.io_ms > 0 ? double(c.bytes_requested) / 1e3 / c.io_ms : 0.0;
      p.bytes_read = r.bytes_read;
      p.request_bytes = c.requests > 0 ? double(c.bytes_requested) / double(c.requests) : 0.0;
      p.neurons_per_s = r.seconds > 0 ? double(neurons) / r.seconds : 0.0;
      points.push_back(p);
    }
  }
  return points;
}

double read_probe_mb_per_s(const std::string& flash_model_dir, const std::string& cache_file,
                           bool remeasure) {
  return read_probe_run(flash_model_dir, cache_file, remeasure).mb_per_s;
}

}  // namespace flashchat
