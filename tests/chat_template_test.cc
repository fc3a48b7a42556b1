// chat_template_test.cc - chat format detection, prompt formatting and stop strings.
#include "model/chat_template.h"

#include <QtTest>

#include "core/error.h"

using namespace flashchat;

namespace {

const std::vector<ChatMessage> kConversation = {
    {"system", "Be brief."},
    {"user", "Hi"},
    {"assistant", "Hello!"},
    {"user", "How are you?"},
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

class ChatTemplateTest : public QObject {
  Q_OBJECT

 private slots:
  void names_round_trip() {
    for (ChatFormat f : {ChatFormat::Plain, ChatFormat::Llama2, ChatFormat::ChatML,
                         ChatFormat::Zephyr, ChatFormat::Mistral}) {
      const auto parsed = chat_format_from_name(chat_format_name(f));
      QVERIFY(parsed.has_value());
      QCOMPARE(*parsed, f);
    }
    QCOMPARE(chat_format_from_name("ChatML"), std::optional<ChatFormat>(ChatFormat::ChatML));
    QVERIFY(!chat_format_from_name("vicuna").has_value());
    QVERIFY(!chat_format_from_name("").has_value());
  }

  void detect_from_jinja() {
    QCOMPARE(chat_format_detect("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}"
                                "<|im_end|>\n{% endfor %}"),
             ChatFormat::ChatML);
    QCOMPARE(chat_format_detect("{{ bos_token }}[INST] <<SYS>>\\n{{ system }}\\n<</SYS>>\\n\\n"
                                "{{ content }} [/INST]"),
             ChatFormat::Llama2);
    QCOMPARE(chat_format_detect("{{ bos_token + '[INST] ' + message['content'] + ' [/INST]' }}"),
             ChatFormat::Mistral);
    QCOMPARE(chat_format_detect("{% if m.role == 'user' %}<|user|>\n{{ m.content }}</s>"),
             ChatFormat::Zephyr);
    QCOMPARE(chat_format_detect(""), ChatFormat::Plain);
    QCOMPARE(chat_format_detect("{{ messages[0].content }}"), ChatFormat::Plain);
  }

  void llama2_format() {
    const std::string p = chat_format_apply(ChatFormat::Llama2, kConversation);
    QCOMPARE(p, std::string("[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>"
                            "[INST] How are you? [/INST]"));
    QCOMPARE(chat_format_apply(ChatFormat::Llama2, {{"user", "Q"}}),
             std::string("[INST] Q [/INST]"));
  }

  void chatml_format() {
    const std::string p = chat_format_apply(ChatFormat::ChatML, kConversation);
    QCOMPARE(p, std::string("<|im_start|>system\nBe brief.<|im_end|>\n"
                            "<|im_start|>user\nHi<|im_end|>\n"
                            "<|im_start|>assistant\nHello!<|im_end|>\n"
                            "<|im_start|>user\nHow are you?<|im_end|>\n"
                            "<|im_start|>assistant\n"));
    const std::string no_gen = chat_format_apply(ChatFormat::ChatML, kConversation, false);
    QVERIFY(ends_with(no_gen, "How are you?<|im_end|>\n"));
  }

  void zephyr_format() {
    const std::string p = chat_format_apply(ChatFormat::Zephyr, kConversation);
    QCOMPARE(p, std::string("<|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n<|assistant|>\n"
                            "Hello!</s>\n<|user|>\nHow are you?</s>\n<|assistant|>\n"));
    QVERIFY(
        !ends_with(chat_format_apply(ChatFormat::Zephyr, kConversation, false), "<|assistant|>\n"));
  }

  void mistral_format() {
    const std::string p = chat_format_apply(ChatFormat::Mistral, kConversation);
    QCOMPARE(p, std::string("[INST] Be brief.\n\nHi [/INST]Hello!</s>[INST] How are you? [/INST]"));
  }

  void plain_format() {
    const std::string p = chat_format_apply(ChatFormat::Plain, kConversation);
    QCOMPARE(p, std::string("Be brief.\n\nUser: Hi\nAssistant: Hello!\nUser: How are you?\n"
                            "Assistant:"));
    QCOMPARE(chat_format_apply(ChatFormat::Plain, {{"user", "Q"}}, false),
             std::string("User: Q\n"));
  }

  void stop_strings_end_turns() {
    auto contains = [](const std::vector<std::string>& v, const std::string& s) {
      return std::find(v.begin(), v.end(), s) != v.end();
    };
    QVERIFY(contains(chat_format_stop_strings(ChatFormat::ChatML), "<|im_end|>"));
    QVERIFY(contains(chat_format_stop_strings(ChatFormat::Llama2), "</s>"));
    QVERIFY(contains(chat_format_stop_strings(ChatFormat::Mistral), "</s>"));
    QVERIFY(contains(chat_format_stop_strings(ChatFormat::Zephyr), "</s>"));
    QVERIFY(contains(chat_format_stop_strings(ChatFormat::Plain), "\nUser:"));
    // Each format's stop strings mark where an assistant turn ends in its own formatting.
    for (ChatFormat f : {ChatFormat::Plain, ChatFormat::Llama2, ChatFormat::ChatML,
                         ChatFormat::Zephyr, ChatFormat::Mistral}) {
      const std::string p = chat_format_apply(f, kConversation);
      const size_t reply = p.find("Hello!");
      QVERIFY(reply != std::string::npos);
      bool found = false;
      for (const std::string& s : chat_format_stop_strings(f)) {
        found |= p.compare(reply + 6, s.size(), s) == 0 || p.find(s, reply) != std::string::npos;
      }
      QVERIFY2(found, chat_format_name(f));
    }
  }

  void unknown_role_is_error() {
    QVERIFY_THROWS_EXCEPTION(Error, chat_format_apply(ChatFormat::Llama2, {{"tool", "x"}}));
  }
};

QTEST_GUILESS_MAIN(ChatTemplateTest)
#include "chat_template_test.moc"
