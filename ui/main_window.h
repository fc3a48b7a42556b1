// main_window.h - the FlashChat window: conversations (left), chat (centre), run controls and
// live plots (right, collapsible), status strip. Owns the engine thread (EngineHost) and wires
// the widgets to it; also runs the deterministic --demo script.
#pragma once

#include <QComboBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QListView>
#include <QMainWindow>
#include <QPointer>
#include <QSettings>
#include <QSplitter>
#include <QTimer>
#include <memory>

#include "bridge/engine_controls.h"
#include "bridge/engine_worker.h"
#include "chat/chat_settings_dialog.h"
#include "chat/chat_view.h"
#include "chat/composer.h"
#include "chat/conversation_list_model.h"
#include "chat/conversation_store.h"
#include "models/model_list.h"

namespace flashchat::ui {

class LivePanel;
class TeachingView;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  // `data_dir`: conversations, models.json and settings.ini live there.
  explicit MainWindow(const QString& data_dir, QWidget* parent = nullptr);
  ~MainWindow() override;

  // Loads the model chosen last time (or the default model). Call once after construction.
  void start();
  // The fixed --demo script on the default model: two short turns, a budget and a window change
  // in the middle of the second reply, then idle. Emits demoFinished when done.
  void startDemo();

  // For tests and the demo.
  EngineWorker* worker() const { return engine_->worker(); }
  EngineControls* controls() const { return controls_; }
  ChatView* chatView() const { return chat_; }
  Composer* composer() const { return composer_; }
  ConversationListModel* conversations() const { return conversations_; }
  QString currentConversationId() const { return current_id_; }
  bool generating() const { return generating_; }
  bool modelReady() const { return model_ready_; }
  const ModelSummary& model() const { return model_; }
  QWidget* livePanel() const { return live_; }
  LivePanel* plots() const { return live_panel_; }
  QLabel* statusField(const QString& name) const;
  TeachingView* teachingView() const { return teaching_; }

 public slots:
  void newChat();
  void sendMessage(const QString& text);
  void stopGeneration();
  void regenerate();
  void openModelFile();
  void openModelFolder();
  void showModelInfo();
  void showChatSettings();
  // The teaching view (its own window; records the engine's active sets only while shown).
  void showTeachingView();
  void copyChat();

 signals:
  void replyFinished();
  void demoFinished(bool ok);
  void modelReadyChanged(bool ready);

 protected:
  void closeEvent(QCloseEvent* e) override;

 private:
  void buildUi();
  void buildMenus();
  void connectEngine();
  void selectConversation(const QString& id);
  void runReply();
  void finishReply(const GenerationSummary& s);
  void onEngineError(const EngineError& e);
  void onModelLoaded(const ModelSummary& m);
  void onTelemetry(const TokenTelemetry& t);
  void loadModel(const QString& path);
  void openModelPath(const QString& path);
  void showWelcome();
  void updateStatus();
  void applyStyle();
  QString probeCacheFile() const;
  Conversation* current();
  void saveCurrent(bool persist);

  QString data_dir_;
  QSettings settings_;
  std::unique_ptr<ConversationStore> store_;
  ConversationListModel* conversations_;
  std::unique_ptr<ModelList> models_;
  EngineHost* engine_;

  QSplitter* splitter_ = nullptr;
  QSplitter* right_split_ = nullptr;
  QListView* list_ = nullptr;
  QComboBox* model_box_ = nullptr;
  ChatView* chat_ = nullptr;
  Composer* composer_ = nullptr;
  EngineControls* controls_ = nullptr;
  QWidget* live_ = nullptr;
  LivePanel* live_panel_ = nullptr;  // null until the plots are merged
  TeachingView* teaching_ = nullptr;  // created on first open
  QLabel* limit_label_ = nullptr;
  QPointer<ChatSettingsDialog> settings_dialog_;
  QMap<QString, QLabel*> status_;

  QString current_id_;
  Conversation working_;  // copy of the current conversation while a reply streams
  bool generating_ = false;
  bool model_ready_ = false;
  QString loading_path_;
  ModelSummary model_;
  qint64 budget_bytes_ = 0;
  QTimer save_timer_;  // saves the streaming conversation at least once a second

  // Status figures.
  TokenTelemetry last_;
  bool have_telemetry_ = false;
  double ttft_ms_ = -1;
  int prompt_done_ = 0, prompt_total_ = 0;
  double gen_ms_sum_ = 0;
  int gen_count_ = 0;
  int context_used_ = 0;

  // Demo state.
  int demo_step_ = -1;
  int demo_reply_tokens_ = 0;
  QTimer demo_timeout_;
};

}  // namespace flashchat::ui
