// gguf.h - reader for GGUF files (versions 2 and 3), the llama.cpp ecosystem's model format.
//
// Layout (little endian): magic "GGUF", u32 version, u64 n_tensors, u64 n_kv, then n_kv
// metadata pairs (string key, u32 value type, value), n_tensors tensor infos (string name,
// u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset), padding to `general.alignment`
// (default 32), then the tensor data. ne[0] is the innermost (contiguous) dimension, so a
// row-major (rows, cols) matrix has ne = {cols, rows}.
//
// The file is memory mapped; tensor data pointers point into the map. Every structural problem
// (bad magic, truncation, absurd counts, overlapping or out-of-file tensors, unknown types) throws
// flashchat::Error naming the file.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/mapped_file.h"
#include "formats/dtype.h"

namespace flashchat {

// GGUF metadata value types as stored in the file.
enum class GgufType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};

// One metadata value. Scalars are widened: integers to int64_t/uint64_t, floats to double.
// Arrays keep their element type; arrays of arrays are parsed but kept only as a count.
struct GgufValue {
  GgufType type = GgufType::U8;
  GgufType array_type = GgufType::U8;  // element type when type == ARRAY
  std::variant<uint64_t, int64_t, double, bool, std::string> scalar;
  std::vector<std::string> array_strings;  // ARRAY of STRING
  std::vector<double> array_numbers;       // ARRAY of numeric / bool types
  uint64_t array_size = 0;

  bool is_integer() const;
  int64_t as_int() const;    // throws Error if not an integer type
  double as_double() const;  // integers or floats
  bool as_bool() const;
  const std::string& as_string() const;
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> ne;   // ne[0] innermost
  uint32_t ggml_type = 0;    // raw ggml type id
  DType dtype = DType::F32;  // valid when supported == true
  bool supported = false;    // false for ggml types the engine cannot read (e.g. Q4_K)
  uint64_t offset = 0;       // relative to the data section
  uint64_t size_bytes = 0;
  int64_t n_elements() const;
};

// Copies and moves keep tensor_data() pointers valid (the bytes are shared, not copied).
class GgufFile {
 public:
  // Opens and validates `path`. Throws Error on any malformed input.
  static GgufFile open(const std::string& path);
  // Parses an already mapped file (kept alive by the result).
  static GgufFile parse(std::shared_ptr<MappedFile> file);
  // Parses an in-memory image (used by the fuzzer and tests); `name` is used in messages. The
  // bytes are copied, so `data` may be freed afterwards (mapping() is then null).
  static GgufFile parse_bytes(const uint8_t* data, size_t size, const std::string& name);

  uint32_t version() const { return version_; }
  const std::string& path() const { return path_; }
  const std::map<std::string, GgufValue>& metadata() const { return metadata_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }

  // nullptr when absent.
  const GgufValue* find(const std::string& key) const;
  const GgufTensorInfo* find_tensor(const std::string& name) const;

  // Typed getters; the *_or variants return `fallback` when the key is absent and throw when
  // it is present with the wrong type. get_* throw when absent.
  std::string get_string(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  int64_t get_int_or(const std::string& key, int64_t fallback) const;
  double get_double_or(const std::string& key, double fallback) const;
  bool get_bool_or(const std::string& key, bool fallback) const;
  std::string get_string_or(const std::string& key, const std::string& fallback) const;

  // Pointer to a tensor's bytes (inside the map). Throws Error "unsupported tensor type X in
  // tensor Y" when the tensor's type is not supported.
  const uint8_t* tensor_data(const GgufTensorInfo& info) const;

  // Keeps the mapping alive (for tensors that point into it).
  std::shared_ptr<MappedFile> mapping() const { return file_; }

 private:
  std::string path_;
  uint32_t version_ = 0;
  std::map<std::string, GgufValue> metadata_;
  std::vector<GgufTensorInfo> tensors_;
  // Parses the image at data (kept alive by file_ or owned_bytes_) into the members above.
  void parse_image(const uint8_t* data, size_t size);

  std::map<std::string, size_t> tensor_index_;  // name -> index into tensors_
  std::shared_ptr<MappedFile> file_;            // owns the bytes when opened from a path
  // Owns the bytes when parsed from memory; shared so that copies and moves keep
  // data_section_ valid.
  std::shared_ptr<const std::vector<uint8_t>> owned_bytes_;
  const uint8_t* data_section_ = nullptr;
};

// Name of a ggml type id ("Q4_K", "F16", ...) for messages; "type N" when unknown.
std::string ggml_type_name(uint32_t ggml_type);

}  // namespace flashchat
