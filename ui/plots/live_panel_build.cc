// live_panel_build.cc - LivePanel's plots, legends and items built once, its colours and fonts
// taken from the widget palette, and its layout kept to the widget's size.
#include <QEvent>
#include <QLabel>
#include <algorithm>
#include <qcustomplot.h>

#include "plots/live_panel.h"
#include "plots/plot_items.h"

namespace flashchat::ui {

namespace {

QCPGraph* graph_add(QCustomPlot* plot, QCPAxisRect* rect, QCPAxis* y, const QString& name,
                    QCPLegend* legend) {
  QCPGraph* g = plot->addGraph(x_of(rect), y);
  g->setName(name);
  g->setLineStyle(QCPGraph::lsStepCenter);
  g->setAdaptiveSampling(true);
  g->removeFromLegend();
  if (legend) g->addToLegend(legend);
  return g;
}

QCPBars* bars_add(QCPAxisRect* rect, const QString& name, const QColor& color, QCPLegend* legend) {
  auto* b = new QCPBars(x_of(rect), y_of(rect));
  b->setName(name);
  b->setWidthType(QCPBars::wtPlotCoords);
  b->setWidth(1.0);
  b->setPen(QPen(color, 1));
  b->setBrush(color);  // opaque: no alpha fills on spiky series
  b->removeFromLegend();
  if (legend) b->addToLegend(legend);
  return b;
}

}  // namespace

void LivePanel::build_plots() {
  QCPLayoutGrid* grid = plot_->plotLayout();
  grid->clear();  // drops the default axis rect and legend
  grid->setRowSpacing(0);
  plot_->addLayer(QStringLiteral("bands"), plot_->layer(QStringLiteral("grid")),
                  QCustomPlot::limBelow);
  plot_->addLayer(QStringLiteral("markers"), plot_->layer(QStringLiteral("main")),
                  QCustomPlot::limAbove);
  plot_->layer(QStringLiteral("overlay"))->setMode(QCPLayer::lmBuffered);

  auto* margins = new QCPMarginGroup(plot_);
  for (int i = 0; i < kPlotCount; ++i) {
    auto* legend = new QCPLegend;
    grid->addElement(2 * i, 0, legend);
    legend->setLayer(QStringLiteral("legend"));
    legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    legend->setWrap(3);
    legend->setIconSize(14, 8);
    legend->setIconTextPadding(3);
    legend->setRowSpacing(0);
    legend->setColumnSpacing(6);
    legend->setMargins(QMargins(0, i == 0 ? 2 : 6, 0, 0));
    legend->setBorderPen(Qt::NoPen);
    legend->setSelectableParts(QCPLegend::spNone);
    legends_[i] = legend;
    grid->setRowStretchFactor(2 * i, 0.001);

    auto* rect = new QCPAxisRect(plot_);
    grid->addElement(2 * i + 1, 0, rect);
    rect->setMarginGroup(QCP::msLeft | QCP::msRight, margins);
    rect->setRangeDrag(Qt::Horizontal);
    rect->setRangeZoom(Qt::Horizontal);
    rect->setMinimumSize(100, 44);  // 44: four plots and the readout fit 800 px in CJK fonts too
    // No top axis: a small fixed top margin instead of the automatic one (more room for data).
    rect->setAutoMargins(QCP::msLeft | QCP::msRight | QCP::msBottom);
    rect->setMargins(QMargins(0, 6, 0, 0));
    x_of(rect)->setTickLabels(i == kPlotCount - 1);
    x_of(rect)->setPadding(i == kPlotCount - 1 ? 2 : 0);
    for (QCPAxis* a : rect->axes()) a->setLayer(QStringLiteral("axes"));
    for (QCPAxis* a : rect->axes()) a->grid()->setLayer(QStringLiteral("grid"));
    rects_[i] = rect;

    auto* empty = new QCPItemText(plot_);
    empty->setClipAxisRect(rect);
    position_key_ratio(empty->position, rect, 0, 0.5);
    empty->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
    empty->position->setCoords(0.5, 0.5);
    empty->setPositionAlignment(Qt::AlignCenter);
    empty->setTextAlignment(Qt::AlignCenter);
    empty_text_[i] = empty;

    auto* cross = new QCPItemStraightLine(plot_);
    cross->setLayer(QStringLiteral("overlay"));
    cross->setClipAxisRect(rect);
    position_key_ratio(cross->point1, rect, 0, 0);
    position_key_ratio(cross->point2, rect, 0, 1);
    cross->setVisible(false);
    crosshair_[i] = cross;
  }
  x_of(rects_[kPlotCount - 1])->setLabel(tr("token"));
  for (int i = 0; i < kPlotCount; ++i) {
    for (int j = 0; j < kPlotCount; ++j) {
      if (i == j) continue;
      connect(x_of(rects_[i]), qOverload<const QCPRange&>(&QCPAxis::rangeChanged),
              x_of(rects_[j]), qOverload<const QCPRange&>(&QCPAxis::setRange));
    }
  }

  // DRAM occupancy: stacked areas (each graph holds the cumulative sum, filled down to the one
  // below), budget and RSS lines.
  QCPAxisRect* r = rects_[DramPlot];
  y_of(r)->setLabel(tr("DRAM (MB)"));
  empty_text_[DramPlot]->setText(tr("DRAM by category, stacked,\nagainst the budget"));
  for (int c = 0; c < kDramCategoryCount; ++c) {
    const auto cat = static_cast<DramCategory>(c);
    QCPGraph* g = graph_add(plot_, r, y_of(r), palette_dram_name(cat), legends_[DramPlot]);
    g->setPen(QPen(palette_dram_color(cat), 1));
    g->setBrush(palette_dram_color(cat));
    if (c > 0) g->setChannelFillGraph(dram_[c - 1]);
    dram_[c] = g;
  }
  budget_ = graph_add(plot_, r, y_of(r), palette_ref_name(RefLine::Budget), legends_[DramPlot]);
  rss_ = graph_add(plot_, r, y_of(r), palette_ref_name(RefLine::ProcessRss), legends_[DramPlot]);

  // Neuron churn: loaded up (streamed stacked on it), evicted down, window k on the right.
  r = rects_[ChurnPlot];
  y_of(r)->setLabel(tr("neurons"));
  empty_text_[ChurnPlot]->setText(tr("Neurons loaded, streamed\nand evicted per token"));
  added_ = bars_add(r, palette_churn_name(Churn::Added), palette_churn_color(Churn::Added),
                    legends_[ChurnPlot]);
  streamed_ = bars_add(r, palette_churn_name(Churn::Streamed),
                       palette_churn_color(Churn::Streamed), legends_[ChurnPlot]);
  streamed_->moveAbove(added_);
  removed_ = bars_add(r, palette_churn_name(Churn::Removed), palette_churn_color(Churn::Removed),
                      legends_[ChurnPlot]);
  QCPAxis* k_axis = r->axis(QCPAxis::atRight);
  k_axis->setVisible(true);
  k_axis->setLabel(tr("window k"));
  k_axis->setTickLabels(true);
  QSharedPointer<QCPAxisTickerFixed> k_ticker(new QCPAxisTickerFixed);
  k_ticker->setTickStep(1.0);
  k_ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  k_axis->setTicker(k_ticker);
  k_axis->setSubTicks(false);
  window_ = graph_add(plot_, r, k_axis, palette_churn_name(Churn::Window), legends_[ChurnPlot]);
  window_->setPen(QPen(palette_churn_color(Churn::Window), 1));

  // Flash read throughput and the device limit.
  r = rects_[ReadPlot];
  y_of(r)->setLabel(tr("read (MB/s)"));
  empty_text_[ReadPlot]->setText(tr("Flash read throughput per token\nagainst the device's limit"));
  read_ = graph_add(plot_, r, y_of(r), tr("read throughput"), legends_[ReadPlot]);
  read_->setPen(QPen(palette_time_color(TimePart::Io), 1));
  limit_legend_ = graph_add(plot_, r, y_of(r), palette_ref_name(RefLine::DeviceLimit), nullptr);
  limit_line_ = new QCPItemStraightLine(plot_);
  limit_line_->setLayer(QStringLiteral("markers"));
  limit_line_->setClipAxisRect(r);
  for (QCPItemPosition* p : {limit_line_->point1, limit_line_->point2}) {
    p->setAxes(x_of(r), y_of(r));
    p->setType(QCPItemPosition::ptPlotCoords);
  }
  limit_line_->point1->setCoords(0, 0);
  limit_line_->point2->setCoords(1, 0);
  limit_line_->setVisible(false);

  // Latency breakdown: stacked bars.
  r = rects_[LatencyPlot];
  y_of(r)->setLabel(tr("time (ms)"));
  empty_text_[LatencyPlot]->setText(tr("Time per token, split into\npredictor, I/O, memory, compute, sampling"));
  // Stacked bottom-up from the steadiest part to the spikiest (I/O on top), so that the steady
  // parts keep a flat baseline; the legend keeps the telemetry's order.
  for (int p = 0; p < kTimePartCount; ++p) {
    const auto part = static_cast<TimePart>(p);
    time_[p] = bars_add(r, palette_time_name(part), palette_time_color(part), legends_[LatencyPlot]);
  }
  const TimePart stack[] = {TimePart::Compute, TimePart::Predictor, TimePart::Memory,
                            TimePart::Sampling, TimePart::Io};
  for (int i = 1; i < kTimePartCount; ++i)
    time_[static_cast<int>(stack[i])]->moveAbove(time_[static_cast<int>(stack[i - 1])]);
}

void LivePanel::apply_palette() {
  const QPalette pal = palette();
  const QColor base = pal.color(QPalette::Base);
  const QColor text = pal.color(QPalette::Text);
  QColor axis = text;
  axis.setAlpha(255);
  const QColor grid = palette_is_dark(pal) ? base.lighter(170) : base.darker(112);
  plot_->setBackground(base);
  plot_->setFont(font());
  for (int i = 0; i < kPlotCount; ++i) {
    for (QCPAxis* a : rects_[i]->axes()) {
      a->setBasePen(QPen(axis, 1));
      a->setTickPen(QPen(axis, 1));
      a->setSubTickPen(QPen(axis, 1));
      a->setTickLabelColor(text);
      a->setLabelColor(text);
      a->setTickLabelFont(font());
      a->setLabelFont(font());
      a->grid()->setPen(QPen(grid, 1, Qt::SolidLine));
      a->grid()->setZeroLinePen(QPen(grid.darker(palette_is_dark(pal) ? 70 : 120), 1));
    }
    legends_[i]->setBrush(base);
    legends_[i]->setTextColor(text);
    legends_[i]->setFont(font());
    empty_text_[i]->setColor(pal.color(QPalette::PlaceholderText));
    empty_text_[i]->setFont(font());
    crosshair_[i]->setPen(QPen(palette_marker_color(pal), 1, Qt::DotLine));
  }
  budget_->setPen(palette_ref_pen(RefLine::Budget, pal));
  rss_->setPen(palette_ref_pen(RefLine::ProcessRss, pal));
  limit_legend_->setPen(palette_ref_pen(RefLine::DeviceLimit, pal));
  limit_line_->setPen(palette_ref_pen(RefLine::DeviceLimit, pal));
  const QColor band = palette_prompt_band_color(pal);
  for (Band& b : bands_) {
    for (QCPItemRect* rect : b.rects) rect->setBrush(band);
  }
  for (Marker& m : markers_) {
    for (QCPItemStraightLine* l : m.lines) l->setPen(QPen(palette_marker_color(pal), 1, Qt::DashLine));
    if (m.text) {
      m.text->setColor(text);
      m.text->setBrush(base);
      m.text->setFont(font());
    }
  }
  readout_->setFont(font());
  readout_sized_width_ = -1;
  readout_height_update();
  update_readout();
}

// A fixed height, that of the longest readout at the current width: a readout that grew or
// shrank by a line per token would resize (and fully re-render) the plots above it.
void LivePanel::readout_height_update() {
  const int w = std::max(100, width());
  if (w == readout_sized_width_) return;
  readout_sized_width_ = w;
  QLabel probe;
  probe.setFont(readout_->font());
  probe.setTextFormat(Qt::RichText);
  probe.setWordWrap(true);
  probe.setContentsMargins(readout_->contentsMargins());
  probe.setText(telemetry_row_readout(telemetry_row_widest(), palette()));
  readout_->setFixedHeight(probe.heightForWidth(w));
}

void LivePanel::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  readout_height_update();
  // Legend columns: as many as fit the longest entry (icon, padding and spacing included).
  const int column_px = fontMetrics().horizontalAdvance(palette_dram_name(DramCategory::ResidentWeights)) + 30;
  const int columns = std::clamp(width() / std::max(1, column_px), 2, 6);
  for (QCPLegend* l : legends_) {
    if (l->wrap() == columns) continue;
    l->setWrap(columns);
    l->setFillOrder(QCPLayoutGrid::foColumnsFirst, true);  // re-flow the items
  }
}

void LivePanel::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange) {
    apply_palette();
    schedule_replot();
  }
}

}  // namespace flashchat::ui
