// predictor_quality_test.cc - flash mode with the *trained* predictors (not the oracle) against
// the dense model on held-out text, teacher-forced: the same token sequence goes through a dense
// Transformer and through a Transformer whose FFN is a flash-mode FlashFfn, with an unlimited
// budget and with a tight one (the window shrinks, neurons are streamed). Measured per position:
// top-1 agreement and KL(dense || flash) of the next-token distributions. KV cache in F32 on
// both sides, so only the FFN differs.
//
// Held-out: the converter trains the predictors on the first `calib_tokens` tokens of the
// calibration text (convert/flash_convert.cc); the sequences here are BOS + the tokens that
// follow them in the same text, which no predictor saw.
//
// Models: the default model (OPT-style ReLU, truly sparse) and stories260K (SwiGLU, converted
// here), the case where "active" is a threshold on a smooth activation.

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <memory>

#include "convert/flash_convert.h"
#include "core/read_file.h"
#include "core/resource_paths.h"
#include "flash/flash_model.h"
#include "model/model.h"
#include "model/tokenizer.h"
#include "model/transformer.h"
#include "runtime/flash_ffn.h"
#include "test_support.h"

using namespace flashchat;

namespace {

using Logits = std::vector<std::vector<float>>;

// BOS + `n - 1` tokens of the calibration text starting right after the first `calib_tokens`.
std::vector<int> held_out_tokens(const Tokenizer& tok, int calib_tokens, int n) {
  const std::string path = resource_path_find("calib/default.txt");
  if (path.empty()) return {};
  const std::vector<int> all = tok.encode(file_read_text(path), false);
  if (all.size() < static_cast<size_t>(calib_tokens + n)) return {};
  std::vector<int> out = {tok.bos_id()};
  out.insert(out.end(), all.begin() + calib_tokens, all.begin() + calib_tokens + n - 1);
  return out;
}

// Teacher-forced logits at every position. tel (optional) receives the FFN's telemetry.
Logits replay(const Model& model, FlashFfn* ffn, const std::vector<int>& tokens,
              std::vector<TokenTelemetry>* tel = nullptr) {
  Transformer t(model, static_cast<int>(tokens.size()), ffn, KvType::F32);
  const int n_vocab = model.config.vocab_size;
  Logits out;
  for (size_t p = 0; p < tokens.size(); ++p) {
    if (ffn) ffn->begin_token();
    const float* l = t.forward(tokens[p], static_cast<int>(p));
    out.emplace_back(l, l + n_vocab);
    if (ffn && tel) {
      TokenTelemetry tt;
      ffn->fill_telemetry(tt);
      tel->push_back(std::move(tt));
    }
  }
  return out;
}

std::vector<double> log_softmax(const std::vector<float>& l) {
  const double mx = *std::max_element(l.begin(), l.end());
  double sum = 0;
  for (float x : l) sum += std::exp(double(x) - mx);
  const double lse = mx + std::log(sum);
  std::vector<double> out(l.size());
  for (size_t i = 0; i < l.size(); ++i) out[i] = double(l[i]) - lse;
  return out;
}

struct Quality {
  double top1 = 0;     // fraction of positions whose argmax agrees
  double mean_kl = 0;  // mean over positions of KL(dense || flash), nats
  double max_kl = 0;
  double predicted = 0;  // mean fraction of neurons the predictor chose (per layer, per token)
  int shrunk = 0, streamed = 0;  // tokens whose window shrank / that streamed neurons
};

Quality quality_of(const Logits& dense, const Logits& flash, const std::vector<TokenTelemetry>& tel,
                   int ffn_dim) {
  Quality q;
  for (size_t p = 0; p < dense.size(); ++p) {
    const auto a = std::max_element(dense[p].begin(), dense[p].end()) - dense[p].begin();
    const auto b = std::max_element(flash[p].begin(), flash[p].end()) - flash[p].begin();
    q.top1 += a == b;
    const std::vector<double> lp = log_softmax(dense[p]), lq = log_softmax(flash[p]);
    double kl = 0;
    for (size_t i = 0; i < lp.size(); ++i) kl += std::exp(lp[i]) * (lp[i] - lq[i]);
    q.mean_kl += kl;
    q.max_kl = std::max(q.max_kl, kl);
  }
  q.top1 /= double(dense.size());
  q.mean_kl /= double(dense.size());
  int64_t layers = 0;
  for (size_t p = 0; p < tel.size(); ++p) {
    const TokenTelemetry& t = tel[p];
    bool streamed = false;
    for (const LayerTelemetry& l : t.layers) {
      q.predicted += double(l.neurons_predicted) / ffn_dim;
      streamed = streamed || l.neurons_streamed > 0;
      ++layers;
    }
    q.shrunk += t.window_in_force < std::min(t.window_requested, int(p) + 1);  // p + 1 sets held
    q.streamed += streamed;
  }
  q.predicted /= double(std::max<int64_t>(layers, 1));
  return q;
}

void report(const char* what, const Quality& q, int positions) {
  qInfo(
      "%s: top-1 agreement %.3f, mean KL %.4f nats (max %.3f) over %d positions; predicted "
      "%.1f%% of neurons; window shrank on %d tokens, streamed on %d",
      what, q.top1, q.mean_kl, q.max_kl, positions, 100 * q.predicted, q.shrunk, q.streamed);
}

// FlashFfn in flash mode with the model's trained predictors, window 4.
FlashFfnOptions predictor_options() {
  FlashFfnOptions fo;
  fo.mode = FfnMode::Flash;
  fo.window = 4;
  return fo;
}

// DRAM outside the FFN for a context of `positions` with an F32 KV cache.
int64_t fixed_bytes_for(const FlashModel& fm, int positions) {
  Transformer probe(*fm.model, positions, nullptr, KvType::F32);
  int64_t fixed = fm.model->bytes().total() + probe.kv_cache_bytes_for(positions);
  for (const Predictor& p : fm.predictors) fixed += p.size_bytes();
  return fixed;
}

// Unlimited and tight budget through the trained predictors; returns {unlimited, tight}.
std::pair<Quality, Quality> measure(const FlashModel& fm, const Logits& dense,
                                    const std::vector<int>& tokens, int64_t tight_extra_rows) {
  const FlashFfnOptions fo = predictor_options();
  const int ffn_dim = fm.model->config.ffn_dim;
  std::vector<TokenTelemetry> tel;
  FlashFfn unlimited(fm, fo, 0, 0);
  const Quality q_unlimited =
      quality_of(dense, replay(*fm.model, &unlimited, tokens, &tel), tel, ffn_dim);
  const int64_t fixed = fixed_bytes_for(fm, static_cast<int>(tokens.size()));
  const int64_t minimum = FlashFfn(fm, fo, fixed, 0).minimum_budget_bytes();
  const int64_t tight = minimum + tight_extra_rows * fm.ffn.bundle_bytes * fm.ffn.n_layers;
  tel.clear();
  FlashFfn tight_ffn(fm, fo, fixed, tight);
  const Quality q_tight =
      quality_of(dense, replay(*fm.model, &tight_ffn, tokens, &tel), tel, ffn_dim);
  qInfo("tight budget: %lld bytes (minimum %lld + %lld rows per layer)",
        static_cast<long long>(tight), static_cast<long long>(minimum),
        static_cast<long long>(tight_extra_rows));
  return {q_unlimited, q_tight};
}

// The "predictors" object of manifest.json in the flash model directory `dir` (empty when the
// file cannot be read).
QJsonObject manifest_predictors(const std::string& dir) {
  QFile mf(QString::fromStdString(dir + "/manifest.json"));
  if (!mf.open(QIODevice::ReadOnly)) return {};
  return QJsonDocument::fromJson(mf.readAll()).object()["predictors"].toObject();
}

}  // namespace

class PredictorQualityTest : public QObject {
  Q_OBJECT

  QTemporaryDir tmp_;

 private slots:
  // Default model (ReLU): held-out positions calib_tokens.. (8192..) of calib/default.txt, 128
  // positions (the model's whole context). Measured: unlimited budget 0.930 top-1 agreement / mean KL 0.0147
  // nats; tight (minimum + 64 rows per layer: the window shrinks and neurons stream on every
  // token) 0.930 / 0.0160 (predictors of issue 11; before: 0.891 / 0.0135 and 0.852 / 0.0146).
  void default_model_trained_predictors_track_dense() {
    const std::string dir = resource_path_find("models/default");
    QVERIFY2(!dir.empty(), "resources/models/default is missing");
    std::unique_ptr<FlashModel> fm = flash_model_open(dir);
    const int calib = manifest_predictors(dir)["calib_tokens"].toInt();
    QVERIFY2(calib > 0, "manifest.json has no predictors.calib_tokens");
    const Tokenizer tok(fm->model->tokenizer);
    const int n = fm->model->config.max_seq_len;
    const std::vector<int> tokens = held_out_tokens(tok, calib, n);
    QVERIFY2(int(tokens.size()) == n, "calib/default.txt is too short for a held-out sequence");

    FlashFfnOptions dense_opt;
    dense_opt.mode = FfnMode::Dram;
    FlashFfn dense_ffn(*fm, dense_opt, 0, 0);
    const Logits dense = replay(*fm->model, &dense_ffn, tokens);
    const auto [unlimited, tight] = measure(*fm, dense, tokens, 64);
    report("default model, unlimited budget", unlimited, n);
    report("default model, tight budget", tight, n);
    // Bounds: the earlier predictors' measured values (top-1 0.891 / 0.852, mean KL 0.0135 /
    // 0.0146) with a margin of about 5 positions of 128 on top-1 and 2x on the KL.
    QVERIFY2(unlimited.top1 >= 0.85, qPrintable(QString::number(unlimited.top1)));
    QVERIFY2(unlimited.mean_kl <= 0.03, qPrintable(QString::number(unlimited.mean_kl)));
    QVERIFY2(tight.top1 >= 0.80, qPrintable(QString::number(tight.top1)));
    QVERIFY2(tight.mean_kl <= 0.03, qPrintable(QString::number(tight.mean_kl)));
    // The tight budget really constrained the cache; the predictor really is sparse.
    QVERIFY2(tight.shrunk > 0 || tight.streamed > 0, "the tight budget constrained nothing");
    QVERIFY(unlimited.predicted < 0.25);
  }

  // The shipped default model's predictors (issue 11's target): recall >= 0.9 and at most 2x
  // the truly active neurons predicted, in every layer - on the converter's held-out tokens (the
  // metrics manifest.json stores, measured on tokens that neither trained the predictor nor chose
  // its threshold) and live, through FlashFfn's predictor evaluation, on the 128 tokens of
  // calibration text that follow the calibration tokens. Measured: stored recall 0.905..0.931,
  // predicted/true 1.53..1.94x; live recall 0.854..0.912, predicted/true 1.47..2.02x.
  void default_model_predictors_meet_recall_and_ratio() {
    const std::string dir = resource_path_find("models/default");
    QVERIFY2(!dir.empty(), "resources/models/default is missing");
    std::unique_ptr<FlashModel> fm = flash_model_open(dir);
    const QJsonObject pred = manifest_predictors(dir);
    QVERIFY2(pred["metric_tokens"].toInt() >= 400, "too few held-out tokens behind the metrics");
    const int n_layers = fm->model->config.n_layers;
    QCOMPARE(int(fm->metrics.size()), n_layers);
    for (int l = 0; l < n_layers; ++l) {
      const PredictorMetrics& m = fm->metrics[l];
      const double ratio = m.predicted_active / m.true_active;
      qInfo("stored layer %d: rank %d recall %.3f precision %.3f predicted %.2f%% true %.2f%% "
            "predicted/true %.2fx",
            l, fm->predictors[l].rank, m.recall, m.precision, 100 * m.predicted_active,
            100 * m.true_active, ratio);
      QVERIFY2(m.true_active > 0, "no active neurons in the held-out tokens");
      QVERIFY2(m.recall >= 0.9, qPrintable(QString("layer %1 recall %2").arg(l).arg(m.recall)));
      QVERIFY2(ratio <= 2.0, qPrintable(QString("layer %1 predicted/true %2").arg(l).arg(ratio)));
    }

    const int calib = pred["calib_tokens"].toInt();
    const Tokenizer tok(fm->model->tokenizer);
    const int n = fm->model->config.max_seq_len;
    const std::vector<int> tokens = held_out_tokens(tok, calib, n);
    QVERIFY2(int(tokens.size()) == n, "calib/default.txt is too short for a held-out sequence");
    FlashFfnOptions fo = predictor_options();
    fo.evaluate_predictor = true;
    FlashFfn ffn(*fm, fo, 0, 0);
    std::vector<TokenTelemetry> tel;
    replay(*fm->model, &ffn, tokens, &tel);
    for (int l = 0; l < n_layers; ++l) {
      int64_t truly = 0, hit = 0, predicted = 0;
      for (const TokenTelemetry& t : tel) {
        truly += t.layers[l].true_active;
        hit += t.layers[l].true_positive;
        predicted += t.layers[l].neurons_predicted;
      }
      QVERIFY(truly > 0);
      const double recall = double(hit) / double(truly), ratio = double(predicted) / double(truly);
      qInfo("live layer %d (%d tokens): recall %.3f predicted/true %.2fx", l, n, recall, ratio);
      // 128 tokens are a small sample (layers 1-2: ~3-6 active neurons per token): bounds with a
      // margin of ~0.05 on recall and ~0.5 on the ratio below the measured values.
      QVERIFY2(recall >= 0.80, qPrintable(QString("layer %1 live recall %2").arg(l).arg(recall)));
      QVERIFY2(ratio <= 2.5, qPrintable(QString("layer %1 live ratio %2").arg(l).arg(ratio)));
    }
  }

  // stories260K (SwiGLU), converted here with predictors trained on the first 2048 tokens of the
  // calibration text (the converter's defaults otherwise); 256 held-out positions after them.
  // Measured with the default target recall 0.9 (~75% of the neurons predicted): unlimited
  // 0.922 top-1 / mean KL 0.083 nats; tight (minimum + 16 rows per layer: the window is cut to
  // one token, so only the predicted neurons are used, and the SwiGLU neurons it misses are not
  // zero) 0.617 / 0.673. (Balanced training without a target, ~50% predicted: 0.789 / 0.243 and
  // 0.387 / 1.54.)
  void stories260k_trained_predictors_track_dense() {
    const QString gguf = flashchat_test::fixture_path("models/stories260K/stories260K.gguf");
    REQUIRE_FIXTURE(gguf);
    std::unique_ptr<Model> dense_model = model_load(gguf.toStdString());
    const std::string dir = tmp_.filePath("s260").toStdString();
    ConvertOptions co;
    co.calib_tokens = 2048;
    const ConvertReport rep = flash_convert(gguf.toStdString(), dir, co);
    QCOMPARE(rep.calib_tokens, 2048);
    std::unique_ptr<FlashModel> fm = flash_model_open(dir);
    QCOMPARE(int(fm->predictors.size()), fm->model->config.n_layers);
    const Tokenizer tok(dense_model->tokenizer);
    const int n = 256;
    const std::vector<int> tokens = held_out_tokens(tok, rep.calib_tokens, n);
    QVERIFY2(int(tokens.size()) == n, "calib/default.txt is too short for a held-out sequence");

    const Logits dense = replay(*dense_model, nullptr, tokens);
    const auto [unlimited, tight] = measure(*fm, dense, tokens, 16);
    report("stories260K, unlimited budget", unlimited, n);
    report("stories260K, tight budget", tight, n);
    // Bounds: the balanced predictors' measured values with a margin of ~8% on top-1 and ~1.6x
    // on the KL.
    QVERIFY2(unlimited.top1 >= 0.72, qPrintable(QString::number(unlimited.top1)));
    QVERIFY2(unlimited.mean_kl <= 0.4, qPrintable(QString::number(unlimited.mean_kl)));
    QVERIFY2(tight.top1 >= 0.30, qPrintable(QString::number(tight.top1)));
    QVERIFY2(tight.mean_kl <= 2.5, qPrintable(QString::number(tight.mean_kl)));
    QVERIFY2(tight.shrunk > 0 || tight.streamed > 0, "the tight budget constrained nothing");
  }
};

QTEST_GUILESS_MAIN(PredictorQualityTest)
#include "predictor_quality_test.moc"
