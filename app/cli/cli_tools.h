// cli_tools.h - `flashchat-cli dump` (a tensor's values as text) and `flashchat-cli perplexity`
// (held-out perplexity of a model on a text file).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

struct CliDumpArgs {
  std::string model;   // GGUF file, .safetensors file, or a directory of .safetensors files
  std::string tensor;  // its name in the file
  std::string rows;    // "A:B" (rows A..B-1), "A:" or ":B"; empty = all rows
};

struct CliPerplexityArgs {
  std::string model;  // any model flashchat-cli opens (flash models run their FFN dense)
  std::string file;   // the text
  int context = 0;    // tokens per chunk (0 = the model's context)
  bool bos = true;    // each chunk starts with BOS when the vocabulary has one
  std::string mode = "dram";  // flash models: dram (FFN dense) or flash (sparse, as generate runs)
};

// Add the subcommands, binding their options to `args`; *sub receives each.
void cli_dump_register(CLI::App& app, CliDumpArgs& args, CLI::App** sub);
void cli_perplexity_register(CLI::App& app, CliPerplexityArgs& args, CLI::App** sub);

// Print one row per line (a row = the innermost dimension), values "%.9g" separated by single
// spaces. Throws flashchat::Error for a missing file or tensor or a bad row range.
int cli_dump_run(const CliDumpArgs& args);

// Print "perplexity: P (mean NLL N nats over T predicted tokens, chunks of C)"; with --mode flash
// also the FFN's bytes read and neurons predicted active per token. Throws Error.
int cli_perplexity_run(const CliPerplexityArgs& args);
