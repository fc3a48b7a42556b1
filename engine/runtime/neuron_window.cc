// neuron_window.cc - reference-counted union of the last k active sets.
#include "runtime/neuron_window.h"

#include <algorithm>
#include <string>

#include "core/error.h"
#include "runtime/neuron_cache.h"

namespace flashchat {
namespace {

const char* kSource = "neuron window";

void check_k(int32_t k) {
  if (k < 1) fail(kSource, "window k must be >= 1, got " + std::to_string(k));
}

}  // namespace

NeuronWindow::NeuronWindow(int32_t n_neurons, int32_t k) : n_neurons_(n_neurons), k_(k) {
  if (n_neurons < 0) fail(kSource, "negative neuron count " + std::to_string(n_neurons));
  check_k(k);
  refs_.assign(static_cast<size_t>(n_neurons), 0);
  stamp_.assign(static_cast<size_t>(n_neurons), 0);
}

void NeuronWindow::pop_oldest(const NeuronCache* cache, std::vector<int32_t>& remove) {
  for (const int32_t n : sets_.front()) {
    if (--refs_[static_cast<size_t>(n)] == 0) {
      --union_size_;
      if (cache == nullptr || cache->contains(n)) remove.push_back(n);
    }
  }
  spare_ = std::move(sets_.front());
  sets_.pop_front();
}

void NeuronWindow::push(std::span<const int32_t> active, const NeuronCache* cache,
                        std::vector<int32_t>& add, std::vector<int32_t>& remove) {
  add.clear();
  remove.clear();
  for (const int32_t n : active) {
    if (n < 0 || n >= n_neurons_) {
      fail(kSource, "active neuron " + std::to_string(n) + " outside [0, " +
                        std::to_string(n_neurons_) + ")");
    }
  }
  if (++stamp_now_ == 0) {  // wrapped: reset the markers
    std::fill(stamp_.begin(), stamp_.end(), 0);
    stamp_now_ = 1;
  }
  // The new set is counted in before the oldest is released, so a neuron that stays in the
  // window is neither removed nor re-added. Storage of dropped sets is recycled.
  // Grown by hand, never past n, so a set holds at most n ids (the budget's bound, budget.h).
  std::vector<int32_t> fresh = std::move(spare_);
  fresh.clear();
  if (fresh.capacity() < active.size()) {
    fresh.reserve(std::min(static_cast<size_t>(n_neurons_),
                           std::max(active.size(), 2 * fresh.capacity())));
  }
  for (const int32_t n : active) {
    uint32_t& st = stamp_[static_cast<size_t>(n)];
    if (st == stamp_now_) continue;
    st = stamp_now_;
    fresh.push_back(n);
    int32_t& r = refs_[static_cast<size_t>(n)];
    const bool was_in = r > 0;
    if (r++ == 0) ++union_size_;
    if (cache != nullptr ? !cache->contains(n) : !was_in) add.push_back(n);
  }
  sets_.push_back(std::move(fresh));
  while (sets_.size() > static_cast<size_t>(k_)) pop_oldest(cache, remove);
}

void NeuronWindow::set_k(int32_t k, const NeuronCache* cache, std::vector<int32_t>& remove) {
  check_k(k);
  remove.clear();
  k_ = k;
  while (sets_.size() > static_cast<size_t>(k_)) pop_oldest(cache, remove);
}

void NeuronWindow::clear() {
  sets_.clear();
  std::fill(refs_.begin(), refs_.end(), 0);
  union_size_ = 0;
}

}  // namespace flashchat
