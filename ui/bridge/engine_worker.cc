#include "bridge/engine_worker.h"

#include <QCoreApplication>
#include <QLocale>
#include <QMetaObject>
#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "session/read_probe.h"
#include "session/session.h"

namespace flashchat::ui {

namespace {

constexpr qint64 kTextFlushMs = 33;  // <= 30 text updates per second

QString qs(const std::string& s) { return QString::fromStdString(s); }

bool contains(const std::string& text, const char* needle) {
  return text.find(needle) != std::string::npos;
}

}  // namespace

QString bytes_text(qint64 bytes) {
  if (bytes <= 0) return QCoreApplication::translate("flashchat::ui::EngineWorker", "unlimited");
  const QLocale loc;
  if (bytes >= 1000LL * 1000 * 1000)
    return loc.toString(bytes / 1e9, 'f', 2) + QStringLiteral(" GB");
  if (bytes >= 1000 * 1000) return loc.toString(bytes / 1e6, 'f', 1) + QStringLiteral(" MB");
  return loc.toString(bytes / 1e3, 'f', 0) + QStringLiteral(" kB");
}

// Stored in the database in English (runs.finish_reason, the message note); shown through
// stop_reason_display in the user's language.
QString stop_reason_text(StopReason r) {
  switch (r) {
    case StopReason::MaxTokens:
      return QStringLiteral(
          QT_TRANSLATE_NOOP("flashchat::ui::StopReason", "reached the token limit"));
    case StopReason::EndOfText:
      return QStringLiteral(QT_TRANSLATE_NOOP("flashchat::ui::StopReason", "end of text"));
    case StopReason::StopString:
      return QStringLiteral(QT_TRANSLATE_NOOP("flashchat::ui::StopReason", "end of turn"));
    case StopReason::ContextFull:
      return QStringLiteral(QT_TRANSLATE_NOOP("flashchat::ui::StopReason", "context full"));
    case StopReason::Cancelled:
      return QStringLiteral(QT_TRANSLATE_NOOP("flashchat::ui::StopReason", "stopped"));
  }
  return {};
}

EngineWorker::EngineWorker(QObject* parent) : QObject(parent) {
  telemetry_metatype_register();
  active_sets_metatype_register();
}
EngineWorker::~EngineWorker() = default;

void EngineWorker::requestStop() {
  if (!stop_requested_.exchange(true) && busy_) generated_at_stop_ = generated_.load();
  {
    std::lock_guard<std::mutex> lock(step_mutex_);  // a paused reply wakes and ends
  }
  step_cv_.notify_all();
  std::lock_guard<std::mutex> lock(session_mutex_);
  if (session_) session_->request_stop();
}

EngineError EngineWorker::settingError(const std::string& what, FfnMode mode,
                                       qint64 asked_bytes) const {
  EngineError e;
  e.detail = qs(what);
  if (contains(what, "below the minimum") || contains(what, "needs a budget of at least")) {
    e.kind = EngineErrorKind::BudgetBelowMinimum;
    e.minimum_bytes = session_ ? session_->minimum_budget_bytes(mode) : summary_.minimum_for(mode);
    const QString asked =
        asked_bytes > 0 ? tr("The budget %1").arg(bytes_text(asked_bytes)) : tr("The DRAM budget");
    e.message =
        tr("%1 is below this model's minimum of %2 in %3 mode (resident "
           "weights, predictors, KV cache and I/O buffers must fit). The "
           "previous budget stays in force.")
            .arg(asked, bytes_text(e.minimum_bytes), QString::fromLatin1(ffn_mode_name(mode)));
  } else {
    e.kind = EngineErrorKind::Setting;
    e.message = tr("The setting was not applied: %1").arg(e.detail);
  }
  return e;
}

QString EngineWorker::applySetting(const std::function<void(Session&)>& apply,
                                  FfnMode mode_for_error, qint64 asked_bytes) {
  EngineError err;
  {
    std::lock_guard<std::mutex> lock(session_mutex_);
    if (!session_) return tr("no model loaded");
    try {
      apply(*session_);
      return {};
    } catch (const Error& e) {
      err = settingError(e.what(), mode_for_error, asked_bytes);
    }
  }
  emit error(err);  // outside the lock: receivers may call the setters again
  return err.message;
}

QString EngineWorker::setWindow(int k) {
  return applySetting([k](Session& s) { s.set_window(k); }, mode_pending_.load());
}

QString EngineWorker::setBudget(qint64 bytes) {
  return applySetting([bytes](Session& s) { s.set_budget(bytes); }, mode_pending_.load(), bytes);
}

QString EngineWorker::setMode(FfnMode mode) {
  const QString r = applySetting([mode](Session& s) { s.set_mode(mode); }, mode);
  if (r.isEmpty()) mode_pending_ = mode;
  return r;
}

void EngineWorker::loadModel(const QString& path, FfnMode mode, int window, qint64 budget_bytes) {
  emit modelLoading(path);
  SessionOptions o;
  o.model_path = path.toStdString();
  o.mode = mode;
  o.window = window;
  o.budget_bytes = 0;  // set below, so a too-small budget leaves a usable session
  std::unique_ptr<Session> session;
  try {
    session = std::make_unique<Session>(o);
  } catch (const std::exception& e) {
    EngineError err;
    err.kind = EngineErrorKind::BadModel;
    err.detail = qs(e.what());
    err.message =
        tr("FlashChat could not open this model. It may be damaged, "
           "incomplete or not a model FlashChat understands (GGUF file, "
           "Hugging Face folder or converted flash model).");
    emit error(err);
    return;
  }
  session->set_evaluate_predictor(evaluate_.load());
  ModelSummary s;
  const ModelInfo info = session->info();
  s.path = path;
  s.name = qs(info.name.empty() ? std::filesystem::path(o.model_path).filename().string() : info.name);
  s.arch = qs(info.architecture);
  s.activation = qs(info.activation);
  s.flash = info.is_flash;
  s.has_chat_template = info.has_chat_template;
  s.n_layers = info.n_layers;
  s.dim = info.dim;
  s.ffn_dim = info.ffn_dim;
  s.n_heads = info.n_heads;
  s.vocab_size = info.vocab_size;
  s.context_size = session->context_size();
  s.bytes_embeddings = info.bytes.embeddings;
  s.bytes_attention = info.bytes.attention;
  s.bytes_ffn = info.is_flash ? info.ffn_file_bytes : info.bytes.ffn;
  s.bytes_other = info.bytes.other;
  s.bytes_predictors = info.predictor_bytes;
  s.parameters = info.parameters;  // a flash model's FFN (in ffn.bin) included
  s.predictor_metrics = info.predictors;
  s.model_bytes = info.model_bytes;
  for (FfnMode md : {FfnMode::Dram, FfnMode::Naive, FfnMode::Mmap, FfnMode::Flash}) {
    s.minimum_bytes[static_cast<int>(md)] = session->minimum_budget_bytes(md);
  }
  s.mode = session->settings().mode;
  s.window = window;
  {
    std::lock_guard<std::mutex> lock(session_mutex_);
    session_ = std::move(session);
    summary_ = s;
    mode_pending_ = s.mode;
  }
  last_index_ = -1;
  if (budget_bytes > 0 && s.flash) {
    try {
      session_->set_budget(budget_bytes);
      s.budget_bytes = budget_bytes;
    } catch (const Error& e) {
      emit error(settingError(e.what(), s.mode, budget_bytes));
    }
  }
  summary_.budget_bytes = s.budget_bytes;
  emit modelLoaded(s);
}

GenerateResult EngineWorker::chatGenerate(const std::vector<ChatMessage>& messages,
                                          const GenerateOptions& options) {
  // The session formats the conversation with the model's template and reuses the KV cache for
  // the part it has already processed.
  emit generationStarted();
  GenerateCallbacks cb;
  const int max_tokens = options.max_new_tokens;
  cb.on_token = [this, max_tokens](const TokenEvent& e) {
    onToken(e);
    // A sampled token (not the closing flush) that another forward pass follows.
    if (e.token >= 0 && generated_.load() < max_tokens) stepGate();
    return !stop_requested_.load();
  };
  cb.on_telemetry = [this](const TokenTelemetry& t) { onTelemetry(t); };
  cb.on_prompt_progress = [this](int done, int total) { onPromptProgress(done, total); };
  cb.on_settings = [this](const SettingsChange& c) { onSettings(c); };
  if (record_active_ && session_->settings().mode == FfnMode::Flash) {
    auto header = std::make_shared<const ActiveTraceHeader>(session_->trace_header());
    cb.on_active_sets = [this, header](const ActiveTraceToken& t) {
      ActiveSetsSample s;
      s.index = last_index_.load();
      s.header = header;
      s.token = t;
      emit activeSetsReady(s);
    };
  }
  return session_->chat(messages, options, cb);
}

void EngineWorker::onToken(const TokenEvent& e) {
  ++generated_;
  if (!first_token_seen_) {
    first_token_seen_ = true;
    ttft_ms_ = since_start_.nsecsElapsed() / 1e6;
    emit firstToken(ttft_ms_);
  }
  const QString text = QString::fromStdString(e.text);
  pending_text_ += text;
  reply_chars_ += int(text.size());
  if (e.token >= 0) {
    token_ends_.append(reply_chars_);
  } else if (!token_ends_.isEmpty()) {
    token_ends_.last() = reply_chars_;  // the closing flush: text the last tokens held back
  }
  if (since_flush_.elapsed() >= kTextFlushMs) flushText();
}

void EngineWorker::setEvaluatePredictor(bool on) {
  evaluate_ = on;
  std::lock_guard<std::mutex> lock(session_mutex_);
  if (session_) session_->set_evaluate_predictor(on);
}

void EngineWorker::setStepMode(bool on) {
  {
    std::lock_guard<std::mutex> lock(step_mutex_);
    step_mode_ = on;
    step_on_ = on;
    step_permits_ = 0;
  }
  step_cv_.notify_all();
}

void EngineWorker::stepOnce() {
  {
    std::lock_guard<std::mutex> lock(step_mutex_);
    if (!step_mode_) return;
    ++step_permits_;
  }
  step_cv_.notify_all();
}

bool EngineWorker::stepMode() const {
  std::lock_guard<std::mutex> lock(step_mutex_);
  return step_mode_;
}

void EngineWorker::stepGate() {
  if (!step_on_.load()) return;  // step mode off: no lock between tokens
  std::unique_lock<std::mutex> lock(step_mutex_);
  if (!step_mode_ || stop_requested_) return;
  if (step_permits_ == 0) {
    lock.unlock();
    flushText();  // the token just generated shows before the pause
    emit stepPaused(generated_.load());
    lock.lock();
    step_cv_.wait(lock, [this] { return !step_mode_ || step_permits_ > 0 || stop_requested_; });
  }
  if (step_mode_ && step_permits_ > 0 && !stop_requested_) --step_permits_;
}

void EngineWorker::setThreads(int threads) { session_set_threads(std::max(0, threads)); }

void EngineWorker::flushText() {
  if (!pending_text_.isEmpty()) emit textReady(pending_text_);
  pending_text_.clear();
  since_flush_.restart();
}

void EngineWorker::onTelemetry(const TokenTelemetry& t) {
  last_index_ = t.index;
  emit telemetryReady(t);
}

void EngineWorker::onPromptProgress(int done, int total) {
  const qint64 now = since_start_.elapsed();
  if (done == total || now - last_progress_emit_ms_ >= kTextFlushMs) {
    last_progress_emit_ms_ = now;
    emit promptProgress(done, total);
  }
}

void EngineWorker::onSettings(const SettingsChange& c) {
  if (!c.error.empty()) {
    EngineError err;
    {
      std::lock_guard<std::mutex> lock(session_mutex_);
      err = settingError(c.error, c.after.mode, c.after.budget_bytes);
    }
    emit error(err);
    return;
  }
  // A change in force from the session's first token: no token ran with the old settings.
  if (c.token_index == 0) return;
  const SessionSettings& a = c.before;
  const SessionSettings& b = c.after;
  if (a.window != b.window) {
    emit settingApplied(c.token_index, tr("k %1→%2").arg(a.window).arg(b.window));
  }
  if (a.budget_bytes != b.budget_bytes) {
    emit settingApplied(
        c.token_index,
        tr("budget %1→%2").arg(bytes_text(a.budget_bytes), bytes_text(b.budget_bytes)));
  }
  if (a.mode != b.mode) {
    emit settingApplied(c.token_index, tr("mode %1→%2")
                                           .arg(QString::fromLatin1(ffn_mode_name(a.mode)),
                                                QString::fromLatin1(ffn_mode_name(b.mode))));
  }
}

void EngineWorker::runChat(const std::vector<ChatMessage>& messages,
                           const GenerateOptions& options) {
  GenerationSummary s;
  if (!session_) {
    EngineError err;
    err.kind = EngineErrorKind::BadModel;
    err.message = tr("No model is loaded. Open a model to start chatting.");
    err.ended_reply = true;
    emit error(err);
    return;
  }
  if (stop_requested_) {  // Stop pressed before this reply started
    s.reason = StopReason::Cancelled;
    s.tokens_after_stop = 0;
    emit finished(s);
    return;
  }
  busy_ = true;
  {
    std::lock_guard<std::mutex> lock(step_mutex_);
    step_permits_ = 0;  // steps granted for an earlier reply do not carry over
  }
  generated_ = 0;
  generated_at_stop_ = -1;
  first_token_seen_ = false;
  ttft_ms_ = 0;
  last_progress_emit_ms_ = -1000;
  pending_text_.clear();
  token_ends_.clear();
  reply_chars_ = 0;
  since_start_.start();
  since_flush_.start();
  try {
    const GenerateResult r = chatGenerate(messages, options);
    flushText();
    s.reason = stop_requested_ ? StopReason::Cancelled : r.reason;
    s.text = qs(r.text);
    s.prompt_tokens = r.prompt_tokens;
    s.generated_tokens = static_cast<int>(r.tokens.size());
    s.prompt_ms = r.prompt_ms;
    s.generate_ms = r.generate_ms;
    s.tokens_per_second = r.tokens_per_second();
    s.token_ends = token_ends_;
  } catch (const std::exception& e) {
    flushText();
    busy_ = false;
    EngineError err;
    err.detail = qs(e.what());
    err.ended_reply = true;
    if (contains(e.what(), "does not fit the context") || contains(e.what(), "does not fit:")) {
      err.kind = EngineErrorKind::ContextFull;
      err.message = tr("This conversation no longer fits in the model's context of "
                       "%1 tokens. Start a new chat, or delete or shorten earlier "
                       "messages.")
                        .arg(session_->context_size());
    } else if (contains(e.what(), "for this request")) {
      // Refused before anything was fed: the reply's KV cache (the conversation plus up to
      // "max tokens") would not fit the budget.
      err.kind = EngineErrorKind::BudgetBelowMinimum;
      err.ended_reply = false;
      const FfnMode mode = session_->settings().mode;
      const int positions = static_cast<int>(session_->chat_tokens(messages).size()) +
                            options.max_new_tokens;
      err.minimum_bytes = session_->minimum_budget_bytes(mode, positions);
      err.message = tr("This reply may take up to %1 tokens of context, and their "
                       "KV cache does not fit in the DRAM budget. Raise the budget "
                       "to at least %2, lower \"max tokens\" in the chat settings, "
                       "or start a new chat.")
                        .arg(std::min(positions, session_->context_size()))
                        .arg(bytes_text(err.minimum_bytes));
    } else if (contains(e.what(), "KV cache no longer fits the budget")) {
      err.kind = EngineErrorKind::BudgetBelowMinimum;
      const FfnMode mode = session_->settings().mode;
      err.minimum_bytes = session_->minimum_budget_bytes(mode);
      err.message = tr("The conversation has grown: its KV cache no longer fits in "
                       "the DRAM budget. Raise the budget to at least %1 or start a "
                       "new chat. What was written so far is kept.")
                        .arg(bytes_text(err.minimum_bytes));
    } else {
      err.kind = EngineErrorKind::Io;
      err.message =
          tr("Reading the model from disk failed while the reply was being "
             "written. What was written so far is kept; you can try again.");
    }
    emit error(err);
    return;
  }
  s.ttft_ms = ttft_ms_;
  if (generated_at_stop_ >= 0) s.tokens_after_stop = generated_ - generated_at_stop_;
  s.context_used = session_->context_used();
  s.context_size = session_->context_size();
  busy_ = false;
  emit finished(s);
}

void EngineWorker::measureReadLimit(const QString& cache_file, bool remeasure) {
  if (!session_ || !session_->is_flash_model()) return;
  try {
    const ReadProbeResult r =
        read_probe_run(summary_.path.toStdString(), cache_file.toStdString(), remeasure);
    emit readLimitMeasured(r.mb_per_s, r.measured);
  } catch (const std::exception& e) {
    EngineError err;
    err.kind = EngineErrorKind::Setting;
    err.detail = qs(e.what());
    err.message =
        tr("The disk's read speed could not be measured, so the read plot "
           "has no reference line. Chatting is not affected.");
    emit error(err);
  }
}

EngineHost::EngineHost(QObject* parent)
    : QObject(parent), thread_(new QThread(this)), worker_(new EngineWorker) {
  thread_->setObjectName(QStringLiteral("engine"));
  worker_->moveToThread(thread_);
  connect(thread_, &QThread::finished, worker_, &QObject::deleteLater);
  thread_->start();
}

EngineHost::~EngineHost() {
  worker_->requestStop();
  thread_->quit();
  thread_->wait();
}

void EngineHost::loadModel(const QString& path, FfnMode mode, int window, qint64 budget_bytes) {
  EngineWorker* w = worker_;
  QMetaObject::invokeMethod(
      w, [w, path, mode, window, budget_bytes] { w->loadModel(path, mode, window, budget_bytes); },
      Qt::QueuedConnection);
}

void EngineHost::measureReadLimit(const QString& cache_file, bool remeasure) {
  EngineWorker* w = worker_;
  QMetaObject::invokeMethod(w, [w, cache_file, remeasure] { w->measureReadLimit(cache_file, remeasure); },
                            Qt::QueuedConnection);
}

void EngineHost::runChat(const std::vector<ChatMessage>& messages, const GenerateOptions& options) {
  EngineWorker* w = worker_;
  w->clearStop();
  QMetaObject::invokeMethod(w, [w, messages, options] { w->runChat(messages, options); },
                            Qt::QueuedConnection);
}

}  // namespace flashchat::ui
