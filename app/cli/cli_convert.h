// cli_convert.h - `flashchat-cli convert INPUT -o DIR`: a dense model (GGUF file or Hugging
// Face directory) to a flash model directory, with a progress bar, Ctrl-C cancellation and a
// per-layer predictor quality table.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

struct CliConvertArgs {
  std::string input;   // GGUF file or Hugging Face directory
  std::string output;  // flash model directory to create
  std::string calib;   // calibration text; empty = the installed / source-tree default
  int rank = 128;       // predictor rank
  int rank_last = -1;   // rank of the last layers (-1: 4 x rank, 0: rank)
  int last_layers = -1;  // how many layers are "last" (-1: a quarter, rounded up)
  std::vector<int> ranks;  // per-layer ranks (overrides rank, rank_last, last_layers)
  int steps = 1000;      // Adam steps per layer
  int batch_rows = 64;   // rows per Adam step
  float recall = 0.9f;   // target recall of the held-out threshold (0: off)
  float pos_weight_max = 4.0f;  // cap of the positive class weight (1: plain BCE)
  int tokens = 4096;     // calibration tokens
  bool no_predictors = false;
  std::string weights;  // f32, f16, bf16, q8_0, q4_0; empty = as the input stores them
  std::string sparsity = "predictor";  // predictor | gate
  double gate_mass = 0.99;              // --sparsity gate: calibration mass the kept neurons carry
};

// Adds the "convert" subcommand to `app`, binding its options to `args`; *sub receives it.
void cli_convert_register(CLI::App& app, CliConvertArgs& args, CLI::App** sub);

// Runs the conversion. Returns 0 on success, 130 when cancelled by Ctrl-C or SIGTERM (nothing is
// left behind); engine errors propagate as flashchat::Error for the caller to report.
int cli_convert_run(const CliConvertArgs& args);
