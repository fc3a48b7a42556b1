// session_stress_test.cc - a generating Session driven from a second thread, as a GUI's sliders
// drive it: random set_window / set_budget / set_mode / request_stop while tokens are produced.
// Every token's telemetry must report the settings in force (as the FFN ran them), the DRAM the
// engine accounts for must stay within the budget, and with the oracle predictor the text must
// equal the dense text whatever the settings did. Run under ThreadSanitizer in CI (tsan build).

#include <QtTest>
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/resource_paths.h"
#include "model/transformer.h"
#include "session/session.h"
#include "test_support.h"

using namespace flashchat;
using flashchat_test::greedy;

namespace {

// Random settings changes until `done`; counts the calls that were accepted and refused.
struct Driver {
  Session& session;
  std::atomic<bool>& done;
  int64_t model_bytes;
  int64_t kv_full_bytes;
  unsigned seed;
  int accepted = 0, refused = 0;

  void run() {
    std::mt19937 rng(seed);
    const FfnMode modes[] = {FfnMode::Flash, FfnMode::Naive, FfnMode::Mmap, FfnMode::Dram};
    while (!done.load()) {
      try {
        switch (rng() % 4) {
          case 0: session.set_window(1 + static_cast<int>(rng() % 16)); break;
          case 1: {
            const SessionSettings s = session.settings();
            // The minimum now, plus room for the KV cache to fill the context (below that the
            // conversation would outgrow the budget: tested in flash_session_test).
            const int64_t lo = session.minimum_budget_bytes(s.mode) + kv_full_bytes;
            const int64_t hi = std::max(lo, model_bytes * 13 / 10);
            // Now and then below the minimum or unlimited, mostly in between.
            const int pick = static_cast<int>(rng() % 10);
            const int64_t b = pick == 0 ? lo / 2 : pick == 1 ? 0 : lo + int64_t(rng() % uint64_t(hi - lo + 1));
            session.set_budget(b);
            break;
          }
          case 2: session.set_mode(modes[rng() % 4]); break;
          default: (void)session.settings(); (void)session.last_telemetry(); break;
        }
        ++accepted;
      } catch (const Error&) {
        ++refused;  // below a minimum: refused at once, nothing pending
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200 + rng() % 2000));
    }
  }
};

}  // namespace

class SessionStressTest : public QObject {
  Q_OBJECT

  std::string model_;
  int64_t model_bytes_ = 0;

  SessionOptions options(FfnMode mode, bool oracle) const {
    SessionOptions o;
    o.model_path = model_;
    o.mode = mode;
    o.oracle = oracle;
    o.context = 128;
    return o;
  }

 private slots:
  void initTestCase() {
    // The ThreadSanitizer run (tests/tsan/run_tsan.sh) keeps TBB's uninstrumented workers out
    // of it: the threads under test are the engine thread and the driver.
    const int threads = qEnvironmentVariableIntValue("FLASHCHAT_TEST_THREADS");
    if (threads > 0) session_set_threads(threads);
    model_ = default_model_path();
    model_bytes_ = model_info_read(model_).model_bytes;
    QVERIFY(model_bytes_ > 0);
  }

  // The text with the oracle equals dense (every mode computes the exact FFN of the true active
  // set) while another thread keeps changing window, budget and mode.
  void random_settings_from_another_thread_keep_text_and_budget() {
    const int n = 100;
    std::string dense_text;
    {
      Session dense(options(FfnMode::Dram, false));
      dense_text = dense.complete("The old man walked along the river", greedy(n)).text;
    }
    for (unsigned seed : {1u, 2u, 3u}) {
      Session s(options(FfnMode::Flash, true));
      std::atomic<bool> done{false};
      const int64_t kv_full = kv_cache_bytes_for(s.model().config, KvType::F16, 128);
      Driver driver{s, done, model_bytes_, kv_full, seed};
      int tokens = 0, changes = 0, rejected = 0;
      std::vector<std::string> problems;
      GenerateCallbacks cb;
      cb.on_telemetry = [&](const TokenTelemetry& t) {
        ++tokens;
        // On the engine thread settings() can only change between tokens: it is what ran.
        const SessionSettings in_force = s.settings();
        if (t.mode != ffn_mode_name(in_force.mode)) problems.push_back("mode " + t.mode);
        if (t.budget_bytes != in_force.budget_bytes) problems.push_back("budget");
        if (t.window_requested != in_force.window) problems.push_back("window");
        if (t.budget_bytes > 0 && t.dram.total() > t.budget_bytes) {
          problems.push_back("token " + std::to_string(t.index) + " (" + t.mode + "): " +
                             std::to_string(t.dram.total()) + " > " +
                             std::to_string(t.budget_bytes) + " (cache " +
                             std::to_string(t.dram.neuron_cache) + ", kv " +
                             std::to_string(t.dram.kv_cache) + ", io " +
                             std::to_string(t.dram.io_buffers) + ", other " +
                             std::to_string(t.dram.other) + ")");
        }
      };
      cb.on_settings = [&](const SettingsChange& c) {
        ++changes;
        if (!c.error.empty()) ++rejected;
        if (!(c.after == s.settings())) problems.push_back("on_settings disagrees");
      };
      std::thread thread([&] { driver.run(); });
      GenerateResult r;
      try {
        r = s.complete("The old man walked along the river", greedy(n), cb);
      } catch (...) {
        done = true;
        thread.join();
        throw;
      }
      done = true;
      thread.join();
      qInfo("seed %u: %d tokens, %d changes applied or rejected (%d rejected), driver %d "
            "accepted / %d refused calls",
            seed, tokens, changes, rejected, driver.accepted, driver.refused);
      QVERIFY2(problems.empty(), problems.empty() ? "" : problems.front().c_str());
      QVERIFY(changes > 5);
      QCOMPARE(r.text, dense_text);
    }
  }

  // request_stop from another thread ends generation within one token of the request.
  void stop_from_another_thread_within_one_token() {
    Session s(options(FfnMode::Flash, false));
    for (int target : {1, 7, 30}) {
      std::atomic<int> produced{0};
      std::atomic<int> at_request{-1};
      GenerateCallbacks cb;
      cb.on_token = [&](const TokenEvent& e) {
        if (e.token >= 0) ++produced;
        return true;
      };
      std::thread stopper([&] {
        while (produced.load() < target) std::this_thread::yield();
        at_request = produced.load();
        s.request_stop();
      });
      const GenerateResult r = s.complete("Once", greedy(120), cb);
      stopper.join();
      QCOMPARE(r.reason, StopReason::Cancelled);
      QVERIFY2(int(r.tokens.size()) <= at_request.load() + 1,
               qPrintable(QString("%1 tokens after a stop at %2").arg(r.tokens.size())
                              .arg(at_request.load())));
      s.reset_context();
    }
  }

  // A stop during the prompt (after its first block of kPromptBlockTokens) leaves the context as
  // it was before the call.
  void stop_inside_the_prompt_restores_the_context() {
    Session s(options(FfnMode::Flash, false));
    s.complete("Once upon a time", greedy(3));
    const int before = s.context_used();
    GenerateCallbacks cb;
    cb.on_prompt_progress = [&](int done, int) {
      if (done == kPromptBlockTokens) s.request_stop();
    };
    const std::vector<int> more = s.text_tokens(
        " there was a long and winding road to the sea, and along it walked a man who had seen "
        "the king of the land and his sons and the priests of the temple");
    QVERIFY(int(more.size()) > kPromptBlockTokens);
    const GenerateResult r = s.generate(more, greedy(5), cb);
    QCOMPARE(r.reason, StopReason::Cancelled);
    QCOMPARE(s.context_used(), before);
  }
};

QTEST_GUILESS_MAIN(SessionStressTest)
#include "session_stress_test.moc"
