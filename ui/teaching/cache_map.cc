// cache_map.cc - painting and hover of the neuron-cache map.
#include "teaching/cache_map.h"

#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>
#include <array>

#include "common/palette.h"

namespace flashchat::ui {
namespace {

constexpr int kLabelWidth = 64;
constexpr int kLegendHeight = 22;
constexpr int kMinCellPx = 3;
// Which state a bin shows when its neurons differ: what happened this token first.
// A predictor's miss first: it is rare and what evaluation is for.
constexpr std::array<CellState, kCellStateCount> kPriority = {
    CellState::Missed,   CellState::Loaded,            CellState::Evicted, CellState::Streamed,
    CellState::PredictedInactive, CellState::Resident, CellState::Empty};
// Per-neuron predictor scores in a tooltip: at most this many neurons.
constexpr int kScoreLines = 6;

}  // namespace

CacheMap::CacheMap(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setObjectName(QStringLiteral("cacheMap"));
  setAccessibleName(tr("Neuron cache map"));
}

void CacheMap::setToken(const TeachingRun* run, int token) {
  run_ = run;
  token_ = token;
  update();
}

QColor CacheMap::stateColor(CellState s, const QPalette& p) {
  switch (s) {
    case CellState::Loaded: return palette_churn_color(Churn::Added);
    case CellState::Evicted: return palette_churn_color(Churn::Removed);
    case CellState::Streamed: return palette_churn_color(Churn::Streamed);
    case CellState::PredictedInactive: return palette_eval_color(PredictorEval::PredictedInactive);
    case CellState::Missed: return palette_eval_color(PredictorEval::Missed);
    case CellState::Resident: {  // the cache's colour, pale: what stays is the background
      const QColor c = palette_dram_color(DramCategory::NeuronCache), b = p.color(QPalette::Base);
      return QColor((c.red() * 2 + b.red() * 3) / 5, (c.green() * 2 + b.green() * 3) / 5,
                    (c.blue() * 2 + b.blue() * 3) / 5);
    }
    case CellState::Empty: break;
  }
  QColor c = p.color(QPalette::Base);
  return palette_is_dark(p) ? c.lighter(140) : c.darker(108);
}

QString CacheMap::stateName(CellState s) {
  switch (s) {
    case CellState::Loaded: return tr("just loaded");
    case CellState::Evicted: return tr("just evicted");
    case CellState::Streamed: return tr("streamed (no room)");
    case CellState::PredictedInactive: return tr("predicted, not active");
    case CellState::Missed: return tr("missed by the predictor");
    case CellState::Resident: return tr("resident");
    case CellState::Empty: break;
  }
  return tr("on flash only");
}

std::vector<CellState> CacheMap::legendStates() const {
  std::vector<CellState> legend = {CellState::Resident, CellState::Loaded, CellState::Evicted,
                                   CellState::Streamed, CellState::Empty};
  if (run_ && token_ >= 0 && token_ < run_->size() && run_->at(token_).sets.evaluation) {
    legend.push_back(CellState::PredictedInactive);
    legend.push_back(CellState::Missed);
  }
  return legend;
}

// Legend entries left to right, wrapped onto more lines when the width runs out: their
// top-left corners (relative to the legend's first line).
std::vector<QPoint> CacheMap::legendLayout(const std::vector<CellState>& legend) const {
  std::vector<QPoint> at;
  const QFontMetrics fm = fontMetrics();
  int x = kLabelWidth, line = 0;
  for (const CellState s : legend) {
    const int w = 16 + fm.horizontalAdvance(stateName(s)) + 16;
    if (x + w > width() && x > kLabelWidth) {
      x = kLabelWidth;
      ++line;
    }
    at.emplace_back(x, line * kLegendHeight);
    x += w;
  }
  return at;
}

QRect CacheMap::mapRect() const {
  const auto at = legendLayout(legendStates());
  const int lines = at.empty() ? 1 : at.back().y() / kLegendHeight + 1;
  return rect().adjusted(kLabelWidth, 4, -6, -lines * kLegendHeight - 4);
}

int CacheMap::bins() const {
  if (!run_ || !run_->header()) return 0;
  const int neurons = run_->header()->layout.neurons;
  return std::max(1, std::min(neurons, mapRect().width() / kMinCellPx));
}

void CacheMap::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().color(QPalette::Window));
  const QRect r = mapRect();
  if (!run_ || !run_->header() || token_ < 0 || token_ >= run_->size()) {
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap,
               tr("Send a message: every token's neurons appear here, layer by layer."));
    return;
  }
  const FlashLayout& l = run_->header()->layout;
  const TeachingToken& t = run_->at(token_);
  const int nb = bins();
  const double cw = double(r.width()) / nb;
  const double rh = double(r.height()) / l.n_layers;
  for (int layer = 0; layer < l.n_layers; ++layer) {
    const auto& st = t.state[static_cast<size_t>(layer)];
    const int y = r.top() + int(layer * rh);
    const int h = std::max(1, int((layer + 1) * rh) - int(layer * rh) - 1);
    p.setPen(palette().color(QPalette::Text));
    QFont f = font();
    f.setBold(layer == selected_layer_);
    p.setFont(f);
    p.drawText(QRect(0, y, kLabelWidth - 6, h), Qt::AlignRight | Qt::AlignVCenter,
               layer == selected_layer_ ? tr("▸ layer %1").arg(layer) : tr("layer %1").arg(layer));
    p.setFont(font());
    for (int b = 0; b < nb; ++b) {
      const int n0 = int(int64_t(b) * l.neurons / nb), n1 = int(int64_t(b + 1) * l.neurons / nb);
      CellState show = CellState::Empty;
      for (const CellState want : kPriority) {
        bool found = false;
        for (int n = n0; n < n1 && !found; ++n) found = st[static_cast<size_t>(n)] == want;
        if (found) {
          show = want;
          break;
        }
      }
      const int x = r.left() + int(b * cw);
      const int w = std::max(1, int((b + 1) * cw) - int(b * cw));
      p.fillRect(QRect(x, y, w, h), stateColor(show, palette()));
    }
  }
  // Legend.
  const std::vector<CellState> legend = legendStates();
  const std::vector<QPoint> at = legendLayout(legend);
  const int ly = r.bottom() + 5;
  for (size_t i = 0; i < legend.size(); ++i) {
    const int x = at[i].x(), y = ly + at[i].y();
    p.fillRect(QRect(x, y + 5, 12, 12), stateColor(legend[i], palette()));
    p.setPen(palette().color(QPalette::Mid));
    p.drawRect(QRect(x, y + 5, 11, 11));  // so the pale swatches show on any background
    p.setPen(palette().color(QPalette::Text));
    p.drawText(QRect(x + 16, y, 400, kLegendHeight), Qt::AlignLeft | Qt::AlignVCenter,
               stateName(legend[i]));
  }
}

QString CacheMap::cellInfo(int layer, int bin) const {
  if (!run_ || !run_->header() || token_ < 0 || token_ >= run_->size()) return {};
  const FlashLayout& l = run_->header()->layout;
  const int nb = bins();
  if (layer < 0 || layer >= l.n_layers || bin < 0 || bin >= nb) return {};
  const int n0 = int(int64_t(bin) * l.neurons / nb), n1 = int(int64_t(bin + 1) * l.neurons / nb);
  const auto& st = run_->at(token_).state[static_cast<size_t>(layer)];
  std::array<int, kCellStateCount> count{};
  for (int n = n0; n < n1; ++n) ++count[static_cast<size_t>(st[static_cast<size_t>(n)])];
  QString s = (n1 - n0 > 1 ? tr("layer %1, neurons %2–%3\n").arg(layer).arg(n0).arg(n1 - 1)
                           : tr("layer %1, neuron %2\n").arg(layer).arg(n0));
  for (const CellState c : kPriority) {
    if (count[static_cast<size_t>(c)] > 0) {
      s += QStringLiteral("  %1: %L2\n").arg(stateName(c)).arg(count[static_cast<size_t>(c)]);
    }
  }
  const auto& ev = run_->at(token_).sets.evaluation;
  if (ev && !ev->score.empty()) {
    // Predictor score vs the true activation: the neurons that were predicted or active first.
    const auto& score = ev->score[static_cast<size_t>(layer)];
    const auto& act = ev->activation[static_cast<size_t>(layer)];
    const auto& truly = ev->truly_active[static_cast<size_t>(layer)];
    std::vector<int> shown;
    for (int pass = 0; pass < 2; ++pass) {
      for (int n = n0; n < n1 && int(shown.size()) < kScoreLines; ++n) {
        const bool interesting =
            score[static_cast<size_t>(n)] > 0.5f || std::binary_search(truly.begin(), truly.end(), n);
        if (interesting == (pass == 0)) shown.push_back(n);
      }
    }
    std::sort(shown.begin(), shown.end());
    for (const int n : shown) {
      const bool on = std::binary_search(truly.begin(), truly.end(), n);
      s += tr("  neuron %1: predictor score %L2 (%3), true activation %L4 (%5)\n")
               .arg(n)
               .arg(double(score[static_cast<size_t>(n)]), 0, 'f', 2)
               .arg(score[static_cast<size_t>(n)] > 0.5f ? tr("predicted") : tr("not predicted"))
               .arg(double(act[static_cast<size_t>(n)]), 0, 'g', 3)
               .arg(on ? tr("active") : tr("inactive"));
    }
    if (n1 - n0 > int(shown.size())) {
      s += tr("  (%n more neurons in this cell)\n", nullptr, n1 - n0 - int(shown.size()));
    }
  } else if (ev) {
    s += tr("  (scores kept for the last %n tokens only)\n", nullptr, TeachingRun::kEvalValuesKept);
  }
  int last = -1;
  for (int n = n0; n < n1; ++n) last = std::max(last, run_->lastUsed(token_, layer, n));
  s += last < 0 ? tr("last used: not since recording began\n")
                : tr("last used: token %1 (%n tokens ago)\n", nullptr, token_ - last).arg(last);
  s += tr("ffn.bin: offset %L1, %L2 bytes per bundle (gate, up, down)")
           .arg(qulonglong(l.bundle_offset(layer, n0)))
           .arg(l.bundle_bytes);
  return s;
}

void CacheMap::setSelectedLayer(int layer) {
  selected_layer_ = layer;
  update();
}

void CacheMap::mousePressEvent(QMouseEvent* e) {
  const QRect r = mapRect();
  if (!run_ || !run_->header() || e->position().y() < r.top() || e->position().y() >= r.bottom()) return;
  const int layer = int((e->position().y() - r.top()) * run_->header()->layout.n_layers / r.height());
  emit layerClicked(std::clamp(layer, 0, run_->header()->layout.n_layers - 1));
}

void CacheMap::mouseMoveEvent(QMouseEvent* e) {
  const QRect r = mapRect();
  if (!run_ || !run_->header() || !r.contains(e->position().toPoint())) {
    QToolTip::hideText();
    return;
  }
  const int layer = int((e->position().y() - r.top()) * run_->header()->layout.n_layers / r.height());
  const int bin = int((e->position().x() - r.left()) * bins() / r.width());
  QToolTip::showText(e->globalPosition().toPoint(), cellInfo(layer, bin), this);
}

}  // namespace flashchat::ui
