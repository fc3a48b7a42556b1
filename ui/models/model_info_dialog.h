// model_info_dialog.h - what the loaded model is: architecture, parameters, bytes by part,
// minimum DRAM budget per mode, predictor recall and precision per layer.
#pragma once

#include <QDialog>

#include "bridge/engine_worker.h"

namespace flashchat::ui {

class ModelInfoDialog : public QDialog {
  Q_OBJECT
 public:
  explicit ModelInfoDialog(const ModelSummary& m, QWidget* parent = nullptr);
};

// The same facts as plain text (also used by the tests).
QString model_info_text(const ModelSummary& m);

}  // namespace flashchat::ui
