// test_support.h - locating fixtures from tests, and small helpers the suites share.
//
// The shared fixtures live beside the checkout (../shared/fixtures, or FLASHCHAT_FIXTURES_DIR).
// A missing fixture fails the test, locally as under CI: a suite that skips what it cannot find
// passes without having tested anything.
#pragma once

#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QString>
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "session/generator.h"

namespace flashchat_test {

// Logits per position: the worst max |a - b| / max |b| over positions, and the share of
// positions whose argmax agrees.
inline std::pair<double, double> logits_compare(const std::vector<std::vector<float>>& a,
                                                const std::vector<std::vector<float>>& b) {
  double worst = 0;
  int agree = 0;
  for (size_t p = 0; p < a.size(); ++p) {
    double diff = 0, mx = 0;
    for (size_t v = 0; v < a[p].size(); ++v) {
      diff = std::max(diff, std::fabs(double(a[p][v]) - b[p][v]));
      mx = std::max(mx, std::fabs(double(b[p][v])));
    }
    worst = std::max(worst, diff / std::max(mx, 1e-30));
    agree += std::max_element(a[p].begin(), a[p].end()) - a[p].begin() ==
             std::max_element(b[p].begin(), b[p].end()) - b[p].begin();
  }
  return {worst, double(agree) / double(a.size())};
}

inline QString fixtures_dir() { return qEnvironmentVariable("FLASHCHAT_FIXTURES_DIR"); }
inline QString test_data_dir() { return qEnvironmentVariable("FLASHCHAT_TEST_DATA"); }
inline QString fixture_path(const QString& rel) { return fixtures_dir() + "/" + rel; }
inline QString test_data_path(const QString& rel) { return test_data_dir() + "/" + rel; }

// The message of the Error `f()` throws, or "" when it does not throw.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const flashchat::Error& e) {
    return e.what();
  }
  return "";
}

// The stories260K reference text: the fenced block after "Reference" in the fixtures README
// ("" when the file or the block is missing).
inline std::string reference_text_from_readme(const QString& readme_path) {
  QFile f(readme_path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  const QString text = QString::fromUtf8(f.readAll());
  const qsizetype ref = text.indexOf("Reference");
  const qsizetype open = text.indexOf("```\n", ref);
  const qsizetype close = text.indexOf("\n```", open + 4);
  if (ref < 0 || open < 0 || close < 0) return {};
  return text.mid(open + 4, close - (open + 4)).toStdString();
}

// flashchat-cli (FLASHCHAT_CLI) run with `args`: exit code, whether it crashed or hung (5 min),
// stdout and stderr.
struct CliRun {
  int exit_code = -1;
  bool crashed = false;
  QString out, err;
};
inline CliRun run_cli(const QStringList& args) {
  QProcess p;
  p.start(qEnvironmentVariable("FLASHCHAT_CLI"), args);
  CliRun r;
  if (!p.waitForFinished(300000)) {
    p.kill();
    r.crashed = true;
    return r;
  }
  r.crashed = p.exitStatus() != QProcess::NormalExit;
  r.exit_code = p.exitCode();
  r.out = QString::fromUtf8(p.readAllStandardOutput());
  r.err = QString::fromUtf8(p.readAllStandardError());
  return r;
}

inline std::string read_all(const QString& path) {
  std::ifstream in(path.toStdString(), std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Strings of a llama.cpp vocabulary test .inp file: each followed by "\n__ggml_vocab_test__\n".
inline std::vector<std::string> vocab_test_cases(const QString& path) {
  const std::string all = read_all(path);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> cases;
  size_t pos = 0;
  while (pos < all.size()) {
    const size_t end = all.find(sep, pos);
    if (end == std::string::npos) break;
    cases.push_back(all.substr(pos, end - pos));
    pos = end + sep.size();
  }
  return cases;
}

// The expected ids of a .out file: one line of space-separated ids per case.
inline std::vector<std::vector<int>> vocab_test_expected(const QString& path) {
  std::vector<std::vector<int>> out;
  std::istringstream in(read_all(path));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<int> ids;
    for (int id; ls >> id;) ids.push_back(id);
    out.push_back(ids);
  }
  return out;
}

// Runs tools/make_quant_gguf.py (the independent block reference: pure Python) writing `out`,
// with `args` (e.g. --seed N, --model). Returns "" on success, else what went wrong.
inline QString quant_gguf_make(const QString& out, const QStringList& args = {}) {
  const QString tool = test_data_dir() + "/../../tools/make_quant_gguf.py";
  QProcess p;
  p.start("python3", QStringList{tool, out} + args);
  if (!p.waitForFinished(120000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
    return "make_quant_gguf.py failed: " + QString::fromUtf8(p.readAllStandardError());
  }
  return {};
}

// Greedy decoding of up to n tokens.
inline flashchat::GenerateOptions greedy(int n) {
  flashchat::GenerateOptions o;
  o.max_new_tokens = n;
  o.sampling.temperature = 0.0f;
  return o;
}

}  // namespace flashchat_test

// Fails the current test when `path` (a QString) does not exist, naming the path and where the
// fixtures come from.
#define REQUIRE_FIXTURE(path)                                                                  \
  do {                                                                                         \
    if (!QFileInfo::exists(path)) {                                                            \
      QFAIL(qPrintable("fixture missing: " + (path) +                                          \
                       " (the shared fixtures live in ../shared/fixtures beside the checkout; " \
                       "point FLASHCHAT_FIXTURES_DIR or the CMake cache entry "                 \
                       "FLASHCHAT_FIXTURES_DIR at them)"));                                    \
    }                                                                                          \
  } while (0)

// Checks that `text` contains `part`, printing both when it does not.
#define VERIFY_CONTAINS(text, part)                           \
  QVERIFY2(std::string(text).find(part) != std::string::npos, \
           qPrintable(QString("'%1' does not contain '%2'")   \
                          .arg(QString::fromStdString(text), QString::fromStdString(part))))
