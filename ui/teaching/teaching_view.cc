// teaching_view.cc - layout, step mode, what-if and the tour of the teaching view.
#include "teaching/teaching_view.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>

#include "common/palette.h"
#include "core/error.h"
#include "core/units.h"
#include "teaching/cache_map.h"
#include "teaching/bundling_figure.h"
#include "teaching/phase_bar.h"
#include "teaching/plot_style.h"
#include "teaching/row_matrix.h"

namespace flashchat::ui {
namespace {

QString bytes_text(double b) { return QString::fromStdString(size_format_bytes(int64_t(b))); }

struct TourStep {
  const char* target;  // object name of the widget the step points at
  const char* text;
};
constexpr TourStep kTour[] = {
    {"cacheMap",
     QT_TRANSLATE_NOOP(
         "flashchat::ui::TeachingView",
         "The neuron cache. Each row is a layer, each cell a group of FFN neurons. Before every "
         "token a small predictor guesses which neurons will fire; only those are needed. Vivid "
         "green cells were just loaded from flash, red ones just evicted to make room, pale green "
         "ones stay resident in DRAM, sky-blue ones were streamed (no room left under the "
         "budget).")},
    {"phaseBar",
     QT_TRANSLATE_NOOP(
         "flashchat::ui::TeachingView",
         "One token, phase by phase: predict, compare with the window (neurons of the last k "
         "tokens "
         "stay cached, so only the difference is read), delete and append rows in the preallocated "
         "matrix, read the missing bundles from flash, compute.")},
    {"stepControls",
     QT_TRANSLATE_NOOP(
         "flashchat::ui::TeachingView",
         "Step through the run: play, pause, one token at a time, or drag the slider. Each "
         "neuron's "
         "gate, up and down weights lie side by side on flash (a bundle), so one read fetches all "
         "three.")},
    {"whatIf",
     QT_TRANSLATE_NOOP(
         "flashchat::ui::TeachingView",
         "What if the window were longer or the budget smaller? The same active sets go through "
         "the "
         "engine's own cache policy under the new settings, without running the model again. A "
         "longer window reads less per token but holds more in DRAM; the budget caps what it "
         "holds.")},
    {"rowMatrix",
     QT_TRANSLATE_NOOP(
         "flashchat::ui::TeachingView",
         "The preallocated matrix of one layer's cache, as the engine changed it for this token: "
         "a deleted row's hole is filled by the last row, a new row is appended at the end, and "
         "under a budget the least recently used row is overwritten in place. Nothing is "
         "reallocated. Click a layer in the map to see its matrix.")},
    {"evaluatePredictor",
     QT_TRANSLATE_NOOP(
         "flashchat::ui::TeachingView",
         "How good is the predictor? With this on, the engine also computes every neuron's true "
         "activation: yellow cells were predicted but stayed silent (bytes read in vain), pink "
         "ones fired but were missed. Hover a cell for the predictor's score against the true "
         "value. It slows the run, so it is off by default.")},
    {"liveStep",
     QT_TRANSLATE_NOOP(
         "flashchat::ui::TeachingView",
         "Step the engine itself: while a reply is being written, each Step asks for exactly one "
         "more token and the reply waits until the next one.")},
    {"bundlingFigure",
     QT_TRANSLATE_NOOP(
         "flashchat::ui::TeachingView",
         "Why bundles? Measured on your own disk: reading a neuron's weights as one request "
         "instead of separate small ones gives far more neurons per second, because flash is "
         "fast for larger reads and slow for tiny ones.")},
};

}  // namespace

TeachingView::TeachingView(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("teachingView"));
  setWindowTitle(tr("FlashChat — teaching view"));
  buildUi();
  refresh_timer_.setSingleShot(true);
  refresh_timer_.setInterval(100);
  connect(&refresh_timer_, &QTimer::timeout, this, [this] {
    slider_->setRange(0, std::max(0, run_.size() - 1));
    if (follow_ && !play_timer_.isActive()) {
      selectToken(run_.size() - 1);
    } else {
      refreshToken();
      refreshPlot();
    }
  });
  play_timer_.setInterval(250);
  connect(&play_timer_, &QTimer::timeout, this, [this] {
    if (current_ + 1 < run_.size() || liveStep()) {
      stepForward();  // live: waits at the last token for the engine's next one
    } else {
      setPlaying(false);
    }
  });
}

TeachingView::~TeachingView() = default;

void TeachingView::buildUi() {
  auto* v = new QVBoxLayout(this);
  v->setContentsMargins(12, 10, 12, 10);
  auto* top = new QHBoxLayout;
  title_ = new QLabel(this);
  title_->setWordWrap(true);
  top->addWidget(title_, 1);
  evaluate_ = new QCheckBox(tr("Evaluate the predictor"), this);
  evaluate_->setObjectName(QStringLiteral("evaluatePredictor"));
  evaluate_->setToolTip(tr("Also compute every neuron's true activation (the whole "
                           "up-projection, read through the page cache) to colour what the "
                           "predictor predicted in vain and what it missed. Slower; off costs "
                           "nothing."));
  connect(evaluate_, &QCheckBox::toggled, this, [this](bool on) {
    if (isVisible()) emit evaluationChanged(on);
  });
  top->addWidget(evaluate_);
  auto* tour = new QPushButton(tr("Tour"), this);
  tour->setToolTip(tr("A short guided tour of this view"));
  connect(tour, &QPushButton::clicked, this, &TeachingView::startTour);
  top->addWidget(tour);
  v->addLayout(top);

  auto* mid = new QHBoxLayout;
  map_ = new CacheMap(this);
  mid->addWidget(map_, 3);
  auto* mm = new QVBoxLayout;
  layer_box_ = new QSpinBox(this);
  layer_box_->setRange(0, 0);
  layer_box_->setPrefix(tr("memory management of layer "));
  layer_box_->setToolTip(tr("The preallocated matrix of this layer (or click a layer in the map)"));
  matrix_ = new RowMatrix(this);
  mm->addWidget(layer_box_);
  mm->addWidget(matrix_, 1);
  mid->addLayout(mm, 2);
  v->addLayout(mid, 3);
  connect(map_, &CacheMap::layerClicked, this, &TeachingView::setMatrixLayer);
  connect(layer_box_, &QSpinBox::valueChanged, this, &TeachingView::setMatrixLayer);
  phases_ = new PhaseBar(this);
  v->addWidget(phases_);

  auto* steps = new QWidget(this);
  steps->setObjectName(QStringLiteral("stepControls"));
  auto* sh = new QHBoxLayout(steps);
  sh->setContentsMargins(0, 0, 0, 0);
  auto* back = new QPushButton(tr("◀ Step"), steps);
  play_ = new QPushButton(tr("▶ Play"), steps);
  auto* fwd = new QPushButton(tr("Step ▶"), steps);
  play_->setCheckable(true);
  speed_ = new QComboBox(steps);
  for (const int tps : {1, 2, 4, 8, 16}) speed_->addItem(tr("%n tokens/s", nullptr, tps), tps);
  speed_->setCurrentIndex(2);
  slider_ = new QSlider(Qt::Horizontal, steps);
  slider_->setRange(0, 0);
  slider_->setAccessibleName(tr("Token"));
  sh->addWidget(back);
  sh->addWidget(play_);
  sh->addWidget(fwd);
  sh->addWidget(speed_);
  sh->addWidget(slider_, 1);
  live_ = new QCheckBox(tr("Step the engine"), steps);
  live_->setObjectName(QStringLiteral("liveStep"));
  live_->setToolTip(tr("Generate one token at a time: the reply pauses after every token; Step "
                       "asks for exactly one more, Play continues at the chosen speed, Pause "
                       "stops after the current token."));
  sh->addWidget(live_);
  v->addWidget(steps);
  connect(back, &QPushButton::clicked, this, [this] { selectToken(current_ - 1); });
  connect(fwd, &QPushButton::clicked, this, &TeachingView::stepForward);
  connect(live_, &QCheckBox::toggled, this, [this](bool on) {
    engine_waiting_ = false;
    emit liveStepChanged(on);
  });
  connect(play_, &QPushButton::toggled, this, &TeachingView::setPlaying);
  connect(speed_, &QComboBox::currentIndexChanged, this,
          [this] { play_timer_.setInterval(1000 / std::max(1, speed_->currentData().toInt())); });
  connect(slider_, &QSlider::valueChanged, this, [this](int i) {
    if (i != current_) selectToken(i);
  });

  token_info_ = new QLabel(this);
  token_info_->setWordWrap(true);
  token_info_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  v->addWidget(token_info_);

  auto* box = new QGroupBox(tr("What if…"), this);
  box->setObjectName(QStringLiteral("whatIf"));
  auto* g = new QGridLayout(box);
  k_box_ = new QSpinBox(box);
  k_box_->setRange(1, 64);
  k_box_->setValue(8);
  k_box_->setPrefix(tr("window k = "));
  budget_edit_ = new QLineEdit(box);
  budget_edit_->setPlaceholderText(tr("budget, e.g. 9M (empty: unlimited)"));
  auto* replay = new QPushButton(tr("Replay"), box);
  what_if_info_ = new QLabel(box);
  what_if_info_->setWordWrap(true);
  g->addWidget(k_box_, 0, 0);
  g->addWidget(budget_edit_, 0, 1);
  g->addWidget(replay, 0, 2);
  g->addWidget(what_if_info_, 1, 0, 1, 3);
  plot_ = new QCustomPlot(box);
  plot_->setMinimumHeight(150);
  plot_->addGraph();
  plot_->addGraph();
  plot_->graph(0)->setName(tr("this run"));
  plot_->graph(0)->setPen(QPen(palette_time_color(TimePart::Io), 2));
  plot_->graph(1)->setName(tr("what-if"));
  QPen dashed(palette_churn_color(Churn::Window), 2, Qt::DashLine);
  plot_->graph(1)->setPen(dashed);
  plot_->xAxis->setLabel(tr("token"));
  plot_->yAxis->setLabel(tr("KB read per token"));
  plot_->legend->setVisible(true);
  plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
  teaching_plot_style(plot_, palette());
  marker_ = new QCPItemStraightLine(plot_);
  marker_->setPen(QPen(palette_marker_color(palette()), 1, Qt::DotLine));
  g->addWidget(plot_, 2, 0, 1, 3);
  g->setColumnStretch(1, 1);
  g->setRowStretch(2, 1);  // spare height goes to the plot, not around the sentence
  what_if_info_->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Maximum);
  what_if_info_->setMinimumHeight(what_if_info_->fontMetrics().lineSpacing() * 3);  // its sentence
  auto* bottom = new QHBoxLayout;
  bottom->addWidget(box, 3);
  auto* bbox = new QGroupBox(tr("Bundling on this disk"), this);
  auto* bl = new QVBoxLayout(bbox);
  bundling_ = new BundlingFigure(bbox);
  bl->addWidget(bundling_);
  bottom->addWidget(bbox, 2);
  v->addLayout(bottom, 2);
  connect(replay, &QPushButton::clicked, this, [this] {
    qint64 budget = 0;
    try {
      const QString b = budget_edit_->text().trimmed();
      budget = b.isEmpty() ? 0 : size_parse_bytes(b.toStdString());
    } catch (const Error& e) {
      what_if_info_->setText(QString::fromStdString(e.what()));
      return;
    }
    const QString err = runWhatIf(k_box_->value(), budget);
    if (!err.isEmpty()) what_if_info_->setText(err);
  });
  refreshToken();
}

void TeachingView::showEvent(QShowEvent* e) {
  QWidget::showEvent(e);
  emit recordingChanged(true);
  if (evaluate_->isChecked()) emit evaluationChanged(true);
}

void TeachingView::hideEvent(QHideEvent* e) {
  QWidget::hideEvent(e);
  setPlaying(false);
  setLiveStep(false);  // a closed view must not hold the reply
  if (evaluate_->isChecked()) emit evaluationChanged(false);
  emit recordingChanged(false);
}

void TeachingView::addTelemetry(const TokenTelemetry& t) {
  run_.addTelemetry(t);
  if (current_ >= 0 && current_ < run_.size() && run_.at(current_).index == t.index) refreshToken();
}

void TeachingView::addSample(const ActiveSetsSample& s) {
  const int before = run_.size();
  try {
    run_.addSample(s);
  } catch (const Error& e) {
    title_->setText(QString::fromStdString(e.what()));
    return;
  }
  if (run_.size() < before) current_ = -1;  // a new model: the run started over
  if (!refresh_timer_.isActive()) refresh_timer_.start();
}

void TeachingView::selectToken(int i) {
  if (run_.size() == 0) return;
  i = std::clamp(i, 0, run_.size() - 1);
  current_ = i;
  follow_ = i == run_.size() - 1;
  if (slider_->value() != i) slider_->setValue(i);
  refreshToken();
  refreshPlot();
}

void TeachingView::setLiveStep(bool on) {
  if (live_->isChecked() != on) live_->setChecked(on);
}

void TeachingView::setEvaluate(bool on) {
  if (evaluate_->isChecked() != on) evaluate_->setChecked(on);
}

bool TeachingView::liveStep() const { return live_->isChecked(); }

void TeachingView::enginePaused(int /*generated*/) {
  if (liveStep()) engine_waiting_ = true;
}

void TeachingView::stepForward() {
  if (current_ + 1 < run_.size()) {
    selectToken(current_ + 1);
  } else if (liveStep() && engine_waiting_) {
    engine_waiting_ = false;
    emit engineStepRequested();
  }
}

void TeachingView::setMatrixLayer(int layer) {
  if (layer_box_->value() != layer) {
    layer_box_->setValue(layer);  // comes back here through valueChanged
    return;
  }
  map_->setSelectedLayer(layer);
  refreshToken();
}

void TeachingView::setModelDir(const QString& dir) { bundling_->setModelDir(dir); }

bool TeachingView::selectTokenIndex(qint64 index) {
  for (int i = run_.size() - 1; i >= 0; --i) {
    if (run_.at(i).index == index) {
      selectToken(i);
      return true;
    }
  }
  return false;
}

void TeachingView::setPlaying(bool on) {
  // Replay from the start (a live run continues from where it is).
  if (on && !liveStep() && current_ + 1 >= run_.size()) selectToken(0);
  if (on) {
    play_timer_.start();
  } else {
    play_timer_.stop();
  }
  if (play_->isChecked() != on) play_->setChecked(on);
  play_->setText(on ? tr("❚❚ Pause") : tr("▶ Play"));
}

void TeachingView::refreshToken() {
  const ActiveTraceHeader* h = run_.header();
  if (h) {
    title_->setText(tr("<b>%n tokens recorded</b> since this view opened · %L1 "
                       "layers × %L2 neurons · bundles of %L3 bytes · %4",
                       nullptr, run_.size())
                        .arg(h->layout.n_layers)
                        .arg(h->layout.neurons)
                        .arg(h->layout.bundle_bytes)
                        .arg(h->oracle ? tr("oracle sets") : tr("predicted sets")));
  } else {
    title_->setText(
        tr("<b>Teaching view</b> · records every token's neurons while "
           "it is open (flash models)."));
  }
  map_->setToken(&run_, current_);
  if (h) layer_box_->setMaximum(h->layout.n_layers - 1);
  if (map_->selectedLayer() < 0 && h) map_->setSelectedLayer(layer_box_->value());
  if (current_ < 0 || current_ >= run_.size()) {
    matrix_->clear();
    phases_->setToken(nullptr);
    token_info_->setText(QString());
    return;
  }
  const TeachingToken& t = run_.at(current_);
  const TokenTelemetry& shown = t.has_real ? t.real : t.replica;
  phases_->setToken(t.has_real ? &t.real : nullptr);
  const int layer = layer_box_->value();
  if (layer < int(t.moves.size()) && layer < int(t.replica.layers.size())) {
    const LayerTelemetry& lt = t.replica.layers[size_t(layer)];
    matrix_->setMoves(t.moves[size_t(layer)], lt.cache_rows_used, lt.cache_capacity, layer);
  } else {
    matrix_->clear();
  }
  const TokenChurn c = token_churn(shown);
  token_info_->setText(
      tr("<b>Token %1</b> (%2) · window k = %3, in force %4 · predicted %L5 neurons, "
         "loaded %L6, evicted %L7, streamed %L8 · read %9 in %L10 requests · "
         "%11 ms")
          .arg(current_)
          .arg(t.sets.prompt ? tr("prompt") : tr("generated"))
          .arg(shown.window_requested)
          .arg(shown.window_in_force)
          .arg(c.predicted)
          .arg(c.added)
          .arg(c.removed)
          .arg(c.streamed)
          .arg(bytes_text(double(shown.bytes_read)))
          .arg(shown.read_requests)
          .arg(QLocale().toString(shown.total_ms, 'f', 2)));
}

QString TeachingView::runWhatIf(int window, qint64 budget_bytes) {
  if (run_.size() == 0) return tr("Nothing recorded yet: send a message first.");
  try {
    what_if_ = run_.whatIf(window, budget_bytes);
  } catch (const Error& e) {
    what_if_.clear();
    return QString::fromStdString(e.what());
  }
  double real_b = 0, sim_b = 0, real_n = 0, sim_n = 0, k = 0;
  int n = 0;
  for (int i = 0; i < run_.size() && i < int(what_if_.size()); ++i) {
    const TeachingToken& t = run_.at(i);
    const TokenTelemetry& r = t.has_real ? t.real : t.replica;
    real_b += double(r.bytes_read);
    sim_b += double(what_if_[size_t(i)].bytes_read);
    real_n += double(r.ffn_neurons_loaded);
    sim_n += double(what_if_[size_t(i)].ffn_neurons_loaded);
    k += what_if_[size_t(i)].window_in_force;
    ++n;
  }
  what_if_label_ = QStringLiteral("k = %1, %2")
                       .arg(window)
                       .arg(budget_bytes ? bytes_text(double(budget_bytes)) : tr("unlimited"));
  what_if_info_->setText(
      tr("Over %n tokens: this run read %1/token and loaded %2 neurons/token; with %3 "
         "it would read %4/token, load %5 neurons/token, window in force %6 on "
         "average.",
         nullptr, n)
          .arg(bytes_text(real_b / n))
          .arg(QLocale().toString(real_n / n, 'f', 1))
          .arg(what_if_label_)
          .arg(bytes_text(sim_b / n))
          .arg(QLocale().toString(sim_n / n, 'f', 1))
          .arg(QLocale().toString(k / n, 'f', 2)));
  refreshPlot();
  return {};
}

void TeachingView::refreshPlot() {
  QVector<double> x, real, sim;
  for (int i = 0; i < run_.size(); ++i) {
    const TeachingToken& t = run_.at(i);
    x.push_back(i);
    real.push_back(double((t.has_real ? t.real : t.replica).bytes_read) / 1e3);
    if (i < int(what_if_.size())) sim.push_back(double(what_if_[size_t(i)].bytes_read) / 1e3);
  }
  plot_->graph(0)->setData(x, real);
  plot_->graph(1)->setData(x.mid(0, sim.size()), sim);
  plot_->graph(1)->setName(what_if_label_.isEmpty() ? tr("what-if")
                                                    : tr("what-if: ") + what_if_label_);
  const double at = std::max(0, current_);
  marker_->point1->setCoords(at, 0);
  marker_->point2->setCoords(at, 1);
  plot_->rescaleAxes();
  plot_->xAxis->setRange(0, std::max(1, run_.size() - 1));
  plot_->yAxis->setRangeLower(0);
  plot_->replot();
}

void TeachingView::startTour() {
  tour_step_ = 0;
  tourShow();
}

QStringList TeachingView::tourTargets() {
  QStringList names;
  for (const TourStep& s : kTour) names << QString::fromLatin1(s.target);
  return names;
}

void TeachingView::tourShow() {
  if (tour_step_ < 0 || tour_step_ >= int(std::size(kTour))) {
    tour_step_ = -1;
    if (tour_) tour_->hide();
    return;
  }
  if (!tour_) {
    tour_ = new QWidget(this);
    tour_->setObjectName(QStringLiteral("tourBubble"));
    tour_->setAutoFillBackground(true);
    QPalette p = tour_->palette();
    p.setColor(QPalette::Window, p.color(QPalette::ToolTipBase));
    p.setColor(QPalette::WindowText, p.color(QPalette::ToolTipText));
    tour_->setPalette(p);
    auto* l = new QVBoxLayout(tour_);
    tour_text_ = new QLabel(tour_);
    tour_text_->setWordWrap(true);
    l->addWidget(tour_text_);
    auto* row = new QHBoxLayout;
    auto* skip = new QPushButton(tr("Skip tour"), tour_);
    auto* next = new QPushButton(tr("Next"), tour_);
    row->addWidget(skip);
    row->addStretch(1);
    row->addWidget(next);
    l->addLayout(row);
    connect(skip, &QPushButton::clicked, this, [this] {
      tour_step_ = -1;
      tourShow();
    });
    connect(next, &QPushButton::clicked, this, [this] {
      ++tour_step_;
      tourShow();
    });
  }
  const TourStep& s = kTour[tour_step_];
  tour_text_->setText(QStringLiteral("<b>%1/%2</b> %3")
                          .arg(tour_step_ + 1)
                          .arg(int(std::size(kTour)))
                          .arg(tr(s.text)));
  QWidget* target = findChild<QWidget*>(QString::fromLatin1(s.target));
  const int w = std::min(420, width() - 40);
  tour_->setFixedWidth(w);
  tour_->adjustSize();
  QPoint at(20, 20);
  if (target) {
    const QRect r(target->mapTo(this, QPoint(0, 0)), target->size());
    at = QPoint(std::clamp(r.center().x() - w / 2, 10, width() - w - 10),
                std::clamp(r.top() + 12, 10, height() - tour_->height() - 10));
  }
  tour_->move(at);
  tour_->show();
  tour_->raise();
}

}  // namespace flashchat::ui
