// run_history_view.h - the run history page: the recorded runs in a table; one selected run is
// redrawn in a LivePanel exactly as it was plotted live (same telemetry, markers at the same
// tokens, the disk limit it was measured against); two selected runs are compared side by side,
// each with its summary, above a table of the per-token figures (A, B, B/A).
#pragma once

#include <QLabel>
#include <QTableView>
#include <QWidget>

#include "history/run_list_model.h"
#include "storage/chat_db.h"

namespace flashchat::ui {

class LivePanel;

// Draws a recorded run into `panel` (cleared first): every token, its markers, its disk limit;
// the window set to the run's length, so the whole run fills the x axis.
void live_panel_replay(LivePanel* panel, const RunRecord& run);

class RunHistoryView : public QWidget {
  Q_OBJECT
 public:
  explicit RunHistoryView(ChatDb* reader, QWidget* parent = nullptr);

  // Reads the run list again (keeps the selection when the runs are still there).
  void refresh();
  // Shows one run / two runs side by side (and selects them in the table). Throw Error when a
  // run cannot be read.
  void showRun(const QString& uid);
  void compareRuns(const QString& a, const QString& b);

  RunListModel* runs() const { return model_; }
  QTableView* table() const { return table_; }
  LivePanel* panel(int i) const { return panels_[i]; }
  QLabel* comparison() const { return comparison_; }
  bool comparing() const { return comparing_; }

 signals:
  void backRequested();

 private:
  void onSelection();
  void showRecords(const RunRecord& a, const RunRecord* b);

  ChatDb* reader_;
  RunListModel* model_;
  QTableView* table_;
  QLabel* hint_;
  QWidget* sides_[2] = {};
  QLabel* titles_[2] = {};
  LivePanel* panels_[2] = {};
  QLabel* comparison_;
  bool comparing_ = false;
  bool selecting_ = false;
};

}  // namespace flashchat::ui
