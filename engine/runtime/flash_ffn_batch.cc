// flash_ffn_batch.cc - FlashFfn's FFN for a block of prompt tokens (FlashFfn::ffn_forward_batch).
//
// flash: every token of the block gets its predicted set (predictor or oracle, as per token);
// the union is what the block needs from this layer. Bundles of the union already in the
// neuron cache are used where they are; the rest are read ONCE for the whole block, streamed
// through the I/O buffer chunk by chunk. Each token then multiplies only its own set's rows
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
  int64_t bytes = static_cast<int64_t>(
      (batch_union_.capacity() + batch_missing_.capacity()) * sizeof(int32_t) +
      (batch_sets_.capacity() + batch_lists_.capacity()) * sizeof(std::vector<int32_t>));
  for (const auto* lists : {&batch_sets_, &batch_lists_}) {
    for (const auto& s : *lists) bytes += static_cast<int64_t>(s.capacity() * sizeof(int32_t));
  }
  return bytes;
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
      // 1. Each token's set (ascending) and their union.
      int32_t true_active = 0, true_positive = 0;
      batch_union_.clear();
      for (int t = 0; t < n; ++t) {
        select_active(layer, x + t * dim);  // -> active_ (ascending), timing and evaluation
        true_active += tel.true_active;
        true_positive += tel.true_positive;
        std::vector<int32_t>& set = batch_sets_[static_cast<size_t>(t)];
        set.assign(active_.begin(), active_.end());
        batch_union_.insert(batch_union_.end(), set.begin(), set.end());
      }
      std::sort(batch_union_.begin(), batch_union_.end());
      batch_union_.erase(std::unique(batch_union_.begin(), batch_union_.end()),
                         batch_union_.end());
      // 2. The union's cached bundles, where they are: each token over its own rows (ascending).
      batch_missing_.clear();
      for (int32_t id : batch_union_) {
        if (!cache->contains(id)) batch_missing_.push_back(id);
      }
      if (batch_missing_.size() < batch_union_.size()) {
        for (int t = 0; t < n; ++t) {
          std::vector<int32_t>& rows = batch_lists_[static_cast<size_t>(t)];
          rows.clear();
          for (int32_t id : batch_sets_[static_cast<size_t>(t)]) {
            const int32_t row = cache->neuron_to_row()[static_cast<size_t>(id)];
            if (row >= 0) rows.push_back(row);
          }
          std::sort(rows.begin(), rows.end());
        }
        bundle_ffn_compute_tokens(layout_, cfg_, cache->data(), cache->used_rows(),
                                  cache->row_to_neuron().data(), batch_lists_.data(), n, fc1_bias,
                                  x, out, aux(layer));
      }
      // 3. The rest, read once for the block.
      batch_union_.swap(batch_missing_);
      if (record_active_) {
        recorded_[static_cast<size_t>(layer)].assign(batch_missing_.begin(), batch_missing_.end());
        recorded_block_ = true;
      }
      stream_block(layer, n, x, out, false);
      tel.neurons_predicted = static_cast<int32_t>(batch_missing_.size());  // the whole union
      tel.neurons_streamed = static_cast<int32_t>(batch_union_.size());
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
        const std::vector<int32_t>& set = batch_sets_[static_cast<size_t>(t)];
        std::vector<int32_t>& rows = batch_lists_[static_cast<size_t>(t)];
        size_t& c = cursor[static_cast<size_t>(t)];
        rows.clear();
        for (int32_t i = 0; i < count; ++i) {
          while (c < set.size() && set[c] < ids[i]) ++c;
          if (c < set.size() && set[c] == ids[i]) rows.push_back(i);
        }
      }
    }
    bundle_ffn_compute_tokens(layout_, cfg_, io_buffer_.get(), count, ids,
                              all_rows ? nullptr : batch_lists_.data(), n, up_bias(layer), x, out,
                              aux(layer));
  }
}

}  // namespace flashchat
