// cache_map.h - the neuron-cache map: one row per layer, neurons binned into cells, each cell
// coloured by what happened to its neurons at the selected token (loaded, evicted, streamed,
// resident, empty). Hovering a cell names its neurons, their state, the last token that used
// them and where their bundles lie in ffn.bin.
#pragma once

#include <QWidget>
#include <vector>

#include "teaching/teaching_run.h"

namespace flashchat::ui {

class CacheMap : public QWidget {
  Q_OBJECT
 public:
  explicit CacheMap(QWidget* parent = nullptr);
  // run may be null; token: index into the run.
  void setToken(const TeachingRun* run, int token);
  QSize sizeHint() const override { return {640, 220}; }
  QSize minimumSizeHint() const override { return {320, 140}; }
  static QColor stateColor(CellState s, const QPalette& p);
  static QString stateName(CellState s);
  // The text hovering (layer, bin) shows; "" outside the map.
  QString cellInfo(int layer, int bin) const;
  int bins() const;
  // The layer the memory-management animation shows (marked by its label; -1: none).
  void setSelectedLayer(int layer);
  int selectedLayer() const { return selected_layer_; }

 signals:
  void layerClicked(int layer);

 protected:
  void paintEvent(QPaintEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void mousePressEvent(QMouseEvent* e) override;

 private:
  QRect mapRect() const;
  std::vector<CellState> legendStates() const;
  std::vector<QPoint> legendLayout(const std::vector<CellState>& legend) const;
  const TeachingRun* run_ = nullptr;
  int token_ = -1;
  int selected_layer_ = -1;
};

}  // namespace flashchat::ui
