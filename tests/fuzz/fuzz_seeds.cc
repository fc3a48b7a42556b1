// fuzz_seeds.cc - writes small valid GGUF and safetensors files and small JSON files
// (tokenizer.json, config.json, manifest.json) as fuzz seed corpora, plus libFuzzer dictionaries.
//
// Usage: fuzz_seeds OUT_DIR [MANIFEST]
//   -> OUT_DIR/{gguf,safetensors,tokenizer_json,hf_config,flash_manifest}/ and OUT_DIR/*.dict
// MANIFEST (the shipped default model's manifest.json) also gives a small variant of itself
// (vocabulary cut to a few tokens, no merges) for flash_manifest; run_fuzzer.sh adds the real
// files whole. Self-contained (no engine code; nlohmann_json only) so it builds without
// instrumentation.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

using Bytes = std::vector<uint8_t>;

template <typename T>
void put(Bytes& out, T v) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.insert(out.end(), b, b + sizeof(T));
}

void put_string(Bytes& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

// Minimal GGUF writer (layout as in engine/formats/gguf.h).
class Gguf {
 public:
  explicit Gguf(uint32_t version = 3, uint64_t alignment = 32)
      : version_(version), alignment_(alignment) {}

  template <typename T>
  void kv(const std::string& key, uint32_t type, T v) {
    put_string(kv_, key);
    put<uint32_t>(kv_, type);
    put<T>(kv_, v);
    ++n_kv_;
  }
  void kv_string(const std::string& key, const std::string& v) {
    put_string(kv_, key);
    put<uint32_t>(kv_, 8);
    put_string(kv_, v);
    ++n_kv_;
  }
  template <typename T>
  void kv_array(const std::string& key, uint32_t elem, const std::vector<T>& v) {
    put_string(kv_, key);
    put<uint32_t>(kv_, 9);
    put<uint32_t>(kv_, elem);
    put<uint64_t>(kv_, v.size());
    for (T x : v) put<T>(kv_, x);
    ++n_kv_;
  }
  void kv_strings(const std::string& key, const std::vector<std::string>& v) {
    put_string(kv_, key);
    put<uint32_t>(kv_, 9);
    put<uint32_t>(kv_, 8);
    put<uint64_t>(kv_, v.size());
    for (const auto& s : v) put_string(kv_, s);
    ++n_kv_;
  }
  void kv_nested(const std::string& key) {
    put_string(kv_, key);
    put<uint32_t>(kv_, 9);
    put<uint32_t>(kv_, 9);
    put<uint64_t>(kv_, 2);
    put<uint32_t>(kv_, 4);
    put<uint64_t>(kv_, 1);
    put<uint32_t>(kv_, 7);
    put<uint32_t>(kv_, 8);
    put<uint64_t>(kv_, 1);
    put_string(kv_, "x");
    ++n_kv_;
  }
  void tensor(const std::string& name, const std::vector<uint64_t>& ne, uint32_t type,
              size_t n_bytes) {
    const uint64_t offset = (data_.size() + alignment_ - 1) / alignment_ * alignment_;
    data_.resize(offset + n_bytes);
    for (size_t i = 0; i < n_bytes; ++i) data_[offset + i] = static_cast<uint8_t>(i * 37 + 11);
    put_string(infos_, name);
    put<uint32_t>(infos_, static_cast<uint32_t>(ne.size()));
    for (uint64_t n : ne) put<uint64_t>(infos_, n);
    put<uint32_t>(infos_, type);
    put<uint64_t>(infos_, offset);
    ++n_tensors_;
  }
  Bytes build() const {
    Bytes out{'G', 'G', 'U', 'F'};
    put<uint32_t>(out, version_);
    put<uint64_t>(out, n_tensors_);
    put<uint64_t>(out, n_kv_);
    out.insert(out.end(), kv_.begin(), kv_.end());
    out.insert(out.end(), infos_.begin(), infos_.end());
    if (!data_.empty()) {
      out.resize((out.size() + alignment_ - 1) / alignment_ * alignment_);
      out.insert(out.end(), data_.begin(), data_.end());
    }
    return out;
  }

 private:
  uint32_t version_;
  uint64_t alignment_;
  uint64_t n_kv_ = 0, n_tensors_ = 0;
  Bytes kv_, infos_, data_;
};

Bytes safetensors(const std::string& header, size_t data_bytes) {
  Bytes out;
  put<uint64_t>(out, header.size());
  out.insert(out.end(), header.begin(), header.end());
  for (size_t i = 0; i < data_bytes; ++i) out.push_back(static_cast<uint8_t>(i * 53 + 7));
  return out;
}

void write_file(const std::filesystem::path& p, const Bytes& b) {
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

void write_text(const std::filesystem::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary) << s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: %s OUT_DIR [MANIFEST]\n", argv[0]);
    return 2;
  }
  namespace fs = std::filesystem;
  const fs::path out(argv[1]);
  fs::create_directories(out / "gguf");
  fs::create_directories(out / "safetensors");

  // --- GGUF
  write_file(out / "gguf" / "empty_v3.gguf", Gguf().build());
  write_file(out / "gguf" / "empty_v2.gguf", Gguf(2).build());
  {
    Gguf g;
    g.kv<uint8_t>("u8", 0, 200);
    g.kv<int8_t>("i8", 1, -3);
    g.kv<uint16_t>("u16", 2, 60000);
    g.kv<int16_t>("i16", 3, -300);
    g.kv<uint32_t>("llama.embedding_length", 4, 64);
    g.kv<int32_t>("i32", 5, -70000);
    g.kv<float>("llama.attention.layer_norm_rms_epsilon", 6, 1e-5f);
    g.kv<uint8_t>("tokenizer.ggml.add_bos_token", 7, 1);
    g.kv_string("general.architecture", "llama");
    g.kv<uint64_t>("u64", 10, ~0ull);
    g.kv<int64_t>("i64", 11, -5);
    g.kv<double>("f64", 12, 0.5);
    g.kv_strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "\xe2\x96\x81the", ""});
    g.kv_array<float>("tokenizer.ggml.scores", 6, {0, 0, 0, -1.5f, -2});
    g.kv_array<int32_t>("tokenizer.ggml.token_type", 5, {2, 3, 3, 1, 1});
    g.kv_array<uint8_t>("bools", 7, {1, 0});
    g.kv_array<uint64_t>("u64s", 10, {1, 2});
    g.kv_array<double>("f64s", 12, {1.5});
    g.kv_nested("nested");
    write_file(out / "gguf" / "metadata.gguf", g.build());
  }
  for (uint32_t version : {2u, 3u}) {
    Gguf g(version);
    g.kv_string("general.architecture", "llama");
    g.tensor("token_embd.weight", {8, 4}, 0, 8 * 4 * 4);    // F32
    g.tensor("blk.0.attn_q.weight", {8, 2}, 1, 8 * 2 * 2);  // F16
    g.tensor("blk.0.attn_norm.weight", {8}, 30, 8 * 2);     // BF16
    g.tensor("blk.0.ffn_up.weight", {32, 2}, 8, 2 * 34);    // Q8_0
    g.tensor("blk.0.ffn_down.weight", {64}, 2, 2 * 18);     // Q4_0
    g.tensor("blk.0.ffn_gate.weight", {256}, 12, 144);      // Q4_K
    g.tensor("output.weight", {4, 1, 1, 2}, 0, 8 * 4);      // 4-d F32
    g.tensor("mystery", {3}, 99, 16);                       // unknown type
    write_file(out / "gguf" / ("tensors_v" + std::to_string(version) + ".gguf"), g.build());
  }
  {
    Gguf g(3, 64);
    g.kv<uint32_t>("general.alignment", 4, 64);
    g.tensor("a", {3}, 0, 12);
    g.tensor("b", {5}, 0, 20);
    write_file(out / "gguf" / "align64.gguf", g.build());
  }
  write_text(out / "gguf.dict",
             "\"GGUF\"\n\"general.alignment\"\n\"general.architecture\"\n"
             "\"tokenizer.ggml.tokens\"\n\"\\x03\\x00\\x00\\x00\"\n\"\\x02\\x00\\x00\\x00\"\n"
             "\"\\x09\\x00\\x00\\x00\"\n\"\\x08\\x00\\x00\\x00\"\n\"\\x20\\x00\\x00\\x00\"\n"
             "\"\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x7f\"\n\"\\x1e\\x00\\x00\\x00\"\n");

  // --- safetensors
  write_file(out / "safetensors" / "empty.safetensors", safetensors("{}", 0));
  write_file(out / "safetensors" / "one.safetensors",
             safetensors(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})", 16));
  write_file(out / "safetensors" / "all.safetensors",
             safetensors(R"({"__metadata__":{"format":"pt"},)"
                         R"("a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                         R"("b":{"dtype":"F16","shape":[2,2],"data_offsets":[12,20]},)"
                         R"("c":{"dtype":"BF16","shape":[4],"data_offsets":[20,28]},)"
                         R"("s":{"dtype":"F32","shape":[],"data_offsets":[28,32]},)"
                         R"("z":{"dtype":"F16","shape":[0,3],"data_offsets":[32,32]}}   )",
                         32));
  write_file(out / "safetensors" / "unsupported.safetensors",
             safetensors(R"({"p":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})", 16));
  write_text(out / "safetensors.dict",
             "\"dtype\"\n\"shape\"\n\"data_offsets\"\n\"__metadata__\"\n\"F32\"\n\"F16\"\n"
             "\"BF16\"\n\"I64\"\n\"{\"\n\"}\"\n\"[\"\n\"]\"\n\":\"\n\",\"\n\"\\\"\"\n"
             "\"18446744073709551615\"\n\"-1\"\n\"1e5\"\n\"null\"\n\"true\"\n");

  // --- tokenizer.json (Hugging Face): byte-level BPE and a SentencePiece-style BPE
  fs::create_directories(out / "tokenizer_json");
  write_text(out / "tokenizer_json" / "byte_level.json",
             R"({"added_tokens":[{"id":5,"content":"<|endoftext|>","special":true},)"
             R"({"id":6,"content":"<pad>","special":false}],"normalizer":null,)"
             R"("pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false},)"
             R"("decoder":{"type":"ByteLevel"},"model":{"type":"BPE","unk_token":null,)"
             R"("vocab":{"a":0,"b":1,"Ġ":2,"ab":3,"Ġa":4},"merges":["a b","Ġ a"]}})");
  write_text(out / "tokenizer_json" / "metaspace.json",
             R"({"added_tokens":[{"id":0,"content":"<unk>","special":true},)"
             R"({"id":1,"content":"<s>","special":true},{"id":2,"content":"</s>","special":true}],)"
             R"("normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},)"
             R"({"type":"Replace","pattern":{"String":" "},"content":"▁"}]},)"
             R"("pre_tokenizer":{"type":"Metaspace","replacement":"▁"},)"
             R"("model":{"type":"BPE","unk_token":"<unk>","byte_fallback":true,)"
             R"("vocab":{"<unk>":0,"<s>":1,"</s>":2,"<0x41>":3,"▁":4,"h":5,"i":6,"hi":7,)"
             R"("▁hi":8},"merges":[["h","i"],["▁","hi"]]}})");
  write_text(out / "tokenizer_json.dict",
             "\"added_tokens\"\n\"normalizer\"\n\"pre_tokenizer\"\n\"decoder\"\n\"model\"\n"
             "\"vocab\"\n\"merges\"\n\"BPE\"\n\"ByteLevel\"\n\"Metaspace\"\n\"Sequence\"\n"
             "\"Prepend\"\n\"Replace\"\n\"byte_fallback\"\n\"special\"\n\"content\"\n"
             "\"<0x0A>\"\n\"\\xe2\\x96\\x81\"\n\"\\xc4\\xa0\"\n\"\\\\u2581\"\n\"null\"\n"
             "\"true\"\n\"-1\"\n");

  // --- config.json (Hugging Face)
  fs::create_directories(out / "hf_config");
  write_text(out / "hf_config" / "mistral.json",
             R"({"model_type":"mistral","hidden_size":32,"intermediate_size":96,)"
             R"("num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,)"
             R"("max_position_embeddings":64,"vocab_size":333,"hidden_act":"silu",)"
             R"("rope_scaling":null,"sliding_window":null,"tie_word_embeddings":false})");
  write_text(out / "hf_config" / "opt.json",
             R"({"architectures":["OPTForCausalLM"],"hidden_size":32,"ffn_dim":128,)"
             R"("num_hidden_layers":2,"num_attention_heads":4,"max_position_embeddings":64,)"
             R"("vocab_size":300,"word_embed_proj_dim":32,"do_layer_norm_before":true,)"
             R"("activation_function":"relu","layer_norm_elementwise_affine":false})");
  write_text(out / "hf_config.dict",
             "\"model_type\"\n\"llama\"\n\"mistral\"\n\"opt\"\n\"architectures\"\n"
             "\"hidden_size\"\n\"intermediate_size\"\n\"ffn_dim\"\n\"num_hidden_layers\"\n"
             "\"num_attention_heads\"\n\"num_key_value_heads\"\n\"head_dim\"\n\"vocab_size\"\n"
             "\"max_position_embeddings\"\n\"rope_scaling\"\n\"hidden_act\"\n"
             "\"tie_word_embeddings\"\n\"word_embed_proj_dim\"\n\"2147483648\"\n\"0\"\n"
             "\"-1\"\n\"1e308\"\n\"null\"\n\"true\"\n");

  // --- manifest.json (flash model): the shipped one cut small
  fs::create_directories(out / "flash_manifest");
  if (argc == 3) {
    std::ifstream in(argv[2]);
    nlohmann::json m = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (m.is_discarded() || !m.contains("tokenizer") || !m["tokenizer"].is_object()) {
      std::fprintf(stderr, "%s: not a manifest\n", argv[2]);
      return 1;
    }
    nlohmann::json& t = m["tokenizer"];
    for (const char* key : {"tokens", "scores", "token_types"}) {
      if (t.contains(key) && t[key].is_array() && t[key].size() > 8) {
        t[key] = nlohmann::json(std::vector<nlohmann::json>(t[key].begin(), t[key].begin() + 8));
      }
    }
    if (t.contains("merges")) t["merges"] = nlohmann::json::array();
    write_text(out / "flash_manifest" / "small.json", m.dump(1));
  }
  write_text(out / "flash_manifest.dict",
             "\"magic\"\n\"flashchat-flash-model\"\n\"version\"\n\"config\"\n\"tokenizer\"\n"
             "\"files\"\n\"checksums\"\n\"ffn\"\n\"predictors\"\n\"layer_offsets\"\n"
             "\"bundle_bytes\"\n\"size_bytes\"\n\"ranks\"\n\"thresholds\"\n\"metrics\"\n"
             "\"crc32:00000000\"\n\"F16\"\n\"BF16\"\n\"F32\"\n\"hex\"\n\"4096\"\n"
             "\"18446744073709551615\"\n\"-1\"\n\"null\"\n");
  return 0;
}
