#include "plots/telemetry_row.h"

#include <QCoreApplication>
#include <QPalette>
#include <QStringList>

namespace flashchat::ui {

TelemetryRow telemetry_row_from(const flashchat::TokenTelemetry& t) {
  TelemetryRow r;
  r.index = t.index;
  r.prompt = t.prompt;
  const int64_t dram[kDramCategoryCount] = {t.dram.resident_weights, t.dram.predictors,
                                            t.dram.neuron_cache,     t.dram.kv_cache,
                                            t.dram.io_buffers,       t.dram.other};
  for (int c = 0; c < kDramCategoryCount; ++c) {
    r.dram_mb[c] = double(dram[c]) / kBytesPerMb;
    r.dram_total_mb += r.dram_mb[c];
  }
  r.budget_mb = double(t.budget_bytes) / kBytesPerMb;
  r.rss_above_start_mb = double(t.process_rss_bytes - t.process_base_rss_bytes) / kBytesPerMb;
  for (const flashchat::LayerTelemetry& l : t.layers) {
    r.added += l.neurons_added;
    r.removed += l.neurons_removed;
    r.streamed += l.neurons_streamed;
  }
  r.window_in_force = t.window_in_force;
  r.window_requested = t.window_requested;
  r.read_mb_per_s = t.read_mb_per_s();
  r.bytes_read_mb = double(t.bytes_read) / kBytesPerMb;
  r.time_ms[static_cast<int>(TimePart::Predictor)] = t.predictor_ms;
  r.time_ms[static_cast<int>(TimePart::Io)] = t.io_ms;
  r.time_ms[static_cast<int>(TimePart::Memory)] = t.memory_ms;
  r.time_ms[static_cast<int>(TimePart::Compute)] = t.compute_ms;
  r.time_ms[static_cast<int>(TimePart::Sampling)] = t.sampling_ms;
  r.total_ms = t.total_ms;
  return r;
}

namespace {

QString tr(const char* s) { return QCoreApplication::translate("flashchat::ui::LivePanel", s); }

QString swatch(const QColor& c) {
  return QStringLiteral("<span style=\"color:%1\">&#9632;</span>").arg(c.name());
}

QString mb(double v) { return QString::number(v, 'f', v >= 100 ? 1 : 2); }
QString ms(double v) { return QString::number(v, 'f', v >= 100 ? 1 : (v >= 1 ? 2 : 3)); }

}  // namespace

QString telemetry_row_readout(const TelemetryRow& r, const QPalette& pal) {
  QStringList lines;
  lines << QStringLiteral("<b>%1</b>")
               .arg(r.prompt ? tr("Token %1 (prompt)").arg(r.index)
                             : tr("Token %1").arg(r.index));
  // DRAM
  QStringList dram;
  for (int c = 0; c < kDramCategoryCount; ++c) {
    const auto cat = static_cast<DramCategory>(c);
    dram << swatch(palette_dram_color(cat)) + QStringLiteral("&nbsp;") + palette_dram_name(cat) +
                QStringLiteral("&nbsp;") + mb(r.dram_mb[c]);
  }
  QString budget = r.budget_mb > 0 ? tr("budget %1").arg(mb(r.budget_mb)) : tr("no budget");
  lines << tr("DRAM %1 MB (%2; RSS above start %3): ")
                   .arg(mb(r.dram_total_mb), budget, mb(r.rss_above_start_mb)) +
               dram.join(QStringLiteral(" · "));
  // Churn
  lines << tr("Neurons: %1&nbsp;loaded %2 · %3&nbsp;streamed %4 · %5&nbsp;evicted %6 · "
              "%7&nbsp;window k %8 (asked %9)")
               .arg(swatch(palette_churn_color(Churn::Added)))
               .arg(r.added)
               .arg(swatch(palette_churn_color(Churn::Streamed)))
               .arg(r.streamed)
               .arg(swatch(palette_churn_color(Churn::Removed)))
               .arg(r.removed)
               .arg(swatch(palette_churn_color(Churn::Window)))
               .arg(r.window_in_force)
               .arg(r.window_requested);
  // Read
  lines << tr("Flash read: %1 MB/s (%2 MB)").arg(mb(r.read_mb_per_s), mb(r.bytes_read_mb));
  // Time
  QStringList time;
  for (int p = 0; p < kTimePartCount; ++p) {
    const auto part = static_cast<TimePart>(p);
    time << swatch(palette_time_color(part)) + QStringLiteral("&nbsp;") + palette_time_name(part) +
                QStringLiteral("&nbsp;") + ms(r.time_ms[p]);
  }
  lines << tr("Time %1 ms: ").arg(ms(r.total_ms)) + time.join(QStringLiteral(" · "));
  Q_UNUSED(pal);
  return lines.join(QStringLiteral("<br>"));
}

}  // namespace flashchat::ui
