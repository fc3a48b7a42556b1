#include "plots/live_panel.h"
#include "plots/plot_items.h"

#include <QElapsedTimer>
#include <QEvent>
#include <QFontMetrics>
#include <QLabel>
#include <QMouseEvent>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <qcustomplot.h>

namespace flashchat::ui {

namespace {

constexpr int kPausedCapFactor = 8;  // while paused, keep up to 8 windows before trimming anyway
constexpr double kHeadroom = 1.08;   // y range above the largest visible value
constexpr int kReadoutIntervalMs = 200;  // live readout: <= 5 Hz
constexpr double kMaxTimeShare = 0.025;  // of the GUI thread's time spent redrawing

}  // namespace

LivePanel::LivePanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(4);
  plot_ = new QCustomPlot(this);
  plot_->setMouseTracking(true);
  plot_->setNoAntialiasingOnDrag(true);
  plot_->setPlottingHint(QCP::phCacheLabels, true);
  plot_->setPlottingHint(QCP::phFastPolylines, true);
  // Antialiasing costs most of a replot; token-wide steps and bars need none.
  plot_->setNotAntialiasedElements(QCP::aeAll);
  plot_->setAntialiasedElements(QCP::aeNone);
  plot_->installEventFilter(this);
  layout->addWidget(plot_, 1);
  readout_ = new QLabel(this);
  readout_->setTextFormat(Qt::RichText);
  readout_->setWordWrap(true);
  readout_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  readout_->setAlignment(Qt::AlignLeft | Qt::AlignTop);
  readout_->setContentsMargins(6, 0, 6, 4);
  layout->addWidget(readout_, 0);
  readout_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);

  build_plots();
  apply_palette();
  set_empty_state(true);
  update_ranges();
  update_readout();

  replot_timer_.setSingleShot(true);
  replot_timer_.setInterval(kReplotIntervalMs);
  connect(&replot_timer_, &QTimer::timeout, this, &LivePanel::replot_now);
  connect(plot_, &QCustomPlot::mouseMove, this, &LivePanel::on_mouse_move);
  plot_->replot();
}

LivePanel::~LivePanel() = default;

QCPBars* LivePanel::churnBars(Churn c) const {
  switch (c) {
    case Churn::Added: return added_;
    case Churn::Removed: return removed_;
    case Churn::Streamed: return streamed_;
    case Churn::Window: return nullptr;
  }
  return nullptr;
}

void LivePanel::appendTelemetry(const flashchat::TokenTelemetry& t) {
  if (!rows_.empty() && t.index <= rows_.back().index) clear();  // index went back: a new run
  if (rows_.empty()) set_empty_state(false);
  rows_.push_back(telemetry_row_from(t));
  const TelemetryRow& row = rows_.back();
  const double key = double(row.index);

  double stacked = 0;
  for (int c = 0; c < kDramCategoryCount; ++c) {
    stacked += row.dram_mb[c];
    dram_[c]->addData(key, stacked);
  }
  budget_->addData(key, row.budget_mb > 0 ? row.budget_mb : qQNaN());  // 0 = no budget
  rss_->addData(key, row.rss_above_start_mb);
  added_->addData(key, double(row.added));
  streamed_->addData(key, double(row.streamed));
  removed_->addData(key, -double(row.removed));
  window_->addData(key, double(row.window_in_force));
  read_->addData(key, row.read_mb_per_s);
  for (int p = 0; p < kTimePartCount; ++p) time_[p]->addData(key, row.time_ms[p]);
  if (row.prompt) extend_prompt_band(row.index);

  trim();
  if (!paused_) schedule_replot();
}

void LivePanel::extend_prompt_band(qint64 index) {
  if (!bands_.empty() && bands_.back().last == index - 1) {
    Band& b = bands_.back();
    b.last = index;
    for (QCPItemRect* r : b.rects) r->bottomRight->setCoords(double(index) + 0.5, 1);
    return;
  }
  Band b;
  b.first = b.last = index;
  const QColor color = palette_prompt_band_color(palette());
  for (QCPAxisRect* rect : rects_) {
    auto* r = new QCPItemRect(plot_);
    r->setLayer(QStringLiteral("bands"));
    r->setClipAxisRect(rect);
    position_key_ratio(r->topLeft, rect, double(index) - 0.5, 0);
    position_key_ratio(r->bottomRight, rect, double(index) + 0.5, 1);
    r->setPen(Qt::NoPen);
    r->setBrush(color);
    r->setSelectable(false);
    b.rects.push_back(r);
  }
  bands_.push_back(std::move(b));
}

void LivePanel::addMarker(qint64 tokenIndex, const QString& label) {
  Marker m;
  m.index = tokenIndex;
  m.label = label;
  const QPalette pal = palette();
  for (QCPAxisRect* rect : rects_) {
    auto* line = new QCPItemStraightLine(plot_);
    line->setLayer(QStringLiteral("markers"));
    line->setClipAxisRect(rect);
    position_key_ratio(line->point1, rect, double(tokenIndex), 0);
    position_key_ratio(line->point2, rect, double(tokenIndex), 1);
    line->setPen(QPen(palette_marker_color(pal), 1, Qt::DashLine));
    line->setSelectable(false);
    m.lines.push_back(line);
  }
  if (!label.isEmpty()) {
    auto* text = new QCPItemText(plot_);
    text->setLayer(QStringLiteral("markers"));
    text->setClipAxisRect(rects_[DramPlot]);
    // Three label rows in turn, so that labels of nearby markers do not overlap; the rows are
    // one text line apart (set where the plot's height is known, with the alignment below).
    m.row = marker_labels_added_++ % 3;
    position_key_ratio(text->position, rects_[DramPlot], double(tokenIndex), 0);
    text->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
    text->setPadding(QMargins(3, 1, 3, 1));
    text->setText(label);
    text->setColor(pal.color(QPalette::Text));
    text->setBrush(pal.color(QPalette::Base));
    text->setFont(font());
    text->setSelectable(false);
    m.text = text;
  }
  markers_.push_back(std::move(m));
  schedule_replot();
}

void LivePanel::setDeviceReadLimit(double mbPerS) {
  device_limit_mb_per_s_ = mbPerS > 0 ? mbPerS : 0;
  const bool shown = device_limit_mb_per_s_ > 0;
  limit_line_->setVisible(shown);
  limit_line_->point1->setCoords(0, device_limit_mb_per_s_);
  limit_line_->point2->setCoords(1, device_limit_mb_per_s_);
  limit_legend_->removeFromLegend(legends_[ReadPlot]);
  if (shown) {
    limit_legend_->addToLegend(legends_[ReadPlot]);
    limit_legend_->setName(tr("device limit %L1 MB/s").arg(device_limit_mb_per_s_, 0, 'f', 0));
  }
  schedule_replot();
}

void LivePanel::remove_marker_items(Marker& m) {
  for (QCPItemStraightLine* l : m.lines) plot_->removeItem(l);
  if (m.text) plot_->removeItem(m.text);
  m.lines.clear();
  m.text = nullptr;
}

void LivePanel::remove_band_items(Band& b) {
  for (QCPItemRect* r : b.rects) plot_->removeItem(r);
  b.rects.clear();
}

void LivePanel::clear() {
  rows_.clear();
  for (QCPGraph* g : dram_) g->data()->clear();
  for (QCPGraph* g : {budget_, rss_, window_, read_}) g->data()->clear();
  for (QCPBars* b : {added_, streamed_, removed_}) b->data()->clear();
  for (QCPBars* b : time_) b->data()->clear();
  for (Marker& m : markers_) remove_marker_items(m);
  markers_.clear();
  for (Band& b : bands_) remove_band_items(b);
  bands_.clear();
  crosshair_index_ = -1;
  for (QCPItemStraightLine* c : crosshair_) c->setVisible(false);
  set_empty_state(true);
  schedule_replot();
}

void LivePanel::trim() {
  if (rows_.empty()) return;
  const qint64 newest = rows_.back().index;
  qint64 keep_from = newest - window_tokens_ + 1;
  if (paused_) {
    // Frozen view: keep what it shows, up to kPausedCapFactor windows.
    keep_from = newest - qint64(window_tokens_) * kPausedCapFactor + 1;
  }
  if (rows_.front().index >= keep_from) return;
  while (!rows_.empty() && rows_.front().index < keep_from) rows_.pop_front();
  const double k = double(keep_from);
  for (QCPGraph* g : dram_) g->data()->removeBefore(k);
  for (QCPGraph* g : {budget_, rss_, window_, read_}) g->data()->removeBefore(k);
  for (QCPBars* b : {added_, streamed_, removed_}) b->data()->removeBefore(k);
  for (QCPBars* b : time_) b->data()->removeBefore(k);
  while (!markers_.empty() && markers_.front().index < keep_from) {
    remove_marker_items(markers_.front());
    markers_.pop_front();
  }
  while (!bands_.empty() && bands_.front().last < keep_from) {
    remove_band_items(bands_.front());
    bands_.pop_front();
  }
}

void LivePanel::setPaused(bool paused) {
  if (paused == paused_) return;
  paused_ = paused;
  // Frozen: the held tokens can be dragged and zoomed through (x only); live: the view follows.
  plot_->setInteractions(paused_ ? QCP::Interactions(QCP::iRangeDrag | QCP::iRangeZoom)
                                 : QCP::Interactions());
  if (!paused_) {
    trim();  // back to the live window
    schedule_replot();
  }
}

void LivePanel::setWindowTokens(int tokens) {
  window_tokens_ = std::max(8, tokens);
  trim();
  schedule_replot();
}

void LivePanel::set_empty_state(bool visible) {
  for (QCPItemText* t : empty_text_) t->setVisible(visible);
}

bool LivePanel::isEmptyStateVisible() const { return empty_text_[0]->visible(); }

// The next redraw comes at least kReplotIntervalMs (<= 30 Hz) and at least last_cost /
// kMaxTimeShare after the previous one, so that redrawing takes at most kMaxTimeShare of the
// GUI thread's time however slow the machine: the panel then costs a bounded share of each
// token's time while the engine generates.
void LivePanel::schedule_replot() {
  if (replot_timer_.isActive()) return;
  const double gap_ms = std::max(double(kReplotIntervalMs), last_replot_ms_ / kMaxTimeShare);
  const double since_ms = since_replot_.isValid() ? double(since_replot_.elapsed()) : gap_ms;
  replot_timer_.start(int(std::ceil(std::max(0.0, gap_ms - since_ms))));
}

void LivePanel::replot_now() {
  QElapsedTimer clock;
  clock.start();
  if (!paused_) update_ranges();
  // Numbers changing 30 times a second cannot be read: the live readout follows at <= 5 Hz.
  if (crosshair_index_ >= 0 || !since_readout_.isValid() ||
      since_readout_.elapsed() >= kReadoutIntervalMs) {
    update_readout();
    readout_->repaint();  // now, so that its cost counts below
    since_readout_.start();
  }
  plot_->replot(QCustomPlot::rpImmediateRefresh);  // paint now: its cost counts below
  ++replot_count_;
  last_replot_ms_ = double(clock.nsecsElapsed()) / 1e6;
  replot_ms_total_ += last_replot_ms_;
  since_replot_.start();
}

void LivePanel::update_ranges() {
  // x: the last window_tokens_ tokens; before the window fills, it grows from the left edge.
  double lo = 0, hi = window_tokens_;
  if (!rows_.empty()) {
    const double newest = double(rows_.back().index);
    const double oldest = double(rows_.front().index);
    lo = std::min(oldest, newest - window_tokens_ + 1);
    lo = std::max(lo, newest - window_tokens_ + 1);
    if (newest - oldest + 1 < window_tokens_) lo = oldest;
    hi = lo + window_tokens_;
  }
  x_of(rects_[0])->setRange(lo - 0.5, hi - 0.5);  // linked: all four follow
  // A marker label sits right of its line unless it would run past the plot's right edge (new
  // markers appear at the newest token, on the right): then left of it.
  const QFontMetrics fm(font());
  QCPAxisRect* top = rects_[DramPlot];
  for (Marker& m : markers_) {
    if (!m.text) continue;
    const double px = x_of(top)->coordToPixel(double(m.index));
    const bool fits = px + fm.horizontalAdvance(m.label) + 8 <= top->right();
    m.text->setPositionAlignment((fits ? Qt::AlignLeft : Qt::AlignRight) | Qt::AlignTop);
    const double line_px = fm.height() + 3;
    m.text->position->setCoords(double(m.index), m.row * line_px / std::max(1, top->height()));
  }

  // y: from the rows in view.
  double dram_max = 0, churn_up = 0, churn_down = 0, read_max = device_limit_mb_per_s_, ms_max = 0;
  int k_max = 1;
  for (const TelemetryRow& r : rows_) {
    if (r.index < lo || r.index > hi) continue;
    dram_max = std::max({dram_max, r.dram_total_mb, r.budget_mb, r.rss_above_start_mb});
    churn_up = std::max(churn_up, double(r.added + r.streamed));
    churn_down = std::max(churn_down, double(r.removed));
    k_max = std::max({k_max, r.window_in_force, r.window_requested});
    read_max = std::max(read_max, r.read_mb_per_s);
    double sum = 0;
    for (double v : r.time_ms) sum += v;
    ms_max = std::max(ms_max, sum);
  }
  if (rows_.empty()) {  // empty state: plain axes
    dram_max = 10;
    churn_up = churn_down = 100;
    k_max = 8;
    read_max = std::max(read_max, 100.0);
    ms_max = 10;
  }
  y_of(rects_[DramPlot])->setRange(0, dram_max > 0 ? dram_max * kHeadroom : 1);
  const double churn = std::max({churn_up, churn_down, 1.0}) * kHeadroom;
  y_of(rects_[ChurnPlot])->setRange(churn_down > 0 ? -churn : -churn * 0.05, churn);
  rects_[ChurnPlot]->axis(QCPAxis::atRight)->setRange(0, k_max * kHeadroom + 0.5);
  y_of(rects_[ReadPlot])->setRange(0, read_max > 0 ? read_max * kHeadroom : 1);
  y_of(rects_[LatencyPlot])->setRange(0, ms_max > 0 ? ms_max * kHeadroom : 1);
}

const TelemetryRow* LivePanel::row_for(qint64 index) const {
  if (rows_.empty()) return nullptr;
  auto it = std::lower_bound(rows_.begin(), rows_.end(), index,
                             [](const TelemetryRow& r, qint64 i) { return r.index < i; });
  return it != rows_.end() && it->index == index ? &*it : nullptr;
}

QString LivePanel::readoutText(qint64 tokenIndex) const {
  const TelemetryRow* r = row_for(tokenIndex);
  return r ? telemetry_row_readout(*r, palette()) : QString();
}

QString LivePanel::readoutShown() const { return readout_->text(); }

void LivePanel::update_readout() {
  const TelemetryRow* r = crosshair_index_ >= 0 ? row_for(crosshair_index_)
                                                : (rows_.empty() ? nullptr : &rows_.back());
  if (r) {
    readout_->setText(telemetry_row_readout(*r, palette()));
  } else {
    readout_->setText(tr("Hover a plot to read one token's values; the newest token is shown "
                         "here while generating."));
  }
}

void LivePanel::setCrosshair(qint64 tokenIndex) {
  crosshair_index_ = row_for(tokenIndex) ? tokenIndex : -1;
  for (QCPItemStraightLine* c : crosshair_) {
    c->setVisible(crosshair_index_ >= 0);
    c->point1->setCoords(double(crosshair_index_), 0);
    c->point2->setCoords(double(crosshair_index_), 1);
  }
  update_readout();
  plot_->layer(QStringLiteral("overlay"))->replot();
}

void LivePanel::on_mouse_move(QMouseEvent* event) {
  QCPAxisRect* over = nullptr;
  for (QCPAxisRect* r : rects_) {
    if (r->rect().contains(event->pos())) over = r;
  }
  if (!over) {
    if (crosshair_index_ >= 0) setCrosshair(-1);
    return;
  }
  const qint64 index = qRound64(x_of(over)->pixelToCoord(event->pos().x()));
  if (index != crosshair_index_) setCrosshair(index);
}

bool LivePanel::eventFilter(QObject* watched, QEvent* event) {
  if (watched == plot_ && event->type() == QEvent::Leave && crosshair_index_ >= 0) setCrosshair(-1);
  return QWidget::eventFilter(watched, event);
}

QVector<double> LivePanel::markerKeys(int plot) const {
  QVector<double> keys;
  for (int i = 0; i < plot_->itemCount(); ++i) {
    auto* l = qobject_cast<QCPItemStraightLine*>(plot_->item(i));
    if (!l || l->clipAxisRect() != rects_[plot] || l->layer()->name() != QStringLiteral("markers"))
      continue;
    if (l == limit_line_) continue;
    keys.push_back(l->point1->key());
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

QVector<double> LivePanel::promptBandKeys(int plot) const {
  QVector<double> keys;
  for (int i = 0; i < plot_->itemCount(); ++i) {
    auto* r = qobject_cast<QCPItemRect*>(plot_->item(i));
    if (!r || r->clipAxisRect() != rects_[plot]) continue;
    for (double k = r->topLeft->key() + 0.5; k < r->bottomRight->key(); k += 1) keys.push_back(k);
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

QVector<qint64> LivePanel::tokenIndices() const {
  QVector<qint64> out;
  out.reserve(int(rows_.size()));
  for (const TelemetryRow& r : rows_) out.push_back(r.index);
  return out;
}

}  // namespace flashchat::ui
