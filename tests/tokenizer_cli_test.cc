// tokenizer_cli_test.cc - llama.cpp's vocabulary test vectors through `flashchat-cli tokenize`:
// every vocabulary-only GGUF in the fixtures (0 tensors, architecture not loaded) must give the
// expected ids for every test string, and the ids must decode back to the string. ctest runs one
// test per vocabulary (tokenizer_cli_<vocab>, the `vectors:<file>` data row) plus tokenizer_cli
// for the BOS rule and the errors.
#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include "test_support.h"

using flashchat_test::CliRun;
using flashchat_test::run_cli;

namespace {

QString ids_text(const std::vector<int>& ids) {
  QStringList parts;
  for (int id : ids) parts << QString::number(id);
  return parts.join(' ');
}

bool write_file(const QString& path, const std::string& bytes) {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return false;
  return f.write(bytes.data(), static_cast<qint64>(bytes.size())) ==
         static_cast<qint64>(bytes.size());
}

QString vocab_dir() {
  return flashchat_test::fixture_path("tokenizers");
}

}  // namespace

class TokenizerCliTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QVERIFY2(QFile::exists(qEnvironmentVariable("FLASHCHAT_CLI")), "FLASHCHAT_CLI not set");
    REQUIRE_FIXTURE(vocab_dir());
  }

  void vectors_data() {
    QTest::addColumn<QString>("vocab");
    const QStringList inputs = QDir(vocab_dir()).entryList({"*.gguf.inp"}, QDir::Files, QDir::Name);
    for (const QString& inp : inputs) {
      const QString vocab = inp.chopped(4);
      QTest::newRow(qPrintable(vocab)) << QDir(vocab_dir()).filePath(vocab);
    }
    QVERIFY2(!inputs.isEmpty(), qPrintable("no *.gguf.inp in " + vocab_dir()));
  }

  void vectors() {
    QFETCH(QString, vocab);
    REQUIRE_FIXTURE(vocab);
    const auto cases = flashchat_test::vocab_test_cases(vocab + ".inp");
    const auto expected = flashchat_test::vocab_test_expected(vocab + ".out");
    QVERIFY(!cases.empty());
    QCOMPARE(cases.size(), expected.size());
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString text_path = tmp.filePath("case.txt"), ids_path = tmp.filePath("ids.txt");
    int encode_ok = 0, decode_ok = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
      QVERIFY(write_file(text_path, cases[i]));
      const CliRun enc = run_cli({"tokenize", "--model", vocab, "--file", text_path});
      QVERIFY2(!enc.crashed && enc.exit_code == 0, qPrintable(enc.err));
      const QString want = ids_text(expected[i]);
      if (enc.out.trimmed() == want) {
        ++encode_ok;
      } else {
        qWarning("case %zu '%s': got [%s] want [%s]", i, cases[i].c_str(),
                 qPrintable(enc.out.trimmed()), qPrintable(want));
      }
      QVERIFY(write_file(ids_path, want.toStdString()));
      const CliRun dec = run_cli({"tokenize", "--model", vocab, "--decode", "--file", ids_path});
      QVERIFY2(!dec.crashed && dec.exit_code == 0, qPrintable(dec.err));
      if (dec.out.toStdString() == cases[i]) {
        ++decode_ok;
      } else {
        qWarning("case %zu decode: got '%s' want '%s'", i, qPrintable(dec.out), cases[i].c_str());
      }
    }
    qInfo("%s: encode %d/%zu, decode %d/%zu through the CLI",
          qPrintable(QFileInfo(vocab).fileName()), encode_ok, cases.size(), decode_ok,
          cases.size());
    QCOMPARE(encode_ok, static_cast<int>(cases.size()));
    QCOMPARE(decode_ok, static_cast<int>(cases.size()));
  }

  // `tokenize --bos` tokenizes as a prompt: the SentencePiece vocabulary says
  // add_bos_token = true (BOS 1 first); GPT-2's names no rule and its family's default is no BOS.
  void bos_rule_through_cli() {
    const QString spm = QDir(vocab_dir()).filePath("ggml-vocab-llama-spm.gguf");
    const QString gpt2 = QDir(vocab_dir()).filePath("ggml-vocab-gpt-2.gguf");
    REQUIRE_FIXTURE(spm);
    REQUIRE_FIXTURE(gpt2);
    const CliRun s_plain = run_cli({"tokenize", "-m", spm, "--text", "Hello world"});
    const CliRun s_prompt = run_cli({"tokenize", "-m", spm, "--bos", "--text", "Hello world"});
    QCOMPARE(s_plain.exit_code, 0);
    QCOMPARE(s_prompt.exit_code, 0);
    QCOMPARE(s_prompt.out.trimmed(), "1 " + s_plain.out.trimmed());
    const CliRun g_plain = run_cli({"tokenize", "-m", gpt2, "--text", "Hello world"});
    const CliRun g_prompt = run_cli({"tokenize", "-m", gpt2, "--bos", "--text", "Hello world"});
    QCOMPARE(g_plain.exit_code, 0);
    QCOMPARE(g_prompt.out, g_plain.out);
    QVERIFY(!g_plain.out.trimmed().split(' ').contains("50256"));
  }

  // A vocabulary-only GGUF cannot be run: `info` (which loads weights) refuses it with a clear
  // error, while `tokenize` works (tested above).
  void vocab_only_file_is_not_a_runnable_model() {
    const QString gpt2 = QDir(vocab_dir()).filePath("ggml-vocab-gpt-2.gguf");
    REQUIRE_FIXTURE(gpt2);
    const CliRun r = run_cli({"info", "-m", gpt2});
    QVERIFY(!r.crashed);
    QCOMPARE(r.exit_code, 1);
    QVERIFY2(r.err.startsWith("error: ") && r.err.contains("ggml-vocab-gpt-2.gguf"),
             qPrintable(r.err));
  }
};

QTEST_GUILESS_MAIN(TokenizerCliTest)
#include "tokenizer_cli_test.moc"
