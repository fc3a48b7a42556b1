#include "bridge/engine_worker.h"

#include <QMetaObject>
#include <filesystem>

#include "bridge/thread_limit.h"
#include "core/error.h"
#include "session/session.h"

namespace flashchat::ui {

namespace {

constexpr qint64 kTextFlushMs = 33;  // <= 30 text updates per second

QString qs(const std::string& s) { return QString::fromStdString(s); }

qint64 flash_dir_bytes(const std::string& dir) {
  namespace fs = std::filesystem;
  qint64 total = 0;
  std::error_code ec;
  for (const char* name : {"ffn.bin", "dram.safetensors"}) {
    const auto size = fs::file_size(fs::path(dir) / name, ec);
    if (!ec) total += static_cast<qint64>(size);
  }
  return total;
}

bool contains(const std::string& text, const char* needle) {
  return text.find(needle) != std::string::npos;
}

}  // namespace

QString bytes_text(qint64 bytes) {
  if (bytes <= 0) return QStringLiteral("unlimited");
  if (bytes >= 1000LL * 1000 * 1000) return QString::number(bytes / 1e9, 'f', 2) + " GB";
  if (bytes >= 1000 * 1000) return QString::number(bytes / 1e6, 'f', 1) + " MB";
  return QString::number(bytes / 1e3, 'f', 0) + " kB";
}

QString stop_reason_text(StopReason r) {
  switch (r) {
    case StopReason::MaxTokens:
      return QStringLiteral("reached the token limit");
    case StopReason::EndOfText:
      return QStringLiteral("end of text");
    case StopReason::StopString:
      return QStringLiteral("end of turn");
    case StopReason::ContextFull:
      return QStringLiteral("context full");
    case StopReason::Cancelled:
      return QStringLiteral("stopped");
  }
  return {};
}

EngineWorker::EngineWorker(QObject* parent) : QObject(parent) {}
EngineWorker::~EngineWorker() = default;

void EngineWorker::requestStop() {
  if (!stop_requested_.exchange(true) && busy_) generated_at_stop_ = generated_.load();
  std::lock_guard<std::mutex> lock(session_mutex_);
  if (session_) session_->request_stop();
}

EngineError EngineWorker::settingError(const std::string& what, FfnMode mode) const {
  EngineError e;
  e.detail = qs(what);
  if (contains(what, "below the minimum") || contains(what, "needs a budget of at least")) {
    e.kind = EngineErrorKind::BudgetBelowMinimum;
    e.minimum_bytes = summary_.minimum_for(mode);
    e.message = QStringLiteral("That DRAM budget is below what %1 mode needs for this model: at "
                               "least %2 (resident weights, predictors, KV cache and I/O "
                               "buffers). The previous budget stays in force.")
                    .arg(QString::fromLatin1(ffn_mode_name(mode)), bytes_text(e.minimum_bytes));
  } else {
    e.kind = EngineErrorKind::Setting;
    e.message = QStringLiteral("The setting was not applied: %1").arg(e.detail);
  }
  return e;
}

QString EngineWorker::applySetting(const std::function<void(Session&)>& apply,
                                  FfnMode mode_for_error) {
  EngineError err;
  {
    std::lock_guard<std::mutex> lock(session_mutex_);
    if (!session_) return QStringLiteral("no model loaded");
    try {
      apply(*session_);
      return {};
    } catch (const Error& e) {
      err = settingError(e.what(), mode_for_error);
    }
  }
  emit error(err);  // outside the lock: receivers may call the setters again
  return err.message;
}

QString EngineWorker::setWindow(int k) {
  return applySetting([k](Session& s) { s.set_window(k); }, mode_pending_.load());
}

QString EngineWorker::setBudget(qint64 bytes) {
  return applySetting([bytes](Session& s) { s.set_budget(bytes); }, mode_pending_.load());
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
    err.message = QStringLiteral("FlashChat could not open this model. It may be damaged, "
                                 "incomplete or not a model FlashChat understands (GGUF file, "
                                 "Hugging Face folder or converted flash model).");
    emit error(err);
    return;
  }
  ModelSummary s;
  const Model& m = session->model();
  s.path = path;
  s.name = qs(m.config.name.empty() ? std::filesystem::path(o.model_path).filename().string()
                                    : m.config.name);
  s.arch = QString::fromLatin1(m.config.arch_name());
  s.activation = QString::fromLatin1(activation_name(m.config.activation));
  s.flash = session->is_flash_model();
  s.has_chat_template = !m.chat_template.empty();
  s.n_layers = m.config.n_layers;
  s.dim = m.config.dim;
  s.ffn_dim = m.config.ffn_dim;
  s.n_heads = m.config.n_heads;
  s.vocab_size = m.config.vocab_size;
  s.context_size = session->context_size();
  const ModelBytes b = m.bytes();
  s.bytes_embeddings = b.embeddings;
  s.bytes_attention = b.attention;
  s.bytes_ffn = b.ffn;
  s.bytes_other = b.other;
  s.parameters = m.parameter_count();
  if (const FlashModel* f = session->flash_model()) {
    s.bytes_ffn = static_cast<qint64>(f->ffn.size_bytes);
    for (const Predictor& p : f->predictors) s.bytes_predictors += p.size_bytes();
    s.predictor_metrics = f->metrics;
    s.model_bytes = flash_dir_bytes(o.model_path);
    // The resident model has no FFN matrices: count the FFN's parameters from the layout.
    s.parameters += static_cast<qint64>(f->ffn.n_layers) * f->ffn.neurons * f->ffn.dim *
                    (f->ffn.gated ? 3 : 2);
  } else {
    s.model_bytes = b.total();
  }
  for (FfnMode md : {FfnMode::Dram, FfnMode::Naive, FfnMode::Mmap, FfnMode::Flash}) {
    s.minimum_bytes[static_cast<int>(md)] = session->minimum_budget_bytes(md);
  }
  s.mode = session->options().mode;
  s.window = window;
  {
    std::lock_guard<std::mutex> lock(session_mutex_);
    session_ = std::move(session);
    summary_ = s;
    mode_pending_ = s.mode;
  }
  have_prev_ = false;
  last_index_ = -1;
  if (budget_bytes > 0 && s.flash) {
    try {
      session_->set_budget(budget_bytes);
      s.budget_bytes = budget_bytes;
    } catch (const Error& e) {
      emit error(settingError(e.what(), s.mode));
    }
  }
  summary_.budget_bytes = s.budget_bytes;
  emit modelLoaded(s);
}

GenerateResult EngineWorker::chatGenerate(const std::vector<ChatMessage>& messages,
                                          const GenerateOptions& options) {
  // Until Session::chat (KV reuse across turns) lands: format the whole conversation with the
  // model's template and process it from a fresh context.
  const Tokenizer& tok = session_->tokenizer();
  const Model& model = session_->model();
  const ChatFormat format = chat_format_detect(model.chat_template);
  const std::string text = chat_format_apply(format, messages, true);
  const std::vector<int> prompt = tok.encode(text, model.tokenizer.add_bos, true);
  GenerateOptions o = options;
  for (const std::string& s : chat_format_stop_strings(format)) o.stop_strings.push_back(s);
  if (tok.bos_id() >= 0) o.stop_token_ids.push_back(tok.bos_id());
  session_->reset_context();
  prompt_total_ = static_cast<int>(prompt.size());
  emit generationStarted(prompt_total_);
  return session_->generate(
      prompt, o,
      [this](const TokenEvent& e) {
        onToken(e);
        return !stop_requested_.load();
      },
      [this](const TokenTelemetry& t) { onTelemetry(t); });
}

void EngineWorker::onToken(const TokenEvent& e) {
  ++generated_;
  if (!first_token_seen_) {
    first_token_seen_ = true;
    ttft_ms_ = since_start_.nsecsElapsed() / 1e6;
    emit firstToken(ttft_ms_);
  }
  pending_text_ += QString::fromStdString(e.text);
  if (since_flush_.elapsed() >= kTextFlushMs) flushText();
  const int want = threads_wanted_.load();
  if (want != threads_in_force_) {  // between two tokens, on the engine thread
    thread_limit_set(want);
    threads_in_force_ = want;
  }
}

void EngineWorker::flushText() {
  if (!pending_text_.isEmpty()) emit textReady(pending_text_);
  pending_text_.clear();
  since_flush_.restart();
}

void EngineWorker::onTelemetry(const TokenTelemetry& t) {
  if (t.prompt) {
    ++prompt_done_;
    const qint64 now = since_start_.elapsed();
    if (prompt_done_ == prompt_total_ || now - last_progress_emit_ms_ >= kTextFlushMs) {
      last_progress_emit_ms_ = now;
      emit promptProgress(prompt_done_, prompt_total_);
    }
  }
  if (have_prev_) {
    if (t.window_requested != prev_window_) {
      emit settingApplied(t.index, QStringLiteral("k %1→%2").arg(prev_window_).arg(t.window_requested));
    }
    if (t.budget_bytes != prev_budget_) {
      emit settingApplied(t.index, QStringLiteral("budget %1→%2")
                                       .arg(bytes_text(prev_budget_), bytes_text(t.budget_bytes)));
    }
    if (t.mode != prev_mode_) {
      emit settingApplied(t.index, QStringLiteral("mode %1→%2").arg(qs(prev_mode_), qs(t.mode)));
    }
  }
  have_prev_ = true;
  prev_window_ = t.window_requested;
  prev_budget_ = t.budget_bytes;
  prev_mode_ = t.mode;
  last_index_ = t.index;
  emit telemetryReady(t);
}

void EngineWorker::runChat(const std::vector<ChatMessage>& messages,
                           const GenerateOptions& options) {
  GenerationSummary s;
  if (!session_) {
    EngineError err;
    err.kind = EngineErrorKind::BadModel;
    err.message = QStringLiteral("No model is loaded. Open a model to start chatting.");
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
  generated_ = 0;
  generated_at_stop_ = -1;
  first_token_seen_ = false;
  ttft_ms_ = 0;
  prompt_done_ = prompt_total_ = 0;
  last_progress_emit_ms_ = -1000;
  pending_text_.clear();
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
  } catch (const std::exception& e) {
    flushText();
    busy_ = false;
    EngineError err;
    err.detail = qs(e.what());
    if (contains(e.what(), "does not fit")) {
      err.kind = EngineErrorKind::ContextFull;
      err.message = QStringLiteral("This conversation no longer fits in the model's context of "
                                   "%1 tokens. Start a new chat, or delete or shorten earlier "
                                   "messages.")
                        .arg(session_->context_size());
    } else {
      err.kind = EngineErrorKind::Io;
      err.message = QStringLiteral("Reading the model from disk failed while the reply was being "
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

void EngineHost::runChat(const std::vector<ChatMessage>& messages, const GenerateOptions& options) {
  EngineWorker* w = worker_;
  w->clearStop();
  QMetaObject::invokeMethod(w, [w, messages, options] { w->runChat(messages, options); },
                            Qt::QueuedConnection);
}

}  // namespace flashchat::ui
