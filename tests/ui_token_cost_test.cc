// ui_token_cost_test - "click a word in the chat" on a real reply of the default model through
// the engine bridge:
//   - the reply's token boundaries (GenerationSummary::token_ends) tile its text;
//   - clicking a word of the rendered message (Markdown) and of the streamed one (plain) emits
//     the generated token whose text holds that word;
//   - token_cost_find maps that token to its own forward pass in the run's telemetry (context
//     position = the prompt's end + the token's number), and the popup names its neurons, bytes
//     and time split;
//   - the popup keeps one line per topic as a tooltip (no wrapping at a guessed width).
#include <QApplication>
#include <QLabel>
#include <QToolTip>
#include <QtTest>

#include "bridge/engine_worker.h"
#include "chat/message_widgets.h"
#include "core/resource_paths.h"
#include "teaching/token_cost.h"

using namespace flashchat;
using namespace flashchat::ui;

class UiTokenCostTest : public QObject {
  Q_OBJECT
  std::vector<TokenTelemetry> tel_;
  GenerationSummary summary_;

  // Clicks the middle of the word at content offset `at` in the message's text block.
  void click(MessageWidget& m, TextBlock* block, int doc_pos) {
    QTextCursor c(block->document());
    c.setPosition(doc_pos);
    const QRect r = block->cursorRect(c);
    QTest::mouseClick(block->viewport(), Qt::LeftButton, {}, r.center() + QPoint(2, 0));
    Q_UNUSED(m);
  }

 private slots:
  void initTestCase() {
    EngineHost host;
    EngineWorker* w = host.worker();
    bool loaded = false, finished = false;
    QObject ctx;
    QObject::connect(w, &EngineWorker::modelLoaded, &ctx, [&] { loaded = true; });
    QObject::connect(w, &EngineWorker::telemetryReady, &ctx,
                     [&](const TokenTelemetry& t) { tel_.push_back(t); });
    QObject::connect(w, &EngineWorker::finished, &ctx, [&](const GenerationSummary& s) {
      summary_ = s;
      finished = true;
    });
    host.loadModel(QString::fromStdString(default_model_path()), FfnMode::Flash, 4, 0);
    QVERIFY(QTest::qWaitFor([&] { return loaded; }, 30000));
    GenerateOptions o;
    o.max_new_tokens = 40;
    o.sampling.temperature = 0;
    host.runChat({{"user", "Tell me a story about a little dog"}}, o);
    QVERIFY(QTest::qWaitFor([&] { return finished; }, 60000));
    QVERIFY(summary_.generated_tokens > 10);
  }

  void token_ends_tile_the_reply() {
    const QList<int>& ends = summary_.token_ends;
    QCOMPARE(int(ends.size()), summary_.generated_tokens);
    for (int i = 1; i < ends.size(); ++i) QVERIFY(ends[i] >= ends[i - 1]);
    QCOMPARE(ends.last(), int(summary_.text.size()));
  }

  void clicking_a_word_maps_to_its_token_and_telemetry() {
    const QString text = summary_.text;
    const QList<int>& ends = summary_.token_ends;
    // Prompt end: the last prompt pass's position + 1 is generated token 0's position.
    int prompt_end = -1;
    for (const TokenTelemetry& t : tel_) {
      if (t.prompt) prompt_end = t.pos + 1;
    }
    QVERIFY(prompt_end > 0);
    for (const bool rendered : {true, false}) {
      MessageWidget m(QStringLiteral("assistant"), 1);
      if (rendered) {
        m.setContent(text);
      } else {
        m.appendStreamed(text);
      }
      m.setTokens(QStringLiteral("run-1"), ends);
      m.resize(700, 400);
      m.show();
      QVERIFY(QTest::qWaitForWindowExposed(&m));
      QList<TextBlock*> blocks = m.findChildren<TextBlock*>();
      QVERIFY(!blocks.isEmpty());
      TextBlock* block = blocks.front();
      const QString shown = block->document()->toPlainText();
      int clicks = 0;
      // Each word of the first line whose token is known: click it.
      for (int pos = 0; pos < shown.size() && clicks < 8; ++pos) {
        if (!shown[pos].isLetter() || (pos > 0 && shown[pos - 1].isLetter())) continue;
        int end = pos;
        while (end < shown.size() && shown[end].isLetter()) ++end;
        const QString word = shown.mid(pos, end - pos);
        // The occurrence index of this word in the shown text, and so its offset in the source.
        int k = 0;
        for (int at = shown.indexOf(word); at >= 0 && at < pos; at = shown.indexOf(word, at + 1)) ++k;
        int src = text.indexOf(word);
        for (int i = 0; i < k; ++i) src = text.indexOf(word, src + 1);
        QVERIFY(src >= 0);
        int expect = 0;
        while (expect < ends.size() && ends[expect] <= src) ++expect;
        QSignalSpy spy(&m, &MessageWidget::tokenClicked);
        click(m, block, pos + (end - pos) / 2);
        QCOMPARE(spy.count(), 1);
        const int token = spy.at(0).at(2).toInt();
        QCOMPARE(spy.at(0).at(1).toString(), QStringLiteral("run-1"));
        QCOMPARE(spy.at(0).at(3).toString(), word);
        QCOMPARE(token, expect);
        // The token's own text overlaps the word.
        const int t0 = token > 0 ? ends[token - 1] : 0;
        QVERIFY(t0 < src + word.size() && ends[token] > src);
        const TokenTelemetry* t = token_cost_find(tel_, token);
        if (token + 1 < summary_.generated_tokens) {
          QVERIFY(t);
          QVERIFY(!t->prompt);
          QCOMPARE(t->pos, prompt_end + token);  // its own forward pass
          const QString popup = token_cost_text(*t, token, word);
          QVERIFY(popup.contains(word));
          QVERIFY(popup.contains(QStringLiteral("predicted")));
          QVERIFY(popup.contains(QStringLiteral("Read ")));
          QVERIFY(popup.contains(QStringLiteral("ms")));
        }
        ++clicks;
        pos = end;
      }
      QVERIFY(clicks >= 4);
    }
    QVERIFY(!token_cost_find(tel_, -1));
    QVERIFY(!token_cost_find(tel_, 100000));
  }

  // The popup as a tooltip: one line per topic (name, neurons, reads, time, teaching-view note),
  // not wrapped at the narrow width a tooltip guesses for rich text; without telemetry it says so.
  void popup_keeps_one_line_per_topic() {
    const TokenTelemetry* t = token_cost_find(tel_, 2);
    QVERIFY(t);
    QWidget anchor;
    anchor.resize(400, 300);
    anchor.show();
    QVERIFY(QTest::qWaitForWindowExposed(&anchor));
    const QString word = QStringLiteral("word");
    const QString popup = token_cost_popup(t, 2, word, true);
    QVERIFY(popup.startsWith(QStringLiteral("<p style=\"white-space:nowrap\">")));
    QVERIFY(popup.contains(token_cost_text(*t, 2, word)));
    QVERIFY(popup.contains(QStringLiteral("teaching view")));
    QVERIFY(!token_cost_popup(t, 2, word, false).contains(QStringLiteral("teaching view")));
    QToolTip::showText(anchor.mapToGlobal(QPoint(20, 20)), popup, &anchor);
    QLabel* tip = nullptr;
    QVERIFY(QTest::qWaitFor(
        [&] {
          for (QWidget* w : QApplication::topLevelWidgets()) {
            if (w->inherits("QTipLabel") && w->isVisible()) tip = qobject_cast<QLabel*>(w);
          }
          return tip != nullptr;
        },
        3000));
    const int lines = popup.count(QStringLiteral("<br>")) + 1;
    QCOMPARE(lines, 5);
    const int line_px = tip->fontMetrics().lineSpacing();
    QVERIFY2(tip->height() < (lines + 1) * line_px + 2 * tip->margin() + 8,
             qPrintable(QStringLiteral("%1 px high for %2 lines of %3 px")
                            .arg(tip->height())
                            .arg(lines)
                            .arg(line_px)));
    QToolTip::hideText();
    const QString none = token_cost_popup(nullptr, 7, word, false);
    QVERIFY(none.contains(QStringLiteral("no telemetry")));
    QVERIFY(none.contains(QStringLiteral("token 8 of the reply")));
  }
};

QTEST_MAIN(UiTokenCostTest)
#include "ui_token_cost_test.moc"
