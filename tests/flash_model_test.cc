// flash_model_test - the flash model format: converting GGUF and Hugging Face models, reading
// them back bit-exactly (bundles, resident tensors, config, tokenizer, predictors), rejecting
// damaged directories with messages that name the file, and leaving nothing behind when a
// conversion fails or is cancelled.

#include "flash/flash_model.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/mapped_file.h"
#include "convert/flash_convert.h"
#include "flash/flash_manifest.h"
#include "formats/safetensors.h"
#include "formats/safetensors_writer.h"
#include "model/model.h"
#include "model/tokenizer.h"
#include "test_support.h"

using namespace flashchat;
using flashchat_test::error_of;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* kSampleText =
    "Once upon a time, a little dog found a red ball in the park. \"Thank you!\" said Mia.";

ConvertOptions no_predictors() {
  ConvertOptions o;
  o.train_predictors = false;
  return o;
}

std::string file_read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void file_write(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

// Entries of `dir` whose names start with `prefix`.
int entries_with_prefix(const std::string& dir, const std::string& prefix) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().rfind(prefix, 0) == 0) ++n;
  }
  return n;
}

bool tensor_bytes_equal(const Tensor& a, const Tensor& b) {
  return a.dtype == b.dtype && a.rows == b.rows && a.cols == b.cols &&
         std::memcmp(a.data, b.data, static_cast<size_t>(a.size_bytes())) == 0;
}

}  // namespace

class FlashModelTest : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir tmp_;
  std::string base_;  // a converted tiny_opt with predictors off, used by the damage tests

  // A fresh copy of base_ to damage.
  std::string base_copy(const char* name) {
    const std::string dir = tmp_.path().toStdString() + "/" + name;
    fs::copy(base_, dir, fs::copy_options::recursive);
    return dir;
  }

  // Converts `input`, opens the result and checks it against the source model bit for bit.
  void convert_and_check(const std::string& input, const ConvertOptions& options) {
    const std::string out = tmp_.path().toStdString() + "/" + fs::path(input).stem().string() +
                            (options.train_predictors ? "_pred" : "") + ".flash";
    const ConvertReport report = flash_convert(input, out, options);
    QVERIFY(flash_model_is_dir(out));
    QCOMPARE(
        entries_with_prefix(tmp_.path().toStdString(), fs::path(out).filename().string() + ".tmp-"),
        0);
    std::unique_ptr<FlashModel> fm = flash_model_open(out, true);
    std::unique_ptr<Model> src = model_load(input);
    const Model& m = *fm->model;
    QCOMPARE(m.source_format, std::string("flash"));

    // Config, tokenizer, chat template.
    QCOMPARE(flash_config_to_json(m.config).dump(), flash_config_to_json(src->config).dump());
    QCOMPARE(flash_tokenizer_to_json(m.tokenizer).dump(),
             flash_tokenizer_to_json(src->tokenizer).dump());
    QCOMPARE(m.chat_template, src->chat_template);
    QCOMPARE(Tokenizer(m.tokenizer).encode(kSampleText, true),
             Tokenizer(src->tokenizer).encode(kSampleText, true));

    // Resident tensors: same dtype, shape and bytes; FFN matrices absent.
    std::vector<FlashResidentEntry> want = flash_resident_entries(*src);
    std::vector<FlashResidentEntry> have = flash_resident_entries(*fm->model);
    QCOMPARE(have.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      QCOMPARE(have[i].name, want[i].name);
      QCOMPARE(have[i].tensor->empty(), want[i].tensor->empty());
      if (!want[i].tensor->empty()) {
        QVERIFY2(tensor_bytes_equal(*have[i].tensor, *want[i].tensor), want[i].name.c_str());
      }
    }
    QVERIFY(tensor_bytes_equal(m.weights.output, src->weights.output));
    for (const LayerWeights& l : m.weights.layers) {
      QVERIFY(l.ffn_gate.empty() && l.ffn_up.empty() && l.ffn_down.empty());
      QCOMPARE(l.ffn_up_bias.empty(), !src->config.has_biases);
    }

    // ffn.bin: layout and every bundle.
    const FlashLayout& L = fm->ffn;
    const LayerWeights& l0 = src->weights.layers[0];
    QCOMPARE(L.dtype, l0.ffn_up.dtype);
    QCOMPARE(L.dim, src->config.dim);
    QCOMPARE(L.neurons, src->config.ffn_dim);
    QCOMPARE(L.gated, src->config.ffn_gated);
    QCOMPARE(L.bundle_bytes, (L.gated ? 3 : 2) * dtype_bytes_for(L.dtype, L.dim));
    QCOMPARE(L.layer_offsets.size(), static_cast<size_t>(src->config.n_layers));
    QCOMPARE(report.ffn.layer_offsets, L.layer_offsets);
    auto ffn = mapped_file_open(fm->ffn_path);
    QCOMPARE(static_cast<uint64_t>(ffn->size_bytes()), L.size_bytes);
    QCOMPARE(L.size_bytes % 4096, uint64_t{0});
    const int64_t es = dtype_bytes_for(L.dtype, 1);
    for (int layer = 0; layer < src->config.n_layers; ++layer) {
      QCOMPARE(L.layer_offsets[layer] % 4096, uint64_t{0});
      const LayerWeights& l = src->weights.layers[static_cast<size_t>(layer)];
      for (int i = 0; i < L.neurons; ++i) {
        const uint8_t* b = ffn->data() + L.bundle_offset(layer, i);
        if (L.gated) {
          QVERIFY(std::memcmp(b + L.gate_offset(), l.ffn_gate.row(i), L.part_bytes()) == 0);
        }
        QVERIFY(std::memcmp(b + L.up_offset(), l.ffn_up.row(i), L.part_bytes()) == 0);
        for (int r = 0; r < L.dim; ++r) {
          const uint8_t* want_elem = static_cast<const uint8_t*>(l.ffn_down.data) +
                                     (static_cast<int64_t>(r) * L.neurons + i) * es;
          if (std::memcmp(b + L.down_offset() + r * es, want_elem, es) != 0) {
            QFAIL(qPrintable(QString("layer %1 neuron %2: down column element %3 differs")
                                 .arg(layer)
                                 .arg(i)
                                 .arg(r)));
          }
        }
      }
    }

    // Predictors, when trained: loaded exactly as the converter reported them.
    if (options.train_predictors) {
      QCOMPARE(fm->predictors.size(), static_cast<size_t>(src->config.n_layers));
      QCOMPARE(fm->metrics.size(), fm->predictors.size());
      QCOMPARE(fm->thresholds, report.thresholds);
      for (size_t i = 0; i < fm->predictors.size(); ++i) {
        const Predictor& p = fm->predictors[i];
        QCOMPARE(p.rank, report.ranks[i]);
        QCOMPARE(p.dim, src->config.dim);
        QCOMPARE(p.neurons, src->config.ffn_dim);
        QCOMPARE(p.a.size(), static_cast<size_t>(p.rank) * p.dim);
        QCOMPARE(p.b.size(), static_cast<size_t>(p.neurons) * p.rank);
        QCOMPARE(p.bias.size(), static_cast<size_t>(p.neurons));
        QCOMPARE(fm->metrics[i].recall, report.metrics[i].recall);
        QVERIFY(fm->metrics[i].recall >= 0 && fm->metrics[i].recall <= 1);
      }
    } else {
      QVERIFY(fm->predictors.empty());
    }
  }

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    base_ = tmp_.path().toStdString() + "/base.flash";
    flash_convert(flashchat_test::test_data_path("tiny_opt").toStdString(), base_, no_predictors());
  }

  void safetensors_writer_round_trip() {
    const std::string path = tmp_.path().toStdString() + "/w.safetensors";
    std::vector<uint16_t> h = {1, 2, 3};  // odd count: F16 placed after the F32 tensors
    std::vector<float> f = {1.5f, -2.0f, 3.25f, 4.0f};
    std::vector<uint16_t> bf = {7, 8};
    SafetensorsWriteResult r = safetensors_write(path,
                                                 {{"h", DType::F16, {3}, h.data()},
                                                  {"f", DType::F32, {2, 2}, f.data()},
                                                  {"bf", DType::BF16, {1, 2}, bf.data()}},
                                                 {{"k", "v"}});
    QCOMPARE(r.size_bytes, static_cast<uint64_t>(fs::file_size(path)));
    SafetensorsFile file = SafetensorsFile::open(path);
    QCOMPARE(file.metadata().at("k"), std::string("v"));
    const auto& t = file.tensors();
    QCOMPARE(t.size(), size_t{3});
    QCOMPARE(t.at("f").shape, (std::vector<int64_t>{2, 2}));
    QVERIFY(std::memcmp(t.at("f").data, f.data(), 16) == 0);
    QVERIFY(std::memcmp(t.at("h").data, h.data(), 6) == 0);
    QVERIFY(std::memcmp(t.at("bf").data, bf.data(), 4) == 0);
    for (const auto& [name, tensor] : t) {
      const auto offset = reinterpret_cast<uintptr_t>(tensor.data) -
                          reinterpret_cast<uintptr_t>(file.mapping()->data());
      QVERIFY2(offset % dtype_bytes_for(tensor.dtype, 1) == 0, name.c_str());
    }
    uint64_t header_len = 0;
    std::memcpy(&header_len, file.mapping()->data(), 8);
    QCOMPARE((8 + header_len) % 8, uint64_t{0});
    QVERIFY(error_of([&] {
              safetensors_write(
                  path, {{"a", DType::F32, {1}, f.data()}, {"a", DType::F32, {1}, f.data()}});
            }).find("duplicate") != std::string::npos);
  }

  void convert_stories260k() {
    const QString path = flashchat_test::fixture_path("models/stories260K/stories260K.gguf");
    REQUIRE_FIXTURE(path);
    convert_and_check(path.toStdString(), no_predictors());
  }

  void convert_hf_data() {
    QTest::addColumn<QString>("name");
    for (const char* n :
         {"tiny_opt", "tiny_opt_untied", "tiny_llama", "tiny_llama_silu", "tiny_llama_drelu"}) {
      QTest::newRow(n) << n;
    }
  }
  void convert_hf() {
    QFETCH(QString, name);
    convert_and_check(flashchat_test::test_data_path(name).toStdString(), no_predictors());
  }

  // FFN matrices of different dtypes: ffn.bin is F16; F16 rows are copied, F32 rows rounded.
  void convert_mixed_dtypes() {
    const std::string src_dir = flashchat_test::test_data_path("tiny_llama_drelu").toStdString();
    const std::string dir = tmp_.path().toStdString() + "/mixed_src";
    fs::create_directory(dir);
    for (const char* f : {"config.json", "tokenizer.json", "tokenizer_config.json"}) {
      fs::copy_file(src_dir + "/" + f, dir + "/" + f);
    }
    SafetensorsFile in = SafetensorsFile::open(src_dir + "/model.safetensors");
    std::vector<SafetensorsWriteTensor> out;
    std::vector<std::vector<uint16_t>> halves;
    halves.reserve(in.tensors().size());
    for (const auto& [name, t] : in.tensors()) {
      QCOMPARE(t.dtype, DType::F32);
      if (name.rfind("model.layers.0.mlp.", 0) == 0) {  // layer 0's FFN becomes F16
        const float* f = reinterpret_cast<const float*>(t.data);
        halves.emplace_back(static_cast<size_t>(t.n_elements()));
        for (int64_t i = 0; i < t.n_elements(); ++i) halves.back()[i] = fp32_to_fp16(f[i]);
        out.push_back({name, DType::F16, t.shape, halves.back().data()});
      } else {
        out.push_back({name, t.dtype, t.shape, t.data});
      }
    }
    safetensors_write(dir + "/model.safetensors", out);
    const std::string flash = tmp_.path().toStdString() + "/mixed.flash";
    flash_convert(dir, flash, no_predictors());
    std::unique_ptr<FlashModel> fm = flash_model_open(flash);
    std::unique_ptr<Model> src = model_load(dir);
    const FlashLayout& L = fm->ffn;
    QCOMPARE(L.dtype, DType::F16);
    auto ffn = mapped_file_open(fm->ffn_path);
    for (int layer = 0; layer < 2; ++layer) {
      const LayerWeights& l = src->weights.layers[static_cast<size_t>(layer)];
      auto as_f16 = [&](const Tensor& t, int64_t index) -> uint16_t {
        if (t.dtype == DType::F16) return static_cast<const uint16_t*>(t.data)[index];
        return fp32_to_fp16(static_cast<const float*>(t.data)[index]);
      };
      for (int i = 0; i < L.neurons; ++i) {
        const auto* b = reinterpret_cast<const uint16_t*>(ffn->data() + L.bundle_offset(layer, i));
        for (int k = 0; k < L.dim; ++k) {
          QCOMPARE(b[k], as_f16(l.ffn_gate, int64_t{i} * L.dim + k));
          QCOMPARE(b[L.dim + k], as_f16(l.ffn_up, int64_t{i} * L.dim + k));
          QCOMPARE(b[2 * L.dim + k], as_f16(l.ffn_down, int64_t{k} * L.neurons + i));
        }
      }
    }
  }

  void convert_with_predictors_data() {
    QTest::addColumn<QString>("path");
    QTest::newRow("tiny_opt") << flashchat_test::test_data_path("tiny_opt");
    QTest::newRow("tiny_llama_silu") << flashchat_test::test_data_path("tiny_llama_silu");
    QTest::newRow("stories260K") << flashchat_test::fixture_path(
        "models/stories260K/stories260K.gguf");
  }
  void convert_with_predictors() {
    QFETCH(QString, path);
    REQUIRE_FIXTURE(path);
    ConvertOptions o;
    o.calib_tokens = 1024;
    o.predictor.rank = 8;
    o.predictor.steps = 30;
    convert_and_check(path.toStdString(), o);
  }

  // predictors.safetensors holds A and B as F16; files written before that hold them as F32,
  // which still load (rounded to F16) and predict exactly what the F16 file predicts.
  void loads_f16_and_older_f32_predictors() {
    const std::string dir = tmp_.path().toStdString() + "/pred16.flash";
    ConvertOptions o;
    o.calib_tokens = 1024;
    o.predictor.rank = 8;
    o.predictor.steps = 30;
    flash_convert(flashchat_test::test_data_path("tiny_opt").toStdString(), dir, o);
    const std::string pred_path = dir + "/predictors.safetensors";
    std::unique_ptr<FlashModel> fm = flash_model_open(dir, true);
    const size_t n_layers = fm->predictors.size();
    QVERIFY(n_layers > 0);
    std::vector<std::vector<float>> a32(n_layers), b32(n_layers);
    {
      SafetensorsFile f = SafetensorsFile::open(pred_path);
      std::vector<SafetensorsWriteTensor> tensors;
      for (size_t l = 0; l < n_layers; ++l) {
        const Predictor& p = fm->predictors[l];
        const std::string b = "blk." + std::to_string(l) + ".";
        QCOMPARE(f.tensors().at(b + "pred_a").dtype, DType::F16);
        QCOMPARE(f.tensors().at(b + "pred_b").dtype, DType::F16);
        QCOMPARE(f.tensors().at(b + "pred_bias").dtype, DType::F32);
        QCOMPARE(p.size_bytes(), static_cast<int64_t>(p.a.size() + p.b.size()) * 2 +
                                     static_cast<int64_t>(p.bias.size()) * 4);
        predictor_weights_f32(p, a32[l], b32[l]);
        tensors.push_back({b + "pred_a", DType::F32, {p.rank, p.dim}, a32[l].data()});
        tensors.push_back({b + "pred_b", DType::F32, {p.neurons, p.rank}, b32[l].data()});
        tensors.push_back({b + "pred_bias", DType::F32, {p.neurons}, p.bias.data()});
      }
      fs::remove(pred_path);
      safetensors_write(pred_path, tensors, {{"format", "flashchat-predictors"}});
      json manifest = json::parse(file_read(dir + "/manifest.json"));
      QVERIFY(manifest["files"]["predictors.safetensors"].get<uint64_t>() <
              fs::file_size(pred_path));
      manifest["files"]["predictors.safetensors"] = fs::file_size(pred_path);
      file_write(dir + "/manifest.json", manifest.dump());
    }
    std::unique_ptr<FlashModel> old = flash_model_open(dir, false);  // checksum changed
    QCOMPARE(old->predictors.size(), n_layers);
    std::vector<int32_t> active16, active32;
    std::vector<float> scratch;
    for (size_t l = 0; l < n_layers; ++l) {
      const Predictor& p = fm->predictors[l];
      const Predictor& q = old->predictors[l];
      QCOMPARE(q.rank, p.rank);
      QCOMPARE(q.a.size(), p.a.size());
      QCOMPARE(q.b.size(), p.b.size());
      QCOMPARE(q.bias, p.bias);
      for (int t = 0; t < 20; ++t) {
        std::vector<float> x(static_cast<size_t>(p.dim));
        for (size_t j = 0; j < x.size(); ++j) x[j] = std::sin(0.37f * float(j + 1) * float(t + 1));
        predictor_predict(p, x.data(), active16, scratch);
        predictor_predict(q, x.data(), active32, scratch);
        QCOMPARE(active32, active16);
      }
    }
  }

  void refuses_nonempty_out_dir() {
    const std::string out = tmp_.path().toStdString() + "/occupied";
    fs::create_directory(out);
    file_write(out + "/keep.txt", "x");
    const std::string e = error_of([&] {
      flash_convert(flashchat_test::test_data_path("tiny_opt").toStdString(), out, no_predictors());
    });
    VERIFY_CONTAINS(e, "not empty");
    QVERIFY(fs::exists(out + "/keep.txt"));
    QCOMPARE(entries_with_prefix(tmp_.path().toStdString(), "occupied.tmp-"), 0);
    // An existing empty directory is fine.
    const std::string empty = tmp_.path().toStdString() + "/empty_out";
    fs::create_directory(empty);
    flash_convert(flashchat_test::test_data_path("tiny_opt").toStdString(), empty, no_predictors());
    QVERIFY(flash_model_is_dir(empty));
  }

  void cancel_leaves_nothing_data() {
    QTest::addColumn<QString>("stage");
    QTest::newRow("load") << "load";
    QTest::newRow("ffn") << "ffn";
    QTest::newRow("resident") << "resident";
    QTest::newRow("predictors") << "predictors";
    QTest::newRow("manifest") << "manifest";
  }
  void cancel_leaves_nothing() {
    QFETCH(QString, stage);
    const std::string out = tmp_.path().toStdString() + "/cancelled_" + stage.toStdString();
    ConvertOptions o;
    o.calib_tokens = 256;
    o.predictor.rank = 4;
    o.predictor.steps = 10;
    bool seen = false;
    o.progress = [&](double, const std::string& s) {
      if (s.rfind(stage.toStdString(), 0) == 0) seen = true;
      return !seen;
    };
    const std::string e = error_of(
        [&] { flash_convert(flashchat_test::test_data_path("tiny_llama").toStdString(), out, o); });
    QVERIFY(seen);
    VERIFY_CONTAINS(e, "cancelled");
    QVERIFY(!fs::exists(out));
    QCOMPARE(entries_with_prefix(tmp_.path().toStdString(),
                                 "cancelled_" + stage.toStdString() + ".tmp-"),
             0);
  }

  void failed_conversion_leaves_nothing() {
    const std::string out = tmp_.path().toStdString() + "/failed";
    const std::string e = error_of([&] {
      flash_convert(tmp_.path().toStdString() + "/no_such_model.gguf", out, no_predictors());
    });
    VERIFY_CONTAINS(e, "no_such_model.gguf");
    ConvertOptions o;
    o.calib_path = tmp_.path().toStdString() + "/no_such_calib.txt";
    const std::string e2 = error_of(
        [&] { flash_convert(flashchat_test::test_data_path("tiny_opt").toStdString(), out, o); });
    VERIFY_CONTAINS(e2, "no_such_calib.txt");
    QVERIFY(!fs::exists(out));
    QCOMPARE(entries_with_prefix(tmp_.path().toStdString(), "failed.tmp-"), 0);
  }

  void default_calib_exists() {
    const std::string path = flash_default_calib_path();
    QVERIFY2(fs::is_regular_file(path), path.c_str());
    QVERIFY(fs::file_size(path) > 30000);
  }

  void damaged_files() {
    // Truncated ffn.bin.
    std::string dir = base_copy("truncated");
    const std::string ffn = dir + "/ffn.bin";
    const auto size = fs::file_size(ffn);
    fs::resize_file(ffn, size - 100);
    std::string e = error_of([&] { flash_model_open(dir, false); });
    VERIFY_CONTAINS(e, "ffn.bin is " + std::to_string(size - 100) + " bytes, manifest says " +
                           std::to_string(size) + " (truncated?)");

    // A flipped byte: found by the checksum, not without it.
    for (const char* name : {"ffn.bin", "dram.safetensors"}) {
      dir = base_copy((std::string("flipped_") + name).c_str());
      const std::string path = dir + "/" + name;
      std::string bytes = file_read(path);
      bytes[bytes.size() * 2 / 3] ^= 0x10;
      file_write(path, bytes);
      e = error_of([&] { flash_model_open(dir, true); });
      VERIFY_CONTAINS(e, name);
      VERIFY_CONTAINS(e, "checksum mismatch");
      QVERIFY(flash_model_open(dir, false) != nullptr);
    }

    // Missing files.
    for (const char* name : {"dram.safetensors", "ffn.bin"}) {
      dir = base_copy((std::string("missing_") + name).c_str());
      fs::remove(dir + "/" + name);
      e = error_of([&] { flash_model_open(dir); });
      VERIFY_CONTAINS(e, std::string(name) + ": missing");
    }
    dir = base_copy("missing_manifest");
    fs::remove(dir + "/manifest.json");
    QVERIFY(!flash_model_is_dir(dir));
    VERIFY_CONTAINS(error_of([&] { flash_model_open(dir); }), "manifest.json: missing");
    VERIFY_CONTAINS(error_of([&] { flash_model_open(dir + "/nope"); }), "no such directory");
  }

  void damaged_manifest_data() {
    QTest::addColumn<QString>("edit");
    QTest::addColumn<QString>("message");
    QTest::newRow("malformed") << "malformed"
                               << "manifest.json: malformed JSON";
    QTest::newRow("not object") << "array"
                                << "manifest.json: expected a JSON object";
    QTest::newRow("bad magic") << "magic"
                               << "magic is 'gguf'";
    QTest::newRow("version 3") << "version"
                               << "format version 3 is not supported";
    QTest::newRow("missing dim") << "no_dim"
                                 << "field 'config.dim' is missing";
    QTest::newRow("mistyped dim") << "str_dim"
                                  << "field 'config.dim' must be an integer";
    QTest::newRow("bad activation") << "act"
                                    << "field 'config.activation' = 'swish3' is unknown";
    QTest::newRow("missing tokens") << "no_tokens"
                                    << "field 'tokenizer.tokens' is missing";
    QTest::newRow("unaligned layer") << "offset"
                                     << "field 'ffn.layer_offsets[1]' = ";
    QTest::newRow("bad bundle") << "bundle"
                                << "field 'ffn.bundle_bytes'";
    QTest::newRow("bad dtype") << "dtype"
                               << "field 'ffn.dtype' = 'Q4_K'";
    QTest::newRow("bad checksum") << "crc"
                                  << "field 'checksums.ffn.bin' = 'md5:";
    QTest::newRow("escaping name") << "file"
                                   << "must be a file name inside the model directory";
    QTest::newRow("dim mismatch") << "ffn_dim"
                                  << "field 'ffn.dim' = 16 differs from config.dim";
  }
  void damaged_manifest() {
    QFETCH(QString, edit);
    QFETCH(QString, message);
    const std::string dir = base_copy(("manifest_" + edit).toStdString().c_str());
    const std::string path = dir + "/manifest.json";
    json m = json::parse(file_read(path));
    const std::string e_ = edit.toStdString();
    std::string text;
    if (e_ == "malformed") text = "{\"magic\": \"flashchat-flash-model\", ";
    if (e_ == "array") text = "[1, 2]";
    if (e_ == "magic") m["magic"] = "gguf";
    if (e_ == "version") m["version"] = 3;  // newer than this build (1 and 2 are read)
    if (e_ == "no_dim") m["config"].erase("dim");
    if (e_ == "str_dim") m["config"]["dim"] = "32";
    if (e_ == "act") m["config"]["activation"] = "swish3";
    if (e_ == "no_tokens") m["tokenizer"].erase("tokens");
    if (e_ == "offset")
      m["ffn"]["layer_offsets"][1] = m["ffn"]["layer_offsets"][1].get<uint64_t>() + 8;
    if (e_ == "bundle") m["ffn"]["bundle_bytes"] = m["ffn"]["bundle_bytes"].get<int64_t>() + 2;
    if (e_ == "dtype") m["ffn"]["dtype"] = "Q4_K";
    if (e_ == "crc") m["checksums"]["ffn.bin"] = "md5:1234";
    if (e_ == "file") m["ffn"]["file"] = "../ffn.bin";
    if (e_ == "ffn_dim") m["ffn"]["dim"] = 16;
    file_write(path, text.empty() ? m.dump() : text);
    const std::string e = error_of([&] { flash_model_open(dir, false); });
    VERIFY_CONTAINS(e, path);
    VERIFY_CONTAINS(e, message.toStdString());
  }

  void cli_convert() {
    const QString cli = qEnvironmentVariable("FLASHCHAT_CLI");
    QVERIFY2(QFile::exists(cli), "FLASHCHAT_CLI not set (ctest sets it)");
    const QString out = tmp_.path() + "/cli.flash";
    QProcess p;
    p.start(cli, {"convert", flashchat_test::test_data_path("tiny_llama_drelu"), "-o", out,
                  "--rank", "4", "--tokens", "300"});
    QVERIFY(p.waitForFinished(120000));
    const QString out_text = QString::fromUtf8(p.readAllStandardOutput());
    QVERIFY2(p.exitCode() == 0, qPrintable(p.readAllStandardError()));
    QVERIFY(out_text.contains("recall"));
    QVERIFY(out_text.contains("predictors:"));
    std::unique_ptr<FlashModel> fm = flash_model_open(out.toStdString());
    QCOMPARE(fm->predictors.size(), fm->metrics.size());
    QVERIFY(!fm->predictors.empty());
    QCOMPARE(fm->predictors[0].rank, 4);
    // A second run refuses the now non-empty directory.
    p.start(cli, {"convert", flashchat_test::test_data_path("tiny_llama_drelu"), "-o", out,
                  "--no-predictors"});
    QVERIFY(p.waitForFinished(120000));
    QCOMPARE(p.exitCode(), 1);
    QVERIFY(QString::fromUtf8(p.readAllStandardError()).contains("not empty"));
  }

  void checksum_verification_passes_on_good_model() {
    std::unique_ptr<FlashModel> fm = flash_model_open(base_, true);
    QVERIFY(fm != nullptr);
    QCOMPARE(fm->ffn_path, base_ + "/ffn.bin");
  }
};

QTEST_GUILESS_MAIN(FlashModelTest)
#include "flash_model_test.moc"
