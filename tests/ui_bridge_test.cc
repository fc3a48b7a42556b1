// ui_bridge_test - the engine-to-UI bridge on the shipped default model: text streams in batches
// (<= 30 per second) that add up to the reply, telemetry arrives per token, Stop ends the reply
// within one token of the request, window/budget changes apply on the next token (with a
// marker), step mode pauses after every token and each step yields exactly one (Stop wakes a
// paused reply), and errors (bad model, budget below the minimum, I/O failure mid-reply) arrive as
// error signals after which the worker still works.
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <filesystem>

#include "bridge/engine_worker.h"
#include "core/resource_paths.h"

using namespace flashchat;
using namespace flashchat::ui;

namespace {

// Collects the worker's signals on the test (GUI) thread through queued connections.
struct Recorder {
  QObject ctx;
  std::vector<TokenTelemetry> telemetry;
  QStringList texts;
  std::vector<qint64> text_ms;
  std::vector<std::pair<qint64, QString>> markers;
  std::vector<EngineError> errors;
  std::vector<GenerationSummary> finished;
  std::optional<ModelSummary> model;
  QElapsedTimer clock;
  std::function<void(const TokenTelemetry&)> on_telemetry;

  explicit Recorder(EngineWorker* w) {
    clock.start();
    QObject::connect(w, &EngineWorker::telemetryReady, &ctx, [this](const TokenTelemetry& t) {
      telemetry.push_back(t);
      if (on_telemetry) on_telemetry(t);
    });
    QObject::connect(w, &EngineWorker::textReady, &ctx, [this](const QString& s) {
      texts << s;
      text_ms.push_back(clock.elapsed());
    });
    QObject::connect(w, &EngineWorker::settingApplied, &ctx,
                     [this](qint64 i, const QString& l) { markers.emplace_back(i, l); });
    QObject::connect(w, &EngineWorker::error, &ctx, [this](const EngineError& e) { errors.push_back(e); });
    QObject::connect(w, &EngineWorker::finished, &ctx,
                     [this](const GenerationSummary& s) { finished.push_back(s); });
    QObject::connect(w, &EngineWorker::modelLoaded, &ctx, [this](const ModelSummary& m) { model = m; });
  }
  void reset() {
    telemetry.clear();
    texts.clear();
    text_ms.clear();
    markers.clear();
    errors.clear();
    finished.clear();
  }
};

GenerateOptions options(int max_tokens, uint64_t seed = 7) {
  GenerateOptions o;
  o.max_new_tokens = max_tokens;
  o.sampling.seed = seed;
  o.sampling.temperature = 0.8f;
  return o;
}

std::vector<ChatMessage> turn(const char* text) { return {{"user", text}}; }

QString default_model() { return QString::fromStdString(default_model_path()); }

}  // namespace

class UiBridgeTest : public QObject {
  Q_OBJECT

  void load(EngineHost& host, Recorder& rec, const QString& path, qint64 budget = 0) {
    rec.model.reset();
    host.loadModel(path, FfnMode::Flash, 4, budget);
    QVERIFY(QTest::qWaitFor([&] { return rec.model.has_value() || !rec.errors.empty(); }, 30000));
  }

 private slots:
  void streams_text_and_telemetry() {
    EngineHost host;
    Recorder rec(host.worker());
    load(host, rec, default_model());
    QVERIFY(rec.model);
    QVERIFY(rec.model->flash);
    QVERIFY(rec.model->minimum_for(FfnMode::Flash) > 0);
    QVERIFY(rec.model->model_bytes > rec.model->minimum_for(FfnMode::Flash));
    QCOMPARE(int(rec.model->predictor_metrics.size()), rec.model->n_layers);

    QElapsedTimer t;
    t.start();
    host.runChat(turn("The old man walked along the river"), options(60));
    QVERIFY(QTest::qWaitFor([&] { return !rec.finished.empty(); }, 60000));
    const qint64 elapsed_ms = t.elapsed();
    QVERIFY(rec.errors.empty());
    const GenerationSummary& s = rec.finished.front();
    QVERIFY(s.generated_tokens > 0);
    QCOMPARE(rec.texts.join(QString()), s.text);  // the batches add up to the reply
    // <= 30 updates per second: at most one batch per 33 ms of generation, plus the final flush.
    QVERIFY2(rec.texts.size() <= elapsed_ms / 33 + 2,
             qPrintable(QStringLiteral("%1 batches in %2 ms").arg(rec.texts.size()).arg(elapsed_ms)));
    // Telemetry: one per forward pass (every prompt block and every fed generated token).
    int prompt = 0, generated = 0;
    for (size_t i = 0; i < rec.telemetry.size(); ++i) {
      if (rec.telemetry[i].prompt) {
        prompt += rec.telemetry[i].block_tokens;
      } else {
        ++generated;
      }
      if (i > 0) QCOMPARE(rec.telemetry[i].index, rec.telemetry[i - 1].index + 1);
    }
    QCOMPARE(prompt, s.prompt_tokens);
    QVERIFY(generated >= s.generated_tokens - 1 && generated <= s.generated_tokens);
    QVERIFY(s.ttft_ms > 0);
    QCOMPARE(s.context_size, rec.model->context_size);
    QCOMPARE(host.worker()->lastTelemetryIndex(), rec.telemetry.back().index);
  }

  void stop_within_one_token() {
    EngineHost host;
    Recorder rec(host.worker());
    load(host, rec, default_model());
    EngineWorker* w = host.worker();
    bool asked = false;
    rec.on_telemetry = [&](const TokenTelemetry& t) {
      if (!asked && !t.prompt) {  // the first generated token seen here: stop
        asked = true;
        w->requestStop();
      }
    };
    host.runChat(turn("The river"), options(100));
    QVERIFY(QTest::qWaitFor([&] { return !rec.finished.empty(); }, 60000));
    const GenerationSummary& s = rec.finished.front();
    QCOMPARE(s.reason, StopReason::Cancelled);
    QVERIFY(s.tokens_after_stop >= 0);
    qInfo("tokens generated after the stop request: %d (of %d)", s.tokens_after_stop, s.generated_tokens);
    QVERIFY2(s.tokens_after_stop <= 1, qPrintable(QString::number(s.tokens_after_stop)));
    QVERIFY(s.generated_tokens < 100);
    QVERIFY(!s.text.isEmpty() || s.generated_tokens <= 2);  // the partial answer is kept

    // A new reply after a stop runs normally.
    rec.reset();
    rec.on_telemetry = nullptr;
    host.runChat(turn("The river"), options(10));
    QVERIFY(QTest::qWaitFor([&] { return !rec.finished.empty(); }, 60000));
    QVERIFY(rec.finished.front().reason != StopReason::Cancelled);
    QCOMPARE(rec.finished.front().tokens_after_stop, -1);
  }

  void step_mode_yields_one_token_per_step() {
    EngineHost host;
    Recorder rec(host.worker());
    load(host, rec, default_model());
    EngineWorker* w = host.worker();
    std::vector<int> paused;
    QObject::connect(w, &EngineWorker::stepPaused, &rec.ctx, [&](int g) { paused.push_back(g); });
    auto generated_passes = [&] {
      int n = 0;
      for (const TokenTelemetry& t : rec.telemetry) n += !t.prompt;
      return n;
    };
    w->setStepMode(true);
    QVERIFY(w->stepMode());
    host.runChat(turn("The old man walked along the river"), options(40, 3));
    QVERIFY(QTest::qWaitFor([&] { return !paused.empty(); }, 30000));
    QCOMPARE(paused.front(), 1);  // the prompt, then the first token, then the pause
    QCOMPARE(generated_passes(), 0);
    QVERIFY(!rec.texts.isEmpty());  // the token's text was flushed before the pause
    QTest::qWait(400);  // stays paused
    QCOMPARE(int(paused.size()), 1);
    QCOMPARE(generated_passes(), 0);
    QVERIFY(rec.finished.empty());
    QVERIFY(w->busy());
    for (int step = 2; step <= 4; ++step) {
      w->stepOnce();
      QVERIFY(QTest::qWaitFor([&] { return int(paused.size()) == step; }, 30000));
      QCOMPARE(paused.back(), step);
      QCOMPARE(generated_passes(), step - 1);  // exactly one forward pass per step
      QTest::qWait(200);
      QCOMPARE(int(paused.size()), step);
      QCOMPARE(generated_passes(), step - 1);
      QVERIFY(rec.finished.empty());
    }
    // Play at full speed: step mode off, the reply runs to its end.
    w->setStepMode(false);
    QVERIFY(QTest::qWaitFor([&] { return !rec.finished.empty(); }, 60000));
    QCOMPARE(int(paused.size()), 4);
    const GenerationSummary& s = rec.finished.front();
    QVERIFY(s.reason != StopReason::Cancelled);
    QVERIFY2(s.generated_tokens > 4 || s.reason == StopReason::EndOfText,
             qPrintable(QString::number(s.generated_tokens)));
    QCOMPARE(rec.texts.join(QString()), s.text);

    // Stop wakes a paused reply at once and ends it there.
    rec.reset();
    paused.clear();
    w->setStepMode(true);
    host.runChat(turn("The river"), options(40, 5));
    QVERIFY(QTest::qWaitFor([&] { return !paused.empty(); }, 30000));
    QElapsedTimer t;
    t.start();
    w->requestStop();
    QVERIFY(QTest::qWaitFor([&] { return !rec.finished.empty(); }, 5000));
    qInfo("a paused reply ended %lld ms after Stop", t.elapsed());
    QCOMPARE(rec.finished.front().reason, StopReason::Cancelled);
    QCOMPARE(rec.finished.front().generated_tokens, 1);
    QCOMPARE(generated_passes(), 0);
    w->setStepMode(false);
  }

  void settings_apply_on_next_token() {
    EngineHost host;
    Recorder rec(host.worker());
    load(host, rec, default_model());
    EngineWorker* w = host.worker();
    const qint64 min = rec.model->minimum_for(FfnMode::Flash);
    const qint64 budget_new = min + (rec.model->model_bytes - min) / 10;
    qint64 window_at = -2, budget_at = -2;
    int generated = 0;
    rec.on_telemetry = [&](const TokenTelemetry& t) {
      if (t.prompt) return;
      ++generated;
      if (generated == 5) {
        window_at = w->lastTelemetryIndex();  // completed before the change was asked for
        QVERIFY(w->setWindow(9).isEmpty());
      } else if (generated == 15) {
        budget_at = w->lastTelemetryIndex();
        QVERIFY(w->setBudget(budget_new).isEmpty());
      }
    };
    host.runChat(turn("The old man walked along the river"), options(40, 3));
    QVERIFY(QTest::qWaitFor([&] { return !rec.finished.empty(); }, 60000));
    QVERIFY(window_at >= 0 && budget_at > window_at);
    qint64 first_window = -1, first_budget = -1;
    for (const TokenTelemetry& t : rec.telemetry) {
      if (t.index <= window_at) QCOMPARE(t.window_requested, 4);
      if (t.index <= budget_at) QVERIFY(t.budget_bytes != budget_new);
      if (first_window < 0 && t.window_requested == 9) first_window = t.index;
      if (first_budget < 0 && t.budget_bytes == budget_new) first_budget = t.index;
    }
    qInfo("window asked after token %lld, in force from %lld; budget asked after %lld, in force from %lld",
          window_at, first_window, budget_at, first_budget);
    // The token in flight when the change was asked for may finish with the old value; the
    // next one has the new value.
    QVERIFY2(first_window > window_at && first_window <= window_at + 2,
             qPrintable(QStringLiteral("asked after %1, applied at %2").arg(window_at).arg(first_window)));
    QVERIFY(first_budget > budget_at && first_budget <= budget_at + 2);
    // Markers at exactly those tokens.
    QCOMPARE(int(rec.markers.size()), 2);
    QCOMPARE(rec.markers[0].first, first_window);
    QCOMPARE(rec.markers[0].second, QStringLiteral("k 4→9"));
    QCOMPARE(rec.markers[1].first, first_budget);
    QVERIFY(rec.markers[1].second.startsWith(QStringLiteral("budget ")));
  }

  void mode_switch_mid_reply() {
    EngineHost host;
    Recorder rec(host.worker());
    load(host, rec, default_model());
    EngineWorker* w = host.worker();
    QVERIFY(w->setBudget(rec.model->model_bytes * 75 / 100).isEmpty());
    qint64 asked_after = -2;
    int generated = 0;
    rec.on_telemetry = [&](const TokenTelemetry& t) {
      if (!t.prompt && ++generated == 5) {
        asked_after = w->lastTelemetryIndex();
        QVERIFY(w->setMode(FfnMode::Mmap).isEmpty());
      }
    };
    host.runChat(turn("The river"), options(20));
    QVERIFY(QTest::qWaitFor([&] { return !rec.finished.empty() || !rec.errors.empty(); }, 60000));
    QVERIFY(rec.errors.empty());
    qint64 first = -1;
    for (const TokenTelemetry& t : rec.telemetry) {
      if (t.index <= asked_after) QCOMPARE(t.mode, std::string("flash"));
      if (first < 0 && t.mode == "mmap") first = t.index;
    }
    QVERIFY(first > asked_after && first <= asked_after + 2);
    QCOMPARE(int(rec.markers.size()), 1);
    QCOMPARE(rec.markers[0].first, first);
    QCOMPARE(rec.markers[0].second, QStringLiteral("mode flash→mmap"));
  }

  void errors_leave_it_usable() {
    EngineHost host;
    Recorder rec(host.worker());
    EngineWorker* w = host.worker();
    // A reply before any model: an error, not a crash.
    host.runChat(turn("hi"), options(5));
    QVERIFY(QTest::qWaitFor([&] { return !rec.errors.empty(); }, 10000));
    QCOMPARE(rec.errors[0].kind, EngineErrorKind::BadModel);

    // A bad model file.
    QTemporaryDir dir;
    const QString bad = dir.filePath(QStringLiteral("bad.gguf"));
    QFile f(bad);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("GGUF but not really");
    f.close();
    rec.reset();
    load(host, rec, bad);
    QCOMPARE(int(rec.errors.size()), 1);
    QCOMPARE(rec.errors[0].kind, EngineErrorKind::BadModel);
    QVERIFY(rec.errors[0].detail.contains(QStringLiteral("bad.gguf")));
    QVERIFY(!rec.model);

    // A copy of the default model whose FFN file we can break mid-session.
    const QString copy = dir.filePath(QStringLiteral("model"));
    std::filesystem::copy(default_model().toStdString(), copy.toStdString());
    rec.reset();
    load(host, rec, copy);
    QVERIFY(rec.model);

    // Budget below the minimum: refused with the minimum, the old budget stays in force.
    const qint64 min = rec.model->minimum_for(FfnMode::Flash);
    rec.reset();
    QVERIFY(!w->setBudget(min - 1000).isEmpty());
    QCOMPARE(int(rec.errors.size()), 1);  // emitted directly on this thread
    QCOMPARE(rec.errors[0].kind, EngineErrorKind::BudgetBelowMinimum);
    QCOMPARE(rec.errors[0].minimum_bytes, min);
    QVERIFY(w->setBudget(min).isEmpty());  // "Set the minimum" is accepted
    // (Generation at exactly the reported minimum currently fails in the engine: see the
    // report; the rest of this test runs at a comfortable budget.)
    QVERIFY(w->setBudget(min + rec.model->model_bytes / 10).isEmpty());

    // I/O error mid-reply: the FFN file loses its data.
    const QString ffn = QDir(copy).filePath(QStringLiteral("ffn.bin"));
    const QByteArray saved = [&] {
      QFile in(ffn);
      return in.open(QIODevice::ReadOnly) ? in.readAll() : QByteArray();
    }();
    QVERIFY(!saved.isEmpty());
    QVERIFY(QFile::resize(ffn, 0));
    rec.reset();
    host.runChat(turn("The river"), options(20));
    QVERIFY(QTest::qWaitFor([&] { return !rec.errors.empty() || !rec.finished.empty(); }, 60000));
    QCOMPARE(int(rec.errors.size()), 1);
    QCOMPARE(rec.errors[0].kind, EngineErrorKind::Io);
    QVERIFY(rec.errors[0].detail.contains(QStringLiteral("ffn.bin")));
    QVERIFY(!w->busy());

    // Restore the file: the same worker and session generate again.
    QFile out(ffn);
    QVERIFY(out.open(QIODevice::WriteOnly));
    QCOMPARE(out.write(saved), saved.size());
    out.close();
    rec.reset();
    host.runChat(turn("The river"), options(20));
    QVERIFY(QTest::qWaitFor([&] { return !rec.errors.empty() || !rec.finished.empty(); }, 60000));
    QVERIFY2(rec.errors.empty(), rec.errors.empty() ? "" : qPrintable(rec.errors[0].detail));
    QVERIFY(rec.finished.front().generated_tokens > 0);

    // Context full: a conversation longer than the model's context.
    std::string long_text;
    for (int i = 0; i < 400; ++i) long_text += "river ";
    rec.reset();
    host.runChat({{"user", long_text}}, options(5));
    QVERIFY(QTest::qWaitFor([&] { return !rec.errors.empty() || !rec.finished.empty(); }, 60000));
    QCOMPARE(int(rec.errors.size()), 1);
    QCOMPARE(rec.errors[0].kind, EngineErrorKind::ContextFull);
    QVERIFY(rec.errors[0].message.contains(QString::number(rec.model->context_size)));
  }
};

QTEST_GUILESS_MAIN(UiBridgeTest)
#include "ui_bridge_test.moc"
