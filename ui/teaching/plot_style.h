// plot_style.h - the teaching view's small plots in the widget's palette: base background, text
// coloured axes and a legend on the base colour (so they read in light and dark themes).
#pragma once

class QCustomPlot;
class QPalette;

namespace flashchat::ui {

void teaching_plot_style(QCustomPlot* plot, const QPalette& palette);

}  // namespace flashchat::ui
