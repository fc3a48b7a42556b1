// ui_main_window_test - the main window under the offscreen platform on the default model: the
// --demo script runs, leaves its chat, runs and telemetry in the database, and the window grabs; keyboard send/stop, edit-and-resend and regenerate;
// an engine error becomes an inline card whose button fixes it; and the GUI event loop never
// stalls 50 ms or more while a reply streams and the sliders move.
#include <QClipboard>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPushButton>
#include <QTemporaryDir>
#include <QtTest>

#include "main_window.h"
#include "plots/live_panel.h"
#include "storage/chat_db.h"

using namespace flashchat;
using namespace flashchat::ui;

namespace {

bool wait_ready(MainWindow& w) { return QTest::qWaitFor([&] { return w.modelReady(); }, 30000); }

// Like the app: the first model loads before the window paints (the engine's heap measurement
// of the model open is process-wide).
bool open_window(MainWindow& w) {
  w.start();
  const bool ready = wait_ready(w);
  w.show();
  return ready;
}

bool wait_idle(MainWindow& w) { return QTest::qWaitFor([&] { return !w.generating(); }, 60000); }

QPushButton* find_button(QWidget* root, const QString& prefix) {
  for (QPushButton* b : root->findChildren<QPushButton*>()) {
    if (b->text().startsWith(prefix) && b->isVisible()) return b;
  }
  return nullptr;
}

// Records the longest gap between ticks of a 5 ms timer on the GUI thread.
struct StallMeter {
  QTimer timer;
  QElapsedTimer clock;
  qint64 last_ns = 0, worst_ns = 0;
  StallMeter() {
    timer.setInterval(5);
    timer.setTimerType(Qt::PreciseTimer);
    QObject::connect(&timer, &QTimer::timeout, [this] {
      const qint64 now = clock.nsecsElapsed();
      worst_ns = std::max(worst_ns, now - last_ns);
      last_ns = now;
    });
  }
  void start() {
    clock.start();
    last_ns = 0;
    worst_ns = 0;
    timer.start();
  }
  double worst_ms() const { return worst_ns / 1e6; }
};

}  // namespace

class UiMainWindowTest : public QObject {
  Q_OBJECT

 private slots:
  void demo_runs_and_grabs() {
    QTemporaryDir dir;
    MainWindow w(dir.path());
    w.resize(1280, 800);
    QVERIFY(open_window(w));
    QSignalSpy done(&w, &MainWindow::demoFinished);
    w.startDemo();
    QVERIFY(QTest::qWaitFor([&] { return !done.isEmpty(); }, 120000));
    QCOMPARE(done[0][0].toBool(), true);
    const QPixmap shot = w.grab();
    QCOMPARE(shot.size(), QSize(1280, 800) * shot.devicePixelRatio());
    // The demo conversation: two turns, written to disk.
    const Conversation* c = w.conversations()->find(w.currentConversationId());
    QVERIFY(c);
    QCOMPARE(c->messages.size(), 4);
    QCOMPARE(c->messages[1].role, QStringLiteral("assistant"));
    QVERIFY(!c->messages[3].content.isEmpty());
    // ... and in the database: the conversation, both runs with their telemetry, and the two
    // setting changes of the second reply.
    w.conversations()->flush();
    ChatDb db(chat_db_path(dir.path()), true);
    const QList<Conversation> saved = db.conversations_load();
    const auto it = std::find_if(saved.begin(), saved.end(), [&](const Conversation& x) { return x.id == c->id; });
    QVERIFY(it != saved.end());
    QVERIFY(it->messages == c->messages);
    const QList<RunInfo> runs = db.runs_list(c->id);
    QCOMPARE(runs.size(), 2);
    QCOMPARE(runs[1].uid, c->messages[1].run_uid);  // oldest last
    QCOMPARE(runs[0].uid, c->messages[3].run_uid);
    for (const RunInfo& r : runs) {
      QVERIFY(r.finished_ms >= r.started_ms);
      QCOMPARE(db.run_load(r.uid).tokens.size(), size_t(r.tokens + r.prompt_tokens));
      QVERIFY(r.tokens > 0);
    }
    QCOMPARE(db.run_load(runs[0].uid).changes.size(), 2);
    // The first token is sampled from the last prompt pass: one generating pass fewer.
    QCOMPARE(c->messages[3].tokens, runs[0].tokens + 1);
    QCOMPARE(w.chatView()->messageCount(), 4);
    // The budget and window changes in the middle of the second reply are marked on every plot.
    QVERIFY(w.plots());
    for (int plot = 0; plot < LivePanel::kPlotCount; ++plot) {
      QCOMPARE(w.plots()->markerKeys(plot).size(), 2);
    }
    // The window change in the middle of the second reply is in force and shown.
    QCOMPARE(w.controls()->window(), 8);
    QVERIFY(w.statusField(QStringLiteral("mode"))->text().contains(QStringLiteral("k 8")));
    QVERIFY(w.statusField(QStringLiteral("speed"))->text().contains(QStringLiteral("tok/s")));
    QVERIFY(!w.statusField(QStringLiteral("speed"))->text().startsWith(QStringLiteral("—")));
  }

  void keyboard_edit_regenerate() {
    QTemporaryDir dir;
    MainWindow w(dir.path());
    QVERIFY(open_window(w));
    Composer* comp = w.composer();
    QTest::keyClicks(comp->editor(), QStringLiteral("The river"));
    QTest::keyClick(comp->editor(), Qt::Key_Return, Qt::ControlModifier);
    QVERIFY(w.generating());
    QTest::keyClick(&w, Qt::Key_Escape);  // Stop keeps the partial answer
    QVERIFY(wait_idle(w));
    const Conversation* c = w.conversations()->find(w.currentConversationId());
    QCOMPARE(c->messages.size(), 2);
    QCOMPARE(c->messages[0].content, QStringLiteral("The river"));
    QCOMPARE(c->title, QStringLiteral("The river"));
    QVERIFY(comp->text().isEmpty());

    // Regenerate replaces the reply.
    w.regenerate();
    QVERIFY(wait_idle(w));
    c = w.conversations()->find(w.currentConversationId());
    QCOMPARE(c->messages.size(), 2);

    // Edit the user message and resend: it replaces it and everything after it.
    emit w.chatView()->editMessage(0);
    QCOMPARE(comp->editing(), 0);
    QCOMPARE(comp->text(), QStringLiteral("The river"));
    comp->setText(QStringLiteral("The sea"));
    QTest::keyClick(comp->editor(), Qt::Key_Return, Qt::ControlModifier);
    QVERIFY(wait_idle(w));
    c = w.conversations()->find(w.currentConversationId());
    QCOMPARE(c->messages.size(), 2);
    QCOMPARE(c->messages[0].content, QStringLiteral("The sea"));
    QCOMPARE(comp->editing(), -1);

    // Copy chat: the whole conversation as text.
    w.copyChat();
    QVERIFY(QGuiApplication::clipboard()->text().contains(QStringLiteral("The sea")));
    QVERIFY(QGuiApplication::clipboard()->text().contains(c->messages[1].content.trimmed().left(20)));

    // Ctrl+N: a new, empty chat.
    const QString before = w.currentConversationId();
    QTest::keyClick(&w, Qt::Key_N, Qt::ControlModifier);
    QVERIFY(w.currentConversationId() != before);
    QCOMPARE(w.chatView()->messageCount(), 0);
  }

  void error_card_offers_the_fix() {
    QTemporaryDir dir;
    MainWindow w(dir.path());
    QVERIFY(open_window(w));
    const qint64 min = w.model().minimum_for(FfnMode::Flash);
    QVERIFY(!w.worker()->setBudget(min / 2).isEmpty());
    QVERIFY(QTest::qWaitFor([&] { return !w.chatView()->notices().isEmpty(); }, 5000));
    NoticeCard* card = w.chatView()->notices().last();
    QCOMPARE(card->title(), QStringLiteral("Budget below the minimum"));
    QPushButton* fix = nullptr;
    QVERIFY(QTest::qWaitFor([&] { return (fix = find_button(card, QStringLiteral("Set the minimum"))); }, 5000));
    w.controls()->setBudget(w.model().model_bytes);
    fix->click();
    QVERIFY(w.controls()->budget() >= min);
    QVERIFY(w.controls()->budget() < min + (w.model().model_bytes - min) / 500);
    // Still usable: a reply runs.
    w.controls()->setBudget(min + w.model().model_bytes / 10);
    w.sendMessage(QStringLiteral("The river"));
    QVERIFY(wait_idle(w));
    QCOMPARE(w.conversations()->find(w.currentConversationId())->messages.size(), 2);
  }

  void event_loop_never_stalls() {
    QTemporaryDir dir;
    MainWindow w(dir.path());
    w.resize(1280, 800);
    QVERIFY(open_window(w));
    // Warm up once (first-use costs: fonts, page cache).
    w.sendMessage(QStringLiteral("The old man"));
    QVERIFY(wait_idle(w));
    w.newChat();

    StallMeter meter;
    QTimer sliders;  // the sliders move while the reply streams
    int step = 0;
    QObject::connect(&sliders, &QTimer::timeout, [&] {
      ++step;
      w.controls()->windowSlider()->setValue(1 + step % 16);
      QSlider* b = w.controls()->budgetSlider();
      b->setValue((step * 37) % (b->maximum() + 1));
    });
    meter.start();
    sliders.start(20);
    w.sendMessage(QStringLiteral("The old man walked along the river"));
    QVERIFY(w.generating());
    QVERIFY(wait_idle(w));
    w.regenerate();  // a second reply, same measurement
    QVERIFY(w.generating());
    QVERIFY(wait_idle(w));
    QTest::qWait(100);  // include rendering the finished reply
    sliders.stop();
    meter.timer.stop();
    const auto* c = w.conversations()->find(w.currentConversationId());
    QVERIFY(c->messages.size() == 2 && !c->messages[1].content.isEmpty());
    QVERIFY(step > 3);
    qInfo("worst GUI event-loop gap: %.1f ms over %d slider moves", meter.worst_ms(), step);
    QVERIFY2(meter.worst_ms() < 50.0, qPrintable(QString::number(meter.worst_ms())));
  }
};

QTEST_MAIN(UiMainWindowTest)
#include "ui_main_window_test.moc"
