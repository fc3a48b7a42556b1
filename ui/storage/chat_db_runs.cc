// ChatDb: runs, their settings changes and per-token telemetry.
#include <bit>
#include <cstring>

#include "core/error.h"
#include "storage/chat_db.h"

namespace flashchat::ui {

namespace {

std::string s8(const QString& s) { return s.toStdString(); }
QString q8(const std::string& s) { return QString::fromStdString(s); }

constexpr int kLayerFields = 8;

constexpr const char* kRunColumns =
    "r.uid, r.conversation_id, r.message_seq, r.model_path, r.model_name, r.mode, r.window, "
    "r.budget_bytes, r.model_bytes, r.threads, r.sampling_json, r.read_limit_mb_per_s, "
    "r.started_ms, r.finished_ms, r.finish_reason, coalesce(c.title, ''), "
    "(SELECT count(*) FROM telemetry t WHERE t.run_id = r.id AND t.prompt = 0), "
    "(SELECT count(*) FROM telemetry t WHERE t.run_id = r.id AND t.prompt = 1), "
    "(SELECT avg(total_ms) FROM telemetry t WHERE t.run_id = r.id AND t.prompt = 0), "
    "(SELECT avg(bytes_read) FROM telemetry t WHERE t.run_id = r.id AND t.prompt = 0), "
    "(SELECT avg(ffn_neurons_loaded) FROM telemetry t WHERE t.run_id = r.id AND t.prompt = 0) "
    "FROM runs r LEFT JOIN conversations c ON c.id = r.conversation_id ";

}  // namespace

std::vector<uint8_t> telemetry_layers_encode(const std::vector<LayerTelemetry>& layers) {
  static_assert(std::endian::native == std::endian::little, "blobs are little-endian");
  std::vector<uint8_t> out(layers.size() * kLayerFields * sizeof(int32_t));
  uint8_t* p = out.data();
  for (const LayerTelemetry& l : layers) {
    const int32_t v[kLayerFields] = {l.neurons_predicted, l.neurons_added,   l.neurons_removed,
                                     l.neurons_streamed,  l.cache_rows_used, l.cache_capacity,
                                     l.true_active,       l.true_positive};
    std::memcpy(p, v, sizeof v);
    p += sizeof v;
  }
  return out;
}

std::vector<LayerTelemetry> telemetry_layers_decode(const std::vector<uint8_t>& blob) {
  constexpr size_t kRow = kLayerFields * sizeof(int32_t);
  if (blob.size() % kRow != 0) {
    fail("telemetry", "layer blob of " + std::to_string(blob.size()) +
                          " bytes is not a multiple of " + std::to_string(kRow));
  }
  std::vector<LayerTelemetry> out(blob.size() / kRow);
  for (size_t i = 0; i < out.size(); ++i) {
    int32_t v[kLayerFields];
    std::memcpy(v, blob.data() + i * kRow, kRow);
    out[i] = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
  }
  return out;
}

qint64 ChatDb::run_id_of(const QString& uid) {
  if (const auto it = run_ids_.constFind(uid); it != run_ids_.constEnd()) return *it;
  SqliteStmt s = db_->prepare("SELECT id FROM runs WHERE uid = ?1");
  s.bind(1, s8(uid));
  if (!s.step()) fail(db_->path(), "no run " + s8(uid));
  return run_ids_[uid] = s.col_int(0);
}

void ChatDb::run_begin(const RunInfo& r) {
  SqliteStmt s = db_->prepare(
      "INSERT INTO runs (uid, conversation_id, message_seq, model_path, model_name, mode, window, "
      "budget_bytes, model_bytes, threads, sampling_json, read_limit_mb_per_s, started_ms) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
  s.bind(1, s8(r.uid));
  if (r.conversation_id.isEmpty()) s.bind_null(2);
  else s.bind(2, s8(r.conversation_id));
  s.bind(3, r.message_seq).bind(4, s8(r.model_path)).bind(5, s8(r.model_name))
      .bind(6, s8(r.mode)).bind(7, r.window).bind(8, r.budget_bytes).bind(9, r.model_bytes)
      .bind(10, r.threads).bind(11, s8(r.sampling_json.isEmpty() ? QStringLiteral("{}") : r.sampling_json))
      .bind(12, r.read_limit_mb_per_s).bind(13, r.started_ms);
  s.run();
  run_ids_[r.uid] = db_->last_insert_id();
}

void ChatDb::run_telemetry_append(const QString& uid, const TokenTelemetry& t) {
  const qint64 run = run_id_of(uid);
  if (!insert_telemetry_) {
    insert_telemetry_ = std::make_unique<SqliteStmt>(db_->prepare(
        "INSERT OR REPLACE INTO telemetry VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
        "?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)"));
  }
  SqliteStmt& s = *insert_telemetry_;
  const std::vector<uint8_t> blob = telemetry_layers_encode(t.layers);
  s.bind(1, run).bind(2, t.index).bind(3, t.pos).bind(4, t.prompt ? 1 : 0).bind(5, t.mode)
      .bind(6, t.predictor_ms).bind(7, t.io_ms).bind(8, t.memory_ms).bind(9, t.compute_ms)
      .bind(10, t.sampling_ms).bind(11, t.total_ms).bind(12, t.bytes_read)
      .bind(13, t.read_requests).bind(14, t.window_requested).bind(15, t.window_in_force)
      .bind(16, t.budget_bytes).bind(17, t.dram.resident_weights).bind(18, t.dram.predictors)
      .bind(19, t.dram.neuron_cache).bind(20, t.dram.kv_cache).bind(21, t.dram.io_buffers)
      .bind(22, t.dram.other).bind(23, t.process_rss_bytes).bind(24, t.process_base_rss_bytes)
      .bind(25, t.ffn_neurons_total).bind(26, t.ffn_neurons_loaded)
      .bind_blob(27, blob.data(), blob.size());
  s.run();
}

void ChatDb::run_change_add(const QString& uid, const RunChange& c) {
  db_->prepare("INSERT INTO run_changes (run_id, token_index, label) VALUES (?1, ?2, ?3)")
      .bind(1, run_id_of(uid)).bind(2, c.token_index).bind(3, s8(c.label)).run();
}

void ChatDb::run_finish(const QString& uid, qint64 finished_ms, const QString& reason,
                        double read_limit_mb_per_s) {
  db_->prepare("UPDATE runs SET finished_ms = ?2, finish_reason = ?3, read_limit_mb_per_s = "
               "CASE WHEN ?4 > 0 THEN ?4 ELSE read_limit_mb_per_s END WHERE id = ?1")
      .bind(1, run_id_of(uid)).bind(2, finished_ms).bind(3, s8(reason))
      .bind(4, read_limit_mb_per_s).run();
}

RunInfo ChatDb::run_from_row(SqliteStmt& s) {
  RunInfo r;
  r.uid = q8(s.col_text(0));
  r.conversation_id = q8(s.col_text(1));
  r.message_seq = static_cast<int>(s.col_int(2));
  r.model_path = q8(s.col_text(3));
  r.model_name = q8(s.col_text(4));
  r.mode = q8(s.col_text(5));
  r.window = static_cast<int>(s.col_int(6));
  r.budget_bytes = s.col_int(7);
  r.model_bytes = s.col_int(8);
  r.threads = static_cast<int>(s.col_int(9));
  r.sampling_json = q8(s.col_text(10));
  r.read_limit_mb_per_s = s.col_double(11);
  r.started_ms = s.col_int(12);
  r.finished_ms = s.col_null(13) ? 0 : s.col_int(13);
  r.finish_reason = q8(s.col_text(14));
  r.conversation_title = q8(s.col_text(15));
  r.tokens = static_cast<int>(s.col_int(16));
  r.prompt_tokens = static_cast<int>(s.col_int(17));
  r.ms_per_token = s.col_double(18);
  r.bytes_per_token = s.col_double(19);
  r.ffn_loaded_per_token = s.col_double(20);
  return r;
}

QList<RunInfo> ChatDb::runs_list(const QString& conversation_id) {
  QList<RunInfo> out;
  std::string sql = std::string("SELECT ") + kRunColumns;
  if (!conversation_id.isEmpty()) sql += "WHERE r.conversation_id = ?1 ";
  sql += "ORDER BY r.started_ms DESC, r.id DESC";
  SqliteStmt s = db_->prepare(sql);
  if (!conversation_id.isEmpty()) s.bind(1, s8(conversation_id));
  while (s.step()) out.append(run_from_row(s));
  return out;
}

RunRecord ChatDb::run_load(const QString& uid) {
  RunRecord rec;
  {
    SqliteStmt s = db_->prepare(std::string("SELECT ") + kRunColumns + "WHERE r.uid = ?1");
    s.bind(1, s8(uid));
    if (!s.step()) fail(db_->path(), "no run " + s8(uid));
    rec.info = run_from_row(s);
  }
  SqliteStmt t = db_->prepare(
      "SELECT t.* FROM telemetry t JOIN runs r ON r.id = t.run_id WHERE r.uid = ?1 "
      "ORDER BY t.token_index");
  t.bind(1, s8(uid));
  while (t.step()) {
    TokenTelemetry x;
    x.index = t.col_int(1);
    x.pos = static_cast<int32_t>(t.col_int(2));
    x.prompt = t.col_int(3) != 0;
    x.mode = t.col_text(4);
    x.predictor_ms = t.col_double(5);
    x.io_ms = t.col_double(6);
    x.memory_ms = t.col_double(7);
    x.compute_ms = t.col_double(8);
    x.sampling_ms = t.col_double(9);
    x.total_ms = t.col_double(10);
    x.bytes_read = t.col_int(11);
    x.read_requests = t.col_int(12);
    x.window_requested = static_cast<int32_t>(t.col_int(13));
    x.window_in_force = static_cast<int32_t>(t.col_int(14));
    x.budget_bytes = t.col_int(15);
    x.dram = {t.col_int(16), t.col_int(17), t.col_int(18), t.col_int(19), t.col_int(20), t.col_int(21)};
    x.process_rss_bytes = t.col_int(22);
    x.process_base_rss_bytes = t.col_int(23);
    x.ffn_neurons_total = t.col_int(24);
    x.ffn_neurons_loaded = t.col_int(25);
    x.layers = telemetry_layers_decode(t.col_blob(26));
    rec.tokens.push_back(std::move(x));
  }
  SqliteStmt c = db_->prepare(
      "SELECT token_index, label FROM run_changes WHERE run_id = (SELECT id FROM runs WHERE uid = ?1) "
      "ORDER BY token_index, rowid");
  c.bind(1, s8(uid));
  while (c.step()) rec.changes.append({c.col_int(0), q8(c.col_text(1))});
  return rec;
}

}  // namespace flashchat::ui
