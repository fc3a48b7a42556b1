// token_cost.h - "click a word in the chat": what the generated token under it cost, from the
// per-token telemetry the run recorded (neurons predicted, loaded, evicted, streamed, bytes
// read, time split), shown as a popup beside the word.
#pragma once

#include <QPoint>
#include <QString>
#include <vector>

#include "runtime/telemetry.h"

class QWidget;

namespace flashchat::ui {

class ChatDb;
class TeachingView;

// The forward pass of generated token `token` (0-based) of a run: the run's telemetry holds the
// prompt blocks, then one pass per generated token fed to the model (the reply's last token
// may not have been: it enters the context with the next turn). nullptr when there is none.
const TokenTelemetry* token_cost_find(const std::vector<TokenTelemetry>& run, int token);

// The popup's text (rich text) for `word`, generated token `token`, cost `t`.
QString token_cost_text(const TokenTelemetry& t, int token, const QString& word);

// The whole popup (rich text): `t`'s cost, one line per topic, with a note when the teaching
// view shows that pass (`in_teaching_view`); without `t`, why there is no cost to show.
QString token_cost_popup(const TokenTelemetry* t, int token, const QString& word,
                         bool in_teaching_view);

// Loads the run from `db`, shows the popup at `global_pos` and, when the teaching view is open
// and recorded that pass, selects it there. Returns the telemetry index shown, or -1 (the popup
// then says why).
qint64 token_cost_show(ChatDb* db, const QString& run_uid, int token, const QString& word,
                       const QPoint& global_pos, QWidget* anchor, TeachingView* teaching);

}  // namespace flashchat::ui
