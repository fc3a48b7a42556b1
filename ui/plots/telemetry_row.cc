#include "plots/telemetry_row.h"

#include <QCoreApplication>
#include <QLocale>
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
  r.io_hidden_ms = t.io_hidden_ms;
  r.time_ms[static_cast<int>(TimePart::Predictor)] = t.predictor_ms;
  r.time_ms[static_cast<int>(TimePart::Io)] = t.io_ms;
  r.time_ms[static_cast<int>(TimePart::Memory)] = t.memory_ms;
  r.time_ms[static_cast<int>(TimePart::Compute)] = t.compute_ms;
  r.time_ms[static_cast<int>(TimePart::Sampling)] = t.sampling_ms;
  r.total_ms = t.total_ms;
  return r;
}

namespace {

QString swatch(const QColor& c) {
  return QStringLiteral("<span style=\"color:%1\">&#9632;</span>").arg(c.name());
}

QString mb(double v) {
  return QLocale().toString(v, 'f', v >= 100 ? 1 : 2);
}
QString ms(double v) {
  return QLocale().toString(v, 'f', v >= 100 ? 1 : (v >= 1 ? 2 : 3));
}

}  // namespace

QString telemetry_row_readout(const TelemetryRow& r, const QPalette& pal) {
  Q_UNUSED(pal);
  auto item = [](const QColor& c, const QString& text) {
    return swatch(c) + QStringLiteral("&nbsp;") + text;
  };
  QStringList lines;
  lines << QStringLiteral("<b>%1</b>")
               .arg(r.prompt ? QCoreApplication::translate("flashchat::ui::LivePanel",
                                                           "Token %1 (prompt)")
                                   .arg(r.index)
                             : QCoreApplication::translate("flashchat::ui::LivePanel", "Token %1")
                                   .arg(r.index));
  // DRAM: total against the budget, the RSS line, then each category.
  QStringList dram;
  for (int c = 0; c < kDramCategoryCount; ++c) {
    const auto cat = static_cast<DramCategory>(c);
    dram << item(palette_dram_color(cat), palette_dram_name(cat) + QStringLiteral("&nbsp;") +
                                              mb(r.dram_mb[c]));
  }
  const QString budget =
      r.budget_mb > 0 ? QCoreApplication::translate("flashchat::ui::LivePanel", "of %1 MB budget")
                            .arg(mb(r.budget_mb))
                      : QCoreApplication::translate("flashchat::ui::LivePanel", "MB, no budget");
  lines << QCoreApplication::translate("flashchat::ui::LivePanel",
                                       "<b>DRAM</b> %1 %2 · RSS above start %3 MB: ")
                   .arg(mb(r.dram_total_mb), r.budget_mb > 0 ? budget : budget,
                        mb(r.rss_above_start_mb)) +
               dram.join(QStringLiteral(" "));
  // Churn.
  lines << QCoreApplication::translate("flashchat::ui::LivePanel", "<b>Neurons</b> %1 %2 %3 %4")
               .arg(item(palette_churn_color(Churn::Added),
                         QCoreApplication::translate("flashchat::ui::LivePanel", "loaded %1")
                             .arg(r.added)),
                    item(palette_churn_color(Churn::Streamed),
                         QCoreApplication::translate("flashchat::ui::LivePanel", "streamed %1")
                             .arg(r.streamed)),
                    item(palette_churn_color(Churn::Removed),
                         QCoreApplication::translate("flashchat::ui::LivePanel", "evicted %1")
                             .arg(r.removed)),
                    item(palette_churn_color(Churn::Window),
                         QCoreApplication::translate("flashchat::ui::LivePanel",
                                                     "window k %1 (asked %2)")
                             .arg(r.window_in_force)
                             .arg(r.window_requested)));
  // Read.
  lines << QCoreApplication::translate(
               "flashchat::ui::LivePanel",
               "<b>Flash read</b> %1 MB/s (%2 MB; %3 ms of it hidden behind compute)")
               .arg(mb(r.read_mb_per_s), mb(r.bytes_read_mb), ms(r.io_hidden_ms));
  // Time.
  QStringList time;
  for (int p = 0; p < kTimePartCount; ++p) {
    const auto part = static_cast<TimePart>(p);
    time << item(palette_time_color(part), palette_time_name(part) + QStringLiteral("&nbsp;") +
                                               ms(r.time_ms[p]));
  }
  lines << QCoreApplication::translate("flashchat::ui::LivePanel", "<b>Time</b> %1 ms: ")
                   .arg(ms(r.total_ms)) +
               time.join(QStringLiteral(" "));
  return lines.join(QStringLiteral("<br>"));
}

TelemetryRow telemetry_row_widest() {
  TelemetryRow r;
  r.index = 9999999;
  r.prompt = true;
  for (double& v : r.dram_mb) v = 9999.99;
  r.dram_total_mb = r.budget_mb = r.rss_above_start_mb = 99999.9;
  r.added = r.removed = r.streamed = 9999999;
  r.window_in_force = r.window_requested = 16;
  r.read_mb_per_s = r.bytes_read_mb = 99999.9;
  r.io_hidden_ms = 9999.9;
  for (double& v : r.time_ms) v = 9999.9;
  r.total_ms = 99999.9;
  return r;
}

}  // namespace flashchat::ui
