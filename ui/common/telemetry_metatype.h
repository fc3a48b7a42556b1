// telemetry_metatype.h - lets flashchat::TokenTelemetry travel through queued signals.
//
// Call telemetry_metatype_register() once (before the first queued connection carrying a
// TokenTelemetry is used, e.g. in main() or the bridge's constructor); it is idempotent.
#pragma once

#include <QMetaType>

#include "runtime/telemetry.h"

Q_DECLARE_METATYPE(flashchat::TokenTelemetry)

namespace flashchat::ui {

// Registers the type with Qt's meta-type system (so queued connections can copy it). Returns
// its meta-type id.
inline int telemetry_metatype_register() {
  return qRegisterMetaType<flashchat::TokenTelemetry>("flashchat::TokenTelemetry");
}

}  // namespace flashchat::ui
