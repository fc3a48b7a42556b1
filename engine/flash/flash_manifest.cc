#include "flash/flash_manifest.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace flashchat {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// ManifestFields

ManifestFields::ManifestFields(const json& j, std::string source, std::string prefix)
    : j_(j), source_(std::move(source)), prefix_(std::move(prefix)) {
  if (!j_.is_object()) {
    if (prefix_.empty()) fail(source_, "expected a JSON object at the top level");
    fail(source_, "field '" + prefix_.substr(0, prefix_.size() - 1) + "' must be an object");
  }
}

void ManifestFields::bad(const std::string& key, const std::string& problem) const {
  fail(source_, "field '" + prefix_ + key + "' " + problem);
}

bool ManifestFields::has(const char* key) const {
  auto it = j_.find(key);
  return it != j_.end() && !it->is_null();
}

const json& ManifestFields::get(const char* key) const {
  auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) bad(key, "is missing");
  return *it;
}

int64_t ManifestFields::integer(const char* key, int64_t min, int64_t max) const {
  const json& v = get(key);
  if (!v.is_number_integer()) bad(key, "must be an integer, got " + v.dump());
  const int64_t x = v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT64_MAX}
                        ? INT64_MAX
                        : v.get<int64_t>();
  if (x < min || x > max) {
    bad(key, "= " + v.dump() + " is out of range [" + std::to_string(min) + ", " +
                 std::to_string(max) + "]");
  }
  return x;
}

uint64_t ManifestFields::unsigned_integer(const char* key) const {
  const json& v = get(key);
  if (!v.is_number_unsigned()) bad(key, "must be a non-negative integer, got " + v.dump());
  return v.get<uint64_t>();
}

double ManifestFields::number(const char* key) const {
  const json& v = get(key);
  if (!v.is_number()) bad(key, "must be a number, got " + v.dump());
  return v.get<double>();
}

bool ManifestFields::boolean(const char* key) const {
  const json& v = get(key);
  if (!v.is_boolean()) bad(key, "must be true or false, got " + v.dump());
  return v.get<bool>();
}

std::string ManifestFields::string(const char* key) const {
  const json& v = get(key);
  if (!v.is_string()) bad(key, "must be a string, got " + v.dump());
  return v.get<std::string>();
}

std::string ManifestFields::string_or(const char* key, const std::string& def) const {
  return has(key) ? string(key) : def;
}

ManifestFields ManifestFields::object(const char* key) const {
  const json& v = get(key);
  if (!v.is_object()) bad(key, "must be an object, got " + std::string(v.type_name()));
  return ManifestFields(v, source_, prefix_ + key + ".");
}

const json& ManifestFields::array(const char* key) const {
  const json& v = get(key);
  if (!v.is_array()) bad(key, "must be an array, got " + std::string(v.type_name()));
  return v;
}

// ---------------------------------------------------------------------------------------------
// Enum spellings

namespace {

const char* rope_style_name(RopeStyle s) {
  switch (s) {
    case RopeStyle::None:
      return "none";
    case RopeStyle::Interleaved:
      return "interleaved";
    case RopeStyle::Halves:
      return "halves";
  }
  return "?";
}

template <typename E, size_t N>
E enum_from_name(const ManifestFields& f, const char* key,
                 const std::pair<const char*, E> (&names)[N]) {
  const std::string s = f.string(key);
  std::string known;
  for (const auto& [name, value] : names) {
    if (s == name) return value;
    known += (known.empty() ? "" : ", ") + std::string(name);
  }
  f.bad(key, "= '" + s + "' is unknown (" + known + ")");
}

constexpr std::pair<const char*, Arch> kArchs[] = {{"llama", Arch::Llama},
                                                   {"opt", Arch::Opt},
                                                   {"qwen2", Arch::Qwen2},
                                                   {"phi3", Arch::Phi3},
                                                   {"falcon", Arch::Falcon}};
constexpr std::pair<const char*, RopeStyle> kRopes[] = {{"none", RopeStyle::None},
                                                        {"interleaved", RopeStyle::Interleaved},
                                                        {"halves", RopeStyle::Halves}};
constexpr std::pair<const char*, Activation> kActs[] = {{"silu", Activation::Silu},
                                                        {"gelu", Activation::Gelu},
                                                        {"relu", Activation::Relu},
                                                        {"relu2", Activation::Relu2},
                                                        {"drelu", Activation::DRelu},
                                                        {"gelu_erf", Activation::GeluErf}};
constexpr std::pair<const char*, TokenizerKind> kKinds[] = {{"spm", TokenizerKind::Spm},
                                                            {"byte_bpe", TokenizerKind::ByteBpe}};

bool utf8_valid(const std::string& s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

json text_to_json(const std::string& s) {
  if (utf8_valid(s)) return s;
  static const char* hex = "0123456789abcdef";
  std::string h;
  for (unsigned char c : s) {
    h += hex[c >> 4];
    h += hex[c & 15];
  }
  return json{{"hex", h}};
}

std::string text_from_json(const ManifestFields& f, const std::string& key, size_t index,
                           const json& v) {
  const std::string where = key + "[" + std::to_string(index) + "]";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.size() == 1 && v.contains("hex") && v["hex"].is_string()) {
    const std::string h = v["hex"].get<std::string>();
    if (h.size() % 2 != 0) f.bad(where, "has an odd-length hex string");
    std::string out;
    for (size_t i = 0; i < h.size(); i += 2) {
      auto nib = [&](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        f.bad(where, "has a malformed hex string");
      };
      out += static_cast<char>(nib(h[i]) * 16 + nib(h[i + 1]));
    }
    return out;
  }
  f.bad(where, "must be a string or {\"hex\": ...}, got " + v.dump());
}

json float_to_json(float x) {
  if (std::isfinite(x)) return static_cast<double>(x);
  if (std::isnan(x)) return "nan";
  return x > 0 ? "inf" : "-inf";
}

float float_from_json(const ManifestFields& f, const std::string& where, const json& v) {
  if (v.is_number()) return static_cast<float>(v.get<double>());
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "inf") return std::numeric_limits<float>::infinity();
    if (s == "-inf") return -std::numeric_limits<float>::infinity();
    if (s == "nan") return std::numeric_limits<float>::quiet_NaN();
  }
  f.bad(where, "must be a number, got " + v.dump());
}

}  // namespace

bool flash_dtype_from_name(const std::string& name, DType* out) {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0}) {
    if (name == dtype_name(t)) {
      *out = t;
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// ModelConfig

json flash_config_to_json(const ModelConfig& c) {
  return json{{"arch", c.arch_name()},
              {"name", c.name},
              {"dim", c.dim},
              {"n_layers", c.n_layers},
              {"n_heads", c.n_heads},
              {"n_kv_heads", c.n_kv_heads},
              {"head_dim", c.head_dim},
              {"ffn_dim", c.ffn_dim},
              {"vocab_size", c.vocab_size},
              {"max_seq_len", c.max_seq_len},
              {"norm_eps", static_cast<double>(c.norm_eps)},
              {"rope_theta", static_cast<double>(c.rope_theta)},
              {"rope_style", rope_style_name(c.rope_style)},
              {"activation", activation_name(c.activation)},
              {"ffn_gated", c.ffn_gated},
              {"tied_output", c.tied_output},
              {"pos_offset", c.pos_offset},
              {"has_biases", c.has_biases},
              {"parallel_residual", c.parallel_residual},
              {"rope_freq_factors", c.rope_freq_factors}};
}

ModelConfig flash_config_from_json(const ManifestFields& f) {
  constexpr int64_t kMax = int64_t{1} << 30;
  ModelConfig c;
  c.arch = enum_from_name(f, "arch", kArchs);
  c.name = f.string_or("name", "");
  c.dim = static_cast<int>(f.integer("dim", 1, kMax));
  c.n_layers = static_cast<int>(f.integer("n_layers", 1, kMax));
  c.n_heads = static_cast<int>(f.integer("n_heads", 1, kMax));
  c.n_kv_heads = static_cast<int>(f.integer("n_kv_heads", 1, kMax));
  c.head_dim = static_cast<int>(f.integer("head_dim", 1, kMax));
  c.ffn_dim = static_cast<int>(f.integer("ffn_dim", 1, kMax));
  c.vocab_size = static_cast<int>(f.integer("vocab_size", 1, kMax));
  c.max_seq_len = static_cast<int>(f.integer("max_seq_len", 1, kMax));
  c.norm_eps = static_cast<float>(f.number("norm_eps"));
  c.rope_theta = static_cast<float>(f.number("rope_theta"));
  c.rope_style = enum_from_name(f, "rope_style", kRopes);
  c.activation = enum_from_name(f, "activation", kActs);
  c.ffn_gated = f.boolean("ffn_gated");
  c.tied_output = f.boolean("tied_output");
  c.pos_offset = static_cast<int>(f.integer("pos_offset", 0, 1 << 20));
  c.has_biases = f.boolean("has_biases");
  // Absent in manifests written before Falcon and Llama 3 scaling: sequential, plain RoPE.
  c.parallel_residual = f.has("parallel_residual") && f.boolean("parallel_residual");
  if (f.has("rope_freq_factors")) {
    const json& a = f.array("rope_freq_factors");
    if (!a.empty() && a.size() != static_cast<size_t>(c.head_dim / 2)) {
      f.bad("rope_freq_factors", "must be empty or hold head_dim / 2 values");
    }
    for (const json& v : a) {
      if (!v.is_number() || !(v.get<double>() > 0)) {
        f.bad("rope_freq_factors", "must hold positive numbers, got " + v.dump());
      }
      c.rope_freq_factors.push_back(v.get<float>());
    }
  }
  if (c.n_heads % c.n_kv_heads != 0) f.bad("n_kv_heads", "must divide n_heads");
  if (!(c.norm_eps > 0)) f.bad("norm_eps", "must be positive");
  return c;
}

// ---------------------------------------------------------------------------------------------
// TokenizerSpec

json flash_tokenizer_to_json(const TokenizerSpec& t) {
  json tokens = json::array(), scores = json::array(), types = json::array(),
       merges = json::array();
  for (const std::string& s : t.tokens) tokens.push_back(text_to_json(s));
  for (float x : t.scores) scores.push_back(float_to_json(x));
  for (TokenType x : t.token_types) types.push_back(static_cast<int>(x));
  for (const std::string& s : t.merges) merges.push_back(text_to_json(s));
  return json{{"kind", t.kind == TokenizerKind::Spm ? "spm" : "byte_bpe"},
              {"tokens", std::move(tokens)},
              {"scores", std::move(scores)},
              {"token_types", std::move(types)},
              {"merges", std::move(merges)},
              {"pre_tokenizer", t.pre_tokenizer},
              {"bos_id", t.bos_id},
              {"eos_id", t.eos_id},
              {"unk_id", t.unk_id},
              {"pad_id", t.pad_id},
              {"add_bos", t.add_bos},
              {"add_eos", t.add_eos},
              {"add_space_prefix", t.add_space_prefix}};
}

TokenizerSpec flash_tokenizer_from_json(const ManifestFields& f) {
  TokenizerSpec t;
  t.kind = enum_from_name(f, "kind", kKinds);
  const json& tokens = f.array("tokens");
  t.tokens.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i)
    t.tokens.push_back(text_from_json(f, "tokens", i, tokens[i]));
  const json& scores = f.array("scores");
  for (size_t i = 0; i < scores.size(); ++i) {
    t.scores.push_back(float_from_json(f, "scores[" + std::to_string(i) + "]", scores[i]));
  }
  const json& types = f.array("token_types");
  for (size_t i = 0; i < types.size(); ++i) {
    if (!types[i].is_number_integer() || types[i].get<int64_t>() < 0 ||
        types[i].get<int64_t>() > 6) {
      f.bad("token_types[" + std::to_string(i) + "]",
            "must be an integer 0..6, got " + types[i].dump());
    }
    t.token_types.push_back(static_cast<TokenType>(types[i].get<int>()));
  }
  const json& merges = f.array("merges");
  t.merges.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i)
    t.merges.push_back(text_from_json(f, "merges", i, merges[i]));
  t.pre_tokenizer = f.string("pre_tokenizer");
  // Ids are range-checked against the vocabulary by the Tokenizer, as for any other source.
  constexpr int64_t kMaxId = std::numeric_limits<int32_t>::max();
  t.bos_id = static_cast<int>(f.integer("bos_id", -1, kMaxId));
  t.eos_id = static_cast<int>(f.integer("eos_id", -1, kMaxId));
  t.unk_id = static_cast<int>(f.integer("unk_id", -1, kMaxId));
  t.pad_id = static_cast<int>(f.integer("pad_id", -1, kMaxId));
  t.add_bos = f.boolean("add_bos");
  t.add_eos = f.boolean("add_eos");
  t.add_space_prefix = f.boolean("add_space_prefix");
  return t;
}

// ---------------------------------------------------------------------------------------------
// Resident tensors

std::vector<FlashResidentEntry> flash_resident_entries(Model& model, bool gate_resident) {
  const ModelConfig& c = model.config;
  ModelWeights& w = model.weights;
  const bool opt = c.arch == Arch::Opt;
  const bool ln = c.layer_norm();  // LayerNorm biases (OPT, Falcon)
  const int64_t dim = c.dim, q_dim = int64_t{c.n_heads} * c.head_dim,
                kv_dim = int64_t{c.n_kv_heads} * c.head_dim;
  std::vector<FlashResidentEntry> e;
  auto mat = [&](std::string name, Tensor& t, int64_t rows, int64_t cols, bool required) {
    e.push_back({std::move(name), &t, rows, cols, required});
  };
  auto vec = [&](std::string name, Tensor& t, int64_t n, bool required) {
    e.push_back({std::move(name), &t, 0, n, required});
  };
  mat("token_embd.weight", w.token_embd, c.vocab_size, dim, true);
  if (opt || !w.pos_embd.empty()) {
    mat("pos_embd.weight", w.pos_embd, int64_t{c.max_seq_len} + c.pos_offset, dim, opt);
  }
  if (!c.tied_output) mat("output.weight", w.output, c.vocab_size, dim, true);
  vec("output_norm.weight", w.output_norm, dim, true);
  vec("output_norm.bias", w.output_norm_bias, dim, ln);
  w.layers.resize(static_cast<size_t>(c.n_layers));
  for (int i = 0; i < c.n_layers; ++i) {
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    const std::string b = "blk." + std::to_string(i) + ".";
    vec(b + "attn_norm.weight", l.attn_norm, dim, true);
    vec(b + "attn_norm.bias", l.attn_norm_bias, dim, ln);
    mat(b + "attn_q.weight", l.wq, q_dim, dim, true);
    mat(b + "attn_k.weight", l.wk, kv_dim, dim, true);
    mat(b + "attn_v.weight", l.wv, kv_dim, dim, true);
    mat(b + "attn_output.weight", l.wo, dim, q_dim, true);
    vec(b + "attn_q.bias", l.bq, q_dim, c.has_biases);
    vec(b + "attn_k.bias", l.bk, kv_dim, c.has_biases);
    vec(b + "attn_v.bias", l.bv, kv_dim, c.has_biases);
    vec(b + "attn_output.bias", l.bo, dim, c.has_biases);
    vec(b + "ffn_norm.weight", l.ffn_norm, dim, true);
    vec(b + "ffn_norm.bias", l.ffn_norm_bias, dim, ln);
    vec(b + "ffn_up.bias", l.ffn_up_bias, c.ffn_dim, c.has_biases);
    vec(b + "ffn_down.bias", l.ffn_down_bias, dim, c.has_biases);
    if (gate_resident && c.ffn_gated) mat(b + "ffn_gate.weight", l.ffn_gate, c.ffn_dim, dim, true);
  }
  return e;
}

}  // namespace flashchat
