// tokenizer.cc - Spm and byte-level BPE encode/decode (see tokenizer.h for the contracts).
//
// Both algorithms run the same merge loop over a doubly linked list of symbols with a priority
// queue of candidate pairs (stale entries are skipped when popped), so encoding is
// O(n log n) per pre-tokenised word.
#include "model/tokenizer.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>
#include <queue>

#include "core/error.h"
#include "model/pretokenizer.h"

namespace flashchat {

namespace {

constexpr const char* kSource = "tokenizer";
const std::string kSpmSpace = "\xe2\x96\x81";  // U+2581 "▁"

// Transparent hashing so maps keyed by std::string can be probed with string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TokenMap = std::unordered_map<std::string, int, StringHash, std::equal_to<>>;

// Length of the UTF-8 sequence introduced by lead byte `c` (1 for invalid leads).
size_t utf8_len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0) return 4;
  return 1;
}

// Bytes of the character at s[pos]: its UTF-8 length when the sequence is complete and well
// formed, else 1 (a stray byte is a character of its own).
size_t utf8_char_len(std::string_view s, size_t pos) {
  const size_t n = utf8_len(static_cast<unsigned char>(s[pos]));
  if (pos + n > s.size()) return 1;
  for (size_t i = 1; i < n; ++i) {
    if ((static_cast<unsigned char>(s[pos + i]) & 0xC0) != 0x80) return 1;
  }
  return n;
}

// Decodes the code point at s[pos] (advancing pos); invalid bytes decode as themselves.
uint32_t utf8_next(std::string_view s, size_t& pos) {
  const auto c = static_cast<unsigned char>(s[pos]);
  size_t n = utf8_len(c);
  if (n == 1 || pos + n > s.size()) {
    ++pos;
    return c;
  }
  uint32_t cp = c & (0x7F >> n);
  for (size_t i = 1; i < n; ++i) {
    const auto cc = static_cast<unsigned char>(s[pos + i]);
    if ((cc & 0xC0) != 0x80) {
      ++pos;
      return c;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  pos += n;
  return cp;
}

void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// GPT-2's reversible byte -> printable code point table: printable Latin-1 bytes map to
// themselves, the rest to 256, 257, ... in byte order.
std::array<uint32_t, 256> gpt2_byte_to_cp() {
  std::array<uint32_t, 256> table{};
  uint32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
    table[b] = printable ? static_cast<uint32_t>(b) : next++;
  }
  return table;
}

// "<0x4A>" -> 0x4A; -1 when `text` is not a byte token text.
int parse_byte_token(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
  int v = 0;
  for (size_t i = 3; i < 5; ++i) {
    const char c = text[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= c - '0';
    else if (c >= 'A' && c <= 'F')
      v |= c - 'A' + 10;
    else if (c >= 'a' && c <= 'f')
      v |= c - 'a' + 10;
    else
      return -1;
  }
  return v;
}

// One symbol of the merge loop: a byte range of the word being tokenised.
struct Symbol {
  int prev = -1;
  int next = -1;
  size_t start = 0;
  size_t len = 0;  // 0 once merged into its left neighbour
};

// A candidate merge of symbols `left` and left's successor. Higher priority pops first; ties
// go to the leftmost pair. `len` detects stale entries (a side changed since it was pushed).
struct Candidate {
  double priority;
  int left;
  int right;
  size_t len;
  bool operator<(const Candidate& o) const {
    if (priority != o.priority) return priority < o.priority;
    return left > o.left;
  }
};

}  // namespace

struct Tokenizer::Impl {
  TokenizerSpec spec;
  TokenMap token_to_id;
  std::unordered_map<uint64_t, int> merge_rank;  // (left id << 32 | right id) -> rank
  std::array<int, 256> byte_token{};             // Spm: byte -> <0xXX> id (or -1)
  std::array<std::string, 256> byte_to_str;      // ByteBpe: byte -> UTF-8 of its code point
  std::unordered_map<uint32_t, uint8_t> cp_to_byte;
  // Ids of the tokens parse_special matches, bucketed by first byte, longest text first.
  std::array<std::vector<int>, 256> specials;
  bool has_specials = false;
  std::optional<Pretokenizer> pretokenizer;  // ByteBpe: the word splitter
  std::string source = kSource;

  TokenType type(int id) const {
    return spec.token_types.empty() ? TokenType::Normal : spec.token_types[id];
  }
  int find(std::string_view s) const {
    auto it = token_to_id.find(s);
    return it == token_to_id.end() ? -1 : it->second;
  }

  // Runs the merge loop over `word` split into UTF-8 characters; `pair_priority` returns the
  // priority of merging two adjacent byte ranges or nullopt when they do not merge. Returns the
  // final symbols' byte ranges.
  template <typename PriorityFn>
  std::vector<std::string_view> merge_symbols(std::string_view word,
                                              const PriorityFn& pair_priority) const {
    std::vector<Symbol> syms;
    for (size_t pos = 0; pos < word.size();) {
      const size_t len = utf8_char_len(word, pos);
      Symbol s;
      s.start = pos;
      s.len = len;
      s.prev = static_cast<int>(syms.size()) - 1;
      s.next = pos + len < word.size() ? static_cast<int>(syms.size()) + 1 : -1;
      syms.push_back(s);
      pos += len;
    }
    std::priority_queue<Candidate> queue;
    auto try_push = [&](int left) {
      if (left < 0 || syms[left].next < 0) return;
      const Symbol& a = syms[left];
      const Symbol& b = syms[a.next];
      auto p = pair_priority(word.substr(a.start, a.len), word.substr(b.start, b.len));
      if (p) queue.push({*p, left, a.next, a.len + b.len});
    };
    for (int i = 0; i + 1 < static_cast<int>(syms.size()); ++i) try_push(i);
    while (!queue.empty()) {
      const Candidate c = queue.top();
      queue.pop();
      Symbol& a = syms[c.left];
      if (a.len == 0 || a.next != c.right) continue;
      Symbol& b = syms[c.right];
      if (a.len + b.len != c.len) continue;
      a.len += b.len;
      b.len = 0;
      a.next = b.next;
      if (b.next >= 0) syms[b.next].prev = c.left;
      try_push(a.prev);
      try_push(c.left);
    }
    std::vector<std::string_view> out;
    for (int i = syms.empty() ? -1 : 0; i >= 0; i = syms[i].next) {
      out.push_back(word.substr(syms[i].start, syms[i].len));
    }
    return out;
  }

  void encode_spm(std::string_view fragment, bool prefix, std::vector<int>& out) const {
    std::string text;
    text.reserve(fragment.size() * 2 + 3);
    if (prefix) text += kSpmSpace;
    for (char c : fragment) {
      if (c == ' ')
        text += kSpmSpace;
      else
        text += c;
    }
    std::string buf;
    auto priority = [&](std::string_view a, std::string_view b) -> std::optional<double> {
      buf.assign(a);
      buf.append(b);
      const int id = find(buf);
      if (id < 0) return std::nullopt;
      const TokenType t = type(id);
      if (t == TokenType::Control || t == TokenType::Byte || t == TokenType::Unknown ||
          t == TokenType::Unused) {
        return std::nullopt;
      }
      return spec.scores.empty() ? 0.0 : static_cast<double>(spec.scores[id]);
    };
    for (std::string_view sym : merge_symbols(text, priority)) {
      const int id = find(sym);
      if (id >= 0) {
        out.push_back(id);
        continue;
      }
      for (char c : sym) {
        const int b = byte_token[static_cast<unsigned char>(c)];
        if (b >= 0)
          out.push_back(b);
        else if (spec.unk_id >= 0)
          out.push_back(spec.unk_id);
      }
    }
  }

  void encode_bpe(std::string_view fragment, std::vector<int>& out) const {
    std::string mapped;
    const bool ignore_merges = pretokenizer->family().ignore_merges;
    for (std::string_view word : pretokenizer->split(fragment)) {
      mapped.clear();
      for (char c : word) mapped += byte_to_str[static_cast<unsigned char>(c)];
      if (ignore_merges) {  // a word that is a token is that token (Llama 3)
        const int whole = find(mapped);
        if (whole >= 0) {
          out.push_back(whole);
          continue;
        }
      }
      auto priority = [&](std::string_view a, std::string_view b) -> std::optional<double> {
        const int ia = find(a), ib = find(b);
        if (ia < 0 || ib < 0) return std::nullopt;
        auto it = merge_rank.find((uint64_t(uint32_t(ia)) << 32) | uint32_t(ib));
        if (it == merge_rank.end()) return std::nullopt;
        return -static_cast<double>(it->second);
      };
      for (std::string_view sym : merge_symbols(mapped, priority)) {
        const int id = find(sym);
        if (id >= 0) {
          out.push_back(id);
          continue;
        }
        for (size_t pos = 0; pos < sym.size();) {  // fall back to single characters
          const size_t len = utf8_char_len(sym, pos);
          const int cid = find(sym.substr(pos, len));
          if (cid >= 0)
            out.push_back(cid);
          else if (spec.unk_id >= 0)
            out.push_back(spec.unk_id);
          pos += len;
        }
      }
    }
  }
};

Tokenizer::Tokenizer(TokenizerSpec spec) : impl_(std::make_unique<Impl>()) {
  Impl& im = *impl_;
  const size_t n = spec.tokens.size();
  if (n == 0) fail(kSource, "vocabulary has no tokens");
  if (n > 0x7FFFFFFF) fail(kSource, "vocabulary too large");
  if (!spec.scores.empty() && spec.scores.size() != n) {
    fail(kSource, "scores has " + std::to_string(spec.scores.size()) + " entries but there are " +
                      std::to_string(n) + " tokens");
  }
  if (!spec.token_types.empty() && spec.token_types.size() != n) {
    fail(kSource, "token_type has " + std::to_string(spec.token_types.size()) +
                      " entries but there are " + std::to_string(n) + " tokens");
  }
  for (auto [name, id] : {std::pair{"bos", spec.bos_id},
                          {"eos", spec.eos_id},
                          {"unknown", spec.unk_id},
                          {"padding", spec.pad_id}}) {
    if (id < -1 || id >= static_cast<int>(n)) {
      fail(kSource, std::string(name) + " token id " + std::to_string(id) +
                        " out of range (vocabulary size " + std::to_string(n) + ")");
    }
  }
  im.token_to_id.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    im.token_to_id.emplace(spec.tokens[i], static_cast<int>(i));  // first id wins on duplicates
  }
  im.byte_token.fill(-1);
  for (size_t i = 0; i < n; ++i) {
    const TokenType t = spec.token_types.empty() ? TokenType::Normal : spec.token_types[i];
    if (t == TokenType::Byte || spec.kind == TokenizerKind::Spm) {
      const int b = parse_byte_token(spec.tokens[i]);
      if (b >= 0 && im.byte_token[b] < 0) im.byte_token[b] = static_cast<int>(i);
    }
    if ((t == TokenType::Control || t == TokenType::UserDefined || t == TokenType::Unknown) &&
        !spec.tokens[i].empty()) {
      im.specials[static_cast<unsigned char>(spec.tokens[i][0])].push_back(static_cast<int>(i));
      im.has_specials = true;
    }
  }
  for (auto& bucket : im.specials) {
    std::stable_sort(bucket.begin(), bucket.end(),
                     [&](int a, int b) { return spec.tokens[a].size() > spec.tokens[b].size(); });
  }
  const auto table = gpt2_byte_to_cp();
  for (int b = 0; b < 256; ++b) {
    utf8_append(im.byte_to_str[b], table[b]);
    im.cp_to_byte[table[b]] = static_cast<uint8_t>(b);
  }
  if (spec.kind == TokenizerKind::ByteBpe) {
    im.pretokenizer.emplace(spec.pre_tokenizer, kSource);
    im.merge_rank.reserve(spec.merges.size());
    for (size_t r = 0; r < spec.merges.size(); ++r) {
      const std::string& m = spec.merges[r];
      const size_t sp = m.find(' ', 1);
      const int a = sp == std::string::npos ? -1 : im.find(std::string_view(m).substr(0, sp));
      const int b = sp == std::string::npos ? -1 : im.find(std::string_view(m).substr(sp + 1));
      if (a < 0 || b < 0) {
        fail(kSource, "merge " + std::to_string(r) + " '" + m + "' names an unknown token");
      }
      im.merge_rank.emplace((uint64_t(uint32_t(a)) << 32) | uint32_t(b), static_cast<int>(r));
    }
  }
  im.spec = std::move(spec);
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<int> Tokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
  const Impl& im = *impl_;
  std::vector<int> out;
  if (add_bos && im.spec.bos_id >= 0) out.push_back(im.spec.bos_id);
  // Fragments: raw text or (when parse_special) special tokens, longest match first.
  bool prev_special = true;  // Spm: the first raw fragment (and any after a special) gets "▁"
  auto encode_raw = [&](std::string_view frag) {
    if (frag.empty()) return;
    if (im.spec.kind == TokenizerKind::Spm) {
      im.encode_spm(frag, im.spec.add_space_prefix && prev_special, out);
    } else {
      im.encode_bpe(frag, out);
    }
    prev_special = false;
  };
  if (!parse_special || !im.has_specials) {
    encode_raw(text);
    return out;
  }
  size_t raw_start = 0;
  for (size_t pos = 0; pos < text.size();) {
    int hit = -1;
    for (int id : im.specials[static_cast<unsigned char>(text[pos])]) {
      const std::string& s = im.spec.tokens[id];
      if (text.compare(pos, s.size(), s) == 0) {
        hit = id;
        break;
      }
    }
    if (hit < 0) {
      ++pos;
      continue;
    }
    encode_raw(text.substr(raw_start, pos - raw_start));
    out.push_back(hit);
    prev_special = true;
    pos += im.spec.tokens[hit].size();
    raw_start = pos;
  }
  encode_raw(text.substr(raw_start));
  return out;
}

std::vector<int> Tokenizer::encode_prompt(std::string_view text, bool parse_special) const {
  return encode(text, impl_->spec.add_bos || text.empty(), parse_special);
}

std::string Tokenizer::token_bytes(int prev, int id) const {
  const Impl& im = *impl_;
  if (id < 0 || id >= vocab_size()) return {};
  const std::string& text = im.spec.tokens[id];
  const TokenType t = im.type(id);
  if (t == TokenType::Control || id == im.spec.bos_id || id == im.spec.eos_id) return {};
  if (t == TokenType::Byte || (im.spec.kind == TokenizerKind::Spm && t != TokenType::UserDefined)) {
    const int b = parse_byte_token(text);
    if (b >= 0 && (t == TokenType::Byte || im.byte_token[b] == id)) {
      return std::string(1, static_cast<char>(b));
    }
  }
  std::string out;
  if (im.spec.kind == TokenizerKind::Spm) {
    if (t == TokenType::Unknown) return "\xe2\x96\x85";  // "▅", as llama.cpp shows <unk>
    for (size_t pos = 0; pos < text.size();) {
      if (text.compare(pos, kSpmSpace.size(), kSpmSpace) == 0) {
        out += ' ';
        pos += kSpmSpace.size();
      } else {
        out += text[pos++];
      }
    }
    if (im.spec.add_space_prefix && (prev < 0 || prev == im.spec.bos_id) && !out.empty() &&
        out[0] == ' ') {
      out.erase(0, 1);
    }
    return out;
  }
  if (t == TokenType::UserDefined || t == TokenType::Unknown) return text;
  for (size_t pos = 0; pos < text.size();) {
    const size_t start = pos;
    const uint32_t cp = utf8_next(text, pos);
    auto it = im.cp_to_byte.find(cp);
    if (it != im.cp_to_byte.end())
      out += static_cast<char>(it->second);
    else
      out.append(text, start, pos - start);  // outside the byte alphabet: keep as is
  }
  return out;
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
  std::string out;
  int prev = -1;
  for (int id : ids) {
    out += token_bytes(prev, id);
    prev = id;
  }
  return out;
}

const std::string& Tokenizer::token_text(int id) const {
  if (id < 0 || id >= vocab_size()) {
    fail(kSource, "token id " + std::to_string(id) + " out of range (vocabulary size " +
                      std::to_string(vocab_size()) + ")");
  }
  return impl_->spec.tokens[id];
}

int Tokenizer::vocab_size() const {
  return static_cast<int>(impl_->spec.tokens.size());
}
int Tokenizer::bos_id() const {
  return impl_->spec.bos_id;
}
int Tokenizer::eos_id() const {
  return impl_->spec.eos_id;
}

bool Tokenizer::is_control(int id) const {
  if (id < 0 || id >= vocab_size()) return false;
  return id == impl_->spec.bos_id || id == impl_->spec.eos_id ||
         impl_->type(id) == TokenType::Control;
}

namespace {

// glibc malloc's chunk for a request of n bytes (8-byte header, 16-byte granules, 32 minimum).
int64_t malloc_chunk_bytes(size_t n) {
  return n == 0 ? 0 : std::max<int64_t>(32, static_cast<int64_t>((n + 8 + 15) / 16 * 16));
}
// Heap of a std::string beyond its own object (short strings live inside it).
int64_t string_heap_bytes(const std::string& s) {
  return s.capacity() > 15 ? malloc_chunk_bytes(s.capacity() + 1) : 0;
}
template <typename T>
int64_t vector_heap_bytes(const std::vector<T>& v) {
  return malloc_chunk_bytes(v.capacity() * sizeof(T));
}
// An unordered_map: its bucket array and one node per element (next pointer, value, and the
// cached hash for non-trivial hashes).
template <typename Map>
int64_t hash_map_heap_bytes(const Map& m, size_t node_bytes) {
  return malloc_chunk_bytes(m.bucket_count() * sizeof(void*)) +
         static_cast<int64_t>(m.size()) * malloc_chunk_bytes(node_bytes);
}

}  // namespace

int64_t Tokenizer::memory_bytes() const {
  const Impl& im = *impl_;
  int64_t bytes = malloc_chunk_bytes(sizeof(Impl));
  bytes += vector_heap_bytes(im.spec.tokens) + vector_heap_bytes(im.spec.scores) +
           vector_heap_bytes(im.spec.token_types) + vector_heap_bytes(im.spec.merges);
  for (const std::string& t : im.spec.tokens) bytes += string_heap_bytes(t);
  for (const std::string& m : im.spec.merges) bytes += string_heap_bytes(m);
  bytes += hash_map_heap_bytes(im.token_to_id,
                               sizeof(void*) + sizeof(std::pair<const std::string, int>) +
                                   sizeof(size_t));
  for (const auto& [text, id] : im.token_to_id) bytes += string_heap_bytes(text);
  bytes += hash_map_heap_bytes(im.merge_rank, sizeof(void*) + sizeof(std::pair<const uint64_t, int>));
  bytes += hash_map_heap_bytes(im.cp_to_byte, sizeof(void*) + sizeof(std::pair<const uint32_t, uint8_t>));
  for (const std::string& s : im.byte_to_str) bytes += string_heap_bytes(s);
  for (const std::vector<int>& v : im.specials) bytes += vector_heap_bytes(v);
  return bytes;
}

const TokenizerSpec& Tokenizer::spec() const {
  return impl_->spec;
}

std::string Utf8Streamer::push(std::string_view bytes) {
  pending_.append(bytes);
  // Find the start of the last (possibly incomplete) character within the last 4 bytes.
  size_t keep_from = pending_.size();
  const size_t lo = pending_.size() >= 4 ? pending_.size() - 4 : 0;
  for (size_t i = pending_.size(); i > lo; --i) {
    const auto c = static_cast<unsigned char>(pending_[i - 1]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    const size_t need = utf8_len(c);
    if (need > 1 && i - 1 + need > pending_.size()) keep_from = i - 1;
    break;
  }
  std::string out = pending_.substr(0, keep_from);
  pending_.erase(0, keep_from);
  return out;
}

std::string Utf8Streamer::flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace flashchat
