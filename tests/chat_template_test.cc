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

const std::vector<ChatFormat> kAllFormats = {
    ChatFormat::Plain,   ChatFormat::Llama2,    ChatFormat::ChatML, ChatFormat::Zephyr,
    ChatFormat::Mistral, ChatFormat::MistralV3, ChatFormat::Llama3, ChatFormat::Phi3,
    ChatFormat::Falcon};

// Excerpts of the models' published Jinja templates (tokenizer.chat_template), as stored: the
// newline inside a string literal is the two characters \n.
const std::string kLlama3Jinja =
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ "
    "message['content'] | trim + '<|eot_id|>' %}";
const std::string kLlama31Jinja =
    "{%- if not date_string is defined %}{%- set date_string = \"26 Jul 2024\" %}{%- endif %}"
    "{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}"
    "{{- \"Cutting Knowledge Date: December 2023\\n\" }}"
    "{{- \"Today Date: \" + date_string + \"\\n\\n\" }}{{- system_message }}{{- \"<|eot_id|>\" }}";
const std::string kQwen25Jinja =
    "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + "
    "messages[0]['content'] + '<|im_end|>\\n' }}{%- else %}{{- '<|im_start|>system\\nYou are "
    "Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}{%- endif %}";
const std::string kPhi3Jinja =
    "{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\\n' + "
    "message['content'] + '<|end|>\\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\\n' + "
    "message['content'] + '<|end|>\\n'}}{% elif message['role'] == 'assistant' %}"
    "{{'<|assistant|>\\n' + message['content'] + '<|end|>\\n'}}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";
const std::string kMistralV3Jinja =
    "{%- if loop.last and system_message is defined %}{{- \"[INST] \" + system_message + "
    "\"\\n\\n\" + message[\"content\"] + \"[/INST]\" }}{%- else %}{{- \"[INST] \" + "
    "message[\"content\"] + \"[/INST]\" }}";
const std::string kFalconJinja =
    "{% for message in messages %}{% if not loop.first %}{{ '\\n' }}{% endif %}"
    "{% if message['role'] == 'system' %}{{ 'System: ' }}{% elif message['role'] == 'user' %}"
    "{{ 'User: ' }}{% elif message['role'] == 'assistant' %}{{ 'Falcon: ' }}{% endif %}"
    "{{ message['content'] }}{% endfor %}{% if add_generation_prompt %}{{ '\\n' + 'Falcon:' }}"
    "{% endif %}";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

class ChatTemplateTest : public QObject {
  Q_OBJECT

 private slots:
  void names_round_trip() {
    for (ChatFormat f : kAllFormats) {
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
    for (ChatFormat f : kAllFormats) {
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

  void detect_new_families() {
    QCOMPARE(chat_format_detect(kLlama3Jinja), ChatFormat::Llama3);
    QCOMPARE(chat_format_detect(kLlama31Jinja), ChatFormat::Llama3);
    QCOMPARE(chat_format_detect(kQwen25Jinja), ChatFormat::ChatML);
    QCOMPARE(chat_format_detect(kPhi3Jinja), ChatFormat::Phi3);
    QCOMPARE(chat_format_detect(kMistralV3Jinja), ChatFormat::MistralV3);
    QCOMPARE(chat_format_detect(kFalconJinja), ChatFormat::Falcon);
    QVERIFY(chat_template_detect(kLlama3Jinja).system_preamble.empty());
    QVERIFY(chat_template_detect(kPhi3Jinja).default_system.empty());
  }

  // Meta's Llama 3 prompt format: header-delimited turns, content trimmed, <|eot_id|> after each;
  // <|begin_of_text|> is the tokenizer's BOS.
  void llama3_format() {
    const ChatTemplate t = chat_template_detect(kLlama3Jinja);
    QCOMPARE(chat_template_apply(t, kConversation),
             std::string("<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                         "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                         "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
                         "<|start_header_id|>user<|end_header_id|>\n\nHow are you?<|eot_id|>"
                         "<|start_header_id|>assistant<|end_header_id|>\n\n"));
    QCOMPARE(chat_template_apply(t, {{"user", "  padded \n"}}, false),
             std::string("<|start_header_id|>user<|end_header_id|>\n\npadded<|eot_id|>"));
  }

  // Llama 3.1: the system turn is always written and starts with the knowledge-date preamble.
  void llama31_system_preamble() {
    const ChatTemplate t = chat_template_detect(kLlama31Jinja);
    QCOMPARE(t.system_preamble,
             std::string("Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n"));
    QCOMPARE(chat_template_apply(t, {{"user", "Hi"}}),
             std::string("<|start_header_id|>system<|end_header_id|>\n\n"
                         "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n"
                         "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                         "<|start_header_id|>assistant<|end_header_id|>\n\n"));
    QCOMPARE(chat_template_apply(t, {{"system", "Be brief."}, {"user", "Hi"}}),
             std::string("<|start_header_id|>system<|end_header_id|>\n\n"
                         "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n"
                         "Be brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi"
                         "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"));
  }

  // Qwen 2.5 (ChatML): without a system message the template's own default system turn comes
  // first; a given system message replaces it.
  void qwen_default_system() {
    const ChatTemplate t = chat_template_detect(kQwen25Jinja);
    QCOMPARE(t.default_system,
             std::string("You are Qwen, created by Alibaba Cloud. You are a helpful assistant."));
    QCOMPARE(chat_template_apply(t, {{"user", "Hi"}}),
             std::string("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a "
                         "helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                         "<|im_start|>assistant\n"));
    QCOMPARE(chat_template_apply(t, kConversation),
             chat_format_apply(ChatFormat::ChatML, kConversation));
  }

  // Phi-3: <|role|>\n...<|end|>\n turns, system as its own turn.
  void phi3_format() {
    QCOMPARE(chat_template_apply(chat_template_detect(kPhi3Jinja), kConversation),
             std::string("<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\n"
                         "Hello!<|end|>\n<|user|>\nHow are you?<|end|>\n<|assistant|>\n"));
  }

  // Mistral v0.3: the system text joins the last user turn; "[/INST]" follows the text directly.
  void mistral_v3_format() {
    QCOMPARE(chat_template_apply(chat_template_detect(kMistralV3Jinja), kConversation),
             std::string("[INST] Hi[/INST] Hello!</s>[INST] Be brief.\n\nHow are you?[/INST]"));
  }

  // Falcon-180B-chat: "System:", "User:", "Falcon:" lines.
  void falcon_format() {
    QCOMPARE(chat_template_apply(chat_template_detect(kFalconJinja), kConversation),
             std::string("System: Be brief.\nUser: Hi\nFalcon: Hello!\nUser: How are you?\n"
                         "Falcon:"));
  }

  void unknown_role_is_error() {
    QVERIFY_THROWS_EXCEPTION(Error, chat_format_apply(ChatFormat::Llama2, {{"tool", "x"}}));
  }
};

QTEST_GUILESS_MAIN(ChatTemplateTest)
#include "chat_template_test.moc"
