// row_matrix.h - the paper's preallocated matrix of one layer, animated for one token: the
// cache's rows as cells in row order, then the token's memory management one operation at a
// time as the engine's planner did it (NeuronCache's move log, replayed by the view's replica):
// a deleted row's hole filled by the last used row (swap with last), a last row dropped, an
// evicted row handed to a new neuron in place (the LRU policy under a budget), new rows
// appended after the last used one.
#pragma once

#include <QTimer>
#include <QWidget>
#include <vector>

#include "runtime/neuron_cache.h"

namespace flashchat::ui {

class RowMatrix : public QWidget {
  Q_OBJECT
 public:
  explicit RowMatrix(QWidget* parent = nullptr);
  // The layer's moves for one token, its rows in use after it and its capacity; starts the
  // animation from the rows in use before the token. moves may be empty.
  void setMoves(const std::vector<RowMove>& moves, int used_after, int capacity, int layer);
  void clear();
  // Jumps to the state after `step` operations (0 = before the token, moveCount() = after).
  void showStep(int step);
  int step() const { return step_; }
  int moveCount() const { return static_cast<int>(moves_.size()); }
  // Rows in use before the token and after `step` operations.
  int usedBefore() const { return used_before_; }
  int usedAt(int step) const;
  // Operations of each kind in the token (Append, Replace, Move, Drop).
  int count(RowMove::Kind k) const;
  // The caption: what the token did to the layer's matrix, in words.
  QString summary() const;
  QSize sizeHint() const override { return {360, 150}; }
  QSize minimumSizeHint() const override { return {220, 110}; }

 protected:
  void paintEvent(QPaintEvent* e) override;

 private:
  std::vector<RowMove> moves_;
  int used_before_ = 0, capacity_ = 0, layer_ = -1;
  int step_ = 0;
  QTimer timer_;
};

}  // namespace flashchat::ui
