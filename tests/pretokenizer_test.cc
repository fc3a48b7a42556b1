// pretokenizer_test.cc - each pre-tokenizer family's regexes on digits, contractions, whitespace
// runs, newlines, CJK, emoji and accents against splits computed independently with Python's
// `regex` module (tests/data/pretokenizer/reference_splits.py -> splits.json); family names and
// aliases; the error for an unknown name; tokenizer.json pre-tokenizers recognised as families;
// Llama 3's ignore_merges.
#include "model/pretokenizer.h"

#include <QTemporaryDir>
#include <QtTest>
#include <nlohmann/json.hpp>

#include "model/tokenizer.h"
#include "model/tokenizer_json.h"
#include "test_support.h"

using namespace flashchat;
using nlohmann::json;

namespace {

std::vector<std::string> split_strings(const Pretokenizer& p, const std::string& text) {
  std::vector<std::string> out;
  for (std::string_view piece : p.split(text)) out.emplace_back(piece);
  return out;
}

QString show(const std::vector<std::string>& pieces) {
  QStringList parts;
  for (const std::string& p : pieces) {
    parts << "'" + QString::fromStdString(p).replace("\n", "\\n").replace("\r", "\\r") + "'";
  }
  return "[" + parts.join(", ") + "]";
}

json reference_cases() {
  const QString path = flashchat_test::test_data_path("pretokenizer/splits.json");
  const std::string text = flashchat_test::read_all(path);
  return json::parse(text, nullptr, false);
}

// A tokenizer.json with byte-level BPE over a..c, "ab", "abc" and the given pre-tokenizer.
std::string byte_level_json(const json& pre, const json& post = nullptr) {
  json j = {{"pre_tokenizer", pre},
            {"post_processor", post},
            {"added_tokens", {{{"id", 6}, {"content", "<|begin_of_text|>"}, {"special", true}}}},
            {"decoder", {{"type", "ByteLevel"}}},
            {"model",
             {{"type", "BPE"},
              {"vocab", {{"a", 0}, {"b", 1}, {"c", 2}, {"ab", 3}, {"abc", 4}, {"\xc4\xa0", 5}}},
              {"merges", json::array({"a b"})}}}};
  return j.dump();
}

json split_node(const std::string& regex) {
  return {{"type", "Split"},
          {"pattern", {{"Regex", regex}}},
          {"behavior", "Isolated"},
          {"invert", false}};
}

}  // namespace

class PretokenizerTest : public QObject {
  Q_OBJECT

 private slots:
  void families_match_reference_splits_data() {
    QTest::addColumn<QString>("family");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QStringList>("pieces");
    const json cases = reference_cases();
    QVERIFY2(cases.is_array() && cases.size() >= 60, "tests/data/pretokenizer/splits.json missing");
    for (const json& c : cases) {
      QStringList pieces;
      for (const json& p : c["pieces"]) pieces << QString::fromStdString(p.get<std::string>());
      std::string tag = c["family"].get<std::string>() + ": ";
      for (char ch : c["text"].get<std::string>()) {
        tag += ch == '\n'                              ? std::string("\\n")
               : ch == '\r'                            ? std::string("\\r")
               : static_cast<unsigned char>(ch) < 0x20 ? std::string("^")
                                                       : std::string(1, ch);
      }
      QTest::newRow(tag.c_str()) << QString::fromStdString(c["family"].get<std::string>())
                                 << QString::fromStdString(c["text"].get<std::string>()) << pieces;
    }
  }

  // Every family splits every reference string exactly as the independent implementation does;
  // the pieces concatenate back to the text.
  void families_match_reference_splits() {
    QFETCH(QString, family);
    QFETCH(QString, text);
    QFETCH(QStringList, pieces);
    const Pretokenizer p(family.toStdString(), "test");
    const std::string t = text.toStdString();
    const std::vector<std::string> got = split_strings(p, t);
    std::vector<std::string> want;
    for (const QString& s : pieces) want.push_back(s.toStdString());
    QVERIFY2(got == want, qPrintable("got " + show(got) + " want " + show(want)));
    std::string joined;
    for (const std::string& s : got) joined += s;
    QCOMPARE(joined, t);
  }

  // The families the issue names, by their GGUF names, and the aliases llama.cpp writes.
  void names_and_aliases() {
    for (const char* name : {"llama3", "llama-bpe", "qwen2", "deepseek-llm", "deepseek-coder",
                             "falcon", "mpt", "starcoder", "refact", "gpt-2", "default"}) {
      QVERIFY2(pretokenizer_family_find(name) != nullptr, name);
    }
    QCOMPARE(pretokenizer_family_find("llama-bpe")->name, std::string("llama3"));
    QCOMPARE(pretokenizer_family_find("gpt2")->name, std::string("gpt-2"));
    QCOMPARE(pretokenizer_family_find("stablelm2")->name, std::string("qwen2"));
    QVERIFY(pretokenizer_family_find("llama3")->ignore_merges);
    QVERIFY(pretokenizer_family_find("llama3")->add_bos);
    QVERIFY(!pretokenizer_family_find("qwen2")->add_bos);
    // MPT splits as GPT-2, refact as starcoder.
    QCOMPARE(pretokenizer_family_find("mpt")->regexes, pretokenizer_family_find("gpt-2")->regexes);
    QCOMPARE(pretokenizer_family_find("refact")->regexes,
             pretokenizer_family_find("starcoder")->regexes);
    QVERIFY(pretokenizer_family_find("nonesuch") == nullptr);
  }

  void unknown_name_is_an_error_naming_it() {
    const std::string msg = flashchat_test::error_of([] { Pretokenizer("tekken", "vocab.gguf"); });
    VERIFY_CONTAINS(msg, "vocab.gguf");
    VERIFY_CONTAINS(msg, "unknown pre-tokenizer 'tekken'");
    VERIFY_CONTAINS(msg, "llama3");  // the known names are listed
    TokenizerSpec s;
    s.kind = TokenizerKind::ByteBpe;
    s.tokens = {"a", "b", "ab"};
    s.merges = {"a b"};
    s.pre_tokenizer = "nonesuch";
    VERIFY_CONTAINS(flashchat_test::error_of([&] { Tokenizer{s}; }), "nonesuch");
  }

  // Invalid UTF-8 bytes stay in the pieces (matched as U+FFFD) and nothing is lost.
  void invalid_utf8_is_kept() {
    const Pretokenizer p("llama3", "test");
    const std::string text = "ab\xff\xfe cd\xe2\x82 9";
    std::string joined;
    for (std::string_view s : p.split(text)) joined += s;
    QCOMPARE(joined, text);
  }

  // tokenizer.json pre-tokenizers: Llama 3's Split + ByteLevel(use_regex false), Falcon's
  // Punctuation + ByteLevel + Digits + Split, StarCoder's Digits + ByteLevel, GPT-2's ByteLevel.
  void tokenizer_json_pre_tokenizers_are_families() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto family_of = [&](const json& pre) {
      const std::string path = dir.filePath("tokenizer.json").toStdString();
      std::ofstream(path) << byte_level_json(pre);
      return tokenizer_spec_from_hf_json(path).pre_tokenizer;
    };
    const json byte_level_plain = {{"type", "ByteLevel"}, {"use_regex", false}};
    const json byte_level_regex = {{"type", "ByteLevel"}, {"use_regex", true}};
    const std::string llama3_hf = pretokenizer_family_find("llama3")->hf_regexes.at(0);
    const std::string qwen2_hf = pretokenizer_family_find("qwen2")->hf_regexes.at(0);
    QCOMPARE(family_of({{"type", "Sequence"},
                        {"pretokenizers", {split_node(llama3_hf), byte_level_plain}}}),
             std::string("llama3"));
    QCOMPARE(family_of({{"type", "Sequence"},
                        {"pretokenizers", {split_node(qwen2_hf), byte_level_plain}}}),
             std::string("qwen2"));
    QCOMPARE(family_of({{"type", "Sequence"},
                        {"pretokenizers",
                         {{{"type", "Punctuation"}, {"behavior", "Contiguous"}},
                          byte_level_regex,
                          {{"type", "Digits"}, {"individual_digits", false}},
                          split_node("[0-9][0-9][0-9]")}}}),
             std::string("falcon"));
    QCOMPARE(family_of({{"type", "Sequence"},
                        {"pretokenizers",
                         {{{"type", "Digits"}, {"individual_digits", true}}, byte_level_regex}}}),
             std::string("starcoder"));
    QCOMPARE(family_of(byte_level_regex), std::string("gpt-2"));
    // A pattern no family has is refused, naming the file and the pattern.
    const std::string msg = flashchat_test::error_of([&] {
      family_of(
          {{"type", "Sequence"}, {"pretokenizers", {split_node("[a-z]+"), byte_level_plain}}});
    });
    VERIFY_CONTAINS(msg, "tokenizer.json");
    VERIFY_CONTAINS(msg, "unknown pre-tokenizer");
    VERIFY_CONTAINS(msg, "[a-z]+");
  }

  // tokenizer.json's BOS rule (no tokenizer_config.json): a TemplateProcessing post-processor
  // that starts a sequence with BOS adds it; a ByteLevel-only post-processor does not, even for
  // the llama3 family; without a post-processor the family's default applies.
  void tokenizer_json_bos_from_post_processor() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath("tokenizer.json").toStdString();
    const json llama3_pre = {{"type", "Sequence"},
                             {"pretokenizers",
                              {split_node(pretokenizer_family_find("llama3")->hf_regexes.at(0)),
                               {{"type", "ByteLevel"}, {"use_regex", false}}}}};
    const json template_bos = {{"type", "TemplateProcessing"},
                               {"single",
                                {{{"SpecialToken", {{"id", "<|begin_of_text|>"}, {"type_id", 0}}}},
                                 {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}}};
    const json byte_level_post = {{"type", "ByteLevel"}};
    auto spec_of = [&](const json& pre, const json& post) {
      std::ofstream(path) << byte_level_json(pre, post);
      return tokenizer_spec_from_hf_json(path);
    };
    const TokenizerSpec with = spec_of(
        llama3_pre, {{"type", "Sequence"}, {"processors", {byte_level_post, template_bos}}});
    QCOMPARE(with.bos_id, 6);
    QVERIFY(with.add_bos);
    QCOMPARE(Tokenizer(with).encode_prompt("ab", false), (std::vector<int>{6, 3}));
    QVERIFY(!spec_of(llama3_pre, byte_level_post).add_bos);
    QVERIFY(spec_of(llama3_pre, nullptr).add_bos);
    QVERIFY(!spec_of({{"type", "ByteLevel"}}, nullptr).add_bos);
  }

  // Llama 3 (ignore_merges): a word that is itself a token is that token, even when the merges
  // would not build it; GPT-2 merges by rank only.
  void llama3_ignores_merges_for_whole_words() {
    TokenizerSpec s;
    s.kind = TokenizerKind::ByteBpe;
    s.tokens = {"a", "b", "c", "ab", "abc"};
    s.merges = {"a b"};
    s.pre_tokenizer = "gpt-2";
    QCOMPARE(Tokenizer(s).encode("abc", false), (std::vector<int>{3, 2}));
    s.pre_tokenizer = "llama3";
    QCOMPARE(Tokenizer(s).encode("abc", false), (std::vector<int>{4}));
    QCOMPARE(Tokenizer(s).encode("abca", false), (std::vector<int>{3, 2, 0}));
  }
};

QTEST_GUILESS_MAIN(PretokenizerTest)
#include "pretokenizer_test.moc"
