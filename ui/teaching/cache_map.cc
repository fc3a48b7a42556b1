// cache_map.cc - painting and hover of the neuron-cache map.
#include "teaching/cache_map.h"

#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <array>

#include "common/palette.h"

namespace flashchat::ui {
namespace {

constexpr int kLabelWidth = 64;
constexpr int kLegendHeight = 22;
constexpr int kMinCellPx = 3;
// Which state a bin shows when its neurons differ: what happened this token first.
constexpr std::array<CellState, 5> kPriority = {CellState::Loaded, CellState::Evicted,
                                                CellState::Streamed, CellState::Resident,
                                                CellState::Empty};

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
    case CellState::Loaded:
      return tr("just loaded");
    case CellState::Evicted:
      return tr("just evicted");
    case CellState::Streamed:
      return tr("streamed (no room)");
    case CellState::Resident:
      return tr("resident");
    case CellState::Empty: break;
  }
  return tr("on flash only");
}

QRect CacheMap::mapRect() const {
  return rect().adjusted(kLabelWidth, 4, -6, -kLegendHeight - 4);
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
    p.drawText(QRect(0, y, kLabelWidth - 6, h), Qt::AlignRight | Qt::AlignVCenter,
               tr("layer %1").arg(layer));
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
  int x = r.left();
  const int ly = height() - kLegendHeight;
  for (const CellState s : {CellState::Resident, CellState::Loaded, CellState::Evicted,
                            CellState::Streamed, CellState::Empty}) {
    p.fillRect(QRect(x, ly + 5, 12, 12), stateColor(s, palette()));
    p.setPen(palette().color(QPalette::Mid));
    p.drawRect(QRect(x, ly + 5, 11, 11));  // so the pale swatches show on any background
    p.setPen(palette().color(QPalette::Text));
    const QString name = stateName(s);
    p.drawText(QRect(x + 16, ly, 200, kLegendHeight), Qt::AlignLeft | Qt::AlignVCenter, name);
    x += 16 + p.fontMetrics().horizontalAdvance(name) + 16;
  }
}

QString CacheMap::cellInfo(int layer, int bin) const {
  if (!run_ || !run_->header() || token_ < 0 || token_ >= run_->size()) return {};
  const FlashLayout& l = run_->header()->layout;
  const int nb = bins();
  if (layer < 0 || layer >= l.n_layers || bin < 0 || bin >= nb) return {};
  const int n0 = int(int64_t(bin) * l.neurons / nb), n1 = int(int64_t(bin + 1) * l.neurons / nb);
  const auto& st = run_->at(token_).state[static_cast<size_t>(layer)];
  std::array<int, 5> count{};
  for (int n = n0; n < n1; ++n) ++count[static_cast<size_t>(st[static_cast<size_t>(n)])];
  QString s = (n1 - n0 > 1 ? tr("layer %1, neurons %2–%3\n").arg(layer).arg(n0).arg(n1 - 1)
                           : tr("layer %1, neuron %2\n").arg(layer).arg(n0));
  for (const CellState c : kPriority) {
    if (count[static_cast<size_t>(c)] > 0) {
      s += QStringLiteral("  %1: %2\n").arg(stateName(c)).arg(count[static_cast<size_t>(c)]);
    }
  }
  int last = -1;
  for (int n = n0; n < n1; ++n) last = std::max(last, run_->lastUsed(token_, layer, n));
  s += last < 0 ? tr("last used: not since recording began\n")
                : tr("last used: token %1 (%2 ago)\n").arg(last).arg(token_ - last);
  s += tr("ffn.bin: offset %1, %2 bytes per bundle (gate, up, down)")
           .arg(qulonglong(l.bundle_offset(layer, n0)))
           .arg(l.bundle_bytes);
  return s;
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
