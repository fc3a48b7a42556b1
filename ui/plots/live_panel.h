// live_panel.h - the live memory panel: four stacked QCustomPlot plots on one shared token axis.
//
//   DRAM occupancy   stacked areas by DramBytes category (MB), budget (dashed), process RSS above
//                    its pre-load baseline (dash-dot)
//   neuron churn     per token, summed over layers: loaded (bars up), streamed (stacked on
//                    loaded), evicted (bars down, mirrored); window k in force (right axis)
//   flash read       read_mb_per_s() per token (MB/s), device limit as a dashed reference line
//   latency          per token: predictor, I/O, memory management, compute, sampling (stacked
//                    bars, ms)
//
// Every plotted number is a TokenTelemetry field (bytes shown as MB = 10^6 bytes). Data are
// appended to the plots' containers and trimmed to a rolling window of the last N tokens
// (removeBefore); the plot is redrawn by a single-shot timer at most every 33 ms (<= 30 Hz),
// only when something changed, and no sooner than the last redraw's cost / 2.5% after it (so
// redrawing never takes more than ~2.5% of the GUI thread, whatever the token rate). Prompt tokens sit on a shaded band. A crosshair (mouse hover)
// shows one token's exact values for all four plots in the readout line below the plots; without
// hover the readout shows the newest token. GUI thread only.
#pragma once

#include <QString>
#include <QElapsedTimer>
#include <QTimer>
#include <QVector>
#include <QWidget>
#include <deque>
#include <vector>

#include "common/palette.h"
#include "plots/telemetry_row.h"
#include "runtime/telemetry.h"

class QCustomPlot;
class QCPAxisRect;
class QCPGraph;
class QCPBars;
class QCPLegend;
class QCPItemStraightLine;
class QCPItemText;
class QCPItemRect;
class QLabel;
class QMouseEvent;
class QResizeEvent;

namespace flashchat::ui {

class LivePanel : public QWidget {
  Q_OBJECT

 public:
  // Plot indices, top to bottom.
  enum Plot { DramPlot = 0, ChurnPlot = 1, ReadPlot = 2, LatencyPlot = 3 };
  static constexpr int kPlotCount = 4;
  static constexpr int kDefaultWindowTokens = 256;
  static constexpr int kReplotIntervalMs = 33;  // <= 30 Hz

  explicit LivePanel(QWidget* parent = nullptr);
  ~LivePanel() override;

  // A token whose index is not above the newest one held starts a new run (as clear() would).
  void appendTelemetry(const flashchat::TokenTelemetry& t);  // one token; x = t.index
  void addMarker(qint64 tokenIndex, const QString& label);   // vertical marker on every plot
  void setDeviceReadLimit(double mbPerS);                    // reference line (<= 0 hides)
  void clear();                                              // a new run
  // Paused: the view stays (and can be dragged/zoomed along x), tokens keep being collected
  // (up to 8 windows); resuming trims to the window and follows the newest token again.
  void setPaused(bool paused);
  bool isPaused() const { return paused_; }

  // Rolling window: the last `tokens` tokens are kept and shown (>= 8).
  void setWindowTokens(int tokens);
  int windowTokens() const { return window_tokens_; }
  double deviceReadLimit() const { return device_limit_mb_per_s_; }

  // Read access for tests and the bench. Series hold, per key (token index):
  //   dramGraph(c)   cumulative MB of categories 0..c (the stacked area's top edge)
  //   budgetGraph    budget_bytes / 1e6, rssGraph (process_rss - process_base_rss) / 1e6
  //   churnBars      Added: sum neurons_added, Streamed: sum neurons_streamed,
  //                  Removed: -sum neurons_removed; windowGraph: window_in_force
  //   readGraph      read_mb_per_s(); timeBars(p): that part's ms
  QCustomPlot* plot() const { return plot_; }
  QCPAxisRect* axisRect(int plot) const { return rects_[plot]; }
  QCPGraph* dramGraph(DramCategory c) const { return dram_[static_cast<int>(c)]; }
  QCPGraph* budgetGraph() const { return budget_; }
  QCPGraph* rssGraph() const { return rss_; }
  QCPBars* churnBars(Churn c) const;  // Added, Removed, Streamed (nullptr for Window)
  QCPGraph* windowGraph() const { return window_; }
  QCPGraph* readGraph() const { return read_; }
  QCPItemStraightLine* deviceLimitLine() const { return limit_line_; }
  QCPBars* timeBars(TimePart p) const { return time_[static_cast<int>(p)]; }
  // Keys of the marker lines drawn on `plot` (read back from the plot's items).
  QVector<double> markerKeys(int plot) const;
  // Keys covered by the prompt-token bands on `plot` (read back from the plot's items).
  QVector<double> promptBandKeys(int plot) const;
  // Token indices held (oldest first), and the readout text for one of them ("" if not held).
  QVector<qint64> tokenIndices() const;
  QString readoutText(qint64 tokenIndex) const;
  QString readoutShown() const;  // what the readout line shows now
  // Moves the crosshair to a token as a hover would (tests, keyboard); -1 hides it.
  void setCrosshair(qint64 tokenIndex);
  bool isEmptyStateVisible() const;
  int replotCount() const { return replot_count_; }
  // Wall time of the replots so far (ranges, readout, QCustomPlot::replot), ms.
  double replotMsTotal() const { return replot_ms_total_; }
  bool replotPending() const { return replot_timer_.isActive(); }

 protected:
  void changeEvent(QEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  struct Marker {
    qint64 index = 0;
    QString label;
    std::vector<QCPItemStraightLine*> lines;  // one per plot
    QCPItemText* text = nullptr;              // on the top plot
    int row = 0;                              // label row (0-2) below the plot's top
  };
  struct Band {
    qint64 first = 0, last = 0;              // prompt tokens covered
    std::vector<QCPItemRect*> rects;         // one per plot
  };

  void build_plots();
  void apply_palette();
  void schedule_replot();
  void replot_now();
  void update_ranges();
  void trim();
  void extend_prompt_band(qint64 index);
  void remove_marker_items(Marker& m);
  void remove_band_items(Band& b);
  void set_empty_state(bool visible);
  void on_mouse_move(QMouseEvent* event);
  void update_readout();
  void readout_height_update();
  const TelemetryRow* row_for(qint64 index) const;

  QCustomPlot* plot_ = nullptr;
  QLabel* readout_ = nullptr;
  QCPAxisRect* rects_[kPlotCount] = {};
  QCPLegend* legends_[kPlotCount] = {};
  QCPItemText* empty_text_[kPlotCount] = {};
  QCPItemStraightLine* crosshair_[kPlotCount] = {};
  QCPGraph* dram_[kDramCategoryCount] = {};
  QCPGraph* budget_ = nullptr;
  QCPGraph* rss_ = nullptr;
  QCPBars* added_ = nullptr;
  QCPBars* streamed_ = nullptr;
  QCPBars* removed_ = nullptr;
  QCPGraph* window_ = nullptr;
  QCPGraph* read_ = nullptr;
  QCPGraph* limit_legend_ = nullptr;  // empty graph: the limit's legend entry
  QCPItemStraightLine* limit_line_ = nullptr;
  QCPBars* time_[kTimePartCount] = {};

  std::deque<TelemetryRow> rows_;  // the tokens held, oldest first (readout and y ranges)
  std::deque<Marker> markers_;
  std::deque<Band> bands_;
  int window_tokens_ = kDefaultWindowTokens;
  double device_limit_mb_per_s_ = 0;
  bool paused_ = false;
  qint64 crosshair_index_ = -1;
  int readout_sized_width_ = -1;
  int marker_labels_added_ = 0;
  QTimer replot_timer_;
  QElapsedTimer since_replot_;   // since the last redraw ended
  QElapsedTimer since_readout_;  // since the live readout last changed
  int replot_count_ = 0;
  double last_replot_ms_ = 0;
  double replot_ms_total_ = 0;
};

}  // namespace flashchat::ui
