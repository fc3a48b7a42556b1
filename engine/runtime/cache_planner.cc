// cache_planner.cc - admission, eviction and row split of the flash neuron cache.
#include "runtime/cache_planner.h"

#include <algorithm>
#include <limits>

#include "core/error.h"
#include "runtime/cache_policy.h"

namespace flashchat {

void ffn_runs_append(const FlashLayout& layout, int layer, bool bundling,
                     std::span<const int32_t> neurons, std::span<uint8_t* const> dsts,
                     std::vector<ReadRun>& runs) {
  if (bundling) {
    bundle_runs_append(layout.bundle_offset(layer, 0), layout.bundle_bytes, neurons, dsts, runs);
    return;
  }
  if (neurons.size() != dsts.size()) fail("ffn reads", "neurons and destinations differ in size");
  const uint64_t first = static_cast<uint64_t>(layout.down_offset());
  const uint64_t part = static_cast<uint64_t>(layout.part_bytes());
  for (size_t i = 0; i < neurons.size(); ++i) {
    const uint64_t offset = layout.bundle_offset(layer, neurons[i]);
    runs.push_back({offset, first, dsts[i]});
    runs.push_back({offset + first, part, dsts[i] + first});
  }
}

CachePlanner::CachePlanner(const FlashLayout& layout, FfnMode mode, int window,
                           int64_t io_plan_bytes, int64_t budget_bytes, int64_t fixed_bytes,
                           bool hold_rows)
    : layout_(layout), mode_(mode), window_(window), io_plan_bytes_(io_plan_bytes),
      budget_bytes_(budget_bytes), fixed_bytes_(fixed_bytes), hold_rows_(hold_rows) {
  if (window < 1) fail("cache planner", "window must be at least 1");
  if (mode != FfnMode::Flash && mode != FfnMode::Dram) {
    fail("cache planner", std::string("no neuron cache in ") + ffn_mode_name(mode) + " mode");
  }
  // Scratch reserved whole so that nothing grows while tokens run (budget_map_bytes counts it).
  const size_t n = static_cast<size_t>(layout_.neurons);
  for (auto* v : {&adm_.hit_rows, &adm_.add, &adm_.new_rows, &adm_.overflow, &remove_,
                  &extra_remove_, &victims_}) {
    v->reserve(n);
  }
  pick_scratch_.reserve(n);
  split_rows_.reserve(static_cast<size_t>(layout_.n_layers));
  split_cap_.reserve(static_cast<size_t>(layout_.n_layers));
  split_demand_.reserve(static_cast<size_t>(layout_.n_layers));

  const int32_t rows = capacity_rows_for(budget_bytes_, fixed_bytes_);  // before the layers exist
  layers_.resize(static_cast<size_t>(layout_.n_layers));
  for (auto& L : layers_) {
    L = std::make_unique<Layer>();
    // Rows are reserved for what a layer may get of the capacity the budget buys now
    // (apply_capacity() grows them).
    layer_make(*L, reserve_rows_for(rows));
  }
  apply_capacity();
}

CachePlanner::~CachePlanner() = default;

void CachePlanner::layer_make(Layer& L, int32_t reserve_rows) {
  L.cache = std::make_unique<NeuronCache>(layout_.neurons, layout_.bundle_bytes, reserve_rows,
                                          hold_rows_);
  L.window = std::make_unique<NeuronWindow>(layout_.neurons, window_);
  if (mode_ == FfnMode::Flash) L.last_used.assign(static_cast<size_t>(layout_.neurons), -1);
}

// The FFN's own state is bounded by budget_map_bytes and comes out of the budget too.
int32_t CachePlanner::capacity_rows_for(int64_t budget_bytes, int64_t fixed_bytes) const {
  const int32_t rows =
      budget_cache_rows(layout_, mode_, window_, budget_bytes, fixed_bytes, io_plan_bytes_);
  if (layers_.empty() || !layers_.front() || !layers_.front()->cache || budget_bytes <= 0 ||
      mode_ == FfnMode::Dram) {
    return rows;
  }
  // Once built, the row maps are held for every reserved row: rows up to the reservation pay
  // only their bundles (the maps are already charged); more rows mean a larger matrix.
  const int64_t reserved = layers_.front()->cache->max_capacity();
  if (rows > reserved) return rows;
  const int64_t free_bytes = budget_bytes - fixed_bytes - io_plan_bytes_ -
                             budget_map_bytes(layout_, mode_, window_) -
                             reserved * 4 * layout_.n_layers;
  return static_cast<int32_t>(std::clamp<int64_t>(
      free_bytes / (layout_.bundle_bytes * layout_.n_layers), 0, reserved));
}

int32_t CachePlanner::reserve_rows_for(int32_t even_rows) const {
  if (mode_ != FfnMode::Flash || budget_bytes_ <= 0) return even_rows;
  return static_cast<int32_t>(std::min<int64_t>(layout_.neurons, 2 * int64_t{even_rows}));
}

void CachePlanner::apply_capacity() {
  const int32_t rows = capacity_rows_for(budget_bytes_, fixed_bytes_);
  for (auto& L : layers_) {
    if (rows <= L->cache->max_capacity()) continue;
    // More rows than reserved: a new, larger matrix (a settings change, not per token). The
    // neurons held are dropped and reload as the window asks for them.
    layer_make(*L, reserve_rows_for(rows));
  }
  rebalance_capacity(rows);
}

void CachePlanner::rebalance_capacity(int32_t even_rows) {
  const size_t n_layers = layers_.size();
  split_rows_.assign(n_layers, even_rows);
  if (lazy_eviction()) {
    // Rows follow each layer's demand (before any token: evenly), within its reservation.
    split_demand_.resize(n_layers);
    split_cap_.resize(n_layers);
    for (size_t l = 0; l < n_layers; ++l) {
      split_demand_[l] = layers_[l]->demand;
      split_cap_[l] = layers_[l]->cache->max_capacity();
    }
    cache_split_rows(int64_t{even_rows} * static_cast<int64_t>(n_layers), split_demand_,
                     split_cap_, split_rows_);
  }
  for (size_t l = 0; l < n_layers; ++l) {
    layer_set_capacity(*layers_[l], std::min(split_rows_[l], layers_[l]->cache->max_capacity()));
  }
}

void CachePlanner::layer_set_capacity(Layer& L, int32_t rows) {
  NeuronCache& cache = *L.cache;
  if (cache.used_rows() > rows && !L.last_used.empty()) {
    // Shrinking: the least recently used neurons go (swap with last), the rest stay.
    cache_pick_victims(std::span<const int32_t>(cache.row_to_neuron().data(),
                                                static_cast<size_t>(cache.used_rows())),
                       L.last_used, std::numeric_limits<int32_t>::max(),
                       cache.used_rows() - rows, victims_, pick_scratch_);
    cache.remove_many(victims_);
    L.tel.neurons_removed += static_cast<int32_t>(victims_.size());
  }
  // Without last-use stamps (dram mode) the rows past the capacity are dropped; they stay in the
  // window's sets and reload if needed again.
  (void)cache.set_capacity(rows);
}

void CachePlanner::set_window_and_budget(int k, int64_t budget_bytes) {
  if (k < 1) fail("window", "must be at least 1");
  window_ = k;  // applied per layer at the next admit (NeuronWindow::set_k)
  budget_bytes_ = budget_bytes;
  apply_capacity();
}

void CachePlanner::set_fixed_bytes(int64_t fixed_bytes) {
  if (fixed_bytes == fixed_bytes_) return;
  fixed_bytes_ = fixed_bytes;
  apply_capacity();
}

void CachePlanner::begin_token() {
  window_in_force_ = window_;
  for (auto& L : layers_) L->tel = LayerTelemetry();
  ++token_now_;
  if (lazy_eviction() && token_now_ > 0 && token_now_ % kRebalanceTokens == 0) {
    // The layers' demand moved: re-split the rows (shrinking layers evict their oldest).
    rebalance_capacity(capacity_rows_for(budget_bytes_, fixed_bytes_));
  }
}

const CacheAdmission& CachePlanner::admit(int layer, std::span<const int32_t> active) {
  Layer& L = *layers_[static_cast<size_t>(layer)];
  NeuronCache& cache = *L.cache;
  const bool lazy = lazy_eviction();
  std::vector<int32_t>& add = adm_.add;
  // The window: with a budget its leavers stay cached until their rows are needed; without
  // one they are deleted now (swap with last), as in the paper.
  if (L.window->k() != window_) {
    L.window->set_k(window_, &cache, extra_remove_);
    if (!lazy) {
      cache.remove_many(extra_remove_);
      L.tel.neurons_removed += static_cast<int32_t>(extra_remove_.size());
    }
  }
  L.window->push(active, &cache, add, remove_);
  if (!lazy) {
    cache.remove_many(remove_);
    L.tel.neurons_removed += static_cast<int32_t>(remove_.size());
  }
  for (const int32_t n : active) L.last_used[static_cast<size_t>(n)] = token_now_;
  const double distinct = L.window->union_size();
  L.demand = L.demand <= 0 ? distinct : 0.75 * L.demand + 0.25 * distinct;
  int32_t in_force = std::min(window_, L.window->sets_held());

  // Rows already holding this token's neurons (no row moves below: replace and append leave
  // the other rows where they are).
  const std::vector<int32_t>& row_of = cache.neuron_to_row();
  adm_.hit_rows.clear();
  for (const int32_t n : active) {
    const int32_t r = row_of[static_cast<size_t>(n)];
    if (r >= 0) adm_.hit_rows.push_back(r);
  }
  std::sort(adm_.hit_rows.begin(), adm_.hit_rows.end());

  std::sort(add.begin(), add.end());
  const int32_t fit = admit_rows(layer, add, in_force);
  adm_.overflow.assign(add.begin() + fit, add.end());
  add.resize(static_cast<size_t>(fit));
  if (!adm_.overflow.empty()) in_force = std::min(in_force, 1);
  L.tel.neurons_added += fit;
  L.tel.neurons_streamed = static_cast<int32_t>(adm_.overflow.size());
  L.tel.cache_rows_used = cache.used_rows();
  L.tel.cache_capacity = cache.capacity();
  window_in_force_ = std::min(window_in_force_, in_force);
  return adm_;
}

int32_t CachePlanner::admit_rows(int layer, std::span<const int32_t> add, int32_t& in_force) {
  Layer& L = *layers_[static_cast<size_t>(layer)];
  NeuronCache& cache = *L.cache;
  const std::vector<int32_t>& row_of = cache.neuron_to_row();
  // Room: free rows, then the least recently used neurons of earlier tokens.
  const int32_t need = static_cast<int32_t>(add.size()) - cache.free_rows();
  victims_.clear();
  if (need > 0 && lazy_eviction()) {
    cache_pick_victims(std::span<const int32_t>(cache.row_to_neuron().data(),
                                                static_cast<size_t>(cache.used_rows())),
                       L.last_used, token_now_, need, victims_, pick_scratch_);
  }
  for (const int32_t v : victims_) {
    // An evicted neuron of the last `in_force` tokens cuts the window to the tokens after it.
    in_force = std::min(in_force, token_now_ - L.last_used[static_cast<size_t>(v)]);
  }
  const int32_t n_victims = static_cast<int32_t>(victims_.size());
  const int32_t fit =
      std::min<int32_t>(static_cast<int32_t>(add.size()), cache.free_rows() + n_victims);
  // Misses in id order get the victims' rows in row order, then appended rows: neurons adjacent
  // on disk land in adjacent rows whenever the rows allow it (one read for the run).
  std::sort(victims_.begin(), victims_.end(), [&](int32_t a, int32_t b) {
    return row_of[static_cast<size_t>(a)] < row_of[static_cast<size_t>(b)];
  });
  adm_.new_rows.clear();
  for (int32_t i = 0; i < fit; ++i) {
    const int32_t n = add[static_cast<size_t>(i)];
    if (i < n_victims) {
      cache.replace(victims_[static_cast<size_t>(i)], n);
    } else {
      cache.append(n);
    }
    adm_.new_rows.push_back(row_of[static_cast<size_t>(n)]);
  }
  L.tel.neurons_removed += n_victims;
  return fit;
}

void CachePlanner::admission_drop(int layer) {
  layers_[static_cast<size_t>(layer)]->cache->remove_many(adm_.add);
}

int64_t CachePlanner::state_bytes() const {
  int64_t bytes = static_cast<int64_t>(
      (adm_.hit_rows.capacity() + adm_.add.capacity() + adm_.new_rows.capacity() +
       adm_.overflow.capacity() + remove_.capacity() + extra_remove_.capacity() +
       victims_.capacity() + split_rows_.capacity() + split_cap_.capacity()) *
          sizeof(int32_t) +
      pick_scratch_.capacity() * sizeof(pick_scratch_[0]) +
      split_demand_.capacity() * sizeof(double));
  for (const auto& L : layers_) {
    bytes += L->cache->map_bytes() + L->window->state_bytes();
    bytes += static_cast<int64_t>(L->last_used.capacity() * sizeof(int32_t));
  }
  return bytes;
}

}  // namespace flashchat
