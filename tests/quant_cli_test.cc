// quant_cli_test.cc - `flashchat-cli info` tensor types, `dump` and `perplexity`:
//   - info lists each tensor type with its count and bytes, equal to the GGUF file's own tensor
//     table (stories260K, all F32; and the tool's tiny Llama with one matrix of each K-quant);
//   - dump prints one row per line, "%.9g" values separated by single spaces, that read back to
//     the stored values exactly (stories260K F32), and for every quantised type the tool's
//     reference values bit for bit (also with --rows); bad names and ranges are errors;
//   - perplexity of stories260K on its own reference text is well below its vocabulary size.
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>
#include <cstring>
#include <map>

#include "formats/gguf.h"
#include "test_support.h"

using namespace flashchat;

namespace {

struct Run {
  int exit_code = -1;
  QString out, err;
};

Run cli(const QStringList& args) {
  QProcess p;
  p.start(qEnvironmentVariable("FLASHCHAT_CLI"), args);
  Run r;
  if (!p.waitForFinished(120000)) return r;
  r.exit_code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = QString::fromUtf8(p.readAllStandardOutput());
  r.err = QString::fromUtf8(p.readAllStandardError());
  return r;
}

// "name xN (B bytes)" entries of info's "tensor types:" line.
std::map<QString, std::pair<int, qint64>> info_types(const QString& out) {
  std::map<QString, std::pair<int, qint64>> m;
  const qsizetype at = out.indexOf("tensor types:");
  const QString line = out.mid(at, out.indexOf('\n', at) - at);
  static const QRegularExpression re("(\\w+) x(\\d+) \\((\\d+) bytes\\)");
  for (auto it = re.globalMatch(line); it.hasNext();) {
    const auto mt = it.next();
    m[mt.captured(1)] = {mt.captured(2).toInt(), mt.captured(3).toLongLong()};
  }
  return m;
}

// The same, from the file's tensor table.
std::map<QString, std::pair<int, qint64>> file_types(const GgufFile& f) {
  std::map<QString, std::pair<int, qint64>> m;
  for (const GgufTensorInfo& t : f.tensors()) {
    auto& e = m[QString::fromStdString(ggml_type_name(t.ggml_type))];
    ++e.first;
    e.second += qint64(t.size_bytes);
  }
  return m;
}

QStringList lines_of(const QString& out) {
  QStringList l = out.split('\n');
  if (!l.isEmpty() && l.last().isEmpty()) l.removeLast();
  return l;
}

}  // namespace

class QuantCliTest : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  QString stories_, blocks_, kq_;

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    QVERIFY2(QFile::exists(qEnvironmentVariable("FLASHCHAT_CLI")), "FLASHCHAT_CLI not set");
    stories_ = flashchat_test::fixture_path("models/stories260K/stories260K.gguf");
    REQUIRE_FIXTURE(stories_);
    blocks_ = tmp_.filePath("blocks.gguf");
    kq_ = tmp_.filePath("kq.gguf");
    QString err = flashchat_test::quant_gguf_make(blocks_);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    err = flashchat_test::quant_gguf_make(kq_, {"--model"});
    QVERIFY2(err.isEmpty(), qPrintable(err));
  }

  void info_lists_types_counts_and_bytes() {
    for (const QString& path : {stories_, kq_}) {
      const Run r = cli({"info", "-m", path});
      QVERIFY2(r.exit_code == 0, qPrintable(r.err));
      const auto listed = info_types(r.out);
      const auto want = file_types(GgufFile::open(path.toStdString()));
      QCOMPARE(listed, want);
    }
    QCOMPARE(info_types(cli({"info", "-m", kq_}).out).size(), size_t(10));  // F32 + 9 quantised
  }

  void dump_reads_back_exactly() {
    const GgufFile f = GgufFile::open(stories_.toStdString());
    const GgufTensorInfo* t = f.find_tensor("blk.0.attn_q.weight");
    QVERIFY(t && t->dtype == DType::F32 && t->ne.size() == 2);
    const int64_t cols = t->ne[0];
    const Run all = cli({"dump", "-m", stories_, "--tensor", "blk.0.attn_q.weight"});
    QVERIFY2(all.exit_code == 0, qPrintable(all.err));
    QCOMPARE(lines_of(all.out).size(), qsizetype(t->ne[1]));
    const Run some = cli({"dump", "-m", stories_, "--tensor", "blk.0.attn_q.weight", "--rows", "3:5"});
    const QStringList rows = lines_of(some.out);
    QCOMPARE(rows.size(), qsizetype(2));
    QCOMPARE(rows[0], lines_of(all.out)[3]);
    const float* data = reinterpret_cast<const float*>(f.tensor_data(*t));
    for (int r = 0; r < 2; ++r) {
      const QStringList values = rows[r].split(' ');
      QCOMPARE(values.size(), qsizetype(cols));
      for (int64_t c = 0; c < cols; ++c) {
        const float v = std::strtof(values[c].toUtf8().constData(), nullptr);
        QCOMPARE(std::memcmp(&v, &data[(3 + r) * cols + c], 4), 0);
      }
    }
    const Run vec = cli({"dump", "-m", stories_, "--tensor", "output_norm.weight"});
    QCOMPARE(lines_of(vec.out).size(), qsizetype(1));
  }

  void dump_quantized_equals_reference() {
    for (const char* type : {"q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k"}) {
      const QString w = QString(type) + ".weight", e = QString(type) + ".expected";
      const Run got = cli({"dump", "-m", blocks_, "--tensor", w, "--rows", "1:3"});
      const Run want = cli({"dump", "-m", blocks_, "--tensor", e, "--rows", "1:3"});
      QVERIFY2(got.exit_code == 0 && want.exit_code == 0, qPrintable(got.err + want.err));
      QCOMPARE(lines_of(got.out).size(), qsizetype(2));
      QVERIFY2(got.out == want.out, type);
      QVERIFY2(!got.out.contains("  ") && !got.out.contains(" \n"), type);  // single spaces
    }
  }

  void dump_errors() {
    Run r = cli({"dump", "-m", stories_, "--tensor", "no.such.tensor"});
    QCOMPARE(r.exit_code, 1);
    QVERIFY2(r.err.contains("no tensor 'no.such.tensor'"), qPrintable(r.err));
    r = cli({"dump", "-m", stories_, "--tensor", "blk.0.attn_q.weight", "--rows", "5:2"});
    QCOMPARE(r.exit_code, 1);
    QVERIFY2(r.err.contains("--rows"), qPrintable(r.err));
    QVERIFY(r.out.isEmpty());
  }

  void perplexity_of_stories260k() {
    const std::string text =
        flashchat_test::reference_text_from_readme(flashchat_test::fixture_path("README.md"));
    QVERIFY(!text.empty());
    const QString file = tmp_.filePath("ref.txt");
    QFile out(file);
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(text.data(), qint64(text.size()));
    out.close();
    const Run r = cli({"perplexity", "-m", stories_, "--file", file});
    QVERIFY2(r.exit_code == 0, qPrintable(r.err));
    static const QRegularExpression re("perplexity: ([0-9.]+) \\(mean NLL ([0-9.]+) nats over (\\d+)");
    const auto m = re.match(r.out);
    QVERIFY2(m.hasMatch(), qPrintable(r.out));
    const double ppl = m.captured(1).toDouble(), nll = m.captured(2).toDouble();
    QVERIFY(m.captured(3).toInt() > 20);
    QVERIFY2(std::fabs(std::log(ppl) - nll) < 1e-3, qPrintable(r.out));
    // The model wrote this text (greedy): it predicts it far better than uniform over 512.
    QVERIFY2(ppl > 1.0 && ppl < 20.0, qPrintable(r.out));
  }
};

QTEST_GUILESS_MAIN(QuantCliTest)
#include "quant_cli_test.moc"
