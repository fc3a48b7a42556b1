// read_probe.h - the device's random-read throughput, measured once with the engine's own reads.
//
// Reads random runs of neuron bundles from a flash model's own ffn.bin through FlashStore with
// O_DIRECT, at the request size and queue depth the engine's FlashFfn uses for this model (the
// request size follows from the engine's own I/O-buffer accounting), layer by layer like a flash
// token does: sorted runs of adjacent bundles, each one request long, at random non-adjacent
// places, up to 2 x queue depth runs per read; for ~256 MiB or ~1.5 s, whichever comes first. The figure (bytes transferred /
// time inside FlashStore::read_runs) is what the live panel draws as the device's limit.
//
// The result is cached in a small JSON file (device id, ffn.bin path, size and mtime, request
// bytes, queue depth, backend, MB/s, bytes read, seconds, when) and reused while the file, the
// device and the request shape are unchanged. A cache file that cannot be parsed is measured
// over. MB = 10^6 bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace flashchat {

struct ReadProbeLimits {
  int64_t max_bytes = int64_t{256} << 20;  // stop after this many bytes transferred ...
  double max_seconds = 1.5;                // ... or after this long, whichever comes first
};

struct ReadProbeResult {
  double mb_per_s = 0;
  bool measured = false;      // false: taken from the cache file, no I/O on ffn.bin
  int64_t bytes_read = 0;     // transferred by this call's measurement (0 on a cache hit)
  int64_t request_bytes = 0;  // largest single request (the engine's, for this model)
  int queue_depth = 0;
  double seconds = 0;         // measuring time (of the cached measurement on a hit)
  std::string ffn_path;
};

// Returns the cached figure for `flash_model_dir` from `cache_file` unless `remeasure`, the cache
// is missing or unreadable, or ffn.bin / its device / the engine's request shape changed; then
// measures and rewrites the cache (atomically). Throws Error naming the file when the model's
// manifest or ffn.bin cannot be read, a read fails, or the cache file cannot be written.
ReadProbeResult read_probe_run(const std::string& flash_model_dir, const std::string& cache_file,
                               bool remeasure, const ReadProbeLimits& limits = {});

// One point of the bundling figure: random places in ffn.bin, `run_neurons` adjacent neurons
// each, read as the engine reads them with bundling on (one request per run of bundles) or off
// (each neuron's gate/up rows and its down column as separate requests).
struct ReadSweepPoint {
  int run_neurons = 0;
  bool bundled = true;
  double mb_per_s = 0;            // bytes transferred / time inside FlashStore::read_runs
  double useful_mb_per_s = 0;     // the neurons' own bytes (no 4 KiB alignment pads) / time
  double request_bytes = 0;       // mean bytes asked for per request issued (pads excluded)
  double neurons_per_s = 0;       // neurons' weights fetched per second
  int64_t bytes_read = 0;
};

// Measures every run length in `run_neurons` (e.g. 1, 2, 4, ... 32) bundled and unbundled, with
// the engine's store options for this model, `limits` per point (defaults: 24 MiB or 0.3 s).
// No cache: the caller keeps the result. Throws Error like read_probe_run.
std::vector<ReadSweepPoint> read_probe_sweep(const std::string& flash_model_dir,
                                             const std::vector<int>& run_neurons,
                                             const ReadProbeLimits& limits = {int64_t{24} << 20,
                                                                              0.3});

// The MB/s of read_probe_run().
double read_probe_mb_per_s(const std::string& flash_model_dir, const std::string& cache_file,
                           bool remeasure);

}  // namespace flashchat
