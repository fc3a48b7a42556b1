// pretokenizer.cc - the pre-tokenizer regex families and ICU-based splitting (see pretokenizer.h).
//
// The patterns are the published ones (Hugging Face tokenizer.json files of each model family,
// as llama.cpp lists them per `tokenizer.ggml.pre`).
#include "model/pretokenizer.h"

#include <unicode/regex.h>
#include <unicode/unistr.h>

#include "core/error.h"

namespace flashchat {

namespace {

// GPT-2's pattern (the ByteLevel pre-tokenizer's), used alone or inside several families.
const char* const kGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// Llama 3 and Qwen2: contractions in either case, a letter run with one leading non-letter,
// digit groups (1-3 for Llama 3, single digits for Qwen2), punctuation runs with trailing
// newlines, newline runs, other whitespace.
const char* const kLlama3 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]))"
    R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kLlama3Hf =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d))"
    R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kQwen2 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]))"
    R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kQwen2Hf =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d))"
    R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Hugging Face's Punctuation pre-tokenizer: Unicode punctuation plus the ASCII symbols Rust's
// is_ascii_punctuation counts ($ + < = > ^ ` | ~); "Contiguous" keeps runs together.
const char* const kPunctRun = R"([\p{P}\$\+<=>\^~\|`]+)";
// CJK ideographs (and U+0800..U+4E00), Hangul: DeepSeek keeps these runs together.
const char* const kCjkRun = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+";

const std::vector<PretokenizerFamily>& families() {
  static const std::vector<PretokenizerFamily> table = {
      // llama.cpp's choice for a BPE vocabulary that names no pre-tokenizer.
      {"default", {}, {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2, R"(\p{N}+)", "[0-9][0-9][0-9]"}, {}},
      {"gpt-2",
       {"gpt2", "phi-2", "roberta-bpe", "jina-es", "jina-de", "olmo", "jais"},
       {kGpt2},
       {}},
      {"mpt", {}, {kGpt2}, {}},
      {"llama3",
       {"llama-bpe", "llama-v3", "falcon3", "dbrx", "smaug-bpe"},
       {kLlama3},
       {kLlama3Hf},
       /*ignore_merges=*/true,
       /*add_bos=*/true},
      {"qwen2", {"stablelm2", "deepseek-r1-qwen", "megrez"}, {kQwen2}, {kQwen2Hf}},
      {"deepseek-llm",
       {},
       {"[\r\n]",
        "\\s?[A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293"
        "\u0295-\u02af\u0370-\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c"
        "\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481\u048a-\u052f\u0531-\u0556\u10a0-\u10c5"
        "\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-\u1d77"
        "\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57\u1f59"
        "\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc"
        "\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc\u2102\u2107"
        "\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139"
        "\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee"
        "\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e"
        "\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a\uff41-\uff5a\U00010400-\U0001044f"
        "\U000104b0-\U000104d3\U000104d8-\U000104fb\U00010c80-\U00010cb2\U00010cc0-\U00010cf2"
        "\U000118a0-\U000118df\U0001e900-\U0001e943]+",
        "\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+", R"(\s+$)", kCjkRun,
        R"(\p{N}+)"},
       {}},
      {"deepseek-coder", {}, {"[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", kCjkRun, R"(\p{N})"}, {}},
      // tokenizer.json: Punctuation(contiguous), ByteLevel(use_regex), Digits(runs), Split of
      // three-digit groups.
      {"falcon", {}, {kPunctRun, kGpt2, R"(\p{N}+)", "[0-9][0-9][0-9]"}, {}},
      {"starcoder",
       {"smollm", "codeshell", "exaone", "minerva-7b", "command-r"},
       {R"(\p{N})", kGpt2},
       {}},
      {"refact", {}, {R"(\p{N})", kGpt2}, {}},
  };
  return table;
}

// Appends `text` as UTF-16 to `u16`, recording for every UTF-16 unit the byte offset of the
// character it belongs to (and the end offset last). Bytes that are not well-formed UTF-8
// become U+FFFD, one per byte.
void utf8_to_utf16(std::string_view text, icu::UnicodeString& u16, std::vector<size_t>& byte_of) {
  byte_of.clear();
  byte_of.reserve(text.size() + 1);
  for (size_t pos = 0; pos < text.size();) {
    const auto c = static_cast<unsigned char>(text[pos]);
    size_t n = c < 0x80             ? 1
               : (c & 0xE0) == 0xC0 ? 2
               : (c & 0xF0) == 0xE0 ? 3
               : (c & 0xF8) == 0xF0 ? 4
                                    : 0;
    UChar32 cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    bool ok = n > 0 && pos + n <= text.size();
    for (size_t k = 1; ok && k < n; ++k) {
      const auto cc = static_cast<unsigned char>(text[pos + k]);
      ok = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not characters either.
    if (ok && ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
               (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)) {
      ok = false;
    }
    if (!ok) {
      n = 1;
      cp = 0xFFFD;
    }
    const int32_t before = u16.length();
    u16.append(cp);
    for (int32_t k = before; k < u16.length(); ++k) byte_of.push_back(pos);
    pos += n;
  }
  byte_of.push_back(text.size());
}

}  // namespace

const PretokenizerFamily* pretokenizer_family_find(std::string_view pre) {
  for (const PretokenizerFamily& f : families()) {
    if (f.name == pre) return &f;
    for (const std::string& a : f.aliases) {
      if (a == pre) return &f;
    }
  }
  return nullptr;
}

std::string pretokenizer_known_names() {
  std::string out;
  for (const PretokenizerFamily& f : families()) {
    out += (out.empty() ? "" : ", ") + f.name;
    for (const std::string& a : f.aliases) out += ", " + a;
  }
  return out;
}

const PretokenizerFamily* pretokenizer_family_of_regexes(const std::vector<std::string>& regexes) {
  for (const PretokenizerFamily& f : families()) {
    if (f.regexes == regexes || (!f.hf_regexes.empty() && f.hf_regexes == regexes)) return &f;
  }
  return nullptr;
}

struct Pretokenizer::Impl {
  const PretokenizerFamily* family = nullptr;
  std::vector<std::unique_ptr<icu::RegexPattern>> patterns;
};

Pretokenizer::Pretokenizer(std::string_view pre, const std::string& source)
    : impl_(std::make_unique<Impl>()) {
  impl_->family = pretokenizer_family_find(pre);
  if (impl_->family == nullptr) {
    fail(source, "unknown pre-tokenizer '" + std::string(pre) +
                     "' (known: " + pretokenizer_known_names() + ")");
  }
  for (const std::string& re : impl_->family->regexes) {
    UErrorCode status = U_ZERO_ERROR;
    UParseError parse{};
    std::unique_ptr<icu::RegexPattern> p(
        icu::RegexPattern::compile(icu::UnicodeString::fromUTF8(re), 0, parse, status));
    if (U_FAILURE(status) || !p) {
      fail(source, "pre-tokenizer '" + impl_->family->name + "': regex '" + re +
                       "' does not compile (" + u_errorName(status) + " at offset " +
                       std::to_string(parse.offset) + ")");
    }
    impl_->patterns.push_back(std::move(p));
  }
}

Pretokenizer::~Pretokenizer() = default;
Pretokenizer::Pretokenizer(Pretokenizer&&) noexcept = default;
Pretokenizer& Pretokenizer::operator=(Pretokenizer&&) noexcept = default;

const PretokenizerFamily& Pretokenizer::family() const {
  return *impl_->family;
}

std::vector<std::string_view> Pretokenizer::split(std::string_view text) const {
  if (text.empty()) return {};
  icu::UnicodeString u16;
  std::vector<size_t> byte_of;
  utf8_to_utf16(text, u16, byte_of);
  // Pieces as [start, end) in UTF-16 units.
  std::vector<std::pair<int32_t, int32_t>> pieces{{0, u16.length()}}, next;
  for (const auto& pattern : impl_->patterns) {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::RegexMatcher> m(pattern->matcher(u16, status));
    if (U_FAILURE(status))
      fail("pre-tokenizer", std::string("ICU matcher: ") + u_errorName(status));
    next.clear();
    for (const auto& [a, b] : pieces) {
      m->region(a, b, status);  // bounds are opaque and anchoring: the piece is the whole text
      int32_t done = a;
      while (m->find()) {
        const int32_t s = m->start(status), e = m->end(status);
        if (U_FAILURE(status))
          fail("pre-tokenizer", std::string("ICU find: ") + u_errorName(status));
        if (e == s) continue;  // an empty match splits nothing
        if (s > done) next.emplace_back(done, s);
        next.emplace_back(s, e);
        done = e;
      }
      if (b > done) next.emplace_back(done, b);
    }
    pieces.swap(next);
  }
  std::vector<std::string_view> out;
  out.reserve(pieces.size());
  for (const auto& [a, b] : pieces) {
    out.push_back(text.substr(byte_of[a], byte_of[b] - byte_of[a]));
  }
  return out;
}

}  // namespace flashchat
