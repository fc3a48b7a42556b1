// teaching_run.h - what the teaching view shows of a run: per token the real telemetry, the
// active sets and the state of every cached neuron, plus what-if replays of the same sets.
//
// The neuron states come from the engine's own cache policy (CacheSimulator) fed with the run's
// active sets at the run's window and budget, from an empty cache when the view started
// recording; for a run recorded from a fresh start they are the real cache's states.
#pragma once

#include <QList>
#include <QString>
#include <map>
#include <memory>
#include <vector>

#include "common/active_sets_metatype.h"
#include "runtime/cache_simulator.h"
#include "runtime/telemetry.h"

namespace flashchat::ui {

// After a token: Loaded = read into the cache by it; Evicted = held before it, not after;
// Streamed = active but read through the I/O buffer (no room); Resident = held before and after.
// With predictor evaluation (the token carries an ActiveEvaluation) two states replace those:
// PredictedInactive = predicted but not truly active; Missed = truly active, not predicted.
enum class CellState : uint8_t { Empty, Resident, Loaded, Evicted, Streamed, PredictedInactive, Missed };
inline constexpr int kCellStateCount = 7;

// One token's neuron churn summed over its layers.
struct TokenChurn {
  int64_t predicted = 0, added = 0, removed = 0, streamed = 0;
};
TokenChurn token_churn(const TokenTelemetry& t);

struct TeachingToken {
  qint64 index = -1;            // TokenTelemetry::index
  bool has_real = false;
  TokenTelemetry real;          // as the engine measured it
  TokenTelemetry replica;       // the policy's replay at the run's settings
  ActiveTraceToken sets;
  std::vector<std::vector<CellState>> state;  // [layer][neuron] after this token
  // Per layer: neurons a rebalance evicted at the token's start and the token loaded again
  // (counted as removed and added; shown as loaded).
  std::vector<int32_t> reloaded;
  // Per layer, the rows the cache's memory management moved during this token (teaching_run's
  // replica of the engine's planner; empty for recordings without the move log).
  std::vector<std::vector<RowMove>> moves;
};

class TeachingRun {
 public:
  void clear();
  // The engine's telemetry and active sets of one forward pass (any order; paired by index).
  void addTelemetry(const TokenTelemetry& t);
  // Throws flashchat::Error when the sample's layout differs from the run's.
  void addSample(const ActiveSetsSample& s);

  int size() const { return static_cast<int>(tokens_.size()); }
  const TeachingToken& at(int i) const { return tokens_[static_cast<size_t>(i)]; }
  const ActiveTraceHeader* header() const { return header_.get(); }
  ActiveTrace trace() const;
  // The last token before or at `token` whose active set held `neuron` of `layer` (-1: none).
  int lastUsed(int token, int layer, int neuron) const;
  // The recorded sets replayed at another window / budget; throws Error on a budget below the
  // minimum.
  std::vector<TokenTelemetry> whatIf(int window, qint64 budget_bytes) const;
  // Tokens whose evaluation keeps its per-neuron scores and activations (older ones keep only
  // the truly active sets): bounds the view's memory to a few MB.
  static constexpr int kEvalValuesKept = 256;

 private:
  std::shared_ptr<const ActiveTraceHeader> header_;
  std::unique_ptr<CacheSimulator> replica_;
  std::vector<TeachingToken> tokens_;
  std::map<qint64, TokenTelemetry> pending_real_;  // telemetry whose sets have not come yet
};

}  // namespace flashchat::ui
