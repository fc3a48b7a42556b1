// cli_replay.cc - what-if replay of a trace from the command line.
#include "cli/cli_replay.h"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/units.h"
#include "runtime/cache_simulator.h"

using namespace flashchat;

void cli_replay_register(CLI::App& app, CliReplayArgs& a, CLI::App** sub) {
  CLI::App* r = app.add_subcommand(
      "replay", "Replay a trace's active sets under another window or budget (no model run)");
  r->add_option("--trace", a.trace, "Trace written by 'generate --trace'")
      ->type_name("FILE")
      ->required();
  r->add_option("--window", a.window, "Window k to simulate")->check(CLI::PositiveNumber);
  r->add_option("--budget", a.budget, "DRAM budget to simulate, e.g. 12M (default: unlimited)")
      ->type_name("SIZE");
  r->add_option("--telemetry", a.telemetry_path,
                "Write the simulated tokens as JSON lines (generate --telemetry's fields)")
      ->type_name("FILE");
  r->add_option("--figures", a.figures_path,
                "Write the paper's figures as JSON: neurons loaded per token and aggregated "
                "usage against window size 1..--max-window")
      ->type_name("FILE");
  r->add_option("--max-window", a.max_window, "Largest window of --figures")
      ->check(CLI::PositiveNumber);
  r->add_flag("--quiet", a.quiet, "Print the means only, not the per-token table");
  *sub = r;
}

int cli_replay_run(const CliReplayArgs& a) {
  const ActiveTrace trace = active_trace_read(a.trace);
  CacheSimOptions opts;
  opts.window = a.window;
  opts.budget_bytes = a.budget.empty() ? 0 : size_parse_bytes(a.budget);
  const std::vector<TokenTelemetry> tel = cache_simulate(trace, opts);
  std::printf("trace: %s | %zu tokens | model %s | %d layers x %d neurons | %s%s\n",
              a.trace.c_str(), trace.tokens.size(), trace.header.model.c_str(),
              trace.header.layout.n_layers, trace.header.layout.neurons,
              trace.header.oracle ? "oracle sets" : "predicted sets",
              trace.header.fresh ? "" : " | recorded mid-session (the cache was not empty)");
  if (trace.header.prefetch) {
    std::printf("note: recorded with --prefetch; the replay models the cache without the "
                "look-ahead's reads\n");
  }
  std::printf("simulated: window %d | budget %s\n", opts.window,
              opts.budget_bytes ? size_format_bytes(opts.budget_bytes).c_str() : "unlimited");
  if (!a.quiet) {
    std::printf("%6s %6s %9s %7s %7s %8s %10s %8s %4s\n", "token", "prompt", "predicted",
                "added", "removed", "streamed", "bytes_read", "requests", "k");
  }
  std::ofstream out;
  if (!a.telemetry_path.empty()) {
    out.open(a.telemetry_path, std::ios::trunc);
    if (!out) fail(a.telemetry_path, "cannot write telemetry file");
  }
  double n = 0, predicted = 0, added = 0, removed = 0, streamed = 0, bytes = 0, requests = 0,
         k = 0;
  for (const TokenTelemetry& t : tel) {
    int64_t p = 0, ad = 0, rm = 0, st = 0;
    for (const LayerTelemetry& lt : t.layers) {
      p += lt.neurons_predicted;
      ad += lt.neurons_added;
      rm += lt.neurons_removed;
      st += lt.neurons_streamed;
    }
    if (!a.quiet) {
      std::printf("%6lld %6s %9lld %7lld %7lld %8lld %10lld %8lld %4d\n",
                  static_cast<long long>(t.index), t.prompt ? "yes" : "", static_cast<long long>(p),
                  static_cast<long long>(ad), static_cast<long long>(rm),
                  static_cast<long long>(st), static_cast<long long>(t.bytes_read),
                  static_cast<long long>(t.read_requests), t.window_in_force);
    }
    if (out.is_open()) out << telemetry_to_json_line(t) << "\n";
    if (t.prompt) continue;  // means over generated tokens, as generate's summary
    ++n;
    predicted += static_cast<double>(p);
    added += static_cast<double>(ad);
    removed += static_cast<double>(rm);
    streamed += static_cast<double>(st);
    bytes += static_cast<double>(t.bytes_read);
    requests += static_cast<double>(t.read_requests);
    k += t.window_in_force;
  }
  if (n > 0) {
    std::printf("mean over %.0f generated tokens: predicted %.1f | added %.1f | removed %.1f | "
                "streamed %.1f | read %s/token in %.1f requests | window in force %.2f\n",
                n, predicted / n, added / n, removed / n, streamed / n,
                size_format_bytes(static_cast<int64_t>(bytes / n)).c_str(), requests / n, k / n);
  }
  if (!a.figures_path.empty()) {
    std::vector<int> windows;
    for (int w = 1; w <= a.max_window; ++w) windows.push_back(w);
    const std::vector<WindowPoint> pts = cache_window_sweep(trace, windows, opts.budget_bytes);
    nlohmann::json j;
    j["trace"] = a.trace;
    j["model"] = trace.header.model;
    j["budget_bytes"] = opts.budget_bytes;
    j["neurons_total"] = int64_t{trace.header.layout.neurons} * trace.header.layout.n_layers;
    for (const WindowPoint& p : pts) {
      j["windows"].push_back({{"window", p.window},
                              {"neurons_loaded_per_token", p.loaded_per_token},
                              {"bytes_read_per_token", p.bytes_per_token},
                              {"aggregated_usage", p.resident_fraction}});
    }
    std::ofstream f(a.figures_path, std::ios::trunc);
    if (!f) fail(a.figures_path, "cannot write figures file");
    f << j.dump(1) << "\n";
    std::printf("figures: %s (windows 1..%d)\n", a.figures_path.c_str(), a.max_window);
  }
  return 0;
}
