// flash_quant_test.cc - quantised flash models (convert --weights q8_0 / q4_0) of the default
// model, converted from its flash directory without predictors:
//   - bundles are Q8_0 / Q4_0 (2 x dim / 32 blocks: 544 and 288 bytes), ffn.bin shrinks
//     accordingly, and the resident matrices are stored quantised in dram.safetensors;
//   - with the oracle (true active sets) the flash FFN's logits equal, within 1e-5 relative at
//     every position, those of the same quantised model computed dense (FfnMode::Dram: every
//     neuron, from the same bundles);
//   - the quantised logits really differ from F16's, while the argmax mostly agrees;
//   - re-converting the F16 flash model as it is gives back its ffn.bin byte for byte, and its
//     predictors file unchanged (reused, not retrained).
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <memory>

#include "convert/flash_convert.h"
#include "core/read_file.h"
#include "core/resource_paths.h"
#include "flash/flash_model.h"
#include "model/tokenizer.h"
#include "model/transformer.h"
#include "runtime/flash_ffn.h"
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

// Worst max |a - b| / max |b| over positions, and the share of positions whose argmax agrees.
std::pair<double, double> compare(const Logits& a, const Logits& b) {
  double worst = 0;
  int agree = 0;
  for (size_t p = 0; p < a.size(); ++p) {
    double diff = 0, mx = 0;
    for (size_t v = 0; v < a[p].size(); ++v) {
      diff = std::max(diff, std::fabs(double(a[p][v]) - b[p][v]));
      mx = std::max(mx, std::fabs(double(b[p][v])));
    }
    worst = std::max(worst, diff / std::max(mx, 1e-30));
    agree += std::max_element(a[p].begin(), a[p].end()) - a[p].begin() ==
             std::max_element(b[p].begin(), b[p].end()) - b[p].begin();
  }
  return {worst, double(agree) / double(a.size())};
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
      QCOMPARE(q->ffn.bundle_bytes, 2 * dim / 32 * dtype_block_bytes(t));  // up | down, ungated
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

  void reconverting_f16_reproduces_its_bundles() {
    const std::unique_ptr<FlashModel> again = convert("f16-again", std::nullopt, true);
    QCOMPARE(again->ffn.dtype, DType::F16);
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
