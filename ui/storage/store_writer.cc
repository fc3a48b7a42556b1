#include "storage/store_writer.h"

#include <QElapsedTimer>
#include <QTimer>
#include <mutex>

#include "core/error.h"

namespace flashchat::ui {

class StoreWriter::Worker : public QObject {
 public:
  Worker(std::unique_ptr<ChatDb> db, int interval_ms, StoreWriter* owner)
      : db_(std::move(db)), owner_(owner), timer_(this) {
    timer_.setSingleShot(true);
    timer_.setInterval(interval_ms);
    connect(&timer_, &QTimer::timeout, this, [this] { commit(); });
  }
  ~Worker() override { commit(); }

  void write(const std::function<void(ChatDb&)>& f) {
    try {
      if (!db_->db().in_transaction()) {
        db_->db().exec("BEGIN IMMEDIATE");
        since_begin_.start();
      }
      f(*db_);
      std::lock_guard lock(mutex_);
      ++stats_.writes;
    } catch (const Error& e) {
      report(e.what());
    }
    if (!timer_.isActive()) timer_.start();
  }

  void commit() {
    timer_.stop();
    if (!db_ || !db_->db().in_transaction()) return;
    QElapsedTimer c;
    c.start();
    try {
      db_->db().exec("COMMIT");
    } catch (const Error& e) {
      report(e.what());
      try {
        db_->db().exec("ROLLBACK");
      } catch (const Error&) {
      }
      return;
    }
    std::lock_guard lock(mutex_);
    ++stats_.transactions;
    stats_.max_commit_ms = std::max(stats_.max_commit_ms, c.nsecsElapsed() / 1e6);
    stats_.max_transaction_ms = std::max(stats_.max_transaction_ms, since_begin_.nsecsElapsed() / 1e6);
  }

  StoreWriterStats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

 private:
  void report(const std::string& what) {
    const QString msg = QStringLiteral("Could not save to the database: %1").arg(QString::fromStdString(what));
    StoreWriter* owner = owner_;
    QMetaObject::invokeMethod(owner, [owner, msg] { emit owner->writeFailed(msg); }, Qt::QueuedConnection);
  }

  std::unique_ptr<ChatDb> db_;
  StoreWriter* owner_;
  QTimer timer_;
  QElapsedTimer since_begin_;
  mutable std::mutex mutex_;
  StoreWriterStats stats_;
};

StoreWriter::StoreWriter(std::unique_ptr<ChatDb> db, int commit_interval_ms, QObject* parent)
    : QObject(parent), thread_(new QThread(this)), worker_(nullptr), read_only_(!db) {
  thread_->setObjectName(QStringLiteral("database writer"));
  pending_timer_.setSingleShot(true);
  pending_timer_.setInterval(kTelemetryBatchMs);
  connect(&pending_timer_, &QTimer::timeout, this, &StoreWriter::post_telemetry);
  if (db) {
    worker_ = new Worker(std::move(db), commit_interval_ms, this);
    worker_->moveToThread(thread_);
    connect(thread_, &QThread::finished, worker_, &QObject::deleteLater);
  }
  thread_->start();
}

StoreWriter::~StoreWriter() {
  flush();
  thread_->quit();
  thread_->wait();
}

void StoreWriter::post(std::function<void(ChatDb&)> write) {
  post_telemetry();
  post_now(std::move(write));
}

void StoreWriter::post_telemetry() {
  pending_timer_.stop();
  if (pending_.empty()) return;
  post_now([uid = pending_uid_, tokens = std::move(pending_)](ChatDb& db) {
    for (const TokenTelemetry& t : tokens) db.run_telemetry_append(uid, t);
  });
  pending_.clear();
}

void StoreWriter::post_now(std::function<void(ChatDb&)> write) {
  if (!worker_) {
    if (!read_only_reported_) {
      read_only_reported_ = true;
      QMetaObject::invokeMethod(this, [this] {
        emit writeFailed(QStringLiteral("The database is open read-only: changes are not saved."));
      }, Qt::QueuedConnection);
    }
    return;
  }
  Worker* w = worker_;
  QMetaObject::invokeMethod(worker_, [w, f = std::move(write)] { w->write(f); }, Qt::QueuedConnection);
}

void StoreWriter::flush() {
  post_telemetry();
  if (!worker_) return;
  Worker* w = worker_;
  QMetaObject::invokeMethod(worker_, [w] { w->commit(); }, Qt::BlockingQueuedConnection);
}

StoreWriterStats StoreWriter::stats() const { return worker_ ? worker_->stats() : StoreWriterStats{}; }

void StoreWriter::saveConversation(const Conversation& c) {
  post([c](ChatDb& db) { db.conversation_save(c); });
}
void StoreWriter::setDeleted(const QString& id, bool deleted) {
  post([id, deleted](ChatDb& db) { db.conversation_set_deleted(id, deleted); });
}
void StoreWriter::purgeDeleted() {
  post([](ChatDb& db) { db.conversations_purge_deleted(); });
}
void StoreWriter::beginRun(const RunInfo& r) {
  post([r](ChatDb& db) { db.run_begin(r); });
}
void StoreWriter::appendTelemetry(const QString& run_uid, const TokenTelemetry& t) {
  if (run_uid != pending_uid_) {
    post_telemetry();
    pending_uid_ = run_uid;
  }
  pending_.push_back(t);
  if (pending_.size() >= kTelemetryBatchTokens) post_telemetry();
  else if (!pending_timer_.isActive()) pending_timer_.start();
}
void StoreWriter::addChange(const QString& run_uid, const RunChange& c) {
  post([run_uid, c](ChatDb& db) { db.run_change_add(run_uid, c); });
}
void StoreWriter::finishRun(const QString& run_uid, qint64 finished_ms, const QString& reason,
                            double read_limit_mb_per_s) {
  post([run_uid, finished_ms, reason, read_limit_mb_per_s](ChatDb& db) {
    db.run_finish(run_uid, finished_ms, reason, read_limit_mb_per_s);
  });
}
void StoreWriter::upsertModel(const ModelRecord& m) {
  post([m](ChatDb& db) { db.model_upsert(m); });
}

}  // namespace flashchat::ui
