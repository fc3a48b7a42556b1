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
  // Format 2, Q8_0 / Q4_0: the bundles hold the quants only (dtype_blocks_split); the block
  // scales are the resident table ffn_scales.bin (FlashModel::ffn_scales), so that a bundle is
  // 2 * dim (Q8_0) or dim (Q4_0) bytes and packs into 4 KiB pages. False: inline blocks (format 1)
  // or a plain dtype.
  bool split_scales = false;
  // Exact gate mode ("sparsity": "gate", gated models only): the gate matrix is resident
  // (dram.safetensors), bundles are [up row | down column], and the active set of a token is
  // {i : |act(gate_i . x)| > gate_thresholds[layer]} (FlashModel::gate_thresholds).
  bool gate_resident = false;
  int64_t bundle_bytes = 0;                 // parts() * part_bytes()
  std::vector<uint64_t> layer_offsets;      // multiples of 4096
  uint64_t size_bytes = 0;                  // of ffn.bin

  uint64_t bundle_offset(int layer, int neuron) const {
    return layer_offsets[static_cast<size_t>(layer)] + static_cast<uint64_t>(neuron) * bundle_bytes;
  }
  bool gate_in_bundle() const { return gated && !gate_resident; }
  int parts() const { return gate_in_bundle() ? 3 : 2; }
  // Byte offsets of the parts inside a bundle.
  int64_t part_bytes() const {
    return split_scales ? dtype_split_quant_bytes(dtype, dim) : dtype_bytes_for(dtype, dim);
  }
  // Split scales: per part dim / 32, per bundle parts() times that (gate, up, down in order).
  int64_t part_scales() const { return split_scales ? dim / 32 : 0; }
  int64_t bundle_scales() const { return parts() * part_scales(); }
  int64_t gate_offset() const { return 0; }
  int64_t up_offset() const { return gate_in_bundle() ? part_bytes() : 0; }
  int64_t down_offset() const { return (parts() - 1) * part_bytes(); }
};

// One file of the model directory as manifest.json lists it.
struct FlashModelFile {
  std::string name;         // "dram.safetensors", "ffn.bin", "predictors.safetensors"
  std::string path;         // dir + "/" + name
  uint64_t size_bytes = 0;  // checked at open
  uint32_t crc32 = 0;       // checked by flash_model_verify
};

struct FlashModel {
  std::string dir;
  std::vector<FlashModelFile> files;  // every file the manifest lists
  std::unique_ptr<Model> model;  // resident part; ffn_gate/up/down are empty, biases present
  FlashLayout ffn;
  std::string ffn_path;          // dir + "/ffn.bin"
  std::vector<Predictor> predictors;       // one per layer (may be empty: no predictors)
  std::vector<float> thresholds;           // per layer label threshold used in training
  std::vector<PredictorMetrics> metrics;   // per layer, from the converter
  // ffn.split_scales: the F16 block scales of every bundle, [layer][neuron][bundle_scales()],
  // resident (counted with the resident weights); empty otherwise.
  std::vector<uint16_t> ffn_scales;
  // ffn.gate_resident: per layer, the threshold on |act(gate . x)| (calibrated at conversion).
  std::vector<float> gate_thresholds;

  // The layer's scales (neuron n's at + n * ffn.bundle_scales()), or nullptr without split scales.
  const uint16_t* layer_scales(int layer) const {
    return ffn_scales.empty() ? nullptr
                              : ffn_scales.data() + static_cast<size_t>(layer) * ffn.neurons *
                                                        static_cast<size_t>(ffn.bundle_scales());
  }
  int64_t ffn_scale_bytes() const { return static_cast<int64_t>(ffn_scales.size() * 2); }
};

// True when `path` is a directory holding a manifest.json.
bool flash_model_is_dir(const std::string& path);

// Opens a flash model directory. Checks magic, version and every file's size against the
// manifest; reads no file beyond the manifest, dram.safetensors and the predictors (no
// checksums: see flash_model_verify). Throws Error naming the file and the problem.
std::unique_ptr<FlashModel> flash_model_open(const std::string& dir);

// As above, then (when verify_checksums) flash_model_verify with force and no stamp: every file
// CRC-checked on every open, as before the split. For callers not yet switched over.
std::unique_ptr<FlashModel> flash_model_open(const std::string& dir, bool verify_checksums);

// What a flash model directory holds, from its manifest alone (nothing large is read), so a
// budget can be checked before gigabytes of resident weights are. Throws Error like
// flash_model_open for a bad manifest.
struct FlashModelSizes {
  ModelConfig config;
  FlashLayout ffn;
  int64_t resident_file_bytes = 0;  // dram.safetensors (tensor bytes + a small header)
  int64_t ffn_scale_bytes = 0;      // ffn_scales.bin (resident; 0 without split scales)
  int64_t predictor_bytes = 0;      // as held in DRAM (F16 A and B, F32 bias), all layers
};
FlashModelSizes flash_model_sizes(const std::string& dir);

struct FlashVerifyOptions {
  bool force = false;      // check every file, also those the stamp lists as unchanged
  bool use_stamp = true;   // false: neither read nor write the stamp file
  std::string stamp_path;  // empty: flash_verify_stamp_default_path()
};

struct FlashVerifyReport {
  int files_checked = 0;      // files whose CRC32 was computed
  int files_skipped = 0;      // unchanged since the stamp recorded them as verified
  uint64_t bytes_read = 0;    // read from disk to compute checksums (0 when all were skipped)
  bool direct_io = true;      // every file checked was read with O_DIRECT
  double verify_ms = 0;
  std::string stamp_path;     // the stamp file used ("" with use_stamp false)
  std::string stamp_error;    // why the stamp could not be written ("" when it was)
};

// CRC-checks the model's files against manifest.json, reading them without the page cache
// (crc32_file: O_DIRECT, or buffered with pages dropped). A file is skipped when the stamp lists
// it (by absolute path) with the same size, mtime_ns, ctime_ns, inode, device and manifest
// CRC; each file that passes is recorded there. The stamp is JSON, written atomically; a
// missing, unreadable or corrupt stamp is treated as empty (everything checked, stamp
// rewritten); a stamp that cannot be written is reported in stamp_error, not thrown.
// Throws Error naming the file on a checksum mismatch (its stamp entry removed first) or a read
// error.
FlashVerifyReport flash_model_verify(const FlashModel& fm, const FlashVerifyOptions& options = {});

// $XDG_CACHE_HOME/flashchat/verified.json, or ~/.cache/flashchat/verified.json (HOME unset:
// the current directory's .cache/flashchat/verified.json).
std::string flash_verify_stamp_default_path();

}  // namespace flashchat
