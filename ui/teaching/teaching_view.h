// teaching_view.h - the teaching view: see windowing, bundling and the neuron cache work, token by
// token, on the user's own run.
//
//   - the neuron-cache map (cache_map.h) of the selected token;
//   - step mode over the recorded tokens: play / pause / step / speed and a scrubbable slider,
//     with the token's phases (predict, window difference + delete/append, bundled reads,
//     compute) as an annotated timeline bar;
//   - what-if: the same active sets replayed under another window or budget by the engine's
//     cache simulator, drawn beside the real run (bytes read and neurons loaded per token);
//   - a short guided tour (skippable, re-openable with the Tour button).
// It records only while shown: recordingChanged(true/false) tells the engine bridge to hand over
// the active sets (nothing is recorded or copied while it is closed).
#pragma once

#include <QStringList>
#include <QTimer>
#include <QWidget>

#include "common/active_sets_metatype.h"
#include "teaching/teaching_run.h"

class QCustomPlot;
class QCPItemStraightLine;
class QLabel;
class QPushButton;
class QSlider;
class QSpinBox;
class QComboBox;
class QLineEdit;
class QCheckBox;

namespace flashchat::ui {

class EngineWorker;
class BundlingFigure;
class CacheMap;
class PhaseBar;
class RowMatrix;

class TeachingView : public QWidget {
  Q_OBJECT
 public:
  explicit TeachingView(QWidget* parent = nullptr);
  ~TeachingView() override;

  const TeachingRun& run() const { return run_; }
  int currentToken() const { return current_; }
  CacheMap* cacheMap() const { return map_; }
  RowMatrix* rowMatrix() const { return matrix_; }
  BundlingFigure* bundlingFigure() const { return bundling_; }
  // The layer the memory-management animation shows.
  void setMatrixLayer(int layer);
  // The loaded flash model ("" = none), for the bundling figure.
  void setModelDir(const QString& dir);
  // What-if at (window, budget; 0 = unlimited); returns "" or the reason it cannot run.
  QString runWhatIf(int window, qint64 budget_bytes);
  // The guided tour: step 0.., -1 = closed.
  void startTour();
  int tourStep() const { return tour_step_; }
  // Object names of the widgets the tour's steps point at, in order.
  static QStringList tourTargets();
  // Wires the view to the engine bridge (recording, telemetry, live step mode); call once.
  void attachEngine(EngineWorker* worker);
  // Live step mode: the engine pauses after every token; Step / Play ask it for the next one.
  void setLiveStep(bool on);
  bool liveStep() const;
  bool engineWaiting() const { return engine_waiting_; }
  // "Evaluate the predictor": the engine also computes the true active sets (while shown).
  void setEvaluate(bool on);
  // Step ▶: the next recorded token, or (live, at the last one) one more from the engine.
  void stepForward();

 public slots:
  void addTelemetry(const flashchat::TokenTelemetry& t);
  void addSample(const flashchat::ui::ActiveSetsSample& s);
  void selectToken(int i);
  // Selects the recorded pass with this TokenTelemetry::index; false when it was not recorded.
  bool selectTokenIndex(qint64 index);
  void setPlaying(bool on);
  // The engine paused after `generated` tokens of the reply (live step mode).
  void enginePaused(int generated);

 signals:
  void recordingChanged(bool on);
  void liveStepChanged(bool on);
  void evaluationChanged(bool on);
  void engineStepRequested();

 protected:
  void showEvent(QShowEvent* e) override;
  void hideEvent(QHideEvent* e) override;

 private:
  void buildUi();
  void refreshToken();
  void refreshPlot();
  void tourShow();

  TeachingRun run_;
  int current_ = -1;
  bool follow_ = true;  // jump to new tokens as they come
  std::vector<TokenTelemetry> what_if_;
  QString what_if_label_;
  CacheMap* map_ = nullptr;
  PhaseBar* phases_ = nullptr;
  RowMatrix* matrix_ = nullptr;
  BundlingFigure* bundling_ = nullptr;
  QSpinBox* layer_box_ = nullptr;
  QLabel* title_ = nullptr;
  QLabel* token_info_ = nullptr;
  QLabel* what_if_info_ = nullptr;
  QSlider* slider_ = nullptr;
  QPushButton* play_ = nullptr;
  QComboBox* speed_ = nullptr;
  QSpinBox* k_box_ = nullptr;
  QLineEdit* budget_edit_ = nullptr;
  QCustomPlot* plot_ = nullptr;
  QCPItemStraightLine* marker_ = nullptr;  // the selected token
  QCheckBox* live_ = nullptr;
  QCheckBox* evaluate_ = nullptr;
  bool engine_waiting_ = false;
  QTimer play_timer_;
  QTimer refresh_timer_;  // new tokens redraw at most every 100 ms
  QWidget* tour_ = nullptr;
  QLabel* tour_text_ = nullptr;
  int tour_step_ = -1;
};

}  // namespace flashchat::ui
