// plot_bench.cc - the PNG plots of bench/run.sh, drawn from results.json with QCustomPlot.
//
//   QT_QPA_PLATFORM=offscreen plot_bench OUT/results.json OUT/plots
//
// Per model: latency and bytes read per token against the window size k (window sweep) and
// against the budget as a % of the model size (budget sweep), and one stacked bar chart of the
// Table 3 time split per matrix budget. Only runs with status "ok" are plotted; a plot without
// any says why (e.g. every budget below the engine's minimum).
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <algorithm>
#include <cstdio>
#include <qcustomplot.h>

namespace {

constexpr int kWidthPx = 900;
constexpr int kHeightPx = 520;

// ---------------------------------------------------------------------------------------------
// results.json access

struct Point {
  double x = 0;
  double ms = 0;
  double bytes = 0;
};

struct Split {  // one Table 3 row
  QString label;
  double io_ms = 0, memory_ms = 0, predictor_ms = 0, compute_ms = 0, other_ms = 0;
};

bool in_group(const QJsonObject& run, const QString& group) {
  return run["groups"].toArray().contains(QJsonValue(group));
}

bool run_ok(const QJsonObject& run) { return run["status"].toString() == "ok"; }

// Ok runs of `group`, x from `x_of`, sorted by x.
template <typename XOf>
QVector<Point> points_of(const QJsonArray& runs, const QString& group, XOf x_of) {
  QVector<Point> out;
  for (const QJsonValue& v : runs) {
    const QJsonObject r = v.toObject();
    if (!in_group(r, group) || !run_ok(r)) continue;
    const QJsonObject m = r["metrics"].toObject();
    out.push_back({x_of(r), m["total_ms"].toDouble(), m["bytes_read_per_token"].toDouble()});
  }
  std::sort(out.begin(), out.end(), [](const Point& a, const Point& b) { return a.x < b.x; });
  return out;
}

// Why a group has no plottable run: the first refusal or failure message, if any.
QString why_empty(const QJsonArray& runs, const QString& group) {
  for (const QJsonValue& v : runs) {
    const QJsonObject r = v.toObject();
    if (in_group(r, group) && !run_ok(r)) {
      // "error: budget: X is below the minimum of Y for M mode (why...)" -> "budget: X is ..."
      QString message = r["message"].toString().remove(QRegularExpression("^error: "));
      message = message.section(" (", 0, 0);
      return "no successful run\n" + r["status"].toString() + ": " + message;
    }
  }
  return "no runs";
}

// ---------------------------------------------------------------------------------------------
// Plot helpers

void plot_title(QCustomPlot& plot, const QString& title) {
  plot.plotLayout()->insertRow(0);
  plot.plotLayout()->addElement(0, 0, new QCPTextElement(&plot, title, QFont("sans", 10, QFont::Bold)));
}

void plot_note(QCustomPlot& plot, const QString& text) {
  auto* note = new QCPItemText(&plot);
  note->position->setType(QCPItemPosition::ptAxisRectRatio);
  note->position->setCoords(0.5, 0.5);
  note->setText(text);
  note->setFont(QFont("sans", 9));
}

bool plot_save(QCustomPlot& plot, const QString& path) {
  plot.replot();
  if (!plot.savePng(path, kWidthPx, kHeightPx)) {
    std::fprintf(stderr, "plot_bench: %s: cannot write the PNG\n", qPrintable(path));
    return false;
  }
  std::printf("%s\n", qPrintable(path));
  return true;
}

// Bytes in the unit that keeps the largest value readable.
struct ByteUnit {
  double div;
  QString name;
};
ByteUnit byte_unit(const QVector<Point>& pts) {
  double top = 0;
  for (const Point& p : pts) top = std::max(top, p.bytes);
  if (top >= 2.0 * (1 << 30)) return {double(1 << 30), "GiB"};
  if (top >= 2.0 * (1 << 20)) return {double(1 << 20), "MiB"};
  return {1024.0, "KiB"};
}

// One line chart: y (ms or bytes) against x; log2 x axis for window sizes.
bool plot_xy(const QString& path, const QString& title, const QString& x_label,
             const QVector<Point>& pts, bool bytes, bool log2_x, const QString& empty_note,
             double marker_x = -1, const QString& marker_label = QString()) {
  QCustomPlot plot;
  plot_title(plot, title);
  const ByteUnit unit = byte_unit(pts);
  QVector<double> xs, ys;
  for (const Point& p : pts) {
    xs.push_back(p.x);
    ys.push_back(bytes ? p.bytes / unit.div : p.ms);
  }
  QCPGraph* g = plot.addGraph();
  g->setPen(QPen(QColor(30, 90, 180), 1));
  g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 6));
  g->setData(xs, ys);
  plot.xAxis->setLabel(x_label);
  plot.yAxis->setLabel(bytes ? "read per token (" + unit.name + ")" : "ms per token");
  if (log2_x) {
    plot.xAxis->setScaleType(QCPAxis::stLogarithmic);
    QSharedPointer<QCPAxisTickerLog> ticker(new QCPAxisTickerLog);
    ticker->setLogBase(2);
    plot.xAxis->setTicker(ticker);
  }
  if (pts.isEmpty()) {
    plot_note(plot, empty_note);
    plot.xAxis->setRange(log2_x ? 1 : 0, log2_x ? 16 : 100);
  } else {
    g->rescaleAxes();
    const double lo = xs.front(), hi = xs.back();
    if (log2_x) {
      plot.xAxis->setRange(lo / 1.3, hi * 1.3);
    } else {
      const double pad = std::max(5.0, (hi - lo) * 0.08);
      plot.xAxis->setRange(std::min(lo, marker_x > 0 ? marker_x : lo) - pad, hi + pad);
    }
    plot.yAxis->setRange(0, *std::max_element(ys.begin(), ys.end()) * 1.15);
  }
  if (marker_x > 0) {  // e.g. the engine's minimum flash budget
    auto* line = new QCPItemStraightLine(&plot);
    line->point1->setCoords(marker_x, 0);
    line->point2->setCoords(marker_x, 1);
    line->setPen(QPen(Qt::gray, 1, Qt::DashLine));
    auto* text = new QCPItemText(&plot);
    text->position->setTypeX(QCPItemPosition::ptPlotCoords);
    text->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
    text->position->setCoords(marker_x, 0.05);
    text->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
    text->setText(" " + marker_label);
    text->setFont(QFont("sans", 8));
  }
  return plot_save(plot, path);
}

// Stacked bars of the Table 3 split, one bar per ok run.
bool plot_breakdown(const QString& path, const QString& title, const QVector<Split>& rows,
                    const QString& empty_note) {
  QCustomPlot plot;
  plot_title(plot, title);
  struct Part {
    const char* name;
    double Split::*ms;
    QColor color;
  };
  const Part parts[] = {{"I/O", &Split::io_ms, QColor(200, 80, 60)},
                        {"memory mgmt", &Split::memory_ms, QColor(230, 170, 50)},
                        {"predictor", &Split::predictor_ms, QColor(120, 80, 170)},
                        {"compute", &Split::compute_ms, QColor(60, 130, 190)},
                        {"other", &Split::other_ms, QColor(150, 150, 150)}};
  QVector<double> ticks;
  QVector<QString> labels;
  for (int i = 0; i < rows.size(); ++i) {
    ticks.push_back(i + 1);
    labels.push_back(rows[i].label);
  }
  QCPBars* below = nullptr;
  double top = 0;
  for (const Part& part : parts) {
    auto* bars = new QCPBars(plot.xAxis, plot.yAxis);
    bars->setName(part.name);
    bars->setPen(QPen(part.color.darker(130), 1));
    bars->setBrush(part.color);
    bars->setWidth(0.6);
    QVector<double> ys;
    for (const Split& s : rows) ys.push_back(std::max(0.0, s.*(part.ms)));
    bars->setData(ticks, ys);
    if (below != nullptr) bars->moveAbove(below);
    below = bars;
  }
  for (const Split& s : rows) {
    top = std::max(top, std::max(0.0, s.io_ms) + std::max(0.0, s.memory_ms) +
                            std::max(0.0, s.predictor_ms) + std::max(0.0, s.compute_ms) +
                            std::max(0.0, s.other_ms));
  }
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  ticker->addTicks(ticks, labels);
  plot.xAxis->setTicker(ticker);
  plot.xAxis->setTickLabelRotation(20);
  plot.xAxis->setRange(0.3, rows.size() + 0.7);
  // Headroom above the tallest bar for the one-row legend.
  plot.yAxis->setRange(0, top > 0 ? top * 1.3 : 1);
  plot.yAxis->setLabel("ms per token");
  plot.legend->setVisible(!rows.isEmpty());
  plot.legend->setFillOrder(QCPLegend::foColumnsFirst);
  plot.axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignHCenter);
  if (rows.isEmpty()) plot_note(plot, empty_note);
  return plot_save(plot, path);
}

// ---------------------------------------------------------------------------------------------
// Per model

bool plot_model(const QJsonObject& model, const QJsonObject& settings, const QDir& out) {
  const QString name = model["name"].toString();
  const QString stem = out.filePath(QString(name).replace(QRegularExpression("[^A-Za-z0-9_.-]"), "_"));
  const QJsonArray runs = model["runs"].toArray();
  const double model_bytes = model["model_bytes"].toDouble();
  bool ok = true;

  // Window sweep: x = k requested.
  const double win_pct = 100 * settings["window_fraction"].toDouble();
  const auto win = points_of(runs, "window_sweep", [](const QJsonObject& r) {
    return r["window"].toDouble();
  });
  const QString win_title =
      QString("%1: flash, budget %2% of the model, window sweep").arg(name).arg(win_pct);
  const QString win_empty = why_empty(runs, "window_sweep");
  ok &= plot_xy(stem + "-latency-vs-window.png", win_title, "window k (tokens)", win, false, true,
                win_empty);
  ok &= plot_xy(stem + "-bytes-vs-window.png", win_title, "window k (tokens)", win, true, true,
                win_empty);

  // Budget sweep: x = budget as % of the model size; the engine's flash minimum marked.
  const auto bud = points_of(runs, "budget_sweep", [](const QJsonObject& r) {
    return 100 * r["budget_fraction"].toDouble();
  });
  const double min_flash = model["minimum_budget_bytes"].toObject()["flash"].toDouble();
  const double min_pct = model_bytes > 0 && min_flash > 0 ? 100 * min_flash / model_bytes : -1;
  const QString bud_title = QString("%1: flash k=%2, budget sweep (%3 MiB model)")
                                .arg(name)
                                .arg(settings["window"].toInt())
                                .arg(model_bytes / (1 << 20), 0, 'f', 1);
  const QString bud_empty = why_empty(runs, "budget_sweep");
  const QString min_label = QString("flash minimum %1%").arg(min_pct, 0, 'f', 0);
  ok &= plot_xy(stem + "-latency-vs-budget.png", bud_title, "budget (% of model size)", bud,
                false, false, bud_empty, min_pct, min_label);
  ok &= plot_xy(stem + "-bytes-vs-budget.png", bud_title, "budget (% of model size)", bud, true,
                false, bud_empty, min_pct, min_label);

  // Table 3 split per matrix budget.
  for (const QJsonValue& f : settings["matrix_fractions"].toArray()) {
    const QString group = "matrix@" + QString::number(f.toDouble(), 'g');
    QVector<Split> rows;
    for (const QJsonValue& v : runs) {
      const QJsonObject r = v.toObject();
      if (!in_group(r, group) || !run_ok(r)) continue;
      const QJsonObject m = r["metrics"].toObject();
      rows.push_back({r["label"].toString().section(" @", 0, 0), m["io_ms"].toDouble(),
                      m["memory_ms"].toDouble(), m["predictor_ms"].toDouble(),
                      m["compute_ms"].toDouble(), m["other_ms"].toDouble()});
    }
    const int pct = static_cast<int>(std::lround(100 * f.toDouble()));
    ok &= plot_breakdown(stem + QString("-breakdown-%1pct.png").arg(pct),
                         QString("%1: time per token at a budget of %2% of the model")
                             .arg(name)
                             .arg(pct),
                         rows, why_empty(runs, group));
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  if (argc != 3) {
    std::fprintf(stderr, "usage: plot_bench RESULTS.json OUT_DIR\n");
    return 2;
  }
  QFile file(argv[1]);
  if (!file.open(QIODevice::ReadOnly)) {
    std::fprintf(stderr, "plot_bench: %s: cannot open\n", argv[1]);
    return 1;
  }
  QJsonParseError err;
  const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &err);
  if (doc.isNull() || !doc.object()["models"].isArray()) {
    std::fprintf(stderr, "plot_bench: %s: not a bench results file (%s)\n", argv[1],
                 qPrintable(err.errorString()));
    return 1;
  }
  QDir out(argv[2]);
  if (!out.mkpath(".")) {
    std::fprintf(stderr, "plot_bench: %s: cannot create the directory\n", argv[2]);
    return 1;
  }
  bool ok = true;
  for (const QJsonValue& m : doc.object()["models"].toArray()) {
    ok &= plot_model(m.toObject(), doc.object()["settings"].toObject(), out);
  }
  return ok ? 0 : 1;
}
