// ui_teaching_view_test.cc - the teaching view (ui/teaching/) on a real flash run of the default
// model (predicted sets, a budget under which neurons are evicted and the window shrinks):
//   - every token's map states agree with its telemetry: cells "just loaded" = neurons added,
//     "just evicted" = removed, "streamed" = streamed, loaded + resident = rows in use, per
//     layer; for a run recorded from a fresh start the replica's telemetry equals the real one;
//   - hovering a cell names its layer, neurons, state counts, last use and ffn.bin offset;
//   - step mode: step / play move through the tokens and stop at the end;
//   - live step mode through the engine bridge: one Step yields exactly one token (one more
//     recorded forward pass) and the reply stays paused until the next; Play resumes it;
//   - with predictor evaluation on, the map's "predicted, not active" and "missed" cells equal the
//     telemetry's predicted - true positives and true active - true positives, and hovering
//     shows scores against activations; with it off nothing is evaluated;
//   - the memory-management animation replays each token's row operations from the rows the
//     previous token left to the rows this one reports;
//   - the bundling figure measures bundled and unbundled reads and keeps the result;
//   - what-if at another window differs from the run and a budget below the minimum is refused
//     with the engine's message;
//   - the tour walks its steps and Skip closes it; show/hide switch recording on and off
//     (cache_simulator_test shows the engine records nothing while it is off).

#include <QElapsedTimer>
#include <QPushButton>
#include <QSignalSpy>
#include <QtTest>

#include "bridge/engine_worker.h"
#include "core/resource_paths.h"
#include "session/session.h"
#include "teaching/bundling_figure.h"
#include "teaching/cache_map.h"
#include "teaching/row_matrix.h"
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
        int c[kCellStateCount] = {};
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

  void live_step_mode_asks_the_engine_for_one_token() {
    EngineHost host;
    EngineWorker* w = host.worker();
    TeachingView v;
    v.attachEngine(w);
    v.resize(1000, 700);
    v.show();  // records while shown
    QVERIFY(QTest::qWaitForWindowExposed(&v));
    bool loaded = false, finished = false;
    int texts = 0;
    QObject ctx;
    QObject::connect(w, &EngineWorker::modelLoaded, &ctx, [&] { loaded = true; });
    QObject::connect(w, &EngineWorker::finished, &ctx, [&] { finished = true; });
    QObject::connect(w, &EngineWorker::textReady, &ctx, [&] { ++texts; });
    host.loadModel(QString::fromStdString(resource_path_find("models/default")), FfnMode::Flash, 4, 0);
    QVERIFY(QTest::qWaitFor([&] { return loaded; }, 30000));
    v.setLiveStep(true);
    QVERIFY(w->stepMode());
    GenerateOptions o = greedy(30);
    host.runChat({{"user", "The little robot looked at the stars"}}, o);
    QVERIFY(QTest::qWaitFor([&] { return v.engineWaiting(); }, 30000));
    QVERIFY(texts > 0);
    QVERIFY(QTest::qWaitFor([&] { return v.currentToken() == v.run().size() - 1; }, 2000));
    const int prompt_passes = v.run().size();  // the prompt blocks only: paused after token 1
    QVERIFY(prompt_passes > 0);
    QVERIFY(v.run().at(prompt_passes - 1).sets.prompt);
    for (int step = 1; step <= 3; ++step) {
      v.stepForward();  // at the last token: one more from the engine
      QVERIFY(!v.engineWaiting());
      QVERIFY(QTest::qWaitFor([&] { return v.engineWaiting(); }, 30000));
      QVERIFY(QTest::qWaitFor([&] { return v.run().size() == prompt_passes + step; }, 2000));
      QTest::qWait(300);  // paused: nothing more comes
      QCOMPARE(v.run().size(), prompt_passes + step);
      QVERIFY(!v.run().at(v.run().size() - 1).sets.prompt);
      QVERIFY(!finished);
      QCOMPARE(v.currentToken(), v.run().size() - 1);
    }
    v.setPlaying(true);  // Play: one token per tick at the chosen speed (4 tokens/s)
    QVERIFY(QTest::qWaitFor([&] { return v.run().size() >= prompt_passes + 6; }, 10000));
    QVERIFY(!finished);  // still stepping, at the chosen speed
    v.setPlaying(false);  // Pause: stops after the current token
    QTest::qWait(600);
    const int paused_at = v.run().size();
    QTest::qWait(600);
    QCOMPARE(v.run().size(), paused_at);
    v.hide();  // a closed view releases the reply
    QVERIFY(!w->stepMode());
    QVERIFY(QTest::qWaitFor([&] { return finished; }, 60000));
  }

  void predictor_evaluation_colours_match_the_telemetry() {
    // Off (initTestCase's run): nothing evaluated, no evaluation handed over.
    for (size_t i = 0; i < tel_.size(); ++i) {
      QVERIFY(!samples_[i].token.evaluation);
      QCOMPARE(tel_[i].layers.front().true_active, -1);
    }
    SessionOptions so;
    so.model_path = resource_path_find("models/default");
    so.budget_bytes = budget_;
    Session s(so);
    s.set_evaluate_predictor(true);  // asked at run time, as the view's toggle does
    auto header = std::make_shared<const ActiveTraceHeader>(s.trace_header());
    TeachingView v;
    v.resize(1000, 700);
    GenerateCallbacks cb;
    qint64 last = -1;
    cb.on_telemetry = [&](const TokenTelemetry& t) {
      last = t.index;
      v.addTelemetry(t);
    };
    cb.on_active_sets = [&](const ActiveTraceToken& t) {
      ActiveSetsSample a;
      a.index = last;
      a.header = header;
      a.token = t;
      v.addSample(a);
    };
    s.complete("The little robot looked at the stars and", greedy(20), cb);
    const TeachingRun& run = v.run();
    int evaluated = 0, missed_total = 0, wasted_total = 0;
    for (int i = 0; i < run.size(); ++i) {
      const TeachingToken& t = run.at(i);
      QVERIFY(t.has_real);
      if (t.sets.block) {
        QVERIFY(!t.sets.evaluation);  // a prompt block's union is not evaluated per token
        continue;
      }
      QVERIFY(t.sets.evaluation);
      ++evaluated;
      for (size_t l = 0; l < t.state.size(); ++l) {
        int c[kCellStateCount] = {};
        for (CellState st : t.state[l]) ++c[int(st)];
        const LayerTelemetry& lt = t.real.layers[l];
        QVERIFY(lt.true_active >= 0);
        QCOMPARE(int(t.sets.evaluation->truly_active[l].size()), lt.true_active);
        QCOMPARE(c[int(CellState::Missed)], lt.true_active - lt.true_positive);
        QCOMPARE(c[int(CellState::PredictedInactive)], lt.neurons_predicted - lt.true_positive);
        missed_total += c[int(CellState::Missed)];
        wasted_total += c[int(CellState::PredictedInactive)];
        // Scores decide the prediction: > 0.5 exactly for the predicted neurons.
        const auto& pred = t.sets.active[l];
        const auto& score = t.sets.evaluation->score[l];
        int above = 0;
        for (float sc : score) above += sc > 0.5f;
        QCOMPARE(above, int(pred.size()));
      }
    }
    QVERIFY(evaluated >= 15);
    QVERIFY2(wasted_total > 0 && missed_total > 0,
             qPrintable(QStringLiteral("%1 wasted, %2 missed").arg(wasted_total).arg(missed_total)));
    v.selectToken(run.size() - 1);
    const QString info = v.cacheMap()->cellInfo(0, 0);
    VERIFY_CONTAINS(info.toStdString(), "predictor score");
    VERIFY_CONTAINS(info.toStdString(), "true activation");
  }

  void memory_management_replays_the_rows() {
    TeachingView v;
    v.resize(1200, 800);
    for (size_t i = 0; i < tel_.size(); ++i) {
      v.addTelemetry(tel_[i]);
      v.addSample(samples_[i]);
    }
    const TeachingRun& run = v.run();
    RowMatrix* m = v.rowMatrix();
    int moved = 0, appended = 0, replaced = 0;
    for (int layer = 0; layer < run.header()->layout.n_layers; ++layer) {
      v.setMatrixLayer(layer);
      for (int i = 1; i < run.size(); ++i) {
        v.selectToken(i);
        const LayerTelemetry& now = run.at(i).replica.layers[size_t(layer)];
        const LayerTelemetry& before = run.at(i - 1).replica.layers[size_t(layer)];
        // From the rows the previous token left to the rows this one reports.
        QCOMPARE(m->usedBefore(), before.cache_rows_used);
        QCOMPARE(m->usedAt(m->moveCount()), now.cache_rows_used);
        // Every neuron loaded into a row got it by an append or a replace.
        QCOMPARE(m->count(RowMove::Kind::Append) + m->count(RowMove::Kind::Replace),
                 now.neurons_added);
        moved += m->count(RowMove::Kind::Move);
        appended += m->count(RowMove::Kind::Append);
        replaced += m->count(RowMove::Kind::Replace);
        m->showStep(m->moveCount() / 2);
        QCOMPARE(m->step(), m->moveCount() / 2);
      }
    }
    qInfo("row operations over the run: %d appends, %d replaces in place, %d swaps with last",
          appended, replaced, moved);
    QVERIFY(appended > 0);
    QVERIFY(replaced + moved > 0);  // the budget made room one way or the other
    VERIFY_CONTAINS(m->summary().toStdString(), "appended");
  }

  void bundling_figure_measures_the_disk() {
    const QString dir = QString::fromStdString(resource_path_find("models/default"));
    BundlingFigure f;
    f.setModelDir(dir);
    QVERIFY(f.points().empty());
    QSignalSpy done(&f, &BundlingFigure::measured);
    f.measure();
    QVERIFY(f.measuring());
    QVERIFY(done.wait(60000));
    QVERIFY(!f.measuring());
    QCOMPARE(int(f.points().size()), 12);  // 6 run lengths, bundled and not
    for (size_t i = 0; i + 1 < f.points().size(); i += 2) {
      const ReadSweepPoint& b = f.points()[i];
      const ReadSweepPoint& u = f.points()[i + 1];
      QVERIFY(b.bundled && !u.bundled);
      QCOMPARE(b.run_neurons, u.run_neurons);
      QVERIFY(b.mb_per_s > 0 && u.mb_per_s > 0);
      QVERIFY(b.useful_mb_per_s > 0 && b.useful_mb_per_s <= b.mb_per_s * 1.0001);
      QVERIFY(b.neurons_per_s > 0 && u.neurons_per_s > 0);
      // Bundled runs are fewer, larger requests than the same neurons unbundled.
      QVERIFY2(b.request_bytes > u.request_bytes,
               qPrintable(QStringLiteral("%1 vs %2").arg(b.request_bytes).arg(u.request_bytes)));
      qInfo("%d neurons per run: bundled %.0f MB/s of weights at %.0f B/request (%.0f neurons/s), "
            "unbundled %.0f MB/s at %.0f B/request (%.0f neurons/s)",
            b.run_neurons, b.useful_mb_per_s, b.request_bytes, b.neurons_per_s, u.useful_mb_per_s,
            u.request_bytes, u.neurons_per_s);
    }
    BundlingFigure again;  // kept for the model: no second measurement
    again.setModelDir(dir);
    QCOMPARE(again.points().size(), f.points().size());
    QCOMPARE(again.points().front().mb_per_s, f.points().front().mb_per_s);
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
    // Every step points at a widget the view really has.
    for (const QString& target : TeachingView::tourTargets()) {
      QVERIFY2(v.findChild<QWidget*>(target) != nullptr, qPrintable(target));
    }
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
