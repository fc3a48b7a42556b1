// plot_items.h - small QCustomPlot helpers shared by the live panel's files.
#pragma once

#include <qcustomplot.h>

namespace flashchat::ui {

inline QCPAxis* x_of(QCPAxisRect* r) { return r->axis(QCPAxis::atBottom); }
inline QCPAxis* y_of(QCPAxisRect* r) { return r->axis(QCPAxis::atLeft); }

// Places p at (key in plot coordinates, y as a fraction of the axis rect from its top).
inline void position_key_ratio(QCPItemPosition* p, QCPAxisRect* rect, double key, double ratio_y) {
  p->setAxes(x_of(rect), y_of(rect));
  p->setAxisRect(rect);
  p->setTypeX(QCPItemPosition::ptPlotCoords);
  p->setTypeY(QCPItemPosition::ptAxisRectRatio);
  p->setCoords(key, ratio_y);
}

}  // namespace flashchat::ui
