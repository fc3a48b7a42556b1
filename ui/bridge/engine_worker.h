// engine_worker.h - the bridge between the engine and the widgets: an EngineWorker QObject that
// lives on its own QThread and owns the flashchat::Session. Session callbacks become queued
// signals (text batched to <= 30 updates/s, telemetry per token, prompt progress, finished,
// error); settings and Stop go the other way through the session's thread-safe setters, called
// directly from the GUI thread so they take effect between two tokens.
#pragma once

#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QString>
#include <QThread>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "common/active_sets_metatype.h"
#include "common/telemetry_metatype.h"
#include "model/chat_template.h"
#include "runtime/flash_ffn.h"
#include "runtime/telemetry.h"
#include "session/generator.h"
#include "session/model_open.h"

namespace flashchat {
class Session;
struct SettingsChange;
}

namespace flashchat::ui {

// What the widgets need to know about the loaded model (read once on the engine thread).
struct ModelSummary {
  QString path;
  QString name;
  QString arch;
  QString activation;
  bool flash = false;            // a converted flash model (modes and budgets apply)
  bool has_chat_template = false;
  qint64 parameters = 0;
  int n_layers = 0, dim = 0, ffn_dim = 0, n_heads = 0, vocab_size = 0;
  int context_size = 0;
  qint64 model_bytes = 0;        // the whole model as stored (resident + FFN): "% of the model"
  qint64 bytes_embeddings = 0, bytes_attention = 0, bytes_ffn = 0, bytes_other = 0;
  qint64 bytes_predictors = 0, bytes_kv_cache = 0;
  qint64 minimum_bytes[4] = {0, 0, 0, 0};  // per FfnMode (Dram, Naive, Mmap, Flash)
  std::vector<PredictorInfo> predictor_metrics;  // per layer (flash models with predictors)
  // The settings in force right after loading.
  FfnMode mode = FfnMode::Dram;
  int window = 4;
  qint64 budget_bytes = 0;
  qint64 minimum_for(FfnMode m) const { return minimum_bytes[static_cast<int>(m)]; }
};

enum class EngineErrorKind { BadModel, BudgetBelowMinimum, Io, ContextFull, Setting };

// An engine failure in words a user understands, plus what the UI can offer as a way on.
struct EngineError {
  EngineErrorKind kind = EngineErrorKind::Io;
  QString message;          // plain-language sentence(s)
  QString detail;           // the engine's own text (file and problem)
  qint64 minimum_bytes = 0; // BudgetBelowMinimum: the minimum of the mode in question
  bool ended_reply = false; // the reply in progress ended with this error (no finished())
};

// The end of one reply.
struct GenerationSummary {
  StopReason reason = StopReason::MaxTokens;
  QString text;                 // all generated text
  int prompt_tokens = 0;
  int generated_tokens = 0;
  double prompt_ms = 0, generate_ms = 0, ttft_ms = 0;
  double tokens_per_second = 0;
  int tokens_after_stop = -1;   // generated after requestStop() was called (-1: no stop)
  int context_used = 0, context_size = 0;
  // Where each generated token's text ends in `text` (UTF-16 offsets; a token holding back
  // part of a character or a possible stop string ends where its text was released).
  QList<int> token_ends;
};

class EngineWorker : public QObject {
  Q_OBJECT
 public:
  explicit EngineWorker(QObject* parent = nullptr);
  ~EngineWorker() override;

  // --- Any thread (normally the GUI thread) --------------------------------------------
  // Ends the reply in progress after the token being computed (or the next queued reply
  // before it starts).
  void requestStop();
  // Forget an earlier Stop before queueing a new reply (call on the sending thread).
  void clearStop() { stop_requested_ = false; }
  // Settings, applied before the next forward pass. Return "" or the reason of refusal (also
  // emitted as error()).
  QString setWindow(int k);
  QString setBudget(qint64 bytes);
  QString setMode(FfnMode mode);
  // Engine threads for the parallel loops (<= 0: all cores); from the next token on.
  void setThreads(int threads);
  bool busy() const { return busy_; }
  // Flash models: emit activeSetsReady for every forward pass from the next reply on (the
  // teaching view asks while it is open). Off: the engine records and copies nothing.
  void setRecordActiveSets(bool on) { record_active_ = on; }
  // Flash models with predictors: compute the true active sets too (the teaching view's
  // "evaluate the predictor"), from the next token on; kept across model loads.
  void setEvaluatePredictor(bool on);
  // Step mode (the teaching view): while on, a reply pauses after every generated token until
  // stepOnce() grants exactly one more forward pass (or step mode goes off, or Stop). Granted
  // steps are counted, so each one yields one token. The engine thread waits; nothing else does.
  void setStepMode(bool on);
  void stepOnce();
  bool stepMode() const;
  // Index of the last token whose telemetry was emitted (-1 before any).
  qint64 lastTelemetryIndex() const { return last_index_; }

 public slots:
  // --- Engine thread --------------------------------------------------------------------
  void loadModel(const QString& path, flashchat::FfnMode mode, int window, qint64 budget_bytes);
  // Generates the assistant's reply to `messages` (system first if any; the last is a user
  // turn).
  void runChat(const std::vector<flashchat::ChatMessage>& messages,
               const flashchat::GenerateOptions& options);
  // Measures (or reads from `cache_file`) the device's random-read MB/s for the loaded flash
  // model with the engine's own read probe; emits readLimitMeasured or error.
  void measureReadLimit(const QString& cache_file, bool remeasure);

 signals:
  void modelLoading(const QString& path);
  void modelLoaded(const flashchat::ui::ModelSummary& summary);
  void generationStarted();
  void promptProgress(int done, int total);
  void textReady(const QString& text);  // batched, at most ~30 per second
  void firstToken(double ttft_ms);
  void telemetryReady(const flashchat::TokenTelemetry& t);
  void activeSetsReady(const flashchat::ui::ActiveSetsSample& sample);
  // A setting took effect at this token ("k 4→8", "budget 6.4→5.3 MB", "mode flash→mmap").
  void settingApplied(qint64 token_index, const QString& label);
  // Step mode: the reply waits for stepOnce() after `generated` tokens (its text is flushed).
  void stepPaused(int generated);
  void finished(const flashchat::ui::GenerationSummary& summary);
  void readLimitMeasured(double mb_per_s, bool measured_now);
  void error(const flashchat::ui::EngineError& error);

 private:
  // The one place that turns a conversation into engine calls (swap for Session::chat).
  GenerateResult chatGenerate(const std::vector<ChatMessage>& messages,
                              const GenerateOptions& options);
  void onToken(const TokenEvent& e);
  void onTelemetry(const TokenTelemetry& t);
  void onPromptProgress(int done, int total);
  void onSettings(const SettingsChange& c);
  void flushText();
  // Step mode: waits on the engine thread for a granted step (returns at once when off).
  void stepGate();
  EngineError settingError(const std::string& what, FfnMode mode, qint64 asked_bytes = 0) const;
  // Runs a session setter under the session lock; on refusal emits error() (outside the lock).
  QString applySetting(const std::function<void(Session&)>& apply, FfnMode mode_for_error,
                       qint64 asked_bytes = 0);

  std::unique_ptr<Session> session_;  // replaced only on the engine thread
  mutable std::mutex session_mutex_;  // held by other threads while they use session_
  ModelSummary summary_;
  std::atomic<FfnMode> mode_pending_{FfnMode::Flash};  // last mode accepted by setMode (any-thread setters)

  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> record_active_{false};
  std::atomic<bool> evaluate_{false};
  std::atomic<bool> busy_{false};
  std::atomic<qint64> last_index_{-1};
  std::atomic<int> generated_{0};
  std::atomic<int> generated_at_stop_{-1};

  // Step mode: guarded by step_mutex_; step_cv_ wakes the engine thread.
  mutable std::mutex step_mutex_;
  std::condition_variable step_cv_;
  bool step_mode_ = false;
  int step_permits_ = 0;
  std::atomic<bool> step_on_{false};  // step_mode_ for the lock-free check between tokens

  // Engine-thread state of the reply in progress.
  QString pending_text_;
  QList<int> token_ends_;
  int reply_chars_ = 0;
  QElapsedTimer since_flush_, since_start_;
  bool first_token_seen_ = false;
  double ttft_ms_ = 0;
  qint64 last_progress_emit_ms_ = -1000;
};

// Owns an EngineWorker on its own QThread; stops and joins it on destruction.
class EngineHost : public QObject {
  Q_OBJECT
 public:
  explicit EngineHost(QObject* parent = nullptr);
  ~EngineHost() override;
  EngineWorker* worker() const { return worker_; }
  QThread* thread() const { return thread_; }
  // Queue work on the engine thread.
  void loadModel(const QString& path, FfnMode mode, int window, qint64 budget_bytes);
  void runChat(const std::vector<ChatMessage>& messages, const GenerateOptions& options);
  void measureReadLimit(const QString& cache_file, bool remeasure);

 private:
  QThread* thread_;
  EngineWorker* worker_;
};

QString stop_reason_text(StopReason r);
QString bytes_text(qint64 bytes);  // "5.3 MB" (decimal MB, like the CLI)

}  // namespace flashchat::ui
