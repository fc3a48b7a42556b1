// bundling_figure.h - the paper's bundling figure on the user's own disk: read throughput
// against request size, the engine's reads with bundling on and off, measured by the engine's
// read probe (read_probe_sweep) on a worker thread when asked (a button), then kept for the
// model for the rest of the session.
#pragma once

#include <QWidget>
#include <vector>

#include "session/read_probe.h"

class QCustomPlot;
class QLabel;
class QPushButton;

namespace flashchat::ui {

class BundlingFigure : public QWidget {
  Q_OBJECT
 public:
  explicit BundlingFigure(QWidget* parent = nullptr);
  ~BundlingFigure() override;
  // The flash model whose ffn.bin is measured ("" = none: the button is disabled). Shows the
  // kept result for it, if any.
  void setModelDir(const QString& dir);
  // Starts the measurement on a worker thread (no-op while one runs or without a model).
  void measure();
  bool measuring() const { return measuring_; }
  const std::vector<ReadSweepPoint>& points() const { return points_; }
  void setPoints(const std::vector<ReadSweepPoint>& points);

 signals:
  void measured();

 private:
  void redraw();
  QString dir_;
  bool measuring_ = false;
  std::vector<ReadSweepPoint> points_;
  QCustomPlot* plot_;
  QLabel* info_;
  QPushButton* button_;
};

}  // namespace flashchat::ui
