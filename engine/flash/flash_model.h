// flash_model.h - a converted flash model directory (see docs/FLASH_DESIGN.md), opened.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flash/predictor.h"
#include "model/model.h"

namespace flashchat {

// Where each neuron's bundle lives in ffn.bin.
struct FlashLayout {
  DType dtype = DType::F16;
  int dim = 0;
  int neurons = 0;      // per layer
  int n_layers = 0;
  bool gated = true;
  int64_t bundle_bytes = 0;                 // (gated ? 3 : 2) * dim * sizeof(dtype)
  std::vector<uint64_t> layer_offsets;      // multiples of 4096
  uint64_t size_bytes = 0;                  // of ffn.bin

  uint64_t bundle_offset(int layer, int neuron) const {
    return layer_offsets[static_cast<size_t>(layer)] + static_cast<uint64_t>(neuron) * bundle_bytes;
  }
  // Byte offsets of the parts inside a bundle.
  int64_t part_bytes() const { return dtype_bytes_for(dtype, dim); }
  int64_t gate_offset() const { return 0; }
  int64_t up_offset() const { return gated ? part_bytes() : 0; }
  int64_t down_offset() const { return gated ? 2 * part_bytes() : part_bytes(); }
};

struct FlashModel {
  std::string dir;
  std::unique_ptr<Model> model;  // resident part; ffn_gate/up/down are empty, biases present
  FlashLayout ffn;
  std::string ffn_path;          // dir + "/ffn.bin"
  std::vector<Predictor> predictors;       // one per layer (may be empty: no predictors)
  std::vector<float> thresholds;           // per layer label threshold used in training
  std::vector<PredictorMetrics> metrics;   // per layer, from the converter
};

// True when `path` is a directory holding a manifest.json.
bool flash_model_is_dir(const std::string& path);

// Opens a flash model directory. Checks magic, version, file sizes against the manifest and,
// when verify_checksums, every file's CRC32. Throws Error naming the file and the problem.
std::unique_ptr<FlashModel> flash_model_open(const std::string& dir, bool verify_checksums = true);

}  // namespace flashchat
