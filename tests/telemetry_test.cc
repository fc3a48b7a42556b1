// telemetry_test.cc - the per-token telemetry is tested, not trusted:
//   (a) `flashchat-cli generate --telemetry F` writes, per forward pass, the values the Session's
//       callback delivers for the same run (same options and seed, so the same tokens): every
//       deterministic field of TokenTelemetry compared one by one, the timing fields consistent;
//   (b) bytes_read and read_requests per token follow from the neurons loaded and the bundle
//       layout: with an oracle (whose active sets the test recomputes from the same FFN inputs)
//       the test predicts each layer's loads and the runs they form, and with direct I/O
//       bytes_read equals the 4 KiB-rounded span of every run (flash_store.h: a request that is
//       not aligned is read through a staging slot covering the 4 KiB span around it);
//       read_requests lies between the number of runs and the requests those spans can be cut
//       into; at a tight budget (streaming) the same contract bounds hold;
//   (c) the process RSS growth over the RSS before the model was loaded stays within the budget
//       + 8 MiB, at three budgets, in the CLI (the product path).

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <deque>
#include <numeric>
#include <set>

#include "core/mapped_file.h"
#include "core/resource_paths.h"
#include "flash/flash_model.h"
#include "model/transformer.h"
#include "runtime/budget.h"
#include "runtime/bundle_ffn.h"
#include "runtime/flash_ffn.h"
#include "runtime/flash_store.h"
#include "session/session.h"
#include "test_support.h"

using namespace flashchat;

namespace {

constexpr uint64_t kPage = 4096;
uint64_t align_down(uint64_t x) {
  return x / kPage * kPage;
}
uint64_t align_up(uint64_t x) {
  return (x + kPage - 1) / kPage * kPage;
}

struct CliRun {
  int exit_code = -1;
  QString out, err;
  std::vector<QJsonObject> lines;
};

CliRun cli_generate(const QStringList& args, const QString& telemetry_path) {
  CliRun r;
  QProcess p;
  p.start(qEnvironmentVariable("FLASHCHAT_CLI"),
          QStringList{"generate"} + args + QStringList{"--telemetry", telemetry_path});
  if (!p.waitForFinished(120000)) return r;
  r.exit_code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = QString::fromUtf8(p.readAllStandardOutput());
  r.err = QString::fromUtf8(p.readAllStandardError());
  QFile f(telemetry_path);
  if (!f.open(QIODevice::ReadOnly)) return r;
  for (const QByteArray& line : f.readAll().split('\n')) {
    if (line.isEmpty()) continue;
    QJsonParseError e;
    const QJsonDocument d = QJsonDocument::fromJson(line, &e);
    if (e.error != QJsonParseError::NoError || !d.isObject()) {
      r.lines.clear();
      r.exit_code = -2;
      return r;
    }
    r.lines.push_back(d.object());
  }
  return r;
}

qint64 num(const QJsonObject& o, const char* key) {
  return o.contains(key) ? o[key].toInteger(-1) : -1;
}

// Oracle active sets recomputed next to a FlashFfn: before each layer's FFN, the same kernel the
// oracle uses (bundle_ffn_compute over every bundle, from the mapped ffn.bin) on the same input.
class OracleRecorder : public FfnBackend {
 public:
  OracleRecorder(const FlashModel& fm, FlashFfn& inner)
      : fm_(fm),
        inner_(inner),
        map_(mapped_file_open(fm.ffn_path)),
        ids_(size_t(fm.ffn.neurons)),
        hidden_(size_t(fm.ffn.neurons)),
        scratch_(size_t(fm.ffn.dim)),
        last_(size_t(fm.ffn.n_layers)) {
    std::iota(ids_.begin(), ids_.end(), 0);
  }
  void ffn_forward(int layer, const float* x, float* out) override {
    const Tensor& b = fm_.model->weights.layers[size_t(layer)].ffn_up_bias;
    bundle_ffn_compute(fm_.ffn, fm_.model->config, map_->data() + fm_.ffn.bundle_offset(layer, 0),
                       fm_.ffn.neurons, ids_.data(), b.empty() ? nullptr : b.f32(), x,
                       scratch_.data(), hidden_.data());
    std::vector<int32_t> active;
    for (int32_t i = 0; i < fm_.ffn.neurons; ++i) {
      if (hidden_[size_t(i)] != 0.0f) active.push_back(i);
    }
    last_[size_t(layer)] = std::move(active);
    inner_.ffn_forward(layer, x, out);
  }
  // The active set of each layer at the last forward pass.
  const std::vector<int32_t>& last(int layer) const { return last_[size_t(layer)]; }

 private:
  const FlashModel& fm_;
  FlashFfn& inner_;
  std::shared_ptr<MappedFile> map_;
  std::vector<int32_t> ids_;
  std::vector<float> hidden_, scratch_;
  std::vector<std::vector<int32_t>> last_;
};

// Runs of `sorted` neuron ids adjacent on disk: {first, count}.
std::vector<std::pair<int32_t, int32_t>> runs_of(const std::vector<int32_t>& sorted) {
  std::vector<std::pair<int32_t, int32_t>> runs;
  for (int32_t id : sorted) {
    if (!runs.empty() && runs.back().first + runs.back().second == id) {
      ++runs.back().second;
    } else {
      runs.push_back({id, 1});
    }
  }
  return runs;
}

}  // namespace

class TelemetryTest : public QObject {
  Q_OBJECT

  QTemporaryDir tmp_;
  std::string model_dir_;
  std::unique_ptr<FlashModel> fm_;

  SessionOptions session_options(int window, int64_t budget) const {
    SessionOptions so;
    so.model_path = model_dir_;
    so.mode = FfnMode::Flash;
    so.window = window;
    so.budget_bytes = budget;
    return so;
  }

 private slots:
  void initTestCase() {
    QVERIFY2(QFile::exists(qEnvironmentVariable("FLASHCHAT_CLI")), "FLASHCHAT_CLI not set");
    model_dir_ = resource_path_find("models/default");
    QVERIFY2(!model_dir_.empty(), "resources/models/default is missing");
    fm_ = flash_model_open(model_dir_);
  }

  // (a) The JSON lines equal the callback's structs field by field (budget: twice the model).
  void cli_json_lines_round_trip_the_session_callback() {
    const int window = 3;
    int64_t budget = 0;
    {
      Session probe(session_options(window, 0));
      budget = 2 * probe.info().model_bytes;
    }
    const std::string prompt = "The king of the land";
    GenerateOptions go;
    go.max_new_tokens = 24;
    go.sampling.temperature = 0.8f;
    go.sampling.seed = 7;
    std::vector<TokenTelemetry> seen;
    std::string text;
    {
      Session s(session_options(window, budget));
      GenerateCallbacks cb;
      cb.on_telemetry = [&](const TokenTelemetry& t) { seen.push_back(t); };
      text = s.complete(prompt, go, cb).text;
    }
    const CliRun run =
        cli_generate({"-m", QString::fromStdString(model_dir_), "-p",
                      QString::fromStdString(prompt), "-n", "24", "--temp", "0.8", "--seed", "7",
                      "--window", QString::number(window), "--budget", QString::number(budget)},
                     tmp_.filePath("a.jsonl"));
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QCOMPARE(run.out, QString::fromStdString(text) + "\n");  // the same tokens
    QCOMPARE(run.lines.size(), seen.size());
    // One row for the prompt (a single block: it is shorter than kPromptBlockTokens) and one per
    // generated token fed (the last is sampled, not fed).
    QVERIFY(seen.size() >= 24);
    QVERIFY(seen[0].prompt && seen[0].block_tokens > 1 && !seen[1].prompt);
    int streamed_tokens = 0;
    for (size_t i = 0; i < seen.size(); ++i) {
      const TokenTelemetry& t = seen[i];
      const QJsonObject& o = run.lines[i];
      const QString at = QString("line %1: ").arg(i);
      QCOMPARE(num(o, "index"), qint64(t.index));
      QCOMPARE(num(o, "pos"), qint64(t.pos));
      QCOMPARE(o["prompt"].toBool(!t.prompt), t.prompt);
      QCOMPARE(num(o, "block_tokens"), qint64(t.block_tokens));
      QCOMPARE(o["mode"].toString(), QString::fromStdString(t.mode));
      QCOMPARE(num(o, "bytes_read"), qint64(t.bytes_read));
      QCOMPARE(num(o, "read_requests"), qint64(t.read_requests));
      const QJsonObject w = o["window"].toObject();
      QCOMPARE(num(w, "requested"), qint64(t.window_requested));
      QCOMPARE(num(w, "in_force"), qint64(t.window_in_force));
      QCOMPARE(num(o, "budget_bytes"), qint64(t.budget_bytes));
      const QJsonObject d = o["dram"].toObject();
      const QString dram_both =
          at + QString(
                   "dram in the CLI %1 / in-process resident %2 predictors %3 cache %4 kv %5 "
                   "io %6 other %7")
                   .arg(QString::fromUtf8(QJsonDocument(d).toJson(QJsonDocument::Compact)))
                   .arg(t.dram.resident_weights)
                   .arg(t.dram.predictors)
                   .arg(t.dram.neuron_cache)
                   .arg(t.dram.kv_cache)
                   .arg(t.dram.io_buffers)
                   .arg(t.dram.other);
      QVERIFY2(num(d, "resident_weights") == t.dram.resident_weights &&
                   num(d, "predictors") == t.dram.predictors &&
                   num(d, "neuron_cache") == t.dram.neuron_cache &&
                   num(d, "kv_cache") == t.dram.kv_cache &&
                   num(d, "io_buffers") == t.dram.io_buffers,
               qPrintable(dram_both));
      QCOMPARE(num(d, "total") - num(d, "other"), qint64(t.dram.total() - t.dram.other));
      // dram.other: the tokenizer's structures, the transformer's scratch and the FFN's state,
      // all counted from the structures, so it is the same in both processes.
      QCOMPARE(num(d, "other"), qint64(t.dram.other));
      QCOMPARE(num(o, "ffn_neurons_total"), qint64(t.ffn_neurons_total));
      QCOMPARE(num(o, "ffn_neurons_loaded"), qint64(t.ffn_neurons_loaded));
      const QJsonArray layers = o["layers"].toArray();
      QCOMPARE(layers.size(), qsizetype(t.layers.size()));
      bool streamed = false;
      for (qsizetype l = 0; l < layers.size(); ++l) {
        const QJsonObject lj = layers[l].toObject();
        const LayerTelemetry& lt = t.layers[size_t(l)];
        QCOMPARE(num(lj, "predicted"), qint64(lt.neurons_predicted));
        QCOMPARE(num(lj, "added"), qint64(lt.neurons_added));
        QCOMPARE(num(lj, "removed"), qint64(lt.neurons_removed));
        QCOMPARE(num(lj, "streamed"), qint64(lt.neurons_streamed));
        QCOMPARE(num(lj, "rows_used"), qint64(lt.cache_rows_used));
        QCOMPARE(num(lj, "capacity"), qint64(lt.cache_capacity));
        QVERIFY(!lj.contains("true_active"));  // only with --eval-predictor
        streamed = streamed || lt.neurons_streamed > 0;
      }
      // Generated tokens only: a prompt block streams what its union needs and leaves the cache
      // to the window (runtime/flash_ffn_batch.cc).
      streamed_tokens += streamed && !t.prompt;
      // Measured per process, so not equal between the runs: present and sane.
      QVERIFY2(num(o, "process_rss_bytes") > num(o, "process_base_rss_bytes") &&
                   num(o, "process_base_rss_bytes") > 0,
               qPrintable(at + "RSS fields"));
      // Timing: present, non-negative, and the parts add up to the total.
      const QJsonObject ms = o["ms"].toObject();
      double parts = 0;
      for (const char* k : {"predictor", "io", "memory", "compute", "sampling"}) {
        QVERIFY2(ms.contains(k) && ms[k].toDouble(-1) >= 0, qPrintable(at + k));
        parts += ms[k].toDouble();
      }
      QVERIFY2(std::fabs(parts - ms["total"].toDouble()) <= 1e-6 * std::max(1.0, parts),
               qPrintable(
                   at + QString("ms parts %1 vs total %2").arg(parts).arg(ms["total"].toDouble())));
      // Throughput over the whole time reads were in flight: waited for, or hidden behind the
      // FFN's compute (overlapped reads).
      QVERIFY2(ms.contains("io_hidden") && ms["io_hidden"].toDouble(-1) >= 0,
               qPrintable(at + "io_hidden"));
      const double io = ms["io"].toDouble() + ms["io_hidden"].toDouble();
      const double mbps = io > 0 ? double(num(o, "bytes_read")) / 1e3 / io : 0.0;
      QVERIFY(std::fabs(o["read_mb_per_s"].toDouble(-1) - mbps) <= 1e-9 * std::max(1.0, mbps));
    }
    qInfo(
        "%zu telemetry lines equal field by field (dram.other: CLI %+lld bytes); budget %lld",
        seen.size(),
        static_cast<long long>(num(run.lines[0]["dram"].toObject(), "other") - seen[0].dram.other),
        static_cast<long long>(budget));
    QCOMPARE(streamed_tokens, 0);
  }

  // (b) Oracle, window 2, unlimited budget: the loads of every layer and token are predicted
  // from the recomputed active sets, and bytes_read is exactly their runs' 4 KiB spans.
  void bytes_and_requests_follow_the_loads_and_the_layout() {
    const FlashLayout& L = fm_->ffn;
    FlashStore probe_store;
    probe_store.open(fm_->ffn_path, true);
    const bool direct = probe_store.direct_io();
    probe_store.close();
    qInfo("direct I/O on %s: %s", fm_->ffn_path.c_str(), direct ? "yes" : "no (buffered)");
    FlashFfnOptions fo;
    fo.mode = FfnMode::Flash;
    fo.oracle = true;
    fo.window = 2;
    const uint64_t request_bytes =
        uint64_t(budget_io_plan(L, fo.mode, true, fo.store).store.request_bytes);
    FlashFfn ffn(*fm_, fo, 0, 0);
    OracleRecorder rec(*fm_, ffn);
    const Tokenizer tok(fm_->model->tokenizer);
    const std::vector<int> tokens = tok.encode(
        "Once the river rose, the people of the valley carried their grain up the hill and "
        "waited. The water stayed for three days, and when it went down the fields were black "
        "and soft.",
        true);
    QVERIFY(tokens.size() > 30);
    Transformer t(*fm_->model, int(tokens.size()), &rec, KvType::F32);
    std::vector<std::deque<std::vector<int32_t>>> held(size_t(L.n_layers));
    int64_t total_runs = 0, total_requests = 0, total_bytes = 0;
    for (size_t p = 0; p < tokens.size(); ++p) {
      ffn.begin_token();
      t.forward(tokens[p], int(p));
      TokenTelemetry tel;
      ffn.fill_telemetry(tel);
      uint64_t want_bytes = 0;
      int64_t runs = 0, max_requests = 0, loaded = 0;
      for (int l = 0; l < L.n_layers; ++l) {
        const std::vector<int32_t>& active = rec.last(l);
        std::set<int32_t> cached;
        for (const auto& s : held[size_t(l)]) cached.insert(s.begin(), s.end());
        std::vector<int32_t> add;
        for (int32_t n : active) {
          if (!cached.count(n)) add.push_back(n);
        }
        held[size_t(l)].push_back(active);
        while (held[size_t(l)].size() > size_t(fo.window)) held[size_t(l)].pop_front();
        const LayerTelemetry& lt = tel.layers[size_t(l)];
        QCOMPARE(lt.neurons_predicted, int32_t(active.size()));
        QCOMPARE(lt.neurons_added, int32_t(add.size()));
        QCOMPARE(lt.neurons_streamed, 0);
        loaded += int64_t(add.size());
        for (const auto& [first, count] : runs_of(add)) {
          const uint64_t off = L.bundle_offset(l, first);
          const uint64_t end = off + uint64_t(count) * uint64_t(L.bundle_bytes);
          const uint64_t span =
              direct ? std::min(align_up(end), L.size_bytes) - align_down(off) : end - off;
          want_bytes += span;
          ++runs;
          // At most: a staged head, the middle cut into requests, a staged tail.
          max_requests += int64_t((span + request_bytes - 1) / request_bytes) + 2;
        }
      }
      QCOMPARE(tel.ffn_neurons_loaded, loaded);
      QCOMPARE(tel.bytes_read, int64_t(want_bytes));
      QVERIFY2(tel.read_requests >= runs && tel.read_requests <= max_requests,
               qPrintable(QString("token %1: %2 requests for %3 runs (at most %4)")
                              .arg(p)
                              .arg(tel.read_requests)
                              .arg(runs)
                              .arg(max_requests)));
      total_runs += runs;
      total_requests += tel.read_requests;
      total_bytes += tel.bytes_read;
    }
    qInfo("%zu tokens: %lld runs, %lld requests, %lld bytes read (%.2f KiB per run)", tokens.size(),
          static_cast<long long>(total_runs), static_cast<long long>(total_requests),
          static_cast<long long>(total_bytes),
          double(total_bytes) / 1024.0 / double(std::max<int64_t>(total_runs, 1)));
    QVERIFY(total_runs > 0);
  }

  // (b) Trained predictors at a tight budget (window shrinks, neurons streamed through the I/O
  // buffer): the contract bounds per token. Every loaded neuron's bundle is read once (bytes >=
  // loaded x bundle); each run reads at most its 4 KiB-rounded span (bundles are 1 KiB at 1 KiB
  // offsets here, so a run carries at most 3 KiB of padding at each end) and runs <= requests.
  void bytes_and_requests_within_the_contract_under_a_tight_budget() {
    Session probe(session_options(4, 0));
    // The minimum pays for one KV block; 32 tokens after the prompt fill three more.
    const int64_t budget = probe.minimum_budget_bytes(FfnMode::Flash) + 32 * 1024 +
                           kv_cache_bytes_for(probe.model().config, KvType::F16, 64);
    Session s(session_options(4, budget));
    std::vector<TokenTelemetry> seen;
    GenerateCallbacks cb;
    cb.on_telemetry = [&](const TokenTelemetry& t) { seen.push_back(t); };
    GenerateOptions go;
    go.max_new_tokens = 32;
    go.sampling.temperature = 0;
    s.complete("The old man walked to the sea", go, cb);
    const int64_t B = fm_->ffn.bundle_bytes;
    const int64_t g = std::gcd(B, int64_t(kPage));
    const int64_t max_pad_per_run = 2 * (int64_t(kPage) - g);
    int streamed = 0;
    for (const TokenTelemetry& t : seen) {
      int64_t loaded = 0, layers_loading = 0;
      for (const LayerTelemetry& l : t.layers) {
        loaded += l.neurons_added + l.neurons_streamed;
        layers_loading += l.neurons_added + l.neurons_streamed > 0;
        streamed += l.neurons_streamed > 0;
      }
      QCOMPARE(t.ffn_neurons_loaded, loaded);
      QVERIFY(t.bytes_read >= loaded * B);
      // runs <= requests, so pads <= requests x max pad; and a layer that loads reads.
      QVERIFY2(t.bytes_read <= loaded * B + t.read_requests * max_pad_per_run,
               qPrintable(QString("token %1: %2 bytes for %3 neurons in %4 requests")
                              .arg(t.index)
                              .arg(t.bytes_read)
                              .arg(loaded)
                              .arg(t.read_requests)));
      QVERIFY(t.read_requests >= layers_loading);
      QVERIFY(t.read_requests <= 3 * loaded);
    }
    QVERIFY2(streamed > 0, "the tight budget never streamed");
  }

  // (c) RSS growth over the start RSS within budget + 8 MiB, for every token, at 3 budgets.
  void process_rss_growth_stays_within_the_budget() {
    int64_t minimum = 0, model_bytes = 0;
    {
      Session probe(session_options(4, 0));
      // The minimum pays for one KV block: room for 64 positions on top (48 tokens + prompt).
      minimum = probe.minimum_budget_bytes(FfnMode::Flash) +
                kv_cache_bytes_for(probe.model().config, KvType::F16, 64);
      model_bytes = probe.info().model_bytes;
    }
    const int64_t slack = 8 << 20;
    const std::vector<int64_t> budgets = {minimum + 64 * 1024, (minimum + model_bytes) / 2,
                                          model_bytes};
    for (size_t i = 0; i < budgets.size(); ++i) {
      const int64_t budget = budgets[i];
      const CliRun run = cli_generate(
          {"-m", QString::fromStdString(model_dir_), "-p", "The water of the old well", "-n", "48",
           "--temp", "0.8", "--seed", "3", "--budget", QString::number(budget)},
          tmp_.filePath(QString("c%1.jsonl").arg(i)));
      QVERIFY2(run.exit_code == 0, qPrintable(run.err));
      QVERIFY(run.lines.size() >= 48);  // the prompt's block and 47 generated tokens fed
      qint64 worst = 0;
      for (const QJsonObject& o : run.lines) {
        const qint64 growth = num(o, "process_rss_bytes") - num(o, "process_base_rss_bytes");
        worst = std::max(worst, growth);
        QVERIFY2(growth <= budget + slack,
                 qPrintable(QString("index %1: RSS grew %2 bytes, budget %3 + 8 MiB")
                                .arg(num(o, "index"))
                                .arg(growth)
                                .arg(budget)));
        QVERIFY(num(o["dram"].toObject(), "total") <= budget);
      }
      qInfo(
          "budget %lld (%.1f%% of the model): RSS growth at most %lld bytes (%.2f MiB %s the "
          "budget)",
          static_cast<long long>(budget), 100.0 * double(budget) / double(model_bytes),
          static_cast<long long>(worst), std::fabs(double(worst - budget)) / 1048576.0,
          worst > budget ? "above" : "below");
    }
  }
};

QTEST_GUILESS_MAIN(TelemetryTest)
#include "telemetry_test.moc"
