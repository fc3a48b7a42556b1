// phase_bar.h - one token's phases as an annotated timeline: predict, window difference with
// delete (swap with last) and append, bundled reads (the part hidden behind compute drawn
// apart), compute, sampling; each segment as long as its measured time.
#pragma once

#include <QWidget>

#include "runtime/telemetry.h"

namespace flashchat::ui {

class PhaseBar : public QWidget {
  Q_OBJECT
 public:
  explicit PhaseBar(QWidget* parent = nullptr);
  void setToken(const TokenTelemetry* t);  // nullptr: empty
  QSize sizeHint() const override { return {640, 64}; }
  QSize minimumSizeHint() const override { return {320, 64}; }

 protected:
  void paintEvent(QPaintEvent* e) override;

 private:
  bool has_ = false;
  TokenTelemetry t_;
};

}  // namespace flashchat::ui
