// token_cost.cc - a generated token's cost from its run's telemetry.
#include "teaching/token_cost.h"

#include <QCoreApplication>
#include <QToolTip>
#include <QWidget>

#include "core/units.h"
#include "storage/chat_db.h"
#include "teaching/teaching_run.h"
#include "teaching/teaching_view.h"

namespace flashchat::ui {
namespace {

QString tr(const char* s) { return QCoreApplication::translate("flashchat::ui::TokenCost", s); }

}  // namespace

const TokenTelemetry* token_cost_find(const std::vector<TokenTelemetry>& run, int token) {
  if (token < 0) return nullptr;
  int seen = 0;
  for (const TokenTelemetry& t : run) {
    if (t.prompt) continue;
    if (seen++ == token) return &t;
  }
  return nullptr;
}

QString token_cost_text(const TokenTelemetry& t, int token, const QString& word) {
  const TokenChurn c = token_churn(t);
  QString s = tr("<b>“%1”</b> · token %2 of the reply (pass %3, %4 mode)<br>")
                  .arg(word.toHtmlEscaped())
                  .arg(token + 1)
                  .arg(t.index)
                  .arg(QString::fromStdString(t.mode));
  if (!t.layers.empty()) {
    s += tr("Neurons: %1 predicted, %2 loaded from flash, %3 evicted, %4 streamed "
            "(of %5 in the FFN)<br>")
             .arg(c.predicted)
             .arg(c.added)
             .arg(c.removed)
             .arg(c.streamed)
             .arg(t.ffn_neurons_total);
  }
  s += tr("Read %1 in %2 requests · window k = %3 (in force %4)<br>")
           .arg(QString::fromStdString(size_format_bytes(t.bytes_read)))
           .arg(t.read_requests)
           .arg(t.window_requested)
           .arg(t.window_in_force);
  s += tr("Time %1 ms = predictor %2 + I/O %3 + memory %4 + compute %5 + sampling %6 ms")
           .arg(t.total_ms, 0, 'f', 2)
           .arg(t.predictor_ms, 0, 'f', 2)
           .arg(t.io_ms, 0, 'f', 2)
           .arg(t.memory_ms, 0, 'f', 2)
           .arg(t.compute_ms, 0, 'f', 2)
           .arg(t.sampling_ms, 0, 'f', 2);
  return s;
}

qint64 token_cost_show(ChatDb* db, const QString& run_uid, int token, const QString& word,
                       const QPoint& global_pos, QWidget* anchor, TeachingView* teaching) {
  QString text;
  qint64 shown = -1;
  RunRecord r;
  if (db && !run_uid.isEmpty()) r = db->run_load(run_uid);
  if (const TokenTelemetry* t = token_cost_find(r.tokens, token)) {
    text = token_cost_text(*t, token, word);
    shown = t->index;
    if (teaching && teaching->isVisible() && teaching->selectTokenIndex(t->index)) {
      text += tr("<br><i>Shown in the teaching view.</i>");
    }
  } else {
    text = tr("<b>“%1”</b> · token %2 of the reply: no telemetry for it (the reply's last token "
              "runs through the model with the next turn, or the run was not recorded).")
               .arg(word.toHtmlEscaped())
               .arg(token + 1);
  }
  QToolTip::showText(global_pos, text, anchor);
  return shown;
}

}  // namespace flashchat::ui
