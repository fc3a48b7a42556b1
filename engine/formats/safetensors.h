// safetensors.h - reader for Hugging Face safetensors files, single or sharded.
//
// A safetensors file is: u64 little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F16", "shape": [rows, cols], "data_offsets": [begin, end]}, ...,
//  "__metadata__": {...}}, then the data section (offsets are relative to it). Shapes are
// row-major: a torch Linear weight of shape [out, in] is a (rows=out, cols=in) matrix.
// A sharded checkpoint has model.safetensors.index.json {"weight_map": {"name": "file"}}.
//
// Files are memory mapped. Every structural problem (truncation, header length beyond the file,
// malformed JSON, unknown dtype, offsets outside the data or not matching shape x dtype size,
// overlapping tensors) throws flashchat::Error naming the file and the tensor.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "formats/dtype.h"

namespace flashchat {

struct SafetensorsTensor {
  std::string name;
  DType dtype = DType::F32;       // F32, F16 or BF16 (others are rejected with a clear message)
  std::vector<int64_t> shape;     // row-major, outermost first
  const uint8_t* data = nullptr;  // points into the owning file's map
  uint64_t size_bytes = 0;
  std::string file;  // path of the shard holding it
  int64_t n_elements() const;
};

// One file.
// Copies and moves keep every tensor's data pointer valid (the bytes are shared).
class SafetensorsFile {
 public:
  // Maps and validates `path`. Throws Error on any malformed input.
  static SafetensorsFile open(const std::string& path);
  // Parses an already mapped file (kept alive by the result).
  static SafetensorsFile parse(std::shared_ptr<MappedFile> file);
  // Parses an in-memory image (fuzzer, tests); `name` is used in messages and as each tensor's
  // `file`. The bytes are copied, so `data` may be freed afterwards (mapping() is then null).
  static SafetensorsFile parse_bytes(const uint8_t* data, size_t size, const std::string& name);

  const std::map<std::string, SafetensorsTensor>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  std::shared_ptr<MappedFile> mapping() const { return file_; }

 private:
  // Parses the image at data (kept alive by file_ or owned_bytes_); `source` names it in errors.
  void parse_image(const uint8_t* data, size_t size, const std::string& source);

  std::map<std::string, SafetensorsTensor> tensors_;
  std::map<std::string, std::string> metadata_;
  std::shared_ptr<MappedFile> file_;
  // Owns the bytes when parsed from memory; shared so copies and moves keep tensor data valid.
  std::shared_ptr<const std::vector<uint8_t>> owned_bytes_;
};

// All tensors of a checkpoint directory: model.safetensors, or the shards named by
// model.safetensors.index.json (every shard must exist and hold the tensors the index names).
class SafetensorsCheckpoint {
 public:
  static SafetensorsCheckpoint open_dir(const std::string& dir);

  const SafetensorsTensor* find(const std::string& name) const;  // nullptr when absent
  const std::map<std::string, SafetensorsTensor>& tensors() const { return tensors_; }
  // The maps of all shards (keep alive while tensors are used).
  const std::vector<std::shared_ptr<MappedFile>>& mappings() const { return mappings_; }

 private:
  std::map<std::string, SafetensorsTensor> tensors_;
  std::vector<std::shared_ptr<MappedFile>> mappings_;
};

}  // namespace flashchat
