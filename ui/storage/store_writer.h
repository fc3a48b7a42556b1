// store_writer.h - every write to the database, off the GUI thread: a StoreWriter owns a thread
// and the read-write ChatDb connection on it. Calls (from the owner's thread) queue the write in
// order; on the writer thread writes join one open transaction that is committed at most
// `commit_interval_ms` after its first write (so a streaming reply and its telemetry reach the
// file several times a second, in small transactions), and at once on flush(). Telemetry is
// handed over in batches (every 100 ms, 64 tokens, or before any other write), so a fast model
// does not wake the writer thread once per token.
#pragma once

#include <QObject>
#include <QString>
#include <QThread>
#include <QTimer>
#include <vector>
#include <atomic>
#include <functional>
#include <memory>

#include "storage/chat_db.h"

namespace flashchat::ui {

struct StoreWriterStats {
  qint64 transactions = 0;
  qint64 writes = 0;
  double max_commit_ms = 0;       // longest COMMIT
  double max_transaction_ms = 0;  // longest from BEGIN to COMMIT done (writes included)
};

class StoreWriter : public QObject {
  Q_OBJECT
 public:
  static constexpr int kDefaultCommitIntervalMs = 250;
  static constexpr int kTelemetryBatchMs = 100;
  static constexpr size_t kTelemetryBatchTokens = 64;

  // Takes `db` (read-write; null: a read-only session, writes are dropped and reported once
  // through writeFailed).
  explicit StoreWriter(std::unique_ptr<ChatDb> db, int commit_interval_ms = kDefaultCommitIntervalMs,
                       QObject* parent = nullptr);
  ~StoreWriter() override;  // commits what is queued, then stops the thread

  bool read_only() const { return read_only_; }

  void saveConversation(const Conversation& c);
  void setDeleted(const QString& id, bool deleted);
  void purgeDeleted();
  void beginRun(const RunInfo& r);
  void appendTelemetry(const QString& run_uid, const TokenTelemetry& t);
  void addChange(const QString& run_uid, const RunChange& c);
  void finishRun(const QString& run_uid, qint64 finished_ms, const QString& reason,
                 double read_limit_mb_per_s = 0);
  void upsertModel(const ModelRecord& m);
  // Any other write (tests, imports), run on the writer thread inside the open transaction.
  void post(std::function<void(ChatDb&)> write);

  // Blocks until everything queued before is committed.
  void flush();
  StoreWriterStats stats() const;

 signals:
  // A write or commit failed (disk full, read-only, ...), as user-facing text.
  void writeFailed(const QString& message);

 private:
  class Worker;
  void post_telemetry();  // hands the pending tokens over (before any other write, in order)
  void post_now(std::function<void(ChatDb&)> write);

  QString pending_uid_;
  std::vector<TokenTelemetry> pending_;
  QTimer pending_timer_;
  QThread* thread_;
  Worker* worker_;
  bool read_only_;
  bool read_only_reported_ = false;
};

}  // namespace flashchat::ui
