// sparse_oracle_test.cc - oracle-sparse flash mode on a model where the oracle is really sparse
// (the default model: ReLU, a few percent of the neurons active per token), against dense:
//   - for windows {1, 4} x budgets {unlimited, tight}, the logits equal dense within 1e-5
//     relative at every position, while only a small fraction of the neurons is loaded, and the
//     tight budget really forces the window to shrink (k = 4) or neurons to be streamed (k = 1);
//   - --no-bundling (gate/up rows and down columns read separately) is exact too and, for the
//     same active sets (the oracle), issues about twice the read requests of bundled reads.
// (flash_session_test shows exactness on stories260K, where the oracle selects every neuron.)

#include <QtTest>
#include <cmath>
#include <memory>

#include "core/read_file.h"
#include "core/resource_paths.h"
#include "flash/flash_model.h"
#include "model/tokenizer.h"
#include "model/transformer.h"
#include "runtime/flash_ffn.h"
#include "test_support.h"

using namespace flashchat;

namespace {

constexpr double kExact = 1e-5;  // max |flash - dense| / max |dense| per position

double relative_error(const std::vector<float>& a, const float* b) {
  double max_diff = 0, max_abs = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    max_diff = std::max(max_diff, std::fabs(double(a[i]) - double(b[i])));
    max_abs = std::max(max_abs, std::fabs(double(a[i])));
  }
  return max_diff / std::max(max_abs, 1e-30);
}

struct Run {
  double worst = 0;              // worst relative logit error over positions
  int shrunk = 0, streamed = 0;  // tokens whose window was cut by the budget / that streamed
  int64_t requests = 0, bytes = 0, loaded = 0;
  double mean_predicted = 0;  // per layer per token, fraction of ffn_dim
  int32_t max_predicted = 0;  // largest active set of one layer
};

}  // namespace

class SparseOracleTest : public QObject {
  Q_OBJECT

  std::unique_ptr<FlashModel> fm_;
  std::vector<int> tokens_;
  std::vector<std::vector<float>> dense_;
  int64_t fixed_ = 0;  // DRAM outside the FFN for this sequence (F32 KV cache)

  // logits (optional): every position's logits. layers (optional): every token's telemetry.
  Run replay(const FlashFfnOptions& fo, int64_t budget,
             std::vector<std::vector<float>>* logits = nullptr,
             std::vector<TokenTelemetry>* tokens = nullptr) {
    FlashFfn ffn(*fm_, fo, fixed_, budget);
    Transformer t(*fm_->model, int(tokens_.size()), &ffn, KvType::F32);
    Run r;
    int64_t layer_tokens = 0;
    for (size_t p = 0; p < tokens_.size(); ++p) {
      ffn.begin_token();
      const float* l = t.forward(tokens_[p], int(p));
      r.worst = std::max(r.worst, relative_error(dense_[p], l));
      if (logits != nullptr) logits->emplace_back(l, l + fm_->model->config.vocab_size);
      TokenTelemetry tel;
      ffn.fill_telemetry(tel);
      if (tokens != nullptr) tokens->push_back(tel);
      r.requests += tel.read_requests;
      r.bytes += tel.bytes_read;
      r.loaded += tel.ffn_neurons_loaded;
      bool streamed = false;
      for (const LayerTelemetry& lt : tel.layers) {
        r.mean_predicted += double(lt.neurons_predicted) / fm_->ffn.neurons;
        r.max_predicted = std::max(r.max_predicted, lt.neurons_predicted);
        streamed = streamed || lt.neurons_streamed > 0;
        ++layer_tokens;
        if (lt.cache_rows_used > lt.cache_capacity) r.worst = 1;  // never over capacity
      }
      // The window holds p + 1 sets at position p until it is full.
      r.shrunk += tel.window_in_force < std::min(fo.window, int(p) + 1);
      r.streamed += streamed;
      if (budget > 0 && tel.dram.neuron_cache + tel.dram.io_buffers + fixed_ > budget) r.worst = 1;
    }
    r.mean_predicted /= double(layer_tokens);
    return r;
  }

  static FlashFfnOptions oracle(int window, bool bundling = true) {
    FlashFfnOptions fo;
    fo.mode = FfnMode::Flash;
    fo.oracle = true;
    fo.window = window;
    fo.bundling = bundling;
    return fo;
  }

 private slots:
  void initTestCase() {
    const std::string dir = resource_path_find("models/default");
    QVERIFY2(!dir.empty(), "resources/models/default is missing");
    fm_ = flash_model_open(dir);
    // Text the model writes about (the calibration text's opening), its whole context.
    const Tokenizer tok(fm_->model->tokenizer);
    const std::string calib = resource_path_find("calib/default.txt");
    QVERIFY(!calib.empty());
    const int n = fm_->model->config.max_seq_len;
    tokens_ = tok.encode(file_read_text(calib), true);
    QVERIFY(int(tokens_.size()) >= n);
    tokens_.resize(size_t(n));
    FlashFfnOptions dense_opt;
    dense_opt.mode = FfnMode::Dram;
    FlashFfn dense_ffn(*fm_, dense_opt, 0, 0);
    Transformer t(*fm_->model, n, &dense_ffn, KvType::F32);
    for (int p = 0; p < n; ++p) {
      const float* l = t.forward(tokens_[size_t(p)], p);
      dense_.emplace_back(l, l + fm_->model->config.vocab_size);
    }
    Transformer probe(*fm_->model, n, nullptr, KvType::F32);
    fixed_ = fm_->model->bytes().total() + probe.kv_cache_bytes_for(n);
    for (const Predictor& p : fm_->predictors) fixed_ += p.size_bytes();
  }

  // 16 rows per layer beyond the minimum's one at window k (the oracle's sets are ~1-6% =
  // 15-90 rows, a window of 4 holds more).
  int64_t tight_budget(int window = 4, int rows = 16) {
    const int64_t minimum = FlashFfn(*fm_, oracle(window), fixed_, 0).minimum_budget_bytes();
    return minimum + int64_t{rows} * fm_->ffn.bundle_bytes * fm_->ffn.n_layers;
  }

  void oracle_is_exact_and_sparse_for_windows_and_budgets() {
    const int32_t neurons = fm_->ffn.neurons;
    for (int window : {1, 4}) {
      const int64_t tight = tight_budget(window);
      for (int64_t budget : {int64_t(0), tight}) {
        const Run r = replay(oracle(window), budget);
        qInfo(
            "oracle k=%d budget %lld: worst rel err %.3g, predicted %.2f%% of %d neurons per "
            "layer (max %d), loaded %lld neurons, %lld requests, %lld bytes; window shrank on "
            "%d tokens, streamed on %d",
            window, static_cast<long long>(budget), r.worst, 100 * r.mean_predicted, neurons,
            r.max_predicted, static_cast<long long>(r.loaded), static_cast<long long>(r.requests),
            static_cast<long long>(r.bytes), r.shrunk, r.streamed);
        QVERIFY2(
            r.worst <= kExact,
            qPrintable(QString("k=%1 budget %2: rel err %3").arg(window).arg(budget).arg(r.worst)));
        // Really sparse: a few percent on average, never a quarter of a layer.
        QVERIFY2(r.mean_predicted < 0.05, qPrintable(QString::number(r.mean_predicted)));
        QVERIFY2(r.max_predicted < neurons / 4, qPrintable(QString::number(r.max_predicted)));
        QVERIFY(r.loaded > 0);
        if (budget > 0 && window > 1) {
          QVERIFY2(r.shrunk > 0, "the tight budget never shrank the window");
        }
        if (budget > 0 && window == 1) {
          QVERIFY2(r.streamed > 0, "the tight budget never streamed neurons");
        }
        if (budget == 0) QCOMPARE(r.shrunk + r.streamed, 0);
      }
    }
  }

  // The misses read while the cached rows are multiplied give exactly (bit for bit) what reading
  // first gives, with the oracle and with the trained predictors, at a budget that evicts.
  void overlapped_reads_equal_serial_reads_exactly() {
    const int64_t tight = tight_budget();
    for (bool use_oracle : {true, false}) {
      FlashFfnOptions fo = oracle(4);
      fo.oracle = use_oracle;
      std::vector<std::vector<float>> serial, overlapped;
      std::vector<TokenTelemetry> tel_overlapped;
      fo.overlap_io = false;
      replay(fo, tight, &serial);
      fo.overlap_io = true;
      const Run r = replay(fo, tight, &overlapped, &tel_overlapped);
      QCOMPARE(overlapped.size(), serial.size());
      for (size_t p = 0; p < serial.size(); ++p) {
        QVERIFY2(serial[p] == overlapped[p], qPrintable(QString("position %1").arg(p)));
      }
      double hidden = 0;
      for (const TokenTelemetry& t : tel_overlapped) hidden += t.io_hidden_ms;
      qInfo("%s: %zu positions equal; %.2f ms of reads hidden behind compute, %lld bytes read",
            use_oracle ? "oracle" : "predictor", serial.size(), hidden,
            static_cast<long long>(r.bytes));
      QVERIFY(r.bytes > 0);
    }
  }

  // The look-ahead (prefetch) only changes what is read when: the logits equal those without it
  // (up to summation order: cached and new rows are split differently), at a budget that evicts
  // and without one; what it loads is counted as added, its hits are at most what it loaded.
  void prefetch_changes_reads_not_results() {
    for (int64_t budget : {int64_t(0), tight_budget()}) {
      FlashFfnOptions fo = oracle(4);
      fo.oracle = false;
      std::vector<std::vector<float>> plain, ahead;
      fo.prefetch = false;
      replay(fo, budget, &plain);
      fo.prefetch = true;
      std::vector<TokenTelemetry> tel;
      const Run r = replay(fo, budget, &ahead, &tel);
      QCOMPARE(ahead.size(), plain.size());
      double worst = 0;
      for (size_t p = 0; p < plain.size(); ++p) {
        worst = std::max(worst, relative_error(plain[p], ahead[p].data()));
      }
      int64_t prefetched = 0, used = 0;
      for (const TokenTelemetry& t : tel) {
        for (const LayerTelemetry& lt : t.layers) {
          QVERIFY(lt.prefetch_used <= lt.neurons_prefetched);
          QVERIFY(lt.neurons_prefetched <= lt.neurons_added);
          prefetched += lt.neurons_prefetched;
          used += lt.prefetch_used;
        }
      }
      qInfo("budget %lld: prefetch on vs off, worst rel err %.3g; %lld of %lld prefetched neurons "
            "used; %lld bytes read",
            static_cast<long long>(budget), worst, static_cast<long long>(used),
            static_cast<long long>(prefetched), static_cast<long long>(r.bytes));
      QVERIFY2(worst <= kExact, qPrintable(QString::number(worst)));
      QVERIFY(prefetched > 0);
    }
  }

  // With a budget, neurons are evicted only when the cache is full, least recently used first,
  // so the window of the last k tokens survives whenever the rows allow it; the layers' rows
  // follow their demand (sum within the budget's rows, not all equal once tokens ran).
  void eviction_only_when_full_and_rows_follow_demand() {
    const int64_t tight = tight_budget();
    std::vector<TokenTelemetry> tel;
    const Run r = replay(oracle(4), tight, nullptr, &tel);
    QVERIFY2(r.worst <= kExact, qPrintable(QString::number(r.worst)));
    int evictions = 0;
    for (const TokenTelemetry& t : tel) {
      for (const LayerTelemetry& lt : t.layers) {
        const int32_t removed = lt.neurons_removed;
        if (removed == 0) continue;
        ++evictions;
        // Rows were needed: after admitting this token's misses the cache is full (or the
        // capacity was just re-split, which also evicts only down to the new capacity).
        QVERIFY2(lt.cache_rows_used == lt.cache_capacity,
                 qPrintable(QString("token %1: removed %2 with %3 of %4 rows used")
                                .arg(t.index).arg(removed).arg(lt.cache_rows_used)
                                .arg(lt.cache_capacity)));
      }
    }
    QVERIFY(evictions > 0);
    const TokenTelemetry& last = tel.back();
    int32_t lo = last.layers.front().cache_capacity, hi = lo;
    for (const LayerTelemetry& lt : last.layers) {
      lo = std::min(lo, lt.cache_capacity);
      hi = std::max(hi, lt.cache_capacity);
    }
    qInfo("%d layer-tokens evicted; capacities after %zu tokens: %d..%d rows", evictions,
          tel.size(), lo, hi);
    QVERIFY2(hi > lo, "capacities did not follow the layers' demand");
    // A generous budget keeps every window whole: no token's window is cut.
    const Run roomy = replay(oracle(4), tight_budget(4, fm_->ffn.neurons / 2));
    QCOMPARE(roomy.shrunk, 0);
  }

  // Same oracle sets, bundled vs not: exact both ways; requests about double. Bundled, every
  // run of adjacent neurons is one request; unbundled, every neuron is two (its up row and its
  // down column), so the ratio is 2 x neurons / runs >= 2, and close to 2 when adjacent active
  // neurons are rare (as here). Measured: 2.088 (k = 1) and 2.064 (k = 4); bytes double too
  // (every 1 KiB bundle or 512-byte part is read as one 4 KiB page with direct I/O).
  void no_bundling_is_exact_and_doubles_the_requests() {
    for (int window : {1, 4}) {
      const Run bundled = replay(oracle(window, true), 0);
      const Run unbundled = replay(oracle(window, false), 0);
      const double ratio = double(unbundled.requests) / double(bundled.requests);
      qInfo(
          "k=%d: bundled %lld requests / %lld bytes, unbundled %lld requests / %lld bytes "
          "(ratio %.3f requests, %.3f bytes); rel err %.3g / %.3g",
          window, static_cast<long long>(bundled.requests), static_cast<long long>(bundled.bytes),
          static_cast<long long>(unbundled.requests), static_cast<long long>(unbundled.bytes),
          ratio, double(unbundled.bytes) / double(bundled.bytes), bundled.worst, unbundled.worst);
      QVERIFY2(unbundled.worst <= kExact, qPrintable(QString::number(unbundled.worst)));
      QVERIFY2(bundled.worst <= kExact, qPrintable(QString::number(bundled.worst)));
      QCOMPARE(unbundled.loaded, bundled.loaded);  // the same neurons
      QVERIFY(bundled.requests > 0);
      QVERIFY2(ratio >= 1.8 && ratio <= 2.2, qPrintable(QString::number(ratio)));
      // Exactly two requests per neuron unbundled (each part is smaller than a request and
      // bundles, 1 KiB at 1 KiB offsets, never straddle a 4 KiB page).
      QCOMPARE(unbundled.requests, 2 * unbundled.loaded);
    }
  }
};

QTEST_GUILESS_MAIN(SparseOracleTest)
#include "sparse_oracle_test.moc"
