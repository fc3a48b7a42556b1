// tokenizer_json.cc - TokenizerSpec from a Hugging Face tokenizer.json (see tokenizer_json.h).
#include "model/tokenizer_json.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "core/error.h"
#include "core/read_file.h"
#include "model/pretokenizer.h"

namespace flashchat {

namespace {

using nlohmann::json;

constexpr int64_t kMaxTokens = 16 * 1024 * 1024;
const std::string kSpmSpace = "\xe2\x96\x81";  // "▁"

json read_json(const std::string& path) {
  json j = json::parse(file_read_text(path), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail(path, "not valid JSON");
  return j;
}

// True when `node` (a normalizer / pre-tokenizer / decoder, possibly a Sequence) has a component
// of type `type`.
bool has_component(const json& node, const std::string& type) {
  if (!node.is_object()) return false;
  if (node.value("type", std::string()) == type) return true;
  for (const char* list : {"normalizers", "pretokenizers", "decoders"}) {
    auto it = node.find(list);
    if (it == node.end() || !it->is_array()) continue;
    for (const json& child : *it) {
      if (has_component(child, type)) return true;
    }
  }
  return false;
}

// Calls fn(component) for every component of `node` (recursing into Sequences).
template <typename Fn>
void for_each_component(const json& node, const Fn& fn) {
  if (!node.is_object()) return;
  fn(node);
  for (const char* list : {"normalizers", "pretokenizers", "decoders"}) {
    auto it = node.find(list);
    if (it == node.end() || !it->is_array()) continue;
    for (const json& child : *it) for_each_component(child, fn);
  }
}

// A token given in tokenizer_config.json: a string, {"content": "..."} or null.
std::string config_token(const json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) {
    auto c = it->find("content");
    if (c != it->end() && c->is_string()) return c->get<std::string>();
  }
  return {};
}

bool is_byte_token(const std::string& t) {
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return false;
  return std::isxdigit(static_cast<unsigned char>(t[3])) &&
         std::isxdigit(static_cast<unsigned char>(t[4]));
}

// Appends the regexes byte-level pre-tokenizer `node` splits by, in order (see pretokenizer.h).
// Throws Error naming `path` for a component that is not a regex split.
void append_pre_regexes(const json& node, const std::string& path, std::vector<std::string>& out) {
  if (!node.is_object()) return;
  const std::string type = node.value("type", std::string());
  auto lower = [](std::string v) {
    std::transform(v.begin(), v.end(), v.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return v;
  };
  if (type == "Sequence") {
    auto it = node.find("pretokenizers");
    if (it == node.end() || !it->is_array()) fail(path, "pre-tokenizer Sequence without a list");
    for (const json& child : *it) append_pre_regexes(child, path, out);
  } else if (type == "ByteLevel") {
    if (node.value("use_regex", true)) {
      out.push_back(pretokenizer_family_find("gpt-2")->regexes.front());
    }
  } else if (type == "Split") {
    const std::string behavior = lower(node.value("behavior", std::string()));
    if (behavior != "isolated" || node.value("invert", false)) {
      fail(path, "pre-tokenizer Split with behavior '" + behavior +
                     "' is not supported (only Isolated, not inverted)");
    }
    const json& pattern = node.at("pattern");
    if (pattern.contains("Regex")) {
      out.push_back(pattern.at("Regex").get<std::string>());
    } else {
      std::string escaped;  // a literal string as a regex
      for (char c : pattern.at("String").get<std::string>()) {
        if (std::strchr("\\^$.|?*+()[]{}", c) != nullptr && c != '\0') escaped += '\\';
        escaped += c;
      }
      out.push_back(escaped);
    }
  } else if (type == "Digits") {
    out.push_back(node.value("individual_digits", false) ? "\\p{N}" : "\\p{N}+");
  } else if (type == "Punctuation") {
    const std::string behavior = lower(node.value("behavior", std::string("isolated")));
    if (behavior != "isolated" && behavior != "contiguous") {
      fail(path, "pre-tokenizer Punctuation with behavior '" + behavior + "' is not supported");
    }
    out.push_back(behavior == "contiguous" ? "[\\p{P}\\$\\+<=>\\^~\\|`]+"
                                           : "[\\p{P}\\$\\+<=>\\^~\\|`]");
  } else {
    fail(path, "unsupported pre-tokenizer component '" + type + "' for byte-level BPE");
  }
}

// True when post-processor `node` (TemplateProcessing, possibly inside a Sequence) starts a
// single sequence with the special token `bos`.
bool post_processor_adds(const json& node, const std::string& bos) {
  if (!node.is_object() || bos.empty()) return false;
  if (auto it = node.find("processors"); it != node.end() && it->is_array()) {
    for (const json& child : *it) {
      if (post_processor_adds(child, bos)) return true;
    }
  }
  if (node.value("type", std::string()) != "TemplateProcessing") return false;
  auto single = node.find("single");
  if (single == node.end() || !single->is_array() || single->empty()) return false;
  const json& first = single->front();
  return first.is_object() && first.contains("SpecialToken") &&
         first["SpecialToken"].value("id", std::string()) == bos;
}

TokenizerSpec spec_from_hf_json(const std::string& path);

}  // namespace

// A field of an unexpected JSON type (e.g. "byte_fallback": null, read with json::value) makes
// nlohmann throw its own exception; the contract is Error naming the file.
TokenizerSpec tokenizer_spec_from_hf_json(const std::string& path) {
  try {
    return spec_from_hf_json(path);
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("malformed tokenizer.json: ") + e.what());
  }
}

namespace {

TokenizerSpec spec_from_hf_json(const std::string& path) {
  const json j = read_json(path);
  if (!j.is_object()) fail(path, "top level is not a JSON object");
  auto model_it = j.find("model");
  if (model_it == j.end() || !model_it->is_object()) fail(path, "no \"model\" object");
  const json& model = *model_it;
  const std::string model_type = model.value("type", std::string("BPE"));
  if (model_type != "BPE") {
    fail(path, "unsupported tokenizer model type '" + model_type + "' (only BPE is supported)");
  }
  auto vocab_it = model.find("vocab");
  if (vocab_it == model.end() || !vocab_it->is_object() || vocab_it->empty()) {
    fail(path, "model.vocab missing, empty or not an object");
  }

  // Kind: byte-level BPE or SentencePiece-style "▁" BPE.
  const json null_json;
  const json& normalizer = j.contains("normalizer") ? j["normalizer"] : null_json;
  const json& pre = j.contains("pre_tokenizer") ? j["pre_tokenizer"] : null_json;
  const json& decoder = j.contains("decoder") ? j["decoder"] : null_json;
  const bool byte_level = has_component(pre, "ByteLevel") || has_component(decoder, "ByteLevel");
  bool prepend_space = false, replace_space = false;
  for_each_component(normalizer, [&](const json& c) {
    const std::string type = c.value("type", std::string());
    if (type == "Prepend" && c.value("prepend", std::string()) == kSpmSpace) prepend_space = true;
    if (type == "Replace" && c.value("content", std::string()) == kSpmSpace) replace_space = true;
  });
  bool metaspace = false, metaspace_prefix = false;
  for_each_component(pre, [&](const json& c) {
    if (c.value("type", std::string()) != "Metaspace") return;
    metaspace = true;
    const std::string scheme = c.value("prepend_scheme", std::string());
    const bool legacy_prefix = c.contains("add_prefix_space") && c["add_prefix_space"].is_boolean()
                                   ? c["add_prefix_space"].get<bool>()
                                   : false;
    metaspace_prefix = scheme == "always" || scheme == "first" || (scheme.empty() && legacy_prefix);
  });
  const bool byte_fallback = model.value("byte_fallback", false) == true;
  TokenizerSpec spec;
  const PretokenizerFamily* family = nullptr;
  if (byte_level) {
    spec.kind = TokenizerKind::ByteBpe;
    spec.add_space_prefix = false;
    // The pre-tokenizer's regexes name one of the known families, or the file is refused.
    std::vector<std::string> regexes;
    append_pre_regexes(pre, path, regexes);
    family = pretokenizer_family_of_regexes(regexes);
    if (family == nullptr) {
      std::string list;
      for (const std::string& r : regexes) list += (list.empty() ? "'" : ", '") + r + "'";
      fail(path, "unknown pre-tokenizer: its regexes [" + list +
                     "] are none of the known families (" + pretokenizer_known_names() + ")");
    }
    spec.pre_tokenizer = family->name;
  } else if (prepend_space || replace_space || metaspace || byte_fallback ||
             has_component(decoder, "Metaspace")) {
    spec.kind = TokenizerKind::Spm;
    spec.add_space_prefix = prepend_space || metaspace_prefix;
    spec.pre_tokenizer = "default";
  } else {
    fail(path, "unsupported BPE tokenizer: neither ByteLevel nor SentencePiece-style (\u2581)");
  }

  // Tokens: model.vocab plus added_tokens (which win on conflicts).
  std::unordered_map<std::string, int> to_id;
  int64_t max_id = -1;
  for (auto it = vocab_it->begin(); it != vocab_it->end(); ++it) {
    if (!it.value().is_number_integer()) fail(path, "vocab entry '" + it.key() + "' has no id");
    const int64_t id = it.value().get<int64_t>();
    if (id < 0 || id >= kMaxTokens) {
      fail(path, "vocab entry '" + it.key() + "' has out-of-range id " + std::to_string(id));
    }
    to_id[it.key()] = static_cast<int>(id);
    max_id = std::max(max_id, id);
  }
  struct Added {
    int id;
    std::string content;
    bool special;
  };
  std::vector<Added> added;
  if (auto a = j.find("added_tokens"); a != j.end() && !a->is_null()) {
    if (!a->is_array()) fail(path, "added_tokens is not an array");
    for (const json& t : *a) {
      if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() ||
          !t.contains("content") || !t["content"].is_string()) {
        fail(path, "added_tokens entry without integer id and string content");
      }
      const int64_t id = t["id"].get<int64_t>();
      if (id < 0 || id >= kMaxTokens) {
        fail(path, "added token has out-of-range id " + std::to_string(id));
      }
      added.push_back({static_cast<int>(id), t["content"].get<std::string>(),
                       t.value("special", false) == true});
      max_id = std::max(max_id, id);
    }
  }
  const size_t n = static_cast<size_t>(max_id + 1);
  spec.tokens.assign(n, std::string());
  spec.token_types.assign(n, TokenType::Unused);  // ids no entry names stay Unused
  for (const auto& [text, id] : to_id) {
    if (!spec.tokens[id].empty()) fail(path, "two vocab entries share id " + std::to_string(id));
    spec.tokens[id] = text;
    spec.token_types[id] = spec.kind == TokenizerKind::Spm && is_byte_token(text)
                               ? TokenType::Byte
                               : TokenType::Normal;
  }
  for (const Added& a : added) {
    spec.tokens[a.id] = a.content;
    spec.token_types[a.id] = a.special ? TokenType::Control : TokenType::UserDefined;
    to_id[a.content] = a.id;
  }
  auto id_of = [&](const std::string& text) {
    auto it = to_id.find(text);
    return it == to_id.end() ? -1 : it->second;
  };
  if (auto u = model.find("unk_token"); u != model.end() && u->is_string()) {
    spec.unk_id = id_of(u->get<std::string>());
    if (spec.unk_id >= 0) spec.token_types[spec.unk_id] = TokenType::Unknown;
  }

  // Merges: "a b" strings or ["a", "b"] pairs; rank = index.
  if (auto m = model.find("merges"); m != model.end() && !m->is_null()) {
    if (!m->is_array()) fail(path, "model.merges is not an array");
    spec.merges.reserve(m->size());
    for (const json& e : *m) {
      if (e.is_string()) {
        spec.merges.push_back(e.get<std::string>());
      } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        spec.merges.push_back(e[0].get<std::string>() + " " + e[1].get<std::string>());
      } else {
        fail(path, "merge " + std::to_string(spec.merges.size()) +
                       " is neither \"a b\" nor [\"a\", \"b\"]");
      }
      const std::string& s = spec.merges.back();
      const size_t sp = s.find(' ', 1);
      if (sp == std::string::npos || id_of(s.substr(0, sp)) < 0 || id_of(s.substr(sp + 1)) < 0) {
        fail(path, "merge " + std::to_string(spec.merges.size() - 1) + " '" + s +
                       "' does not name two vocabulary tokens");
      }
    }
  }
  if (spec.kind == TokenizerKind::ByteBpe && spec.merges.empty()) fail(path, "no merges");
  if (spec.kind == TokenizerKind::Spm) {
    // The token a merge produces scores -rank (first merge wins); others merge last.
    spec.scores.assign(n, -1e9f);
    std::vector<bool> scored(n, false);
    for (size_t r = 0; r < spec.merges.size(); ++r) {
      std::string joined = spec.merges[r];
      joined.erase(joined.find(' ', 1), 1);
      const int id = id_of(joined);
      if (id >= 0 && !scored[id]) {
        spec.scores[id] = -static_cast<float>(r);
        scored[id] = true;
      }
    }
  }

  // Special ids and flags: tokenizer_config.json beside the file, else well-known names.
  json config;
  const auto config_path = std::filesystem::path(path).parent_path() / "tokenizer_config.json";
  if (std::filesystem::exists(config_path)) {
    config = read_json(config_path.string());
    if (!config.is_object()) fail(config_path.string(), "top level is not a JSON object");
  }
  auto config_id = [&](const char* key) {
    const std::string t = config_token(config, key);
    return t.empty() ? -1 : id_of(t);
  };
  spec.bos_id = config_id("bos_token");
  spec.eos_id = config_id("eos_token");
  spec.pad_id = config_id("pad_token");
  if (spec.unk_id < 0) spec.unk_id = config_id("unk_token");
  if (spec.bos_id < 0) spec.bos_id = id_of("<s>");
  if (spec.eos_id < 0) spec.eos_id = id_of("</s>");
  if (spec.bos_id < 0) spec.bos_id = id_of("<|begin_of_text|>");
  if (spec.eos_id < 0) spec.eos_id = id_of("<|end_of_text|>");
  if (spec.bos_id < 0) spec.bos_id = id_of("<|endoftext|>");
  if (spec.eos_id < 0) spec.eos_id = id_of("<|endoftext|>");
  for (int id : {spec.bos_id, spec.eos_id}) {
    if (id >= 0 && spec.token_types[id] != TokenType::Unknown) {
      spec.token_types[id] = TokenType::Control;
    }
  }
  auto config_bool = [&](const char* key, bool fallback) {
    auto it = config.is_object() ? config.find(key) : config.end();
    return it != config.end() && it->is_boolean() ? it->get<bool>() : fallback;
  };
  // The BOS rule: tokenizer_config's add_bos_token, else whether the post-processor starts a
  // sequence with BOS, else SentencePiece (and the llama3 family) yes, other byte-level BPE no.
  const json null_post;
  const json& post = j.contains("post_processor") ? j["post_processor"] : null_post;
  bool bos_default = spec.kind == TokenizerKind::Spm || (family && family->add_bos);
  if (post.is_object()) {
    bos_default = post_processor_adds(post, spec.bos_id >= 0 ? spec.tokens[spec.bos_id] : "");
  }
  spec.add_bos = config_bool("add_bos_token", bos_default) && spec.bos_id >= 0;
  spec.add_eos = config_bool("add_eos_token", false) && spec.eos_id >= 0;
  return spec;
}

}  // namespace

}  // namespace flashchat
