// active_sets_metatype.h - one token's per-layer active sets, as queued signals carry them to the
// teaching view (only while it asks for them: EngineWorker::setRecordActiveSets).
#pragma once

#include <QMetaType>
#include <memory>

#include "runtime/active_trace.h"

namespace flashchat::ui {

struct ActiveSetsSample {
  qint64 index = -1;  // the TokenTelemetry::index of the same forward pass
  std::shared_ptr<const ActiveTraceHeader> header;  // the run's layout and I/O (shared)
  ActiveTraceToken token;
};

inline int active_sets_metatype_register() {
  return qRegisterMetaType<ActiveSetsSample>("flashchat::ui::ActiveSetsSample");
}

}  // namespace flashchat::ui

Q_DECLARE_METATYPE(flashchat::ui::ActiveSetsSample)
