// flash_model.cc - opening a flash model directory (docs/FLASH_DESIGN.md): manifest.json,
// dram.safetensors (the resident weights, mapped), predictors.safetensors, and the layout of
// ffn.bin (read later by the runtime, not here).

#include "flash/flash_model.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/checksum.h"
#include "core/mapped_file.h"
#include "core/read_file.h"
#include "core/error.h"
#include "core/file_writer.h"
#include "core/shape_string.h"
#include "flash/flash_manifest.h"
#include "formats/dtype.h"
#include "formats/safetensors.h"
#include "model/weight_import.h"

namespace flashchat {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json manifest_read(const std::string& dir, const std::string& path) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) fail(dir, "no such directory");
  if (!fs::is_directory(dir, ec)) fail(dir, "not a directory (a flash model is a directory)");
  if (!fs::exists(path, ec)) {
    fail(path, "missing: not a flash model directory (make one with flashchat-cli convert)");
  }
  return file_read_json(path);
}

// A plain file name inside the model directory (no directories, no "..").
std::string file_name_field(const ManifestFields& f, const char* key) {
  const std::string name = f.string(key);
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    f.bad(key, "= '" + name + "' must be a file name inside the model directory");
  }
  return name;
}

// Checks that dir/name exists with the size the manifest lists and that its checksum entry is
// well formed; returns both.
FlashModelFile file_check(const std::string& dir, const std::string& name,
                          const ManifestFields& files, const ManifestFields& checksums) {
  FlashModelFile out;
  out.name = name;
  out.path = dir + "/" + name;
  const std::string& path = out.path;
  const uint64_t want = files.unsigned_integer(name.c_str());
  const std::string crc_text = checksums.string(name.c_str());
  if (!crc32_parse(crc_text, &out.crc32)) {
    checksums.bad(name, "= '" + crc_text + "' is not of the form crc32:xxxxxxxx");
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(path, "missing (listed in manifest.json)");
  if (!S_ISREG(st.st_mode)) fail(path, "is not a regular file");
  const auto have = static_cast<uint64_t>(st.st_size);
  if (have != want) {
    throw Error(path + " is " + std::to_string(have) + " bytes, manifest says " +
                std::to_string(want) +
                (have < want ? " (truncated?)" : " (modified or appended to?)"));
  }
  out.size_bytes = want;
  return out;
}

// The manifest's format version: 1 (block scales inside quantised bundles) or 2 (apart).
int64_t manifest_version(const ManifestFields& top, const std::string& manifest_path) {
  const int64_t version = top.integer("version", INT64_MIN, INT64_MAX);
  if (version < 1 || version > kFlashVersion) {
    fail(manifest_path, "format version " + std::to_string(version) +
                            " is not supported (this build reads versions 1 to " +
                            std::to_string(kFlashVersion) + "); convert the model again");
  }
  return version;
}

FlashLayout layout_parse(const ManifestFields& f, const ModelConfig& c, uint64_t file_size,
                         int64_t version) {
  FlashLayout L;
  const std::string dtype = f.string("dtype");
  if (!flash_dtype_from_name(dtype, &L.dtype)) f.bad("dtype", "= '" + dtype + "' (F32, F16, BF16, Q8_0, Q4_0)");
  // Format 1 kept the scales inside quantised bundles (still read); format 2 keeps them apart.
  L.split_scales = version >= 2 && dtype_has_split_scales(L.dtype);
  if (L.split_scales && f.string("scales_file") != kFlashScalesFile) {
    f.bad("scales_file", std::string("must be '") + kFlashScalesFile + "'");
  }
  const std::string sparsity = f.string_or("sparsity", "predictor");
  if (sparsity != "predictor" && sparsity != "gate") f.bad("sparsity", "= '" + sparsity + "' (predictor, gate)");
  L.gate_resident = sparsity == "gate";
  L.dim = static_cast<int>(f.integer("dim", 1, int64_t{1} << 30));
  L.neurons = static_cast<int>(f.integer("neurons", 1, int64_t{1} << 30));
  L.gated = f.boolean("gated");
  L.n_layers = c.n_layers;
  if (L.dim != c.dim) f.bad("dim", "= " + std::to_string(L.dim) + " differs from config.dim");
  if (L.dim % dtype_block_elems(L.dtype) != 0) {
    f.bad("dim", "= " + std::to_string(L.dim) + " is not a whole number of " + dtype + " blocks");
  }
  if (L.neurons != c.ffn_dim) {
    f.bad("neurons", "= " + std::to_string(L.neurons) + " differs from config.ffn_dim");
  }
  if (L.gated != c.ffn_gated) f.bad("gated", "differs from config.ffn_gated");
  if (L.gate_resident && !L.gated) f.bad("sparsity", "= 'gate' needs a gated FFN");
  const int64_t want_bundle = L.parts() * L.part_bytes();
  L.bundle_bytes = f.integer("bundle_bytes", 1, INT64_MAX);
  if (L.bundle_bytes != want_bundle) {
    f.bad("bundle_bytes", "= " + std::to_string(L.bundle_bytes) + ", expected " +
                              std::to_string(want_bundle) + " for this dtype, dim and gating");
  }
  L.size_bytes = f.unsigned_integer("size_bytes");
  if (L.size_bytes != file_size) {
    f.bad("size_bytes", "= " + std::to_string(L.size_bytes) + " differs from files." +
                            f.string("file") + " (" + std::to_string(file_size) + ")");
  }
  const json& offsets = f.array("layer_offsets");
  if (offsets.size() != static_cast<size_t>(c.n_layers)) {
    f.bad("layer_offsets", "has " + std::to_string(offsets.size()) + " entries for " +
                               std::to_string(c.n_layers) + " layers");
  }
  const uint64_t region = static_cast<uint64_t>(L.neurons) * static_cast<uint64_t>(L.bundle_bytes);
  uint64_t prev_end = 0;
  for (size_t i = 0; i < offsets.size(); ++i) {
    const std::string key = "layer_offsets[" + std::to_string(i) + "]";
    if (!offsets[i].is_number_unsigned()) f.bad(key, "must be a non-negative integer");
    const uint64_t off = offsets[i].get<uint64_t>();
    if (off % kFlashAlignBytes != 0)
      f.bad(key, "= " + std::to_string(off) + " is not a multiple of 4096");
    if (off < prev_end) f.bad(key, "= " + std::to_string(off) + " overlaps the previous layer");
    if (off > L.size_bytes || region > L.size_bytes - off) {
      f.bad(key, ": the layer's " + std::to_string(region) + " bytes end beyond ffn.bin (" +
                     std::to_string(L.size_bytes) + " bytes)");
    }
    prev_end = off + region;
    L.layer_offsets.push_back(off);
  }
  return L;
}

// Reads ffn_scales.bin (F16, [layer][neuron][bundle_scales]) into fm.ffn_scales; its size was
// checked against the manifest, and must match the layout.
void scales_load(FlashModel& fm, const std::string& path) {
  const FlashLayout& L = fm.ffn;
  const uint64_t want = static_cast<uint64_t>(L.n_layers) * static_cast<uint64_t>(L.neurons) *
                        static_cast<uint64_t>(L.bundle_scales()) * 2;
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open");
  in.seekg(0, std::ios::end);
  const auto have = static_cast<uint64_t>(in.tellg());
  if (have != want) {
    fail(path, "is " + std::to_string(have) + " bytes, the FFN layout needs " + std::to_string(want) +
                   " (" + std::to_string(L.bundle_scales()) + " scales per bundle)");
  }
  in.seekg(0);
  fm.ffn_scales.resize(static_cast<size_t>(want / 2));
  in.read(reinterpret_cast<char*>(fm.ffn_scales.data()), static_cast<std::streamsize>(want));
  if (!in) fail(path, "short read");
}

// Fills the model's resident tensors from dram.safetensors; every tensor is shape-checked and
// the file may hold nothing else.
void resident_load(Model& model, const SafetensorsFile& file, const std::string& path,
                   bool gate_resident) {
  std::set<std::string> used;
  for (FlashResidentEntry& e : flash_resident_entries(model, gate_resident)) {
    auto it = file.tensors().find(e.name);
    if (it == file.tensors().end()) {
      if (e.required) fail(path, "missing tensor '" + e.name + "'");
      continue;
    }
    const SafetensorsTensor& t = it->second;
    const std::vector<int64_t> want =
        e.rows == 0 ? std::vector<int64_t>{e.cols} : std::vector<int64_t>{e.rows, e.cols};
    if (t.shape != want) {
      fail(path, "tensor '" + e.name + "' has shape " + shape_string(t.shape) + ", expected " +
                     shape_string(want));
    }
    *e.tensor = e.rows == 0 ? weight_import_vector(model, t.dtype, t.data, e.cols)
                            : weight_import_matrix(model, t.dtype, t.data, e.rows, e.cols);
    used.insert(e.name);
  }
  for (const auto& [name, t] : file.tensors()) {
    if (!used.count(name)) fail(path, "unexpected tensor '" + name + "'");
  }
  if (model.config.tied_output) model.weights.output = model.weights.token_embd;
}

void predictors_load(FlashModel& fm, const ManifestFields& f, const std::string& path) {
  const ModelConfig& c = fm.model->config;
  const size_t n_layers = static_cast<size_t>(c.n_layers);
  auto layer_array = [&](const char* key) -> const json& {
    const json& a = f.array(key);
    if (a.size() != n_layers) {
      f.bad(key, "has " + std::to_string(a.size()) + " entries for " + std::to_string(n_layers) +
                     " layers");
    }
    return a;
  };
  const json& ranks = layer_array("ranks");
  const json& thresholds = layer_array("thresholds");
  const json& metrics = layer_array("metrics");
  SafetensorsFile file = SafetensorsFile::open(path);
  // The tensor `name` of `shape` and dtype F32 or (when `f16_ok`) F16.
  auto tensor = [&](const std::string& name, const std::vector<int64_t>& shape,
                    bool f16_ok) -> const SafetensorsTensor& {
    auto it = file.tensors().find(name);
    if (it == file.tensors().end()) fail(path, "missing tensor '" + name + "'");
    const SafetensorsTensor& t = it->second;
    if (t.dtype != DType::F32 && !(f16_ok && t.dtype == DType::F16)) {
      fail(path, "tensor '" + name + "' must be " + (f16_ok ? "F16 or F32" : "F32") + ", is " +
                     dtype_name(t.dtype));
    }
    if (t.shape != shape) {
      fail(path, "tensor '" + name + "' has shape " + shape_string(t.shape) + ", expected " +
                     shape_string(shape));
    }
    return t;
  };
  auto to_f32 = [](const SafetensorsTensor& t, std::vector<float>& out) {
    out.resize(static_cast<size_t>(t.n_elements()));
    dtype_to_fp32(t.dtype, t.data, out.data(), t.n_elements());
  };
  const int max_rank = std::min(c.dim, c.ffn_dim);
  for (size_t l = 0; l < n_layers; ++l) {
    const std::string idx = "[" + std::to_string(l) + "]";
    if (!ranks[l].is_number_integer() || ranks[l].get<int64_t>() < 1 ||
        ranks[l].get<int64_t>() > max_rank) {
      f.bad("ranks" + idx,
            "must be an integer in [1, " + std::to_string(max_rank) + "], got " + ranks[l].dump());
    }
    if (!thresholds[l].is_number()) f.bad("thresholds" + idx, "must be a number");
    fm.thresholds.push_back(thresholds[l].get<float>());
    ManifestFields m(metrics[l], f.source(), f.field_name("metrics" + idx + "."));
    fm.metrics.push_back({m.number("recall"), m.number("precision"), m.number("predicted_active"),
                          m.number("true_active")});
    Predictor p;
    p.rank = ranks[l].get<int>();
    p.dim = c.dim;
    p.neurons = c.ffn_dim;
    const std::string b = "blk." + std::to_string(l) + ".";
    const SafetensorsTensor& a = tensor(b + "pred_a", {p.rank, p.dim}, true);
    const SafetensorsTensor& bm = tensor(b + "pred_b", {p.neurons, p.rank}, true);
    if (a.dtype == DType::F16 && bm.dtype == DType::F16) {  // this format: copied as is
      p.a.resize(static_cast<size_t>(a.n_elements()));
      p.b.resize(static_cast<size_t>(bm.n_elements()));
      std::memcpy(p.a.data(), a.data, p.a.size() * 2);
      std::memcpy(p.b.data(), bm.data, p.b.size() * 2);
    } else {
      // F32 factors (files written before predictors were F16): rounded to F16 on load the way
      // the trainer rounds them (rank-wise power-of-two rescaling, product unchanged).
      std::vector<float> a32, b32;
      to_f32(a, a32);
      to_f32(bm, b32);
      predictor_store_f16(p, a32.data(), b32.data());
    }
    to_f32(tensor(b + "pred_bias", {p.neurons}, false), p.bias);
    fm.predictors.push_back(std::move(p));
  }
  if (file.tensors().size() != 3 * n_layers) {
    fail(path, "holds " + std::to_string(file.tensors().size()) + " tensors, expected " +
                   std::to_string(3 * n_layers) + " (pred_a, pred_b, pred_bias per layer)");
  }
}

}  // namespace

bool flash_model_is_dir(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::is_regular_file(fs::path(path) / "manifest.json", ec);
}

std::unique_ptr<FlashModel> flash_model_open(const std::string& dir) {
  const std::string manifest_path = dir + "/manifest.json";
  const json j = manifest_read(dir, manifest_path);
  const ManifestFields top(j, manifest_path);
  const std::string magic = top.string("magic");
  if (magic != kFlashMagic) {
    fail(manifest_path,
         "magic is '" + magic + "', expected '" + kFlashMagic + "' (not a flash model manifest)");
  }
  const int64_t version = manifest_version(top, manifest_path);

  auto fm = std::make_unique<FlashModel>();
  fm->dir = dir;
  fm->model = std::make_unique<Model>();
  Model& model = *fm->model;
  model.config = flash_config_from_json(top.object("config"));
  model.tokenizer = flash_tokenizer_from_json(top.object("tokenizer"));
  if (model.tokenizer.tokens.size() > static_cast<size_t>(model.config.vocab_size)) {
    top.bad("tokenizer.tokens", "has " + std::to_string(model.tokenizer.tokens.size()) +
                                    " tokens but config.vocab_size is " +
                                    std::to_string(model.config.vocab_size));
  }
  model.chat_template = top.string_or("chat_template", "");
  model.source_path = dir;
  model.source_format = "flash";

  const ManifestFields files = top.object("files");
  const ManifestFields checksums = top.object("checksums");
  const ManifestFields ffn = top.object("ffn");
  const std::string ffn_name = file_name_field(ffn, "file");
  const std::string dram_name = "dram.safetensors";
  fm->ffn = layout_parse(ffn, model.config, files.unsigned_integer(ffn_name.c_str()), version);
  fm->ffn_path = dir + "/" + ffn_name;
  std::string pred_name;
  std::unique_ptr<ManifestFields> pred;
  if (top.has("predictors")) {
    pred = std::make_unique<ManifestFields>(top.object("predictors"));
    pred_name = file_name_field(*pred, "file");
  }

  // Sizes of every file (cheap, catches truncation); checksums are flash_model_verify's.
  std::vector<std::string> names = {dram_name, ffn_name};
  if (pred) names.push_back(pred_name);
  if (fm->ffn.split_scales) names.push_back(kFlashScalesFile);
  for (const std::string& name : names) fm->files.push_back(file_check(dir, name, files, checksums));
  if (fm->ffn.split_scales) scales_load(*fm, dir + "/" + kFlashScalesFile);

  const std::string dram_path = dir + "/" + dram_name;
  // Read into 2 MiB pages rather than mapped (see mapped_file_read_huge).
  std::shared_ptr<MappedFile> dram_bytes = mapped_file_read_huge(dram_path);
  SafetensorsFile dram = SafetensorsFile::parse(dram_bytes);
  model.storage.push_back(dram.mapping());
  resident_load(model, dram, dram_path, fm->ffn.gate_resident);
  if (fm->ffn.gate_resident) {
    const json& t = ffn.array("gate_thresholds");
    if (t.size() != static_cast<size_t>(model.config.n_layers)) {
      ffn.bad("gate_thresholds", "has " + std::to_string(t.size()) + " entries for " +
                                     std::to_string(model.config.n_layers) + " layers");
    }
    for (const json& v : t) {
      if (!v.is_number() || !(v.get<double>() >= 0)) ffn.bad("gate_thresholds", "must hold numbers >= 0");
      fm->gate_thresholds.push_back(v.get<float>());
    }
  }
  if (pred) predictors_load(*fm, *pred, dir + "/" + pred_name);
  return fm;
}

FlashModelSizes flash_model_sizes(const std::string& dir) {
  const std::string manifest_path = dir + "/manifest.json";
  const json j = manifest_read(dir, manifest_path);
  const ManifestFields top(j, manifest_path);
  FlashModelSizes sizes;
  sizes.config = flash_config_from_json(top.object("config"));
  const ManifestFields files = top.object("files");
  const ManifestFields ffn = top.object("ffn");
  const std::string ffn_name = file_name_field(ffn, "file");
  sizes.ffn = layout_parse(ffn, sizes.config, files.unsigned_integer(ffn_name.c_str()),
                           manifest_version(top, manifest_path));
  sizes.resident_file_bytes = static_cast<int64_t>(files.unsigned_integer("dram.safetensors"));
  if (sizes.ffn.split_scales) {
    sizes.ffn_scale_bytes = static_cast<int64_t>(files.unsigned_integer(kFlashScalesFile));
  }
  if (top.has("predictors")) {
    const ManifestFields pred = top.object("predictors");
    for (const json& r : pred.array("ranks")) {
      if (!r.is_number_integer()) pred.bad("ranks", "must hold integers");
      const int64_t rank = r.get<int64_t>();
      // A (rank x dim) and B (neurons x rank) in F16, the bias (neurons) in F32.
      sizes.predictor_bytes += 2 * rank * (sizes.config.dim + sizes.ffn.neurons) +
                               4 * int64_t{sizes.ffn.neurons};
    }
  }
  return sizes;
}

namespace {

constexpr const char* kStampFormat = "flashchat-verified";

// What identifies a file's contents without reading them: any write changes mtime and ctime
// (ctime cannot be set back by hand), a replaced or copied file has another inode.
struct FileStamp {
  uint64_t size_bytes = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  uint64_t device = 0;
  bool operator==(const FileStamp&) const = default;
};

bool file_stamp_get(const std::string& path, FileStamp* out) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  out->size_bytes = static_cast<uint64_t>(st.st_size);
  out->mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  out->ctime_ns = int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec;
  out->inode = static_cast<uint64_t>(st.st_ino);
  out->device = static_cast<uint64_t>(st.st_dev);
  return true;
}

json stamp_entry(const FileStamp& s, uint32_t crc) {
  return {{"size_bytes", s.size_bytes}, {"mtime_ns", s.mtime_ns}, {"ctime_ns", s.ctime_ns},
          {"inode", s.inode},           {"device", s.device},     {"crc32", crc32_format(crc)}};
}

// True when the stamp entry `e` (of any shape) records exactly this file state and CRC.
bool stamp_entry_matches(const json& e, const FileStamp& s, uint32_t crc) {
  try {
    return e.is_object() && e.at("size_bytes").get<uint64_t>() == s.size_bytes &&
           e.at("mtime_ns").get<int64_t>() == s.mtime_ns &&
           e.at("ctime_ns").get<int64_t>() == s.ctime_ns &&
           e.at("inode").get<uint64_t>() == s.inode && e.at("device").get<uint64_t>() == s.device &&
           e.at("crc32").get<std::string>() == crc32_format(crc);
  } catch (const json::exception&) {
    return false;
  }
}

// The stamp's "files" object; empty when the stamp is missing, unreadable or not a stamp.
json stamp_files_read(const std::string& path) {
  std::string text;
  try {
    text = file_read_text(path);
  } catch (const Error&) {
    return json::object();
  }
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("format") || j["format"] != kStampFormat ||
      !j.contains("files") || !j["files"].is_object()) {
    return json::object();
  }
  return j["files"];
}

// Re-reads the stamp (another process may have written it meanwhile), applies the changes,
// drops entries of files that no longer exist and writes it atomically. Returns "" or why not.
std::string stamp_update(const std::string& path,
                         const std::vector<std::pair<std::string, json>>& verified,
                         const std::string& erase_key) {
  try {
    json files = stamp_files_read(path);
    if (!erase_key.empty()) files.erase(erase_key);
    for (const auto& [key, entry] : verified) files[key] = entry;
    for (auto it = files.begin(); it != files.end();) {
      std::error_code ec;
      it = fs::exists(it.key(), ec) ? std::next(it) : files.erase(it);
    }
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty()) fs::create_directories(parent);
    const json j = {{"format", kStampFormat}, {"version", 1}, {"files", files}};
    file_write_atomic(path, j.dump(1) + "\n");
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return path + ": " + e.what();
  }
  return {};
}

// The key of a file in the stamp: its absolute path with symbolic links resolved.
std::string stamp_key(const std::string& path) {
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(path, ec);
  return ec ? fs::absolute(path).string() : p.string();
}

}  // namespace

std::string flash_verify_stamp_default_path() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/flashchat/verified.json";
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') return std::string(home) + "/.cache/flashchat/verified.json";
  return ".cache/flashchat/verified.json";
}

FlashVerifyReport flash_model_verify(const FlashModel& fm, const FlashVerifyOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  FlashVerifyReport report;
  if (options.use_stamp) {
    report.stamp_path =
        options.stamp_path.empty() ? flash_verify_stamp_default_path() : options.stamp_path;
  }
  const json stamp = options.use_stamp ? stamp_files_read(report.stamp_path) : json::object();
  std::vector<std::pair<std::string, json>> verified;
  for (const FlashModelFile& f : fm.files) {
    FileStamp before;
    if (!file_stamp_get(f.path, &before)) fail(f.path, "missing (listed in manifest.json)");
    if (before.size_bytes != f.size_bytes) {
      fail(f.path, "is " + std::to_string(before.size_bytes) + " bytes, manifest says " +
                       std::to_string(f.size_bytes) + " (changed since the model was opened)");
    }
    const std::string key = options.use_stamp ? stamp_key(f.path) : std::string();
    if (!options.force && options.use_stamp && stamp.contains(key) &&
        stamp_entry_matches(stamp[key], before, f.crc32)) {
      ++report.files_skipped;
      continue;
    }
    const FileCrc crc = crc32_file(f.path);
    ++report.files_checked;
    report.bytes_read += crc.bytes_read;
    report.direct_io = report.direct_io && crc.direct_io;
    if (crc.crc != f.crc32) {
      if (options.use_stamp) stamp_update(report.stamp_path, verified, key);
      fail(f.path, "checksum mismatch: file has " + crc32_format(crc.crc) + ", manifest says " +
                       crc32_format(f.crc32) + " (the file is corrupt)");
    }
    // Recorded only when the file did not change while it was read.
    FileStamp after;
    if (options.use_stamp && file_stamp_get(f.path, &after) && after == before) {
      verified.emplace_back(key, stamp_entry(before, f.crc32));
    }
  }
  if (options.use_stamp && report.files_checked > 0) {
    report.stamp_error = stamp_update(report.stamp_path, verified, "");
  }
  report.verify_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

std::unique_ptr<FlashModel> flash_model_open(const std::string& dir, bool verify_checksums) {
  std::unique_ptr<FlashModel> fm = flash_model_open(dir);
  if (verify_checksums) {
    FlashVerifyOptions options;
    options.force = true;
    options.use_stamp = false;
    flash_model_verify(*fm, options);
  }
  return fm;
}

}  // namespace flashchat
