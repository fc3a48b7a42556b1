// decode_bench - dense decoding speed of a model against the memory-bandwidth floor.
//
// Dense decoding reads every weight matrix once per token, so its physical floor is
// (weight bytes per token) / (memory read bandwidth). This tool measures both in one run and
// reports the ratio. --fill P feeds P prompt tokens first, so the generated tokens attend over a
// long context (--kv chooses the KV cache's element type), and then also reports the prompt's
// forward time per token (fed in blocks through forward_batch) beside the generated tokens'. Usage:
//   decode_bench --model PATH [-n 128] [--fill P] [--kv f16|f32] [--threads N] [--json FILE]

#include <CLI/CLI.hpp>
#include <tbb/global_control.h>

#include <time.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <vector>

#include "core/units.h"
#include "memory_bandwidth.h"
#include "model/model.h"
#include "model/tokenizer.h"
#include "session/generator.h"

using namespace flashchat;

namespace {

// CPU time of the whole process (all threads), ms: with --threads 1 a per-token cost that other
// processes sharing the cores do not inflate (wall time does).
double process_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// A Llama-shaped model with random F16 weights held in memory: measures the kernels on shapes
// too large for the caches without needing a model file. Tokenizer: 256 byte tokens.
std::unique_ptr<Model> build_synthetic_model(int dim, int n_layers, int ffn_dim, int vocab) {
  auto model = std::make_unique<Model>();
  ModelConfig& c = model->config;
  c.name = "synthetic";
  c.dim = dim;
  c.n_layers = n_layers;
  c.n_heads = dim / 128;
  c.n_kv_heads = c.n_heads;
  c.head_dim = 128;
  c.ffn_dim = ffn_dim;
  c.vocab_size = vocab;
  c.max_seq_len = 4096;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uni(-0.02f, 0.02f);
  auto matrix = [&](int64_t rows, int64_t cols) {
    auto buf = std::make_shared<std::vector<uint16_t>>(static_cast<size_t>(rows * cols));
    for (auto& v : *buf) v = fp32_to_fp16(uni(rng));
    model->storage.push_back(buf);
    return Tensor{DType::F16, rows, cols, buf->data()};
  };
  auto ones = [&](int64_t n) {
    auto buf = std::make_shared<std::vector<float>>(static_cast<size_t>(n), 1.0f);
    model->storage.push_back(buf);
    return Tensor{DType::F32, 1, n, buf->data()};
  };
  ModelWeights& w = model->weights;
  w.token_embd = matrix(vocab, dim);
  w.output = matrix(vocab, dim);
  w.output_norm = ones(dim);
  w.layers.resize(n_layers);
  for (LayerWeights& l : w.layers) {
    l.attn_norm = ones(dim);
    l.ffn_norm = ones(dim);
    l.wq = matrix(dim, dim);
    l.wk = matrix(dim, dim);
    l.wv = matrix(dim, dim);
    l.wo = matrix(dim, dim);
    l.ffn_gate = matrix(ffn_dim, dim);
    l.ffn_up = matrix(ffn_dim, dim);
    l.ffn_down = matrix(dim, ffn_dim);
  }
  for (int i = 0; i < 256; ++i) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", i);
    model->tokenizer.tokens.push_back(name);
  }
  model->tokenizer.tokens.resize(static_cast<size_t>(vocab), "<unused>");
  model->tokenizer.token_types.assign(static_cast<size_t>(vocab), TokenType::Normal);
  for (int i = 0; i < 256; ++i) model->tokenizer.token_types[i] = TokenType::Byte;
  model->tokenizer.scores.assign(static_cast<size_t>(vocab), 0.0f);
  return model;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Dense decoding speed vs the memory-bandwidth floor"};
  std::string model_path, json_path;
  int n_tokens = 128, threads = 0, repeats = 3, fill = 0;
  std::string kv_name = "f16";
  std::vector<int> synthetic;
  auto* model_opt = app.add_option("-m,--model", model_path, "GGUF file or HF directory");
  auto* synth_opt = app.add_option("--synthetic", synthetic,
                                   "Random F16 Llama shape instead: DIM LAYERS FFN (e.g. 4096 4 11008)")
                        ->expected(3);
  model_opt->excludes(synth_opt);
  app.add_option("-n,--n-tokens", n_tokens, "Tokens to generate per run");
  app.add_option("--repeats", repeats, "Runs (the fastest is reported)");
  app.add_option("--threads", threads, "Threads (0 = all)");
  app.add_option("--fill", fill, "Prompt tokens fed before generating (a long context)");
  app.add_option("--kv", kv_name, "KV cache element type")->check(CLI::IsMember({"f16", "f32"}));
  app.add_option("--json", json_path, "Also write the results as JSON");
  CLI11_PARSE(app, argc, argv);
  std::unique_ptr<tbb::global_control> limit;
  if (threads > 0) {
    limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, threads);
  }

  if (model_path.empty() && synthetic.empty()) {
    std::fprintf(stderr, "give --model or --synthetic\n");
    return 2;
  }
  auto model = synthetic.empty() ? model_load(model_path)
                                 : build_synthetic_model(synthetic[0], synthetic[1], synthetic[2], 32000);
  if (!synthetic.empty()) model_path = "synthetic " + std::to_string(synthetic[0]) + "x" +
                                       std::to_string(synthetic[1]) + "x" + std::to_string(synthetic[2]) + " F16";
  Tokenizer tokenizer(model->tokenizer);
  // Bytes read per token: every matrix except the embedding table (one row of it is read).
  const ModelBytes b = model->bytes();
  int64_t per_token = b.total() - model->weights.token_embd.size_bytes();
  if (model->config.tied_output) per_token += model->weights.output.size_bytes();

  GenerateOptions options;
  options.max_new_tokens = n_tokens;
  options.sampling.temperature = 0;
  const KvType kv_type = kv_name == "f32" ? KvType::F32 : KvType::F16;
  // The prompt: BOS, then `fill` seeded random token ids.
  std::vector<int> prompt = {tokenizer.bos_id() >= 0 ? tokenizer.bos_id() : 0};
  std::mt19937 fill_rng(11);
  std::uniform_int_distribution<int> any_token(0, model->config.vocab_size - 1);
  for (int i = 0; i < fill; ++i) prompt.push_back(any_token(fill_rng));
  const int context = std::min(model->config.max_seq_len, fill + n_tokens + 2);
  double best_ms_per_token = 1e30;
  int generated = 0;
  int64_t kv_bytes = 0, scratch_bytes = 0;
  double best_cpu_ms_per_token = 1e30;
  // Forward time and CPU time per prompt token (fed in blocks), --fill > 0.
  double best_prompt_ms_per_token = 1e30, best_cpu_prompt_ms_per_token = 1e30;
  for (int r = 0; r < repeats; ++r) {
    Generator generator(*model, tokenizer, context, kv_type);
    // CPU time of the generated tokens' forward passes (prompt tokens excluded).
    double cpu_at_forward = 0, cpu_generated_ms = 0, prompt_ms = 0, cpu_prompt_ms = 0;
    int cpu_tokens = 0, prompt_n = 0;
    GeneratorHooks hooks;
    hooks.before_forward = [&](int) { cpu_at_forward = process_cpu_ms(); };
    hooks.after_forward = [&](int, int, bool is_prompt, double forward_ms, double, int n) {
      if (is_prompt) {
        prompt_ms += forward_ms;
        cpu_prompt_ms += process_cpu_ms() - cpu_at_forward;
        prompt_n += n;
        return;
      }
      cpu_generated_ms += process_cpu_ms() - cpu_at_forward;
      ++cpu_tokens;
    };
    generator.set_hooks(&hooks);
    GenerateResult res = generator.generate(prompt, options);
    generated = static_cast<int>(res.tokens.size());
    if (generated > 0) best_ms_per_token = std::min(best_ms_per_token, res.generate_ms / generated);
    if (prompt_n > 1) {
      best_prompt_ms_per_token = std::min(best_prompt_ms_per_token, prompt_ms / prompt_n);
      best_cpu_prompt_ms_per_token = std::min(best_cpu_prompt_ms_per_token, cpu_prompt_ms / prompt_n);
    }
    if (cpu_tokens > 0) {
      best_cpu_ms_per_token = std::min(best_cpu_ms_per_token, cpu_generated_ms / cpu_tokens);
    }
    kv_bytes = generator.transformer().kv_cache_bytes();
    scratch_bytes = generator.transformer().scratch_bytes();
  }
  // Best 64 MiB slice of a 1 GiB buffer: the same time scale as one token's matvecs.
  const double bandwidth =
      flashchat_bench::measure_read_bandwidth(size_t{1} << 30, size_t{64} << 20, 3).slice_gbs;
  const double floor_ms = per_token / (bandwidth * 1e9) * 1e3;
  const double achieved_gb_s = per_token / (best_ms_per_token / 1e3) / 1e9;

  std::printf("| model | weight bytes/token | tokens | ms/token | tokens/s | weights GB/s | "
              "memory GB/s | floor ms/token | floor/actual |\n|---|---|---|---|---|---|---|---|---|\n");
  std::printf("| %s | %s | %d | %.3f | %.1f | %.2f | %.2f | %.3f | %.2f |\n", model_path.c_str(),
              size_format_bytes(per_token).c_str(), generated, best_ms_per_token,
              1e3 / best_ms_per_token, achieved_gb_s, bandwidth, floor_ms,
              floor_ms / best_ms_per_token);
  std::printf("KV cache %s: %s held after %d prompt + %d generated positions (context %d); "
              "transformer scratch %s; CPU time per generated token's forward %.3f ms (all "
              "threads)\n",
              kv_type_name(kv_type), size_format_bytes(kv_bytes).c_str(),
              static_cast<int>(prompt.size()), generated, context,
              size_format_bytes(scratch_bytes).c_str(), best_cpu_ms_per_token);
  if (fill > 0) {
    std::printf("prompt: %.3f ms per token in blocks of %d (%d tokens) vs %.3f ms per generated "
                "token: generation/prompt %.2fx; CPU time per forward (all threads) %.3f vs "
                "%.3f ms: %.2fx\n",
                best_prompt_ms_per_token, kPromptBlockTokens, static_cast<int>(prompt.size()),
                best_ms_per_token, best_ms_per_token / best_prompt_ms_per_token,
                best_cpu_prompt_ms_per_token, best_cpu_ms_per_token,
                best_cpu_ms_per_token / best_cpu_prompt_ms_per_token);
  }
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << "{\"model\": \"" << model_path << "\", \"weight_bytes_per_token\": " << per_token
        << ", \"ms_per_token\": " << best_ms_per_token << ", \"memory_gb_per_s\": " << bandwidth
        << ", \"weights_gb_per_s\": " << achieved_gb_s << ", \"floor_ms_per_token\": " << floor_ms
        << ", \"kv_type\": \"" << kv_type_name(kv_type) << "\", \"kv_cache_bytes\": " << kv_bytes
        << ", \"fill_tokens\": " << fill << ", \"cpu_ms_per_token\": " << best_cpu_ms_per_token
        << "}\n";
  }
  return 0;
}
