// prompt_bench - prompt processing (blocks of kPromptBlockTokens through forward_batch) against
// generation, per token, side by side in one run through the Session (any model format, any FFN
// mode, a DRAM budget): the "fast prompts" target of issue 11 is ms per generated token divided
// by ms per prompt token >= 4 for a 128-token prompt. Times come from the per-forward telemetry
// (a prompt block's row covers its block_tokens tokens). The prompt is BOS + seeded random ids;
// generation runs after an 8-token prompt in its own session (greedy; EOS may end it early).
// Bytes read are per run (the prompt's blocks, the generated tokens).
// Usage:
//   prompt_bench --model PATH [--prompt 128] [-n 32] [--mode flash] [--budget-pct 50]
//                [--repeats 3] [--threads N] [--json FILE]
#include <CLI/CLI.hpp>
#include <tbb/global_control.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/units.h"
#include "session/session.h"

using namespace flashchat;

int main(int argc, char** argv) {
  CLI::App app{"Prompt processing vs generation, ms per token"};
  std::string model_path, mode_name = "flash", json_path;
  int prompt_tokens = 128, n_tokens = 32, repeats = 3, threads = 0;
  double budget_pct = 0;
  app.add_option("-m,--model", model_path, "Flash model directory, GGUF file or HF directory")
      ->required();
  app.add_option("--prompt", prompt_tokens, "Prompt tokens (BOS included)");
  app.add_option("-n,--n-tokens", n_tokens, "Tokens to generate");
  app.add_option("--mode", mode_name, "FFN mode of a flash model (dram, naive, mmap, flash)");
  app.add_option("--budget-pct", budget_pct, "DRAM budget in % of the model (0 = unlimited)");
  app.add_option("--repeats", repeats, "Runs (the fastest of each figure is reported)");
  app.add_option("--threads", threads, "Threads (0 = all)");
  app.add_option("--json", json_path, "Also write the results as JSON");
  CLI11_PARSE(app, argc, argv);
  std::unique_ptr<tbb::global_control> limit;
  if (threads > 0) {
    limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                  threads);
  }
  const std::optional<FfnMode> mode = ffn_mode_from_name(mode_name);
  if (!mode) {
    std::fprintf(stderr, "unknown mode %s\n", mode_name.c_str());
    return 2;
  }

  double best_prompt_ms = 1e30, best_gen_ms = 1e30;
  int blocks = 0, generated = 0, context = 0;
  int64_t budget = 0, model_bytes = 0, prompt_bytes_read = 0, gen_bytes_read = 0;
  // One run of `prompt` (BOS + seeded random ids up to `length` tokens) generating `gen` tokens
  // in a fresh session: the per-token times of its prompt blocks and of its generated tokens.
  struct Run {
    double prompt_ms = 0, gen_ms = 0;
    int prompt_tokens = 0, gen_tokens = 0, blocks = 0;
    int64_t prompt_bytes = 0, gen_bytes = 0;
  };
  auto run = [&](int length, int gen) {
    SessionOptions so;
    so.model_path = model_path;
    so.mode = *mode;
    so.context = context;
    Session session(so);
    model_bytes = session.info().model_bytes;
    budget = budget_pct > 0 ? static_cast<int64_t>(model_bytes * budget_pct / 100.0) : 0;
    if (budget > 0) session.set_budget(budget);
    std::vector<int> prompt = session.text_tokens("");
    if (prompt.empty()) prompt.push_back(0);
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> any(0, session.model().config.vocab_size - 1);
    while (static_cast<int>(prompt.size()) < length) prompt.push_back(any(rng));
    GenerateOptions go;
    go.max_new_tokens = gen;
    go.sampling.temperature = 0;
    Run r;
    GenerateCallbacks cb;
    cb.on_telemetry = [&](const TokenTelemetry& t) {
      if (t.prompt) {
        r.prompt_ms += t.total_ms;
        r.prompt_tokens += t.block_tokens;
        r.prompt_bytes += t.bytes_read;
        ++r.blocks;
      } else {
        r.gen_ms += t.total_ms;
        r.gen_bytes += t.bytes_read;
        ++r.gen_tokens;
      }
    };
    session.generate(prompt, go, cb);
    return r;
  };
  try {
    // The model's context may hold the prompt or the generation but not both (the default model
    // has 128 positions): the prompt runs alone (one token sampled, not fed), and generation
    // follows a short prompt in a second session.
    const int max_context = model_info_read(model_path).max_context;
    context = std::min(max_context, std::max(prompt_tokens, 8 + n_tokens + 1));
    if (prompt_tokens > context) fail("prompt_bench", "the prompt exceeds the model's context");
    const int gen = std::min(n_tokens, context - 9);
    for (int r = 0; r < repeats; ++r) {
      const Run p = run(prompt_tokens, 1);
      const Run g = run(8, gen);
      blocks = p.blocks;
      generated = g.gen_tokens;
      prompt_bytes_read = p.prompt_bytes;
      gen_bytes_read = g.gen_bytes;
      if (p.prompt_tokens > 0) best_prompt_ms = std::min(best_prompt_ms, p.prompt_ms / p.prompt_tokens);
      if (g.gen_tokens > 0) best_gen_ms = std::min(best_gen_ms, g.gen_ms / g.gen_tokens);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  const double ratio = best_gen_ms / best_prompt_ms;
  std::printf("| model | mode | budget | prompt tokens (blocks) | ms/prompt token | generated | "
              "ms/generated token | generation/prompt | prompt bytes read | generation bytes "
              "read |\n|---|---|---|---|---|---|---|---|---|---|\n");
  std::printf("| %s | %s | %s | %d (%d) | %.3f | %d | %.3f | %.2fx | %s | %s |\n",
              model_path.c_str(), mode_name.c_str(),
              budget > 0 ? (size_format_bytes(budget) + " (" + std::to_string(int(budget_pct)) + "%)").c_str()
                         : "unlimited",
              prompt_tokens, blocks, best_prompt_ms, generated, best_gen_ms, ratio,
              size_format_bytes(prompt_bytes_read).c_str(),
              size_format_bytes(gen_bytes_read).c_str());
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << "{\"model\": \"" << model_path << "\", \"mode\": \"" << mode_name
        << "\", \"budget_bytes\": " << budget << ", \"model_bytes\": " << model_bytes
        << ", \"prompt_tokens\": " << prompt_tokens << ", \"prompt_blocks\": " << blocks
        << ", \"ms_per_prompt_token\": " << best_prompt_ms << ", \"generated\": " << generated
        << ", \"ms_per_generated_token\": " << best_gen_ms << ", \"ratio\": " << ratio << "}\n";
  }
  return 0;
}
