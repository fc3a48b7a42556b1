// flash_quant_test.cc - quantised flash models (convert --weights q8_0 / q4_0) of the default
// model, converted from its flash directory without predictors:
//   - bundles are Q8_0 / Q4_0 quants (format 2: 2 x dim and dim bytes, 512 and 256 here) with
//     their block scales apart in ffn_scales.bin, ffn.bin shrinks accordingly, and the resident
//     matrices are stored quantised in dram.safetensors;
//   - at the opt-1.3b shape (dim 2048) reading isolated split Q8_0 bundles costs half the pages
//     F16 bundles cost, Q4_0 pairs half again (the inline format-1 Q8_0 bundle cost more than
//     F16: why format 2 exists);
//   - a format-1 model (whole blocks inside the bundles, no scale file) is still read and
//     computes what the format-2 model computes;
//   - with the oracle (true active sets) the flash FFN's logits equal, within 1e-5 relative at
//     every position, those of the same quantised model computed dense (FfnMode::Dram: every
//     neuron, from the same bundles);
//   - the quantised logits really differ from F16's, while the argmax mostly agrees;
//   - re-converting the F16 flash model as it is gives back its ffn.bin byte for byte, and its
//     predictors file unchanged (reused, not retrained).
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "convert/flash_convert.h"
#include "core/error.h"
#include "core/read_file.h"
#include "core/resource_paths.h"
#include "flash/flash_model.h"
#include "model/tokenizer.h"
#include "model/transformer.h"
#include "flash/flash_manifest.h"
#include "runtime/flash_ffn.h"
#include "runtime/flash_store.h"
#include "test_support.h"

using namespace flashchat;

namespace {

constexpr int kPositions = 64;

using Logits = std::vector<std::vector<float>>;

// Logits at every position of `tokens` with the FFN in `mode` (oracle for Flash).
Logits run(const FlashModel& fm, const std::vector<int>& tokens, FfnMode mode) {
  FlashFfnOptions fo;
  fo.mode = mode;
  fo.oracle = true;
  fo.window = 4;
  FlashFfn ffn(fm, fo, 0, 0);
  Transformer t(*fm.model, int(tokens.size()), &ffn, KvType::F32);
  Logits out;
  for (size_t p = 0; p < tokens.size(); ++p) {
    ffn.begin_token();
    const float* l = t.forward(tokens[p], int(p));
    out.emplace_back(l, l + fm.model->config.vocab_size);
  }
  return out;
}

std::pair<double, double> compare(const Logits& a, const Logits& b) {
  return flashchat_test::logits_compare(a, b);
}

}  // namespace

class FlashQuantTest : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  std::string source_;
  std::unique_ptr<FlashModel> f16_;
  std::vector<int> tokens_;
  Logits f16_logits_;

  std::unique_ptr<FlashModel> convert(const char* name, std::optional<DType> weights,
                                      bool predictors = false) {
    ConvertOptions o;
    o.train_predictors = predictors;
    o.weights = weights;
    const std::string out = tmp_.filePath(name).toStdString();
    flash_convert(source_, out, o);
    return flash_model_open(out);
  }

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    source_ = resource_path_find("models/default");
    QVERIFY2(!source_.empty(), "resources/models/default is missing");
    f16_ = flash_model_open(source_);
    QCOMPARE(f16_->ffn.dtype, DType::F16);
    const std::string calib = resource_path_find("calib/default.txt");
    QVERIFY(!calib.empty());
    tokens_ = Tokenizer(f16_->model->tokenizer).encode(file_read_text(calib), true);
    QVERIFY(tokens_.size() >= size_t(kPositions));
    tokens_.resize(kPositions);
    f16_logits_ = run(*f16_, tokens_, FfnMode::Dram);
  }

  void quantized_bundles_oracle_equals_dense() {
    const int64_t dim = f16_->ffn.dim;
    for (DType t : {DType::Q8_0, DType::Q4_0}) {
      const std::unique_ptr<FlashModel> q = convert(dtype_name(t), t);
      QCOMPARE(q->ffn.dtype, t);
      QVERIFY(q->ffn.split_scales);
      QCOMPARE(QDir(QString::fromStdString(q->dir)).entryList(QDir::Files),
               QStringList({"dram.safetensors", "ffn.bin", "ffn_scales.bin", "manifest.json"}));
      QCOMPARE(q->ffn.bundle_bytes, (t == DType::Q8_0 ? 2 : 1) * dim);  // up | down quants, ungated
      QCOMPARE(q->ffn_scale_bytes(),
               int64_t{q->ffn.n_layers} * q->ffn.neurons * 2 * (dim / 32) * 2);  // F16 per block
      QVERIFY(q->ffn.size_bytes < f16_->ffn.size_bytes * (t == DType::Q8_0 ? 0.55 : 0.30));
      QCOMPARE(q->model->weights.layers[0].wq.dtype, t);
      QCOMPARE(q->model->weights.token_embd.dtype, t);
      QCOMPARE(q->model->weights.layers[0].attn_norm.dtype, DType::F32);  // vectors stay F32
      QVERIFY(q->model->bytes().total() < f16_->model->bytes().total() * 0.6);

      const Logits dense = run(*q, tokens_, FfnMode::Dram);
      const Logits flash = run(*q, tokens_, FfnMode::Flash);
      const auto [exact, same_argmax] = compare(flash, dense);
      QVERIFY2(exact <= 1e-5, qPrintable(QString("%1: flash vs dense %2").arg(dtype_name(t)).arg(exact)));
      QCOMPARE(same_argmax, 1.0);

      const auto [vs_f16, agree_f16] = compare(dense, f16_logits_);
      qInfo("%s vs F16 over %d positions: max relative logit difference %.4f, argmax agreement %.3f",
            dtype_name(t), kPositions, vs_f16, agree_f16);
      QVERIFY2(vs_f16 > 1e-4, "the quantised model computes what F16 computes: not quantised?");
      QVERIFY2(agree_f16 >= (t == DType::Q8_0 ? 0.9 : 0.6), qPrintable(QString::number(agree_f16)));
    }
  }

  // Bytes O_DIRECT reads for the bundles of `neurons` of one layer (4 KiB pages, runs merged).
  static int64_t read_bytes(const FlashLayout& L, const std::vector<int32_t>& neurons) {
    std::vector<uint8_t> dst(static_cast<size_t>(L.bundle_bytes) * neurons.size() + 4096);
    std::vector<uint8_t*> dsts;
    uint8_t* base = reinterpret_cast<uint8_t*>((uintptr_t(dst.data()) + 4095) / 4096 * 4096);
    for (size_t i = 0; i < neurons.size(); ++i) dsts.push_back(base + i * L.bundle_bytes);
    std::vector<ReadRun> runs;
    bundle_runs_append(0, L.bundle_bytes, neurons, dsts, runs);
    return flash_read_cost(runs, true, 64 * 1024, uint64_t(L.bundle_bytes) * L.neurons).bytes;
  }

  // A damaged scale file (one scale short) is refused with a message naming it.
  void truncated_scale_file_is_refused() {
    const std::unique_ptr<FlashModel> q = convert("q8_0_truncated", DType::Q8_0);
    const std::string scales = q->dir + "/ffn_scales.bin";
    QVERIFY(QFile::resize(QString::fromStdString(scales), QFileInfo(QString::fromStdString(scales)).size() - 2));
    try {
      flash_model_open(q->dir);
      QFAIL("a truncated ffn_scales.bin was accepted");
    } catch (const Error& e) {
      QVERIFY2(std::string(e.what()).find("ffn_scales.bin") != std::string::npos, e.what());
    }
  }

  void split_bundles_read_fewer_pages() {
    auto layout = [](DType t, bool split) {
      FlashLayout L;
      L.dtype = t;
      L.dim = 2048;  // opt-1.3b
      L.neurons = 8192;
      L.n_layers = 1;
      L.gated = false;
      L.split_scales = split;
      L.bundle_bytes = L.parts() * L.part_bytes();
      return L;
    };
    std::vector<int32_t> isolated, pairs;  // every 7th neuron; pairs (2j, 2j + 1) 14 apart
    for (int32_t n = 0; n < 8192; n += 7) isolated.push_back(n);
    for (int32_t n = 0; n + 1 < 8192; n += 14) pairs.insert(pairs.end(), {n, n + 1});
    const int64_t f16 = read_bytes(layout(DType::F16, false), isolated);
    const int64_t q8_inline = read_bytes(layout(DType::Q8_0, false), isolated);
    const int64_t q8 = read_bytes(layout(DType::Q8_0, true), isolated);
    const int64_t q4 = read_bytes(layout(DType::Q4_0, true), isolated);
    QCOMPARE(f16, int64_t(isolated.size()) * 8192);
    QVERIFY2(q8_inline >= f16, "format 1: a 4352-byte bundle spans 2-3 pages");
    QCOMPARE(q8, f16 / 2);  // 4096-byte bundles on page boundaries
    QCOMPARE(q4, f16 / 2);  // 2048 bytes, still one page each when isolated
    const int64_t q8_pairs = read_bytes(layout(DType::Q8_0, true), pairs);
    const int64_t q4_pairs = read_bytes(layout(DType::Q4_0, true), pairs);
    QCOMPARE(q4_pairs, q8_pairs / 2);  // a page holds both neurons of a pair
  }

  void format_1_inline_bundles_still_read() {
    const std::unique_ptr<FlashModel> q = convert("q8-v2", DType::Q8_0);
    // Rewrite it as format 1: whole Q8_0 blocks inside each bundle, no scale file.
    const std::string dir = tmp_.filePath("q8-v1").toStdString();
    QVERIFY(QDir().mkpath(QString::fromStdString(dir)));
    const FlashLayout& L = q->ffn;
    const int64_t part_in = dtype_bytes_for(DType::Q8_0, L.dim), bundle_in = 2 * part_in;
    const std::string v2_bytes = file_read_text(q->ffn_path);
    std::string v1_bytes;
    std::vector<uint64_t> offsets;
    for (int l = 0; l < L.n_layers; ++l) {
      v1_bytes.resize((v1_bytes.size() + 4095) / 4096 * 4096, '\0');
      offsets.push_back(v1_bytes.size());
      for (int n = 0; n < L.neurons; ++n) {
        const uint8_t* b = reinterpret_cast<const uint8_t*>(v2_bytes.data() + L.bundle_offset(l, n));
        const uint16_t* s = q->layer_scales(l) + int64_t{n} * L.bundle_scales();
        std::string blocks(static_cast<size_t>(bundle_in), '\0');
        dtype_blocks_join(DType::Q8_0, b, s, L.dim, blocks.data());
        dtype_blocks_join(DType::Q8_0, b + L.part_bytes(), s + L.part_scales(), L.dim,
                          blocks.data() + part_in);
        v1_bytes += blocks;
      }
    }
    v1_bytes.resize((v1_bytes.size() + 4095) / 4096 * 4096, '\0');
    std::ofstream(dir + "/ffn.bin", std::ios::binary) << v1_bytes;
    QVERIFY(QFile::copy(QString::fromStdString(q->dir + "/dram.safetensors"),
                        QString::fromStdString(dir + "/dram.safetensors")));
    nlohmann::json m = nlohmann::json::parse(file_read_text(q->dir + "/manifest.json"));
    QCOMPARE(m["version"].get<int>(), kFlashVersion);
    m["version"] = 1;
    m["ffn"].erase("scales_file");
    m["ffn"]["bundle_bytes"] = bundle_in;
    m["ffn"]["layer_offsets"] = offsets;
    m["ffn"]["size_bytes"] = v1_bytes.size();
    m["files"].erase(kFlashScalesFile);
    m["files"]["ffn.bin"] = v1_bytes.size();
    std::ofstream(dir + "/manifest.json") << m.dump();
    const std::unique_ptr<FlashModel> v1 = flash_model_open(dir);
    QVERIFY(!v1->ffn.split_scales);
    QCOMPARE(v1->ffn.bundle_bytes, bundle_in);
    QVERIFY(v1->ffn_scales.empty());
    const auto [diff, agree] = compare(run(*v1, tokens_, FfnMode::Flash), run(*q, tokens_, FfnMode::Dram));
    QVERIFY2(diff <= 1e-5, qPrintable(QString::number(diff)));
    QCOMPARE(agree, 1.0);

    m["version"] = kFlashVersion + 1;  // a newer format is refused, naming the manifest
    std::ofstream(dir + "/manifest.json") << m.dump();
    try {
      flash_model_open(dir);
      QFAIL("a newer format opened");
    } catch (const Error& e) {
      QVERIFY2(std::string(e.what()).find("manifest.json") != std::string::npos, e.what());
      QVERIFY2(std::string(e.what()).find("convert the model again") != std::string::npos, e.what());
    }
  }

  void reconverting_f16_reproduces_its_bundles() {
    const std::unique_ptr<FlashModel> again = convert("f16-again", std::nullopt, true);
    QCOMPARE(again->ffn.dtype, DType::F16);
    // Nothing else in the directory (no scale file, no leftover partial file).
    QCOMPARE(QDir(QString::fromStdString(again->dir)).entryList(QDir::Files),
             QStringList({"dram.safetensors", "ffn.bin", "manifest.json", "predictors.safetensors"}));
    QVERIFY(file_read_text(again->ffn_path) == file_read_text(f16_->ffn_path));
    // The predictors are reused as they are, not retrained.
    QCOMPARE(again->predictors.size(), f16_->predictors.size());
    QVERIFY(file_read_text(again->dir + "/predictors.safetensors") ==
            file_read_text(f16_->dir + "/predictors.safetensors"));
    QCOMPARE(again->thresholds, f16_->thresholds);
  }
};

QTEST_GUILESS_MAIN(FlashQuantTest)
#include "flash_quant_test.moc"
