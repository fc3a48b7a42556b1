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

// Copies n elements from src (type `from`) to dst (type `to`), converting through fp32 when the
// types differ. Only F32/F16/BF16.
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

// The one dtype of ffn.bin: the FFN matrices' dtype when they all share one, else F16.
DType ffn_dtype_choose(const Model& m) {
  const LayerWeights& first = m.weights.layers.at(0);
  const DType t = m.config.ffn_gated ? first.ffn_gate.dtype : first.ffn_up.dtype;
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
      if (t.dtype != DType::F32 && t.dtype != DType::F16 && t.dtype != DType::BF16) {
        fail(input,
             "layer " + std::to_string(i) + " " + name + " has dtype " + dtype_name(t.dtype));
      }
    };
    if (c.ffn_gated) check(l.ffn_gate, "ffn_gate", c.ffn_dim, c.dim);
    check(l.ffn_up, "ffn_up", c.ffn_dim, c.dim);
    check(l.ffn_down, "ffn_down", c.dim, c.ffn_dim);
  }
}

// Writes ffn.bin: per layer a 4096-aligned region of bundles [gate row | up row | down column].
FlashLayout ffn_write(const Model& m, FileWriter& w, const Progress& progress, double p0,
                      double p1) {
  const ModelConfig& c = m.config;
  FlashLayout L;
  L.dtype = ffn_dtype_choose(m);
  L.dim = c.dim;
  L.neurons = c.ffn_dim;
  L.n_layers = c.n_layers;
  L.gated = c.ffn_gated;
  L.bundle_bytes = (L.gated ? 3 : 2) * L.part_bytes();
  const uint64_t total = static_cast<uint64_t>(c.n_layers) * c.ffn_dim * L.bundle_bytes;
  // About 8 MiB of bundles per write.
  const int64_t block = std::max<int64_t>(1, (int64_t{8} << 20) / L.bundle_bytes);
  std::vector<uint8_t> bundles, down_cols;
  std::vector<float> scratch;
  uint64_t done = 0;
  for (int layer = 0; layer < c.n_layers; ++layer) {
    const LayerWeights& l = m.weights.layers[static_cast<size_t>(layer)];
    w.pad_to_multiple(kFlashAlignBytes);
    L.layer_offsets.push_back(w.size_bytes());
    for (int64_t j0 = 0; j0 < c.ffn_dim; j0 += block) {
      const int64_t nb = std::min<int64_t>(block, c.ffn_dim - j0);
      bundles.resize(static_cast<size_t>(nb * L.bundle_bytes));
      columns_gather(l.ffn_down, j0, nb, down_cols);
      const int64_t col_bytes = dtype_bytes_for(l.ffn_down.dtype, l.ffn_down.rows);
      for (int64_t j = 0; j < nb; ++j) {
        uint8_t* b = bundles.data() + j * L.bundle_bytes;
        if (L.gated) {
          elems_convert(l.ffn_gate.dtype, l.ffn_gate.row(j0 + j), L.dtype, b + L.gate_offset(),
                        c.dim, scratch);
        }
        elems_convert(l.ffn_up.dtype, l.ffn_up.row(j0 + j), L.dtype, b + L.up_offset(), c.dim,
                      scratch);
        elems_convert(l.ffn_down.dtype, down_cols.data() + j * col_bytes, L.dtype,
                      b + L.down_offset(), c.dim, scratch);
      }
      w.write(bundles.data(), bundles.size());
      done += bundles.size();
      progress(p0 + (p1 - p0) * static_cast<double>(done) / static_cast<double>(total), "ffn");
    }
  }
  w.pad_to_multiple(kFlashAlignBytes);  // whole 4 KiB pages, friendly to O_DIRECT reads
  L.size_bytes = w.size_bytes();
  return L;
}

SafetensorsWriteResult resident_write(Model& m, const std::string& input, const std::string& path) {
  std::vector<SafetensorsWriteTensor> tensors;
  for (const FlashResidentEntry& e : flash_resident_entries(m)) {
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
  const std::string calib =
      options.calib_path.empty() ? flash_default_calib_path() : options.calib_path;
  const std::string text = file_read_text(calib);
  std::vector<int> tokens = Tokenizer(m.tokenizer).encode(text, false);
  if (options.calib_tokens > 0 && tokens.size() > static_cast<size_t>(options.calib_tokens)) {
    tokens.resize(static_cast<size_t>(options.calib_tokens));
  }
  if (tokens.size() < 16) {
    fail(calib, "calibration text gives only " + std::to_string(tokens.size()) +
                    " tokens (need at least 16)");
  }
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
  const bool train = options.train_predictors;
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

  std::unique_ptr<Model> model = model_load(input);
  ffn_check(*model, input);
  progress(p_load, "load");

  const std::string ffn_name = "ffn.bin", dram_name = "dram.safetensors",
                    pred_name = "predictors.safetensors";
  json files = json::object(), checksums = json::object();

  FileWriter ffn_writer(tmp.path + "/" + ffn_name);
  report.ffn = ffn_write(*model, ffn_writer, progress, p_load, p_ffn);
  ffn_writer.commit();
  files[ffn_name] = ffn_writer.size_bytes();
  checksums[ffn_name] = crc32_format(ffn_writer.crc32());

  const SafetensorsWriteResult dram = resident_write(*model, input, tmp.path + "/" + dram_name);
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

  if (train) {
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
