// ui_store_crash_test - a child process generates replies on the default model into the
// database the way the app does (the reply saved twice a second, telemetry per token, through
// the StoreWriter) and is killed with SIGKILL at a random point, many times. After each kill the
// reopened database passes PRAGMA integrity_check, every earlier message is intact, and every
// reply holds at least what was generated up to one second before the kill (and nothing that
// was not generated), with its telemetry.
#include <QDir>
#include <QElapsedTimer>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>
#include <csignal>
#include <cstdio>
#include <thread>

#include "core/resource_paths.h"
#include "session/session.h"
#include "storage/db_open.h"
#include "storage/store_writer.h"

using namespace flashchat;
using namespace flashchat::ui;

namespace {

constexpr int kKills = 12;
constexpr int kSaveIntervalMs = 500;  // as MainWindow's save timer
constexpr int kTokenPauseMs = 15;     // slows the tiny model to a real model's pace (a reply
                                      // then spans a save interval or more)
// What "up to the last second" allows on top of the second: the writer's commit interval and
// scheduling on a loaded 2-core machine.
constexpr int kSlackMs = 400;

DbOpenResult open_or_die(const QString& dir) {
  return chat_db_open(dir, [](DbProblem, const QString& m) {
    std::fprintf(stderr, "unexpected database problem: %s\n", qPrintable(m));
    return DbRecovery::Quit;
  });
}

Conversation earlier_chat() {
  Conversation c;
  c.id = QStringLiteral("earlier");
  c.title = QStringLiteral("Earlier chat");
  c.created_ms = c.updated_ms = 1000;
  for (int i = 0; i < 6; ++i) {
    c.messages.append({i % 2 ? QStringLiteral("assistant") : QStringLiteral("user"),
                       QStringLiteral("earlier message %1 «ünïcode»").arg(i), i % 2 ? QStringLiteral("max tokens") : QString()});
  }
  return c;
}

// The child: turns of "user message, streamed reply" until killed. Prints, unbuffered,
//   R                          ready (model loaded), time 0
//   T <turn> <ms> <hex text>   a token's text, at <ms> since ready
//   D <turn> <ms>              the turn's final save was queued
int child_main(const QString& dir) {
  DbOpenResult db = open_or_die(dir);
  if (!db.writer) return 3;
  Conversation c = db.reader->conversations_load().value(0);
  for (const Conversation& x : db.reader->conversations_load()) {
    if (x.id == QLatin1String("crash")) c = x;
  }
  StoreWriter writer(std::move(db.writer));
  SessionOptions so;
  so.model_path = default_model_path();
  so.mode = FfnMode::Flash;
  so.budget_bytes = 0;
  Session session(so);
  QElapsedTimer clock;
  clock.start();
  std::printf("R\n");
  std::fflush(stdout);
  for (int turn = 0;; ++turn) {
    c.messages.append({QStringLiteral("user"), QStringLiteral("Turn %1: the old man walked").arg(turn), {}});
    c.messages.append({QStringLiteral("assistant"), {}, {}});
    RunInfo run;
    run.uid = QStringLiteral("run-%1").arg(turn);
    run.conversation_id = c.id;
    run.message_seq = static_cast<int>(c.messages.size()) - 1;
    run.mode = QStringLiteral("flash");
    run.started_ms = clock.elapsed();
    c.messages.last().run_uid = run.uid;
    writer.saveConversation(c);  // the user message before generation starts
    writer.beginRun(run);
    qint64 last_save = clock.elapsed();
    GenerateCallbacks cb;
    cb.on_token = [&](const TokenEvent& e) {
      c.messages.last().content += QString::fromStdString(e.text);
      std::printf("T %d %lld %s\n", turn, static_cast<long long>(clock.elapsed()),
                  QByteArray::fromStdString(e.text).toHex().constData());
      std::fflush(stdout);
      if (clock.elapsed() - last_save >= kSaveIntervalMs) {
        writer.saveConversation(c);
        last_save = clock.elapsed();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(kTokenPauseMs));
      return true;
    };
    cb.on_telemetry = [&](const TokenTelemetry& t) { writer.appendTelemetry(run.uid, t); };
    GenerateOptions o;
    o.max_new_tokens = 96;  // with the pauses ~1.5 s: most kills land mid-reply
    o.sampling.temperature = 0.8f;
    o.sampling.seed = 1000 + turn;
    session.reset_context();
    session.chat({{"user", c.messages[c.messages.size() - 2].content.toStdString()}}, o, cb);
    c.messages.last().stop_reason = QStringLiteral("max tokens");
    writer.saveConversation(c);
    writer.finishRun(run.uid, clock.elapsed(), QStringLiteral("max tokens"));
    std::printf("D %d %lld\n", turn, static_cast<long long>(clock.elapsed()));
    std::fflush(stdout);
  }
}

struct Emitted {
  QString text;
  qint64 ms = 0;
  bool prompt_seen = false;
};

}  // namespace

class UiStoreCrashTest : public QObject {
  Q_OBJECT

 private slots:
  void sigkill_mid_reply_loses_at_most_the_last_second() {
    QRandomGenerator rng(QRandomGenerator::global()->generate());
    int partial_replies = 0, turns_total = 0;
    for (int kill = 0; kill < kKills; ++kill) {
      QTemporaryDir dir;
      {
        DbOpenResult db = open_or_die(dir.path());
        QVERIFY(db.writer);
        db.writer->conversation_save(earlier_chat());
        Conversation crash;
        crash.id = QStringLiteral("crash");
        crash.title = QStringLiteral("Crash");
        crash.created_ms = crash.updated_ms = 2000;
        crash.messages = {{QStringLiteral("user"), QStringLiteral("before"), {}},
                          {QStringLiteral("assistant"), QStringLiteral("kept"), QStringLiteral("max tokens")}};
        db.writer->conversation_save(crash);
      }
      QProcess child;
      QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
      env.insert(QStringLiteral("FLASHCHAT_CRASH_CHILD"), dir.path());
      child.setProcessEnvironment(env);
      child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
      child.start(QCoreApplication::applicationFilePath(), {});
      QVERIFY(child.waitForStarted(10000));
      QVERIFY(QTest::qWaitFor([&] { return child.canReadLine() || child.state() != QProcess::Running; }, 60000));
      QCOMPARE(child.readLine().trimmed(), QByteArray("R"));
      const int kill_after_ms = 150 + static_cast<int>(rng.bounded(4000));
      QElapsedTimer since_ready;
      since_ready.start();
      while (since_ready.elapsed() < kill_after_ms && child.state() == QProcess::Running) {
        child.waitForReadyRead(10);
      }
      QCOMPARE(child.state(), QProcess::Running);
      ::kill(static_cast<pid_t>(child.processId()), SIGKILL);
      QVERIFY(child.waitForFinished(10000));
      QCOMPARE(child.exitStatus(), QProcess::CrashExit);

      // What the child generated, per turn, with times.
      QMap<int, QList<Emitted>> tokens;
      QSet<int> done;
      qint64 last_ms = 0;
      for (const QByteArray& line : child.readAllStandardOutput().split('\n')) {
        const QList<QByteArray> f = line.split(' ');
        if (f.size() >= 3 && f[0] == "T") {
          const qint64 ms = f[2].toLongLong();
          tokens[f[1].toInt()].append({QString::fromUtf8(QByteArray::fromHex(f.value(3))), ms});
          last_ms = std::max(last_ms, ms);
        } else if (f.size() == 3 && f[0] == "D") {
          done.insert(f[1].toInt());
          last_ms = std::max(last_ms, f[2].toLongLong());
        }
      }
      const qint64 must_have_ms = last_ms - 1000 - kSlackMs;

      ChatDb db(chat_db_path(dir.path()), false);  // recovers the WAL
      QCOMPARE(db.db().query_text("PRAGMA integrity_check"), std::string("ok"));
      const QList<Conversation> all = db.conversations_load();
      QCOMPARE(all.size(), 2);
      const Conversation& earlier = all[0].id == QLatin1String("earlier") ? all[0] : all[1];
      const Conversation& crash = all[0].id == QLatin1String("crash") ? all[0] : all[1];
      QVERIFY(earlier.messages == earlier_chat().messages);
      QVERIFY(crash.messages.size() >= 2);
      QCOMPARE(crash.messages[1].content, QStringLiteral("kept"));
      const int turns_saved = (static_cast<int>(crash.messages.size()) - 2) / 2;
      for (int turn = 0; turn < std::max<int>(turns_saved, static_cast<int>(tokens.size())); ++turn) {
        QString generated, required;
        int required_tokens = 0;
        for (const Emitted& e : tokens.value(turn)) {
          generated += e.text;
          if (e.ms <= must_have_ms) {
            required += e.text;
            ++required_tokens;
          }
        }
        if (turn >= turns_saved) {
          QVERIFY2(required.isEmpty(), qPrintable(QStringLiteral("kill %1: turn %2 lost (generated up to %3 ms, killed at %4 ms)")
                                                      .arg(kill).arg(turn).arg(must_have_ms).arg(last_ms)));
          continue;
        }
        const ChatMessageEntry& user = crash.messages[2 + 2 * turn];
        QCOMPARE(user.content, QStringLiteral("Turn %1: the old man walked").arg(turn));
        if (3 + 2 * turn >= crash.messages.size()) continue;  // killed between the two rows? (same transaction: never)
        const ChatMessageEntry& reply = crash.messages[3 + 2 * turn];
        QVERIFY2(generated.startsWith(reply.content), qPrintable(QStringLiteral("kill %1 turn %2").arg(kill).arg(turn)));
        QVERIFY2(reply.content.startsWith(required),
                 qPrintable(QStringLiteral("kill %1 turn %2: saved %3 chars, generated %4 by %5 ms (killed %6 ms)")
                                .arg(kill).arg(turn).arg(reply.content.size()).arg(required.size())
                                .arg(must_have_ms).arg(last_ms)));
        if (done.contains(turn) && !reply.stop_reason.isEmpty()) QCOMPARE(reply.content, generated);
        if (reply.stop_reason.isEmpty() && !reply.content.isEmpty()) ++partial_replies;
        const RunRecord run = db.run_load(reply.run_uid);
        // The first token is sampled from the last prompt pass: one telemetry row less.
        QVERIFY2(run.info.tokens >= required_tokens - 1,
                 qPrintable(QStringLiteral("kill %1 turn %2: %3 generated rows, %4 tokens required")
                                .arg(kill).arg(turn).arg(run.info.tokens).arg(required_tokens)));
        for (size_t i = 1; i < run.tokens.size(); ++i) QCOMPARE(run.tokens[i].index, run.tokens[i - 1].index + 1);
        ++turns_total;
      }
      qInfo("kill %d after %d ms (child's last output at %lld ms): %d turns saved", kill,
            kill_after_ms, last_ms, turns_saved);
    }
    qInfo("%d kills, %d replies checked, %d cut mid-reply", kKills, turns_total, partial_replies);
    QVERIFY(partial_replies > 0);  // the kills did land in the middle of replies
  }
};

int main(int argc, char** argv) {
  const QString child_dir = qEnvironmentVariable("FLASHCHAT_CRASH_CHILD");
  QCoreApplication app(argc, argv);
  if (!child_dir.isEmpty()) return child_main(child_dir);
  UiStoreCrashTest t;
  return QTest::qExec(&t, argc, argv);
}

#include "ui_store_crash_test.moc"
