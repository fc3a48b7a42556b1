// cache_simulator.cc - replaying active sets through the cache policy and the read planner.
#include "runtime/cache_simulator.h"

#include <algorithm>
#include <string>

#include "core/error.h"
#include "core/units.h"

namespace flashchat {
namespace {

// Stand-in addresses with the real buffers' 4 KiB alignment: only their phase and adjacency
// matter to the request plan; nothing is read or written through them.
constexpr uint64_t kRowsBase = uint64_t{1} << 40;
constexpr uint64_t kIoBufferBase = uint64_t{1} << 44;

uint8_t* fake_address(uint64_t a) { return reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(a)); }

}  // namespace

CacheSimulator::CacheSimulator(const ActiveTraceHeader& header, const CacheSimOptions& opts)
    : h_(header), opts_(opts) {
  budget_check(opts.budget_bytes,
               budget_minimum_bytes(h_.layout, FfnMode::Flash, opts.window, h_.open_fixed_bytes,
                                    h_.io_plan_bytes),
               FfnMode::Flash);
  planner_ = std::make_unique<CachePlanner>(h_.layout, FfnMode::Flash, opts.window,
                                            h_.io_plan_bytes, opts.budget_bytes,
                                            h_.open_fixed_bytes, /*hold_rows=*/false);
}

CacheSimulator::~CacheSimulator() = default;

void CacheSimulator::set_move_log(bool on) {
  moves_.assign(on ? static_cast<size_t>(h_.layout.n_layers) : 0, {});
  for (int l = 0; l < h_.layout.n_layers; ++l) {
    planner_->cache(l).set_move_log(on ? &moves_[static_cast<size_t>(l)] : nullptr);
  }
}

void CacheSimulator::moves_clear() {
  for (auto& m : moves_) m.clear();
}

// The reads FlashFfn issues for `neurons` (ascending): into cache rows (rows given) or through
// the I/O buffer in chunks (rows == nullptr), each chunk one read as stream_and_compute does.
void CacheSimulator::add_reads(int layer, const std::vector<int32_t>& neurons, uint64_t dst_base,
                               const std::vector<int32_t>* rows, TokenTelemetry& t) {
  const int32_t count = static_cast<int32_t>(neurons.size());
  const int32_t chunk = rows ? std::max(count, 1) : h_.io_buffer_rows;
  for (int32_t start = 0; start < count; start += chunk) {
    const int32_t n = std::min(chunk, count - start);
    dsts_.clear();
    for (int32_t i = 0; i < n; ++i) {
      const int64_t slot = rows ? (*rows)[static_cast<size_t>(start + i)] : i;
      dsts_.push_back(fake_address(dst_base + static_cast<uint64_t>(slot * h_.layout.bundle_bytes)));
    }
    runs_.clear();
    ffn_runs_append(h_.layout, layer, h_.bundling,
                    std::span<const int32_t>(neurons.data() + start, static_cast<size_t>(n)),
                    dsts_, runs_);
    const FlashReadCost c =
        flash_read_cost(runs_, h_.direct_io, h_.request_bytes, h_.layout.size_bytes);
    t.bytes_read += c.bytes;
    t.read_requests += c.requests;
  }
}

void CacheSimulator::fixed_bytes_set(int64_t fixed_bytes) {
  const FlashLayout& l = h_.layout;
  if (opts_.budget_bytes > 0) {
    const int64_t needed = fixed_bytes + h_.io_plan_bytes +
                           budget_map_bytes(l, FfnMode::Flash, opts_.window);
    if (needed > opts_.budget_bytes) {
      fail("budget", size_format_bytes(opts_.budget_bytes) + " no longer holds the " +
                         size_format_bytes(needed) + " needed besides the neuron cache");
    }
  }
  planner_->set_fixed_bytes(fixed_bytes);
}

TokenTelemetry CacheSimulator::start(int64_t fixed_bytes,
                                     const std::vector<std::vector<int32_t>>& active) {
  if (static_cast<int>(active.size()) != h_.layout.n_layers) {
    fail("cache simulator", std::to_string(active.size()) + " layers given, the trace has " +
                                std::to_string(h_.layout.n_layers));
  }
  fixed_bytes_set(fixed_bytes);
  planner_->begin_token();
  TokenTelemetry t;
  t.mode = ffn_mode_name(FfnMode::Flash);
  return t;
}

TokenTelemetry CacheSimulator::step(int64_t fixed_bytes,
                                    const std::vector<std::vector<int32_t>>& active) {
  const FlashLayout& l = h_.layout;
  TokenTelemetry t = start(fixed_bytes, active);
  added_.resize(static_cast<size_t>(l.n_layers));
  for (int layer = 0; layer < l.n_layers; ++layer) {
    const CacheAdmission& adm = planner_->admit(layer, active[static_cast<size_t>(layer)]);
    added_[static_cast<size_t>(layer)].assign(adm.add.begin(), adm.add.end());
    planner_->layer_telemetry(layer).neurons_predicted =
        static_cast<int32_t>(active[static_cast<size_t>(layer)].size());
    const uint64_t rows_base = kRowsBase + (uint64_t{1} << 32) * static_cast<uint64_t>(layer);
    add_reads(layer, adm.add, rows_base, &adm.new_rows, t);
    add_reads(layer, adm.overflow, kIoBufferBase, nullptr, t);
  }
  return finish(std::move(t));
}

TokenTelemetry CacheSimulator::step_block(int64_t fixed_bytes,
                                          const std::vector<std::vector<int32_t>>& active) {
  const FlashLayout& l = h_.layout;
  TokenTelemetry t = start(fixed_bytes, active);
  added_.assign(static_cast<size_t>(l.n_layers), {});
  std::vector<int32_t> missing;
  for (int layer = 0; layer < l.n_layers; ++layer) {
    const NeuronCache& cache = planner_->cache(layer);
    missing.clear();
    for (const int32_t n : active[static_cast<size_t>(layer)]) {
      if (!cache.contains(n)) missing.push_back(n);
    }
    add_reads(layer, missing, kIoBufferBase, nullptr, t);
    LayerTelemetry& lt = planner_->layer_telemetry(layer);
    lt.neurons_predicted = static_cast<int32_t>(active[static_cast<size_t>(layer)].size());
    lt.neurons_streamed = static_cast<int32_t>(missing.size());
    lt.cache_rows_used = cache.used_rows();
    lt.cache_capacity = cache.capacity();
  }
  return finish(std::move(t));
}

TokenTelemetry CacheSimulator::finish(TokenTelemetry t) {
  const FlashLayout& l = h_.layout;
  t.window_requested = opts_.window;
  t.window_in_force = planner_->window_in_force();
  t.budget_bytes = opts_.budget_bytes;
  t.ffn_neurons_total = int64_t{l.neurons} * l.n_layers;
  for (int layer = 0; layer < l.n_layers; ++layer) {
    const LayerTelemetry& lt = planner_->layer_telemetry(layer);
    t.layers.push_back(lt);
    t.ffn_neurons_loaded += lt.neurons_added + lt.neurons_streamed;
    t.dram.neuron_cache += planner_->cache(layer).touched_bytes();
  }
  t.dram.io_buffers = h_.io_plan_bytes;
  return t;
}

std::vector<TokenTelemetry> cache_simulate(const ActiveTrace& trace, const CacheSimOptions& opts) {
  CacheSimulator sim(trace.header, opts);
  std::vector<TokenTelemetry> out;
  out.reserve(trace.tokens.size());
  for (const ActiveTraceToken& tok : trace.tokens) {
    out.push_back(tok.block ? sim.step_block(tok.fixed_bytes, tok.active)
                            : sim.step(tok.fixed_bytes, tok.active));
    out.back().index = static_cast<int64_t>(out.size()) - 1;
    out.back().prompt = tok.prompt;
  }
  return out;
}

std::vector<WindowPoint> cache_window_sweep(const ActiveTrace& trace,
                                            const std::vector<int>& windows,
                                            int64_t budget_bytes) {
  bool any_generated = false;
  for (const ActiveTraceToken& t : trace.tokens) any_generated = any_generated || !t.prompt;
  const double neurons =
      static_cast<double>(trace.header.layout.neurons) * trace.header.layout.n_layers;
  std::vector<WindowPoint> points;
  for (const int k : windows) {
    const std::vector<TokenTelemetry> tel = cache_simulate(trace, {k, budget_bytes});
    WindowPoint p;
    p.window = k;
    int64_t n = 0;
    for (const TokenTelemetry& t : tel) {
      if (any_generated && t.prompt) continue;
      int64_t used = 0;
      for (const LayerTelemetry& lt : t.layers) used += lt.cache_rows_used;
      p.loaded_per_token += static_cast<double>(t.ffn_neurons_loaded);
      p.bytes_per_token += static_cast<double>(t.bytes_read);
      p.resident_fraction += static_cast<double>(used) / neurons;
      ++n;
    }
    if (n > 0) {
      p.loaded_per_token /= static_cast<double>(n);
      p.bytes_per_token /= static_cast<double>(n);
      p.resident_fraction /= static_cast<double>(n);
    }
    points.push_back(p);
  }
  return points;
}

}  // namespace flashchat
