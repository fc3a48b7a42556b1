// flash_ffn_batch.cc - FlashFfn's FFN for a block of prompt tokens (FlashFfn::ffn_forward_batch).
//
// flash: every token of the block gets its predicted set (predictor or oracle, as per token);
// the union is what the block needs from this layer. Bundles of the union already in the
// neuron cache are used where they are; the rest are read ONCE for the whole block, streamed
// through the I/O buffer chunk by chunk. The sets live in a pool of kBatchIdsPerNeuron x
// neurons ids (budget.h); a block whose sets overflow it runs as consecutive sub-blocks. Each token then multiplies only its own set's rows
// (bundle_ffn_compute_selected), so its output is the FFN restricted to its predicted neurons,
// summed in ascending neuron order within the cached and the streamed part.
// naive: the whole layer is streamed once for the block (instead of once per token) and every
// token multiplies every row.
// The window and the cache are left as they are (the prompt's sets do not enter the window; the
// first generated token loads its own): the block's I/O is a pure stream.
// dram / mmap: every token multiplies every row.
// All modes multiply through bundle_ffn_compute_tokens: each bundle is read from memory once per
// group of tokens, not once per token.
#include <algorithm>
#include <string>

#include "core/error.h"
#include "runtime/bundle_ffn.h"
#include "runtime/flash_ffn.h"

namespace flashchat {

int64_t FlashFfn::batch_state_bytes() const {
  return static_cast<int64_t>(
      (batch_ids_.capacity() + batch_rows_.capacity() + batch_union_.capacity() +
       batch_missing_.capacity()) * sizeof(int32_t) +
      batch_mark_.capacity() +
      (batch_sets_.capacity() + batch_lists_.capacity()) * sizeof(std::span<const int32_t>));
}

// x (n, dim) -> out (n, dim)
void FlashFfn::ffn_forward_batch(int layer, const float* x, int n, float* out) {
  if (n <= 1 || layout_.gate_resident) {  // the gate mode runs token by token
    FfnBackend::ffn_forward_batch(layer, x, n, out);
    return;
  }
  if (layer < 0 || layer >= layout_.n_layers) {
    fail("flash ffn", "ffn_forward_batch: layer " + std::to_string(layer) + " out of range");
  }
  LayerTelemetry& tel = layer_tel(layer);
  const int64_t dim = layout_.dim;
  std::fill(out, out + n * dim, 0.0f);
  const float* fc1_bias = up_bias(layer);
  const NeuronCache* cache = layer_cache(layer);
  if (static_cast<int>(batch_lists_.size()) < n) batch_lists_.resize(static_cast<size_t>(n));
  if (static_cast<int>(batch_sets_.size()) < n) batch_sets_.resize(static_cast<size_t>(n));

  switch (options_.mode) {
    case FfnMode::Dram:  // every bundle cached: all rows for every token
      bundle_ffn_compute_tokens(layout_, cfg_, cache->data(), cache->used_rows(),
                                cache->row_to_neuron().data(), nullptr, n, fc1_bias, x, out,
                                aux(layer));
      tel.neurons_predicted = layout_.neurons;
      break;
    case FfnMode::Mmap:
      bundle_ffn_compute_tokens(layout_, cfg_, map_->data() + layout_.bundle_offset(layer, 0),
                                layout_.neurons, identity_ids_.data(), nullptr, n, fc1_bias, x,
                                out, aux(layer));
      tel.neurons_predicted = layout_.neurons;
      break;
    case FfnMode::Naive:  // the whole layer streamed once for the block
      batch_union_ = identity_ids_;
      stream_block(layer, n, x, out, true);
      tel.neurons_predicted = layout_.neurons;
      tel.neurons_streamed = layout_.neurons;
      break;
    case FfnMode::Flash: {
      // Each token's set (ascending) into the pool; when the next set would overflow it, the
      // tokens so far run as a sub-block (the FFN is per token: only the I/O is shared less).
      const size_t pool = static_cast<size_t>(std::clamp(options_.batch_ids_per_neuron, 1,
                                                         kBatchIdsPerNeuron)) *
                          static_cast<size_t>(layout_.neurons);
      if (batch_ids_.size() != pool) {
        batch_ids_.assign(pool, 0);
        batch_rows_.assign(pool, 0);
        batch_mark_.assign(static_cast<size_t>(layout_.neurons), 0);
        batch_union_.reserve(static_cast<size_t>(layout_.neurons));
        batch_missing_.reserve(static_cast<size_t>(layout_.neurons));
      }
      if (record_active_) recorded_[static_cast<size_t>(layer)].clear();
      int32_t true_active = 0, true_positive = 0, predicted = 0, streamed = 0;
      int t0 = 0;
      size_t used = 0;
      for (int t = 0; t < n; ++t) {
        select_active(layer, x + t * dim);  // -> active_ (ascending), timing and evaluation
        true_active += tel.true_active;
        true_positive += tel.true_positive;
        if (used + active_.size() > pool) {
          flash_block(layer, t0, t, x, out, predicted, streamed);
          t0 = t;
          used = 0;
        }
        std::copy(active_.begin(), active_.end(), batch_ids_.begin() + static_cast<ptrdiff_t>(used));
        batch_sets_[static_cast<size_t>(t - t0)] = {batch_ids_.data() + used, active_.size()};
        used += active_.size();
      }
      flash_block(layer, t0, n, x, out, predicted, streamed);
      if (record_active_) {
        std::vector<int32_t>& rec = recorded_[static_cast<size_t>(layer)];
        std::sort(rec.begin(), rec.end());
        rec.erase(std::unique(rec.begin(), rec.end()), rec.end());
        recorded_block_ = true;
      }
      tel.neurons_predicted = predicted;  // the sub-blocks' unions
      tel.neurons_streamed = streamed;
      if (options_.evaluate_predictor) {
        tel.true_active = true_active;
        tel.true_positive = true_positive;
      }
      break;
    }
  }
  const LayerWeights& w = fm_.model->weights.layers[static_cast<size_t>(layer)];
  if (!w.ffn_down_bias.empty()) {
    const float* b = w.ffn_down_bias.f32();
    for (int t = 0; t < n; ++t) {
      for (int64_t i = 0; i < dim; ++i) out[t * dim + i] += b[i];
    }
  }
  if (cache != nullptr) {
    tel.cache_rows_used = cache->used_rows();
    tel.cache_capacity = cache->capacity();
  }
}

// Tokens [t0, t1) of the block, their sets in batch_sets_[0, t1 - t0): the union's cached
// bundles are used where they are (each token over its own rows, ascending), the rest read once
// for the sub-block. predicted += the union's size, streamed += the bundles read.
void FlashFfn::flash_block(int layer, int t0, int t1, const float* x, float* out,
                           int32_t& predicted, int32_t& streamed) {
  const int m = t1 - t0;
  if (m <= 0) return;
  const int64_t dim = layout_.dim;
  const float* xb = x + t0 * dim;
  float* ob = out + t0 * dim;
  const NeuronCache* cache = layer_cache(layer);
  // 1. The union, ascending (a mark per neuron, cleared as it is collected).
  batch_union_.clear();
  for (int t = 0; t < m; ++t) {
    for (const int32_t id : batch_sets_[static_cast<size_t>(t)]) batch_mark_[static_cast<size_t>(id)] = 1;
  }
  for (int32_t id = 0; id < layout_.neurons; ++id) {
    if (batch_mark_[static_cast<size_t>(id)] == 0) continue;
    batch_mark_[static_cast<size_t>(id)] = 0;
    batch_union_.push_back(id);
  }
  // 2. The union's cached bundles, where they are: each token over its own rows (ascending).
  batch_missing_.clear();
  for (const int32_t id : batch_union_) {
    if (!cache->contains(id)) batch_missing_.push_back(id);
  }
  if (batch_missing_.size() < batch_union_.size()) {
    for (int t = 0; t < m; ++t) {
      const std::span<const int32_t> set = batch_sets_[static_cast<size_t>(t)];
      int32_t* rows = batch_rows_.data() + (set.data() - batch_ids_.data());
      size_t count = 0;
      for (const int32_t id : set) {
        const int32_t row = cache->neuron_to_row()[static_cast<size_t>(id)];
        if (row >= 0) rows[count++] = row;
      }
      std::sort(rows, rows + count);
      batch_lists_[static_cast<size_t>(t)] = {rows, count};
    }
    bundle_ffn_compute_tokens(layout_, cfg_, cache->data(), cache->used_rows(),
                              cache->row_to_neuron().data(), batch_lists_.data(), m,
                              up_bias(layer), xb, ob, aux(layer));
  }
  // 3. The rest, read once for the sub-block.
  batch_union_.swap(batch_missing_);
  if (record_active_) {
    std::vector<int32_t>& rec = recorded_[static_cast<size_t>(layer)];
    rec.insert(rec.end(), batch_missing_.begin(), batch_missing_.end());
  }
  stream_block(layer, m, xb, ob, false);
  predicted += static_cast<int32_t>(batch_missing_.size());
  streamed += static_cast<int32_t>(batch_union_.size());
}

// Reads the bundles of batch_union_ (ascending) through the I/O buffer chunk by chunk, once, and
// accumulates into out (n, dim): every token over all of a chunk (all_rows: naive) or over the
// chunk's neurons in its set (batch_sets_[t]).
void FlashFfn::stream_block(int layer, int n, const float* x, float* out, bool all_rows) {
  const int32_t total = static_cast<int32_t>(batch_union_.size());
  std::vector<size_t> cursor(static_cast<size_t>(n), 0);
  for (int32_t start = 0; start < total; start += io_buffer_rows_) {
    const int32_t count = std::min(io_buffer_rows_, total - start);
    const int32_t* ids = batch_union_.data() + start;
    dsts_.clear();
    for (int32_t i = 0; i < count; ++i) {
      dsts_.push_back(io_buffer_.get() + int64_t{i} * layout_.bundle_bytes);
    }
    read_bundles(layer, ids, count, dsts_);
    if (!all_rows) {
      // token t: the chunk positions of its set's neurons (a merge of two ascending lists)
      for (int t = 0; t < n; ++t) {
        const std::span<const int32_t> set = batch_sets_[static_cast<size_t>(t)];
        int32_t* rows = batch_rows_.data() + (set.data() - batch_ids_.data());
        size_t& c = cursor[static_cast<size_t>(t)];
        size_t k = 0;
        for (int32_t i = 0; i < count; ++i) {
          while (c < set.size() && set[c] < ids[i]) ++c;
          if (c < set.size() && set[c] == ids[i]) rows[k++] = i;
        }
        batch_lists_[static_cast<size_t>(t)] = {rows, k};
      }
    }
    bundle_ffn_compute_tokens(layout_, cfg_, io_buffer_.get(), count, ids,
                              all_rows ? nullptr : batch_lists_.data(), n, up_bias(layer), x, out,
                              aux(layer));
  }
}

}  // namespace flashchat
