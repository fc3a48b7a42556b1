// flash_session_test.cc - the flash engine end to end on a real model (stories260K, converted):
// with an oracle predictor every mode, window and budget gives the dense model's logits and
// text; budgets are honoured and refused below the minimum; settings change between tokens;
// stop takes effect within one token; an I/O error ends one generation, not the session.

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <filesystem>
#include <memory>
#include <thread>

#include "core/error.h"
#include "convert/flash_convert.h"
#include "model/model.h"
#include "model/tokenizer.h"
#include "model/transformer.h"
#include "session/session.h"
#include "test_support.h"

using namespace flashchat;
using flashchat_test::greedy;

namespace {

// Max |a-b| / max|a| over one logits vector.
double relative_error(const float* a, const float* b, int n) {
  double max_diff = 0, max_abs = 0;
  for (int i = 0; i < n; ++i) {
    max_diff = std::max(max_diff, std::fabs(double(a[i]) - double(b[i])));
    max_abs = std::max(max_abs, std::fabs(double(a[i])));
  }
  return max_diff / std::max(max_abs, 1e-30);
}

}  // namespace

class FlashSessionTest : public QObject {
  Q_OBJECT

  QTemporaryDir tmp_;
  QString gguf_;
  std::string flash_dir_;
  std::unique_ptr<Model> dense_;
  std::vector<int> tokens_;  // a greedy dense continuation from BOS: the sequence we replay

  SessionOptions options(FfnMode mode, int window, int64_t budget, bool oracle) const {
    SessionOptions o;
    o.model_path = flash_dir_;
    o.mode = mode;
    o.window = window;
    o.budget_bytes = budget;
    o.oracle = oracle;
    return o;
  }

 private slots:
  void initTestCase() {
    // One TBB thread under ThreadSanitizer (tests/tsan/run_tsan.sh): libtbb is uninstrumented.
    const int threads = qEnvironmentVariableIntValue("FLASHCHAT_TEST_THREADS");
    if (threads > 0) session_set_threads(threads);
    gguf_ = flashchat_test::fixture_path("models/stories260K/stories260K.gguf");
    REQUIRE_FIXTURE(gguf_);
    dense_ = model_load(gguf_.toStdString());
    flash_dir_ = tmp_.filePath("s260").toStdString();
    ConvertOptions co;
    co.predictor.rank = 16;
    co.predictor.steps = 100;
    co.calib_tokens = 1024;
    flash_convert(gguf_.toStdString(), flash_dir_, co);
    Tokenizer tok(dense_->tokenizer);
    Generator g(*dense_, tok);
    tokens_ = {tok.bos_id()};
    GenerateResult r = g.generate(tokens_, greedy(48));
    tokens_.insert(tokens_.end(), r.tokens.begin(), r.tokens.end());
  }

  // Oracle flash (and dram/naive/mmap) logits match the dense model at every position, for
  // windows 1..8 and budgets from unlimited down to ones that force the window to shrink.
  void oracle_logits_match_dense_for_every_window_and_budget() {
    const int n_vocab = dense_->config.vocab_size;
    const int context = 64;
    Transformer reference(*dense_, context);
    std::vector<std::vector<float>> ref_logits;
    for (size_t p = 0; p < tokens_.size(); ++p) {
      const float* l = reference.forward(tokens_[p], int(p));
      ref_logits.emplace_back(l, l + n_vocab);
    }
    std::unique_ptr<FlashModel> fm = flash_model_open(flash_dir_);
    Transformer probe(*fm->model, context, nullptr);
    int64_t fixed = fm->model->bytes().total() + probe.kv_cache_bytes_for(context);
    for (const Predictor& p : fm->predictors) fixed += p.size_bytes();
    FlashFfnOptions fo;
    fo.oracle = true;
    const int64_t ffn_bytes = int64_t(fm->ffn.neurons) * fm->ffn.bundle_bytes * fm->ffn.n_layers;
    int shrunk = 0, streamed = 0, runs = 0;
    for (FfnMode mode : {FfnMode::Dram, FfnMode::Naive, FfnMode::Mmap, FfnMode::Flash}) {
      for (int window : {1, 2, 4, 8}) {
        // The minimum depends on the window (its active sets are part of the budget).
        fo.mode = FfnMode::Flash;
        fo.window = window;
        const int64_t minimum = FlashFfn(*fm, fo, fixed, 0).minimum_budget_bytes();
        const std::vector<int64_t> budgets = {0, minimum + ffn_bytes, minimum + ffn_bytes / 2,
                                              minimum + ffn_bytes / 8, minimum};
        for (int64_t budget : budgets) {
          if (mode != FfnMode::Flash && (window != 4 || budget != 0)) continue;
          fo.mode = mode;
          fo.window = window;
          FlashFfn ffn(*fm, fo, fixed, budget);
          Transformer t(*fm->model, context, &ffn);
          double worst = 0;
          for (size_t p = 0; p < tokens_.size(); ++p) {
            ffn.begin_token();
            const float* l = t.forward(tokens_[p], int(p));
            worst = std::max(worst, relative_error(ref_logits[p].data(), l, n_vocab));
            TokenTelemetry tel;
            ffn.fill_telemetry(tel);
            if (mode == FfnMode::Flash && p > 0) {
              shrunk += tel.window_in_force < window;
              for (const LayerTelemetry& lt : tel.layers) {
                streamed += lt.neurons_streamed > 0;
                QVERIFY(lt.cache_rows_used <= lt.cache_capacity);
              }
              if (budget > 0) QVERIFY(tel.dram.neuron_cache + tel.dram.io_buffers + fixed <= budget);
            }
          }
          ++runs;
          QVERIFY2(worst <= 1e-5, qPrintable(QString("mode %1 window %2 budget %3: rel err %4")
                                                 .arg(ffn_mode_name(mode)).arg(window)
                                                 .arg(budget).arg(worst)));
        }
      }
    }
    QCOMPARE(runs, 3 + 4 * 5);
    QVERIFY2(shrunk > 0, "no budget forced the window to shrink");
    QVERIFY2(streamed > 0, "no budget forced neurons to be streamed");
  }

  // The same greedy text as the dense model (the fixture's reference run) through the Session.
  void oracle_session_reproduces_reference_text_under_a_tight_budget() {
    Tokenizer tok(dense_->tokenizer);
    Generator g(*dense_, tok);
    const std::string expected = g.generate({tok.bos_id()}, greedy(200)).text;
    Session probe(options(FfnMode::Flash, 4, 0, true));
    const int64_t minimum = probe.minimum_budget_bytes(FfnMode::Flash);
    // The KV cache grows with the context (16-position blocks): the budget leaves room for 200.
    const int64_t kv_200 = kv_cache_bytes_for(dense_->config, KvType::F16, 200) -
                           kv_cache_bytes_for(dense_->config, KvType::F16, 1);
    for (int64_t budget : {int64_t(0), minimum + kv_200 + 100 * 1024}) {
      Session s(options(FfnMode::Flash, 4, budget, true));
      int telemetry_events = 0;
      GenerateCallbacks cb;
      cb.on_telemetry = [&](const TokenTelemetry&) { ++telemetry_events; };
      GenerateResult r = s.generate({tok.bos_id()}, greedy(200), cb);
      QCOMPARE(r.text, expected);
      QCOMPARE(telemetry_events, 200);  // BOS + 199 fed tokens (the last one is not fed)
    }
  }

  void budget_below_minimum_is_refused_with_the_minimum() {
    // The minimum counts the FFN's maps as held; a session at an unlimited budget holds a full
    // row map, so the minimum a session near it reports is a little lower (and exact for it).
    Session probe(options(FfnMode::Flash, 4, 0, true));
    const int64_t upper = probe.minimum_budget_bytes(FfnMode::Flash);
    int64_t minimum = 0;
    {
      Session near(options(FfnMode::Flash, 4, upper, true));
      minimum = near.minimum_budget_bytes(FfnMode::Flash);
    }
    QVERIFY(minimum <= upper);
    try {
      Session s(options(FfnMode::Flash, 4, minimum - 1, true));
      QFAIL("expected an error");
    } catch (const Error& e) {
      QVERIFY2(std::string(e.what()).find("minimum") != std::string::npos, e.what());
    }
    {
      // Exactly the minimum runs (streaming what does not fit) while the context stays within
      // the one KV block the minimum pays for.
      Session at(options(FfnMode::Flash, 4, minimum, true));
      GenerateResult r = at.generate({at.tokenizer().bos_id()}, greedy(kKvBlockPositions - 2));
      QCOMPARE(int(r.tokens.size()), kKvBlockPositions - 2);
    }
    QVERIFY_EXCEPTION_THROWN(probe.set_budget(minimum / 2), Error);
    // dram mode needs the whole FFN resident: refused under a flash-sized budget.
    Session tight(options(FfnMode::Flash, 4, minimum, true));
    QVERIFY_EXCEPTION_THROWN(tight.set_mode(FfnMode::Dram), Error);
  }

  // Window, budget and mode change between tokens while generating; telemetry follows.
  void settings_change_between_tokens() {
    Session s(options(FfnMode::Flash, 4, 0, false));
    const int64_t tight = s.minimum_budget_bytes(FfnMode::Flash) + 20 * 1024;
    std::vector<TokenTelemetry> seen;
    int n = 0;
    GenerateCallbacks cb;
    cb.on_token = [&](const TokenEvent&) {
      ++n;
      if (n == 5) s.set_window(1);
      if (n == 10) s.set_budget(tight);
      if (n == 20) s.set_mode(FfnMode::Naive);
      return true;
    };
    cb.on_telemetry = [&](const TokenTelemetry& t) { seen.push_back(t); };
    s.generate({s.tokenizer().bos_id()}, greedy(30), cb);
    QVERIFY(seen.size() >= 29);
    QCOMPARE(seen[2].window_requested, 4);
    QCOMPARE(seen[8].window_requested, 1);
    QCOMPARE(seen[13].budget_bytes, tight);
    QVERIFY2(seen[13].dram.total() <= tight,
             qPrintable(QString("accounted %1 > budget %2 (other %3, cache %4)")
                            .arg(seen[13].dram.total()).arg(tight).arg(seen[13].dram.other)
                            .arg(seen[13].dram.neuron_cache)));
    QCOMPARE(QString::fromStdString(seen[15].mode), QString("flash"));
    QCOMPARE(QString::fromStdString(seen.back().mode), QString("naive"));
    QVERIFY(seen.back().bytes_read > 0);
  }

  void stop_takes_effect_within_one_token() {
    Session s(options(FfnMode::Flash, 4, 0, false));
    int events = 0;
    GenerateCallbacks cb;
    cb.on_token = [&](const TokenEvent&) {
      if (++events == 3) s.request_stop();
      return true;
    };
    GenerateResult r = s.generate({s.tokenizer().bos_id()}, greedy(100), cb);
    QCOMPARE(r.reason, StopReason::Cancelled);
    QCOMPARE(int(r.tokens.size()), 3);
    // From another thread, while generating.
    std::atomic<int> count{0};
    std::thread stopper([&] {
      while (count.load() < 5) std::this_thread::yield();
      s.request_stop();
    });
    GenerateCallbacks counting;
    counting.on_token = [&](const TokenEvent&) {
      ++count;
      return true;
    };
    GenerateResult r2 = s.generate({s.tokenizer().bos_id()}, greedy(400), counting);
    stopper.join();
    QCOMPARE(r2.reason, StopReason::Cancelled);
    QVERIFY(r2.tokens.size() < 400);
  }

  // ffn.bin shrinks under a running session: that generation fails with a message naming the
  // file; once the file is back the same session generates again.
  void io_error_mid_generation_leaves_the_session_usable() {
    const std::string copy = tmp_.filePath("s260-io").toStdString();
    std::filesystem::copy(flash_dir_, copy);
    SessionOptions o = options(FfnMode::Flash, 1, 0, false);
    o.model_path = copy;
    Session s(o);
    const std::string ffn = copy + "/ffn.bin";
    const auto full_size = std::filesystem::file_size(ffn);
    std::vector<char> saved(full_size);
    {
      QFile f(QString::fromStdString(ffn));
      QVERIFY(f.open(QIODevice::ReadOnly));
      QCOMPARE(f.read(saved.data(), qint64(full_size)), qint64(full_size));
    }
    std::filesystem::resize_file(ffn, 4096);
    try {
      s.generate({s.tokenizer().bos_id()}, greedy(20));
      QFAIL("expected an I/O error");
    } catch (const Error& e) {
      QVERIFY2(std::string(e.what()).find("ffn.bin") != std::string::npos, e.what());
    }
    {
      QFile f(QString::fromStdString(ffn));
      QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
      QCOMPARE(f.write(saved.data(), qint64(full_size)), qint64(full_size));
    }
    s.reset_context();
    GenerateResult r = s.generate({s.tokenizer().bos_id()}, greedy(20));
    QCOMPARE(int(r.tokens.size()), 20);
  }

  // As the conversation grows, the neuron cache yields rows to the KV cache. A request whose KV
  // cache cannot fit is refused before anything is fed; a budget lowered mid-reply that the
  // growing KV cache then outgrows stops the reply with a clear error; the session stays usable.
  void kv_growth_takes_rows_from_the_cache_then_stops_clearly() {
    Session probe(options(FfnMode::Flash, 4, 0, true));
    const int64_t minimum = probe.minimum_budget_bytes(FfnMode::Flash);
    const int64_t block = kv_cache_bytes_for(dense_->config, KvType::F16, kKvBlockPositions);
    const int64_t budget = minimum + 3 * block + block / 2;
    Session s(options(FfnMode::Flash, 4, budget, true));
    // 250 tokens need 16 blocks: refused at once, nothing fed.
    try {
      s.generate({s.tokenizer().bos_id()}, greedy(250));
      QFAIL("expected the request to be refused");
    } catch (const Error& e) {
      QVERIFY2(std::string(e.what()).find("for this request") != std::string::npos, e.what());
    }
    QCOMPARE(s.context_used(), 0);
    // 4 blocks' worth fits; the cache yields rows as the blocks arrive.
    std::vector<TokenTelemetry> seen;
    GenerateCallbacks cb;
    cb.on_telemetry = [&](const TokenTelemetry& t) { seen.push_back(t); };
    GenerateResult r = s.generate({s.tokenizer().bos_id()}, greedy(4 * kKvBlockPositions - 2), cb);
    QCOMPARE(int(r.tokens.size()), 4 * kKvBlockPositions - 2);
    QVERIFY(seen.back().dram.kv_cache > seen.front().dram.kv_cache);
    QVERIFY(seen.back().dram.neuron_cache < seen.front().dram.neuron_cache);  // rows yielded
    for (const TokenTelemetry& t : seen) {
      QVERIFY2(t.dram.total() <= t.budget_bytes,
               qPrintable(QString("token %1: %2 > %3").arg(t.index).arg(t.dram.total())
                              .arg(t.budget_bytes)));
    }
    // A budget lowered mid-reply to what fits now: the next KV block no longer fits.
    s.reset_context();
    s.set_budget(budget);
    GenerateCallbacks lower;
    int n = 0;
    lower.on_token = [&](const TokenEvent&) {
      if (++n == 2) s.set_budget(s.minimum_budget_bytes(FfnMode::Flash));
      return true;
    };
    try {
      s.generate({s.tokenizer().bos_id()}, greedy(3 * kKvBlockPositions), lower);
      QFAIL("expected the KV cache to outgrow the lowered budget");
    } catch (const Error& e) {
      QVERIFY2(std::string(e.what()).find("KV cache no longer fits") != std::string::npos,
               e.what());
    }
    // A new chat frees the blocks and runs again.
    s.reset_context();
    s.set_budget(budget);
    GenerateResult again = s.generate({s.tokenizer().bos_id()}, greedy(20));
    QCOMPARE(int(again.tokens.size()), 20);
  }

  void predictor_mode_streams_and_churns() {
    Session s(options(FfnMode::Flash, 2, 0, false));
    std::vector<TokenTelemetry> seen;
    SessionOptions eval = options(FfnMode::Flash, 2, 0, false);
    GenerateCallbacks cb;
    cb.on_telemetry = [&](const TokenTelemetry& t) { seen.push_back(t); };
    s.generate({s.tokenizer().bos_id()}, greedy(40), cb);
    int64_t added_late = 0, removed_late = 0;
    for (size_t i = 5; i < seen.size(); ++i) {
      for (const LayerTelemetry& l : seen[i].layers) {
        added_late += l.neurons_added;
        removed_late += l.neurons_removed;
        QVERIFY(l.neurons_predicted > 0 && l.neurons_predicted < 172);
      }
    }
    QVERIFY2(added_late > 0 && removed_late > 0, "no churn after the first tokens");
    // Predictor evaluation reports recall against the true activations.
    eval.evaluate_predictor = true;
    Session e(eval);
    TokenTelemetry last;
    GenerateCallbacks last_cb;
    last_cb.on_telemetry = [&](const TokenTelemetry& t) { last = t; };
    e.generate({e.tokenizer().bos_id()}, greedy(10), last_cb);
    for (const LayerTelemetry& l : last.layers) {
      QVERIFY(l.true_active > 0);
      QVERIFY(l.true_positive >= 0 && l.true_positive <= l.true_active);
    }
  }
};

QTEST_GUILESS_MAIN(FlashSessionTest)
#include "flash_session_test.moc"
