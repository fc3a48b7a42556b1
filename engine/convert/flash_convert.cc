// flash_convert.cc - dense model -> flash model directory. See flash_convert.h.

#include "convert/flash_convert.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "compute/bundle_kernels.h"
#include "core/checksum.h"
#include "core/error.h"
#include "core/read_file.h"
#include "core/file_writer.h"
#include "flash/flash_manifest.h"
#include "formats/safetensors_writer.h"
#include "model/tokenizer.h"
#include "core/resource_paths.h"

namespace flashchat {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Reports progress in [lo, hi] of the whole conversion; throws on cancellation.
struct Progress {
  const ConvertOptions& options;
  std::string out_dir;
  void operator()(double fraction, const std::string& stage) const {
    if (options.progress && !options.progress(std::clamp(fraction, 0.0, 1.0), stage)) {
      throw Error(out_dir + ": conversion cancelled");
    }
  }
};

// Removes the temporary directory unless released.
struct TempDir {
  std::string path;
  bool keep = false;
  ~TempDir() {
    if (keep || path.empty()) return;
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Copies n elements from src (type `from`, any) to dst (type `to`: F32, F16, BF16, Q8_0, Q4_0),
// converting through fp32 when the types differ.
void elems_convert(DType from, const void* src, DType to, void* dst, int64_t n,
                   std::vector<float>& scratch) {
  if (from == to) {
    std::memcpy(dst, src, static_cast<size_t>(dtype_bytes_for(to, n)));
    return;
  }
  scratch.resize(static_cast<size_t>(n));
  dtype_to_fp32(from, src, scratch.data(), n);
  if (to == DType::F32) {
    std::memcpy(dst, scratch.data(), static_cast<size_t>(n) * 4);
    return;
  }
  if (dtype_is_quantized(to)) {
    dtype_quantize_from_fp32(to, scratch.data(), dst, n);
    return;
  }
  auto* out = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) {
    out[i] = to == DType::F16 ? fp32_to_fp16(scratch[static_cast<size_t>(i)])
                              : fp32_to_bf16(scratch[static_cast<size_t>(i)]);
  }
}

// Columns [j0, j0 + nb) of a (rows, cols) matrix of E-sized elements, transposed into
// out (nb, rows): W (rows, cols) -> out[j][r] = W[r][j0 + j]. Tiled for the caches.
template <typename E>
void columns_gather_typed(const E* w, int64_t rows, int64_t cols, int64_t j0, int64_t nb, E* out) {
  constexpr int64_t kTile = 64;
  for (int64_t r0 = 0; r0 < rows; r0 += kTile) {
    const int64_t r1 = std::min(rows, r0 + kTile);
    for (int64_t c0 = 0; c0 < nb; c0 += kTile) {
      const int64_t c1 = std::min(nb, c0 + kTile);
      for (int64_t r = r0; r < r1; ++r) {
        const E* row = w + r * cols + j0;
        for (int64_t c = c0; c < c1; ++c) out[c * rows + r] = row[c];
      }
    }
  }
}

void columns_gather(const Tensor& w, int64_t j0, int64_t nb, std::vector<uint8_t>& out) {
  out.resize(static_cast<size_t>(dtype_bytes_for(w.dtype, nb * w.rows)));
  if (w.dtype == DType::F32) {
    columns_gather_typed(static_cast<const uint32_t*>(w.data), w.rows, w.cols, j0, nb,
                         reinterpret_cast<uint32_t*>(out.data()));
  } else {  // F16, BF16 (checked by ffn_check)
    columns_gather_typed(static_cast<const uint16_t*>(w.data), w.rows, w.cols, j0, nb,
                         reinterpret_cast<uint16_t*>(out.data()));
  }
}

// A (rows, cols) matrix of any dtype as F32: `w` itself when F32, else dequantised into `buffer`.
Tensor tensor_as_f32(const Tensor& w, std::vector<float>& buffer) {
  if (w.dtype == DType::F32) return w;
  buffer.resize(static_cast<size_t>(w.n_elements()));
  dtype_to_fp32(w.dtype, w.data, buffer.data(), w.n_elements());
  return Tensor{DType::F32, w.rows, w.cols, buffer.data()};
}

// A flash model directory as a dense model: its resident part, with the FFN matrices rebuilt as
// F32 from the bundles of ffn.bin (for re-converting it, e.g. to quantised bundles). Sets
// *bundle_dtype to the bundles' type.
std::unique_ptr<Model> model_from_flash_dir(const std::string& dir, DType* bundle_dtype) {
  std::unique_ptr<FlashModel> fm = flash_model_open(dir);
  std::unique_ptr<Model> m = std::move(fm->model);
  const FlashLayout& L = fm->ffn;
  *bundle_dtype = L.dtype;
  const int64_t d = L.dim, n = L.neurons;
  std::ifstream in(fm->ffn_path, std::ios::binary);
  if (!in) fail(fm->ffn_path, "cannot open");
  std::vector<uint8_t> bundles(static_cast<size_t>(n * L.bundle_bytes));
  std::vector<float> part(static_cast<size_t>(d));
  std::vector<uint8_t> blocks(L.split_scales ? static_cast<size_t>(dtype_bytes_for(L.dtype, d)) : 0);
  // Part `offset` of bundle j of `layer` as F32 (split scales: joined back into blocks first).
  auto part_f32 = [&](int layer, int64_t j, int64_t offset, float* dst) {
    const uint8_t* b = bundles.data() + j * L.bundle_bytes + offset;
    if (!L.split_scales) return dtype_to_fp32(L.dtype, b, dst, d);
    const uint16_t* s = fm->layer_scales(layer) + j * L.bundle_scales() +
                        offset / L.part_bytes() * L.part_scales();
    dtype_blocks_join(L.dtype, b, s, d, blocks.data());
    dtype_to_fp32(L.dtype, blocks.data(), dst, d);
  };
  for (int layer = 0; layer < L.n_layers; ++layer) {
    in.seekg(static_cast<std::streamoff>(L.layer_offsets[static_cast<size_t>(layer)]));
    in.read(reinterpret_cast<char*>(bundles.data()), static_cast<std::streamsize>(bundles.size()));
    if (!in) fail(fm->ffn_path, "short read in layer " + std::to_string(layer));
    auto gate = std::make_shared<std::vector<float>>(L.gate_in_bundle() ? static_cast<size_t>(n * d) : 0);
    auto up = std::make_shared<std::vector<float>>(static_cast<size_t>(n * d));
    auto down = std::make_shared<std::vector<float>>(static_cast<size_t>(n * d));
    for (int64_t j = 0; j < n; ++j) {
      if (L.gate_in_bundle()) part_f32(layer, j, L.gate_offset(), gate->data() + j * d);
      part_f32(layer, j, L.up_offset(), up->data() + j * d);
      part_f32(layer, j, L.down_offset(), part.data());
      for (int64_t i = 0; i < d; ++i) (*down)[static_cast<size_t>(i * n + j)] = part[static_cast<size_t>(i)];
    }
    LayerWeights& l = m->weights.layers[static_cast<size_t>(layer)];
    if (L.gate_in_bundle()) l.ffn_gate = Tensor{DType::F32, n, d, gate->data()};  // else resident
    l.ffn_up = Tensor{DType::F32, n, d, up->data()};
    l.ffn_down = Tensor{DType::F32, d, n, down->data()};
    m->storage.push_back(gate);
    m->storage.push_back(up);
    m->storage.push_back(down);
  }
  return m;
}

// Reuses the predictors of the flash model directory `dir` (they read the layer input, which the
// bundles' type does not change): copies its predictors file to `path`, returns its manifest's
// "predictors" block and fills the report from it. False when `dir` has no predictors.
bool predictors_copy(const std::string& dir, const std::string& path, json* block,
                     uint64_t* size_bytes, std::string* checksum, ConvertReport& report) {
  const json m = file_read_json(dir + "/manifest.json");
  if (!m.contains("predictors") || !m["predictors"].is_object()) return false;
  const json& p = m["predictors"];
  const std::string name = p.at("file").get<std::string>();
  fs::copy_file(dir + "/" + name, path);
  *block = p;
  *size_bytes = m.at("files").at(name).get<uint64_t>();
  *checksum = m.at("checksums").at(name).get<std::string>();
  report.ranks = p.at("ranks").get<std::vector<int>>();
  report.thresholds = p.at("thresholds").get<std::vector<float>>();
  for (const json& e : p.at("metrics")) {
    report.metrics.push_back({e.at("recall").get<double>(), e.at("precision").get<double>(),
                              e.at("predicted_active").get<double>(), e.at("true_active").get<double>()});
  }
  report.calib_tokens = p.at("calib_tokens").get<int>();
  report.predictor_bytes = *size_bytes;
  return true;
}

// The calibration text's tokens (no BOS), cut to options.calib_tokens; at least 16.
std::vector<int> calib_tokens_read(const Model& m, const ConvertOptions& options) {
  const std::string calib =
      options.calib_path.empty() ? flash_default_calib_path() : options.calib_path;
  std::vector<int> tokens = Tokenizer(m.tokenizer).encode(file_read_text(calib), false);
  if (options.calib_tokens > 0 && tokens.size() > static_cast<size_t>(options.calib_tokens)) {
    tokens.resize(static_cast<size_t>(options.calib_tokens));
  }
  if (tokens.size() < 16) {
    fail(calib, "calibration text gives only " + std::to_string(tokens.size()) +
                    " tokens (need at least 16)");
  }
  return tokens;
}

// The one dtype of ffn.bin: options.weights when set, else the FFN matrices' dtype when they all
// share a plain one, else F16.
DType ffn_dtype_choose(const Model& m, const ConvertOptions& options) {
  if (options.weights) return *options.weights;
  const LayerWeights& first = m.weights.layers.at(0);
  const DType t = m.config.ffn_gated ? first.ffn_gate.dtype : first.ffn_up.dtype;
  if (dtype_is_quantized(t)) return DType::F16;
  for (const LayerWeights& l : m.weights.layers) {
    if ((m.config.ffn_gated && l.ffn_gate.dtype != t) || l.ffn_up.dtype != t ||
        l.ffn_down.dtype != t) {
      return DType::F16;
    }
  }
  return t;
}

void ffn_check(const Model& m, const std::string& input) {
  const ModelConfig& c = m.config;
  if (m.weights.layers.size() != static_cast<size_t>(c.n_layers) || c.n_layers <= 0) {
    fail(input, "model has no layers");
  }
  for (int i = 0; i < c.n_layers; ++i) {
    const LayerWeights& l = m.weights.layers[static_cast<size_t>(i)];
    auto check = [&](const Tensor& t, const char* name, int64_t rows, int64_t cols) {
      if (t.empty() || t.rows != rows || t.cols != cols) {
        fail(input, "layer " + std::to_string(i) + " " + name + " is missing or not (" +
                        std::to_string(rows) + ", " + std::to_string(cols) + ")");
      }
    };
    if (c.ffn_gated) check(l.ffn_gate, "ffn_gate", c.ffn_dim, c.dim);
    check(l.ffn_up, "ffn_up", c.ffn_dim, c.dim);
    check(l.ffn_down, "ffn_down", c.dim, c.ffn_dim);
  }
}

// One part (n elements of `from` at src) into a bundle at dst as L.dtype: whole blocks, or with
// split scales the quants at dst and the n / 32 scales at scales (`blocks` is scratch).
void part_convert(const FlashLayout& L, DType from, const void* src, uint8_t* dst, uint16_t* scales,
                  int64_t n, std::vector<float>& scratch, std::vector<uint8_t>& blocks) {
  if (!L.split_scales) {
    elems_convert(from, src, L.dtype, dst, n, scratch);
    return;
  }
  blocks.resize(static_cast<size_t>(dtype_bytes_for(L.dtype, n)));
  elems_convert(from, src, L.dtype, blocks.data(), n, scratch);
  dtype_blocks_split(L.dtype, blocks.data(), n, dst, scales);
}

// Writes ffn.bin: per layer a 4096-aligned region of bundles [gate row | up row | down column]
// (no gate row when options.gate_sparsity keeps it resident),
// packed back to back; Q8_0 / Q4_0 bundles hold the quants only and their block scales go to
// `scales_out` (ffn_scales.bin, [layer][neuron][part][block] F16).
FlashLayout ffn_write(const Model& m, const ConvertOptions& options, FileWriter& w,
                      FileWriter* scales_out, const Progress& progress, double p0, double p1) {
  const ModelConfig& c = m.config;
  FlashLayout L;
  L.dtype = ffn_dtype_choose(m, options);
  L.dim = c.dim;
  L.neurons = c.ffn_dim;
  L.n_layers = c.n_layers;
  L.gated = c.ffn_gated;
  L.split_scales = dtype_has_split_scales(L.dtype);
  L.gate_resident = options.gate_sparsity;
  L.bundle_bytes = L.parts() * L.part_bytes();
  if (L.split_scales && scales_out == nullptr) fail(w.path(), "quantised bundles without a scale file");
  const uint64_t total = static_cast<uint64_t>(c.n_layers) * c.ffn_dim * L.bundle_bytes;
  // About 8 MiB of bundles per write.
  const int64_t block = std::max<int64_t>(1, (int64_t{8} << 20) / L.bundle_bytes);
  const int64_t ps = L.part_scales(), bs = L.bundle_scales();
  std::vector<uint8_t> bundles, down_cols, blocks;
  std::vector<uint16_t> scales;
  std::vector<float> scratch, down_f32;
  uint64_t done = 0;
  for (int layer = 0; layer < c.n_layers; ++layer) {
    const LayerWeights& l = m.weights.layers[static_cast<size_t>(layer)];
    // Down columns cut across quantisation blocks: a quantised down matrix is gathered as F32.
    const Tensor down = dtype_is_quantized(l.ffn_down.dtype) ? tensor_as_f32(l.ffn_down, down_f32)
                                                             : l.ffn_down;
    w.pad_to_multiple(kFlashAlignBytes);
    L.layer_offsets.push_back(w.size_bytes());
    for (int64_t j0 = 0; j0 < c.ffn_dim; j0 += block) {
      const int64_t nb = std::min<int64_t>(block, c.ffn_dim - j0);
      bundles.resize(static_cast<size_t>(nb * L.bundle_bytes));
      scales.resize(static_cast<size_t>(nb * bs));
      columns_gather(down, j0, nb, down_cols);
      const int64_t col_bytes = dtype_bytes_for(down.dtype, down.rows);
      for (int64_t j = 0; j < nb; ++j) {
        uint8_t* b = bundles.data() + j * L.bundle_bytes;
        uint16_t* sc = scales.data() + j * bs;  // gate, up, down
        if (L.gate_in_bundle()) {
          part_convert(L, l.ffn_gate.dtype, l.ffn_gate.row(j0 + j), b + L.gate_offset(), sc,
                       c.dim, scratch, blocks);
        }
        part_convert(L, l.ffn_up.dtype, l.ffn_up.row(j0 + j), b + L.up_offset(),
                     sc + (L.gate_in_bundle() ? ps : 0), c.dim, scratch, blocks);
        part_convert(L, down.dtype, down_cols.data() + j * col_bytes, b + L.down_offset(),
                     sc + (L.parts() - 1) * ps, c.dim, scratch, blocks);
      }
      w.write(bundles.data(), bundles.size());
      if (L.split_scales) scales_out->write(scales.data(), scales.size() * 2);
      done += bundles.size();
      progress(p0 + (p1 - p0) * static_cast<double>(done) / static_cast<double>(total), "ffn");
    }
  }
  w.pad_to_multiple(kFlashAlignBytes);  // whole 4 KiB pages, friendly to O_DIRECT reads
  L.size_bytes = w.size_bytes();
  return L;
}

// dram.safetensors: the resident tensors, matrices converted to options.weights when set.
SafetensorsWriteResult resident_write(Model& m, const ConvertOptions& options,
                                      const std::string& input, const std::string& path) {
  std::vector<SafetensorsWriteTensor> tensors;
  std::vector<std::vector<uint8_t>> converted;
  const auto entries = flash_resident_entries(m, options.gate_sparsity);
  converted.reserve(entries.size());
  std::vector<float> scratch;
  for (const FlashResidentEntry& e : entries) {
    const Tensor& t = *e.tensor;
    if (t.empty()) {
      if (e.required) fail(input, "the model has no tensor for '" + e.name + "'");
      continue;
    }
    const bool is_vector = e.rows == 0;
    const int64_t want_rows = is_vector ? 1 : e.rows;
    if (t.rows != want_rows || t.cols != e.cols) {
      fail(input, "tensor for '" + e.name + "' is (" + std::to_string(t.rows) + ", " +
                      std::to_string(t.cols) + "), expected (" + std::to_string(want_rows) + ", " +
                      std::to_string(e.cols) + ")");
    }
    SafetensorsWriteTensor st;
    st.name = e.name;
    st.dtype = t.dtype;
    st.shape = is_vector ? std::vector<int64_t>{e.cols} : std::vector<int64_t>{e.rows, e.cols};
    st.data = t.data;
    if (options.weights && !is_vector && t.dtype != *options.weights) {
      std::vector<uint8_t>& buf = converted.emplace_back(
          static_cast<size_t>(dtype_bytes_for(*options.weights, t.n_elements())));
      elems_convert(t.dtype, t.data, *options.weights, buf.data(), t.n_elements(), scratch);
      st.dtype = *options.weights;
      st.data = buf.data();
    }
    tensors.push_back(std::move(st));
  }
  return safetensors_write(path, tensors, {{"format", "flashchat-dram"}});
}

double finite_or_zero(double x) {
  return std::isfinite(x) ? x : 0.0;
}

// Trains the predictors and writes predictors.safetensors; fills the report.
SafetensorsWriteResult predictors_write(const Model& m, const ConvertOptions& options,
                                        const Progress& progress, double p0, double p1,
                                        const std::string& path, ConvertReport& report) {
  const std::vector<int> tokens = calib_tokens_read(m, options);
  report.calib_tokens = static_cast<int>(tokens.size());
  // The trainer calls back from its worker threads (serialised); a cancellation is reported
  // to it by returning false, and it then throws.
  bool cancelled = false;
  PredictorTrainOptions po = options.predictor;
  po.progress = [&](double f, const std::string& stage) {
    try {
      progress(p0 + (p1 - p0) * f, "predictors: " + stage);
      return true;
    } catch (const Error&) {
      cancelled = true;
      return false;
    }
  };
  TrainedPredictors tp;
  try {
    tp = predictor_train_all(m, tokens, po);
  } catch (const Error&) {
    if (cancelled) throw Error(progress.out_dir + ": conversion cancelled");
    throw;
  }
  const ModelConfig& c = m.config;
  const size_t n = static_cast<size_t>(c.n_layers);
  if (tp.layers.size() != n || tp.thresholds.size() != n || tp.metrics.size() != n) {
    fail(path, "predictor training returned " + std::to_string(tp.layers.size()) +
                   " predictors for " + std::to_string(n) + " layers");
  }
  std::vector<SafetensorsWriteTensor> tensors;
  for (size_t l = 0; l < n; ++l) {
    const Predictor& p = tp.layers[l];
    const size_t r = static_cast<size_t>(p.rank);
    if (p.rank <= 0 || p.dim != c.dim || p.neurons != c.ffn_dim ||
        p.a.size() != r * static_cast<size_t>(c.dim) ||
        p.b.size() != static_cast<size_t>(c.ffn_dim) * r ||
        p.bias.size() != static_cast<size_t>(c.ffn_dim)) {
      fail(path, "predictor of layer " + std::to_string(l) + " has inconsistent shapes");
    }
    if (!std::isfinite(tp.thresholds[l])) {
      fail(path, "predictor threshold of layer " + std::to_string(l) + " is not finite");
    }
    const std::string b = "blk." + std::to_string(l) + ".";
    tensors.push_back({b + "pred_a", DType::F16, {p.rank, c.dim}, p.a.data()});
    tensors.push_back({b + "pred_b", DType::F16, {c.ffn_dim, p.rank}, p.b.data()});
    tensors.push_back({b + "pred_bias", DType::F32, {c.ffn_dim}, p.bias.data()});
    report.ranks.push_back(p.rank);
  }
  report.thresholds = tp.thresholds;
  report.metrics = tp.metrics;
  report.bias_shifts = tp.bias_shifts;
  report.metric_tokens = tp.metric_rows;
  report.collect_seconds = tp.collect_seconds;
  report.train_seconds = tp.train_seconds;
  return safetensors_write(path, tensors, {{"format", "flashchat-predictors"}});
}

// "<out_dir>" without trailing slashes; refuses an existing non-empty directory or a file.
std::string out_dir_check(const std::string& out_dir) {
  std::string out = out_dir;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  if (out.empty()) fail("convert", "empty output directory name");
  std::error_code ec;
  if (fs::exists(out, ec)) {
    if (!fs::is_directory(out, ec)) fail(out, "exists and is not a directory");
    if (!fs::is_empty(out, ec)) {
      fail(out,
           "exists and is not empty; refusing to overwrite (remove it or choose another "
           "output directory)");
    }
  }
  return out;
}

}  // namespace

std::string flash_default_calib_path() {
  if (const char* env = std::getenv("FLASHCHAT_CALIB"); env != nullptr && *env != '\0') return env;
  const std::string path = resource_path_find("calib/default.txt");
  return path.empty() ? "resources/calib/default.txt" : path;  // the error then names this path
}

ConvertReport flash_convert(const std::string& input, const std::string& out_dir,
                            const ConvertOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string out = out_dir_check(out_dir);
  const Progress progress{options, out};
  ConvertReport report;

  // Stage weights of the progress bar.
  const bool train = options.train_predictors && !options.gate_sparsity;
  const double p_load = 0.03, p_ffn = train ? 0.35 : 0.90, p_dram = train ? 0.40 : 0.97,
               p_pred = 0.98;
  progress(0.0, "load");

  std::error_code ec;
  const fs::path parent = fs::path(out).parent_path();
  if (!parent.empty() && !fs::exists(parent, ec)) {
    fs::create_directories(parent, ec);
    if (ec) fail(parent.string(), "cannot create directory: " + ec.message());
  }
  std::string tmpl = out + ".tmp-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    fail(out,
         std::string("cannot create a temporary directory beside it: ") + std::strerror(errno));
  }
  TempDir tmp{tmpl};
  // mkdtemp creates 0700; the model directory gets the usual 0777 & ~umask.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::chmod(tmp.path.c_str(), 0777 & ~mask);

  // A flash model directory is re-converted: by default to bundles of its own type.
  ConvertOptions opts = options;
  std::unique_ptr<Model> model;
  if (flash_model_is_dir(input)) {
    DType bundle_dtype;
    model = model_from_flash_dir(input, &bundle_dtype);
    if (!opts.weights) opts.weights = bundle_dtype;
  } else {
    model = model_load(input);
  }
  ffn_check(*model, input);
  if (opts.gate_sparsity && !model->config.ffn_gated) {
    fail(input, "--sparsity gate needs a gated FFN (SwiGLU / GeGLU); this model's has no gate");
  }
  if (opts.gate_sparsity) {
    report.gate = gate_calibrate(*model, calib_tokens_read(*model, opts), opts.gate_mass);
    report.calib_tokens = static_cast<int>(report.gate.tokens);
  }
  if (opts.weights) {
    const DType t = *opts.weights;
    if (!bundle_dtype_supported(t)) {
      fail(input, std::string("cannot store weights as ") + dtype_name(t) + " (F32, F16, BF16, Q8_0, Q4_0)");
    }
    if (model->config.dim % dtype_block_elems(t) != 0) {
      fail(input, std::string(dtype_name(t)) + " weights need dim a multiple of " +
                      std::to_string(dtype_block_elems(t)) + " (dim " +
                      std::to_string(model->config.dim) + ")");
    }
  }
  progress(p_load, "load");

  const std::string ffn_name = "ffn.bin", dram_name = "dram.safetensors",
                    pred_name = "predictors.safetensors";
  json files = json::object(), checksums = json::object();

  FileWriter ffn_writer(tmp.path + "/" + ffn_name);
  std::unique_ptr<FileWriter> scales_writer;  // only for quantised bundles
  if (dtype_has_split_scales(ffn_dtype_choose(*model, opts))) {
    scales_writer = std::make_unique<FileWriter>(tmp.path + "/" + kFlashScalesFile);
  }
  report.ffn = ffn_write(*model, opts, ffn_writer, scales_writer.get(), progress, p_load, p_ffn);
  ffn_writer.commit();
  files[ffn_name] = ffn_writer.size_bytes();
  checksums[ffn_name] = crc32_format(ffn_writer.crc32());
  if (scales_writer) {
    scales_writer->commit();
    files[kFlashScalesFile] = scales_writer->size_bytes();
    checksums[kFlashScalesFile] = crc32_format(scales_writer->crc32());
    report.scale_bytes = scales_writer->size_bytes();
  }

  const SafetensorsWriteResult dram =
      resident_write(*model, opts, input, tmp.path + "/" + dram_name);
  files[dram_name] = dram.size_bytes;
  checksums[dram_name] = crc32_format(dram.crc32);
  report.dram_bytes = dram.size_bytes;
  progress(p_dram, "resident");

  json manifest = {{"magic", kFlashMagic},
                   {"version", kFlashVersion},
                   {"source", input},
                   {"config", flash_config_to_json(model->config)},
                   {"tokenizer", flash_tokenizer_to_json(model->tokenizer)},
                   {"chat_template", model->chat_template}};
  const FlashLayout& L = report.ffn;
  manifest["ffn"] = {{"file", ffn_name},
                     {"dtype", dtype_name(L.dtype)},
                     {"dim", L.dim},
                     {"neurons", L.neurons},
                     {"gated", L.gated},
                     {"bundle_bytes", L.bundle_bytes},
                     {"layer_offsets", L.layer_offsets},
                     {"size_bytes", L.size_bytes}};
  if (L.split_scales) manifest["ffn"]["scales_file"] = kFlashScalesFile;
  if (L.gate_resident) {
    json& f = manifest["ffn"];
    f["sparsity"] = "gate";
    f["gate_mass"] = opts.gate_mass;
    f["gate_thresholds"] = std::vector<double>(report.gate.thresholds.begin(), report.gate.thresholds.end());
    f["gate_kept"] = report.gate.kept;
    f["gate_calib_tokens"] = report.gate.tokens;
  }

  json copied;
  uint64_t copied_bytes = 0;
  std::string copied_crc;
  if (train && flash_model_is_dir(input) &&
      predictors_copy(input, tmp.path + "/" + pred_name, &copied, &copied_bytes, &copied_crc, report)) {
    copied["file"] = pred_name;
    manifest["predictors"] = copied;
    files[pred_name] = copied_bytes;
    checksums[pred_name] = copied_crc;
  } else if (train) {
    const SafetensorsWriteResult pred = predictors_write(*model, options, progress, p_dram, p_pred,
                                                         tmp.path + "/" + pred_name, report);
    files[pred_name] = pred.size_bytes;
    checksums[pred_name] = crc32_format(pred.crc32);
    report.predictor_bytes = pred.size_bytes;
    json metrics = json::array();
    for (const PredictorMetrics& m : report.metrics) {
      metrics.push_back({{"recall", finite_or_zero(m.recall)},
                         {"precision", finite_or_zero(m.precision)},
                         {"predicted_active", finite_or_zero(m.predicted_active)},
                         {"true_active", finite_or_zero(m.true_active)}});
    }
    std::vector<double> thresholds(report.thresholds.begin(), report.thresholds.end());
    std::vector<double> shifts;
    for (float v : report.bias_shifts) shifts.push_back(finite_or_zero(v));
    const PredictorTrainOptions& po = options.predictor;
    manifest["predictors"] = {{"file", pred_name},
                              {"ranks", report.ranks},
                              {"thresholds", thresholds},
                              {"metrics", metrics},
                              {"metric_tokens", report.metric_tokens},
                              {"bias_shifts", shifts},
                              {"target_recall", po.target_recall},
                              {"steps", po.steps},
                              {"calib_tokens", report.calib_tokens}};
  }
  manifest["files"] = files;
  manifest["checksums"] = checksums;
  progress(p_pred, "manifest");
  file_write_atomic(tmp.path + "/manifest.json",
                    manifest.dump(1, ' ', false, json::error_handler_t::replace) + "\n");
  model.reset();

  // Last chance to cancel; after the rename the model is complete.
  progress(p_pred, "manifest");
  if (::rename(tmp.path.c_str(), out.c_str()) != 0) {
    fail(out, std::string("cannot move the converted model into place: ") + std::strerror(errno));
  }
  tmp.keep = true;
  if (const int dfd = ::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY);
      dfd >= 0) {
    ::fsync(dfd);  // make the rename durable
    ::close(dfd);
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (options.progress) options.progress(1.0, "done");
  return report;
}

}  // namespace flashchat
