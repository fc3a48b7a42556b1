#include "main_window.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QRandomGenerator>
#include <QScrollArea>
#include <QShortcut>
#include <QStatusBar>
#include <QVBoxLayout>

#include "common/language.h"
#include "history/run_history_view.h"
#include "models/convert_dialog.h"
#include "models/model_info_dialog.h"
#if __has_include("plots/live_panel.h")
#include "plots/live_panel.h"
#include "teaching/teaching_view.h"
#include "teaching/token_cost.h"
#define FLASHCHAT_HAVE_LIVE_PANEL 1
#endif

namespace flashchat::ui {

#ifndef FLASHCHAT_HAVE_LIVE_PANEL
class LivePanel : public QWidget {};  // placeholder until ui/plots is merged
#endif

MainWindow::MainWindow(const QString& data_dir, QWidget* parent)
    : MainWindow(data_dir, chat_db_open(data_dir, database_recovery_ask), parent) {}

MainWindow::MainWindow(const QString& data_dir, DbOpenResult db, QWidget* parent)
    : QMainWindow(parent),
      data_dir_(data_dir),
      settings_(QDir(data_dir).filePath(QStringLiteral("settings.ini")), QSettings::IniFormat),
      models_(std::make_unique<ModelList>(data_dir)),
      engine_(new EngineHost(this)) {
  setWindowTitle(QStringLiteral("FlashChat"));
  openDatabase(std::move(db));
  conversations_->load();
  buildUi();
  buildMenus();
  connectEngine();
  applyStyle();
  save_timer_.setInterval(500);
  connect(&save_timer_, &QTimer::timeout, this, [this] { saveCurrent(true); });
  connect(conversations_, &ConversationListModel::saveFailed, this, [this](const QString& msg) {
    chat_->addNotice(NoticeCard::Kind::Error, tr("Not saved"), msg, {}, {});
  });
  if (!restoreGeometry(settings_.value("window/geometry").toByteArray())) resize(1280, 800);
  splitter_->restoreState(settings_.value("window/splitter").toByteArray());
  right_split_->restoreState(settings_.value("window/right_splitter").toByteArray());
  if (conversations_->rowCount() == 0) conversations_->create();
  selectConversation(conversations_->at(0).id);
  if (!db_info_.message.isEmpty()) {
    const QString how =
        writer_->read_only() ? tr("It is open read-only: new messages are not saved.")
        : db_info_.kept_as.isEmpty()
            ? tr("A temporary database is used for this session.")
            : tr("The old file was kept as %1; this is a fresh database.").arg(db_info_.kept_as);
    chat_->addNotice(NoticeCard::Kind::Error, tr("Chat database"),
                     db_info_.message + QStringLiteral("\n\n") + how, {}, {});
  }
}

QString MainWindow::probeCacheFile() const {
  return QDir(data_dir_).filePath(QStringLiteral("read_probe.json"));
}

MainWindow::~MainWindow() {
  if (generating_) worker()->requestStop();
  list_->setModel(nullptr);
  delete conversations_;
  delete writer_;  // commits what is queued
}

void MainWindow::buildUi() {
  history_ = new RunHistoryView(reader_.get(), this);
  connect(history_, &RunHistoryView::backRequested, this, &MainWindow::showChat);
  splitter_ = new QSplitter(Qt::Horizontal, this);
  splitter_->setObjectName(QStringLiteral("mainSplitter"));
  splitter_->setChildrenCollapsible(false);

  // Left: conversations.
  auto* left = new QWidget(splitter_);
  left->setObjectName(QStringLiteral("leftPane"));
  auto* lv = new QVBoxLayout(left);
  lv->setContentsMargins(8, 8, 4, 8);
  buildLeftPane(left);

  // Centre: model bar, chat, composer.
  auto* centre = new QWidget(splitter_);
  centre->setObjectName(QStringLiteral("centrePane"));
  auto* cv = new QVBoxLayout(centre);
  cv->setContentsMargins(0, 0, 0, 0);
  cv->setSpacing(0);
  auto* bar = new QWidget(centre);
  bar->setObjectName(QStringLiteral("modelBar"));
  auto* bh = new QHBoxLayout(bar);
  bh->setContentsMargins(16, 8, 12, 8);
  auto* ml = new QLabel(tr("Mo&del"), bar);
  model_box_ = new QComboBox(bar);
  model_box_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  model_box_->setMinimumContentsLength(18);
  ml->setBuddy(model_box_);
  for (const ModelEntry& e : models_->entries()) model_box_->addItem(e.name, e.path);
  connect(model_box_, &QComboBox::activated, this, [this](int i) {
    loadModel(model_box_->itemData(i).toString());
  });
  bh->addWidget(ml);
  bh->addWidget(model_box_);
  auto* info = new QPushButton(tr("Info"), bar);
  info->setToolTip(tr("Architecture, sizes, minimum budgets, predictor quality"));
  connect(info, &QPushButton::clicked, this, &MainWindow::showModelInfo);
  bh->addWidget(info);
  bh->addStretch(1);
  auto* settingsBtn = new QPushButton(tr("Chat settings"), bar);
  settingsBtn->setToolTip(tr("System prompt and sampling for this conversation"));
  connect(settingsBtn, &QPushButton::clicked, this, &MainWindow::showChatSettings);
  bh->addWidget(settingsBtn);
  auto* copyBtn = new QPushButton(tr("Copy chat"), bar);
  copyBtn->setToolTip(tr("Copy the whole conversation as text"));
  connect(copyBtn, &QPushButton::clicked, this, &MainWindow::copyChat);
  bh->addWidget(copyBtn);
  cv->addWidget(bar);
  chat_ = new ChatView(centre);
  cv->addWidget(chat_, 1);
  composer_ = new Composer(centre);
  cv->addWidget(composer_);
  connect(composer_, &Composer::sendRequested, this, &MainWindow::sendMessage);
  connect(composer_, &Composer::stopRequested, this, &MainWindow::stopGeneration);
  connect(chat_, &ChatView::regenerate, this, &MainWindow::regenerate);
  connect(chat_, &ChatView::tokenClicked, this,
          [this](int, const QString& uid, int token, const QString& word, const QPoint& at) {
            token_cost_show(database(), uid, token, word, at, chat_, teaching_);
          });
  connect(chat_, &ChatView::copyMessage, this, [this](int i) {
    if (Conversation* c = current(); c && i < c->messages.size()) {
      QApplication::clipboard()->setText(generating_ && i < working_.messages.size()
                                             ? working_.messages[i].content
                                             : c->messages[i].content);
    }
  });
  connect(chat_, &ChatView::editMessage, this, [this](int i) {
    Conversation* c = current();
    if (!c || generating_ || i >= c->messages.size()) return;
    composer_->setEditing(i);
    composer_->setText(c->messages[i].content);
    composer_->editor()->setFocus();
  });
  connect(chat_, &ChatView::noticeAction, this, [this](const QString& id) {
    if (id == QLatin1String("open-model")) openModelFolder();
    else if (id == QLatin1String("open-gguf")) openModelFile();
    else if (id == QLatin1String("model-info")) showModelInfo();
    else if (id == QLatin1String("new-chat")) newChat();
    else if (id == QLatin1String("retry")) regenerate();
    else if (id == QLatin1String("load-default") && !models_->entries().isEmpty()) {
      loadModel(models_->entries().front().path);
    } else if (id.startsWith(QLatin1String("set-budget:"))) {
      controls_->setBudget(id.mid(11).toLongLong());
    }
  });

  // Right: controls over the live plots.
  right_split_ = new QSplitter(Qt::Vertical, splitter_);
  right_split_->setObjectName(QStringLiteral("rightSplitter"));
  controls_ = new EngineControls(right_split_);
#ifdef FLASHCHAT_HAVE_LIVE_PANEL
  // The plots need more height than a 800 px window leaves them: they scroll then instead of
  // forcing the window taller. The Pause / disk-limit row stays below the scrolled plots, visible
  // however tall the text (CJK fonts have taller lines).
  auto* liveColumn = new QWidget(right_split_);
  auto* lc = new QVBoxLayout(liveColumn);
  lc->setContentsMargins(0, 0, 0, 4);
  lc->setSpacing(2);
  auto* liveScroll = new QScrollArea(liveColumn);
  liveScroll->setWidgetResizable(true);
  liveScroll->setFrameShape(QFrame::NoFrame);
  liveScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  auto* liveBox = new QWidget(liveScroll);
  auto* lb = new QVBoxLayout(liveBox);
  lb->setContentsMargins(0, 0, 0, 0);
  lb->setSpacing(2);
  live_panel_ = new LivePanel(liveBox);
  lb->addWidget(live_panel_, 1);
  auto* row = new QHBoxLayout;
  row->setContentsMargins(8, 0, 8, 0);
  auto* pause = new QPushButton(tr("Pause"), liveColumn);
  pause->setCheckable(true);
  pause->setToolTip(tr("Freeze the plots; tokens keep being collected"));
  connect(pause, &QPushButton::toggled, this, [this, pause](bool on) {
    live_panel_->setPaused(on);
    pause->setText(on ? tr("Resume") : tr("Pause"));
  });
  row->addWidget(pause);
  limit_label_ = new QLabel(tr("disk limit: not measured"), liveColumn);
  limit_label_->setProperty("dim", true);
  row->addWidget(limit_label_, 1);
  auto* remeasure = new QPushButton(tr("Re-measure disk"), liveColumn);
  remeasure->setToolTip(
      tr("Measure the disk's random-read speed again (about 1.5 s, "
         "between replies)"));
  connect(remeasure, &QPushButton::clicked, this, [this] {
    limit_label_->setText(tr("disk limit: measuring…"));
    engine_->measureReadLimit(probeCacheFile(), true);
  });
  row->addWidget(remeasure);
  liveScroll->setWidget(liveBox);
  lc->addWidget(liveScroll, 1);
  lc->addLayout(row);
  live_ = liveColumn;
#else
  auto* placeholder =
      new QLabel(tr("Live plots appear here (ui/plots not merged yet)"), right_split_);
  placeholder->setAlignment(Qt::AlignCenter);
  placeholder->setObjectName(QStringLiteral("livePlaceholder"));
  live_ = placeholder;
#endif
  right_split_->setStretchFactor(0, 0);
  right_split_->setStretchFactor(1, 1);
  right_split_->setCollapsible(1, true);
  splitter_->addWidget(left);
  splitter_->addWidget(centre);
  splitter_->addWidget(right_split_);
  splitter_->setCollapsible(2, true);
  splitter_->setStretchFactor(0, 0);
  splitter_->setStretchFactor(1, 3);
  splitter_->setStretchFactor(2, 2);
  splitter_->setSizes({190, 590, 500});
  pages_ = new QStackedWidget(this);
  pages_->addWidget(splitter_);
  pages_->addWidget(history_);
  setCentralWidget(pages_);

  connect(controls_, &EngineControls::windowChanged, this, [this](int k) {
    worker()->setWindow(k);
  });
  connect(controls_, &EngineControls::budgetChanged, this, [this](qint64 b) {
    if (worker()->setBudget(b).isEmpty()) budget_bytes_ = b;
  });
  connect(controls_, &EngineControls::modeChanged, this, [this](FfnMode m) {
    worker()->setMode(m);
  });
  connect(controls_, &EngineControls::threadsChanged, this, [this](int n) {
    worker()->setThreads(n);
  });

  // Status strip.
  for (const char* name : {"model", "mode", "speed", "ttft", "prompt", "context", "dram", "rss"}) {
    auto* l = new QLabel(this);
    l->setObjectName(QStringLiteral("status_") + name);
    status_[QString::fromLatin1(name)] = l;
    statusBar()->addWidget(l);
  }
  status_["prompt"]->hide();

  setTabOrder(list_, composer_->editor());
  setTabOrder(composer_->editor(), composer_->sendButton());
  setTabOrder(composer_->sendButton(), controls_);
  auto* esc = new QShortcut(QKeySequence(Qt::Key_Escape), this);
  connect(esc, &QShortcut::activated, this, &MainWindow::stopGeneration);
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  QAction* n = file->addAction(tr("&New chat"), this, &MainWindow::newChat);
  n->setShortcut(QKeySequence(QStringLiteral("Ctrl+N")));
  file->addAction(tr("Open &GGUF file…"), this, &MainWindow::openModelFile);
  file->addAction(tr("Open model &folder…"), this, &MainWindow::openModelFolder);
  file->addSeparator();
  file->addAction(tr("&Import chat (JSON)…"), this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Import a chat"), QDir::homePath(),
                                                      tr("FlashChat chats (*.json)"));
    if (!path.isEmpty()) importConversation(path);
  });
  file->addSeparator();
  QAction* q = file->addAction(tr("&Quit"), this, &QWidget::close);
  q->setShortcut(QKeySequence::Quit);
  QMenu* chat = menuBar()->addMenu(tr("&Chat"));
  chat->addAction(tr("Chat &settings…"), this, &MainWindow::showChatSettings);
  chat->addAction(tr("&Regenerate"), this, &MainWindow::regenerate);
  chat->addAction(tr("&Copy chat"), this, &MainWindow::copyChat);
  QMenu* model = menuBar()->addMenu(tr("&Model"));
  model->addAction(tr("Model &info…"), this, &MainWindow::showModelInfo);
  QMenu* view = menuBar()->addMenu(tr("&View"));
  QAction* runs = view->addAction(tr("&Run history"), this, [this] { showRunHistory(); });
  runs->setShortcut(QKeySequence(QStringLiteral("Ctrl+H")));
  QAction* panel = view->addAction(tr("&Live panel"));
  panel->setCheckable(true);
  panel->setChecked(true);
  panel->setShortcut(QKeySequence(QStringLiteral("Ctrl+L")));
  connect(panel, &QAction::toggled, this, [this](bool on) { right_split_->setVisible(on); });
  QAction* teach = view->addAction(tr("&Teaching view"), this, &MainWindow::showTeachingView);
  teach->setShortcut(QKeySequence(QStringLiteral("Ctrl+T")));
  // Language: the translators are installed at start, so a new choice applies at the next start.
  view->addSeparator();
  QMenu* lang = view->addMenu(tr("&Language (applies at next start)"));
  lang->setObjectName(QStringLiteral("languageMenu"));
  auto* langs = new QActionGroup(lang);
  const UiLanguage saved = ui_language_saved(settings_);
  // Language names in their own language, so that a user can find theirs in any UI language.
  for (const auto& [l, name] : {std::pair{UiLanguage::System, tr("System language")},
                                std::pair{UiLanguage::English, QStringLiteral("English")},
                                std::pair{UiLanguage::Korean, QStringLiteral("한국어")}}) {
    QAction* a = lang->addAction(name);
    a->setCheckable(true);
    a->setChecked(l == saved);
    a->setData(ui_language_code(l));
    langs->addAction(a);
    connect(a, &QAction::triggered, this, [this, l] {
      ui_language_save(settings_, l);
      chat_->addNotice(NoticeCard::Kind::Info, tr("Language"),
                       tr("The new language applies the next time FlashChat starts."), {}, {});
    });
  }
}

void MainWindow::showTeachingView() {
  if (!teaching_) {
    teaching_ = new TeachingView(this);
    teaching_->setWindowFlag(Qt::Window);
    teaching_->resize(1100, 760);
    teaching_->attachEngine(worker());
    teaching_->setModelDir(model_.flash ? model_.path : QString());
  }
  teaching_->show();
  teaching_->raise();
}

void MainWindow::connectEngine() {
  EngineWorker* w = worker();
  connect(w, &EngineWorker::modelLoaded, this, &MainWindow::onModelLoaded);
  connect(this, &MainWindow::modelReadyChanged, this, [this](bool ready) {
    if (!generating_) composer_->sendButton()->setEnabled(ready);
    composer_->editor()->setPlaceholderText(
        ready ? tr("Type a message…  (Ctrl+Enter sends, Esc stops)") : tr("Loading the model…"));
  });
  connect(w, &EngineWorker::error, this, &MainWindow::onEngineError);
  connect(w, &EngineWorker::textReady, this, [this](const QString& text) {
    if (!generating_) return;
    chat_->appendText(text);
    working_.messages.last().content += text;
  });
  connect(w, &EngineWorker::generationStarted, this, [this] {
    prompt_total_ = 0;
    prompt_done_ = 0;
    updateStatus();
  });
  connect(w, &EngineWorker::promptProgress, this, [this](int done, int total) {
    prompt_done_ = done;
    prompt_total_ = total;
    updateStatus();
  });
  connect(w, &EngineWorker::firstToken, this, [this](double ms) { ttft_ms_ = ms; });
  connect(w, &EngineWorker::telemetryReady, this, &MainWindow::onTelemetry);
  connect(w, &EngineWorker::finished, this, &MainWindow::finishReply);
#ifdef FLASHCHAT_HAVE_LIVE_PANEL
  connect(w, &EngineWorker::settingApplied, this, [this](qint64 index, const QString& label) {
    live_panel_->addMarker(index, label);
    if (generating_ && !run_uid_.isEmpty()) writer_->addChange(run_uid_, {index, label});
  });
  connect(w, &EngineWorker::readLimitMeasured, this, [this](double mb_per_s, bool now) {
    live_panel_->setDeviceReadLimit(mb_per_s);
    limit_label_->setText(tr("disk limit %L1 MB/s (%2)")
                              .arg(mb_per_s, 0, 'f', 0)
                              .arg(now ? tr("measured now") : tr("cached")));
  });
#endif
}

void MainWindow::start() {
  QString path = settings_.value("model/path").toString();
  if (path.isEmpty() || models_->indexOf(path) < 0) {
    path = models_->entries().isEmpty() ? QString() : models_->entries().front().path;
  }
  if (path.isEmpty()) {
    chat_->addNotice(NoticeCard::Kind::Error, tr("No model found"),
                     tr("The built-in model is missing from this installation. Open "
                        "a model to start chatting."),
                     {}, {{QStringLiteral("open-model"), tr("Open a model…")}});
    return;
  }
  loadModel(path);
}

void MainWindow::loadModel(const QString& path) {
  if (generating_) {
    chat_->addNotice(NoticeCard::Kind::Info, tr("Busy"),
                     tr("Stop the reply before switching models."), {}, {});
    return;
  }
  model_ready_ = false;
  emit modelReadyChanged(false);
  loading_path_ = path;
  status_["model"]->setText(tr("Loading %1…").arg(QFileInfo(path).fileName()));
  controls_->setEnabled(false);
  const FfnMode mode =
      ffn_mode_from_name(settings_.value("engine/mode", "flash").toString().toStdString())
          .value_or(FfnMode::Flash);
  const int window = settings_.value("engine/window", 4).toInt();
  engine_->loadModel(path, mode, window, 0);
}

void MainWindow::onModelLoaded(const ModelSummary& m) {
  model_ = m;
  model_ready_ = true;
  const int idx = model_box_->findData(m.path);
  if (idx >= 0) model_box_->setCurrentIndex(idx);
  // Budget: the one saved if still valid, else 75% of the model (at least the minimum; the KV
  // cache grows with the conversation, so leave it room above the minimum).
  const qint64 minimum = m.minimum_for(m.mode);
  qint64 budget = settings_.value("engine/budget_bytes", 0).toLongLong();
  if (budget < minimum || budget > std::max(minimum, m.model_bytes)) {
    budget = std::max(minimum, m.model_bytes * 75 / 100);
  }
  if (m.flash) {
    if (worker()->setBudget(budget).isEmpty()) budget_bytes_ = budget;
  }
  controls_->setModel(m, budget, m.window, m.mode);
  recordModel(m);
  have_telemetry_ = false;
  gen_ms_sum_ = 0;
  gen_count_ = 0;
  ttft_ms_ = -1;
#ifdef FLASHCHAT_HAVE_LIVE_PANEL
  live_panel_->clear();
#endif
  showWelcome();
  updateStatus();
  if (m.flash) engine_->measureReadLimit(probeCacheFile(), false);  // cached after the first time
  emit modelReadyChanged(true);
}

void MainWindow::showWelcome() {
  const bool builtin = !models_->entries().isEmpty() && models_->entries().front().builtin &&
                       QDir::cleanPath(model_.path) == models_->entries().front().path;
  if (!builtin) {
    chat_->setWelcome(nullptr);
    return;
  }
  auto* card = new NoticeCard(
      NoticeCard::Kind::Info, tr("Welcome to FlashChat"),
      tr("The built-in model is small on purpose: a 5.3M-parameter continuation model that this "
         "project trained itself on Debian documentation and other free texts. It is not a chat "
         "assistant — it continues your text, and its replies are locally fluent nonsense. It is "
         "here to show the technique live: as it writes, the plots on the right show FFN neurons "
         "being read from disk as the predictor asks for them, while the last k tokens' neurons "
         "stay in DRAM within the budget you set. Open a real model (GGUF file or Hugging Face "
         "folder) to chat."),
      {},
      {{QStringLiteral("open-gguf"), tr("Open a model…")},
       {QStringLiteral("model-info"), tr("About this model")}});
  chat_->setWelcome(card);
}

void MainWindow::onEngineError(const EngineError& e) {
  QList<QPair<QString, QString>> actions;
  QString title;
  switch (e.kind) {
    case EngineErrorKind::BadModel:
      title = tr("The model could not be opened");
      actions = {{QStringLiteral("open-model"), tr("Open a model…")},
                 {QStringLiteral("load-default"), tr("Use the built-in model")}};
      if (!loading_path_.isEmpty() && model_.path != loading_path_ && !model_.path.isEmpty()) {
        model_ready_ = true;  // the previous model is still loaded
        controls_->setEnabled(true);
        const int idx = model_box_->findData(model_.path);
        if (idx >= 0) model_box_->setCurrentIndex(idx);
        updateStatus();
        emit modelReadyChanged(true);
      }
      break;
    case EngineErrorKind::BudgetBelowMinimum:
      title = tr("Budget below the minimum");
      actions = {{QStringLiteral("set-budget:%1").arg(e.minimum_bytes),
                  tr("Set the minimum (%1)").arg(bytes_text(e.minimum_bytes))}};
      if (e.ended_reply) actions.append({QStringLiteral("new-chat"), tr("New chat")});
      break;
    case EngineErrorKind::Io:
      title = tr("Reading the model failed");
      actions = {{QStringLiteral("retry"), tr("Try again")}};
      break;
    case EngineErrorKind::ContextFull:
      title = tr("The conversation is too long for this model");
      actions = {{QStringLiteral("new-chat"), tr("New chat")}};
      break;
    case EngineErrorKind::Setting:
      title = tr("Setting not applied");
      break;
  }
  if (generating_ && e.ended_reply) {
    GenerationSummary s;
    s.reason = StopReason::Cancelled;
    s.text = working_.messages.last().content;
    s.generated_tokens = -1;  // marks "interrupted by an error"
    finishReply(s);
  }
  chat_->addNotice(NoticeCard::Kind::Error, title, e.message, e.detail, actions);
}

}  // namespace flashchat::ui
