// ui_run_history_test - the run history on the default model: a reply recorded while it streams
// is redrawn from the database exactly as the live panel drew it (every series, the prompt band,
// the setting-change markers, the readout); two runs compare side by side with their summaries;
// the conversation list's search, delete/undo and JSON import work in the window, and the JSON
// store of earlier versions is imported at the first start.
#include <QTemporaryDir>
#include <QtTest>
#include <qcustomplot.h>

#include "history/run_history_view.h"
#include "main_window.h"
#include "plots/live_panel.h"
#include "storage/chat_export.h"

using namespace flashchat;
using namespace flashchat::ui;

namespace {

using Series = QVector<QPair<double, double>>;

template <typename Plottable>
Series series_of(Plottable* p) {
  Series out;
  for (auto it = p->data()->constBegin(); it != p->data()->constEnd(); ++it) {
    out.append({it->mainKey(), it->mainValue()});
  }
  return out;
}

// Every plotted series of a panel, in a fixed order.
QVector<Series> all_series(LivePanel* p) {
  QVector<Series> out;
  for (int c = 0; c < kDramCategoryCount; ++c) out << series_of(p->dramGraph(static_cast<DramCategory>(c)));
  out << series_of(p->budgetGraph()) << series_of(p->rssGraph()) << series_of(p->windowGraph())
      << series_of(p->readGraph());
  for (Churn c : {Churn::Added, Churn::Removed, Churn::Streamed}) out << series_of(p->churnBars(c));
  for (int t = 0; t < kTimePartCount; ++t) out << series_of(p->timeBars(static_cast<TimePart>(t)));
  return out;
}

bool wait_idle(MainWindow& w) { return QTest::qWaitFor([&] { return !w.generating(); }, 60000); }

}  // namespace

class UiRunHistoryTest : public QObject {
  Q_OBJECT

 private slots:
  void replay_equals_live_and_compare() {
    QTemporaryDir dir;
    MainWindow w(dir.path());
    w.resize(1280, 800);
    w.start();
    QVERIFY(QTest::qWaitFor([&] { return w.modelReady(); }, 30000));
    w.show();
    // The disk limit is drawn on the live plot; wait for it so the run records it too.
    QVERIFY(QTest::qWaitFor([&] { return w.plots()->deviceReadLimit() > 0; }, 20000));
    int generated = 0;
    auto conn = connect(w.worker(), &EngineWorker::telemetryReady, &w, [&](const TokenTelemetry& t) {
      if (!t.prompt && ++generated == 8) w.controls()->setWindow(2);
    });
    w.sendMessage(QStringLiteral("The old man walked along the river"));
    QVERIFY(wait_idle(w));
    disconnect(conn);
    LivePanel* live = w.plots();
    QVERIFY(live->tokenIndices().size() > 10);
    QCOMPARE(live->markerKeys(0).size(), 1);

    w.showRunHistory();
    QVERIFY(w.historyShown());
    RunHistoryView* h = w.runHistory();
    QCOMPARE(h->runs()->rowCount(), 1);
    LivePanel* replay = h->panel(0);
    QCOMPARE(replay->tokenIndices(), live->tokenIndices());
    QCOMPARE(all_series(replay), all_series(live));
    for (int plot = 0; plot < LivePanel::kPlotCount; ++plot) {
      QCOMPARE(replay->markerKeys(plot), live->markerKeys(plot));
      QCOMPARE(replay->promptBandKeys(plot), live->promptBandKeys(plot));
    }
    QCOMPARE(replay->deviceReadLimit(), live->deviceReadLimit());
    for (qint64 i : live->tokenIndices()) QCOMPARE(replay->readoutText(i), live->readoutText(i));
    QVERIFY(!h->comparing());

    // A second run at another budget; compare the two.
    w.showChat();
    QVERIFY(!w.historyShown());
    w.controls()->setBudget(w.controls()->minimumBudget() + (w.model().model_bytes - w.controls()->minimumBudget()) / 4);
    w.sendMessage(QStringLiteral("What did he see?"));
    QVERIFY(wait_idle(w));
    w.showRunHistory(true);
    QCOMPARE(h->runs()->rowCount(), 2);
    QVERIFY(h->comparing());
    QVERIFY(h->panel(1)->isVisible());
    QCOMPARE(h->table()->selectionModel()->selectedRows().size(), 2);
    const RunInfo a = h->runs()->at(1), b = h->runs()->at(0);
    QVERIFY(a.budget_bytes != b.budget_bytes);
    QCOMPARE(qint64(h->panel(0)->tokenIndices().size()), qint64(a.tokens + a.prompt_tokens));
    QCOMPARE(qint64(h->panel(1)->tokenIndices().size()), qint64(b.tokens + b.prompt_tokens));
    const QString table = h->comparison()->text();
    QVERIFY2(table.contains(QString::number(a.ms_per_token, 'f', 2)), qPrintable(table));
    QVERIFY(table.contains(QString::number(b.bytes_per_token / 1e6, 'f', 3)));
    QVERIFY(table.contains(QString::number(b.ffn_loaded_per_token, 'f', 0)));
    // Selecting one row in the table shows that run alone.
    h->table()->selectionModel()->clearSelection();
    h->table()->selectRow(1);
    QVERIFY(!h->comparing());
    QCOMPARE(h->panel(0)->tokenIndices().size(), qsizetype(a.tokens + a.prompt_tokens));
  }

  void list_search_delete_undo_import() {
    QTemporaryDir dir;
    // A chat from the JSON store of earlier versions: imported at the first start, file kept.
    Conversation old = Conversation::make_new();
    old.title = QStringLiteral("From the JSON days");
    old.messages = {{QStringLiteral("user"), QStringLiteral("An otter by the weir"), {}}};
    QVERIFY(QDir().mkpath(dir.filePath(QStringLiteral("conversations"))));
    const QString old_file = dir.filePath(QStringLiteral("conversations/%1.json").arg(old.id));
    conversation_export_json(old, old_file);
    MainWindow w(dir.path());
    QVERIFY(w.conversations()->find(old.id));
    QVERIFY(w.conversations()->find(old.id)->messages == old.messages);
    QVERIFY(QFile::exists(old_file));
    const QString first = w.currentConversationId();
    Conversation c = *w.conversations()->find(first);
    c.title = QStringLiteral("Heron notes");
    c.messages = {{QStringLiteral("user"), QStringLiteral("A grey heron in the reeds"), {}}};
    w.conversations()->update(c);
    w.newChat();
    const QString second = w.currentConversationId();
    w.searchBox()->setText(QStringLiteral("reeds"));
    QVERIFY(QTest::qWaitFor([&] { return w.conversationList()->isRowHidden(w.conversations()->row_of(second)); }, 3000));
    QVERIFY(!w.conversationList()->isRowHidden(w.conversations()->row_of(first)));
    w.searchBox()->clear();
    QVERIFY(QTest::qWaitFor([&] { return !w.conversationList()->isRowHidden(w.conversations()->row_of(second)); }, 3000));

    w.deleteConversation(first);
    QCOMPARE(w.conversations()->row_of(first), -1);
    w.undoDelete();
    QVERIFY(w.conversations()->row_of(first) >= 0);
    QCOMPARE(w.currentConversationId(), first);

    // Export, then import: a copy under a new id (the original is still there).
    const QString file = dir.filePath(QStringLiteral("heron.json"));
    w.exportConversation(first, file);
    w.importConversation(file);
    QVERIFY(w.currentConversationId() != first);
    const Conversation* copy = w.conversations()->find(w.currentConversationId());
    QVERIFY(copy);
    QCOMPARE(copy->title, QStringLiteral("Heron notes"));
    QVERIFY(copy->messages == c.messages);
    w.conversations()->flush();
    QCOMPARE(w.database()->search(QStringLiteral("heron")).size(), 2);
  }
};

QTEST_MAIN(UiRunHistoryTest)
#include "ui_run_history_test.moc"
