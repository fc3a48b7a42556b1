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
#include <QLineEdit>
#include <QSplitter>
#include <QStackedWidget>
#include <QTimer>
#include <memory>

#include "bridge/engine_controls.h"
#include "bridge/engine_worker.h"
#include "chat/chat_settings_dialog.h"
#include "chat/chat_view.h"
#include "chat/composer.h"
#include "chat/conversation_list_model.h"
#include "models/model_list.h"
#include "storage/db_open.h"
#include "storage/store_writer.h"

namespace flashchat::ui {

class LivePanel;
class TeachingView;
class RunHistoryView;

// Asks the user what to do about a database that cannot be used as it is (a message box).
DbRecovery database_recovery_ask(DbProblem problem, const QString& message);

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  // `data_dir`: the database (flashchat.db), models.json and settings.ini live there. Opens
  // the database itself (asking the user when it is damaged, newer or unwritable). Throws Error
  // when the user chose to quit.
  explicit MainWindow(const QString& data_dir, QWidget* parent = nullptr);
  // With a database already opened by chat_db_open() (`db.reader` not null).
  MainWindow(const QString& data_dir, DbOpenResult db, QWidget* parent = nullptr);
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
  StoreWriter* store() const { return writer_; }
  ChatDb* database() const { return reader_.get(); }
  RunHistoryView* runHistory() const { return history_; }
  QLineEdit* searchBox() const { return search_; }
  QListView* conversationList() const { return list_; }
  bool historyShown() const;
  QString currentRunUid() const { return run_uid_; }
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
  // The run history page (replaces the chat and plots until "Back to chat"); with
  // `compare_latest`, the two newest runs side by side.
  void showRunHistory(bool compare_latest = false);
  void showChat();
  // Conversation list actions.
  void deleteConversation(const QString& id);
  void undoDelete();
  void exportConversation(const QString& id, const QString& path);  // .md or .json by suffix
  void importConversation(const QString& path);
  void applySearch(const QString& query);

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

  void buildLeftPane(QWidget* left);
  void openDatabase(DbOpenResult db);
  void recordModel(const ModelSummary& m);

  QString data_dir_;
  QSettings settings_;
  std::unique_ptr<ChatDb> reader_;  // GUI thread: lists, search, run history
  StoreWriter* writer_ = nullptr;   // every write, on its own thread
  DbOpenResult db_info_;            // what opening the database found (notices)
  ConversationListModel* conversations_ = nullptr;
  std::unique_ptr<ModelList> models_;
  EngineHost* engine_;

  QStackedWidget* pages_ = nullptr;
  RunHistoryView* history_ = nullptr;
  QLineEdit* search_ = nullptr;
  QLabel* search_info_ = nullptr;
  QWidget* undo_bar_ = nullptr;
  QLabel* undo_label_ = nullptr;
  QTimer search_timer_;
  QString run_uid_;  // the run being recorded
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
  QTimer save_timer_;  // saves the streaming conversation twice a second

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
