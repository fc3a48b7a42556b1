// teaching_engine.cc - the teaching view's wiring to the engine bridge: recording while shown,
// telemetry and active sets in, live step mode (pause after every token, one more per Step).
#include "bridge/engine_worker.h"
#include "teaching/teaching_view.h"

namespace flashchat::ui {

void TeachingView::attachEngine(EngineWorker* w) {
  // The setters are thread-safe: called from the GUI thread, they take effect between tokens.
  connect(this, &TeachingView::recordingChanged, w, [w](bool on) { w->setRecordActiveSets(on); },
          Qt::DirectConnection);
  connect(this, &TeachingView::liveStepChanged, w, [w](bool on) { w->setStepMode(on); },
          Qt::DirectConnection);
  connect(this, &TeachingView::evaluationChanged, w, [w](bool on) { w->setEvaluatePredictor(on); },
          Qt::DirectConnection);
  connect(this, &TeachingView::engineStepRequested, w, [w] { w->stepOnce(); },
          Qt::DirectConnection);
  connect(w, &EngineWorker::telemetryReady, this, &TeachingView::addTelemetry);
  connect(w, &EngineWorker::activeSetsReady, this, &TeachingView::addSample);
  connect(w, &EngineWorker::stepPaused, this, &TeachingView::enginePaused);
  connect(w, &EngineWorker::modelLoaded, this,
          [this](const ModelSummary& m) { setModelDir(m.flash ? m.path : QString()); });
}

}  // namespace flashchat::ui
