// phase_bar.cc - painting one token's phase timeline.
#include "teaching/phase_bar.h"

#include <QPainter>

#include "common/palette.h"

namespace flashchat::ui {

PhaseBar::PhaseBar(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("phaseBar"));
  setAccessibleName(tr("Token phases"));
}

void PhaseBar::setToken(const TokenTelemetry* t) {
  has_ = t != nullptr;
  if (t) t_ = *t;
  update();
}

void PhaseBar::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().color(QPalette::Window));
  p.setPen(palette().color(QPalette::Text));
  if (!has_ || t_.total_ms <= 0) {
    p.drawText(rect(), Qt::AlignCenter, tr("The selected token's phases appear here."));
    return;
  }
  struct Seg {
    TimePart part;
    double ms;
    QString name;
  };
  const Seg segs[] = {
      {TimePart::Predictor, t_.predictor_ms, tr("1 predict")},
      {TimePart::Memory, t_.memory_ms, tr("2 window diff, delete & append")},
      {TimePart::Io, t_.io_ms, tr("3 bundled reads")},
      {TimePart::Compute, t_.compute_ms, tr("4 compute")},
      {TimePart::Sampling, t_.sampling_ms, tr("5 sample")},
  };
  const QRect bar = rect().adjusted(8, 22, -8, -22);
  double x = bar.left();
  const double scale = bar.width() / t_.total_ms;
  const QFontMetrics fm = p.fontMetrics();
  int label_right = bar.left() - 1;
  for (const Seg& s : segs) {
    const double w = std::max(0.0, s.ms) * scale;
    const QRectF r(x, bar.top(), std::max(w, 1.0), bar.height());
    p.fillRect(r, palette_time_color(s.part));
    const QString label = tr("%1 %L2 ms").arg(s.name).arg(s.ms, 0, 'f', 2);
    // Labels above the bar, left to right without overlapping; tiny phases still get theirs.
    // A phase at the very end (sampling) gets its label pulled left, right-aligned.
    const int lx = std::max(label_right + 6,
                            std::min(int(x), width() - 4 - fm.horizontalAdvance(label)));
    if (lx + fm.horizontalAdvance(label) <= width()) {
      p.setPen(palette().color(QPalette::Text));
      p.drawText(QPoint(lx, bar.top() - 6), label);
      label_right = lx + fm.horizontalAdvance(label);
    }
    x += w;
  }
  p.setPen(palette().color(QPalette::PlaceholderText));
  p.drawText(QRect(bar.left(), bar.bottom() + 2, bar.width(), 20), Qt::AlignLeft | Qt::AlignVCenter,
             tr("token %L1 ms; reads hidden behind compute %L2 ms (overlapped, not in the bar)")
                 .arg(t_.total_ms, 0, 'f', 2)
                 .arg(t_.io_hidden_ms, 0, 'f', 2));
}

}  // namespace flashchat::ui
