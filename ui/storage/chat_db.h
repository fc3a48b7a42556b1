// chat_db.h - FlashChat's database: conversations, messages, presets, models, runs and their
// per-token telemetry in one sqlite3 file (WAL, foreign keys on, schema.h migrations). One
// ChatDb is one connection, used by one thread at a time: the app keeps a read-write one on the
// writer thread (StoreWriter) and a read-only one on the GUI thread for lists, search and run
// history (WAL lets the reader see committed data while the writer writes).
#pragma once

#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>
#include <memory>
#include <vector>

#include "chat/conversation.h"
#include "runtime/telemetry.h"
#include "storage/sqlite_db.h"

namespace flashchat::ui {

// One generation (one assistant reply) as recorded.
struct RunInfo {
  QString uid;
  QString conversation_id;
  int message_seq = -1;        // the assistant message it produced
  QString model_path, model_name, mode;
  int window = 0;              // settings when it started (changes: RunChange)
  qint64 budget_bytes = 0, model_bytes = 0;
  int threads = 0;
  QString sampling_json;
  double read_limit_mb_per_s = 0;  // the disk's measured limit, drawn on the flash-read plot
  qint64 started_ms = 0, finished_ms = 0;  // finished 0: never finished (stopped by a crash)
  QString finish_reason;
  // Summaries over the generated (non-prompt) tokens, filled by runs_list()/run_load().
  QString conversation_title;
  int tokens = 0, prompt_tokens = 0;
  double ms_per_token = 0, bytes_per_token = 0, ffn_loaded_per_token = 0;
};

struct RunChange {
  qint64 token_index = 0;  // the first token that ran with the new settings
  QString label;           // "k 4→8", "budget 8.0→7.2 MB", "mode flash→mmap"
};

struct RunRecord {
  RunInfo info;
  std::vector<TokenTelemetry> tokens;  // in token order
  QList<RunChange> changes;
};

struct ModelRecord {
  QString path, name, format;  // format: "flash", "gguf", "hf"
  qint64 size_bytes = 0;
  QString conversion_json;     // architecture, dims, activation, predictor info
};

class ChatDb {
 public:
  // Opens `path`; read-write creates it when missing, sets WAL and migrates to kSchemaVersion.
  // Read-only opens an existing file as it is (no migration: a newer schema is read as far as
  // the columns this build knows exist). Throws Error (the file and sqlite's reason).
  ChatDb(const QString& path, bool read_only);
  ~ChatDb();

  // --- Conversations ---------------------------------------------------------------------
  // Every conversation not deleted, newest change first, with its messages. Throws Error.
  QList<Conversation> conversations_load();
  // Inserts or updates the conversation and its messages (only changed rows are written;
  // messages beyond the conversation's end are deleted). Throws Error.
  void conversation_save(const Conversation& c);
  // Delete with undo: deleted conversations are hidden, restored by `deleted = false`, and
  // removed for good (with their messages) by conversations_purge_deleted(). Throws Error.
  void conversation_set_deleted(const QString& id, bool deleted);
  int conversations_purge_deleted();
  bool conversation_exists(const QString& id);
  // Ids of the conversations whose title or any message matches every word of `query` (prefix
  // match, case and accent insensitive), newest first. Throws Error.
  QStringList search(const QString& query);
  // Imports every readable <dir>/*.json conversation not yet in the database (the JSON store of
  // earlier versions; the files stay as a backup). Unreadable files are named in `problems`.
  // Returns the number imported. Throws Error on database failure.
  int import_json_dir(const QString& dir, QStringList* problems = nullptr);

  // --- Runs and telemetry ----------------------------------------------------------------
  // Throws Error (also for an unknown uid).
  void run_begin(const RunInfo& r);
  void run_telemetry_append(const QString& uid, const TokenTelemetry& t);
  void run_change_add(const QString& uid, const RunChange& c);
  // `read_limit_mb_per_s` > 0 replaces the recorded disk limit (measured while the run ran).
  void run_finish(const QString& uid, qint64 finished_ms, const QString& reason,
                  double read_limit_mb_per_s = 0);
  // Runs newest first (of one conversation when `conversation_id` is not empty).
  QList<RunInfo> runs_list(const QString& conversation_id = {});
  RunRecord run_load(const QString& uid);

  // --- Models, presets, meta -------------------------------------------------------------
  void model_upsert(const ModelRecord& m);
  QList<ModelRecord> models_list();
  QStringList preset_names();
  QString meta_get(const QString& key);
  void meta_set(const QString& key, const QString& value);

  SqliteDb& db() { return *db_; }

 private:
  qint64 run_id_of(const QString& uid);
  RunInfo run_from_row(SqliteStmt& s);

  std::unique_ptr<SqliteDb> db_;
  QHash<QString, qint64> run_ids_;
  std::unique_ptr<SqliteStmt> insert_telemetry_;
};

// TokenTelemetry's per-layer arrays as a blob: 8 little-endian int32 per layer, in the order
// neurons_predicted, added, removed, streamed, cache_rows_used, cache_capacity, true_active,
// true_positive. Throws Error when the blob's size is not a multiple of 32 bytes.
std::vector<uint8_t> telemetry_layers_encode(const std::vector<LayerTelemetry>& layers);
std::vector<LayerTelemetry> telemetry_layers_decode(const std::vector<uint8_t>& blob);

// "<data dir>/flashchat.db"
QString chat_db_path(const QString& data_dir);
// The data directory: $FLASHCHAT_DATA_DIR when set, else QStandardPaths::AppDataLocation.
QString data_dir_default();

}  // namespace flashchat::ui
