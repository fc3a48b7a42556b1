// ui_store_test - the sqlite3 database: every migration from each earlier schema version (SQL
// fixtures of old databases in tests/data/db), telemetry and conversations round trip, the item
// models over the database (conversation list with delete/undo, run list summaries), full-text
// search, Markdown/JSON export and JSON import, the JSON store of earlier versions imported once,
// concurrent reads while the writer thread writes, and the way on from a corrupt, newer or
// unwritable database (nothing lost).
#include <QDir>
#include <QFile>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "chat/conversation_list_model.h"
#include "core/error.h"
#include "history/run_list_model.h"
#include "storage/chat_export.h"
#include "storage/db_open.h"
#include "storage/schema.h"
#include "storage/store_writer.h"

using namespace flashchat;
using namespace flashchat::ui;

namespace {

QString fixture(const QString& name) {
  return QDir(qEnvironmentVariable("FLASHCHAT_TEST_DATA")).filePath(QStringLiteral("db/") + name);
}

// A database file made from an SQL fixture.
void db_from_sql(const QString& sql_file, const QString& db_path) {
  QFile f(sql_file);
  if (!f.open(QIODevice::ReadOnly)) fail(sql_file.toStdString(), "missing fixture");
  SqliteDb db(db_path.toStdString(), SqliteDb::Mode::ReadWriteCreate);
  db.exec(f.readAll().toStdString());
}

// Every table's and index's name and columns: the schema as sqlite sees it.
QStringList schema_of(SqliteDb& db) {
  QStringList out;
  SqliteStmt s = db.prepare(
      "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name");
  while (s.step()) {
    const std::string name = s.col_text(1);
    QString row = QString::fromStdString(s.col_text(0) + " " + name + ":");
    if (s.col_text(0) == "table") {
      SqliteStmt c = db.prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)");
      c.bind(1, name);
      while (c.step()) {
        row += QString::fromStdString(" " + c.col_text(0) + "/" + c.col_text(1) + "/" + c.col_text(2) +
                                      "/" + c.col_text(3) + "/" + c.col_text(4));
      }
    }
    out << row;
  }
  return out;
}

TokenTelemetry random_token(qint64 index, QRandomGenerator& rng, int layers = 4) {
  TokenTelemetry t;
  t.index = index;
  t.pos = static_cast<int>(index);
  t.prompt = index < 3;
  t.mode = "flash";
  t.predictor_ms = rng.bounded(1.0);
  t.io_ms = rng.bounded(5.0);
  t.memory_ms = rng.bounded(0.5);
  t.compute_ms = rng.bounded(3.0);
  t.sampling_ms = rng.bounded(0.1);
  t.total_ms = t.predictor_ms + t.io_ms + t.memory_ms + t.compute_ms + t.sampling_ms;
  t.bytes_read = rng.bounded(1 << 20);
  t.read_requests = rng.bounded(100);
  t.window_requested = 4;
  t.window_in_force = 3;
  t.budget_bytes = 7'000'000;
  t.dram = {3'000'000, 500'000, rng.bounded(2'000'000), 65536 * index, 262144, 123457};
  t.process_rss_bytes = 60'000'000 + rng.bounded(1'000'000);
  t.process_base_rss_bytes = 40'000'000;
  t.ffn_neurons_total = 6144;
  t.ffn_neurons_loaded = rng.bounded(2000);
  for (int l = 0; l < layers; ++l) {
    t.layers.push_back({static_cast<int32_t>(rng.bounded(1536)), static_cast<int32_t>(rng.bounded(300)),
                        static_cast<int32_t>(rng.bounded(300)), static_cast<int32_t>(rng.bounded(10)),
                        static_cast<int32_t>(rng.bounded(1536)), 1536, -1, l});
  }
  return t;
}

bool same_token(const TokenTelemetry& a, const TokenTelemetry& b) {
  bool layers = a.layers.size() == b.layers.size();
  for (size_t i = 0; layers && i < a.layers.size(); ++i) {
    const LayerTelemetry &x = a.layers[i], &y = b.layers[i];
    layers = x.neurons_predicted == y.neurons_predicted && x.neurons_added == y.neurons_added &&
             x.neurons_removed == y.neurons_removed && x.neurons_streamed == y.neurons_streamed &&
             x.cache_rows_used == y.cache_rows_used && x.cache_capacity == y.cache_capacity &&
             x.true_active == y.true_active && x.true_positive == y.true_positive;
  }
  return layers && a.index == b.index && a.pos == b.pos && a.prompt == b.prompt && a.mode == b.mode &&
         a.predictor_ms == b.predictor_ms && a.io_ms == b.io_ms && a.memory_ms == b.memory_ms &&
         a.compute_ms == b.compute_ms && a.sampling_ms == b.sampling_ms && a.total_ms == b.total_ms &&
         a.bytes_read == b.bytes_read && a.read_requests == b.read_requests &&
         a.window_requested == b.window_requested && a.window_in_force == b.window_in_force &&
         a.budget_bytes == b.budget_bytes && a.dram.total() == b.dram.total() &&
         a.dram.neuron_cache == b.dram.neuron_cache && a.dram.kv_cache == b.dram.kv_cache &&
         a.dram.other == b.dram.other && a.process_rss_bytes == b.process_rss_bytes &&
         a.process_base_rss_bytes == b.process_base_rss_bytes &&
         a.ffn_neurons_total == b.ffn_neurons_total && a.ffn_neurons_loaded == b.ffn_neurons_loaded;
}

Conversation sample_chat(const QString& title, const QString& user, const QString& reply) {
  Conversation c = Conversation::make_new();
  c.title = title;
  c.system_prompt = QStringLiteral("Be brief.");
  c.sampling.seed = 18446744073709551557ULL;
  c.messages = {{QStringLiteral("user"), user, {}}, {QStringLiteral("assistant"), reply, QStringLiteral("max tokens")}};
  ChatMessageEntry& r = c.messages[1];
  r.model = QStringLiteral("flashchat-default");
  r.sampling_json = QStringLiteral("{\"temperature\":0.8}");
  r.run_uid = QStringLiteral("run-x");
  r.prompt_tokens = 9;
  r.tokens = 17;
  r.prompt_ms = 12.5;
  r.generate_ms = 40.25;
  r.ttft_ms = 14.0;
  return c;
}

DbRecoveryChooser choose(DbRecovery answer, QList<DbProblem>* asked) {
  return [answer, asked](DbProblem p, const QString&) {
    asked->append(p);
    return answer;
  };
}

QByteArray file_bytes(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

}  // namespace

class UiStoreTest : public QObject {
  Q_OBJECT

 private slots:
  void migrations_from_every_earlier_version() {
    QTemporaryDir dir;
    const QString fresh_path = dir.filePath(QStringLiteral("fresh.db"));
    { ChatDb fresh(fresh_path, false); }
    SqliteDb fresh(fresh_path.toStdString(), SqliteDb::Mode::ReadOnly);
    QCOMPARE(fresh.user_version(), kSchemaVersion);
    const QStringList want = schema_of(fresh);
    for (int v = 1; v < kSchemaVersion; ++v) {
      const QString path = dir.filePath(QStringLiteral("v%1.db").arg(v));
      db_from_sql(fixture(QStringLiteral("schema_v%1.sql").arg(v)), path);
      {
        SqliteDb old(path.toStdString(), SqliteDb::Mode::ReadOnly);
        QCOMPARE(old.user_version(), v);
      }
      ChatDb db(path, false);
      QCOMPARE(db.db().user_version(), kSchemaVersion);
      QCOMPARE(schema_of(db.db()), want);  // the same schema as a database made new
      QCOMPARE(db.db().query_text("PRAGMA integrity_check"), std::string("ok"));
      // The old rows, as they were.
      const QList<Conversation> all = db.conversations_load();
      QCOMPARE(all.size(), 2);
      QCOMPARE(all[0].id, QStringLiteral("c-kiln"));  // newest first
      QCOMPARE(all[0].title, QStringLiteral("Pottery «kiln» notes"));
      QCOMPARE(all[1].system_prompt, QStringLiteral("Be brief."));
      QCOMPARE(all[1].sampling.top_k, 7);
      QCOMPARE(all[1].sampling.seed, 42ULL);
      QCOMPARE(all[1].messages.size(), 2);
      QCOMPARE(all[1].messages[1].content, QStringLiteral("He saw a heron standing in the shallows."));
      QCOMPARE(all[1].messages[1].stop_reason, QStringLiteral("max tokens"));
      // Version 3's search covers the messages written before it existed.
      QCOMPARE(db.search(QStringLiteral("heron")), QStringList{QStringLiteral("c-river")});
      QCOMPARE(db.search(QStringLiteral("cafe")), QStringList{QStringLiteral("c-kiln")});
      if (v >= 2) {
        QCOMPARE(all[1].messages[1].tokens, 12);
        QCOMPARE(all[1].messages[1].run_uid, QStringLiteral("run-1"));
        const RunRecord run = db.run_load(QStringLiteral("run-1"));
        QCOMPARE(run.tokens.size(), size_t(4));
        QCOMPARE(run.tokens[3].layers.size(), size_t(4));
        QCOMPARE(run.tokens[3].layers[1].neurons_predicted, 39);
        QCOMPARE(run.changes.size(), 1);
        QCOMPARE(run.changes[0].label, QStringLiteral("k 4→8"));
        QCOMPARE(run.info.tokens, 3);
        QCOMPARE(db.models_list().size(), 1);
      } else {
        QCOMPARE(all[1].messages[1].tokens, 0);  // columns added with their defaults
        QCOMPARE(db.runs_list().size(), 0);
        QCOMPARE(db.preset_names().size(), 4);
      }
      // And writable afterwards.
      Conversation c = all[1];
      c.messages.append({QStringLiteral("user"), QStringLiteral("And then?"), {}});
      db.conversation_save(c);
      QCOMPARE(db.conversations_load()[1].messages.size(), 3);
    }
  }

  void newer_version_refused_then_read_only_or_fresh() {
    QTemporaryDir dir;
    const QString path = chat_db_path(dir.path());
    {
      ChatDb db(path, false);
      db.conversation_save(sample_chat(QStringLiteral("kept"), QStringLiteral("a"), QStringLiteral("b")));
      db.db().set_user_version(kSchemaVersion + 1);
    }
    QVERIFY_THROWS_EXCEPTION(Error, ChatDb(path, false));
    QList<DbProblem> asked;
    {
      DbOpenResult r = chat_db_open(dir.path(), choose(DbRecovery::OpenReadOnly, &asked));
      QCOMPARE(asked, QList<DbProblem>{DbProblem::Newer});
      QVERIFY(r.message.contains(QStringLiteral("newer FlashChat")));
      QVERIFY(!r.writer);
      QVERIFY(r.reader);
      QCOMPARE(r.reader->conversations_load().size(), 1);
      StoreWriter w(std::move(r.writer));
      QSignalSpy failed(&w, &StoreWriter::writeFailed);
      w.saveConversation(Conversation::make_new());
      QVERIFY(failed.wait(2000));
      QVERIFY(failed[0][0].toString().contains(QStringLiteral("read-only")));
    }
    const QByteArray before = file_bytes(path);
    DbOpenResult r = chat_db_open(dir.path(), choose(DbRecovery::StartFresh, &asked));
    QVERIFY(r.writer && r.reader);
    QVERIFY(r.kept_as.contains(QStringLiteral(".newer-")));
    QCOMPARE(file_bytes(r.kept_as), before);  // the old file, untouched
    QCOMPARE(r.reader->conversations_load().size(), 0);
    QCOMPARE(r.path, path);
  }

  void corrupt_database_kept_aside() {
    QTemporaryDir dir;
    const QString path = chat_db_path(dir.path());
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(8192, 'x'));  // not a database
    f.close();
    QList<DbProblem> asked;
    DbOpenResult q = chat_db_open(dir.path(), choose(DbRecovery::Quit, &asked));
    QVERIFY(!q.reader && !q.writer);
    QCOMPARE(file_bytes(path), QByteArray(8192, 'x'));
    DbOpenResult r = chat_db_open(dir.path(), choose(DbRecovery::StartFresh, &asked));
    QCOMPARE(asked, (QList<DbProblem>{DbProblem::Corrupt, DbProblem::Corrupt}));
    QVERIFY(r.message.contains(QStringLiteral("damaged")));
    QVERIFY(r.kept_as.contains(QStringLiteral(".broken-")));
    QCOMPARE(file_bytes(r.kept_as), QByteArray(8192, 'x'));
    QVERIFY(r.writer && r.reader);
    r.writer->conversation_save(sample_chat(QStringLiteral("new"), QStringLiteral("a"), QStringLiteral("b")));
    QCOMPARE(r.reader->conversations_load().size(), 1);
  }

  void damaged_pages_found_by_the_check() {
    QTemporaryDir dir;
    const QString path = chat_db_path(dir.path());
    {
      ChatDb db(path, false);
      for (int i = 0; i < 200; ++i) {
        db.conversation_save(sample_chat(QStringLiteral("chat %1").arg(i), QString(400, QChar('a' + i % 26)),
                                         QStringLiteral("reply %1").arg(i)));
      }
      db.db().exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadWrite));
    QVERIFY(f.size() > 40 * 4096);
    f.seek(20 * 4096);  // garbage over pages in the middle (b-tree pages of the tables)
    f.write(QByteArray(8 * 4096, '\x5a'));
    f.close();
    QList<DbProblem> asked;
    DbOpenResult r = chat_db_open(dir.path(), choose(DbRecovery::OpenReadOnly, &asked));
    QCOMPARE(asked, QList<DbProblem>{DbProblem::Corrupt});
    QVERIFY(r.reader && !r.writer);
  }

  void unwritable_database_opens_read_only() {
    QTemporaryDir dir;
    const QString path = chat_db_path(dir.path());
    {
      ChatDb db(path, false);
      db.conversation_save(sample_chat(QStringLiteral("kept"), QStringLiteral("a"), QStringLiteral("b")));
      db.db().exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    QFile::remove(path + "-wal");
    QFile::remove(path + "-shm");
    // The write-ahead log cannot be created (a directory stands where it goes): the disk refuses
    // the writes a read-write open needs (as a read-only mount would; chmod does not stop root).
    QVERIFY(QDir().mkpath(path + "-wal"));
    QVERIFY(QDir().mkpath(path + "-shm"));
    QList<DbProblem> asked;
    DbOpenResult r = chat_db_open(dir.path(), choose(DbRecovery::OpenReadOnly, &asked));
    QCOMPARE(asked, QList<DbProblem>{DbProblem::Unwritable});
    QVERIFY(r.message.contains(QStringLiteral("cannot be written")));
    QVERIFY(!r.writer && r.reader);
    const QList<Conversation> all = r.reader->conversations_load();
    QCOMPARE(all.size(), 1);
    QCOMPARE(all[0].title, QStringLiteral("kept"));
  }

  void telemetry_round_trip_and_run_summaries() {
    QTemporaryDir dir;
    ChatDb db(chat_db_path(dir.path()), false);
    Conversation c = sample_chat(QStringLiteral("runs"), QStringLiteral("a"), QStringLiteral("b"));
    db.conversation_save(c);
    QRandomGenerator rng(7);
    std::vector<TokenTelemetry> tokens;
    RunInfo r;
    r.uid = QStringLiteral("run-a");
    r.conversation_id = c.id;
    r.message_seq = 1;
    r.model_name = QStringLiteral("m");
    r.mode = QStringLiteral("flash");
    r.window = 4;
    r.budget_bytes = 7'000'000;
    r.read_limit_mb_per_s = 912.5;
    r.started_ms = 1000;
    db.run_begin(r);
    double ms = 0, bytes = 0, ffn = 0;
    int generated = 0;
    for (int i = 0; i < 40; ++i) {
      tokens.push_back(random_token(100 + i, rng));
      tokens.back().prompt = i < 3;
      db.run_telemetry_append(r.uid, tokens.back());
      if (!tokens.back().prompt) {
        ms += tokens.back().total_ms;
        bytes += tokens.back().bytes_read;
        ffn += tokens.back().ffn_neurons_loaded;
        ++generated;
      }
    }
    db.run_change_add(r.uid, {120, QStringLiteral("budget 7.0→6.0 MB")});
    db.run_finish(r.uid, 2000, QStringLiteral("max tokens"));
    const RunRecord back = db.run_load(r.uid);
    QCOMPARE(back.tokens.size(), tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) QVERIFY2(same_token(back.tokens[i], tokens[i]), qPrintable(QString::number(i)));
    QCOMPARE(back.changes.size(), 1);
    QCOMPARE(back.changes[0].token_index, 120);
    QCOMPARE(back.info.read_limit_mb_per_s, 912.5);
    QCOMPARE(back.info.finish_reason, QStringLiteral("max tokens"));
    QCOMPARE(back.info.tokens, generated);
    QCOMPARE(back.info.prompt_tokens, 3);
    QVERIFY(qAbs(back.info.ms_per_token - ms / generated) < 1e-9);
    QVERIFY(qAbs(back.info.bytes_per_token - bytes / generated) < 1e-6);
    QVERIFY(qAbs(back.info.ffn_loaded_per_token - ffn / generated) < 1e-9);
    // Compact: the per-layer arrays are 32 bytes a layer.
    QCOMPARE(db.db().query_int("SELECT length(layers) FROM telemetry LIMIT 1"), 4 * 32);
    QVERIFY_THROWS_EXCEPTION(Error, telemetry_layers_decode(std::vector<uint8_t>(33)));

    // The run list model over the database.
    RunInfo r2 = r;
    r2.uid = QStringLiteral("run-b");
    r2.started_ms = 3000;
    r2.mode = QStringLiteral("mmap");
    db.run_begin(r2);  // never finished (as after a crash)
    RunListModel model(&db);
    model.reload();
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.at(0).uid, QStringLiteral("run-b"));  // newest first
    QCOMPARE(model.data(model.index(1, RunListModel::Chat), Qt::DisplayRole).toString(), QStringLiteral("runs"));
    QCOMPARE(model.data(model.index(1, RunListModel::Tokens), Qt::DisplayRole).toInt(), generated);
    QCOMPARE(model.data(model.index(1, RunListModel::MsPerToken), Qt::DisplayRole).toString(),
             QString::number(ms / generated, 'f', 2));
    QVERIFY(run_summary_text(model.at(0)).contains(QStringLiteral("not finished")));
    // Deleting the chat keeps its runs (they name no chat any more).
    db.conversation_set_deleted(c.id, true);
    QCOMPARE(db.conversations_purge_deleted(), 1);
    model.reload();
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.data(model.index(1, RunListModel::Chat), Qt::DisplayRole).toString(), QStringLiteral("(deleted chat)"));
    QCOMPARE(db.db().query_int("SELECT count(*) FROM messages"), 0);
  }

  void conversation_model_delete_undo_persist() {
    QTemporaryDir dir;
    DbOpenResult r = chat_db_open(dir.path(), [](DbProblem, const QString&) { return DbRecovery::Quit; });
    QVERIFY(r.writer && r.reader);
    ChatDb* reader = r.reader.get();
    StoreWriter writer(std::move(r.writer));
    ConversationListModel model(reader, &writer);
    model.load();
    QCOMPARE(model.rowCount(), 0);
    const QString a = model.create();
    const QString b = model.create();
    QCOMPARE(model.row_of(b), 0);  // new chats on top
    QVERIFY(model.setData(model.index(1), QStringLiteral("  Renamed  "), Qt::EditRole));
    QVERIFY(!model.setData(model.index(1), QStringLiteral("   "), Qt::EditRole));
    Conversation c = *model.find(b);
    c.messages.append({QStringLiteral("user"), QStringLiteral("hi there"), {}});
    QVERIFY(model.update(c));
    model.remove(a);
    QCOMPARE(model.rowCount(), 1);
    QVERIFY(model.canUndoRemove());
    model.flush();
    QCOMPARE(reader->conversations_load().size(), 1);  // hidden in the database too
    QCOMPARE(model.undoRemove(), a);
    QCOMPARE(model.rowCount(), 2);
    QVERIFY(!model.canUndoRemove());
    model.remove(b);
    model.flush();

    ConversationListModel reloaded(reader, &writer);
    reloaded.load();
    QCOMPARE(reloaded.rowCount(), 1);
    QCOMPARE(reloaded.at(0).id, a);
    QCOMPARE(reloaded.at(0).title, QStringLiteral("Renamed"));
    // b is deleted but still there until purged (undo across a reload of the list).
    QCOMPARE(reader->db().query_int("SELECT count(*) FROM conversations WHERE deleted_ms IS NOT NULL"), 1);
    writer.purgeDeleted();
    writer.flush();
    QCOMPARE(reader->db().query_int("SELECT count(*) FROM conversations"), 1);
    QCOMPARE(reader->db().query_int("SELECT count(*) FROM messages"), 0);
    QVERIFY(writer.stats().transactions > 0);
  }

  void search_across_all_chats() {
    QTemporaryDir dir;
    ChatDb db(chat_db_path(dir.path()), false);
    Conversation a = sample_chat(QStringLiteral("Boats"), QStringLiteral("Tell me about sailing boats"),
                                 QStringLiteral("Sailboats lean into the WIND."));
    a.updated_ms = 10;
    Conversation b = sample_chat(QStringLiteral("Kilns"), QStringLiteral("Glaze temperatures"),
                                 QStringLiteral("A café kiln reaches 1300 degrees; wind the timer."));
    b.updated_ms = 20;
    Conversation c = sample_chat(QStringLiteral("Rivers \"quoted\" 100%"), QStringLiteral("x"), QStringLiteral("y"));
    c.updated_ms = 5;
    for (const Conversation& x : {a, b, c}) db.conversation_save(x);
    QCOMPARE(db.search(QStringLiteral("wind")), (QStringList{b.id, a.id}));  // newest first
    QCOMPARE(db.search(QStringLiteral("sail")), QStringList{a.id});          // prefix
    QCOMPARE(db.search(QStringLiteral("CAFE kiln")), QStringList{b.id});     // case, accents, AND
    QCOMPARE(db.search(QStringLiteral("wind sailboats")), QStringList{a.id});
    QCOMPARE(db.search(QStringLiteral("kilns")), QStringList{b.id});         // title
    QCOMPARE(db.search(QStringLiteral("\"quoted\"")), QStringList{c.id});    // quotes are text
    QCOMPARE(db.search(QStringLiteral("100%")), QStringList{c.id});
    QVERIFY(db.search(QStringLiteral("AND OR NOT (")).isEmpty());            // no syntax errors
    QVERIFY(db.search(QStringLiteral("   ")).isEmpty());
    // Edited and deleted messages leave the index.
    b.messages[1].content = QStringLiteral("It gets hot.");
    db.conversation_save(b);
    QCOMPARE(db.search(QStringLiteral("wind")), QStringList{a.id});
    db.conversation_set_deleted(a.id, true);
    QVERIFY(db.search(QStringLiteral("wind")).isEmpty());
    db.conversation_set_deleted(a.id, false);
    QCOMPARE(db.search(QStringLiteral("wind")), QStringList{a.id});
    QCOMPARE(db.db().query_text("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'hot'"), std::string("1"));
  }

  void export_import_round_trip() {
    QTemporaryDir dir;
    Conversation c = sample_chat(QStringLiteral("Rivers «and» boats"), QStringLiteral("Hello\n```\ncode\n```"),
                                 QStringLiteral("Hi ✓"));
    const QString json = dir.filePath(QStringLiteral("chat.json"));
    conversation_export_json(c, json);
    const Conversation back = conversation_import_json(json);
    QCOMPARE(back.id, c.id);
    QCOMPARE(back.title, c.title);
    QCOMPARE(back.system_prompt, c.system_prompt);
    QVERIFY(back.sampling == c.sampling);
    QVERIFY(back.messages == c.messages);  // content, stop reason, model, timing, run
    QCOMPARE(back.created_ms, c.created_ms);
    // Through the database and out again: the same file.
    ChatDb db(chat_db_path(dir.path()), false);
    db.conversation_save(back);
    const QString json2 = dir.filePath(QStringLiteral("again.json"));
    conversation_export_json(db.conversations_load()[0], json2);
    QCOMPARE(file_bytes(json2), file_bytes(json));

    const QString md = dir.filePath(QStringLiteral("chat.md"));
    conversation_export_markdown(c, md);
    const QString text = QString::fromUtf8(file_bytes(md));
    QVERIFY(text.startsWith(QStringLiteral("# Rivers «and» boats\n")));
    QVERIFY(text.contains(QStringLiteral("## You\n\nHello\n```\ncode\n```\n")));
    QVERIFY(text.contains(QStringLiteral("## Model\n\nHi ✓\n")));
    QVERIFY(text.contains(QStringLiteral("_flashchat-default · 17 tokens in 40 ms · max tokens_")));

    QFile bad(dir.filePath(QStringLiteral("bad.json")));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write("{\"messages\": 3}");
    bad.close();
    QVERIFY_THROWS_EXCEPTION(Error, conversation_import_json(bad.fileName()));
    QVERIFY_THROWS_EXCEPTION(Error, conversation_import_json(dir.filePath(QStringLiteral("missing.json"))));
    QVERIFY_THROWS_EXCEPTION(Error, conversation_export_json(c, dir.filePath(QStringLiteral("no/such/dir.json"))));
  }

  void json_store_of_earlier_versions_imported() {
    QTemporaryDir dir;
    const QString jdir = dir.filePath(QStringLiteral("conversations"));
    QVERIFY(QDir().mkpath(jdir));
    const Conversation a = sample_chat(QStringLiteral("old one"), QStringLiteral("q"), QStringLiteral("r"));
    conversation_export_json(a, QDir(jdir).filePath(a.id + QStringLiteral(".json")));
    QFile junk(QDir(jdir).filePath(QStringLiteral("junk.json")));
    QVERIFY(junk.open(QIODevice::WriteOnly));
    junk.write("{ not json");
    junk.close();
    ChatDb db(chat_db_path(dir.path()), false);
    QStringList problems;
    QCOMPARE(db.import_json_dir(jdir, &problems), 1);
    QCOMPARE(problems.size(), 1);
    QVERIFY(problems[0].startsWith(QStringLiteral("junk.json")));
    QCOMPARE(db.import_json_dir(jdir), 0);  // already there
    QVERIFY(db.conversations_load()[0].messages == a.messages);
    QVERIFY(QFile::exists(QDir(jdir).filePath(a.id + QStringLiteral(".json"))));  // kept as backup
  }

  void concurrent_reads_while_writing() {
    QTemporaryDir dir;
    DbOpenResult r = chat_db_open(dir.path(), [](DbProblem, const QString&) { return DbRecovery::Quit; });
    ChatDb* reader = r.reader.get();
    StoreWriter writer(std::move(r.writer), 20);
    Conversation c = sample_chat(QStringLiteral("busy"), QStringLiteral("go"), QString());
    writer.saveConversation(c);
    RunInfo run;
    run.uid = QStringLiteral("busy-run");
    run.conversation_id = c.id;
    run.mode = QStringLiteral("flash");
    writer.beginRun(run);
    writer.flush();
    // The writer thread writes 3000 tokens and the growing reply (queued from here as the app
    // queues them while generating); between the queueing this thread reads.
    constexpr int kTokens = 3000;
    QRandomGenerator rng(3);
    Conversation live = c;
    int reads = 0, last_count = 0;
    double worst_ms = 0;
    QElapsedTimer clock;
    for (int i = 0; i < kTokens; ++i) {
      writer.appendTelemetry(run.uid, random_token(i, rng));
      if (i % 50 != 0) continue;
      live.messages[1].content += QStringLiteral("word%1 ").arg(i);
      writer.saveConversation(live);
      clock.start();
      const RunRecord rec = reader->run_load(run.uid);  // never SQLITE_BUSY, never waits
      const QList<Conversation> all = reader->conversations_load();
      worst_ms = std::max(worst_ms, clock.nsecsElapsed() / 1e6);
      const int n = static_cast<int>(rec.tokens.size());
      QVERIFY(n >= last_count);  // committed data only grows
      for (int k = 0; k < n; ++k) QCOMPARE(rec.tokens[k].index, qint64(k));  // whole transactions
      QCOMPARE(all.size(), 1);
      QVERIFY(all[0].messages[1].content.size() <= live.messages[1].content.size());
      last_count = n;
      ++reads;
      if (i % 500 == 0) QTest::qWait(30);  // let commits land between reads
    }
    writer.flush();
    QCOMPARE(reader->run_load(run.uid).tokens.size(), size_t(kTokens));
    QVERIFY(reader->conversations_load()[0].messages[1].content.contains(QStringLiteral("word2950")));
    const StoreWriterStats s = writer.stats();
    qInfo("%d reads during the writes, worst read %.1f ms; %lld transactions, longest %.1f ms "
          "(commit %.1f ms)", reads, worst_ms, s.transactions, s.max_transaction_ms, s.max_commit_ms);
    QVERIFY(reads >= 5);
    QVERIFY(s.transactions >= 2);
  }
};

QTEST_MAIN(UiStoreTest)
#include "ui_store_test.moc"
