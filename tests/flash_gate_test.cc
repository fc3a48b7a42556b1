// flash_gate_test.cc - the exact gate mode (convert --sparsity gate) on the tiny SwiGLU Llama of
// tests/data/tiny_llama_silu (2 layers, dim 32, 96 neurons):
//   - the layout: bundles [up | down] (2 x dim BF16, as stored), the gate matrices resident, no predictors;
//   - gate mass 1 (threshold 0): every neuron is read and the flash FFN's logits equal the dense
//     model's (loaded from the Hugging Face folder, DenseFfn) within 1e-5 relative at every
//     position - the mode is exact;
//   - gate mass 0.9: each layer's threshold obeys the stated rule, checked by brute force on the
//     calibration tokens (the neurons above it carry >= 90% of sum |act(g) * u|, those above the
//     next grid step less), fewer neurons are read and the logits move but mostly keep their
//     argmax;
//   - the same with Q8_0 bundles (block scales apart): flash equals dram mode;
//   - an ungated model is refused.
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <memory>

#include "compute/matvec.h"
#include "convert/flash_convert.h"
#include "core/error.h"
#include "core/read_file.h"
#include "flash/flash_model.h"
#include "model/tokenizer.h"
#include "model/transformer.h"
#include "runtime/flash_ffn.h"
#include "test_support.h"

using namespace flashchat;

namespace {

constexpr int kCalibTokens = 512;
constexpr int kPositions = 48;
using Logits = std::vector<std::vector<float>>;

// Logits at every position of `tokens` through `ffn` (nullptr: the model's dense FFN); the
// neurons the flash FFN predicted, summed over layers and positions, into *predicted.
Logits run(const Model& model, const std::vector<int>& tokens, FlashFfn* ffn,
           int64_t* predicted = nullptr) {
  Transformer t(model, int(tokens.size()), ffn, KvType::F32);
  Logits out;
  for (size_t p = 0; p < tokens.size(); ++p) {
    if (ffn) ffn->begin_token();
    const float* l = t.forward(tokens[p], int(p));
    out.emplace_back(l, l + model.config.vocab_size);
    if (ffn && predicted) {
      TokenTelemetry tel;
      ffn->fill_telemetry(tel);
      for (const LayerTelemetry& lt : tel.layers) *predicted += lt.neurons_predicted;
    }
  }
  return out;
}

std::pair<double, double> compare(const Logits& a, const Logits& b) {
  return flashchat_test::logits_compare(a, b);
}

// The dense FFN, recording (|silu(g)|, |silu(g) * u|) of every neuron per layer.
class PairRecorder : public FfnBackend {
 public:
  explicit PairRecorder(const Model& m) : m_(m), dense_(m), pairs_(size_t(m.config.n_layers)) {}
  bool on = true;
  std::vector<std::vector<std::pair<double, double>>>& pairs() { return pairs_; }
  void ffn_forward(int layer, const float* x, float* out) override {
    if (on) {
      const LayerWeights& l = m_.weights.layers[size_t(layer)];
      std::vector<float> g(size_t(m_.config.ffn_dim)), u(g.size());
      matvec(l.ffn_gate, x, g.data());
      matvec(l.ffn_up, x, u.data());
      for (size_t i = 0; i < g.size(); ++i) {
        const double a = double(g[i]) / (1.0 + std::exp(-double(g[i])));  // silu, independently
        pairs_[size_t(layer)].push_back({std::fabs(a), std::fabs(a * u[i])});
      }
    }
    dense_.ffn_forward(layer, x, out);
  }

 private:
  const Model& m_;
  DenseFfn dense_;
  std::vector<std::vector<std::pair<double, double>>> pairs_;
};

}  // namespace

class FlashGateTest : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  std::string source_;
  std::unique_ptr<Model> dense_;
  std::vector<int> calib_, tokens_;
  Logits dense_logits_;

  std::unique_ptr<FlashModel> convert(const char* name, double mass,
                                      std::optional<DType> weights = std::nullopt) {
    ConvertOptions o;
    o.weights = weights;
    o.gate_sparsity = true;
    o.gate_mass = mass;
    o.calib_tokens = kCalibTokens;
    const std::string out = tmp_.filePath(name).toStdString();
    flash_convert(source_, out, o);
    return flash_model_open(out);
  }

  std::unique_ptr<FlashFfn> flash_ffn(const FlashModel& fm) {
    FlashFfnOptions fo;
    fo.mode = FfnMode::Flash;
    fo.window = 2;
    return std::make_unique<FlashFfn>(fm, fo, 0, 0);
  }

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    source_ = flashchat_test::test_data_path("tiny_llama_silu").toStdString();
    dense_ = model_load(source_);
    QVERIFY(dense_->config.ffn_gated);
    const std::string text = file_read_text(flash_default_calib_path());
    calib_ = Tokenizer(dense_->tokenizer).encode(text, false);
    QVERIFY(calib_.size() > size_t(kCalibTokens + kPositions));
    // Held out: tokens after the calibration's.
    tokens_.assign(calib_.begin() + kCalibTokens, calib_.begin() + kCalibTokens + kPositions);
    calib_.resize(kCalibTokens);
    dense_logits_ = run(*dense_, tokens_, nullptr);
  }

  void mass_one_is_exact() {
    const std::unique_ptr<FlashModel> fm = convert("gate-1", 1.0);
    const FlashLayout& L = fm->ffn;
    QVERIFY(L.gate_resident);
    QVERIFY(!L.gate_in_bundle());
    QCOMPARE(L.dtype, DType::BF16);                     // as stored
    QCOMPARE(L.bundle_bytes, int64_t{2} * L.dim * 2);  // up | down
    QVERIFY(fm->predictors.empty());
    QCOMPARE(fm->gate_thresholds, std::vector<float>(size_t(L.n_layers), 0.0f));
    const Tensor& gate = fm->model->weights.layers[1].ffn_gate;
    QCOMPARE(gate.rows, int64_t{L.neurons});
    QVERIFY(fm->model->weights.layers[1].ffn_up.empty());

    const std::unique_ptr<FlashFfn> ffn = flash_ffn(*fm);
    int64_t predicted = 0;
    const Logits flash = run(*fm->model, tokens_, ffn.get(), &predicted);
    QCOMPARE(predicted, int64_t{kPositions} * L.n_layers * L.neurons);
    const auto [diff, agree] = compare(flash, dense_logits_);
    QVERIFY2(diff <= 1e-5, qPrintable(QString::number(diff)));
    QCOMPARE(agree, 1.0);
  }

  // Q8_0 bundles (split scales) with the gate resident: mass 1 in flash mode equals the same
  // model with every bundle multiplied (dram mode), and the model really is quantised.
  void quantised_gate_model_is_exact_too() {
    const std::unique_ptr<FlashModel> fm = convert("gate-q8", 1.0, DType::Q8_0);
    QVERIFY(fm->ffn.gate_resident && fm->ffn.split_scales);
    QCOMPARE(fm->ffn.bundle_bytes, int64_t{2} * fm->ffn.dim);
    QCOMPARE(fm->model->weights.layers[0].ffn_gate.dtype, DType::Q8_0);
    const std::unique_ptr<FlashFfn> flash = flash_ffn(*fm);
    FlashFfnOptions fo;
    fo.mode = FfnMode::Dram;
    FlashFfn dram(*fm, fo, 0, 0);
    const auto [diff, agree] = compare(run(*fm->model, tokens_, flash.get()),
                                       run(*fm->model, tokens_, &dram));
    QVERIFY2(diff <= 1e-5, qPrintable(QString::number(diff)));
    QCOMPARE(agree, 1.0);
    const auto [vs_dense, agree_dense] = compare(run(*fm->model, tokens_, &dram), dense_logits_);
    QVERIFY2(vs_dense > 1e-4, "Q8_0 computes what BF16 computes: not quantised?");
    QVERIFY2(agree_dense >= 0.8, qPrintable(QString::number(agree_dense)));
  }

  void calibrated_threshold_follows_the_rule() {
    const double mass = 0.9;
    const std::unique_ptr<FlashModel> fm = convert("gate-0.9", mass);
    // The calibration pairs, as the converter ran them: chunks of 63 tokens after BOS.
    PairRecorder rec(*dense_);
    const int ctx = std::min(dense_->config.max_seq_len, 256);
    for (size_t first = 0; first < calib_.size(); first += size_t(ctx - 1)) {
      Transformer t(*dense_, ctx, &rec, KvType::F32);
      rec.on = false;
      t.forward(dense_->tokenizer.bos_id, 0);
      rec.on = true;
      const size_t last = std::min(calib_.size(), first + size_t(ctx - 1));
      for (size_t i = first; i < last; ++i) t.forward(calib_[i], int(i - first + 1));
    }
    for (int l = 0; l < fm->ffn.n_layers; ++l) {
      const double t = fm->gate_thresholds[size_t(l)];
      QVERIFY2(t > 0, "mass 0.9 should drop some neurons");
      const double next = t * std::pow(10.0, 1.0 / 64) * 1.0001;  // the grid's next step
      double total = 0, above = 0, above_next = 0;
      for (const auto& [a, c] : rec.pairs()[size_t(l)]) {
        total += c;
        if (a > t) above += c;
        if (a > next) above_next += c;
      }
      QVERIFY2(above >= mass * total * (1 - 1e-4),
               qPrintable(QString("layer %1: %2 of the mass above t").arg(l).arg(above / total)));
      QVERIFY2(above_next < mass * total,
               qPrintable(QString("layer %1: t is not the largest grid threshold").arg(l)));
    }

    const std::unique_ptr<FlashFfn> ffn = flash_ffn(*fm);
    int64_t predicted = 0;
    const Logits flash = run(*fm->model, tokens_, ffn.get(), &predicted);
    const int64_t all = int64_t{kPositions} * fm->ffn.n_layers * fm->ffn.neurons;
    qInfo("gate mass 0.9: %.1f%% of the neurons read", 100.0 * double(predicted) / double(all));
    QVERIFY(predicted < all);
    const auto [diff, agree] = compare(flash, dense_logits_);
    qInfo("vs dense: max relative logit difference %.4f, argmax agreement %.3f", diff, agree);
    QVERIFY2(diff > 1e-5, "dropping neurons changed nothing");
    QVERIFY2(agree >= 0.75, qPrintable(QString::number(agree)));
  }

  void ungated_model_refused() {
    ConvertOptions o;
    o.gate_sparsity = true;
    const std::string opt = flashchat_test::test_data_path("tiny_opt").toStdString();
    const std::string err = flashchat_test::error_of(
        [&] { flash_convert(opt, tmp_.filePath("opt-gate").toStdString(), o); });
    QVERIFY2(err.find("gated") != std::string::npos, err.c_str());
    QVERIFY(!QDir(tmp_.filePath("opt-gate")).exists());
  }
};

QTEST_GUILESS_MAIN(FlashGateTest)
#include "flash_gate_test.moc"
