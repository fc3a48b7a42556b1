// neuron_window.h - the paper's sliding window: the union of the active sets of the last k tokens.
//
// Holds the last k predicted sets (oldest first) and a reference count per neuron (in how many
// held sets it appears). Each token's set is pushed; the window answers which neurons must be
// loaded (in this set but not in the cache) and which may be dropped (no longer in any held
// set). k may change between tokens; shrinking drops the oldest sets.
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <vector>

namespace flashchat {

class NeuronCache;

class NeuronWindow {
 public:
  // n_neurons: ids 0..n-1. k >= 1 sets held (throws Error otherwise).
  NeuronWindow(int32_t n_neurons, int32_t k);

  int32_t k() const { return k_; }
  int32_t n_neurons() const { return n_neurons_; }
  // Sets held now (<= k).
  int32_t sets_held() const { return static_cast<int32_t>(sets_.size()); }
  // Neurons in at least one held set.
  int32_t union_size() const { return union_size_; }
  bool in_window(int32_t neuron) const {
    return neuron >= 0 && neuron < n_neurons_ && refs_[static_cast<size_t>(neuron)] > 0;
  }
  // In how many held sets `neuron` appears (0 when out of range).
  int32_t ref_count(int32_t neuron) const {
    return neuron >= 0 && neuron < n_neurons_ ? refs_[static_cast<size_t>(neuron)] : 0;
  }
  // The held sets, oldest first (each deduplicated, in the order first given).
  // Bytes of the sets, reference counts and markers held (runtime state).
  int64_t state_bytes() const {
    int64_t bytes = static_cast<int64_t>((refs_.capacity() + spare_.capacity()) * sizeof(int32_t) +
                                         stamp_.capacity() * sizeof(uint32_t));
    for (const auto& s : sets_) bytes += static_cast<int64_t>(s.capacity() * sizeof(int32_t));
    return bytes;
  }
  const std::deque<std::vector<int32_t>>& sets() const { return sets_; }

  // Pushes this token's active set (ids in [0, n); duplicates ignored; throws Error on an id
  // out of range, before changing anything) and drops the oldest sets beyond k.
  // add (cleared first): the neurons of `active` not in `cache` (cache == nullptr: not in the
  //   window before this push), in the order given.
  // remove (cleared first): neurons that left the window (in no held set any more); with a
  //   cache, only those the cache holds. Never overlaps `add`. Apply remove before add.
  void push(std::span<const int32_t> active, const NeuronCache* cache, std::vector<int32_t>& add,
            std::vector<int32_t>& remove);

  // Changes k (>= 1; throws Error otherwise). Shrinking below sets_held() drops the oldest sets;
  // `remove` (cleared first) receives the neurons that left the window (with a cache, only
  // those it holds).
  void set_k(int32_t k, const NeuronCache* cache, std::vector<int32_t>& remove);

  // Forgets every set.
  void clear();

 private:
  void pop_oldest(const NeuronCache* cache, std::vector<int32_t>& remove);

  int32_t n_neurons_ = 0;
  int32_t k_ = 1;
  int32_t union_size_ = 0;
  std::deque<std::vector<int32_t>> sets_;
  std::vector<int32_t> refs_;
  std::vector<int32_t> spare_;   // storage of the last dropped set, reused
  std::vector<uint32_t> stamp_;  // dedup marker per neuron
  uint32_t stamp_now_ = 0;
};

}  // namespace flashchat
