#include "formats/safetensors_writer.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>

#include "core/error.h"
#include "core/file_writer.h"

namespace flashchat {

namespace {

using nlohmann::json;

uint64_t tensor_bytes(const std::string& path, const SafetensorsWriteTensor& t) {
  int64_t n = 1;
  for (int64_t d : t.shape) {
    if (d < 0) fail(path, "tensor '" + t.name + "' has a negative dimension");
    n *= d;
  }
  return static_cast<uint64_t>(dtype_bytes_for(t.dtype, n));
}

// Alignment a tensor's data wants: its element size for plain types, 2 for quantised blocks
// (every block is an even number of bytes).
int64_t data_alignment(DType t) {
  return dtype_block_elems(t) == 1 ? dtype_block_bytes(t) : 2;
}

// Write order: decreasing alignment, stable.
std::vector<size_t> write_order(const std::vector<SafetensorsWriteTensor>& tensors) {
  std::vector<size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return data_alignment(tensors[a].dtype) > data_alignment(tensors[b].dtype);
  });
  return order;
}

}  // namespace

std::string safetensors_header_json(const std::string& path,
                                    const std::vector<SafetensorsWriteTensor>& tensors,
                                    const std::map<std::string, std::string>& metadata,
                                    std::vector<uint64_t>* offsets) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  std::vector<uint64_t> begin(tensors.size(), 0);
  uint64_t at = 0;
  for (size_t i : write_order(tensors)) {
    const SafetensorsWriteTensor& t = tensors[i];
    if (t.name.empty() || t.name == "__metadata__")
      fail(path, "invalid tensor name '" + t.name + "'");
    if (!names.insert(t.name).second) fail(path, "duplicate tensor name '" + t.name + "'");
    // Block-quantised types (flashchat's own files only) need whole blocks per row.
    const int64_t block = dtype_block_elems(t.dtype);
    if (block > 1 && (t.shape.empty() || t.shape.back() % block != 0)) {
      fail(path, "tensor '" + t.name + "': a " + dtype_name(t.dtype) +
                     " tensor's innermost dimension must be a multiple of " + std::to_string(block));
    }
    const uint64_t n = tensor_bytes(path, t);
    if (n > 0 && t.data == nullptr) fail(path, "tensor '" + t.name + "' has no data");
    begin[i] = at;
    header[t.name] = {
        {"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {at, at + n}}};
    at += n;
  }
  if (offsets != nullptr) *offsets = begin;
  return header.dump();
}

SafetensorsWriteResult safetensors_write(const std::string& path,
                                         const std::vector<SafetensorsWriteTensor>& tensors,
                                         const std::map<std::string, std::string>& metadata) {
  std::string header;
  try {
    header = safetensors_header_json(path, tensors, metadata);
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("cannot encode the header (names must be UTF-8): ") + e.what());
  }
  header.append((8 - header.size() % 8) % 8, ' ');  // data section starts at a multiple of 8
  FileWriter w(path);
  const uint64_t header_len = header.size();
  uint8_t len_le[8];
  for (int i = 0; i < 8; ++i) len_le[i] = static_cast<uint8_t>(header_len >> (8 * i));
  w.write(len_le, 8);
  w.write(header.data(), header.size());
  for (size_t i : write_order(tensors)) {
    const SafetensorsWriteTensor& t = tensors[i];
    w.write(t.data, static_cast<size_t>(tensor_bytes(path, t)));
  }
  w.commit();
  return {w.size_bytes(), w.crc32()};
}

}  // namespace flashchat
