// MainWindow: the database (opening, the writer, JSON migration), the conversation list
// (search, rename, delete with undo, export/import) and the run history page.
#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QUuid>
#include <QVBoxLayout>

#include "core/error.h"
#include "history/run_history_view.h"
#include "main_window.h"
#include "storage/chat_export.h"

namespace flashchat::ui {

DbRecovery database_recovery_ask(DbProblem problem, const QString& message) {
  QMessageBox box(QMessageBox::Warning, MainWindow::tr("FlashChat — chat database"), message);
  QPushButton* ro = box.addButton(MainWindow::tr("Open read-only"), QMessageBox::AcceptRole);
  QPushButton* fresh = box.addButton(problem == DbProblem::Unwritable
                                         ? MainWindow::tr("Start a fresh one")
                                         : MainWindow::tr("Keep it aside, start a fresh one"),
                                     QMessageBox::DestructiveRole);
  box.addButton(MainWindow::tr("Quit"), QMessageBox::RejectRole);
  box.setDefaultButton(ro);
  box.exec();
  if (box.clickedButton() == ro) return DbRecovery::OpenReadOnly;
  if (box.clickedButton() == fresh) return DbRecovery::StartFresh;
  return DbRecovery::Quit;
}

void MainWindow::openDatabase(DbOpenResult db) {
  if (!db.reader) fail(chat_db_path(data_dir_).toStdString(), "not opened (quit chosen)");
  if (db.writer) {
    // Once: conversations of the JSON store of earlier versions (the files stay as a backup),
    // and the conversations deleted in an earlier session are removed for good.
    ChatDb& w = *db.writer;
    try {
      if (w.meta_get(QStringLiteral("json_import_ms")).isEmpty()) {
        const QString dir = QDir(data_dir_).filePath(QStringLiteral("conversations"));
        if (QFileInfo(dir).isDir()) w.import_json_dir(dir);
        w.meta_set(QStringLiteral("json_import_ms"),
                   QString::number(QDateTime::currentMSecsSinceEpoch()));
      }
      w.conversations_purge_deleted();
    } catch (const Error& e) {
      db.message =
          tr("Preparing the chat database failed: %1").arg(QString::fromStdString(e.what()));
    }
  }
  reader_ = std::move(db.reader);
  writer_ = new StoreWriter(std::move(db.writer), StoreWriter::kDefaultCommitIntervalMs, this);
  db_info_ = std::move(db);
  conversations_ = new ConversationListModel(reader_.get(), writer_, this);
}

void MainWindow::recordModel(const ModelSummary& m) {
  const QString format = m.flash ? QStringLiteral("flash")
                         : m.path.endsWith(QLatin1String(".gguf"), Qt::CaseInsensitive)
                             ? QStringLiteral("gguf")
                             : QStringLiteral("hf");
  const QJsonObject meta{{"arch", m.arch},         {"activation", m.activation},
                         {"parameters", m.parameters}, {"layers", m.n_layers},
                         {"dim", m.dim},           {"ffn_dim", m.ffn_dim},
                         {"context", m.context_size},  {"predictors_bytes", m.bytes_predictors}};
  writer_->upsertModel({m.path, m.name, format, m.model_bytes,
                        QString::fromUtf8(QJsonDocument(meta).toJson(QJsonDocument::Compact))});
}

void MainWindow::buildLeftPane(QWidget* left) {
  auto* lv = static_cast<QVBoxLayout*>(left->layout());
  auto* newBtn = new QPushButton(tr("+ New chat"), left);
  newBtn->setToolTip(tr("Start a new conversation (Ctrl+N)"));
  connect(newBtn, &QPushButton::clicked, this, &MainWindow::newChat);
  lv->addWidget(newBtn);
  search_ = new QLineEdit(left);
  search_->setPlaceholderText(tr("Search all chats"));
  search_->setClearButtonEnabled(true);
  search_->setAccessibleName(tr("Search all chats"));
  lv->addWidget(search_);
  search_info_ = new QLabel(left);
  search_info_->setProperty("dim", true);
  search_info_->hide();
  lv->addWidget(search_info_);
  search_timer_.setSingleShot(true);
  search_timer_.setInterval(150);
  connect(search_, &QLineEdit::textChanged, this, [this] { search_timer_.start(); });
  connect(&search_timer_, &QTimer::timeout, this, [this] { applySearch(search_->text()); });

  list_ = new QListView(left);
  list_->setModel(conversations_);
  list_->setEditTriggers(QAbstractItemView::EditKeyPressed | QAbstractItemView::DoubleClicked);
  list_->setContextMenuPolicy(Qt::CustomContextMenu);
  list_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  list_->setTextElideMode(Qt::ElideRight);
  list_->setUniformItemSizes(true);
  list_->setAccessibleName(tr("Conversations"));
  lv->addWidget(list_, 1);
  // Rows added or restored while a search is shown follow the search.
  connect(conversations_, &QAbstractItemModel::rowsInserted, this, [this] {
    if (!search_->text().trimmed().isEmpty()) search_timer_.start();
  });
  connect(list_->selectionModel(), &QItemSelectionModel::currentChanged, this,
          [this](const QModelIndex& idx) {
            if (idx.isValid()) selectConversation(idx.data(ConversationListModel::IdRole).toString());
          });
  connect(list_, &QListView::customContextMenuRequested, this, [this](const QPoint& p) {
    const QModelIndex idx = list_->indexAt(p);
    if (!idx.isValid()) return;
    const QString id = idx.data(ConversationListModel::IdRole).toString();
    QMenu menu(this);
    menu.addAction(tr("Rename"), this, [this, idx] { list_->edit(idx); });
    menu.addAction(tr("Export as Markdown…"), this, [this, id] {
      const QString path = QFileDialog::getSaveFileName(this, tr("Export as Markdown"),
                                                        QDir::homePath(), tr("Markdown (*.md)"));
      if (!path.isEmpty())
        exportConversation(id, path.endsWith(QLatin1String(".md")) ? path : path + ".md");
    });
    menu.addAction(tr("Export as JSON…"), this, [this, id] {
      const QString path = QFileDialog::getSaveFileName(this, tr("Export as JSON"),
                                                        QDir::homePath(), tr("JSON (*.json)"));
      if (!path.isEmpty())
        exportConversation(id, path.endsWith(QLatin1String(".json")) ? path : path + ".json");
    });
    menu.addSeparator();
    QAction* del = menu.addAction(tr("Delete"));
    del->setEnabled(!(generating_ && id == current_id_));
    connect(del, &QAction::triggered, this, [this, id] { deleteConversation(id); });
    menu.exec(list_->viewport()->mapToGlobal(p));
  });

  undo_bar_ = new QWidget(left);
  undo_bar_->setObjectName(QStringLiteral("undoBar"));
  auto* uh = new QHBoxLayout(undo_bar_);
  uh->setContentsMargins(0, 0, 0, 0);
  undo_label_ = new QLabel(undo_bar_);
  undo_label_->setProperty("dim", true);
  undo_label_->setTextFormat(Qt::PlainText);
  uh->addWidget(undo_label_, 1);
  auto* undo = new QPushButton(tr("Undo"), undo_bar_);
  undo->setToolTip(tr("Bring the deleted chat back"));
  connect(undo, &QPushButton::clicked, this, &MainWindow::undoDelete);
  uh->addWidget(undo);
  undo_bar_->hide();
  lv->addWidget(undo_bar_);
}

void MainWindow::applySearch(const QString& query) {
  QStringList ids;
  try {
    // What was just written is committed, so it can be found (not while a reply streams: the
    // GUI does not wait for the writer then; the reply is found from the next commit on).
    if (!generating_) conversations_->flush();
    ids = conversations_->search(query);
  } catch (const Error& e) {
    search_info_->setText(tr("Search failed: %1").arg(QString::fromStdString(e.what())));
    search_info_->show();
    return;
  }
  const bool all = query.trimmed().isEmpty();
  const QSet<QString> match(ids.begin(), ids.end());
  for (int row = 0; row < conversations_->rowCount(); ++row) {
    list_->setRowHidden(row, !all && !match.contains(conversations_->at(row).id));
  }
  search_info_->setVisible(!all);
  search_info_->setText(ids.isEmpty() ? tr("No chat contains “%1”").arg(query.trimmed())
                                      : tr("%n chats match", nullptr, int(ids.size())));
}

void MainWindow::deleteConversation(const QString& id) {
  const Conversation* c = conversations_->find(id);
  if (!c || (generating_ && id == current_id_)) return;
  QString title = c->title;
  if (title.size() > 28) title = title.left(27) + QStringLiteral("…");
  conversations_->remove(id);
  if (conversations_->rowCount() == 0) conversations_->create();
  if (id == current_id_ || conversations_->row_of(current_id_) < 0) {
    selectConversation(conversations_->at(0).id);
  }
  undo_label_->setText(tr("Deleted “%1”").arg(title));
  undo_bar_->show();
}

void MainWindow::undoDelete() {
  const QString id = conversations_->undoRemove();
  undo_bar_->setVisible(conversations_->canUndoRemove());
  if (!id.isEmpty()) selectConversation(id);
}

void MainWindow::exportConversation(const QString& id, const QString& path) {
  const Conversation* c = conversations_->find(id);
  if (!c) return;
  try {
    if (path.endsWith(QLatin1String(".md"), Qt::CaseInsensitive)) conversation_export_markdown(*c, path);
    else conversation_export_json(*c, path);
  } catch (const Error& e) {
    chat_->addNotice(NoticeCard::Kind::Error, tr("Export failed"),
                     tr("The chat could not be written."), QString::fromStdString(e.what()), {});
  }
}

void MainWindow::importConversation(const QString& path) {
  if (generating_) return;
  try {
    Conversation c = conversation_import_json(path);
    if (conversations_->find(c.id) || reader_->conversation_exists(c.id)) {
      c.id = QUuid::createUuid().toString(QUuid::WithoutBraces);  // a copy, never an overwrite
    }
    conversations_->insert(c);
    selectConversation(c.id);
  } catch (const Error& e) {
    chat_->addNotice(NoticeCard::Kind::Error, tr("Import failed"),
                     tr("%1 is not a chat exported by FlashChat.").arg(QFileInfo(path).fileName()),
                     QString::fromStdString(e.what()), {});
  }
}

bool MainWindow::historyShown() const { return pages_->currentWidget() == history_; }

void MainWindow::showRunHistory(bool compare_latest) {
  writer_->flush();  // the run just recorded is listed
  try {
    history_->refresh();
    RunListModel* runs = history_->runs();
    if (compare_latest && runs->rowCount() >= 2) {
      history_->compareRuns(runs->at(1).uid, runs->at(0).uid);
    } else if (runs->rowCount() >= 1 && history_->table()->selectionModel()->selectedRows().isEmpty()) {
      history_->showRun(runs->at(0).uid);
    }
  } catch (const Error& e) {
    chat_->addNotice(NoticeCard::Kind::Error, tr("Run history"),
                     tr("The recorded runs could not be read."), QString::fromStdString(e.what()),
                     {});
    return;
  }
  pages_->setCurrentWidget(history_);
}

void MainWindow::showChat() { pages_->setCurrentWidget(splitter_); }

}  // namespace flashchat::ui
