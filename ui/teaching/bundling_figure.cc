// bundling_figure.cc - measuring and drawing throughput against request size.
#include "teaching/bundling_figure.h"

#include <qcustomplot.h>

#include <QCoreApplication>
#include <QHash>
#include <QLabel>
#include <QPointer>
#include <QPushButton>
#include <QThread>
#include <QVBoxLayout>

#include "common/palette.h"
#include "teaching/plot_style.h"

namespace flashchat::ui {
namespace {

// Results kept per model directory for the session (the measurement reads ~0.6 GB at most).
QHash<QString, std::vector<ReadSweepPoint>>& kept() {
  static QHash<QString, std::vector<ReadSweepPoint>> k;
  return k;
}

const std::vector<int> kRunNeurons = {1, 2, 4, 8, 16, 32};

}  // namespace

BundlingFigure::BundlingFigure(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("bundlingFigure"));
  auto* v = new QVBoxLayout(this);
  v->setContentsMargins(0, 0, 0, 0);
  auto* top = new QHBoxLayout;
  info_ = new QLabel(this);
  info_->setWordWrap(true);
  button_ = new QPushButton(tr("Measure my disk"), this);
  button_->setToolTip(tr("Random reads of 1 to 32 neighbouring neurons from this model's ffn.bin, "
                         "as the engine reads them with bundling on and off (a few seconds)"));
  top->addWidget(info_, 1);
  top->addWidget(button_);
  v->addLayout(top);
  plot_ = new QCustomPlot(this);
  plot_->setMinimumHeight(120);
  plot_->addGraph();
  plot_->addGraph();
  plot_->graph(0)->setName(tr("bundled (gate, up, down in one read)"));
  plot_->graph(0)->setPen(QPen(palette_churn_color(Churn::Added), 2));
  plot_->graph(0)->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 7));
  plot_->graph(0)->setLineStyle(QCPGraph::lsNone);  // several run lengths share a request size
  plot_->graph(1)->setName(tr("unbundled (separate reads)"));
  plot_->graph(1)->setPen(QPen(palette_churn_color(Churn::Removed), 2, Qt::DashLine));
  plot_->graph(1)->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare, 7));
  plot_->graph(1)->setLineStyle(QCPGraph::lsNone);
  plot_->xAxis->setScaleType(QCPAxis::stLogarithmic);
  plot_->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
  plot_->xAxis->setLabel(tr("bytes of weights per read request"));
  plot_->yAxis->setLabel(tr("MB/s of weights"));
  plot_->legend->setVisible(true);
  plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
  teaching_plot_style(plot_, palette());
  v->addWidget(plot_, 1);
  connect(button_, &QPushButton::clicked, this, &BundlingFigure::measure);
  setModelDir({});
}

BundlingFigure::~BundlingFigure() = default;

void BundlingFigure::setModelDir(const QString& dir) {
  dir_ = dir;
  const auto it = kept().constFind(dir);
  points_ = it != kept().constEnd() ? *it : std::vector<ReadSweepPoint>();
  button_->setEnabled(!dir_.isEmpty() && !measuring_);
  redraw();
}

void BundlingFigure::measure() {
  if (measuring_ || dir_.isEmpty()) return;
  measuring_ = true;
  button_->setEnabled(false);
  info_->setText(tr("Measuring random reads on this disk…"));
  const std::string dir = dir_.toStdString();
  const QString key = dir_;
  QPointer<BundlingFigure> self(this);
  QThread* t = QThread::create([dir, key, self] {
    std::vector<ReadSweepPoint> points;
    QString error;
    try {
      points = read_probe_sweep(dir, kRunNeurons);
    } catch (const std::exception& e) {
      error = QString::fromStdString(e.what());
    }
    // Back on the GUI thread (if the figure still exists).
    QMetaObject::invokeMethod(qApp, [self, key, points, error] {
      if (!error.isEmpty() || points.empty()) {
        if (self) {
          self->measuring_ = false;
          self->button_->setEnabled(true);
          self->info_->setText(tr("The measurement failed: %1").arg(error));
        }
        return;
      }
      kept().insert(key, points);
      if (!self) return;
      self->measuring_ = false;
      if (self->dir_ == key) self->setPoints(points);
      self->button_->setEnabled(true);
      emit self->measured();
    });
  });
  connect(t, &QThread::finished, t, &QObject::deleteLater);
  t->start();
}

void BundlingFigure::setPoints(const std::vector<ReadSweepPoint>& points) {
  points_ = points;
  redraw();
}

void BundlingFigure::redraw() {
  QVector<double> bx, by, ux, uy;
  double best_b = 0, best_u = 0;
  for (const ReadSweepPoint& p : points_) {
    (p.bundled ? bx : ux).push_back(p.request_bytes);
    (p.bundled ? by : uy).push_back(p.useful_mb_per_s);
    (p.bundled ? best_b : best_u) = std::max(p.bundled ? best_b : best_u, p.neurons_per_s);
  }
  plot_->graph(0)->setData(bx, by);
  plot_->graph(1)->setData(ux, uy);
  if (!points_.empty()) {
    plot_->rescaleAxes();
    plot_->yAxis->setRangeLower(0);
    plot_->yAxis->setRangeUpper(plot_->yAxis->range().upper * 1.1);
    plot_->xAxis->scaleRange(1.3, plot_->xAxis->range().center());
    if (!measuring_) {
      info_->setText(tr("<b>Bundling on this disk</b>: the same neurons read with bundling reach "
                        "%L1 neurons/s, without %L2 neurons/s (%L3×): bigger requests, fewer of "
                        "them.")
                         .arg(best_b, 0, 'f', 0)
                         .arg(best_u, 0, 'f', 0)
                         .arg(best_u > 0 ? best_b / best_u : 0.0, 0, 'f', 2));
    }
  } else if (!measuring_) {
    info_->setText(dir_.isEmpty()
                       ? tr("<b>Bundling</b>: load a flash model to measure its reads on this disk.")
                       : tr("<b>Bundling</b>: how fast does this disk read neurons bundled and "
                            "unbundled? Measure it."));
  }
  plot_->replot();
}

}  // namespace flashchat::ui
