// ui_live_panel_test.cc - the live memory panel (ui/plots/live_panel.h):
//   - every plotted number is the telemetry's: a real flash generation on the default model
//     under a ~6.5-7 MB budget (so neurons churn) is fed to the panel, and each series holds
//     exactly that run's values per token (DRAM per category and as cumulative stacks, budget,
//     RSS above start, churn summed over layers, window, read MB/s, the five time parts);
//     prompt tokens are banded; the readout names the same numbers;
//   - the rolling window trims with removeBefore; pause freezes the view and keeps collecting;
//     resume jumps to live; markers appear on all four plots and leave with the window; clear
//     empties everything and restores the empty state;
//   - redraw runs through the timer at <= 30 Hz and only when something changed.

#include <QElapsedTimer>
#include <QThread>
#include <QtTest>
#include <cmath>
#include <qcustomplot.h>

#include "common/telemetry_metatype.h"
#include "core/resource_paths.h"
#include "plots/live_panel.h"
#include "model/transformer.h"
#include "session/session.h"

using namespace flashchat;
using namespace flashchat::ui;

namespace {

// ~6.5 MB (61% of the 10.6 MB default model), or the engine's minimum plus 1/16 of the FFN when
// that is more (the rule default_model_test uses): neurons churn on most tokens.
constexpr int64_t kBudgetBytes = 6'500'000;

// Value stored at `key`, or NaN when the container has no point there.
template <typename Plottable>
double value_at(Plottable* p, double key) {
  auto it = p->data()->findBegin(key, false);
  if (it == p->data()->constEnd() || it->key != key) return std::nan("");
  return it->value;
}

template <typename Plottable>
QVector<double> keys_of(Plottable* p) {
  QVector<double> keys;
  for (auto it = p->data()->constBegin(); it != p->data()->constEnd(); ++it) keys.push_back(it->key);
  return keys;
}

// Stands in for the engine bridge: emits telemetry from its own thread.
class TelemetryEmitter : public QObject {
  Q_OBJECT
 signals:
  void telemetry(const flashchat::TokenTelemetry& t);
};

}  // namespace

class LivePanelTest : public QObject {
  Q_OBJECT

  std::vector<TokenTelemetry> tel_;  // a real run: prompt and generated tokens, in order
  int marker_token_ = -1;            // the token where the window change applied

  // Every series of `panel` against the telemetry `t` at key t.index.
  static void check_token(const LivePanel& panel, const TokenTelemetry& t) {
    const double key = double(t.index);
    const int64_t bytes[kDramCategoryCount] = {t.dram.resident_weights, t.dram.predictors,
                                               t.dram.neuron_cache,     t.dram.kv_cache,
                                               t.dram.io_buffers,       t.dram.other};
    double stacked = 0;
    for (int c = 0; c < kDramCategoryCount; ++c) {
      const double below = c == 0 ? 0.0 : value_at(panel.dramGraph(DramCategory(c - 1)), key);
      const double top = value_at(panel.dramGraph(DramCategory(c)), key);
      stacked += double(bytes[c]) / 1e6;
      QCOMPARE(top, stacked);                                     // the stack's edge
      QVERIFY(std::fabs((top - below) - double(bytes[c]) / 1e6) < 1e-9);  // this category
    }
    QVERIFY(std::fabs(value_at(panel.dramGraph(DramCategory::Other), key) -
                      double(t.dram.total()) / 1e6) < 1e-9);
    QCOMPARE(value_at(panel.budgetGraph(), key), double(t.budget_bytes) / 1e6);
    QCOMPARE(value_at(panel.rssGraph(), key),
             double(t.process_rss_bytes - t.process_base_rss_bytes) / 1e6);
    int64_t added = 0, removed = 0, streamed = 0;
    for (const LayerTelemetry& l : t.layers) {
      added += l.neurons_added;
      removed += l.neurons_removed;
      streamed += l.neurons_streamed;
    }
    QCOMPARE(value_at(panel.churnBars(Churn::Added), key), double(added));
    QCOMPARE(value_at(panel.churnBars(Churn::Streamed), key), double(streamed));
    QCOMPARE(value_at(panel.churnBars(Churn::Removed), key), -double(removed));
    QCOMPARE(value_at(panel.windowGraph(), key), double(t.window_in_force));
    QCOMPARE(value_at(panel.readGraph(), key), t.read_mb_per_s());
    QCOMPARE(value_at(panel.timeBars(TimePart::Predictor), key), t.predictor_ms);
    QCOMPARE(value_at(panel.timeBars(TimePart::Io), key), t.io_ms);
    QCOMPARE(value_at(panel.timeBars(TimePart::Memory), key), t.memory_ms);
    QCOMPARE(value_at(panel.timeBars(TimePart::Compute), key), t.compute_ms);
    QCOMPARE(value_at(panel.timeBars(TimePart::Sampling), key), t.sampling_ms);
    // The readout of this token names its numbers.
    const QString text = panel.readoutText(t.index);
    QVERIFY(text.contains(QString("Token %1").arg(t.index)));
    QVERIFY(text.contains(QString("loaded %1").arg(added)));
    QVERIFY(text.contains(QString("evicted %1").arg(removed)));
    QVERIFY(text.contains(QString("window k %1").arg(t.window_in_force)));
    QCOMPARE(text.contains("(prompt)"), t.prompt);
  }

  // Every series of the panel holds exactly the keys of `tokens`.
  static void check_keys(const LivePanel& panel, const QVector<double>& want) {
    for (int c = 0; c < kDramCategoryCount; ++c)
      QCOMPARE(keys_of(panel.dramGraph(DramCategory(c))), want);
    QCOMPARE(keys_of(panel.budgetGraph()), want);
    QCOMPARE(keys_of(panel.rssGraph()), want);
    QCOMPARE(keys_of(panel.churnBars(Churn::Added)), want);
    QCOMPARE(keys_of(panel.churnBars(Churn::Removed)), want);
    QCOMPARE(keys_of(panel.churnBars(Churn::Streamed)), want);
    QCOMPARE(keys_of(panel.windowGraph()), want);
    QCOMPARE(keys_of(panel.readGraph()), want);
    for (int p = 0; p < kTimePartCount; ++p) QCOMPARE(keys_of(panel.timeBars(TimePart(p))), want);
  }

  static QVector<double> keys_of_range(const std::vector<TokenTelemetry>& tel, size_t from,
                                       size_t to) {
    QVector<double> k;
    for (size_t i = from; i < to; ++i) k.push_back(double(tel[i].index));
    return k;
  }

 private slots:
  // One real generation: flash mode, window 4 then 8 (applied mid-way, as the GUI's slider
  // would), ~6.5 MB budget; the telemetry of every prompt and generated token is kept.
  void initTestCase() {
    QVERIFY(telemetry_metatype_register() > 0);
    const std::string dir = resource_path_find("models/default");
    QVERIFY2(!dir.empty(), "resources/models/default is missing");
    SessionOptions so;
    so.model_path = dir;
    so.mode = FfnMode::Flash;
    so.window = 4;
    Session session(so);
    const FlashLayout& ffn = session.flash_model()->ffn;
    const int64_t ffn_bytes = int64_t{ffn.neurons} * ffn.bundle_bytes * ffn.n_layers;
    // Room for the KV cache to fill the context as well (it grows in blocks as tokens come).
    const int64_t kv_full = kv_cache_bytes_for(session.model().config, KvType::F16,
                                               session.context_size());
    const int64_t budget = std::max(kBudgetBytes, session.minimum_budget_bytes(FfnMode::Flash) +
                                                      kv_full + ffn_bytes / 16);
    qInfo("budget %lld bytes (engine minimum %lld)", static_cast<long long>(budget),
          static_cast<long long>(session.minimum_budget_bytes(FfnMode::Flash)));
    session.set_budget(budget);
    GenerateOptions go;
    go.sampling.temperature = 0.8f;
    go.sampling.seed = 11;
    const std::vector<int> prompt = session.tokenizer().encode("The river ran past the old mill", true);
    int generated = 0;
    for (int round = 0; round < 6 && generated < 100; ++round) {
      session.reset_context();
      go.max_new_tokens = std::min(100 - generated, session.context_size() - int(prompt.size()) - 1);
      GenerateCallbacks cb;
      cb.on_token = [&](const TokenEvent&) {
        if (++generated == 40) session.set_window(8);
        return true;
      };
      cb.on_telemetry = [&](const TokenTelemetry& t) {
        if (marker_token_ < 0 && t.window_requested == 8) marker_token_ = int(t.index);
        tel_.push_back(t);
      };
      session.generate(prompt, go, cb);
    }
    QVERIFY2(generated >= 100, qPrintable(QString("generated %1").arg(generated)));
    QVERIFY(marker_token_ > 0);
    // The run churns: not a trivially constant series.
    int churning = 0, prompts = 0;
    for (const TokenTelemetry& t : tel_) {
      prompts += t.prompt;
      for (const LayerTelemetry& l : t.layers) churning += l.neurons_added > 0 && l.neurons_removed > 0;
    }
    QVERIFY(prompts > 0);
    QVERIFY2(churning > 50, qPrintable(QString("churning layer-tokens %1").arg(churning)));
  }

  void every_plotted_number_is_the_telemetrys() {
    LivePanel panel;
    panel.resize(460, 820);
    panel.show();
    QVERIFY(panel.isEmptyStateVisible());
    panel.setWindowTokens(int(tel_.size()) + 10);  // hold the whole run
    for (const TokenTelemetry& t : tel_) panel.appendTelemetry(t);
    QVERIFY(!panel.isEmptyStateVisible());
    check_keys(panel, keys_of_range(tel_, 0, tel_.size()));
    for (const TokenTelemetry& t : tel_) {
      check_token(panel, t);
      if (QTest::currentTestFailed()) {
        qWarning("token %lld", static_cast<long long>(t.index));
        return;
      }
    }
    // Prompt tokens (and only they) lie on the shaded band, on every plot.
    QVector<double> prompt_keys;
    for (const TokenTelemetry& t : tel_)
      if (t.prompt) prompt_keys.push_back(double(t.index));
    for (int p = 0; p < LivePanel::kPlotCount; ++p) QCOMPARE(panel.promptBandKeys(p), prompt_keys);
    // Without hover the readout shows the newest token; the crosshair shows the one hovered.
    QVERIFY(QTest::qWaitFor([&] { return !panel.replotPending(); }, 2000));
    QCOMPARE(panel.readoutShown(), panel.readoutText(tel_.back().index));
    panel.setCrosshair(tel_[10].index);
    QCOMPARE(panel.readoutShown(), panel.readoutText(tel_[10].index));
    panel.setCrosshair(-1);
    QCOMPARE(panel.readoutShown(), panel.readoutText(tel_.back().index));
  }

  void rolling_window_pause_markers_clear() {
    LivePanel panel;
    panel.resize(460, 820);
    panel.show();
    const int window = 32;
    panel.setWindowTokens(window);
    QCOMPARE(panel.windowTokens(), window);
    panel.setDeviceReadLimit(1234.0);
    QCOMPARE(panel.deviceLimitLine()->point1->value(), 1234.0);
    QVERIFY(panel.deviceLimitLine()->visible());

    // Markers at a real setting change, on every plot.
    size_t i = 0;
    for (; i < 20; ++i) panel.appendTelemetry(tel_[i]);
    panel.addMarker(tel_[15].index, "k 4→8");
    for (int p = 0; p < LivePanel::kPlotCount; ++p)
      QCOMPARE(panel.markerKeys(p), QVector<double>{double(tel_[15].index)});

    // Rolling window: only the last 32 tokens stay in every series.
    for (; i < 80; ++i) panel.appendTelemetry(tel_[i]);
    check_keys(panel, keys_of_range(tel_, 80 - window, 80));
    QCOMPARE(panel.tokenIndices().size(), window);
    for (size_t j = 80 - window; j < 80; ++j) check_token(panel, tel_[j]);
    // The marker left with its token.
    for (int p = 0; p < LivePanel::kPlotCount; ++p) QVERIFY(panel.markerKeys(p).isEmpty());
    QVERIFY(QTest::qWaitFor([&] { return !panel.replotPending(); }, 2000));
    const QCPRange live = panel.axisRect(0)->axis(QCPAxis::atBottom)->range();
    QCOMPARE(live.upper, double(tel_[79].index) + 0.5);
    for (int p = 1; p < LivePanel::kPlotCount; ++p)  // one shared x axis
      QCOMPARE(panel.axisRect(p)->axis(QCPAxis::atBottom)->range(), live);

    // Pause: data keep coming, the view stays where it was.
    panel.setPaused(true);
    QVERIFY(panel.isPaused());
    panel.addMarker(tel_[85].index, "budget 6.5→7.0 MB");
    for (; i < 100; ++i) panel.appendTelemetry(tel_[i]);
    QTest::qWait(3 * LivePanel::kReplotIntervalMs);
    check_keys(panel, keys_of_range(tel_, 80 - window, 100));  // collected, not trimmed
    check_token(panel, tel_[99]);
    for (int p = 0; p < LivePanel::kPlotCount; ++p)
      QCOMPARE(panel.axisRect(p)->axis(QCPAxis::atBottom)->range(), live);
    // Resume: back to live, trimmed to the window, the marker still in it.
    panel.setPaused(false);
    QVERIFY(!panel.isPaused());
    QVERIFY(QTest::qWaitFor([&] { return !panel.replotPending(); }, 2000));
    check_keys(panel, keys_of_range(tel_, 100 - window, 100));
    QCOMPARE(panel.axisRect(0)->axis(QCPAxis::atBottom)->range().upper,
             double(tel_[99].index) + 0.5);
    for (int p = 0; p < LivePanel::kPlotCount; ++p)
      QCOMPARE(panel.markerKeys(p), QVector<double>{double(tel_[85].index)});

    // The device limit hides at <= 0.
    panel.setDeviceReadLimit(0);
    QVERIFY(!panel.deviceLimitLine()->visible());

    // Clear: a new run starts empty.
    panel.clear();
    check_keys(panel, {});
    QVERIFY(panel.tokenIndices().isEmpty());
    QVERIFY(panel.isEmptyStateVisible());
    for (int p = 0; p < LivePanel::kPlotCount; ++p) {
      QVERIFY(panel.markerKeys(p).isEmpty());
      QVERIFY(panel.promptBandKeys(p).isEmpty());
    }
    panel.appendTelemetry(tel_[0]);
    check_keys(panel, keys_of_range(tel_, 0, 1));
    check_token(panel, tel_[0]);
    QVERIFY(!panel.isEmptyStateVisible());
  }

  // A token index that goes back (a new session counting from 0) starts a new run.
  void index_going_back_starts_a_new_run() {
    LivePanel panel;
    for (size_t i = 0; i < 50; ++i) panel.appendTelemetry(tel_[i]);
    panel.addMarker(tel_[20].index, "k 4→8");
    panel.appendTelemetry(tel_[5]);
    check_keys(panel, keys_of_range(tel_, 5, 6));
    check_token(panel, tel_[5]);
    for (int p = 0; p < LivePanel::kPlotCount; ++p) QVERIFY(panel.markerKeys(p).isEmpty());
  }

  // Telemetry made on an engine thread reaches the panel through a queued signal intact.
  void telemetry_crosses_threads_through_a_queued_signal() {
    LivePanel panel;
    TelemetryEmitter emitter;
    QThread worker;
    emitter.moveToThread(&worker);
    connect(&emitter, &TelemetryEmitter::telemetry, &panel, &LivePanel::appendTelemetry,
            Qt::QueuedConnection);
    worker.start();
    const std::vector<TokenTelemetry> sent(tel_.begin(), tel_.begin() + 30);
    QMetaObject::invokeMethod(&emitter, [&emitter, &sent] {
      for (const TokenTelemetry& t : sent) emit emitter.telemetry(t);
    });
    QVERIFY(QTest::qWaitFor([&] { return panel.tokenIndices().size() == 30; }, 5000));
    worker.quit();
    QVERIFY(worker.wait(5000));
    check_keys(panel, keys_of_range(tel_, 0, 30));
    for (const TokenTelemetry& t : sent) check_token(panel, t);
  }

  // The redraw is timer-driven: a burst of tokens costs few replots (<= 30 Hz), and nothing is
  // redrawn while nothing changes.
  void replots_at_most_30_hz_and_only_on_change() {
    LivePanel panel;
    panel.resize(460, 820);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QTest::qWait(100);
    const int before = panel.replotCount();
    QElapsedTimer clock;
    clock.start();
    for (const TokenTelemetry& t : tel_) {
      panel.appendTelemetry(t);
      QTest::qWait(4);  // tokens arriving over ~0.5 s
    }
    QVERIFY(QTest::qWaitFor([&] { return !panel.replotPending(); }, 2000));
    const double elapsed_ms = double(clock.elapsed());
    const int replots = panel.replotCount() - before;
    qInfo("%zu tokens in %.0f ms: %d replots", tel_.size(), elapsed_ms, replots);
    QVERIFY(replots >= 3);
    QVERIFY2(replots <= int(elapsed_ms / LivePanel::kReplotIntervalMs) + 1,
             qPrintable(QString("%1 replots in %2 ms").arg(replots).arg(elapsed_ms)));
    const int settled = panel.replotCount();
    QTest::qWait(5 * LivePanel::kReplotIntervalMs);
    QCOMPARE(panel.replotCount(), settled);
  }
};

QTEST_MAIN(LivePanelTest)
#include "ui_live_panel_test.moc"
