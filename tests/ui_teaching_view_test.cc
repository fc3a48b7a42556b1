// ui_teaching_view_test.cc - the teaching view (ui/teaching/) on a real flash run of the default
// model (predicted sets, a budget under which neurons are evicted and the window shrinks):
//   - every token's map states agree with its telemetry: cells "just loaded" = neurons added,
//     "just evicted" = removed, "streamed" = streamed, loaded + resident = rows in use, per
//     layer; for a run recorded from a fresh start the replica's telemetry equals the real one;
//   - hovering a cell names its layer, neurons, state counts, last use and ffn.bin offset;
//   - step mode: step / play move through the tokens and stop at the end;
//   - what-if at another window differs from the run and a budget below the minimum is refused
//     with the engine's message;
//   - the tour walks its steps and Skip closes it; show/hide switch recording on and off
//     (cache_simulator_test shows the engine records nothing while it is off).

#include <QElapsedTimer>
#include <QPushButton>
#include <QSignalSpy>
#include <QtTest>

#include "core/resource_paths.h"
#include "session/session.h"
#include "teaching/cache_map.h"
#include "teaching/teaching_view.h"
#include "test_support.h"

using namespace flashchat;
using namespace flashchat::ui;
using flashchat_test::greedy;

class UiTeachingViewTest : public QObject {
  Q_OBJECT
  std::vector<TokenTelemetry> tel_;
  std::vector<ActiveSetsSample> samples_;
  int64_t budget_ = 0;
  double token_ms_ = 0;

 private slots:
  void initTestCase() {
    SessionOptions so;
    so.model_path = resource_path_find("models/default");
    QVERIFY(!so.model_path.empty());
    {
      Session probe(so);
      const FlashLayout l = probe.trace_header().layout;
      budget_ = probe.minimum_budget_bytes(FfnMode::Flash, 128) + 150 * l.bundle_bytes * l.n_layers;
    }
    so.budget_bytes = budget_;
    Session s(so);
    auto header = std::make_shared<const ActiveTraceHeader>(s.trace_header());
    GenerateCallbacks cb;
    cb.on_telemetry = [&](const TokenTelemetry& t) {
      tel_.push_back(t);
      token_ms_ += t.total_ms;
    };
    cb.on_active_sets = [&](const ActiveTraceToken& t) {
      ActiveSetsSample a;
      a.index = tel_.back().index;
      a.header = header;
      a.token = t;
      samples_.push_back(a);
    };
    s.complete("The little robot looked at the stars and", greedy(60), cb);
    QCOMPARE(samples_.size(), tel_.size());
    token_ms_ /= double(tel_.size());
  }

  void map_states_agree_with_the_telemetry() {
    TeachingView v;
    v.resize(1000, 700);
    v.show();
    QVERIFY(QTest::qWaitForWindowExposed(&v));
    QElapsedTimer timer;
    timer.start();
    // As a live run feeds it: one sample per token time, redraws coalesced by the view.
    for (size_t i = 0; i < tel_.size(); ++i) {
      v.addTelemetry(tel_[i]);
      v.addSample(samples_[i]);
      QCoreApplication::processEvents();
    }
    const double view_ms = double(timer.nsecsElapsed()) / 1e6 / double(tel_.size());
    QTest::qWait(150);
    QCOMPARE(v.currentToken(), int(tel_.size()) - 1);
    qInfo("view: %.3f ms per token on the GUI thread (token %.3f ms, %.1f%%)", view_ms, token_ms_,
          100 * view_ms / token_ms_);
    const TeachingRun& run = v.run();
    QCOMPARE(run.size(), int(tel_.size()));
    bool evicted = false;
    for (int i = 0; i < run.size(); ++i) {
      const TeachingToken& t = run.at(i);
      QVERIFY(t.has_real);
      QCOMPARE(t.replica.bytes_read, t.real.bytes_read);  // fresh start: the replica is exact
      QCOMPARE(t.replica.window_in_force, t.real.window_in_force);
      for (size_t l = 0; l < t.state.size(); ++l) {
        int c[5] = {};
        for (CellState s : t.state[l]) ++c[int(s)];
        const LayerTelemetry& lt = t.real.layers[l];
        QCOMPARE(c[int(CellState::Loaded)], lt.neurons_added);
        // Removed = evicted for good + evicted and loaded again within the token (a rebalance
        // shrinking the layer first): those show as loaded.
        QVERIFY(t.reloaded[l] >= 0 && t.reloaded[l] <= c[int(CellState::Loaded)]);
        QCOMPARE(c[int(CellState::Evicted)] + t.reloaded[l], lt.neurons_removed);
        QCOMPARE(c[int(CellState::Streamed)], lt.neurons_streamed);
        QCOMPARE(c[int(CellState::Loaded)] + c[int(CellState::Resident)], lt.cache_rows_used);
        evicted |= lt.neurons_removed > 0;
      }
    }
    QVERIFY2(evicted, "the budget never evicted: the map's eviction colour was not tested");
    v.selectToken(run.size() - 1);
    const QString info = v.cacheMap()->cellInfo(1, 0);
    VERIFY_CONTAINS(info.toStdString(), "layer 1, neuron");
    VERIFY_CONTAINS(info.toStdString(), "ffn.bin: offset");
    VERIFY_CONTAINS(info.toStdString(), "last used");
    QVERIFY(v.cacheMap()->cellInfo(99, 0).isEmpty());
  }

  void step_mode_moves_through_the_tokens() {
    TeachingView v;
    for (size_t i = 0; i < 12; ++i) {
      v.addTelemetry(tel_[i]);
      v.addSample(samples_[i]);
    }
    QVERIFY(QTest::qWaitFor([&] { return v.currentToken() == 11; }, 2000));  // follows the newest
    v.selectToken(3);
    QCOMPARE(v.currentToken(), 3);
    v.selectToken(-5);
    QCOMPARE(v.currentToken(), 0);
    v.setPlaying(true);  // 4 tokens/s by default
    QVERIFY(QTest::qWaitFor([&] { return v.currentToken() == 11; }, 6000));
    QTest::qWait(400);
    QCOMPARE(v.currentToken(), 11);  // stopped at the end
  }

  void what_if_replays_and_refuses_too_small_a_budget() {
    TeachingView v;
    for (size_t i = 0; i < tel_.size(); ++i) {
      v.addTelemetry(tel_[i]);
      v.addSample(samples_[i]);
    }
    QCOMPARE(v.runWhatIf(16, 0), QString());
    const QString err = v.runWhatIf(4, 1000);
    VERIFY_CONTAINS(err.toStdString(), "below the minimum");
  }

  void tour_and_recording_switch() {
    TeachingView v;
    QSignalSpy rec(&v, &TeachingView::recordingChanged);
    v.resize(900, 700);
    v.show();
    QVERIFY(QTest::qWaitForWindowExposed(&v));
    QCOMPARE(rec.count(), 1);
    QCOMPARE(rec.at(0).at(0).toBool(), true);
    v.startTour();
    QCOMPARE(v.tourStep(), 0);
    auto* bubble = v.findChild<QWidget*>(QStringLiteral("tourBubble"));
    QVERIFY(bubble && bubble->isVisible());
    QPushButton* next = nullptr;
    QPushButton* skip = nullptr;
    for (QPushButton* b : bubble->findChildren<QPushButton*>()) {
      if (b->text() == QStringLiteral("Next")) next = b;
      if (b->text() == QStringLiteral("Skip tour")) skip = b;
    }
    QVERIFY(next && skip);
    next->click();
    QCOMPARE(v.tourStep(), 1);
    skip->click();
    QCOMPARE(v.tourStep(), -1);
    QVERIFY(!bubble->isVisible());
    v.hide();
    QCOMPARE(rec.count(), 2);
    QCOMPARE(rec.at(1).at(0).toBool(), false);
  }
};

QTEST_MAIN(UiTeachingViewTest)
#include "ui_teaching_view_test.moc"
