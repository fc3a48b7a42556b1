// cache_simulator_test.cc - the what-if simulator against real runs of the default model:
//   - oracle sets: a Session run records its active sets; the simulator replaying them at the
//     same window and budget reports the same bytes read, read requests, neurons added, removed
//     and streamed per layer, and window in force, token by token (k 1/4/8, unlimited, a
//     moderate and a tight budget);
//   - trained predictor: a trace recorded at k = 4 unlimited, replayed at k = 8 under a budget,
//     has means of bytes read and neurons added/removed within 5% of a real run at k = 8 with
//     that budget, over 100 generated tokens;
//   - the trace file round-trips (write, read, same sets, fixed bytes, window, budget);
//   - flashchat-cli generate --trace / replay --telemetry: the replayed JSON lines carry the
//     real run's bytes_read and neurons_added for every token.

#include <QtTest>
#include <cmath>
#include <fstream>
#include <memory>

#include "core/resource_paths.h"
#include "flash/flash_model.h"
#include "model/transformer.h"
#include "runtime/active_trace.h"
#include "runtime/flash_ffn.h"
#include "runtime/cache_simulator.h"
#include "session/session.h"
#include "test_support.h"

using namespace flashchat;
using flashchat_test::greedy;

namespace {

struct Recorded {
  ActiveTrace trace;
  std::vector<TokenTelemetry> real;
};

constexpr char kPrompt[] = "Once upon a time, a little fox found a shiny stone in the forest";

Recorded record(const std::string& model, bool oracle, int window, int64_t budget, int tokens) {
  SessionOptions so;
  so.model_path = model;
  so.oracle = oracle;
  so.window = window;
  so.budget_bytes = budget;
  Session s(so);
  Recorded r;
  r.trace.header = s.trace_header();
  GenerateCallbacks cb;
  cb.on_telemetry = [&](const TokenTelemetry& t) { r.real.push_back(t); };
  cb.on_active_sets = [&](const ActiveTraceToken& t) { r.trace.tokens.push_back(t); };
  s.complete(kPrompt, greedy(tokens), cb);
  return r;
}

int64_t minimum_budget(const std::string& model, int window, int positions) {
  SessionOptions so;
  so.model_path = model;
  so.window = window;
  Session s(so);
  return s.minimum_budget_bytes(FfnMode::Flash, positions);
}

QString compare_token(const TokenTelemetry& real, const TokenTelemetry& sim) {
  auto diff = [&](const char* what, int64_t a, int64_t b) {
    return a == b ? QString() : QString("%1 real %2 simulated %3; ").arg(what).arg(a).arg(b);
  };
  QString d = diff("bytes_read", real.bytes_read, sim.bytes_read) +
              diff("read_requests", real.read_requests, sim.read_requests) +
              diff("window_in_force", real.window_in_force, sim.window_in_force) +
              diff("ffn_neurons_loaded", real.ffn_neurons_loaded, sim.ffn_neurons_loaded);
  if (real.layers.size() != sim.layers.size()) return d + "layer counts differ";
  for (size_t l = 0; l < real.layers.size(); ++l) {
    const LayerTelemetry &a = real.layers[l], &b = sim.layers[l];
    d += diff("added", a.neurons_added, b.neurons_added) +
         diff("removed", a.neurons_removed, b.neurons_removed) +
         diff("streamed", a.neurons_streamed, b.neurons_streamed) +
         diff("rows_used", a.cache_rows_used, b.cache_rows_used) +
         diff("capacity", a.cache_capacity, b.cache_capacity);
  }
  return d;
}

struct Means {
  double bytes = 0, added = 0, removed = 0;
};
Means means(const std::vector<TokenTelemetry>& tel) {
  Means m;
  double n = 0;
  for (const TokenTelemetry& t : tel) {
    if (t.prompt) continue;
    ++n;
    m.bytes += double(t.bytes_read);
    for (const LayerTelemetry& lt : t.layers) {
      m.added += lt.neurons_added;
      m.removed += lt.neurons_removed;
    }
  }
  m.bytes /= n;
  m.added /= n;
  m.removed /= n;
  return m;
}

}  // namespace

class CacheSimulatorTest : public QObject {
  Q_OBJECT
  std::string model_;
  int64_t row_bytes_ = 0;  // one cache row in every layer

 private slots:
  void initTestCase() {
    model_ = resource_path_find("models/default");
    QVERIFY2(!model_.empty(), "resources/models/default is missing");
    SessionOptions so;
    so.model_path = model_;
    const FlashLayout l = Session(so).trace_header().layout;
    row_bytes_ = l.bundle_bytes * l.n_layers;
  }

  void oracle_replay_equals_the_real_run_token_by_token() {
    constexpr int kTokens = 48;
    const int positions = 80;
    int configs = 0, streamed_runs = 0, shrunk_runs = 0;
    for (const int window : {1, 4, 8}) {
      const int64_t minimum = minimum_budget(model_, window, positions);
      // 12 rows per layer beyond the minimum: the oracle's sets (15-90 rows) do not fit; 400:
      // most of a window fits.
      const int64_t row = row_bytes_;
      for (const int64_t budget : {int64_t(0), minimum + 400 * row, minimum + 12 * row}) {
        const Recorded r = record(model_, true, window, budget, kTokens);
        QVERIFY(r.trace.header.oracle);
        QVERIFY(r.trace.header.fresh);
        QCOMPARE(r.trace.tokens.size(), r.real.size());
        QVERIFY(r.real.size() > size_t(kTokens) / 2);
        bool block = false;  // the prompt ran as a block (its union streamed, the cache kept)
        for (const ActiveTraceToken& a : r.trace.tokens) block = block || a.block;
        QVERIFY(block);
        const std::vector<TokenTelemetry> sim = cache_simulate(r.trace, {window, budget});
        QCOMPARE(sim.size(), r.real.size());
        bool streamed = false, shrunk = false;
        int64_t bytes = 0;
        for (size_t i = 0; i < sim.size(); ++i) {
          const QString d = compare_token(r.real[i], sim[i]);
          QVERIFY2(d.isEmpty(), qPrintable(QString("k=%1 budget %2 token %3: %4")
                                               .arg(window).arg(budget).arg(i).arg(d)));
          bytes += sim[i].bytes_read;
          if (r.trace.tokens[i].block) continue;  // a prompt block streams what is not cached
          for (const LayerTelemetry& lt : sim[i].layers) streamed |= lt.neurons_streamed > 0;
          shrunk |= sim[i].window_in_force < std::min<int64_t>(window, int64_t(i));
        }
        QVERIFY(bytes > 0);
        streamed_runs += streamed;
        shrunk_runs += shrunk;
        ++configs;
        qInfo("k=%d budget %lld: %zu tokens equal, %lld bytes read, streamed %d, shrunk %d",
              window, static_cast<long long>(budget), sim.size(), static_cast<long long>(bytes),
              int(streamed), int(shrunk));
      }
    }
    QCOMPARE(configs, 9);
    // The tight budgets really bit: the policy's eviction and streaming paths were compared.
    QVERIFY(streamed_runs >= 1);
    QVERIFY(shrunk_runs >= 1);
  }

  void predictor_replay_at_another_window_and_budget_is_within_5_percent() {
    constexpr int kTokens = 100;
    const Recorded rec = record(model_, false, 4, 0, kTokens);
    QVERIFY(!rec.trace.header.oracle);
    const int64_t budget = minimum_budget(model_, 8, 160) + 200 * row_bytes_;
    const Recorded real = record(model_, false, 8, budget, kTokens);
    const std::vector<TokenTelemetry> sim = cache_simulate(rec.trace, {8, budget});
    const Means a = means(real.real), b = means(sim);
    qInfo("k=8 budget %lld: real bytes/token %.0f added %.1f removed %.1f; simulated from k=4 "
          "trace %.0f / %.1f / %.1f",
          static_cast<long long>(budget), a.bytes, a.added, a.removed, b.bytes, b.added,
          b.removed);
    QVERIFY(a.bytes > 0 && a.added > 0);
    auto close = [](double x, double y) { return std::fabs(x - y) <= 0.05 * std::max(x, y); };
    QVERIFY2(close(a.bytes, b.bytes), qPrintable(QString("%1 vs %2").arg(a.bytes).arg(b.bytes)));
    QVERIFY2(close(a.added, b.added), qPrintable(QString("%1 vs %2").arg(a.added).arg(b.added)));
    QVERIFY2(close(a.removed, b.removed),
             qPrintable(QString("%1 vs %2").arg(a.removed).arg(b.removed)));
    // The what-if differs from the recorded setting (else the test would compare k=4 to k=4).
    const Means at4 = means(rec.real);
    QVERIFY2(!close(at4.added, a.added) || !close(at4.bytes, a.bytes),
             "k = 4 unlimited and k = 8 with a budget cost the same: the test shows nothing");
  }

  void active_sets_are_recorded_only_when_asked() {
    const std::unique_ptr<FlashModel> fm = flash_model_open(model_);
    FlashFfnOptions fo;
    FlashFfn ffn(*fm, fo, 0, 0);
    Transformer t(*fm->model, 8, &ffn, KvType::F32);
    const int tokens[] = {1, 400, 35, 90};
    for (int p = 0; p < 4; ++p) {
      if (p == 2) ffn.set_record_active(true);
      ffn.begin_token();
      t.forward(tokens[p], p);
      TokenTelemetry tel;
      ffn.fill_telemetry(tel);
      if (p < 2) {
        QVERIFY(ffn.recorded_active().empty());  // off: nothing is kept
        continue;
      }
      QCOMPARE(int(ffn.recorded_active().size()), fm->ffn.n_layers);
      for (size_t l = 0; l < tel.layers.size(); ++l) {
        QCOMPARE(int(ffn.recorded_active()[l].size()), tel.layers[l].neurons_predicted);
      }
    }
    ffn.set_record_active(false);
    QVERIFY(ffn.recorded_active().empty());
  }

  void trace_file_round_trips() {
    const Recorded r = record(model_, true, 4, 0, 8);
    QTemporaryDir dir;
    const std::string path = dir.filePath("t.fctrace").toStdString();
    {
      ActiveTraceWriter w(path, r.trace.header);
      for (const ActiveTraceToken& t : r.trace.tokens) w.append(t);
      w.close();
      QCOMPARE(w.tokens(), int64_t(r.trace.tokens.size()));
    }
    const ActiveTrace back = active_trace_read(path);
    QCOMPARE(back.header.layout.layer_offsets, r.trace.header.layout.layer_offsets);
    QCOMPARE(back.header.io_plan_bytes, r.trace.header.io_plan_bytes);
    QCOMPARE(back.header.direct_io, r.trace.header.direct_io);
    QCOMPARE(back.tokens.size(), r.trace.tokens.size());
    for (size_t i = 0; i < back.tokens.size(); ++i) {
      QCOMPARE(back.tokens[i].active, r.trace.tokens[i].active);
      QCOMPARE(back.tokens[i].fixed_bytes, r.trace.tokens[i].fixed_bytes);
      QCOMPARE(back.tokens[i].window, r.trace.tokens[i].window);
      QCOMPARE(back.tokens[i].prompt, r.trace.tokens[i].prompt);
    }
    // Compact: the bitsets compress well below one bit per neuron per layer per token.
    const qint64 raw = qint64(back.tokens.size()) * back.header.layout.n_layers *
                       back.header.layout.neurons / 8;
    QVERIFY2(QFileInfo(QString::fromStdString(path)).size() < raw,
             qPrintable(QString::number(QFileInfo(QString::fromStdString(path)).size())));
    // A file that is not a trace is refused with its name.
    const std::string bad = dir.filePath("bad").toStdString();
    std::ofstream(bad) << "hello";
    VERIFY_CONTAINS(flashchat_test::error_of([&] { active_trace_read(bad); }), "not a FlashChat trace");
  }

  void cli_generate_trace_then_replay_matches_generate_telemetry() {
    const QString cli = qEnvironmentVariable("FLASHCHAT_CLI");
    QVERIFY(QFileInfo::exists(cli));
    QTemporaryDir dir;
    const QString trace = dir.filePath("run.fctrace"), real = dir.filePath("real.jsonl"),
                  sim = dir.filePath("sim.jsonl"), fig = dir.filePath("fig.json");
    QProcess gen;
    gen.start(cli, {"generate", "-p", kPrompt, "-n", "24", "--temp", "0", "--window", "2",
                    "--oracle", "--telemetry", real, "--trace", trace});
    QVERIFY(gen.waitForFinished(120000));
    QVERIFY2(gen.exitCode() == 0, gen.readAllStandardError().constData());
    QProcess rep;
    rep.start(cli, {"replay", "--trace", trace, "--window", "2", "--telemetry", sim, "--figures",
                    fig, "--max-window", "6"});
    QVERIFY(rep.waitForFinished(120000));
    const QByteArray out = rep.readAllStandardOutput();
    QVERIFY2(rep.exitCode() == 0, rep.readAllStandardError().constData());
    QVERIFY2(out.contains("mean over ") && out.contains("generated tokens"), out.constData());
    auto lines = [](const QString& p) {
      QFile f(p);
      if (!f.open(QIODevice::ReadOnly)) return QList<QJsonObject>();
      QList<QJsonObject> v;
      for (const QByteArray& l : f.readAll().split('\n')) {
        if (!l.isEmpty()) v.push_back(QJsonDocument::fromJson(l).object());
      }
      return v;
    };
    const auto a = lines(real), b = lines(sim);
    QVERIFY(!a.isEmpty());
    QCOMPARE(a.size(), b.size());
    for (int i = 0; i < a.size(); ++i) {
      QCOMPARE(b[i]["bytes_read"].toInteger(), a[i]["bytes_read"].toInteger());
      QCOMPARE(b[i]["read_requests"].toInteger(), a[i]["read_requests"].toInteger());
      const QJsonArray la = a[i]["layers"].toArray(), lb = b[i]["layers"].toArray();
      QCOMPARE(lb.size(), la.size());
      for (int l = 0; l < la.size(); ++l) {
        QCOMPARE(lb[l].toObject()["neurons_added"].toInt(), la[l].toObject()["neurons_added"].toInt());
        QCOMPARE(lb[l].toObject()["neurons_removed"].toInt(),
                 la[l].toObject()["neurons_removed"].toInt());
      }
    }
    // Figures: a point per window; a longer window loads fewer neurons per token and holds more.
    QFile f(fig);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonArray w = QJsonDocument::fromJson(f.readAll()).object()["windows"].toArray();
    QCOMPARE(w.size(), 6);
    const QJsonObject w1 = w[0].toObject(), w6 = w[5].toObject();
    QVERIFY(w6["neurons_loaded_per_token"].toDouble() < w1["neurons_loaded_per_token"].toDouble());
    QVERIFY(w6["aggregated_usage"].toDouble() > w1["aggregated_usage"].toDouble());
  }
};

QTEST_GUILESS_MAIN(CacheSimulatorTest)
#include "cache_simulator_test.moc"
