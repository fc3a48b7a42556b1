// neuron_cache.h - one layer's neurons held in DRAM: a preallocated matrix of bundle rows.
//
// The paper's DRAM management: one buffer of capacity x bundle_bytes allocated once (4 KiB
// aligned; row stride = bundle_bytes, so with bundle_bytes a multiple of 4096 every row is page
// aligned and direct reads land in place), row_to_neuron, neuron_to_row (-1 = absent) and a
// count of used rows. The used rows [0, used_rows()) are contiguous: they are the sparse
// gate/up/down matrices the FFN multiplies, in no particular neuron order.
//   remove: copy the last used row over the removed row, fix both maps, --used.
//   append: hand out row `used` for a new neuron (the caller fills it, usually from flash).
//   replace: hand an evicted neuron's row to a new one (no copy; what eviction under a full
//            cache uses, so making room costs no memcpy).
// Nothing is reallocated or moved after construction apart from those last-row copies.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace flashchat {

// One row operation of the memory management, as a view animates it (NeuronCache's move log).
//   Append:  `neuron` takes the next free row `row` (the caller fills it from flash).
//   Replace: `old_neuron`'s row `row` is handed to `neuron` (eviction without a copy).
//   Move:    `old_neuron` in row `row` is deleted and the last used row `from` (holding
//            `neuron`) is copied over it: swap with last.
//   Drop:    `old_neuron` in the last used row `row` is deleted (nothing to copy), also a
//            shrink or a clear.
struct RowMove {
  enum class Kind : uint8_t { Append, Replace, Move, Drop };
  Kind kind = Kind::Append;
  int32_t row = -1;
  int32_t from = -1;
  int32_t neuron = -1;
  int32_t old_neuron = -1;
};

class NeuronCache {
 public:
  // n_neurons: neurons in the layer (ids 0..n-1). bundle_bytes: bytes per row (> 0).
  // capacity_rows: rows preallocated, in [0, n_neurons]; also the largest capacity set_capacity
  // accepts. hold_rows = false keeps the maps only (row_data() is then nullptr, nothing is
  // copied): bookkeeping for a simulation. Throws Error on invalid sizes or when the
  // allocation fails.
  NeuronCache(int32_t n_neurons, int64_t bundle_bytes, int32_t capacity_rows,
              bool hold_rows = true);
  ~NeuronCache();
  NeuronCache(const NeuronCache&) = delete;
  NeuronCache& operator=(const NeuronCache&) = delete;

  int32_t n_neurons() const { return n_neurons_; }
  int64_t bundle_bytes() const { return bundle_bytes_; }
  int32_t used_rows() const { return used_; }
  // Bytes of the rows ever written since construction, less those given back by set_capacity
  // (the pages beyond the capacity are returned to the OS by the caller): what is resident (the
  // page holding the last row's end may add up to 4 KiB).
  int64_t touched_bytes() const { return int64_t{touched_rows_} * bundle_bytes_; }
  int32_t capacity() const { return capacity_; }          // rows usable now
  int32_t max_capacity() const { return max_capacity_; }  // rows preallocated
  int32_t free_rows() const { return capacity_ - used_; }
  // Bytes preallocated for rows (the neuron-cache entry of the DRAM budget).
  int64_t allocated_bytes() const { return allocated_bytes_; }
  // Bytes of the row<->neuron maps and scratch (runtime state outside the rows).
  int64_t map_bytes() const {
    return static_cast<int64_t>((row_to_neuron_.capacity() + neuron_to_row_.capacity()) *
                                    sizeof(int32_t) + removing_.capacity());
  }
  // Buffer (re)allocations after construction; always 0 (kept so tests can check it).
  int64_t reallocations() const { return reallocations_; }
  // Rows copied by remove() (each copy moves bundle_bytes); cumulative.
  int64_t rows_copied() const { return rows_copied_; }

  bool contains(int32_t neuron) const {
    return neuron >= 0 && neuron < n_neurons_ && neuron_to_row_[static_cast<size_t>(neuron)] >= 0;
  }
  // Row holding `neuron`, or -1. Throws Error when neuron is out of range.
  int32_t row_of(int32_t neuron) const;
  // Neuron held in `row` (0 <= row < used_rows()). Throws Error otherwise.
  int32_t neuron_at(int32_t row) const;

  // row_to_neuron()[r] for r < used_rows() is the neuron in row r; entries beyond are -1.
  const std::vector<int32_t>& row_to_neuron() const { return row_to_neuron_; }
  // neuron_to_row()[i] is neuron i's row or -1.
  const std::vector<int32_t>& neuron_to_row() const { return neuron_to_row_; }

  // The first byte of row `row` (0 <= row < max_capacity()); nullptr without rows held. Rows are contiguous: the used rows
  // are data()[0, used_rows() * bundle_bytes()).
  uint8_t* row_data(int32_t row);
  const uint8_t* row_data(int32_t row) const;
  const uint8_t* data() const { return data_; }

  // Reserves the next row for `neuron` and returns it for the caller to fill. Throws Error when
  // the neuron is out of range or already present, or the cache is full (used == capacity).
  uint8_t* append(int32_t neuron);
  // Hands `old_neuron`'s row to `new_neuron` and returns it for the caller to fill: an eviction
  // and an insertion without copying any row (the used rows stay contiguous). Throws Error when
  // either id is out of range, old_neuron is not cached or new_neuron already is.
  uint8_t* replace(int32_t old_neuron, int32_t new_neuron);
  // Deletes `neuron`: the last used row is copied over its row (unless it is the last row).
  // Throws Error when the neuron is out of range or absent.
  void remove(int32_t neuron);
  // Deletes several neurons (each present, no duplicates; throws Error before changing anything
  // otherwise). Same result as remove() one by one, but never copies a row that is itself about
  // to be removed.
  void remove_many(std::span<const int32_t> neurons);
  // Empties the cache (capacity unchanged).
  void clear();

  // Every later row operation is appended to *log (nullptr: off, the default; costs one test of
  // a pointer per operation). The caller owns and clears the vector.
  void set_move_log(std::vector<RowMove>* log) { log_ = log; }

  // Changes the usable rows to `rows` (0 <= rows <= max_capacity(); throws Error otherwise).
  // Shrinking below used_rows() drops the neurons in rows [rows, used) and returns them (the
  // other rows do not move). No allocation either way.
  std::vector<int32_t> set_capacity(int32_t rows);

 private:
  void check_neuron(int32_t neuron, const char* what) const;

  int32_t n_neurons_ = 0;
  int64_t bundle_bytes_ = 0;
  int32_t max_capacity_ = 0;
  int32_t capacity_ = 0;
  int32_t used_ = 0;
  int32_t touched_rows_ = 0;  // high-water mark of used_ (see touched_bytes)
  uint8_t* data_ = nullptr;
  int64_t allocated_bytes_ = 0;
  int64_t reallocations_ = 0;
  int64_t rows_copied_ = 0;
  std::vector<int32_t> row_to_neuron_;
  std::vector<int32_t> neuron_to_row_;
  std::vector<uint8_t> removing_;  // remove_many scratch, one flag per neuron
  std::vector<RowMove>* log_ = nullptr;
};

}  // namespace flashchat
