// ui_chat_model_test - conversations as data: JSON round trip and bad input, a refused save
// reported by the list model, presets, Markdown code-block splitting. (The list model over the
// database: ui_store_test.)
#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "chat/conversation.h"
#include "chat/conversation_list_model.h"
#include "chat/markdown_segments.h"
#include "core/error.h"

using namespace flashchat::ui;

class UiChatModelTest : public QObject {
  Q_OBJECT

  static Conversation sample() {
    Conversation c = Conversation::make_new();
    c.title = QStringLiteral("Rivers «and» boats");
    c.system_prompt = QStringLiteral("Be brief.");
    c.sampling.temperature = 0.3;
    c.sampling.top_k = 7;
    c.sampling.seed = 18446744073709551557ULL;  // beyond double precision: must survive JSON
    c.messages = {{QStringLiteral("user"), QStringLiteral("Hello\n```\ncode\n```"), {}},
                  {QStringLiteral("assistant"), QStringLiteral("Hi ✓"), QStringLiteral("stopped")}};
    return c;
  }

 private slots:
  void json_round_trip() {
    const Conversation c = sample();
    const Conversation back = conversation_from_json(conversation_to_json(c));
    QCOMPARE(back.id, c.id);
    QCOMPARE(back.title, c.title);
    QCOMPARE(back.system_prompt, c.system_prompt);
    QVERIFY(back.sampling == c.sampling);
    QCOMPARE(back.sampling.seed, 18446744073709551557ULL);
    QVERIFY(back.messages == c.messages);
    QCOMPARE(back.created_ms, c.created_ms);
  }

  void json_rejects_bad_input() {
    QVERIFY_THROWS_EXCEPTION(flashchat::Error, conversation_from_json(QJsonObject{}));
    QJsonObject o = conversation_to_json(sample());
    QJsonArray m = o["messages"].toArray();
    m.append(QJsonObject{{"role", "robot"}, {"content", "x"}});
    o["messages"] = m;
    QVERIFY_THROWS_EXCEPTION(flashchat::Error, conversation_from_json(o));
  }

  void list_model_save_failure_is_signalled() {
    QTemporaryDir dir;
    ChatDb reader(chat_db_path(dir.path()), false);
    StoreWriter writer(nullptr);  // a database opened read-only: every write is refused
    ConversationListModel model(&reader, &writer);
    QSignalSpy failed(&model, &ConversationListModel::saveFailed);
    model.create();
    QVERIFY(failed.wait(5000));  // reported back on this thread
    QCOMPARE(failed.size(), 1);
    QVERIFY(failed[0][0].toString().contains(QStringLiteral("read-only")));
    QCOMPARE(model.rowCount(), 1);  // the chat stays usable in the window
  }

  void presets() {
    ChatSampling base;
    base.max_tokens = 77;
    base.seed = 5;
    for (const QString& name : chat_preset_names()) {
      const ChatSampling s = chat_preset_apply(name, base);
      QCOMPARE(chat_preset_match(s), name);
      QCOMPARE(s.max_tokens, 77);
      QCOMPARE(s.seed, quint64(5));
    }
    ChatSampling custom = chat_preset_apply(QStringLiteral("Balanced"), base);
    custom.top_k = 41;
    QCOMPARE(chat_preset_match(custom), QStringLiteral("Custom"));
    const flashchat::SamplingParams p = custom.to_params(99);
    QCOMPARE(p.top_k, 41);
    QCOMPARE(p.seed, uint64_t(99));
  }

  void markdown_split_code_blocks() {
    const auto segs = markdown_split(QStringLiteral(
        "Intro **bold**\n\n```cpp\nint x;\n\nint y;\n```\nAfter\n~~~\nraw\n~~~\n\n```py\nopen"));
    QCOMPARE(segs.size(), 5);
    QVERIFY(!segs[0].code);
    QCOMPARE(segs[0].text, QStringLiteral("Intro **bold**\n"));
    QVERIFY(segs[1].code);
    QCOMPARE(segs[1].language, QStringLiteral("cpp"));
    QCOMPARE(segs[1].text, QStringLiteral("int x;\n\nint y;"));
    QCOMPARE(segs[2].text, QStringLiteral("After"));
    QCOMPARE(segs[3].text, QStringLiteral("raw"));
    QCOMPARE(segs[4].language, QStringLiteral("py"));  // unclosed fence runs to the end
    QCOMPARE(segs[4].text, QStringLiteral("open"));
    QVERIFY(markdown_split(QStringLiteral("plain")).size() == 1);
    QVERIFY(markdown_split(QString()).isEmpty());
  }
};

QTEST_GUILESS_MAIN(UiChatModelTest)
#include "ui_chat_model_test.moc"
