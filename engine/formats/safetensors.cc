#include "formats/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"

namespace flashchat {

namespace {

using nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;  // 100 MB
constexpr int kMaxJsonDepth = 16;
constexpr size_t kMaxDims = 8;

// Parses JSON text, rejecting nesting deeper than kMaxJsonDepth and (when `unique_top_keys`)
// duplicate keys of the top-level object, which nlohmann::json would otherwise merge silently.
json json_parse_strict(const char* begin, const char* end, const std::string& source,
                       const char* what, bool unique_top_keys) {
  std::set<std::string> top_keys;
  auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxJsonDepth) fail(source, std::string(what) + " nested too deeply");
    if (unique_top_keys && event == json::parse_event_t::key && depth == 1) {
      std::string key = parsed.get<std::string>();
      if (!top_keys.insert(key).second) {
        fail(source, std::string("duplicate key '") + key + "' in " + what);
      }
    }
    return true;
  };
  try {
    return json::parse(begin, end, callback);
  } catch (const json::exception& e) {
    fail(source, std::string("malformed JSON ") + what + ": " + e.what());
  }
}

// A JSON value as a non-negative integer, or an error naming `what`.
uint64_t json_to_u64(const json& v, const std::string& source, const std::string& what) {
  if (!v.is_number_unsigned()) {
    fail(source, what + " must be a non-negative integer, got " +
                     (v.is_number() ? v.dump() : std::string(v.type_name())));
  }
  return v.get<uint64_t>();
}

// Validates one tensor entry of the header and fills `t` (except data, which needs the base).
void parse_tensor_entry(const std::string& source, const std::string& name, const json& entry,
                        uint64_t data_size, SafetensorsTensor& t, uint64_t& begin) {
  const std::string where = "tensor '" + name + "'";
  if (!entry.is_object()) fail(source, where + ": entry is not an object");
  auto dtype_it = entry.find("dtype");
  auto shape_it = entry.find("shape");
  auto offsets_it = entry.find("data_offsets");
  if (dtype_it == entry.end() || !dtype_it->is_string()) {
    fail(source, where + ": missing or non-string \"dtype\"");
  }
  if (shape_it == entry.end() || !shape_it->is_array()) {
    fail(source, where + ": missing or non-array \"shape\"");
  }
  if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2) {
    fail(source, where + ": \"data_offsets\" must be an array [begin, end]");
  }

  const std::string dtype = dtype_it->get<std::string>();
  if (!dtype_from_name(dtype, &t.dtype)) {
    fail(source, "unsupported dtype " + dtype + " in tensor " + name);
  }

  if (shape_it->size() > kMaxDims) {
    fail(source, where + ": " + std::to_string(shape_it->size()) + " dimensions (at most 8)");
  }
  int64_t n_elems = 1;
  for (const json& d : *shape_it) {
    const uint64_t dim = json_to_u64(d, source, where + ": shape dimension");
    if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
        __builtin_mul_overflow(n_elems, static_cast<int64_t>(dim), &n_elems)) {
      fail(source, where + ": element count overflows");
    }
    t.shape.push_back(static_cast<int64_t>(dim));
  }
  // Block-quantised tensors (flashchat's own dram.safetensors) hold whole blocks per row.
  const int64_t block = dtype_block_elems(t.dtype);
  if (block > 1 && (t.shape.empty() || t.shape.back() % block != 0)) {
    fail(source, where + ": a " + dtype + " tensor's innermost dimension must be a multiple of " +
                     std::to_string(block));
  }
  int64_t n_bytes = 0;
  if (__builtin_mul_overflow(n_elems / block, dtype_block_bytes(t.dtype), &n_bytes)) {
    fail(source, where + ": byte size overflows");
  }

  begin = json_to_u64((*offsets_it)[0], source, where + ": data_offsets begin");
  const uint64_t end = json_to_u64((*offsets_it)[1], source, where + ": data_offsets end");
  if (begin > end) {
    fail(source, where + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                     "] are reversed");
  }
  if (end > data_size) {
    fail(source, where + ": data_offsets end " + std::to_string(end) +
                     " lies beyond the data section (" + std::to_string(data_size) + " bytes)");
  }
  if (end - begin != static_cast<uint64_t>(n_bytes)) {
    fail(source, where + ": data_offsets span " + std::to_string(end - begin) +
                     " bytes but shape x " + dtype + " needs " + std::to_string(n_bytes));
  }
  t.name = name;
  t.size_bytes = static_cast<uint64_t>(n_bytes);
  t.file = source;
}

}  // namespace

int64_t SafetensorsTensor::n_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;  // overflow excluded at parse time
  return n;
}

// ---------------------------------------------------------------------------------------------
// SafetensorsFile

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  return parse(mapped_file_open(path));
}

SafetensorsFile SafetensorsFile::parse(std::shared_ptr<MappedFile> file) {
  if (file == nullptr) throw Error("SafetensorsFile::parse: null file");
  SafetensorsFile f;
  f.parse_image(file->data(), file->size_bytes(), file->path());
  f.file_ = std::move(file);
  return f;
}

SafetensorsFile SafetensorsFile::parse_bytes(const uint8_t* data, size_t size,
                                             const std::string& name) {
  SafetensorsFile f;
  auto owned = std::make_shared<std::vector<uint8_t>>(data, data + size);
  f.parse_image(owned->data(), owned->size(), name);
  f.owned_bytes_ = std::move(owned);
  return f;
}

void SafetensorsFile::parse_image(const uint8_t* data, size_t size, const std::string& source) {
  if (size < 8) {
    fail(source, "truncated at byte 0 while reading the header length (file has " +
                     std::to_string(size) + " bytes, need 8)");
  }
  uint64_t header_len = 0;
  std::memcpy(&header_len, data, 8);
  if (header_len > size - 8) {
    fail(source, "header length " + std::to_string(header_len) + " exceeds the file (" +
                     std::to_string(size) + " bytes)");
  }
  if (header_len > kMaxHeaderBytes) {
    fail(source, "header length " + std::to_string(header_len) + " is absurd (limit 100 MB)");
  }
  const char* text = reinterpret_cast<const char*>(data + 8);
  const json header = json_parse_strict(text, text + header_len, source, "header", true);
  if (!header.is_object()) fail(source, "header is not a JSON object");

  const uint8_t* data_base = data + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;
  std::vector<std::pair<uint64_t, const SafetensorsTensor*>> spans;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) fail(source, "__metadata__ must be an object of strings");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) {
          fail(source, "__metadata__ value of '" + key + "' is not a string");
        }
        metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    SafetensorsTensor t;
    uint64_t begin = 0;
    parse_tensor_entry(source, name, entry, data_size, t, begin);
    t.data = data_base + begin;
    auto [it, inserted] = tensors_.emplace(name, std::move(t));
    spans.emplace_back(begin, &it->second);
  }

  std::sort(spans.begin(), spans.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  uint64_t covered_end = 0;
  const SafetensorsTensor* covering = nullptr;
  for (const auto& [begin, t] : spans) {
    if (t->size_bytes == 0) continue;
    if (covering != nullptr && begin < covered_end) {
      fail(source, "tensors '" + covering->name + "' and '" + t->name + "' overlap");
    }
    covered_end = begin + t->size_bytes;
    covering = t;
  }
}

// ---------------------------------------------------------------------------------------------
// SafetensorsCheckpoint

namespace {

namespace fs = std::filesystem;

bool file_exists(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

}  // namespace

SafetensorsCheckpoint SafetensorsCheckpoint::open_dir(const std::string& dir) {
  SafetensorsCheckpoint ckpt;
  const fs::path base(dir);
  const fs::path index_path = base / "model.safetensors.index.json";
  const fs::path single_path = base / "model.safetensors";

  if (file_exists(index_path)) {
    const std::string index_name = index_path.string();
    std::shared_ptr<MappedFile> index_file = mapped_file_open(index_name);
    const char* text = reinterpret_cast<const char*>(index_file->data());
    const json index =
        json_parse_strict(text, text + index_file->size_bytes(), index_name, "index", false);
    if (!index.is_object()) fail(index_name, "index is not a JSON object");
    auto map_it = index.find("weight_map");
    if (map_it == index.end() || !map_it->is_object()) {
      fail(index_name, "missing \"weight_map\" object");
    }

    std::map<std::string, SafetensorsFile> shards;  // shard file name -> parsed file
    for (const auto& [tensor, shard_json] : map_it->items()) {
      if (!shard_json.is_string()) {
        fail(index_name, "weight_map entry of '" + tensor + "' is not a string");
      }
      const std::string shard = shard_json.get<std::string>();
      const fs::path shard_rel(shard);
      if (shard.empty() || shard_rel.is_absolute() ||
          std::any_of(shard_rel.begin(), shard_rel.end(),
                      [](const fs::path& part) { return part == ".."; })) {
        fail(index_name, "shard name '" + shard + "' of tensor '" + tensor +
                             "' must be a file inside the checkpoint directory");
      }
      auto shard_it = shards.find(shard);
      if (shard_it == shards.end()) {
        const fs::path shard_path = base / shard_rel;
        if (!file_exists(shard_path)) {
          fail(index_name, "shard '" + shard + "' (named for tensor '" + tensor +
                               "') is missing: " + shard_path.string());
        }
        shard_it = shards.emplace(shard, SafetensorsFile::open(shard_path.string())).first;
        ckpt.mappings_.push_back(shard_it->second.mapping());
      }
      auto t = shard_it->second.tensors().find(tensor);
      if (t == shard_it->second.tensors().end()) {
        fail(index_name, "tensor '" + tensor + "' is mapped to shard '" + shard +
                             "' but that file does not contain it");
      }
      ckpt.tensors_.emplace(tensor, t->second);
    }
    return ckpt;
  }

  if (file_exists(single_path)) {
    SafetensorsFile f = SafetensorsFile::open(single_path.string());
    ckpt.mappings_.push_back(f.mapping());
    ckpt.tensors_ = f.tensors();
    return ckpt;
  }

  fail(dir, "no model.safetensors or model.safetensors.index.json in this directory");
}

const SafetensorsTensor* SafetensorsCheckpoint::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

}  // namespace flashchat
