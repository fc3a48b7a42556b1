// row_matrix.cc - painting and animating one layer's preallocated matrix for one token.
#include "teaching/row_matrix.h"

#include <QPainter>
#include <algorithm>

#include "teaching/cache_map.h"

namespace flashchat::ui {
namespace {

constexpr int kAnimationMs = 2400;  // the whole token's operations
constexpr int kFrameMs = 40;

}  // namespace

RowMatrix::RowMatrix(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("rowMatrix"));
  setAccessibleName(tr("Preallocated matrix of the selected layer"));
  timer_.setInterval(kFrameMs);
  connect(&timer_, &QTimer::timeout, this, [this] {
    // About kAnimationMs per token, whatever its number of operations.
    const int per_frame = std::max(1, moveCount() * kFrameMs / kAnimationMs);
    showStep(std::min(moveCount(), step_ + per_frame));
    if (step_ >= moveCount()) timer_.stop();
  });
}

void RowMatrix::clear() {
  timer_.stop();
  moves_.clear();
  used_before_ = capacity_ = 0;
  layer_ = -1;
  step_ = 0;
  update();
}

void RowMatrix::setMoves(const std::vector<RowMove>& moves, int used_after, int capacity,
                         int layer) {
  moves_ = moves;
  capacity_ = capacity;
  layer_ = layer;
  used_before_ = used_after;
  for (const RowMove& m : moves_) {
    if (m.kind == RowMove::Kind::Append) --used_before_;
    if (m.kind == RowMove::Kind::Move || m.kind == RowMove::Kind::Drop) ++used_before_;
  }
  step_ = 0;
  update();
  if (!moves_.empty()) timer_.start();
}

void RowMatrix::showStep(int step) {
  step_ = std::clamp(step, 0, moveCount());
  update();
}

int RowMatrix::usedAt(int step) const {
  int used = used_before_;
  for (int i = 0; i < std::min(step, moveCount()); ++i) {
    const RowMove::Kind k = moves_[static_cast<size_t>(i)].kind;
    if (k == RowMove::Kind::Append) ++used;
    if (k == RowMove::Kind::Move || k == RowMove::Kind::Drop) --used;
  }
  return used;
}

int RowMatrix::count(RowMove::Kind k) const {
  return static_cast<int>(std::count_if(moves_.begin(), moves_.end(),
                                        [k](const RowMove& m) { return m.kind == k; }));
}

QString RowMatrix::summary() const {
  if (layer_ < 0) return tr("Select a token: its memory management appears here.");
  return tr("Layer %1, rows in use %L2 → %L4 of %L3 · %L5 holes filled by the last row (swap "
            "with last) · %L6 last rows dropped · %L7 replaced in place · %L8 appended")
      .arg(layer_)
      .arg(used_before_)
      .arg(capacity_)
      .arg(usedAt(moveCount()))
      .arg(count(RowMove::Kind::Move))
      .arg(count(RowMove::Kind::Drop))
      .arg(count(RowMove::Kind::Replace))
      .arg(count(RowMove::Kind::Append));
}

void RowMatrix::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().color(QPalette::Window));
  p.setPen(palette().color(QPalette::Text));
  const int caption_height = fontMetrics().lineSpacing() * 3 + 4;  // up to three lines
  const QRect caption(4, 0, width() - 8, caption_height);
  p.drawText(caption, Qt::AlignLeft | Qt::AlignVCenter | Qt::TextWordWrap, summary());
  const int rows = std::max({capacity_, used_before_, usedAt(moveCount()), 1});
  if (layer_ < 0) return;
  // The rows as a grid of cells, row 0 top left, in row order (the matrix wrapped to fit).
  const int key_height = fontMetrics().lineSpacing() + 4;
  const QRect area = rect().adjusted(4, caption_height + 2, -4, -4 - key_height);
  p.setPen(palette().color(QPalette::PlaceholderText));
  p.drawText(QRect(4, height() - key_height, width() - 8, key_height), Qt::AlignLeft | Qt::AlignVCenter,
             tr("a cell per row · pale: kept · green: filled now (framed: in place) · red: deleted"));
  int cols = 1, cell = 1;
  for (int c = 1; c <= rows; ++c) {  // the largest square cell that fits
    const int lines = (rows + c - 1) / c;
    const int s = std::min(area.width() / c, area.height() / std::max(1, lines));
    if (s >= cell) {
      cell = s;
      cols = c;
    }
  }
  cell = std::max(cell, 2);
  auto cell_rect = [&](int row) {
    return QRect(area.left() + (row % cols) * cell, area.top() + (row / cols) * cell,
                 std::max(1, cell - 1), std::max(1, cell - 1));
  };
  // The map's colours: resident pale, a row filled by this token "just loaded", a deleted or
  // evicted row "just evicted", free rows "on flash only"; a row handed over in place keeps an
  // evicted-coloured frame.
  const QColor resident = CacheMap::stateColor(CellState::Resident, palette());
  const QColor appended = CacheMap::stateColor(CellState::Loaded, palette());
  const QColor hole = CacheMap::stateColor(CellState::Evicted, palette());
  const QColor free_row = CacheMap::stateColor(CellState::Empty, palette());
  std::vector<bool> replaced_rows(static_cast<size_t>(rows), false);
  // State after step_ operations: what each row shows.
  std::vector<QColor> color(static_cast<size_t>(rows), free_row);
  for (int r = 0; r < std::min(used_before_, rows); ++r) color[static_cast<size_t>(r)] = resident;
  for (int i = 0; i < step_; ++i) {
    const RowMove& m = moves_[static_cast<size_t>(i)];
    if (m.row < 0 || m.row >= rows) continue;
    switch (m.kind) {
      case RowMove::Kind::Append: color[static_cast<size_t>(m.row)] = appended; break;
      case RowMove::Kind::Replace:
        color[static_cast<size_t>(m.row)] = appended;
        replaced_rows[static_cast<size_t>(m.row)] = true;
        break;
      case RowMove::Kind::Move:
        if (m.from < 0 || m.from >= rows) break;
        color[static_cast<size_t>(m.row)] = color[static_cast<size_t>(m.from)];
        color[static_cast<size_t>(m.from)] = free_row;
        break;
      case RowMove::Kind::Drop: color[static_cast<size_t>(m.row)] = free_row; break;
    }
  }
  for (int r = 0; r < rows; ++r) {
    p.fillRect(cell_rect(r), color[static_cast<size_t>(r)]);
    if (replaced_rows[static_cast<size_t>(r)] && cell >= 6) {
      p.setPen(QPen(hole, 2));
      p.drawRect(cell_rect(r).adjusted(1, 1, -2, -2));
    }
  }
  // The operation in progress: the deleted (or evicted) row as a hole, and for a swap with the
  // last row an arrow from the last row that fills it.
  if (step_ < moveCount()) {
    const RowMove& m = moves_[static_cast<size_t>(step_)];
    if (m.row >= 0 && m.row < rows) {
      if (m.kind != RowMove::Kind::Append) p.fillRect(cell_rect(m.row), hole);
      p.setPen(QPen(palette().color(QPalette::Text), 2));
      p.drawRect(cell_rect(m.row).adjusted(-1, -1, 1, 1));
      if (m.kind == RowMove::Kind::Move && m.from >= 0 && m.from < rows) {
        p.setPen(QPen(palette().color(QPalette::Text), 1.5));
        p.drawLine(cell_rect(m.from).center(), cell_rect(m.row).center());
        p.drawRect(cell_rect(m.from).adjusted(-1, -1, 1, 1));
      }
    }
  }
  if (capacity_ > 0 && capacity_ < rows) {  // rows beyond the capacity (shrunk)
    p.setPen(QPen(palette().color(QPalette::Mid), 1, Qt::DashLine));
    p.drawRect(cell_rect(capacity_));
  }
}

}  // namespace flashchat::ui
