// cli_replay.h - `flashchat-cli replay --trace FILE --window K [--budget SIZE]`: a recorded run's
// active sets through the cache policy at another window or budget (what-if), as a per-token
// table with means, JSON lines shaped like `generate --telemetry`, and the paper's figures.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

struct CliReplayArgs {
  std::string trace;           // written by generate --trace
  int window = 4;
  std::string budget;          // SIZE; empty = unlimited
  std::string telemetry_path;  // JSON lines out
  std::string figures_path;    // JSON out: loaded per token and usage against window size
  int max_window = 16;         // figures: windows 1..max_window
  bool quiet = false;          // no per-token table, means only
};

// Adds the "replay" subcommand to `app`, binding its options to `args`; *sub receives it.
void cli_replay_register(CLI::App& app, CliReplayArgs& args, CLI::App** sub);

// Runs the replay; engine errors propagate as flashchat::Error.
int cli_replay_run(const CliReplayArgs& args);
