// teaching_run.cc - recording a run for the teaching view and replaying it.
#include "teaching/teaching_run.h"

#include <algorithm>

#include "core/error.h"

namespace flashchat::ui {

TokenChurn token_churn(const TokenTelemetry& t) {
  TokenChurn c;
  for (const LayerTelemetry& l : t.layers) {
    c.predicted += l.neurons_predicted;
    c.added += l.neurons_added;
    c.removed += l.neurons_removed;
    c.streamed += l.neurons_streamed;
  }
  return c;
}

void TeachingRun::clear() {
  header_.reset();
  replica_.reset();
  tokens_.clear();
  pending_real_.clear();
}

void TeachingRun::addTelemetry(const TokenTelemetry& t) {
  for (auto it = tokens_.rbegin(); it != tokens_.rend(); ++it) {
    if (it->index == t.index) {
      it->real = t;
      it->has_real = true;
      return;
    }
    if (it->index < t.index) break;
  }
  pending_real_[t.index] = t;
  while (pending_real_.size() > 64) pending_real_.erase(pending_real_.begin());
}

void TeachingRun::addSample(const ActiveSetsSample& s) {
  if (!s.header) return;
  if (!header_ || header_->layout.layer_offsets != s.header->layout.layer_offsets ||
      header_->model != s.header->model) {
    auto keep = std::move(pending_real_);  // this run's telemetry may have come first
    clear();
    pending_real_ = std::move(keep);
    header_ = s.header;
  }
  const FlashLayout& l = header_->layout;
  if (!replica_ || replica_->planner().window() != s.token.window ||
      replica_->planner().budget_bytes() != s.token.budget_bytes) {
    // A new run or new settings: the policy continues from an empty cache at the new settings.
    ActiveTraceHeader h = *header_;
    h.open_fixed_bytes = s.token.fixed_bytes;
    replica_ = std::make_unique<CacheSimulator>(h, CacheSimOptions{s.token.window,
                                                                    s.token.budget_bytes});
    replica_->set_move_log(true);  // the view's own replica: the engine logs nothing
  }
  replica_->moves_clear();
  // Rows the grown KV cache took go before the token (uncounted, as in the engine's telemetry).
  replica_->fixed_bytes_set(s.token.fixed_bytes);
  std::vector<std::vector<uint8_t>> before(static_cast<size_t>(l.n_layers));
  for (int layer = 0; layer < l.n_layers; ++layer) {
    const auto& row_of = replica_->planner().cache(layer).neuron_to_row();
    before[static_cast<size_t>(layer)].resize(row_of.size());
    for (size_t n = 0; n < row_of.size(); ++n) before[static_cast<size_t>(layer)][n] = row_of[n] >= 0;
  }
  TeachingToken t;
  t.index = s.index;
  t.sets = s.token;
  t.replica = s.token.block ? replica_->step_block(s.token.fixed_bytes, s.token.active)
                            : replica_->step(s.token.fixed_bytes, s.token.active);
  t.state.resize(static_cast<size_t>(l.n_layers));
  t.reloaded.assign(static_cast<size_t>(l.n_layers), 0);
  for (int layer = 0; layer < l.n_layers; ++layer) {
    const auto& row_of = replica_->planner().cache(layer).neuron_to_row();
    auto& st = t.state[static_cast<size_t>(layer)];
    st.assign(row_of.size(), CellState::Empty);
    for (size_t n = 0; n < row_of.size(); ++n) {
      const bool was = before[static_cast<size_t>(layer)][n] != 0, is = row_of[n] >= 0;
      st[n] = is ? (was ? CellState::Resident : CellState::Loaded)
                 : (was ? CellState::Evicted : CellState::Empty);
    }
    // Loaded this token, also those evicted earlier in it (a rebalance) and loaded again.
    for (const int32_t n : replica_->last_added()[static_cast<size_t>(layer)]) {
      t.reloaded[static_cast<size_t>(layer)] += st[static_cast<size_t>(n)] == CellState::Resident;
      st[static_cast<size_t>(n)] = CellState::Loaded;
    }
    for (const int32_t n : s.token.active[static_cast<size_t>(layer)]) {
      if (row_of[static_cast<size_t>(n)] < 0) st[static_cast<size_t>(n)] = CellState::Streamed;
    }
    if (s.token.evaluation && !s.token.block) {
      // Predicted but not truly active, and truly active but not predicted (both ascending).
      const auto& pred = s.token.active[static_cast<size_t>(layer)];
      const auto& truly = s.token.evaluation->truly_active[static_cast<size_t>(layer)];
      for (const int32_t n : pred) {
        if (!std::binary_search(truly.begin(), truly.end(), n)) {
          st[static_cast<size_t>(n)] = CellState::PredictedInactive;
        }
      }
      for (const int32_t n : truly) {
        if (!std::binary_search(pred.begin(), pred.end(), n)) st[static_cast<size_t>(n)] = CellState::Missed;
      }
    }
  }
  t.moves = replica_->moves();
  const auto it = pending_real_.find(s.index);
  if (it != pending_real_.end()) {
    t.real = it->second;
    t.has_real = true;
    pending_real_.erase(it);
  }
  tokens_.push_back(std::move(t));
  // Older tokens keep only their truly active sets (the map's colours), not the values.
  const int old = size() - 1 - kEvalValuesKept;
  if (old >= 0) {
    auto& e = tokens_[static_cast<size_t>(old)].sets.evaluation;
    if (e && !e->score.empty()) {
      auto slim = std::make_shared<ActiveEvaluation>();
      slim->truly_active = e->truly_active;
      e = std::move(slim);
    }
  }
}

ActiveTrace TeachingRun::trace() const {
  ActiveTrace tr;
  if (!header_) return tr;
  tr.header = *header_;
  tr.header.fresh = false;
  if (!tokens_.empty()) tr.header.open_fixed_bytes = tokens_.front().sets.fixed_bytes;
  for (const TeachingToken& t : tokens_) tr.tokens.push_back(t.sets);
  return tr;
}

int TeachingRun::lastUsed(int token, int layer, int neuron) const {
  for (int i = std::min(token, size() - 1); i >= 0; --i) {
    const auto& set = tokens_[static_cast<size_t>(i)].sets.active[static_cast<size_t>(layer)];
    if (std::binary_search(set.begin(), set.end(), neuron)) return i;
  }
  return -1;
}

std::vector<TokenTelemetry> TeachingRun::whatIf(int window, qint64 budget_bytes) const {
  if (!header_) return {};
  return cache_simulate(trace(), {window, budget_bytes});
}

}  // namespace flashchat::ui
