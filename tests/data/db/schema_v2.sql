-- FlashChat database at schema version 2 (PRAGMA user_version = 2), made by running
-- migrations 1..2 of ui/storage/schema.cc as they were when version 2 was current, then
-- adding the rows below. ui_store_test loads it and migrates it to the current version.
PRAGMA user_version = 2;
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES('created_by','fixture');
CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  system_prompt TEXT NOT NULL DEFAULT '',
  sampling_json TEXT NOT NULL DEFAULT '{}',
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL);
INSERT INTO conversations VALUES('c-river','River walk','Be brief.','{"temperature":0.3,"top_k":7,"top_p":0.9,"min_p":0.1,"repeat_penalty":1.1,"max_tokens":40,"seed":"42"}',1700000000000,1700000005000);
INSERT INTO conversations VALUES('c-kiln','Pottery «kiln» notes','','{}',1700000100000,1700000200000);
CREATE TABLE messages (
  id INTEGER PRIMARY KEY,
  conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
  content TEXT NOT NULL,
  stop_reason TEXT NOT NULL DEFAULT '', model TEXT NOT NULL DEFAULT '', sampling_json TEXT NOT NULL DEFAULT '', prompt_tokens INTEGER NOT NULL DEFAULT 0, tokens INTEGER NOT NULL DEFAULT 0, prompt_ms REAL NOT NULL DEFAULT 0, generate_ms REAL NOT NULL DEFAULT 0, ttft_ms REAL NOT NULL DEFAULT 0, run_uid TEXT NOT NULL DEFAULT '',
  UNIQUE (conversation_id, seq));
INSERT INTO messages VALUES(1,'c-river',0,'user','The old man walked along the river','','','',0,0,0.0,0.0,0.0,'');
INSERT INTO messages VALUES(2,'c-river',1,'assistant','He saw a heron standing in the shallows.','max tokens','flashchat-default','{"temperature":0.3}',9,12,20.499999999999999999,48.0,24.249999999999999999,'run-1');
INSERT INTO messages VALUES(3,'c-kiln',0,'user','How hot does a kiln get? Café glaze','','','',0,0,0.0,0.0,0.0,'');
CREATE TABLE models (
  path TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  format TEXT NOT NULL DEFAULT '',
  size_bytes INTEGER NOT NULL DEFAULT 0,
  conversion_json TEXT NOT NULL DEFAULT '{}',
  added_ms INTEGER NOT NULL);
INSERT INTO models VALUES('/models/default','flashchat-default','flash',10615808,'{"arch":"llama","layers":4}',1700000000000);
CREATE TABLE presets (
  name TEXT PRIMARY KEY,
  sampling_json TEXT NOT NULL,
  builtin INTEGER NOT NULL DEFAULT 0);
INSERT INTO presets VALUES('Precise','{"temperature":0.3,"top_k":20,"top_p":0.9,"min_p":0.1,"repeat_penalty":1.1}',1);
INSERT INTO presets VALUES('Balanced','{"temperature":0.8,"top_k":40,"top_p":0.95,"min_p":0.05,"repeat_penalty":1.1}',1);
INSERT INTO presets VALUES('Creative','{"temperature":1.1,"top_k":100,"top_p":0.98,"min_p":0.02,"repeat_penalty":1.05}',1);
INSERT INTO presets VALUES('Greedy','{"temperature":0.0,"top_k":1,"top_p":1.0,"min_p":0.0,"repeat_penalty":1.0}',1);
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
INSERT INTO runs VALUES(1,'run-1','c-river',1,'/models/default','flashchat-default','flash',4,7000000,10615808,2,'{}',850.50000000000000001,1700000001000,1700000002000,'max tokens');
CREATE TABLE run_changes (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  token_index INTEGER NOT NULL,
  label TEXT NOT NULL);
INSERT INTO run_changes VALUES(1,2,'k 4→8');
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
INSERT INTO telemetry VALUES(1,0,0,1,'flash',0.10000000000000000555,0.0,0.050000000000000002775,1.5,0.010000000000000000208,2.0,0,0,4,4,7000000,3000000,500000,1000000,0,262144,100000,50000000,40000000,6144,300,X'080000000400000000000000010000006400000080010000ffffffffffffffff090000000500000001000000010000006500000080010000ffffffffffffffff0a0000000600000002000000010000006600000080010000ffffffffffffffff0b0000000700000003000000010000006700000080010000ffffffffffffffff');
INSERT INTO telemetry VALUES(1,1,1,0,'flash',0.10000000000000000555,0.2000000000000000111,0.050000000000000002775,1.5,0.010000000000000000208,3.0,40960,10,4,4,7000000,3000000,500000,1001000,16384,262144,100000,50000000,40000000,6144,301,X'120000000900000000000000010000006400000080010000ffffffffffffffff130000000a00000001000000010000006500000080010000ffffffffffffffff140000000b00000002000000010000006600000080010000ffffffffffffffff150000000c00000003000000010000006700000080010000ffffffffffffffff');
INSERT INTO telemetry VALUES(1,2,2,0,'flash',0.10000000000000000555,0.4000000000000000222,0.050000000000000002775,1.5,0.010000000000000000208,4.0,81920,20,8,8,7000000,3000000,500000,1002000,32768,262144,100000,50000000,40000000,6144,302,X'1c0000000e00000000000000010000006400000080010000ffffffffffffffff1d0000000f00000001000000010000006500000080010000ffffffffffffffff1e0000001000000002000000010000006600000080010000ffffffffffffffff1f0000001100000003000000010000006700000080010000ffffffffffffffff');
INSERT INTO telemetry VALUES(1,3,3,0,'flash',0.10000000000000000555,0.60000000000000008881,0.050000000000000002775,1.5,0.010000000000000000208,5.0,122880,30,8,8,7000000,3000000,500000,1003000,49152,262144,100000,50000000,40000000,6144,303,X'260000001300000000000000010000006400000080010000ffffffffffffffff270000001400000001000000010000006500000080010000ffffffffffffffff280000001500000002000000010000006600000080010000ffffffffffffffff290000001600000003000000010000006700000080010000ffffffffffffffff');
CREATE INDEX runs_by_conversation ON runs(conversation_id);
CREATE INDEX run_changes_by_run ON run_changes(run_id, token_index);
COMMIT;
