#include "storage/schema.h"

#include <string>

#include "core/error.h"

namespace flashchat::ui {

namespace {

// Version 1: conversations and their messages (what the JSON files held), key/value meta.
constexpr const char* kV1 = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  system_prompt TEXT NOT NULL DEFAULT '',
  sampling_json TEXT NOT NULL DEFAULT '{}',
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL);
CREATE TABLE messages (
  id INTEGER PRIMARY KEY,
  conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
  content TEXT NOT NULL,
  stop_reason TEXT NOT NULL DEFAULT '',
  UNIQUE (conversation_id, seq));
)sql";

// Version 2: per-message model/sampling/timing, models, presets, runs and per-token telemetry.
constexpr const char* kV2 = R"sql(
ALTER TABLE messages ADD COLUMN model TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN sampling_json TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN prompt_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN prompt_ms REAL NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN generate_ms REAL NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN ttft_ms REAL NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN run_uid TEXT NOT NULL DEFAULT '';
CREATE TABLE models (
  path TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  format TEXT NOT NULL DEFAULT '',
  size_bytes INTEGER NOT NULL DEFAULT 0,
  conversion_json TEXT NOT NULL DEFAULT '{}',
  added_ms INTEGER NOT NULL);
CREATE TABLE presets (
  name TEXT PRIMARY KEY,
  sampling_json TEXT NOT NULL,
  builtin INTEGER NOT NULL DEFAULT 0);
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  uid TEXT NOT NULL UNIQUE,
  conversation_id TEXT REFERENCES conversations(id) ON DELETE SET NULL,
  message_seq INTEGER NOT NULL DEFAULT -1,
  model_path TEXT NOT NULL,
  model_name TEXT NOT NULL,
  mode TEXT NOT NULL,
  window INTEGER NOT NULL,
  budget_bytes INTEGER NOT NULL,
  model_bytes INTEGER NOT NULL DEFAULT 0,
  threads INTEGER NOT NULL DEFAULT 0,
  sampling_json TEXT NOT NULL DEFAULT '{}',
  read_limit_mb_per_s REAL NOT NULL DEFAULT 0,
  started_ms INTEGER NOT NULL,
  finished_ms INTEGER,
  finish_reason TEXT NOT NULL DEFAULT '');
CREATE INDEX runs_by_conversation ON runs(conversation_id);
CREATE TABLE run_changes (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  token_index INTEGER NOT NULL,
  label TEXT NOT NULL);
CREATE INDEX run_changes_by_run ON run_changes(run_id, token_index);
CREATE TABLE telemetry (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  token_index INTEGER NOT NULL,
  pos INTEGER NOT NULL,
  prompt INTEGER NOT NULL,
  mode TEXT NOT NULL,
  predictor_ms REAL NOT NULL, io_ms REAL NOT NULL, memory_ms REAL NOT NULL,
  compute_ms REAL NOT NULL, sampling_ms REAL NOT NULL, total_ms REAL NOT NULL,
  bytes_read INTEGER NOT NULL, read_requests INTEGER NOT NULL,
  window_requested INTEGER NOT NULL, window_in_force INTEGER NOT NULL,
  budget_bytes INTEGER NOT NULL,
  dram_resident_weights INTEGER NOT NULL, dram_predictors INTEGER NOT NULL,
  dram_neuron_cache INTEGER NOT NULL, dram_kv_cache INTEGER NOT NULL,
  dram_io_buffers INTEGER NOT NULL, dram_other INTEGER NOT NULL,
  process_rss_bytes INTEGER NOT NULL, process_base_rss_bytes INTEGER NOT NULL,
  ffn_neurons_total INTEGER NOT NULL, ffn_neurons_loaded INTEGER NOT NULL,
  layers BLOB NOT NULL,
  PRIMARY KEY (run_id, token_index)) WITHOUT ROWID;
INSERT INTO presets (name, sampling_json, builtin) VALUES
  ('Precise',  '{"temperature":0.3,"top_k":20,"top_p":0.9,"min_p":0.1,"repeat_penalty":1.1}', 1),
  ('Balanced', '{"temperature":0.8,"top_k":40,"top_p":0.95,"min_p":0.05,"repeat_penalty":1.1}', 1),
  ('Creative', '{"temperature":1.1,"top_k":100,"top_p":0.98,"min_p":0.02,"repeat_penalty":1.05}', 1),
  ('Greedy',   '{"temperature":0.0,"top_k":1,"top_p":1.0,"min_p":0.0,"repeat_penalty":1.0}', 1);
)sql";

// Version 3: delete with undo (deleted_ms) and full-text search over messages (FTS5, external
// content kept in step by triggers), built from the messages already there.
constexpr const char* kV3 = R"sql(
ALTER TABLE conversations ADD COLUMN deleted_ms INTEGER;
CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='id',
                                             tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
  INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
  INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
)sql";

constexpr const char* kSteps[kSchemaVersion] = {kV1, kV2, kV3};

}  // namespace

void schema_migrate(SqliteDb& db, int target) {
  const int from = db.user_version();
  if (from > kSchemaVersion) {
    fail(db.path(), "the database is from a newer FlashChat (schema version " +
                        std::to_string(from) + "; this version reads up to " +
                        std::to_string(kSchemaVersion) + ")");
  }
  for (int v = from; v < target; ++v) {
    SqliteTxn txn(db);
    db.exec(kSteps[v]);
    db.set_user_version(v + 1);
    txn.commit();
  }
}

}  // namespace flashchat::ui
