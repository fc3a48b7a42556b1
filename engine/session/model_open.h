// model_open.h - opening any model the engine reads (GGUF file, Hugging Face folder, converted
// flash model directory) and describing it, for the CLI, the GUI's model list and the Session.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flash/flash_model.h"
#include "model/model.h"
#include "model/tokenizer.h"

namespace flashchat {

// A model opened for reading: the weights (dense, or the resident part of a flash model) and
// its tokenizer. The vocabulary lives in the tokenizer (tokenizer->spec()); the Model's
// `tokenizer` keeps only the scalar fields. Movable, not copyable.
struct OpenedModel {
  std::unique_ptr<FlashModel> flash;  // set for flash model directories (owns the Model then)
  std::unique_ptr<Model> dense;       // set for GGUF files and Hugging Face folders
  std::unique_ptr<Tokenizer> tokenizer;
  double load_ms = 0;
  // Heap the tokenizer holds (Tokenizer::memory_bytes: vocabulary and lookup maps), counted
  // from its structures, so other threads allocating meanwhile (a GUI) cannot inflate it.
  // Predictors are counted apart; resident weights are read into their own mapping.
  int64_t heap_bytes = 0;

  const Model& model() const { return flash ? *flash->model : *dense; }
  bool is_flash() const { return flash != nullptr; }
};

// Opens `path`: a flash model directory (manifest.json inside), a GGUF file or a Hugging Face
// folder. verify_checksums: CRC-check a flash model's files. Throws Error naming the file and
// the problem.
OpenedModel model_open(const std::string& path, bool verify_checksums = true);

// The tokenizer of the model at `path` without loading its weights: a GGUF file's
// tokenizer.ggml.* metadata (whatever its architecture; also a vocabulary-only file with no
// tensors), a Hugging Face folder's tokenizer.json, or a flash model directory's. Throws Error
// naming the file and the problem.
Tokenizer tokenizer_open(const std::string& path);

// One layer's predictor, as the converter measured it on held-out calibration rows.
struct PredictorInfo {
  int rank = 0;
  double recall = 0, precision = 0;
  double predicted_active = 0, true_active = 0;  // fractions of the layer's neurons
  int64_t bytes = 0;
};

// What a UI or `info` shows about a model. Sizes in bytes.
struct ModelInfo {
  std::string path, format;  // format: "flash", "gguf" or "safetensors"
  std::string name, architecture;
  int n_layers = 0, dim = 0, n_heads = 0, n_kv_heads = 0, head_dim = 0;
  int ffn_dim = 0, vocab_size = 0, max_context = 0;
  bool ffn_gated = false;
  std::string activation;
  std::string chat_format;     // detected from the model's template ("plain" without one)
  bool has_chat_template = false;
  int64_t parameters = 0;
  ModelBytes bytes;            // embeddings, attention, ffn, other
  // Flash models.
  bool is_flash = false;
  int64_t ffn_file_bytes = 0, bundle_bytes = 0, predictor_bytes = 0;
  std::vector<PredictorInfo> predictors;
  // The whole model as stored (resident + FFN) — what "% of the model" is measured against.
  int64_t model_bytes = 0;
};

ModelInfo model_info_of(const OpenedModel& m);
// The text `flashchat-cli info` prints: architecture, shapes, matrix types, tokenizer, bytes by
// part, flash layout and predictors, and the minimum budget of each mode with a KV cache for
// `context` positions (0 = the model's context, at most 4096) and for a short chat.
std::string model_info_describe(const OpenedModel& m, int context);
// Opens `path` without checksum verification and describes it. Throws Error like model_open.
ModelInfo model_info_read(const std::string& path);

}  // namespace flashchat
