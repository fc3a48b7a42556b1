// palette.h - the one colour of every plotted quantity (Okabe-Ito, colour-blind safe), defined once.
//
// The same colour means the same thing everywhere in the app: in the stacked DRAM plot, the
// latency split, the churn bars, legends and the teaching view. Related quantities share a hue on
// purpose: predictors (DRAM) and predictor time, I/O buffers and I/O time, neuron cache and
// memory-management time, resident weights and compute. The eight Okabe-Ito colours stay
// distinguishable under deuteranopia, protanopia and tritanopia and read on light and dark
// window backgrounds; reference lines (budget, device limit, RSS) are neutral and dashed, their
// colour taken from the widget palette so they contrast with either background.
#pragma once

#include <QColor>
#include <QPalette>
#include <QPen>
#include <QString>

namespace flashchat::ui {

// DRAM categories, in stacking order (bottom first), as in flashchat::DramBytes.
enum class DramCategory { ResidentWeights, Predictors, NeuronCache, KvCache, IoBuffers, Other };
inline constexpr int kDramCategoryCount = 6;

// Time split of one token, in stacking order (bottom first), as in flashchat::TokenTelemetry.
enum class TimePart { Predictor, Io, Memory, Compute, Sampling };
inline constexpr int kTimePartCount = 5;

// Neuron churn per token.
enum class Churn { Added, Removed, Streamed, Window };
inline constexpr int kChurnCount = 4;

// Neutral reference lines.
enum class RefLine { Budget, DeviceLimit, ProcessRss };

QColor palette_dram_color(DramCategory c);
QColor palette_time_color(TimePart p);
QColor palette_churn_color(Churn c);
// Predictor evaluation in the teaching view's map: predicted but not truly active (a wasted
// load), truly active but not predicted (missed).
enum class PredictorEval { PredictedInactive, Missed };
QColor palette_eval_color(PredictorEval e);
// Neutral: a mid-contrast grey derived from the widget palette's text colour.
QColor palette_ref_color(RefLine r, const QPalette& widget_palette);
// Pen width 1, dashed (budget, device limit) or dash-dotted (process RSS).
QPen palette_ref_pen(RefLine r, const QPalette& widget_palette);

// Short user-facing names ("resident weights", "I/O", ...), translatable.
QString palette_dram_name(DramCategory c);
QString palette_time_name(TimePart p);
QString palette_churn_name(Churn c);
QString palette_ref_name(RefLine r);

// Band behind prompt tokens and the crosshair/marker colour, from the widget palette.
QColor palette_prompt_band_color(const QPalette& widget_palette);
QColor palette_marker_color(const QPalette& widget_palette);
// True when the palette's window colour is dark (lightness < 128).
bool palette_is_dark(const QPalette& widget_palette);

}  // namespace flashchat::ui
