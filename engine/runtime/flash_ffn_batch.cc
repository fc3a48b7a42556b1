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
// dram / mmap: no I/O to share, the token-by-token default.
#include <algorithm>
#include <string>

#include "core/error.h"
#include "runtime/bundle_ffn.h"
#include "runtime/flash_ffn.h"

namespace flashchat {

int64_t FlashFfn::batch_state_bytes() const {
  int64_t bytes = static_cast<int64_t>((batch_union_.capacity() + batch_missing_.capacity() +
                                        batch_rows_.capacity()) * sizeof(int32_t) +
                                       batch_sets_.capacity() * sizeof(std::vector<int32_t>));
  for (const auto& s : batch_sets_) bytes += static_cast<int64_t>(s.capacity() * sizeof(int32_t));
  return bytes;
}

// x (n, dim) -> out (n, dim)
void FlashFfn::ffn_forward_batch(int layer, const float* x, int n, float* out) {
  const bool shared_io = options_.mode == FfnMode::Flash || options_.mode == FfnMode::Naive;
  if (n <= 1 || !shared_io) {
    FfnBackend::ffn_forward_batch(layer, x, n, out);
    return;
  }
  if (layer < 0 || layer >= layout_.n_layers) {
    fail("flash ffn", "ffn_forward_batch: layer " + std::to_string(layer) + " out of range");
  }
  Layer& L = *layers_[static_cast<size_t>(layer)];
  LayerTelemetry& tel = layer_tel(layer);
  const int64_t dim = layout_.dim;
  std::fill(out, out + n * dim, 0.0f);
  const float* fc1_bias = up_bias(layer);
  const bool naive = options_.mode == FfnMode::Naive;

  // 1. Each token's set (ascending) and their union.
  if (static_cast<int>(batch_sets_.size()) < n) batch_sets_.resize(static_cast<size_t>(n));
  int32_t true_active = 0, true_positive = 0;
  if (naive) {
    batch_union_ = identity_ids_;
  } else {
    batch_union_.clear();
    for (int t = 0; t < n; ++t) {
      select_active(layer, x + t * dim, L);  // -> active_ (ascending), timing and evaluation
      true_active += tel.true_active;
      true_positive += tel.true_positive;
      std::vector<int32_t>& set = batch_sets_[static_cast<size_t>(t)];
      set.assign(active_.begin(), active_.end());
      batch_union_.insert(batch_union_.end(), set.begin(), set.end());
    }
    std::sort(batch_union_.begin(), batch_union_.end());
    batch_union_.erase(std::unique(batch_union_.begin(), batch_union_.end()), batch_union_.end());
  }
  const auto set_of = [&](int t) -> const std::vector<int32_t>& {
    return naive ? identity_ids_ : batch_sets_[static_cast<size_t>(t)];
  };

  // 2. The union's cached bundles: every token multiplies its own rows among them.
  batch_missing_.clear();
  const NeuronCache* cache = layer_cache(layer);
  for (int32_t id : batch_union_) {
    if (cache == nullptr || !cache->contains(id)) batch_missing_.push_back(id);
  }
  if (cache != nullptr && batch_missing_.size() < batch_union_.size()) {
    for (int t = 0; t < n; ++t) {
      batch_rows_.clear();
      for (int32_t id : set_of(t)) {
        const int32_t row = cache->neuron_to_row()[static_cast<size_t>(id)];
        if (row >= 0) batch_rows_.push_back(row);
      }
      bundle_ffn_compute_selected(layout_, cfg_, cache->row_data(0), cache->used_rows(),
                                  cache->row_to_neuron().data(), batch_rows_.data(),
                                  static_cast<int32_t>(batch_rows_.size()), fc1_bias, x + t * dim,
                                  out + t * dim);
    }
  }

  // 3. The missing bundles, read once for the block through the I/O buffer, chunk by chunk; each
  // token multiplies the rows of the chunk that are in its set (a merge of two ascending lists).
  std::vector<size_t> cursor(static_cast<size_t>(n), 0);
  const int32_t n_missing = static_cast<int32_t>(batch_missing_.size());
  for (int32_t start = 0; start < n_missing; start += io_buffer_rows_) {
    const int32_t count = std::min(io_buffer_rows_, n_missing - start);
    const int32_t* ids = batch_missing_.data() + start;
    dsts_.clear();
    for (int32_t i = 0; i < count; ++i) {
      dsts_.push_back(io_buffer_.get() + int64_t{i} * layout_.bundle_bytes);
    }
    read_bundles(layer, ids, count, dsts_);
    for (int t = 0; t < n; ++t) {
      const std::vector<int32_t>& set = set_of(t);
      size_t& c = cursor[static_cast<size_t>(t)];
      batch_rows_.clear();
      for (int32_t i = 0; i < count; ++i) {
        while (c < set.size() && set[c] < ids[i]) ++c;
        if (c < set.size() && set[c] == ids[i]) batch_rows_.push_back(i);
      }
      bundle_ffn_compute_selected(layout_, cfg_, io_buffer_.get(), count, ids, batch_rows_.data(),
                                  static_cast<int32_t>(batch_rows_.size()), fc1_bias, x + t * dim,
                                  out + t * dim);
    }
  }

  const LayerWeights& w = fm_.model->weights.layers[static_cast<size_t>(layer)];
  if (!w.ffn_down_bias.empty()) {
    const float* b = w.ffn_down_bias.f32();
    for (int t = 0; t < n; ++t) {
      for (int64_t i = 0; i < dim; ++i) out[t * dim + i] += b[i];
    }
  }
  // The block's telemetry: what it needed and read, once.
  tel.neurons_predicted = static_cast<int32_t>(batch_union_.size());
  tel.neurons_streamed = n_missing;
  if (options_.evaluate_predictor && !naive) {
    tel.true_active = true_active;
    tel.true_positive = true_positive;
  }
  if (cache != nullptr) {
    tel.cache_rows_used = cache->used_rows();
    tel.cache_capacity = cache->capacity();
  }
}

}  // namespace flashchat
