// plot_style.cc - colours of the teaching view's plots.
#include "teaching/plot_style.h"

#include <qcustomplot.h>

namespace flashchat::ui {

void teaching_plot_style(QCustomPlot* plot, const QPalette& palette) {
  plot->setBackground(palette.brush(QPalette::Base));
  for (QCPAxis* a : {plot->xAxis, plot->yAxis}) {
    a->setLabelColor(palette.color(QPalette::Text));
    a->setTickLabelColor(palette.color(QPalette::Text));
    a->setBasePen(QPen(palette.color(QPalette::Text)));
    a->setTickPen(QPen(palette.color(QPalette::Text)));
  }
  plot->legend->setBrush(palette.brush(QPalette::Base));
  plot->legend->setTextColor(palette.color(QPalette::Text));
}

}  // namespace flashchat::ui
