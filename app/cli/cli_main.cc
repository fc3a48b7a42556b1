// flashchat-cli - the command-line front end: generate, tokenize, info, convert, dump, perplexity,
// replay.
//
// Generated text (only) goes to stdout; statistics and errors go to stderr, so the output can
// be piped. Every engine error is reported as "error: <file>: <problem>" with exit code 1.

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli_convert.h"
#include "cli/cli_replay.h"
#include "cli/cli_tools.h"
#include "core/error.h"
#include "core/process_stats.h"
#include "core/read_file.h"
#include "core/resource_paths.h"
#include "core/units.h"
#include "session/model_open.h"
#include "session/session.h"
#include "session/telemetry_summary.h"

using namespace flashchat;

namespace {

// ---------------------------------------------------------------------------------------------
// generate

struct GenerateArgs {
  std::string model;
  std::string prompt;
  std::string system;
  std::string chat_format;  // override; empty = detect from the model
  int n_tokens = 256;
  int context = 0;
  bool chat = false;
  SamplingParams sampling;
  // Flash models.
  std::string mode = "flash";
  std::string budget;       // e.g. 512M, 2G; empty = unlimited
  int window = 4;
  bool no_bundling = false;
  bool no_overlap = false;
  bool prefetch = false;
  bool oracle = false;
  bool eval_predictor = false;
  bool buffered_io = false;
  bool verify = false;
  bool kv_f32 = false;
  std::string telemetry_path;
  std::string trace_path;
};

int run_generate(const GenerateArgs& a) {
  // Process RSS before the model is loaded: the binary, its libraries and the runtime — the
  // fixed overhead that sits outside the engine's DRAM budget.
  const int64_t baseline_rss = process_rss_bytes();
  auto t0 = std::chrono::steady_clock::now();
  SessionOptions so;
  so.model_path = a.model.empty() ? default_model_path() : a.model;
  if (a.model.empty()) {
    std::fprintf(stderr, "model: %s (the default model; name another with -m)\n", so.model_path.c_str());
  }
  auto mode = ffn_mode_from_name(a.mode);
  if (!mode) fail("--mode", "unknown mode '" + a.mode + "' (dram, naive, mmap, flash)");
  so.mode = *mode;
  so.window = a.window;
  so.budget_bytes = a.budget.empty() ? 0 : size_parse_bytes(a.budget);
  so.bundling = !a.no_bundling;
  so.overlap_io = !a.no_overlap;
  so.prefetch = a.prefetch;
  so.oracle = a.oracle;
  so.evaluate_predictor = a.eval_predictor;
  so.direct_io = !a.buffered_io;
  so.context = a.context;
  so.verify_force = a.verify;
  so.kv_f32 = a.kv_f32;
  so.chat_format = a.chat_format;
  Session session(so);
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  GenerateOptions options;
  options.max_new_tokens = a.n_tokens;
  options.sampling = a.sampling;

  std::ofstream telemetry;
  if (!a.telemetry_path.empty()) {
    telemetry.open(a.telemetry_path, std::ios::trunc);
    if (!telemetry) fail(a.telemetry_path, "cannot write telemetry file");
  }
  TelemetrySummary sum;
  GenerateCallbacks callbacks;
  std::unique_ptr<ActiveTraceWriter> trace;
  if (!a.trace_path.empty()) {
    trace = std::make_unique<ActiveTraceWriter>(a.trace_path, session.trace_header());
    callbacks.on_active_sets = [&](const ActiveTraceToken& t) { trace->append(t); };
  }
  callbacks.on_token = [](const TokenEvent& e) {
    std::fwrite(e.text.data(), 1, e.text.size(), stdout);
    std::fflush(stdout);
    return true;
  };
  callbacks.on_telemetry = [&](const TokenTelemetry& t) {
    if (telemetry.is_open()) telemetry << telemetry_to_json_line(t) << "\n";
    sum.add(t);
  };
  GenerateResult r;
  if (a.chat) {
    if (!session.has_chat_template() && a.chat_format.empty()) {
      std::fprintf(stderr, "note: this model has no chat template (a continuation model, not "
                           "trained on dialogue); --chat formats the prompt as plain text\n");
    }
    std::vector<ChatMessage> messages;
    if (!a.system.empty()) messages.push_back({"system", a.system});
    messages.push_back({"user", a.prompt});
    r = session.chat(messages, options, callbacks);
  } else {
    r = session.complete(a.prompt, options, callbacks);
  }
  std::fputc('\n', stdout);
  std::fflush(stdout);
  if (trace) {
    trace->close();
    std::fprintf(stderr, "trace: %lld tokens in %s\n", static_cast<long long>(trace->tokens()),
                 a.trace_path.c_str());
  }
  std::fprintf(stderr,
               "load: %.1f ms | prompt: %d tokens in %.1f ms | generated: %zu tokens in %.1f ms "
               "(%.2f tokens/s) | stop: %s | context: %d/%d | peak RSS: %s\n",
               load_ms, r.prompt_tokens, r.prompt_ms, r.tokens.size(), r.generate_ms,
               r.tokens_per_second(), stop_reason_name(r.reason), session.context_used(),
               session.context_size(), size_format_bytes(process_peak_rss_bytes()).c_str());
  if (session.is_flash_model() && sum.tokens > 0) {
    std::fprintf(stderr,
                 "mode: %s | per token: io %.2f ms, memory %.2f ms, predictor %.2f ms, compute "
                 "%.2f ms | read %s/token | FFN loaded/token %.2f%% | DRAM accounted %s of "
                 "budget %s | peak RSS above start %s (start %s)\n",
                 a.mode.c_str(), sum.mean(sum.io_ms), sum.mean(sum.memory_ms),
                 sum.mean(sum.predictor_ms), sum.mean(sum.compute_ms),
                 size_format_bytes(static_cast<int64_t>(sum.bytes_read_per_token())).c_str(),
                 sum.ffn_loaded_percent(), size_format_bytes(sum.peak_dram_bytes).c_str(),
                 so.budget_bytes ? size_format_bytes(so.budget_bytes).c_str() : "unlimited",
                 size_format_bytes(process_peak_rss_bytes() - baseline_rss).c_str(),
                 size_format_bytes(baseline_rss).c_str());
  }
  if (r.reason == StopReason::ContextFull) {
    std::fprintf(stderr, "note: the context of %d tokens is full; use --ctx to enlarge it "
                 "(model maximum %d)\n", session.context_size(), session.info().max_context);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// tokenize

int run_tokenize(const std::string& model_path, const std::string& text, const std::string& file,
                 bool decode, bool bos, bool special) {
  // Only the vocabulary is read: any GGUF whose tokenizer is supported works, runnable or not.
  const Tokenizer tok = tokenizer_open(model_path.empty() ? default_model_path() : model_path);
  const std::string input = file.empty() ? text : file_read_text(file);
  if (decode) {
    std::vector<int> ids;
    std::istringstream in(input);
    std::string word;
    while (in >> word) {
      size_t used = 0;
      int id = -1;
      try {
        id = std::stoi(word, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != word.size() || id < 0 || id >= tok.vocab_size()) {
        fail("tokenize --decode", "'" + word + "' is not a token id of this vocabulary (0.." +
                                      std::to_string(tok.vocab_size() - 1) + ")");
      }
      ids.push_back(id);
    }
    std::cout << tok.decode(ids);
    return 0;
  }
  std::vector<int> ids = bos ? tok.encode_prompt(input, special) : tok.encode(input, false, special);
  for (size_t i = 0; i < ids.size(); ++i) std::cout << (i ? " " : "") << ids[i];
  std::cout << "\n";
  return 0;
}

// ---------------------------------------------------------------------------------------------
// info

int run_info(const std::string& model_path, int context) {
  OpenedModel m = model_open(model_path.empty() ? default_model_path() : model_path, false);
  std::fputs(model_info_describe(m, context).c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"flashchat-cli: run language models larger than the memory you give them"};
  app.require_subcommand(1);
  app.option_defaults()->always_capture_default();  // --help shows each option's default
  app.set_version_flag("--version", std::string("flashchat-cli ") + FLASHCHAT_VERSION,
                       "Print the version and exit");
  int threads = 0;
  app.add_option("--threads", threads, "Worker threads (0 = all cores)")->check(CLI::NonNegativeNumber);

  GenerateArgs g;
  auto* gen = app.add_subcommand("generate", "Generate text; the text goes to stdout, statistics to stderr");
  gen->add_option("-m,--model", g.model, "GGUF file, Hugging Face directory or flash model directory (default: $FLASHCHAT_MODEL, else the shipped default model)")->type_name("PATH");
  gen->add_option("-p,--prompt", g.prompt, "Prompt text (default: start from BOS)")->type_name("TEXT");
  gen->add_option("-n,--n-tokens", g.n_tokens, "Maximum tokens to generate")->check(CLI::NonNegativeNumber);
  gen->add_option("--temp", g.sampling.temperature, "Temperature (0 = greedy)")->check(CLI::NonNegativeNumber);
  gen->add_option("--top-k", g.sampling.top_k, "Top-k (0 = off)");
  gen->add_option("--top-p", g.sampling.top_p, "Top-p / nucleus (1 = off)");
  gen->add_option("--min-p", g.sampling.min_p, "Min-p (0 = off)");
  gen->add_option("--repeat-penalty", g.sampling.repeat_penalty, "Repetition penalty (1 = off)");
  gen->add_option("--repeat-last-n", g.sampling.repeat_last_n, "Tokens the penalty looks back on");
  gen->add_option("--seed", g.sampling.seed, "Random seed");
  gen->add_option("--ctx", g.context, "Context length (0 = the model's, at most 4096)")->check(CLI::NonNegativeNumber);
  gen->add_flag("--chat", g.chat, "Format the prompt as a user turn with the model's chat template");
  gen->add_option("--system", g.system, "System prompt (with --chat)");
  gen->add_option("--template", g.chat_format, "Chat format override: plain, llama2, chatml, zephyr, mistral, mistral-v3, llama3, phi3, falcon (default: detected from the model)")->type_name("NAME");
  gen->add_option("--mode", g.mode, "How a flash model's FFN runs: flash (predictor, window, neuron cache), dram (all in memory), naive (whole FFN read every token), mmap (page cache decides)")
      ->check(CLI::IsMember({"dram", "naive", "mmap", "flash"}));
  gen->add_option("--budget", g.budget, "DRAM budget, e.g. 512M or 2G (default: unlimited); 'info' prints each mode's minimum")->type_name("SIZE");
  gen->add_option("--window", g.window, "Tokens whose active neurons the cache keeps first (without a budget: only those)")->check(CLI::PositiveNumber);
  gen->add_flag("--no-bundling", g.no_bundling, "Read gate/up rows and down columns as separate requests");
  gen->add_flag("--no-overlap", g.no_overlap,
                "Read a layer's missing bundles before multiplying its cached rows (no overlap)");
  gen->add_flag("--prefetch", g.prefetch,
                "Predict each layer's neurons before its attention and read them meanwhile");
  gen->add_flag("--oracle", g.oracle, "Use the true active neurons instead of the predictor (test mode)");
  gen->add_flag("--eval-predictor", g.eval_predictor, "Also compute true activations and report recall");
  gen->add_flag("--buffered-io", g.buffered_io, "Do not use O_DIRECT (reads then go through the page cache)");
  gen->add_flag("--kv-f32", g.kv_f32, "Keep the KV cache in F32 (the reference arithmetic) instead of F16");
  gen->add_flag("--verify", g.verify, "CRC-check every file of a flash model, also those verified before and unchanged since");
  gen->add_option("--telemetry", g.telemetry_path, "Write per-token telemetry as JSON lines")->type_name("FILE");
  gen->add_option("--trace", g.trace_path, "Flash mode: write every token's active neurons (gzip) for 'replay'")->type_name("FILE");

  std::string tk_model, tk_text, tk_file;
  bool tk_decode = false, tk_bos = false, tk_special = false;
  auto* tk = app.add_subcommand("tokenize", "Print token ids of a text (or text of ids with --decode)");
  tk->add_option("-m,--model", tk_model, "Model whose tokenizer to use (default: $FLASHCHAT_MODEL, else the shipped default model)")->type_name("PATH");
  auto* text_opt = tk->add_option("--text", tk_text, "Text to tokenize")->type_name("TEXT");
  auto* file_opt = tk->add_option("--file", tk_file, "File whose contents to tokenize")->type_name("FILE");
  text_opt->excludes(file_opt);
  tk->add_flag("--decode", tk_decode, "The input is space-separated ids: print their text");
  tk->add_flag("--bos", tk_bos, "Tokenize as a prompt: BOS first when the model's rule says so (tokenizer.ggml.add_bos_token / tokenizer.json)");
  tk->add_flag("--special", tk_special, "Recognise special token texts such as <|im_start|>");

  std::string info_model;
  int info_context = 0;
  auto* info = app.add_subcommand("info", "Architecture, shapes, types, tokenizer, bytes by part and minimum budgets");
  info->add_option("-m,--model", info_model, "Model to describe (default: $FLASHCHAT_MODEL, else the shipped default model)")->type_name("PATH");
  info->add_option("--ctx", info_context, "Context length for the minimum budgets (0 = the model's, at most 4096)")->check(CLI::NonNegativeNumber);

  CliConvertArgs cargs;
  CLI::App* convert_sub = nullptr;
  cli_convert_register(app, cargs, &convert_sub);
  CliReplayArgs rargs;
  CLI::App* replay_sub = nullptr;
  cli_replay_register(app, rargs, &replay_sub);
  CliDumpArgs dargs;
  CLI::App* dump_sub = nullptr;
  cli_dump_register(app, dargs, &dump_sub);
  CliPerplexityArgs pargs;
  CLI::App* ppl_sub = nullptr;
  cli_perplexity_register(app, pargs, &ppl_sub);

  const std::string environment =
      "Environment: FLASHCHAT_MODEL names the model used without -m; FLASHCHAT_RESOURCES names a\n"
      "directory searched first for models/default and calib/default.txt.";
  app.footer("Run 'flashchat-cli COMMAND --help' for a command's options; 'man flashchat-cli'.\n" +
             environment);
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) sub->footer(environment);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (threads > 0) session_set_threads(threads);
  try {
    if (gen->parsed()) return run_generate(g);
    if (tk->parsed()) {
      if (!*text_opt && !*file_opt) fail("tokenize", "give --text or --file");
      return run_tokenize(tk_model, tk_text, tk_file, tk_decode, tk_bos, tk_special);
    }
    if (info->parsed()) return run_info(info_model, info_context);
    if (convert_sub->parsed()) return cli_convert_run(cargs);
    if (replay_sub->parsed()) return cli_replay_run(rargs);
    if (dump_sub->parsed()) return cli_dump_run(dargs);
    if (ppl_sub->parsed()) return cli_perplexity_run(pargs);
  } catch (const Error& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
