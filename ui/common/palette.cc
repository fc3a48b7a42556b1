#include "common/palette.h"

#include <QCoreApplication>

namespace flashchat::ui {

namespace {

// Okabe & Ito (2008), "Color Universal Design".
const QColor kBlack(0x00, 0x00, 0x00);
const QColor kOrange(0xE6, 0x9F, 0x00);
const QColor kSkyBlue(0x56, 0xB4, 0xE9);
const QColor kBluishGreen(0x00, 0x9E, 0x73);
const QColor kYellow(0xF0, 0xE4, 0x42);
const QColor kBlue(0x00, 0x72, 0xB2);
const QColor kVermillion(0xD5, 0x5E, 0x00);
const QColor kReddishPurple(0xCC, 0x79, 0xA7);
const QColor kGrey(0x99, 0x99, 0x99);  // "other": the neutral eighth

}  // namespace

QColor palette_dram_color(DramCategory c) {
  switch (c) {
    case DramCategory::ResidentWeights: return kBlue;
    case DramCategory::Predictors: return kReddishPurple;
    case DramCategory::NeuronCache: return kBluishGreen;
    case DramCategory::KvCache: return kOrange;
    case DramCategory::IoBuffers: return kSkyBlue;
    case DramCategory::Other: return kGrey;
  }
  return kGrey;
}

QColor palette_time_color(TimePart p) {
  switch (p) {
    case TimePart::Predictor: return kReddishPurple;  // as the predictors' DRAM
    case TimePart::Io: return kSkyBlue;               // as the I/O buffers
    case TimePart::Memory: return kBluishGreen;       // managing the neuron cache
    case TimePart::Compute: return kBlue;             // as the resident weights it mostly uses
    case TimePart::Sampling: return kYellow;
  }
  return kGrey;
}

QColor palette_eval_color(PredictorEval e) {
  return e == PredictorEval::Missed ? kReddishPurple  // as the predictor's time and DRAM
                                    : kYellow;
}

QColor palette_churn_color(Churn c) {
  switch (c) {
    case Churn::Added: return kBluishGreen;    // enters the neuron cache
    case Churn::Removed: return kVermillion;   // leaves it
    case Churn::Streamed: return kSkyBlue;     // through the I/O buffer, not cached
    case Churn::Window: return kOrange;
  }
  return kGrey;
}

bool palette_is_dark(const QPalette& widget_palette) {
  return widget_palette.color(QPalette::Window).lightness() < 128;
}

QColor palette_ref_color(RefLine r, const QPalette& widget_palette) {
  const bool dark = palette_is_dark(widget_palette);
  switch (r) {
    case RefLine::Budget:
    case RefLine::DeviceLimit: return dark ? QColor(0xE0, 0xE0, 0xE0) : QColor(0x30, 0x30, 0x30);
    case RefLine::ProcessRss: return dark ? QColor(0xB0, 0xB0, 0xB0) : QColor(0x60, 0x60, 0x60);
  }
  return kGrey;
}

QPen palette_ref_pen(RefLine r, const QPalette& widget_palette) {
  QPen pen(palette_ref_color(r, widget_palette), 1);
  pen.setStyle(r == RefLine::ProcessRss ? Qt::DashDotLine : Qt::DashLine);
  return pen;
}

QString palette_dram_name(DramCategory c) {
  switch (c) {
    case DramCategory::ResidentWeights:
      return QCoreApplication::translate("flashchat::ui::Palette", "resident weights");
    case DramCategory::Predictors:
      return QCoreApplication::translate("flashchat::ui::Palette", "predictors");
    case DramCategory::NeuronCache:
      return QCoreApplication::translate("flashchat::ui::Palette", "neuron cache");
    case DramCategory::KvCache:
      return QCoreApplication::translate("flashchat::ui::Palette", "KV cache");
    case DramCategory::IoBuffers:
      return QCoreApplication::translate("flashchat::ui::Palette", "I/O buffers");
    case DramCategory::Other:
      return QCoreApplication::translate("flashchat::ui::Palette", "other");
  }
  return {};
}

QString palette_time_name(TimePart p) {
  switch (p) {
    case TimePart::Predictor:
      return QCoreApplication::translate("flashchat::ui::Palette", "predictor");
    case TimePart::Io:
      return QCoreApplication::translate("flashchat::ui::Palette", "I/O");
    case TimePart::Memory:
      return QCoreApplication::translate("flashchat::ui::Palette", "memory mgmt");
    case TimePart::Compute:
      return QCoreApplication::translate("flashchat::ui::Palette", "compute");
    case TimePart::Sampling:
      return QCoreApplication::translate("flashchat::ui::Palette", "sampling");
  }
  return {};
}

QString palette_churn_name(Churn c) {
  switch (c) {
    case Churn::Added:
      return QCoreApplication::translate("flashchat::ui::Palette", "loaded");
    case Churn::Removed:
      return QCoreApplication::translate("flashchat::ui::Palette", "evicted");
    case Churn::Streamed:
      return QCoreApplication::translate("flashchat::ui::Palette", "streamed");
    case Churn::Window:
      return QCoreApplication::translate("flashchat::ui::Palette", "window k");
  }
  return {};
}

QString palette_ref_name(RefLine r) {
  switch (r) {
    case RefLine::Budget:
      return QCoreApplication::translate("flashchat::ui::Palette", "budget");
    case RefLine::DeviceLimit:
      return QCoreApplication::translate("flashchat::ui::Palette", "device limit");
    case RefLine::ProcessRss:
      return QCoreApplication::translate("flashchat::ui::Palette",
                                         "process RSS above start (GUI included)");
  }
  return {};
}

QColor palette_prompt_band_color(const QPalette& widget_palette) {
  // Opaque, a few steps off the plot background: visible, never louder than the data.
  const QColor base = widget_palette.color(QPalette::Base);
  return palette_is_dark(widget_palette) ? base.lighter(140) : base.darker(108);
}

QColor palette_marker_color(const QPalette& widget_palette) {
  return widget_palette.color(QPalette::Text);
}

}  // namespace flashchat::ui
