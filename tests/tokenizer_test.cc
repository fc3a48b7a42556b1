// tokenizer_test.cc - Spm and byte-level BPE tokenizers against llama.cpp's vocabulary test
// vectors, the stories260K tokenizer, Hugging Face tokenizer.json files and bad input.
#include "model/tokenizer.h"

#include <QTemporaryDir>
#include <QtTest>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "formats/gguf.h"
#include "model/tokenizer_gguf.h"
#include "model/tokenizer_json.h"
#include "test_support.h"

using namespace flashchat;
using flashchat_test::read_all;

namespace {

Tokenizer load_gguf_tokenizer(const QString& path) {
  return Tokenizer(tokenizer_spec_from_gguf(GgufFile::open(path.toStdString())));
}

QString ids_string(const std::vector<int>& ids) {
  QStringList parts;
  for (int id : ids) parts << QString::number(id);
  return parts.join(' ');
}

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

bool is_complete_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

// A minimal GGUF v3 image with only string / string-array metadata, for error-path tests.
struct GgufBuilder {
  std::string bytes;
  uint64_t n_kv = 0;
  void u32(uint32_t v) { bytes.append(reinterpret_cast<const char*>(&v), 4); }
  void u64(uint64_t v) { bytes.append(reinterpret_cast<const char*>(&v), 8); }
  void str(const std::string& s) {
    u64(s.size());
    bytes += s;
  }
  void kv_string(const std::string& key, const std::string& value) {
    str(key);
    u32(8);
    str(value);
    ++n_kv;
  }
  void kv_strings(const std::string& key, const std::vector<std::string>& values) {
    str(key);
    u32(9);
    u32(8);
    u64(values.size());
    for (const auto& v : values) str(v);
    ++n_kv;
  }
  void kv_u32(const std::string& key, uint32_t value) {
    str(key);
    u32(4);
    u32(value);
    ++n_kv;
  }
  void kv_bool(const std::string& key, bool value) {
    str(key);
    u32(7);
    bytes += static_cast<char>(value ? 1 : 0);
    ++n_kv;
  }
  GgufFile build() const {
    std::string image = "GGUF";
    uint32_t version = 3;
    uint64_t n_tensors = 0;
    image.append(reinterpret_cast<const char*>(&version), 4);
    image.append(reinterpret_cast<const char*>(&n_tensors), 8);
    image.append(reinterpret_cast<const char*>(&n_kv), 8);
    image += bytes;
    while (image.size() % 32) image += '\0';
    return GgufFile::parse_bytes(reinterpret_cast<const uint8_t*>(image.data()), image.size(),
                                 "built.gguf");
  }
};

}  // namespace

class TokenizerTest : public QObject {
  Q_OBJECT

 private:
  // Every case of `vocab`'s .inp must encode (no BOS, no special parsing) to the ids of the
  // matching .out line and decode back to the input.
  void check_vocab(const QString& vocab) {
    const QString path = flashchat_test::fixture_path("tokenizers/" + vocab);
    REQUIRE_FIXTURE(path);
    const Tokenizer tok = load_gguf_tokenizer(path);
    const auto cases = flashchat_test::vocab_test_cases(path + ".inp");
    const auto expected = flashchat_test::vocab_test_expected(path + ".out");
    QVERIFY(!cases.empty());
    QCOMPARE(cases.size(), expected.size());
    int encode_ok = 0, decode_ok = 0;
    QStringList failures;
    for (size_t i = 0; i < cases.size(); ++i) {
      const std::vector<int> ids = tok.encode(cases[i], /*add_bos=*/false, false);
      if (ids == expected[i]) {
        ++encode_ok;
      } else {
        failures << QString("case %1 '%2': got [%3] want [%4]")
                        .arg(i)
                        .arg(QString::fromStdString(cases[i]))
                        .arg(ids_string(ids), ids_string(expected[i]));
      }
      const std::string back = tok.decode(expected[i]);
      if (back == cases[i]) {
        ++decode_ok;
      } else {
        failures << QString("case %1 decode: got '%2' want '%3'")
                        .arg(i)
                        .arg(QString::fromStdString(back), QString::fromStdString(cases[i]));
      }
    }
    qInfo("%s: encode %d/%zu, decode %d/%zu", qPrintable(vocab), encode_ok, cases.size(), decode_ok,
          cases.size());
    for (const QString& f : failures) qWarning("%s", qPrintable(f));
    QCOMPARE(encode_ok, static_cast<int>(cases.size()));
    QCOMPARE(decode_ok, static_cast<int>(cases.size()));
  }

 private slots:
  void llama_spm_vocab_cases() { check_vocab("ggml-vocab-llama-spm.gguf"); }
  void gpt2_vocab_cases() { check_vocab("ggml-vocab-gpt-2.gguf"); }

  void spec_from_gguf_reads_metadata() {
    const QString spm = flashchat_test::fixture_path("tokenizers/ggml-vocab-llama-spm.gguf");
    const QString gpt2 = flashchat_test::fixture_path("tokenizers/ggml-vocab-gpt-2.gguf");
    REQUIRE_FIXTURE(spm);
    REQUIRE_FIXTURE(gpt2);
    const TokenizerSpec s = tokenizer_spec_from_gguf(GgufFile::open(spm.toStdString()));
    QCOMPARE(s.kind, TokenizerKind::Spm);
    QCOMPARE(s.scores.size(), s.tokens.size());
    QCOMPARE(s.token_types.size(), s.tokens.size());
    QVERIFY(s.add_space_prefix);
    QCOMPARE(s.tokens[s.bos_id], std::string("<s>"));
    QCOMPARE(s.tokens[s.eos_id], std::string("</s>"));
    const TokenizerSpec g = tokenizer_spec_from_gguf(GgufFile::open(gpt2.toStdString()));
    QCOMPARE(g.kind, TokenizerKind::ByteBpe);
    QVERIFY(!g.merges.empty());
    QVERIFY(!g.add_space_prefix);
  }

  void parse_special_splits_control_tokens() {
    const QString path = flashchat_test::fixture_path("tokenizers/ggml-vocab-llama-spm.gguf");
    REQUIRE_FIXTURE(path);
    const Tokenizer tok = load_gguf_tokenizer(path);
    const std::string text = "Hello</s><s>world";
    const auto plain = tok.encode(text, false, false);
    const auto special = tok.encode(text, false, true);
    QVERIFY(std::find(plain.begin(), plain.end(), tok.eos_id()) == plain.end());
    QVERIFY(std::find(special.begin(), special.end(), tok.eos_id()) != special.end());
    QVERIFY(std::find(special.begin(), special.end(), tok.bos_id()) != special.end());
    QVERIFY(tok.is_control(tok.eos_id()));
    QCOMPARE(tok.decode(plain), text);  // as plain text the markup survives a round trip
    // Control tokens produce no text: the rest decodes to the surrounding words.
    const std::string words = tok.decode(special);
    QVERIFY(words.find("Hello") != std::string::npos);
    QVERIFY(words.find("world") != std::string::npos);
    QVERIFY(words.find("</s>") == std::string::npos);
  }

  void gpt2_parse_special_and_invalid_utf8() {
    const QString path = flashchat_test::fixture_path("tokenizers/ggml-vocab-gpt-2.gguf");
    REQUIRE_FIXTURE(path);
    const Tokenizer tok = load_gguf_tokenizer(path);
    const std::string text = "a<|endoftext|>b";
    const auto special = tok.encode(text, false, true);
    const int eot = tok.encode("<|endoftext|>", false, true).at(0);
    QCOMPARE(tok.token_text(eot), std::string("<|endoftext|>"));
    QCOMPARE(special.size(), size_t(3));
    QCOMPARE(special[1], eot);
    const auto plain = tok.encode(text, false, false);
    QVERIFY(std::find(plain.begin(), plain.end(), eot) == plain.end());
    QCOMPARE(tok.decode(plain), text);
    // Bytes that are not valid UTF-8 still round-trip, in both tokenizer families.
    const std::string junk = "x\xc3 \xff\xfe y\xe2\x82 \x80z";
    QCOMPARE(tok.decode(tok.encode(junk, false)), junk);
    const QString spm_path = flashchat_test::fixture_path("tokenizers/ggml-vocab-llama-spm.gguf");
    REQUIRE_FIXTURE(spm_path);
    const Tokenizer spm = load_gguf_tokenizer(spm_path);
    QCOMPARE(spm.decode(spm.encode(junk, false)), junk);
  }

  void stories260k_tokenizer() {
    const QString path = flashchat_test::fixture_path("models/stories260K/stories260K.gguf");
    REQUIRE_FIXTURE(path);
    const Tokenizer tok = load_gguf_tokenizer(path);
    QCOMPARE(tok.vocab_size(), 512);
    const std::string text = "Once upon a time";
    const auto ids = tok.encode(text, /*add_bos=*/true);
    QVERIFY(ids.size() > 1);
    QCOMPARE(ids[0], 1);
    QCOMPARE(tok.bos_id(), 1);
    QCOMPARE(tok.decode(ids), text);
    QCOMPARE(tok.decode(tok.encode(text, false)), text);
  }

  void streaming_matches_decode_through_byte_fallback() {
    const QString path = flashchat_test::fixture_path("models/stories260K/stories260K.gguf");
    REQUIRE_FIXTURE(path);
    const Tokenizer tok = load_gguf_tokenizer(path);
    const std::string text =
        "Lily said: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xbd\xa0\xe5\xa5\xbd!";
    const auto ids = tok.encode(text, true);
    int byte_tokens = 0;
    for (int id : ids) byte_tokens += tok.token_text(id).rfind("<0x", 0) == 0;
    QVERIFY2(byte_tokens >= 4, "the multi-byte characters should go through byte fallback");
    const std::string decoded = tok.decode(ids);
    QCOMPARE(decoded, text);
    Utf8Streamer streamer;
    std::string streamed;
    int prev = -1;
    for (int id : ids) {
      const std::string piece = streamer.push(tok.token_bytes(prev, id));
      QVERIFY(is_complete_utf8(piece));
      streamed += piece;
      prev = id;
    }
    streamed += streamer.flush();
    QCOMPARE(streamed, decoded);
  }

  void utf8_streamer_holds_partial_characters() {
    Utf8Streamer s;
    QCOMPARE(s.push("a\xe2"), std::string("a"));
    QCOMPARE(s.push("\x82"), std::string());
    QCOMPARE(s.push("\xac"
                    "b"),
             std::string("\xe2\x82\xac"
                         "b"));
    QCOMPARE(s.push("\xf0\x9f"), std::string());
    QCOMPARE(s.flush(), std::string("\xf0\x9f"));
    QCOMPARE(s.flush(), std::string());
    QCOMPARE(s.push("\x80x"), std::string("\x80x"));  // stray continuation bytes are not held
  }

  void hf_json_matches_reference_ids() {
    for (const char* dir : {"tiny_llama", "tiny_opt"}) {
      const QString ref_path = flashchat_test::test_data_path(QString(dir) + "/reference.json");
      REQUIRE_FIXTURE(ref_path);
      const auto ref = nlohmann::json::parse(read_all(ref_path));
      QVERIFY2(ref.contains("text") && ref.contains("text_ids"),
               qPrintable(ref_path + " has no text / text_ids"));
      const std::string json_path =
          flashchat_test::test_data_path(QString(dir) + "/tokenizer.json").toStdString();
      const Tokenizer tok(tokenizer_spec_from_hf_json(json_path));
      const std::string text = ref["text"].get<std::string>();
      const auto want = ref["text_ids"].get<std::vector<int>>();
      const auto got = tok.encode(text, false);
      QVERIFY2(got == want,
               qPrintable(
                   QString("%1: got [%2] want [%3]").arg(dir, ids_string(got), ids_string(want))));
      QCOMPARE(tok.decode(got), text);
    }
  }

  void hf_json_kinds_and_specials() {
    const QString llama = flashchat_test::test_data_path("tiny_llama/tokenizer.json");
    const QString opt = flashchat_test::test_data_path("tiny_opt/tokenizer.json");
    REQUIRE_FIXTURE(llama);
    REQUIRE_FIXTURE(opt);
    const TokenizerSpec l = tokenizer_spec_from_hf_json(llama.toStdString());
    QCOMPARE(l.kind, TokenizerKind::Spm);
    QVERIFY(l.add_space_prefix);
    QCOMPARE(l.tokens[l.bos_id], std::string("<s>"));
    QCOMPARE(l.tokens[l.eos_id], std::string("</s>"));
    QCOMPARE(l.token_types[l.bos_id], TokenType::Control);
    QVERIFY(l.add_bos);
    const TokenizerSpec o = tokenizer_spec_from_hf_json(opt.toStdString());
    QCOMPARE(o.kind, TokenizerKind::ByteBpe);
    QCOMPARE(o.tokens[o.eos_id], std::string("</s>"));
    QCOMPARE(o.bos_id, o.eos_id);  // OPT's config uses </s> as BOS
  }

  void hf_json_bad_input_names_file() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    auto write = [&](const char* name, const std::string& body) {
      const std::string p = dir.filePath(name).toStdString();
      std::ofstream(p) << body;
      return p;
    };
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"truncated.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {"},
        {"wordpiece.json", R"({"model": {"type": "WordPiece", "vocab": {"a": 0}}})"},
        {"novocab.json", R"({"model": {"type": "BPE", "merges": []}})"},
        {"badmerge.json",
         R"({"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "BPE",
             "vocab": {"a": 0, "b": 1}, "merges": ["a zz"]}})"},
        {"badid.json", R"({"pre_tokenizer": {"type": "ByteLevel"},
             "model": {"type": "BPE", "vocab": {"a": -4}, "merges": []}})"},
        {"unknownkind.json", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})"},
        {"array.json", "[1, 2]"},
        // Found by tests/fuzz/tokenizer_json_fuzz: fields of the wrong JSON type once escaped
        // as nlohmann exceptions instead of Error.
        {"nullfallback.json", R"({"model": {"type": "BPE", "byte_fallback": null,
             "vocab": {"a": 0}, "merges": []}})"},
        {"numbertype.json", R"({"pre_tokenizer": {"type": 5}, "model": {"type": "BPE",
             "vocab": {"a": 0}, "merges": []}})"},
    };
    for (const auto& [name, body] : bad) {
      const std::string p = write(name.c_str(), body);
      try {
        tokenizer_spec_from_hf_json(p);
        QFAIL(qPrintable(QString::fromStdString("no error for " + name)));
      } catch (const Error& e) {
        QVERIFY2(std::string(e.what()).find(name) != std::string::npos, e.what());
      }
    }
    QVERIFY_THROWS_EXCEPTION(
        Error, tokenizer_spec_from_hf_json(dir.filePath("missing.json").toStdString()));
    // Merges given as pairs are accepted.
    const std::string pairs = write("pairs.json", R"({"pre_tokenizer": {"type": "ByteLevel"},
        "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a", "b"]]}})");
    const Tokenizer tok(tokenizer_spec_from_hf_json(pairs));
    QCOMPARE(tok.encode("ab", false), std::vector<int>{2});
    QCOMPARE(tok.encode("aab", false), (std::vector<int>{0, 2}));
  }

  void gguf_unsupported_model_is_error() {
    GgufBuilder b;
    b.kv_string("tokenizer.ggml.model", "bert");
    b.kv_strings("tokenizer.ggml.tokens", {"a", "b"});
    try {
      tokenizer_spec_from_gguf(b.build());
      QFAIL("no error for tokenizer model bert");
    } catch (const Error& e) {
      QVERIFY2(std::string(e.what()).find("bert") != std::string::npos, e.what());
      QVERIFY2(std::string(e.what()).find("built.gguf") != std::string::npos, e.what());
    }
    GgufBuilder none;
    none.kv_string("general.name", "x");
    QVERIFY_THROWS_EXCEPTION(Error, tokenizer_spec_from_gguf(none.build()));
  }

  // A byte-level vocabulary naming a pre-tokenizer no family has is refused, naming the file and
  // the name, instead of being split by some other family's regexes.
  void gguf_unknown_pre_tokenizer_is_error() {
    GgufBuilder b;
    b.kv_string("tokenizer.ggml.model", "gpt2");
    b.kv_string("tokenizer.ggml.pre", "tekken");
    b.kv_strings("tokenizer.ggml.tokens", {"a", "b", "ab"});
    b.kv_strings("tokenizer.ggml.merges", {"a b"});
    const std::string msg = flashchat_test::error_of([&] { tokenizer_spec_from_gguf(b.build()); });
    VERIFY_CONTAINS(msg, "built.gguf");
    VERIFY_CONTAINS(msg, "unknown pre-tokenizer tokenizer.ggml.pre = 'tekken'");
  }

  // The BOS rule: tokenizer.ggml.add_bos_token decides; without it SentencePiece and the llama3
  // family add BOS, other byte-level families do not. encode_prompt (what generate and chat use)
  // follows it; an empty prompt still starts from BOS.
  void bos_rule_follows_the_model() {
    auto spec_of = [](const std::string& model, const std::string& pre, int add_bos) {
      GgufBuilder b;
      b.kv_string("tokenizer.ggml.model", model);
      b.kv_string("tokenizer.ggml.pre", pre);
      b.kv_strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a", "b", "ab"});
      b.kv_strings("tokenizer.ggml.merges", {"a b"});
      b.kv_u32("tokenizer.ggml.bos_token_id", 1);
      if (add_bos >= 0) b.kv_bool("tokenizer.ggml.add_bos_token", add_bos == 1);
      return tokenizer_spec_from_gguf(b.build());
    };
    QVERIFY(spec_of("llama", "default", -1).add_bos);
    QVERIFY(!spec_of("llama", "default", 0).add_bos);
    QVERIFY(spec_of("gpt2", "llama-bpe", -1).add_bos);
    QVERIFY(!spec_of("gpt2", "llama-bpe", 0).add_bos);
    QVERIFY(!spec_of("gpt2", "qwen2", -1).add_bos);
    QVERIFY(!spec_of("gpt2", "falcon", -1).add_bos);
    QVERIFY(spec_of("gpt2", "falcon", 1).add_bos);
    TokenizerSpec no_bos = spec_of("llama", "default", 0);
    const Tokenizer without(no_bos);
    QCOMPARE(without.encode_prompt("ab", false), without.encode("ab", false));
    QCOMPARE(without.encode_prompt("", false), std::vector<int>{1});
    const Tokenizer with(spec_of("llama", "default", 1));
    const std::vector<int> plain = with.encode("ab", false);
    std::vector<int> prompt = {1};
    prompt.insert(prompt.end(), plain.begin(), plain.end());
    QCOMPARE(with.encode_prompt("ab", false), prompt);
  }

  void inconsistent_spec_is_error() {
    QVERIFY_THROWS_EXCEPTION(Error, Tokenizer(TokenizerSpec{}));
    TokenizerSpec s;
    s.tokens = {"a", "b"};
    s.scores = {0.0f};
    QVERIFY_THROWS_EXCEPTION(Error, Tokenizer{s});
    s.scores.clear();
    s.bos_id = 7;
    QVERIFY_THROWS_EXCEPTION(Error, Tokenizer{s});
    s.bos_id = -1;
    s.kind = TokenizerKind::ByteBpe;
    s.merges = {"a c"};
    QVERIFY_THROWS_EXCEPTION(Error, Tokenizer{s});
    QVERIFY_THROWS_EXCEPTION(Error, Tokenizer{s}.token_text(0));
  }

  // Encoding is hash-map based and O(n log n): a few KB take milliseconds, and 8x the text takes
  // about 8x the time (not 64x). Measured in thread CPU time (immune to a loaded machine); the
  // bounds are loose so that slow (sanitizer) builds pass.
  void encode_is_fast() {
    for (const char* vocab : {"ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf"}) {
      const QString path = flashchat_test::fixture_path(QString("tokenizers/") + vocab);
      REQUIRE_FIXTURE(path);
      const Tokenizer tok = load_gguf_tokenizer(path);
      std::string small = read_all(path + ".inp");
      while (small.size() < 8192) small += small;
      std::string large;
      for (int i = 0; i < 8; ++i) large += small;
      auto time_ms = [&](const std::string& text) {
        const double start = thread_cpu_ms();
        const auto ids = tok.encode(text, false);
        const double ms = thread_cpu_ms() - start;
        if (tok.decode(ids) != text) return -1.0;
        return ms;
      };
      const double small_ms = time_ms(small), large_ms = time_ms(large);
      qInfo("%s: %zu bytes in %.1f ms, %zu bytes in %.1f ms", vocab, small.size(), small_ms,
            large.size(), large_ms);
      QVERIFY(small_ms >= 0 && large_ms >= 0);  // both round-tripped
      QVERIFY(small_ms < 1000);
      QVERIFY(large_ms < 40 * std::max(small_ms, 1.0));
    }
  }
};

QTEST_GUILESS_MAIN(TokenizerTest)
#include "tokenizer_test.moc"
