// engine_controls.h - the run controls above the live plots: window k (1-16), DRAM budget (from
// the mode's minimum to the model's size, in MB and % of the model), mode and thread count.
// Emits the user's changes; the main window passes them to EngineWorker's setters.
#pragma once

#include <QComboBox>
#include <QLabel>
#include <QSlider>
#include <QSpinBox>
#include <QWidget>

#include "bridge/engine_worker.h"

namespace flashchat::ui {

class EngineControls : public QWidget {
  Q_OBJECT
 public:
  explicit EngineControls(QWidget* parent = nullptr);

  // Ranges and values for a freshly loaded model (no signals emitted).
  void setModel(const ModelSummary& m, qint64 budget_bytes, int window, FfnMode mode);
  // Programmatic changes (emit like a user's change): the demo and "Set the minimum".
  void setWindow(int k);
  void setBudget(qint64 bytes);
  void setMode(FfnMode mode);

  int window() const { return window_->value(); }
  qint64 budget() const;
  FfnMode mode() const;
  int threads() const { return threads_->value(); }
  qint64 minimumBudget() const { return model_.minimum_for(mode()); }
  QSlider* windowSlider() const { return window_; }
  QSlider* budgetSlider() const { return budget_; }

 signals:
  void windowChanged(int k);
  void budgetChanged(qint64 bytes);
  void modeChanged(flashchat::FfnMode mode);
  void threadsChanged(int threads);

 private:
  void updateBudgetRange(qint64 keep_bytes);
  void updateLabels();
  qint64 sliderToBytes(int v) const;
  int bytesToSlider(qint64 b) const;

  ModelSummary model_;
  bool loading_ = false;
  QSlider* window_;
  QLabel* window_value_;
  QSlider* budget_;
  QLabel* budget_value_;
  QLabel* budget_detail_;
  QComboBox* mode_;
  QSpinBox* threads_;
};

}  // namespace flashchat::ui
