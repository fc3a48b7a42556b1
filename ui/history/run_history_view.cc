#include "history/run_history_view.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLocale>
#include <QPushButton>
#include <QScrollArea>
#include <QSplitter>
#include <QVBoxLayout>
#include <algorithm>

#include "core/error.h"
#include "plots/live_panel.h"

namespace flashchat::ui {

void live_panel_replay(LivePanel* panel, const RunRecord& run) {
  panel->clear();
  panel->setPaused(false);
  panel->setWindowTokens(static_cast<int>(run.tokens.size()));  // the whole run, filling the x axis
  panel->setDeviceReadLimit(run.info.read_limit_mb_per_s);
  for (const TokenTelemetry& t : run.tokens) panel->appendTelemetry(t);
  for (const RunChange& c : run.changes) panel->addMarker(c.token_index, c.label);
}

namespace {

QString ratio_text(double a, double b) {
  return a > 0 ? QStringLiteral("%L1×").arg(b / a, 0, 'f', 2) : QStringLiteral("—");
}

}  // namespace

RunHistoryView::RunHistoryView(ChatDb* reader, QWidget* parent)
    : QWidget(parent), reader_(reader), model_(new RunListModel(reader, this)) {
  setObjectName(QStringLiteral("runHistory"));
  setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Ignored);  // never sizes the window
  auto* v = new QVBoxLayout(this);
  v->setContentsMargins(8, 8, 8, 8);
  auto* bar = new QHBoxLayout;
  auto* back = new QPushButton(tr("← Back to chat"), this);
  connect(back, &QPushButton::clicked, this, &RunHistoryView::backRequested);
  bar->addWidget(back);
  auto* title = new QLabel(tr("<b>Run history</b>"), this);
  bar->addWidget(title);
  hint_ = new QLabel(tr("Select a run to see its plots as they were live; select two "
                        "(Ctrl+click) to compare them."),
                     this);
  hint_->setProperty("dim", true);
  bar->addWidget(hint_, 1);
  v->addLayout(bar);

  auto* split = new QSplitter(Qt::Vertical, this);
  table_ = new QTableView(split);
  table_->setModel(model_);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setSectionResizeMode(RunListModel::Chat, QHeaderView::Stretch);
  table_->setWordWrap(false);
  table_->setAccessibleName(tr("Recorded runs"));
  connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this,
          [this] { onSelection(); });

  // The plots need more height than a 800 px window leaves them: they scroll then (as in the
  // main window) instead of making the window taller.
  auto* scroll = new QScrollArea(split);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  auto* lower = new QWidget(scroll);
  auto* lv = new QVBoxLayout(lower);
  lv->setContentsMargins(0, 4, 0, 0);
  comparison_ = new QLabel(lower);
  comparison_->setTextFormat(Qt::RichText);
  comparison_->setObjectName(QStringLiteral("runComparison"));
  comparison_->hide();
  lv->addWidget(comparison_);
  auto* sides = new QHBoxLayout;
  for (int i = 0; i < 2; ++i) {
    sides_[i] = new QWidget(lower);
    auto* sv = new QVBoxLayout(sides_[i]);
    sv->setContentsMargins(0, 0, 0, 0);
    titles_[i] = new QLabel(sides_[i]);
    titles_[i]->setWordWrap(true);
    titles_[i]->setTextFormat(Qt::RichText);
    sv->addWidget(titles_[i]);
    panels_[i] = new LivePanel(sides_[i]);
    sv->addWidget(panels_[i], 1);
    sides->addWidget(sides_[i], 1);
  }
  sides_[1]->hide();
  lv->addLayout(sides, 1);
  scroll->setWidget(lower);
  split->addWidget(table_);
  split->addWidget(scroll);
  split->setStretchFactor(0, 1);
  split->setStretchFactor(1, 4);
  split->setSizes({150, 600});
  v->addWidget(split, 1);
}

void RunHistoryView::refresh() {
  QStringList selected;
  for (const QModelIndex& i : table_->selectionModel()->selectedRows()) {
    selected << i.data(RunListModel::UidRole).toString();
  }
  selecting_ = true;
  model_->reload();
  for (const QString& uid : selected) {
    const int row = model_->row_of(uid);
    if (row >= 0) {
      table_->selectionModel()->select(model_->index(row, 0),
                                       QItemSelectionModel::Select | QItemSelectionModel::Rows);
    }
  }
  selecting_ = false;
}

void RunHistoryView::onSelection() {
  if (selecting_) return;
  const QModelIndexList rows = table_->selectionModel()->selectedRows();
  try {
    if (rows.size() == 1) {
      showRun(rows[0].data(RunListModel::UidRole).toString());
    } else if (rows.size() >= 2) {
      compareRuns(rows[0].data(RunListModel::UidRole).toString(),
                  rows[1].data(RunListModel::UidRole).toString());
    }
  } catch (const Error& e) {
    hint_->setText(tr("This run cannot be read: %1").arg(QString::fromStdString(e.what())));
  }
}

void RunHistoryView::showRun(const QString& uid) {
  const RunRecord r = reader_->run_load(uid);
  showRecords(r, nullptr);
}

void RunHistoryView::compareRuns(const QString& a, const QString& b) {
  const RunRecord ra = reader_->run_load(a);
  const RunRecord rb = reader_->run_load(b);
  showRecords(ra, &rb);
}

void RunHistoryView::showRecords(const RunRecord& a, const RunRecord* b) {
  comparing_ = b != nullptr;
  selecting_ = true;
  table_->selectionModel()->clearSelection();
  for (const RunRecord* r : {&a, b}) {
    if (!r) continue;
    const int row = model_->row_of(r->info.uid);
    if (row >= 0) {
      table_->selectionModel()->select(model_->index(row, 0),
                                       QItemSelectionModel::Select | QItemSelectionModel::Rows);
    }
  }
  selecting_ = false;
  const auto title = [](const char* tag, const RunRecord& r) {
    return QStringLiteral("<b>%1</b> %2 — %3<br>%4")
        .arg(QString::fromLatin1(tag), r.info.conversation_title.toHtmlEscaped(),
             r.info.model_name.toHtmlEscaped(), run_summary_text(r.info).toHtmlEscaped());
  };
  live_panel_replay(panels_[0], a);
  titles_[0]->setText(title(b ? "A" : "", a));
  sides_[1]->setVisible(b != nullptr);
  comparison_->setVisible(b != nullptr);
  if (!b) return;
  live_panel_replay(panels_[1], *b);
  titles_[1]->setText(title("B", *b));
  const RunInfo& x = a.info;
  const RunInfo& y = b->info;
  const auto row = [&](const QString& name, double va, double vb, int decimals) {
    return QStringLiteral(
               "<tr><td>%1</td><td align=right>%2</td><td align=right>%3</td>"
               "<td align=right>%4</td></tr>")
        .arg(name, QLocale().toString(va, 'f', decimals), QLocale().toString(vb, 'f', decimals),
             ratio_text(va, vb));
  };
  comparison_->setText(
      tr("<table cellspacing=0 cellpadding=3><tr><th align=left>per token</th>"
         "<th align=right>A</th><th align=right>B</th><th align=right>B/A</th></tr>") +
      row(tr("ms"), x.ms_per_token, y.ms_per_token, 2) +
      row(tr("MB read"), x.bytes_per_token / 1e6, y.bytes_per_token / 1e6, 3) +
      row(tr("FFN neurons loaded"), x.ffn_loaded_per_token, y.ffn_loaded_per_token, 0) +
      row(tr("tokens (generated)"), x.tokens, y.tokens, 0) + QStringLiteral("</table>"));
}

}  // namespace flashchat::ui
