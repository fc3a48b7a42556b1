// MainWindow: conversations, sending and replies, model opening.
#include <QApplication>
#include <QClipboard>
#include <QDateTime>
#include <QJsonDocument>
#include <QUuid>
#include <QCloseEvent>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QRandomGenerator>

#include "main_window.h"
#include "models/convert_dialog.h"
#include "models/model_info_dialog.h"
#include "plots/live_panel.h"

namespace flashchat::ui {

Conversation* MainWindow::current() {
  const int row = conversations_->row_of(current_id_);
  return row < 0 ? nullptr : const_cast<Conversation*>(&conversations_->at(row));
}

void MainWindow::saveCurrent(bool persist) {
  if (generating_) conversations_->update(working_, persist);
}

void MainWindow::newChat() {
  if (generating_) return;
  const QString id = conversations_->create();
  selectConversation(id);
  composer_->editor()->setFocus();
}

void MainWindow::selectConversation(const QString& id) {
  if (generating_ && id != current_id_) {  // keep the streaming conversation on screen
    list_->setCurrentIndex(conversations_->index(conversations_->row_of(current_id_)));
    return;
  }
  const int row = conversations_->row_of(id);
  if (row < 0) return;
  const bool changed = id != current_id_;
  current_id_ = id;
  if (list_->currentIndex().row() != row) list_->setCurrentIndex(conversations_->index(row));
  if (changed) {
    composer_->setEditing(-1);
    chat_->setConversation(conversations_->at(row));
    if (settings_dialog_) {
      const Conversation& c = conversations_->at(row);
      settings_dialog_->setValues(c.title, c.system_prompt, c.sampling);
    }
  }
}

void MainWindow::sendMessage(const QString& text) {
  if (!model_ready_ || generating_ || text.trimmed().isEmpty()) return;
  if (!current()) newChat();
  Conversation c = *current();
  const bool edited = composer_->editing() >= 0;
  if (edited) {
    c.messages = c.messages.mid(0, composer_->editing());
    composer_->setEditing(-1);
  }
  c.messages.append({QStringLiteral("user"), text, {}});
  if (c.title == QLatin1String("New chat") || c.title == conversation_untitled()) {
    c.title = text.simplified().left(40);
    if (text.simplified().size() > 40) c.title += QStringLiteral("…");
  }
  conversations_->update(c);
  composer_->clear();
  if (edited || chat_->messageCount() != c.messages.size() - 1) {
    chat_->setConversation(c);
  } else {
    chat_->appendMessage(c.messages.last());  // the rest is on screen already
  }
  runReply();
}

void MainWindow::runReply() {
  Conversation* cur = current();
  if (!cur || cur->messages.isEmpty() || cur->messages.last().role != QLatin1String("user")) return;
  const Conversation& c = *cur;
  std::vector<ChatMessage> messages;
  if (!c.system_prompt.trimmed().isEmpty()) messages.push_back({"system", c.system_prompt.toStdString()});
  for (const ChatMessageEntry& m : c.messages) {
    messages.push_back({m.role.toStdString(), m.content.toStdString()});
  }
  GenerateOptions o;
  o.max_new_tokens = c.sampling.max_tokens;
  o.sampling = c.sampling.to_params(c.sampling.seed ? c.sampling.seed
                                                    : QRandomGenerator::global()->generate64() | 1);
  working_ = c;
  working_.messages.append({QStringLiteral("assistant"), {}, {}});
  // The run: its settings now, its telemetry and setting changes as they come.
  RunInfo run;
  run.uid = QUuid::createUuid().toString(QUuid::WithoutBraces);
  run.conversation_id = c.id;
  run.message_seq = static_cast<int>(working_.messages.size()) - 1;
  run.model_path = model_.path;
  run.model_name = model_.name;
  run.mode = QString::fromLatin1(ffn_mode_name(model_.flash ? controls_->mode() : FfnMode::Dram));
  run.window = controls_->window();
  run.budget_bytes = model_.flash ? controls_->budget() : 0;
  run.model_bytes = model_.model_bytes;
  run.threads = controls_->threads();
  run.sampling_json = QString::fromUtf8(
      QJsonDocument(chat_sampling_to_json(c.sampling)).toJson(QJsonDocument::Compact));
  run.read_limit_mb_per_s = live_panel_ ? live_panel_->deviceReadLimit() : 0;
  run.started_ms = QDateTime::currentMSecsSinceEpoch();
  run_uid_ = run.uid;
  ChatMessageEntry& reply = working_.messages.last();
  reply.run_uid = run.uid;
  reply.model = model_.name;
  reply.sampling_json = run.sampling_json;
  conversations_->update(working_);  // the reply's row exists from the start
  writer_->beginRun(run);
  generating_ = true;
  chat_->beginAssistant();
  chat_->setBusy(true);
  composer_->setBusy(true);
  ttft_ms_ = -1;
  gen_ms_sum_ = 0;
  gen_count_ = 0;
  prompt_done_ = 0;
  save_timer_.start();
  engine_->runChat(messages, o);
  updateStatus();
}

void MainWindow::finishReply(const GenerationSummary& s) {
  if (!generating_) return;
  save_timer_.stop();
  generating_ = false;
  ChatMessageEntry& last = working_.messages.last();
  const bool interrupted = s.generated_tokens < 0;
  last.content = s.text;
  last.stop_reason =
      interrupted ? QStringLiteral(QT_TRANSLATE_NOOP("flashchat::ui::StopReason", "interrupted"))
                  : stop_reason_text(s.reason);
  if (!interrupted) {
    last.prompt_tokens = s.prompt_tokens;
    last.tokens = s.generated_tokens;
    last.prompt_ms = s.prompt_ms;
    last.generate_ms = s.generate_ms;
    last.ttft_ms = s.ttft_ms;
  }
  if (!run_uid_.isEmpty()) {
    // The disk limit as the plot shows it now (the first measurement may land mid-run).
    writer_->finishRun(run_uid_, QDateTime::currentMSecsSinceEpoch(), last.stop_reason,
                       live_panel_ ? live_panel_->deviceReadLimit() : 0);
    chat_->setTokenEnds(run_uid_, s.token_ends);  // clicking a word shows its token's cost
    run_uid_.clear();
  }
  chat_->finishAssistant(last.content, last.stop_reason);
  if (last.content.isEmpty() && interrupted) working_.messages.removeLast();
  conversations_->update(working_);
  if (s.context_used > 0) context_used_ = s.context_used;
  if (interrupted && working_.messages.last().role == QLatin1String("user")) {
    chat_->setConversation(working_);
  }
  chat_->setBusy(false);
  composer_->setBusy(false);
  prompt_total_ = 0;
  updateStatus();
  if (!interrupted && s.reason == StopReason::ContextFull) {
    chat_->addNotice(NoticeCard::Kind::Info, tr("The context is full"),
                     tr("The reply stopped because the model's context of %1 tokens "
                        "is used up. Start a new chat to continue.")
                         .arg(s.context_size),
                     {}, {{QStringLiteral("new-chat"), tr("New chat")}});
  }
  emit replyFinished();
}

void MainWindow::stopGeneration() {
  if (generating_) worker()->requestStop();
}

void MainWindow::regenerate() {
  if (generating_ || !model_ready_) return;
  Conversation* cur = current();
  if (!cur) return;
  Conversation c = *cur;
  while (!c.messages.isEmpty() && c.messages.last().role == QLatin1String("assistant")) {
    c.messages.removeLast();
  }
  if (c.messages.isEmpty()) return;
  conversations_->update(c);
  chat_->setConversation(c);
  runReply();
}

void MainWindow::copyChat() {
  if (Conversation* c = current()) {
    QApplication::clipboard()->setText(generating_ ? working_.to_text() : c->to_text());
  }
}

void MainWindow::showChatSettings() {
  Conversation* c = current();
  if (!c) return;
  if (!settings_dialog_) {
    settings_dialog_ = new ChatSettingsDialog(this);
    settings_dialog_->setAttribute(Qt::WA_DeleteOnClose);
    connect(settings_dialog_, &ChatSettingsDialog::changed, this,
            [this](const QString& system, const ChatSampling& s) {
              Conversation* cur = current();
              if (!cur) return;
              Conversation copy = *cur;
              copy.system_prompt = system;
              copy.sampling = s;
              conversations_->update(copy);
              if (generating_) {  // applies to the next reply
                working_.system_prompt = system;
                working_.sampling = s;
              }
            });
  }
  settings_dialog_->setValues(c->title, c->system_prompt, c->sampling);
  settings_dialog_->show();
  settings_dialog_->raise();
}

void MainWindow::showModelInfo() {
  if (!model_ready_) return;
  auto* d = new ModelInfoDialog(model_, this);
  d->setAttribute(Qt::WA_DeleteOnClose);
  d->show();
}

void MainWindow::openModelFile() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Open a GGUF model"), QDir::homePath(),
                                                    tr("GGUF models (*.gguf);;All files (*)"));
  if (!path.isEmpty()) openModelPath(path);
}

void MainWindow::openModelFolder() {
  const QString path = QFileDialog::getExistingDirectory(
      this, tr("Open a Hugging Face or flash model folder"), QDir::homePath());
  if (!path.isEmpty()) openModelPath(path);
}

void MainWindow::openModelPath(const QString& path) {
  const QFileInfo fi(path);
  if (fi.isDir() && QFileInfo::exists(QDir(path).filePath(QStringLiteral("manifest.json")))) {
    models_->add(fi.fileName(), path);  // already a flash model
    if (model_box_->findData(QDir::cleanPath(path)) < 0) model_box_->addItem(fi.fileName(), QDir::cleanPath(path));
    loadModel(QDir::cleanPath(path));
    return;
  }
  const QString out = models_->convertedPath(path);
  QDir().mkpath(QFileInfo(out).absolutePath());
  auto* dlg = new ConvertDialog(path, out, this);
  dlg->setAttribute(Qt::WA_DeleteOnClose);
  connect(dlg, &ConvertDialog::converted, this, [this, path](const QString& dir) {
    const QString name = QFileInfo(path).completeBaseName() + QStringLiteral(" (flash)");
    models_->add(name, dir);
    model_box_->addItem(name, QDir::cleanPath(dir));
    loadModel(QDir::cleanPath(dir));
  });
  connect(dlg, &QDialog::rejected, this, [this, dlg, path] {
    if (dlg->errorText().isEmpty() || dlg->errorText().contains(QLatin1String("cancelled"))) return;
    chat_->addNotice(NoticeCard::Kind::Error, tr("Conversion failed"),
                     tr("FlashChat could not convert %1 into a flash model. Check that "
                        "it is a GGUF file or a Hugging Face folder with config.json, "
                        "*.safetensors and tokenizer.json.")
                         .arg(QFileInfo(path).fileName()),
                     dlg->errorText(), {{QStringLiteral("open-model"), tr("Open another…")}});
  });
  dlg->show();
  dlg->start();
}

void MainWindow::closeEvent(QCloseEvent* e) {
  if (generating_) {
    worker()->requestStop();
    saveCurrent(true);
  }
  // Settings are written here only: QSettings syncs to disk (with fsync) from the event loop,
  // which would stall the GUI on every slider step.
  if (model_ready_) {
    settings_.setValue("model/path", model_.path);
    settings_.setValue("engine/window", controls_->window());
    settings_.setValue("engine/budget_bytes", controls_->budget());
    settings_.setValue("engine/mode", QString::fromLatin1(ffn_mode_name(controls_->mode())));
  }
  settings_.setValue("window/geometry", saveGeometry());
  settings_.setValue("window/splitter", splitter_->saveState());
  settings_.setValue("window/right_splitter", right_split_->saveState());
  settings_.sync();
  e->accept();
}

}  // namespace flashchat::ui
