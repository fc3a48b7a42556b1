-- FlashChat database at schema version 1 (PRAGMA user_version = 1), made by running
-- migrations 1..1 of ui/storage/schema.cc as they were when version 1 was current, then
-- adding the rows below. ui_store_test loads it and migrates it to the current version.
PRAGMA user_version = 1;
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
  stop_reason TEXT NOT NULL DEFAULT '',
  UNIQUE (conversation_id, seq));
INSERT INTO messages VALUES(1,'c-river',0,'user','The old man walked along the river','');
INSERT INTO messages VALUES(2,'c-river',1,'assistant','He saw a heron standing in the shallows.','max tokens');
INSERT INTO messages VALUES(3,'c-kiln',0,'user','How hot does a kiln get? Café glaze','');
COMMIT;
