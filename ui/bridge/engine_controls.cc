#include "bridge/engine_controls.h"

#include <QGridLayout>
#include <QLocale>
#include <QThread>
#include <algorithm>

namespace flashchat::ui {

namespace {
constexpr int kBudgetSteps = 1000;
constexpr FfnMode kModes[] = {FfnMode::Flash, FfnMode::Mmap, FfnMode::Naive, FfnMode::Dram};
}  // namespace

EngineControls::EngineControls(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("engineControls"));
  auto* g = new QGridLayout(this);
  g->setContentsMargins(8, 8, 8, 4);
  g->setHorizontalSpacing(8);
  g->setVerticalSpacing(4);
  g->setColumnStretch(1, 1);

  auto* wl = new QLabel(tr("Window &k"), this);
  window_ = new QSlider(Qt::Horizontal, this);
  window_->setRange(1, 16);
  window_->setPageStep(1);
  window_->setTickPosition(QSlider::TicksBelow);
  window_->setToolTip(tr("Keep the neurons of the last k tokens in DRAM"));
  wl->setBuddy(window_);
  window_value_ = new QLabel(this);
  window_value_->setMinimumWidth(fontMetrics().horizontalAdvance(tr("%n tokens", nullptr, 16)));
  g->addWidget(wl, 0, 0);
  g->addWidget(window_, 0, 1);
  g->addWidget(window_value_, 0, 2);

  auto* bl = new QLabel(tr("&Budget"), this);
  budget_ = new QSlider(Qt::Horizontal, this);
  budget_->setRange(0, kBudgetSteps);
  budget_->setPageStep(kBudgetSteps / 20);
  budget_->setToolTip(tr("DRAM the engine may use; cannot go below the mode's minimum"));
  bl->setBuddy(budget_);
  budget_value_ = new QLabel(this);
  budget_value_->setMinimumWidth(fontMetrics().horizontalAdvance(QStringLiteral("000.0 MB")));
  budget_detail_ = new QLabel(this);
  budget_detail_->setProperty("dim", true);
  g->addWidget(bl, 1, 0);
  g->addWidget(budget_, 1, 1);
  g->addWidget(budget_value_, 1, 2);
  g->addWidget(budget_detail_, 2, 1, 1, 2);

  auto* ml = new QLabel(tr("&Mode"), this);
  mode_ = new QComboBox(this);
  for (FfnMode m : kModes) mode_->addItem(QString::fromLatin1(ffn_mode_name(m)), static_cast<int>(m));
  mode_->setToolTip(
      tr("flash: predicted neurons from disk with a windowed cache; "
         "mmap: page cache; naive: read every neuron; dram: all in memory"));
  ml->setBuddy(mode_);
  auto* tl = new QLabel(tr("&Threads"), this);
  threads_ = new QSpinBox(this);
  threads_->setRange(1, std::max(1, QThread::idealThreadCount()));
  threads_->setValue(threads_->maximum());
  tl->setBuddy(threads_);
  auto* row = new QHBoxLayout;
  row->addWidget(mode_, 1);
  row->addSpacing(12);
  row->addWidget(tl);
  row->addWidget(threads_);
  g->addWidget(ml, 3, 0);
  g->addLayout(row, 3, 1, 1, 2);

  connect(window_, &QSlider::valueChanged, this, [this](int k) {
    updateLabels();
    if (!loading_) emit windowChanged(k);
  });
  connect(budget_, &QSlider::valueChanged, this, [this] {
    updateLabels();
    if (!loading_) emit budgetChanged(budget());
  });
  connect(mode_, &QComboBox::currentIndexChanged, this, [this] {
    const qint64 keep = std::max(budget(), model_.minimum_for(mode()));
    const bool was = loading_;
    loading_ = true;
    updateBudgetRange(keep);
    loading_ = was;
    updateLabels();
    if (!loading_) {
      emit budgetChanged(budget());
      emit modeChanged(mode());
    }
  });
  connect(threads_, &QSpinBox::valueChanged, this, [this](int n) {
    if (!loading_) emit threadsChanged(n);
  });
  setEnabled(false);
}

qint64 EngineControls::sliderToBytes(int v) const {
  const qint64 lo = model_.minimum_for(mode());
  const qint64 hi = std::max(lo, model_.model_bytes);
  return lo + (hi - lo) * v / kBudgetSteps;
}

int EngineControls::bytesToSlider(qint64 b) const {
  const qint64 lo = model_.minimum_for(mode());
  const qint64 hi = std::max(lo, model_.model_bytes);
  if (hi <= lo) return kBudgetSteps;
  // Round up so that the slider never shows less than the budget asked for.
  return static_cast<int>(std::clamp<qint64>((( b - lo) * kBudgetSteps + (hi - lo) - 1) / (hi - lo), 0, kBudgetSteps));
}

qint64 EngineControls::budget() const { return sliderToBytes(budget_->value()); }

FfnMode EngineControls::mode() const {
  return static_cast<FfnMode>(mode_->currentData().toInt());
}

void EngineControls::updateBudgetRange(qint64 keep_bytes) {
  budget_->setValue(bytesToSlider(keep_bytes));
}

void EngineControls::updateLabels() {
  window_value_->setText(tr("%n tokens", nullptr, window()));
  const qint64 b = budget();
  budget_value_->setText(bytes_text(b));
  const double pct = model_.model_bytes > 0 ? 100.0 * b / model_.model_bytes : 0;
  budget_detail_->setText(tr("%1% of the %2 model · minimum %3")
                              .arg(QLocale().toString(pct, 'f', 0), bytes_text(model_.model_bytes),
                                   bytes_text(model_.minimum_for(mode()))));
  window_->setEnabled(model_.flash && mode() == FfnMode::Flash);
  budget_->setEnabled(model_.flash);
}

void EngineControls::setModel(const ModelSummary& m, qint64 budget_bytes, int window, FfnMode mode) {
  loading_ = true;
  model_ = m;
  setEnabled(true);
  window_->setValue(std::clamp(window, 1, 16));
  const int idx = mode_->findData(static_cast<int>(mode));
  mode_->setCurrentIndex(idx < 0 ? 0 : idx);
  mode_->setEnabled(m.flash);
  updateBudgetRange(budget_bytes > 0 ? budget_bytes : m.model_bytes);
  updateLabels();
  loading_ = false;
}

void EngineControls::setWindow(int k) { window_->setValue(k); }
void EngineControls::setBudget(qint64 bytes) { budget_->setValue(bytesToSlider(bytes)); }
void EngineControls::setMode(FfnMode m) {
  const int idx = mode_->findData(static_cast<int>(m));
  if (idx >= 0) mode_->setCurrentIndex(idx);
}

}  // namespace flashchat::ui
