// flash_manifest.h - the JSON spelling of a flash model's manifest.json (docs/FLASH_DESIGN.md):
// constants, typed field access with errors naming the file and the field, and the
// ModelConfig / TokenizerSpec sections shared by the converter and the reader.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/dtype.h"
#include "model/model.h"
#include "model/model_config.h"
#include "model/tokenizer_spec.h"

namespace flashchat {

inline constexpr const char* kFlashMagic = "flashchat-flash-model";
// 1: quantised bundles hold whole Q8_0 / Q4_0 blocks (scales inline); 2: the block scales are
// the resident file ffn_scales.bin and the bundles hold the quants only (plain dtypes: as in 1).
// This build reads both and writes 2.
inline constexpr int kFlashVersion = 2;
inline constexpr const char* kFlashScalesFile = "ffn_scales.bin";
inline constexpr uint64_t kFlashAlignBytes = 4096;  // layer regions of ffn.bin start here

// Read access to one JSON object of the manifest. Every problem throws
// Error("<source>: field '<path.key>' <problem>"), e.g.
//   "m/manifest.json: field 'config.dim' must be an integer, got \"32\"".
class ManifestFields {
 public:
  ManifestFields(const nlohmann::json& j, std::string source, std::string prefix = "");

  bool has(const char* key) const;                   // present and not null
  const nlohmann::json& get(const char* key) const;  // required, any type
  int64_t integer(const char* key, int64_t min, int64_t max) const;
  uint64_t unsigned_integer(const char* key) const;
  double number(const char* key) const;
  bool boolean(const char* key) const;
  std::string string(const char* key) const;
  std::string string_or(const char* key, const std::string& def) const;
  ManifestFields object(const char* key) const;        // a required nested object
  const nlohmann::json& array(const char* key) const;  // a required array
  [[noreturn]] void bad(const std::string& key, const std::string& problem) const;
  std::string field_name(const std::string& key) const { return prefix_ + key; }
  const std::string& source() const { return source_; }

 private:
  const nlohmann::json& j_;
  std::string source_;
  std::string prefix_;
};

// ModelConfig <-> {"arch": "llama", "dim": 288, ...}. All fields are written and required.
nlohmann::json flash_config_to_json(const ModelConfig& c);
ModelConfig flash_config_from_json(const ManifestFields& f);

// TokenizerSpec <-> {"kind": "spm", "tokens": [...], ...}. Token and merge texts that are not
// valid UTF-8 are stored as {"hex": "..."}; non-finite scores as "inf" / "-inf" / "nan".
nlohmann::json flash_tokenizer_to_json(const TokenizerSpec& t);
TokenizerSpec flash_tokenizer_from_json(const ManifestFields& f);

// One tensor of dram.safetensors: its name (docs/FLASH_DESIGN.md), where it lives in a Model,
// its expected shape (rows, cols; vectors have rows == 0 and are stored 1-D), and whether a
// model of this config must have it. Everything but the FFN matrices; the output head only
// when untied.
struct FlashResidentEntry {
  std::string name;
  Tensor* tensor = nullptr;
  int64_t rows = 0;  // 0 for a vector
  int64_t cols = 0;
  bool required = false;
};
// gate_resident: also the gate matrices (the exact gate mode keeps them in DRAM).
std::vector<FlashResidentEntry> flash_resident_entries(Model& model, bool gate_resident = false);

// DType names of ffn.bin ("F32", "F16", "BF16"); false for anything else.
bool flash_dtype_from_name(const std::string& name, DType* out);

}  // namespace flashchat
