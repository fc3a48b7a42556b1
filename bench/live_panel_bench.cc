// live_panel_bench.cc - what the live memory panel (ui/plots/live_panel.h) costs per token,
// against the engine's own time per token in the same run, and its screenshots.
//
//   flashchat-cli generate --mode flash --budget 6.5M -n 120 --telemetry run.jsonl -p "..."
//   QT_QPA_PLATFORM=offscreen live_panel_bench --telemetry run.jsonl
//   QT_QPA_PLATFORM=offscreen live_panel_bench            # a live run on the default model
//   QT_QPA_PLATFORM=offscreen live_panel_bench --screenshot DIR
//
// Tokens are replayed at the pace they were generated (each one `total_ms` after the previous)
// through LivePanel::appendTelemetry with the panel's own <= 30 Hz replot timer running, in a
// shown (offscreen) widget. The GUI thread's CPU time over the replay (CLOCK_THREAD_CPUTIME_ID:
// appends, replots, the event loop) divided by the tokens is the panel's cost per token; the
// issue's bound is <= 5% of the engine's ms per token. Markers are drawn where the telemetry
// shows a setting change (window k asked for, budget). The live run changes k 4->8 after 100
// generated tokens and the budget by +1 MB after 200 (from 6.5 MB or the engine's minimum + 1/16
// of the FFN, whichever is more), over several 128-token contexts.
#include <time.h>

#include <CLI/CLI.hpp>
#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPalette>
#include <QStyleFactory>
#include <QTimer>
#include <cstdio>
#include <qcustomplot.h>

#include "core/resource_paths.h"
#include "plots/live_panel.h"
#include "session/read_probe.h"
#include "session/session.h"

using namespace flashchat;

namespace {

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

// One line of flashchat-cli's --telemetry file (runtime/telemetry.cc's fields).
TokenTelemetry telemetry_from_json(const QJsonObject& o) {
  TokenTelemetry t;
  t.index = o["index"].toInteger();
  t.pos = o["pos"].toInt();
  t.prompt = o["prompt"].toBool();
  t.mode = o["mode"].toString().toStdString();
  const QJsonObject ms = o["ms"].toObject();
  t.predictor_ms = ms["predictor"].toDouble();
  t.io_ms = ms["io"].toDouble();
  t.memory_ms = ms["memory"].toDouble();
  t.compute_ms = ms["compute"].toDouble();
  t.sampling_ms = ms["sampling"].toDouble();
  t.total_ms = ms["total"].toDouble();
  t.bytes_read = o["bytes_read"].toInteger();
  t.read_requests = o["read_requests"].toInteger();
  const QJsonObject w = o["window"].toObject();
  t.window_requested = w["requested"].toInt();
  t.window_in_force = w["in_force"].toInt();
  t.budget_bytes = o["budget_bytes"].toInteger();
  t.process_rss_bytes = o["process_rss_bytes"].toInteger();
  t.process_base_rss_bytes = o["process_base_rss_bytes"].toInteger();
  const QJsonObject d = o["dram"].toObject();
  t.dram.resident_weights = d["resident_weights"].toInteger();
  t.dram.predictors = d["predictors"].toInteger();
  t.dram.neuron_cache = d["neuron_cache"].toInteger();
  t.dram.kv_cache = d["kv_cache"].toInteger();
  t.dram.io_buffers = d["io_buffers"].toInteger();
  t.dram.other = d["other"].toInteger();
  t.ffn_neurons_total = o["ffn_neurons_total"].toInteger();
  t.ffn_neurons_loaded = o["ffn_neurons_loaded"].toInteger();
  for (const QJsonValue& v : o["layers"].toArray()) {
    const QJsonObject l = v.toObject();
    LayerTelemetry lt;
    lt.neurons_predicted = l["predicted"].toInt();
    lt.neurons_added = l["added"].toInt();
    lt.neurons_removed = l["removed"].toInt();
    lt.neurons_streamed = l["streamed"].toInt();
    lt.cache_rows_used = l["rows_used"].toInt();
    lt.cache_capacity = l["capacity"].toInt();
    t.layers.push_back(lt);
  }
  return t;
}

std::vector<TokenTelemetry> telemetry_load(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) {
    std::fprintf(stderr, "%s: cannot open\n", qPrintable(path));
    std::exit(1);
  }
  std::vector<TokenTelemetry> out;
  while (!f.atEnd()) {
    const QByteArray line = f.readLine().trimmed();
    if (line.isEmpty()) continue;
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(line, &err);
    if (!doc.isObject()) {
      std::fprintf(stderr, "%s: line %zu: %s\n", qPrintable(path), out.size() + 1,
                   qPrintable(err.errorString()));
      std::exit(1);
    }
    out.push_back(telemetry_from_json(doc.object()));
  }
  return out;
}

// A live flash run: several contexts of the default model, k 4->8 and budget 6.5->7.5 MB on
// the way (applied between two tokens, as the GUI's sliders do).
std::vector<TokenTelemetry> telemetry_generate(const std::string& model_dir, int tokens,
                                               int64_t budget_bytes) {
  SessionOptions so;
  so.model_path = model_dir;
  so.mode = FfnMode::Flash;
  so.window = 4;
  Session session(so);
  // The budget asked for, or the engine's minimum plus 1/16 of the FFN when that is more.
  const FlashLayout& ffn = session.flash_model()->ffn;
  budget_bytes = std::max(budget_bytes, session.minimum_budget_bytes(FfnMode::Flash) +
                                            int64_t{ffn.neurons} * ffn.bundle_bytes * ffn.n_layers / 16);
  std::fprintf(stderr, "live run: budget %.2f MB\n", double(budget_bytes) / 1e6);
  session.set_budget(budget_bytes);
  GenerateOptions go;
  go.sampling.temperature = 0.8f;
  go.sampling.seed = 3;
  const char* prompts[] = {"The river ran past the old mill", "Once upon a time the king",
                           "The package manager installs", "In the morning the village"};
  std::vector<TokenTelemetry> tel;
  int generated = 0;
  for (int round = 0; generated < tokens && round < 32; ++round) {
    const std::vector<int> prompt = session.tokenizer().encode(prompts[round % 4], true);
    session.reset_context();
    go.max_new_tokens =
        std::min(tokens - generated, session.context_size() - int(prompt.size()) - 1);
    GenerateCallbacks cb;
    cb.on_token = [&](const TokenEvent&) {
      ++generated;
      if (generated == 100) session.set_window(8);
      if (generated == 200) session.set_budget(budget_bytes + 1'000'000);
      return true;
    };
    cb.on_telemetry = [&](const TokenTelemetry& t) { tel.push_back(t); };
    session.generate(prompt, go, cb);
  }
  return tel;
}

// Settings that changed between consecutive tokens, as the GUI labels them.
QString setting_change(const TokenTelemetry& prev, const TokenTelemetry& t) {
  QStringList parts;
  if (t.window_requested != prev.window_requested)
    parts << QString("k %1→%2").arg(prev.window_requested).arg(t.window_requested);
  if (t.budget_bytes != prev.budget_bytes)
    parts << QString("budget %1→%2 MB")
                 .arg(double(prev.budget_bytes) / 1e6, 0, 'f', 1)
                 .arg(double(t.budget_bytes) / 1e6, 0, 'f', 1);
  if (t.mode != prev.mode)
    parts << QString("%1→%2").arg(QString::fromStdString(prev.mode), QString::fromStdString(t.mode));
  return parts.join(", ");
}

void feed(ui::LivePanel& panel, const std::vector<TokenTelemetry>& tel, size_t i) {
  if (i > 0) {
    const QString change = setting_change(tel[i - 1], tel[i]);
    if (!change.isEmpty()) panel.addMarker(tel[i].index, change);
  }
  panel.appendTelemetry(tel[i]);
}

QPalette dark_palette() {
  QPalette p;
  const QColor window(0x2b, 0x2b, 0x2b), base(0x1e, 0x1e, 0x1e), text(0xe6, 0xe6, 0xe6);
  p.setColor(QPalette::Window, window);
  p.setColor(QPalette::WindowText, text);
  p.setColor(QPalette::Base, base);
  p.setColor(QPalette::AlternateBase, window);
  p.setColor(QPalette::Text, text);
  p.setColor(QPalette::Button, window);
  p.setColor(QPalette::ButtonText, text);
  p.setColor(QPalette::PlaceholderText, QColor(0x9a, 0x9a, 0x9a));
  p.setColor(QPalette::Highlight, QColor(0x3d, 0x7a, 0xd6));
  return p;
}

bool wait_idle(ui::LivePanel& panel) {
  QElapsedTimer t;
  t.start();
  while (panel.replotPending() && t.elapsed() < 5000) {  // sleeps in the event loop, no spinning
    QEventLoop loop;
    QTimer::singleShot(2, &loop, &QEventLoop::quit);
    loop.exec();
  }
  QCoreApplication::processEvents();
  return !panel.replotPending();
}

int screenshots(const std::vector<TokenTelemetry>& tel, double limit, const QString& dir) {
  QDir().mkpath(dir);
  const QPalette light = QApplication::style()->standardPalette();
  const struct { int w, h; } sizes[] = {{420, 800}, {520, 1000}};
  for (bool dark : {false, true}) {
    QApplication::setPalette(dark ? dark_palette() : light);
    for (const auto& s : sizes) {
      ui::LivePanel panel;
      panel.resize(s.w, s.h);
      panel.show();
      panel.setDeviceReadLimit(limit);
      for (size_t i = 0; i < tel.size(); ++i) feed(panel, tel, i);
      if (!wait_idle(panel)) return 1;
      const QString file = QString("%1/live_panel_%2x%3_%4.png")
                               .arg(dir).arg(s.w).arg(s.h).arg(dark ? "dark" : "light");
      if (!panel.grab().save(file)) {
        std::fprintf(stderr, "%s: cannot save\n", qPrintable(file));
        return 1;
      }
      std::printf("%s\n", qPrintable(file));
      // The same panel with the crosshair on the token of the last marker's change + 5.
      panel.setCrosshair(tel[tel.size() * 3 / 4].index);
      const QString hover = QString(file).replace(".png", "_hover.png");
      panel.grab().save(hover);
      std::printf("%s\n", qPrintable(hover));
    }
    // The empty state.
    ui::LivePanel empty;
    empty.resize(420, 800);
    empty.show();
    const QString file = QString("%1/live_panel_empty_%2.png").arg(dir).arg(dark ? "dark" : "light");
    empty.grab().save(file);
    std::printf("%s\n", qPrintable(file));
  }
  return 0;
}

struct Replay {
  double cpu_ms = 0, append_cpu_ms = 0, wall_ms = 0, replot_ms = 0;
  int replots = 0;
  Replay& operator+=(const Replay& o) {
    cpu_ms += o.cpu_ms;
    append_cpu_ms += o.append_cpu_ms;
    wall_ms += o.wall_ms;
    replot_ms += o.replot_ms;
    replots += o.replots;
    return *this;
  }
};

// Delivers token i at sum(total_ms of tokens < i) after the start through the event loop (one
// precise single-shot timer per token), to `panel` or to nobody; returns the GUI thread's CPU
// time from the first token until the panel's last redraw.
Replay replay(const std::vector<TokenTelemetry>& tel, ui::LivePanel* panel) {
  Replay r;
  if (panel) {
    panel->clear();
    wait_idle(*panel);
  }
  const int replots0 = panel ? panel->replotCount() : 0;
  const double replot_ms0 = panel ? panel->replotMsTotal() : 0;
  QElapsedTimer wall;
  size_t next = 0;
  double due_ms = 0;
  QTimer pacer;
  pacer.setSingleShot(true);
  pacer.setTimerType(Qt::PreciseTimer);
  QEventLoop loop;
  QObject::connect(&pacer, &QTimer::timeout, [&] {
    while (next < tel.size() && due_ms <= double(wall.nsecsElapsed()) / 1e6) {
      if (panel) {
        const double c0 = thread_cpu_ms();
        feed(*panel, tel, next);
        r.append_cpu_ms += thread_cpu_ms() - c0;
      }
      due_ms += tel[next].total_ms;
      ++next;
    }
    if (next == tel.size()) {
      loop.quit();
      return;
    }
    pacer.start(std::max(0, int(due_ms - double(wall.nsecsElapsed()) / 1e6)));
  });
  const double cpu0 = thread_cpu_ms();
  wall.start();
  pacer.start(0);
  loop.exec();
  if (panel) wait_idle(*panel);
  r.cpu_ms = thread_cpu_ms() - cpu0;
  r.wall_ms = double(wall.nsecsElapsed()) / 1e6;
  if (panel) {
    r.replots = panel->replotCount() - replots0;
    r.replot_ms = panel->replotMsTotal() - replot_ms0;
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"live panel cost per token vs the engine's time per token"};
  std::string telemetry_file, screenshot_dir, probe_cache = "/tmp/flashchat_read_probe.json";
  std::string model_dir;
  int tokens = 300, width = 460, height = 860, window = ui::LivePanel::kDefaultWindowTokens;
  double budget_mb = 6.5;
  int repeat = 3;
  cli.add_option("--telemetry", telemetry_file, "replay this --telemetry JSONL file");
  cli.add_option("--model", model_dir, "flash model (default: the shipped default model)");
  cli.add_option("-n,--tokens", tokens, "live run: tokens to generate");
  cli.add_option("--budget-mb", budget_mb, "live run: DRAM budget, MB");
  cli.add_option("--window-tokens", window, "the panel's rolling window");
  cli.add_option("--repeat", repeat, "replays (each without and with the panel)");
  cli.add_option("--width", width);
  cli.add_option("--height", height);
  cli.add_option("--probe-cache", probe_cache, "read probe cache file (device limit line)");
  cli.add_option("--screenshot", screenshot_dir, "write PNGs of the panel here and exit");
  CLI11_PARSE(cli, argc, argv);

  QApplication app(argc, argv);
  QApplication::setStyle(QStyleFactory::create("Fusion"));
  if (model_dir.empty()) model_dir = resource_path_find("models/default");

  std::vector<TokenTelemetry> tel;
  try {
    tel = telemetry_file.empty()
              ? telemetry_generate(model_dir, tokens, int64_t(budget_mb * 1e6))
              : telemetry_load(QString::fromStdString(telemetry_file));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  if (tel.empty()) {
    std::fprintf(stderr, "no telemetry\n");
    return 1;
  }
  double limit = 0;
  try {
    limit = read_probe_mb_per_s(model_dir, probe_cache, false);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "read probe: %s (no device limit line)\n", e.what());
  }
  if (!screenshot_dir.empty()) return screenshots(tel, limit, QString::fromStdString(screenshot_dir));

  ui::LivePanel panel;
  panel.resize(width, height);
  panel.setWindowTokens(window);
  panel.setDeviceReadLimit(limit);
  panel.show();
  wait_idle(panel);

  // Replay at the recorded pace, alternately without the panel (what delivering the tokens to
  // the GUI thread's event loop costs by itself) and with it; the difference is the panel's.
  double engine_ms = 0;
  for (const TokenTelemetry& t : tel) engine_ms += t.total_ms;
  Replay base, with;
  for (int r = 0; r < repeat; ++r) {
    base += replay(tel, nullptr);
    with += replay(tel, &panel);
  }
  const double n = double(tel.size()) * repeat;
  const double engine_per_token = engine_ms / double(tel.size());
  const double delivery_per_token = base.cpu_ms / n;
  const double panel_per_token = (with.cpu_ms - base.cpu_ms) / n;
  std::printf("tokens %zu x %d replays at the recorded pace (%.0f ms wall each), panel %dx%d, "
              "window %d\n", tel.size(), repeat, with.wall_ms / repeat, width, height, window);
  std::printf("engine:  %.3f ms/token (mean telemetry total_ms)\n", engine_per_token);
  std::printf("GUI thread CPU/token: %.3f ms without the panel (event loop, delivery), %.3f ms "
              "with it\n", delivery_per_token, with.cpu_ms / n);
  std::printf("panel:   %.3f ms CPU/token (appends %.3f ms/token; %d replots at %.1f Hz, "
              "%.2f ms wall each)\n",
              panel_per_token, with.append_cpu_ms / n, with.replots,
              with.replots / (with.wall_ms / 1e3), with.replot_ms / std::max(1, with.replots));
  // Where a replot's time goes (the panel full, 50 forced repetitions each).
  {
    const int reps = 50;
    double c0 = thread_cpu_ms();
    for (int i = 0; i < reps; ++i) panel.plot()->replot(QCustomPlot::rpQueuedRefresh);
    const double replot_ms = (thread_cpu_ms() - c0) / reps;
    c0 = thread_cpu_ms();
    for (int i = 0; i < reps; ++i) panel.plot()->repaint();
    const double paint_ms = (thread_cpu_ms() - c0) / reps;
    c0 = thread_cpu_ms();
    for (int i = 0; i < reps; ++i) {
      panel.setCrosshair(tel[tel.size() - 1 - size_t(i) % std::min<size_t>(tel.size(), 20)].index);
      QCoreApplication::processEvents();
    }
    const double readout_ms = (thread_cpu_ms() - c0) / reps;
    panel.setCrosshair(-1);
    std::printf("per replot: QCustomPlot::replot %.2f ms CPU, widget paint %.2f ms, crosshair move "
                "(overlay layer + readout) %.2f ms\n", replot_ms, paint_ms, readout_ms);
  }
  std::printf("panel / engine: %.2f%% (bound: <= 5%%); with delivery: %.2f%%\n",
              100.0 * panel_per_token / engine_per_token,
              100.0 * (with.cpu_ms / n) / engine_per_token);
  return 0;
}
