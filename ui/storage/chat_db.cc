#include "storage/chat_db.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QStandardPaths>

#include "core/error.h"
#include "storage/schema.h"

namespace flashchat::ui {

namespace {

std::string s8(const QString& s) { return s.toStdString(); }
QString q8(const std::string& s) { return QString::fromStdString(s); }

QString sampling_text(const ChatSampling& s) {
  return QString::fromUtf8(QJsonDocument(chat_sampling_to_json(s)).toJson(QJsonDocument::Compact));
}

// Every word as a quoted FTS5 prefix term ("word"*), all required.
std::string fts_query(const QString& query) {
  std::string out;
  for (const QString& w : query.split(QRegularExpression(QStringLiteral("\\s+")), Qt::SkipEmptyParts)) {
    QString t = w;
    t.replace('"', QStringLiteral("\"\""));
    out += (out.empty() ? "" : " ") + ("\"" + t + "\"*").toStdString();
  }
  return out;
}

}  // namespace

QString data_dir_default() {
  const QString env = qEnvironmentVariable("FLASHCHAT_DATA_DIR");
  if (!env.isEmpty()) return env;
  return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
}

QString chat_db_path(const QString& data_dir) {
  return QDir(data_dir).filePath(QStringLiteral("flashchat.db"));
}

ChatDb::ChatDb(const QString& path, bool read_only) {
  db_ = std::make_unique<SqliteDb>(
      s8(path), read_only ? SqliteDb::Mode::ReadOnly : SqliteDb::Mode::ReadWriteCreate);
  // A file that is not a database fails here (the first read of the header).
  const int version = db_->user_version();
  if (read_only) return;
  if (version > kSchemaVersion) schema_migrate(*db_);  // throws: newer than this build
  if (db_->query_text("PRAGMA journal_mode = WAL") != "wal") {
    fail(s8(path), "cannot switch to write-ahead logging");
  }
  db_->exec("PRAGMA synchronous = NORMAL");
  schema_migrate(*db_);
}

ChatDb::~ChatDb() = default;

QList<Conversation> ChatDb::conversations_load() {
  QList<Conversation> out;
  QHash<QString, int> row;
  SqliteStmt c = db_->prepare(
      "SELECT id, title, system_prompt, sampling_json, created_ms, updated_ms FROM conversations "
      "WHERE deleted_ms IS NULL ORDER BY updated_ms DESC");
  while (c.step()) {
    Conversation x;
    x.id = q8(c.col_text(0));
    x.title = q8(c.col_text(1));
    x.system_prompt = q8(c.col_text(2));
    x.sampling = chat_sampling_from_json(
        QJsonDocument::fromJson(QByteArray::fromStdString(c.col_text(3))).object());
    x.created_ms = c.col_int(4);
    x.updated_ms = c.col_int(5);
    row[x.id] = static_cast<int>(out.size());
    out.append(x);
  }
  SqliteStmt m = db_->prepare(
      "SELECT conversation_id, role, content, stop_reason, model, sampling_json, prompt_tokens, "
      "tokens, prompt_ms, generate_ms, ttft_ms, run_uid FROM messages ORDER BY conversation_id, seq");
  while (m.step()) {
    const auto it = row.find(q8(m.col_text(0)));
    if (it == row.end()) continue;  // a deleted conversation's
    ChatMessageEntry e{q8(m.col_text(1)), q8(m.col_text(2)), q8(m.col_text(3))};
    e.model = q8(m.col_text(4));
    e.sampling_json = q8(m.col_text(5));
    e.prompt_tokens = static_cast<int>(m.col_int(6));
    e.tokens = static_cast<int>(m.col_int(7));
    e.prompt_ms = m.col_double(8);
    e.generate_ms = m.col_double(9);
    e.ttft_ms = m.col_double(10);
    e.run_uid = q8(m.col_text(11));
    out[*it].messages.append(e);
  }
  return out;
}

void ChatDb::conversation_save(const Conversation& c) {
  SqliteTxn txn(*db_);
  db_->prepare(
         "INSERT INTO conversations (id, title, system_prompt, sampling_json, created_ms, updated_ms) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET title = excluded.title, "
         "system_prompt = excluded.system_prompt, sampling_json = excluded.sampling_json, "
         "updated_ms = excluded.updated_ms")
      .bind(1, s8(c.id)).bind(2, s8(c.title)).bind(3, s8(c.system_prompt))
      .bind(4, s8(sampling_text(c.sampling))).bind(5, c.created_ms).bind(6, c.updated_ms)
      .run();
  SqliteStmt m = db_->prepare(
      "INSERT INTO messages (conversation_id, seq, role, content, stop_reason, model, sampling_json, "
      "prompt_tokens, tokens, prompt_ms, generate_ms, ttft_ms, run_uid) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
      "ON CONFLICT (conversation_id, seq) DO UPDATE SET role = excluded.role, "
      "content = excluded.content, stop_reason = excluded.stop_reason, model = excluded.model, "
      "sampling_json = excluded.sampling_json, prompt_tokens = excluded.prompt_tokens, "
      "tokens = excluded.tokens, prompt_ms = excluded.prompt_ms, generate_ms = excluded.generate_ms, "
      "ttft_ms = excluded.ttft_ms, run_uid = excluded.run_uid "
      "WHERE (role, content, stop_reason, model, sampling_json, prompt_tokens, tokens, prompt_ms, "
      "generate_ms, ttft_ms, run_uid) IS NOT (excluded.role, excluded.content, excluded.stop_reason, "
      "excluded.model, excluded.sampling_json, excluded.prompt_tokens, excluded.tokens, "
      "excluded.prompt_ms, excluded.generate_ms, excluded.ttft_ms, excluded.run_uid)");
  for (int i = 0; i < c.messages.size(); ++i) {
    const ChatMessageEntry& e = c.messages[i];
    m.bind(1, s8(c.id)).bind(2, i).bind(3, s8(e.role)).bind(4, s8(e.content))
        .bind(5, s8(e.stop_reason)).bind(6, s8(e.model)).bind(7, s8(e.sampling_json))
        .bind(8, e.prompt_tokens).bind(9, e.tokens).bind(10, e.prompt_ms)
        .bind(11, e.generate_ms).bind(12, e.ttft_ms).bind(13, s8(e.run_uid));
    m.run();
  }
  db_->prepare("DELETE FROM messages WHERE conversation_id = ?1 AND seq >= ?2")
      .bind(1, s8(c.id)).bind(2, static_cast<int>(c.messages.size())).run();
  txn.commit();
}

void ChatDb::conversation_set_deleted(const QString& id, bool deleted) {
  SqliteStmt s = db_->prepare("UPDATE conversations SET deleted_ms = ?2 WHERE id = ?1");
  s.bind(1, s8(id));
  if (deleted) s.bind(2, QDateTime::currentMSecsSinceEpoch());
  else s.bind_null(2);
  s.run();
}

int ChatDb::conversations_purge_deleted() {
  db_->exec("DELETE FROM conversations WHERE deleted_ms IS NOT NULL");
  return db_->changes();
}

bool ChatDb::conversation_exists(const QString& id) {
  SqliteStmt s = db_->prepare("SELECT 1 FROM conversations WHERE id = ?1");
  s.bind(1, s8(id));
  return s.step();
}

QStringList ChatDb::search(const QString& query) {
  QStringList out;
  const std::string fts = fts_query(query);
  if (fts.empty()) return out;
  QString like = query.trimmed();
  like.replace('\\', QStringLiteral("\\\\")).replace('%', QStringLiteral("\\%")).replace('_', QStringLiteral("\\_"));
  SqliteStmt s = db_->prepare(
      "SELECT c.id FROM conversations c WHERE c.deleted_ms IS NULL AND ("
      "  c.title LIKE ?2 ESCAPE '\\' OR c.id IN ("
      "    SELECT m.conversation_id FROM messages_fts f JOIN messages m ON m.id = f.rowid "
      "    WHERE messages_fts MATCH ?1)) "
      "ORDER BY c.updated_ms DESC");
  s.bind(1, fts).bind(2, s8(QStringLiteral("%") + like + QStringLiteral("%")));
  while (s.step()) out << q8(s.col_text(0));
  return out;
}

int ChatDb::import_json_dir(const QString& dir, QStringList* problems) {
  int imported = 0;
  const QStringList files = QDir(dir).entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name);
  SqliteTxn txn(*db_);
  for (const QString& name : files) {
    QFile f(QDir(dir).filePath(name));
    if (!f.open(QIODevice::ReadOnly)) {
      if (problems) *problems << name + ": " + f.errorString();
      continue;
    }
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &err);
    if (!doc.isObject()) {
      if (problems) *problems << name + ": " + err.errorString();
      continue;
    }
    try {
      const Conversation c = conversation_from_json(doc.object());
      if (conversation_exists(c.id)) continue;
      conversation_save(c);
      ++imported;
    } catch (const Error& e) {
      if (problems) *problems << name + ": " + QString::fromStdString(e.what());
    }
  }
  txn.commit();
  return imported;
}

void ChatDb::model_upsert(const ModelRecord& m) {
  db_->prepare(
         "INSERT INTO models (path, name, format, size_bytes, conversion_json, added_ms) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (path) DO UPDATE SET name = excluded.name, "
         "format = excluded.format, size_bytes = excluded.size_bytes, "
         "conversion_json = excluded.conversion_json")
      .bind(1, s8(m.path)).bind(2, s8(m.name)).bind(3, s8(m.format)).bind(4, m.size_bytes)
      .bind(5, s8(m.conversion_json.isEmpty() ? QStringLiteral("{}") : m.conversion_json))
      .bind(6, QDateTime::currentMSecsSinceEpoch())
      .run();
}

QList<ModelRecord> ChatDb::models_list() {
  QList<ModelRecord> out;
  SqliteStmt s = db_->prepare(
      "SELECT path, name, format, size_bytes, conversion_json FROM models ORDER BY added_ms");
  while (s.step()) {
    out.append({q8(s.col_text(0)), q8(s.col_text(1)), q8(s.col_text(2)), s.col_int(3),
                q8(s.col_text(4))});
  }
  return out;
}

QStringList ChatDb::preset_names() {
  QStringList out;
  SqliteStmt s = db_->prepare("SELECT name FROM presets ORDER BY builtin DESC, rowid");
  while (s.step()) out << q8(s.col_text(0));
  return out;
}

QString ChatDb::meta_get(const QString& key) {
  SqliteStmt s = db_->prepare("SELECT value FROM meta WHERE key = ?1");
  s.bind(1, s8(key));
  return s.step() ? q8(s.col_text(0)) : QString();
}

void ChatDb::meta_set(const QString& key, const QString& value) {
  db_->prepare("INSERT INTO meta (key, value) VALUES (?1, ?2) "
               "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
      .bind(1, s8(key)).bind(2, s8(value)).run();
}

}  // namespace flashchat::ui
