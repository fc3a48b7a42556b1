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
  QString s =
      QCoreApplication::translate("flashchat::ui::TokenCost",
                                  "<b>“%1”</b> · token %2 of the reply (pass %3, %4 mode)<br>")
          .arg(word.toHtmlEscaped())
          .arg(token + 1)
          .arg(t.index)
          .arg(QString::fromStdString(t.mode));
  if (!t.layers.empty()) {
    s += QCoreApplication::translate("flashchat::ui::TokenCost",
                                     "Neurons: %L1 predicted, %L2 loaded from flash, %L3 evicted, "
                                     "%L4 streamed (of %L5 in the FFN)<br>")
             .arg(c.predicted)
             .arg(c.added)
             .arg(c.removed)
             .arg(c.streamed)
             .arg(t.ffn_neurons_total);
  }
  s += QCoreApplication::translate("flashchat::ui::TokenCost",
                                   "Read %1 in %n requests · window k = %2 (in force %3)<br>",
                                   nullptr, t.read_requests)
           .arg(QString::fromStdString(size_format_bytes(t.bytes_read)))
           .arg(t.window_requested)
           .arg(t.window_in_force);
  s += QCoreApplication::translate("flashchat::ui::TokenCost",
                                   "Time %L1 ms = predictor %L2 + I/O %L3 + memory %L4 + compute "
                                   "%L5 + sampling %L6 ms")
           .arg(t.total_ms, 0, 'f', 2)
           .arg(t.predictor_ms, 0, 'f', 2)
           .arg(t.io_ms, 0, 'f', 2)
           .arg(t.memory_ms, 0, 'f', 2)
           .arg(t.compute_ms, 0, 'f', 2)
           .arg(t.sampling_ms, 0, 'f', 2);
  return s;
}

QString token_cost_popup(const TokenTelemetry* t, int token, const QString& word,
                         bool in_teaching_view) {
  if (!t) {
    return QCoreApplication::translate(
               "flashchat::ui::TokenCost",
               "<b>“%1”</b> · token %2 of the reply: no telemetry for it (the reply's last token "
               "runs through the model with the next turn, or the run was not recorded).")
        .arg(word.toHtmlEscaped())
        .arg(token + 1);
  }
  QString text = token_cost_text(*t, token, word);
  if (in_teaching_view) {
    text += QCoreApplication::translate("flashchat::ui::TokenCost",
                                        "<br><i>Shown in the teaching view.</i>");
  }
  // One line per topic: a tooltip would otherwise wrap rich text at a narrow guessed width.
  return QStringLiteral("<p style=\"white-space:nowrap\">") + text + QStringLiteral("</p>");
}

qint64 token_cost_show(ChatDb* db, const QString& run_uid, int token, const QString& word,
                       const QPoint& global_pos, QWidget* anchor, TeachingView* teaching) {
  RunRecord r;
  if (db && !run_uid.isEmpty()) r = db->run_load(run_uid);
  const TokenTelemetry* t = token_cost_find(r.tokens, token);
  const bool in_teaching_view =
      t && teaching && teaching->isVisible() && teaching->selectTokenIndex(t->index);
  QToolTip::showText(global_pos, token_cost_popup(t, token, word, in_teaching_view), anchor);
  return t ? t->index : -1;
}

}  // namespace flashchat::ui
