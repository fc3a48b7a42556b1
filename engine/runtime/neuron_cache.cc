// neuron_cache.cc - preallocated bundle rows with swap-with-last deletion.
#include "runtime/neuron_cache.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/error.h"

namespace flashchat {
namespace {

constexpr int64_t kAlign = 4096;
const char* kSource = "neuron cache";

}  // namespace

NeuronCache::NeuronCache(int32_t n_neurons, int64_t bundle_bytes, int32_t capacity_rows,
                         bool hold_rows)
    : n_neurons_(n_neurons), bundle_bytes_(bundle_bytes), max_capacity_(capacity_rows),
      capacity_(capacity_rows) {
  if (n_neurons < 0 || bundle_bytes <= 0 || capacity_rows < 0 || capacity_rows > n_neurons) {
    fail(kSource, "invalid shape: " + std::to_string(n_neurons) + " neurons, " +
                      std::to_string(bundle_bytes) + " bytes per bundle, capacity " +
                      std::to_string(capacity_rows) + " rows (must be in [0, neurons])");
  }
  row_to_neuron_.assign(static_cast<size_t>(capacity_rows), -1);
  neuron_to_row_.assign(static_cast<size_t>(n_neurons), -1);
  removing_.assign(static_cast<size_t>(n_neurons), 0);
  if (!hold_rows) return;
  const int64_t bytes = int64_t{capacity_rows} * bundle_bytes;
  // aligned_alloc wants a size that is a multiple of the alignment; never 0.
  const int64_t alloc = std::max<int64_t>(kAlign, (bytes + kAlign - 1) / kAlign * kAlign);
  data_ = static_cast<uint8_t*>(std::aligned_alloc(kAlign, static_cast<size_t>(alloc)));
  if (data_ == nullptr) {
    fail(kSource, "cannot allocate " + std::to_string(alloc) + " bytes for " +
                      std::to_string(capacity_rows) + " rows");
  }
  allocated_bytes_ = alloc;
}

NeuronCache::~NeuronCache() { std::free(data_); }

void NeuronCache::check_neuron(int32_t neuron, const char* what) const {
  if (neuron < 0 || neuron >= n_neurons_) {
    fail(kSource, std::string(what) + ": neuron " + std::to_string(neuron) + " outside [0, " +
                      std::to_string(n_neurons_) + ")");
  }
}

int32_t NeuronCache::row_of(int32_t neuron) const {
  check_neuron(neuron, "row_of");
  return neuron_to_row_[static_cast<size_t>(neuron)];
}

int32_t NeuronCache::neuron_at(int32_t row) const {
  if (row < 0 || row >= used_) {
    fail(kSource, "neuron_at: row " + std::to_string(row) + " outside the " +
                      std::to_string(used_) + " used rows");
  }
  return row_to_neuron_[static_cast<size_t>(row)];
}

uint8_t* NeuronCache::row_data(int32_t row) {
  return const_cast<uint8_t*>(static_cast<const NeuronCache*>(this)->row_data(row));
}

const uint8_t* NeuronCache::row_data(int32_t row) const {
  if (row < 0 || row >= max_capacity_) {
    fail(kSource, "row_data: row " + std::to_string(row) + " outside the " +
                      std::to_string(max_capacity_) + " rows");
  }
  return data_ == nullptr ? nullptr : data_ + int64_t{row} * bundle_bytes_;
}

uint8_t* NeuronCache::append(int32_t neuron) {
  check_neuron(neuron, "append");
  if (neuron_to_row_[static_cast<size_t>(neuron)] >= 0) {
    fail(kSource, "append: neuron " + std::to_string(neuron) + " is already cached");
  }
  if (used_ >= capacity_) {
    fail(kSource, "append: cache full (" + std::to_string(capacity_) + " rows)");
  }
  const int32_t row = used_++;
  if (log_) log_->push_back({RowMove::Kind::Append, row, -1, neuron, -1});
  touched_rows_ = std::max(touched_rows_, used_);
  row_to_neuron_[static_cast<size_t>(row)] = neuron;
  neuron_to_row_[static_cast<size_t>(neuron)] = row;
  return row_data(row);
}

uint8_t* NeuronCache::replace(int32_t old_neuron, int32_t new_neuron) {
  check_neuron(old_neuron, "replace");
  check_neuron(new_neuron, "replace");
  const int32_t row = neuron_to_row_[static_cast<size_t>(old_neuron)];
  if (row < 0) fail(kSource, "replace: neuron " + std::to_string(old_neuron) + " is not cached");
  if (neuron_to_row_[static_cast<size_t>(new_neuron)] >= 0) {
    fail(kSource, "replace: neuron " + std::to_string(new_neuron) + " is already cached");
  }
  if (log_) log_->push_back({RowMove::Kind::Replace, row, -1, new_neuron, old_neuron});
  neuron_to_row_[static_cast<size_t>(old_neuron)] = -1;
  neuron_to_row_[static_cast<size_t>(new_neuron)] = row;
  row_to_neuron_[static_cast<size_t>(row)] = new_neuron;
  return row_data(row);
}

void NeuronCache::remove(int32_t neuron) {
  check_neuron(neuron, "remove");
  const int32_t row = neuron_to_row_[static_cast<size_t>(neuron)];
  if (row < 0) fail(kSource, "remove: neuron " + std::to_string(neuron) + " is not cached");
  const int32_t last = used_ - 1;
  if (row != last) {
    const int32_t moved = row_to_neuron_[static_cast<size_t>(last)];
    if (data_ != nullptr) {
      std::memcpy(data_ + int64_t{row} * bundle_bytes_, data_ + int64_t{last} * bundle_bytes_,
                  static_cast<size_t>(bundle_bytes_));
    }
    row_to_neuron_[static_cast<size_t>(row)] = moved;
    neuron_to_row_[static_cast<size_t>(moved)] = row;
    ++rows_copied_;
    if (log_) log_->push_back({RowMove::Kind::Move, row, last, moved, neuron});
  } else if (log_) {
    log_->push_back({RowMove::Kind::Drop, row, -1, -1, neuron});
  }
  row_to_neuron_[static_cast<size_t>(last)] = -1;
  neuron_to_row_[static_cast<size_t>(neuron)] = -1;
  --used_;
}

void NeuronCache::remove_many(std::span<const int32_t> neurons) {
  size_t marked = 0;
  auto unmark = [&] {
    for (size_t j = 0; j < marked; ++j) removing_[static_cast<size_t>(neurons[j])] = 0;
  };
  for (; marked < neurons.size(); ++marked) {
    const int32_t n = neurons[marked];
    if (n < 0 || n >= n_neurons_ || neuron_to_row_[static_cast<size_t>(n)] < 0 ||
        removing_[static_cast<size_t>(n)] != 0) {
      unmark();
      check_neuron(n, "remove_many");
      fail(kSource, "remove_many: neuron " + std::to_string(n) +
                        (neuron_to_row_[static_cast<size_t>(n)] < 0 ? " is not cached"
                                                                    : " is listed twice"));
    }
    removing_[static_cast<size_t>(n)] = 1;
  }
  for (const int32_t n : neurons) {
    if (removing_[static_cast<size_t>(n)] == 0) continue;  // already dropped from the tail
    // Drop tail rows that are themselves being removed: no copy needed for them.
    while (used_ > 0) {
      const int32_t tail = row_to_neuron_[static_cast<size_t>(used_ - 1)];
      if (tail == n || removing_[static_cast<size_t>(tail)] == 0) break;
      removing_[static_cast<size_t>(tail)] = 0;
      remove(tail);
    }
    removing_[static_cast<size_t>(n)] = 0;
    remove(n);
  }
}

void NeuronCache::clear() {
  for (int32_t r = used_ - 1; r >= 0; --r) {  // last row first: each a drop of the last row
    if (log_) log_->push_back({RowMove::Kind::Drop, r, -1, -1, row_to_neuron_[static_cast<size_t>(r)]});
    neuron_to_row_[static_cast<size_t>(row_to_neuron_[static_cast<size_t>(r)])] = -1;
    row_to_neuron_[static_cast<size_t>(r)] = -1;
  }
  used_ = 0;
}

std::vector<int32_t> NeuronCache::set_capacity(int32_t rows) {
  if (rows < 0 || rows > max_capacity_) {
    fail(kSource, "set_capacity: " + std::to_string(rows) + " rows outside [0, " +
                      std::to_string(max_capacity_) + "] preallocated");
  }
  std::vector<int32_t> dropped;
  while (used_ > rows) {
    const int32_t last = used_ - 1;
    const int32_t n = row_to_neuron_[static_cast<size_t>(last)];
    dropped.push_back(n);
    if (log_) log_->push_back({RowMove::Kind::Drop, last, -1, -1, n});
    neuron_to_row_[static_cast<size_t>(n)] = -1;
    row_to_neuron_[static_cast<size_t>(last)] = -1;
    --used_;
  }
  capacity_ = rows;
  touched_rows_ = std::min(touched_rows_, rows);
  return dropped;
}

}  // namespace flashchat
