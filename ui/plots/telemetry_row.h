// telemetry_row.h - one token's plotted numbers, taken from a TokenTelemetry, and their readout.
//
// Bytes become MB (10^6 bytes), per-layer churn is summed over layers; nothing is estimated.
#pragma once

#include <QString>
#include <QtGlobal>

#include "common/palette.h"
#include "runtime/telemetry.h"

namespace flashchat::ui {

struct TelemetryRow {
  qint64 index = 0;
  bool prompt = false;
  double dram_mb[kDramCategoryCount] = {};  // DramCategory order
  double dram_total_mb = 0;
  double budget_mb = 0;                     // 0 = unlimited
  double rss_above_start_mb = 0;            // process_rss_bytes - process_base_rss_bytes
  qint64 added = 0, removed = 0, streamed = 0;  // summed over layers
  int window_in_force = 0;
  int window_requested = 0;
  double read_mb_per_s = 0;
  double bytes_read_mb = 0;
  double io_hidden_ms = 0;  // reads in flight while the FFN computed (not in total_ms)
  double time_ms[kTimePartCount] = {};      // TimePart order
  double total_ms = 0;
};

inline constexpr double kBytesPerMb = 1e6;

TelemetryRow telemetry_row_from(const flashchat::TokenTelemetry& t);

// Rich text (HTML) for the readout line: the token and, per plot, its values with units and a
// colour swatch per quantity.
QString telemetry_row_readout(const TelemetryRow& r, const QPalette& widget_palette);

// A row whose readout is as long as readouts get (for sizing the readout once per width).
TelemetryRow telemetry_row_widest();

}  // namespace flashchat::ui
