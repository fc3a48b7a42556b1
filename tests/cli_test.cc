// cli_test.cc - flashchat-cli as a user runs it: text on stdout, statistics on stderr, clear
// errors with exit code 1 (never a crash) on bad input.

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "test_support.h"

using flashchat_test::run_cli;
using Run = flashchat_test::CliRun;

class CliTest : public QObject {
  Q_OBJECT
  QString model_;

 private slots:
  void initTestCase() {
    QVERIFY2(QFile::exists(qEnvironmentVariable("FLASHCHAT_CLI")), "FLASHCHAT_CLI not set");
    model_ = flashchat_test::fixture_path("models/stories260K/stories260K.gguf");
    REQUIRE_FIXTURE(model_);
  }

  void generate_writes_only_text_to_stdout() {
    Run r = run_cli({"generate", "--model", model_, "--temp", "0", "-n", "30"});
    QCOMPARE(r.exit_code, 0);
    QVERIFY2(r.out.startsWith("Once upon a time"), qPrintable(r.out));
    QVERIFY2(!r.out.contains("tokens/s"), qPrintable(r.out));
    QVERIFY2(r.err.contains("tokens/s"), qPrintable(r.err));
    QVERIFY2(r.err.contains("peak RSS"), qPrintable(r.err));
  }

  void generate_with_prompt_continues_it() {
    Run r = run_cli({"generate", "-m", model_, "--prompt", "Tom had a dog", "--temp", "0.7",
                     "--seed", "7", "-n", "20"});
    QCOMPARE(r.exit_code, 0);
    QVERIFY(r.out.size() > 10);
    Run again = run_cli({"generate", "-m", model_, "--prompt", "Tom had a dog", "--temp", "0.7",
                         "--seed", "7", "-n", "20"});
    QCOMPARE(again.out, r.out);  // seeded sampling is reproducible
  }

  void tokenize_round_trips() {
    Run ids = run_cli({"tokenize", "-m", model_, "--text", "Once upon a time, Lily smiled."});
    QCOMPARE(ids.exit_code, 0);
    const QStringList parts = ids.out.trimmed().split(' ');
    QVERIFY(parts.size() >= 5);
    QVERIFY(parts.first() != "1");  // no BOS unless asked
    Run with_bos = run_cli({"tokenize", "-m", model_, "--bos", "--text", "Once"});
    QVERIFY(with_bos.out.trimmed().startsWith("1 "));
    Run text = run_cli({"tokenize", "-m", model_, "--decode", "--text", ids.out.trimmed()});
    QCOMPARE(text.exit_code, 0);
    QCOMPARE(text.out, QString("Once upon a time, Lily smiled."));
    Run bad = run_cli({"tokenize", "-m", model_, "--decode", "--text", "5 99999"});
    QCOMPARE(bad.exit_code, 1);
    QVERIFY2(bad.err.contains("99999"), qPrintable(bad.err));
  }

  void info_describes_the_model() {
    Run r = run_cli({"info", "-m", model_});
    QCOMPARE(r.exit_code, 0);
    QVERIFY2(r.out.contains("architecture:  llama"), qPrintable(r.out));
    QVERIFY2(r.out.contains("layers:        5"), qPrintable(r.out));
    QVERIFY2(r.out.contains("ffn:           172 neurons"), qPrintable(r.out));
    QVERIFY2(r.out.contains("kv heads 4"), qPrintable(r.out));
    QVERIFY2(r.out.contains("F32"), qPrintable(r.out));
    QVERIFY2(r.out.contains("ffn "), qPrintable(r.out));
  }

  void bad_models_give_clear_errors() {
    QTemporaryDir dir;
    QFile src(model_);
    QVERIFY(src.open(QIODevice::ReadOnly));
    const QByteArray bytes = src.readAll();
    struct Case {
      QString name;
      QByteArray content;
      QString expect;  // substring of the message
    };
    const QList<Case> cases = {
        {"truncated.gguf", bytes.left(bytes.size() / 2), "truncated.gguf"},
        {"header_only.gguf", bytes.left(20), "header_only.gguf"},
        {"not_gguf.gguf", QByteArray("this is not a model file at all"), "not_gguf.gguf"},
        {"empty.gguf", QByteArray(), "empty.gguf"},
    };
    for (const Case& c : cases) {
      const QString path = dir.filePath(c.name);
      QFile f(path);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(c.content);
      f.close();
      for (const QString& cmd : {QString("info"), QString("generate")}) {
        QStringList args = {cmd, "-m", path};
        if (cmd == "generate") args << "-n" << "1";
        Run r = run_cli(args);
        QVERIFY2(!r.crashed, qPrintable(c.name));
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.startsWith("error: ") && r.err.contains(c.expect), qPrintable(r.err));
      }
    }
    Run missing = run_cli({"info", "-m", dir.filePath("nope.gguf")});
    QCOMPARE(missing.exit_code, 1);
    QVERIFY2(missing.err.contains("nope.gguf"), qPrintable(missing.err));
    Run empty_dir = run_cli({"info", "-m", dir.path()});
    QCOMPARE(empty_dir.exit_code, 1);
    QVERIFY2(empty_dir.err.contains("config.json"), qPrintable(empty_dir.err));
  }

  void bad_arguments_are_refused() {
    Run r = run_cli({"generate", "--model", model_, "--temp", "-1"});
    QVERIFY(r.exit_code != 0);
    Run none = run_cli({});
    QVERIFY(none.exit_code != 0);
  }
};

QTEST_GUILESS_MAIN(CliTest)
#include "cli_test.moc"
