// predictor_fit_test.cc - fitting one layer's predictor on synthetic data of a known structure
// (an exact low-rank threshold function is learnt), the held-out threshold that moves the
// decision point down or up to a target recall, the per-layer rank rule, and per-layer ranks
// through the converter's files and back.

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "convert/flash_convert.h"
#include "convert/predictor_fit.h"
#include "convert/predictor_train.h"
#include "core/error.h"
#include "flash/flash_model.h"
#include "flash/predictor.h"
#include "test_support.h"

using namespace flashchat;

namespace {

// Rows x (rows, dim) and labels of a known structure: neuron i of row r is active when
// (B A u)_i + bias_i + noise > 0, u standard normal, x = offset + scale * u per dimension
// (uneven scales and offsets), bias from rarely to almost always active, noise ~ N(0, noise_std).
struct SyntheticLayer {
  int dim = 0, neurons = 0, true_rank = 0;
  std::vector<float> a, b, bias;      // the true factors (on u) and biases
  std::vector<float> x;               // (rows, dim)
  std::vector<uint8_t> labels;        // (rows, neurons)
  std::vector<float> u;               // (rows, dim) the latents
};

SyntheticLayer synthetic_layer(int dim, int neurons, int true_rank, int64_t rows, float noise_std,
                               uint64_t seed, bool raw_x = false) {
  SyntheticLayer s;
  s.dim = dim;
  s.neurons = neurons;
  s.true_rank = true_rank;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  s.a.resize(static_cast<size_t>(true_rank) * dim);
  s.b.resize(static_cast<size_t>(neurons) * true_rank);
  s.bias.resize(static_cast<size_t>(neurons));
  std::vector<float> scale(dim), offset(dim);
  for (float& v : s.a) v = normal(rng) / std::sqrt(static_cast<float>(dim));
  for (float& v : s.b) v = normal(rng);
  for (float& v : s.bias) v = 2.0f * normal(rng);  // from rarely to almost always active
  for (int j = 0; j < dim; ++j) {
    scale[j] = raw_x ? 1.0f : std::exp(1.5f * normal(rng));
    offset[j] = raw_x ? 0.0f : 2.0f * normal(rng);
  }
  s.x.resize(static_cast<size_t>(rows) * dim);
  s.u.resize(static_cast<size_t>(rows) * dim);
  s.labels.resize(static_cast<size_t>(rows) * neurons);
  std::vector<float> h(static_cast<size_t>(true_rank));
  for (int64_t r = 0; r < rows; ++r) {
    float* xr = &s.x[static_cast<size_t>(r) * dim];
    float* ur = &s.u[static_cast<size_t>(r) * dim];
    for (int j = 0; j < dim; ++j) {
      ur[j] = normal(rng);
      xr[j] = offset[j] + scale[j] * ur[j];
    }
    for (int k = 0; k < true_rank; ++k) {
      h[k] = 0.0f;
      for (int j = 0; j < dim; ++j) h[k] += s.a[static_cast<size_t>(k) * dim + j] * ur[j];
    }
    for (int i = 0; i < neurons; ++i) {
      float z = s.bias[i] + noise_std * normal(rng);
      for (int k = 0; k < true_rank; ++k) z += s.b[static_cast<size_t>(i) * true_rank + k] * h[k];
      s.labels[static_cast<size_t>(r) * neurons + i] = z > 0 ? 1 : 0;
    }
  }
  return s;
}

}  // namespace

class PredictorFitTest : public QObject {
  Q_OBJECT

 private slots:
  // Labels that are exactly a rank-4 linear threshold function of x (with uneven per-dimension
  // scales and offsets and uneven neuron activity) must be learnt almost perfectly.
  void learns_synthetic_low_rank_threshold() {
    const int dim = 48, neurons = 96;
    const int64_t rows = 8000;
    const SyntheticLayer data = synthetic_layer(dim, neurons, 4, rows, 0.0f, 2024);
    const std::vector<float>& x = data.x;
    const std::vector<uint8_t>& labels = data.labels;
    PredictorTrainOptions options;
    options.rank = 8;
    options.steps = 1000;
    options.holdout_fraction = 0.2f;
    options.target_recall = 0.0f;  // the trained posterior's own operating point (z > 0)
    options.seed = 5;
    PredictorMetrics m;
    QElapsedTimer timer;
    timer.start();
    const Predictor p =
        predictor_train_layer(x.data(), labels.data(), rows, dim, neurons, 8, options, &m);
    qInfo(
        "synthetic rank-4 problem (rank 8, %lld rows, %lld ms): recall %.4f precision %.4f "
        "predicted %.4f true %.4f",
        static_cast<long long>(rows), static_cast<long long>(timer.elapsed()), m.recall,
        m.precision, m.predicted_active, m.true_active);
    QCOMPARE(p.rank, 8);
    QCOMPARE(p.a.size(), size_t{8 * dim});
    QCOMPARE(p.b.size(), size_t{neurons * 8});
    QCOMPARE(p.bias.size(), size_t{neurons});
    QVERIFY(m.true_active > 0.2 && m.true_active < 0.8);
    QVERIFY2(m.recall >= 0.95, qPrintable(QString::number(m.recall)));
    QVERIFY2(m.precision >= 0.9, qPrintable(QString::number(m.precision)));

    // The reported metrics are those of predictor_predict on the second half of the held-out
    // rows (the first half chooses the threshold).
    const int64_t n_held = std::llround(0.2 * rows);
    const int64_t first_held = rows - (n_held - n_held / 2);
    int64_t tp = 0, fn = 0, fp = 0;
    std::vector<int32_t> active;
    std::vector<float> scratch;
    for (int64_t r = first_held; r < rows; ++r) {
      predictor_predict(p, &x[static_cast<size_t>(r) * dim], active, scratch);
      std::vector<uint8_t> predicted(neurons, 0);
      for (int32_t i : active) predicted[i] = 1;
      for (int i = 0; i < neurons; ++i) {
        const bool truly = labels[static_cast<size_t>(r) * neurons + i];
        tp += truly && predicted[i];
        fn += truly && !predicted[i];
        fp += !truly && predicted[i];
      }
    }
    QVERIFY(std::fabs(double(tp) / double(tp + fn) - m.recall) < 1e-3);
    QVERIFY(std::fabs(double(tp) / double(tp + fp) - m.precision) < 1e-3);

    // Rank is clamped to min(dim, neurons); bad sizes and options are errors.
    options.steps = 1;
    QCOMPARE(predictor_train_layer(x.data(), labels.data(), rows, dim, neurons, 1000, options).rank,
             dim);
    QVERIFY_THROWS_EXCEPTION(
        Error, predictor_train_layer(x.data(), labels.data(), 0, dim, neurons, 8, options));
    options.holdout_fraction = 1.0f;
    QVERIFY_THROWS_EXCEPTION(
        Error, predictor_train_layer(x.data(), labels.data(), rows, dim, neurons, 8, options));
    options.holdout_fraction = 0.2f;
    options.steps = 0;
    QVERIFY_THROWS_EXCEPTION(
        Error, predictor_train_layer(x.data(), labels.data(), rows, dim, neurons, 8, options));
  }

  // The held-out threshold moves the decision point to the target recall from either side: a
  // predictor with the true factors but biases offset by +2 (predicts far too many neurons) gets
  // a negative shift, one offset by -2 (misses many) a positive one; both then reach the target
  // on the rows it was chosen on and, within sampling noise, on other rows of the same data.
  void threshold_selection_moves_down_and_up() {
    const int dim = 32, neurons = 64, rank = 4;
    const int64_t rows = 6000, half = rows / 2;
    const SyntheticLayer d = synthetic_layer(dim, neurons, rank, rows, 1.0f, 99, true);
    for (const float offset : {2.0f, -2.0f}) {
      Predictor p;
      p.rank = rank;
      p.dim = dim;
      p.neurons = neurons;
      predictor_store_f16(p, d.a.data(), d.b.data());
      p.bias = d.bias;
      for (float& v : p.bias) v += offset;
      const std::vector<float> before_bias = p.bias;
      const PredictorMetrics before =
          predictor_evaluate(p, d.x.data(), d.labels.data(), half, rows);
      const float target = 0.9f;
      const float shift =
          predictor_threshold_select(p, d.x.data(), d.labels.data(), 0, half, target);
      const PredictorMetrics chosen_on = predictor_evaluate(p, d.x.data(), d.labels.data(), 0, half);
      const PredictorMetrics other = predictor_evaluate(p, d.x.data(), d.labels.data(), half, rows);
      qInfo("bias offset %+.0f: recall %.3f predicted %.3f -> shift %+.3f: recall %.3f (chosen "
            "on) %.3f (other rows), predicted %.3f, true %.3f",
            offset, before.recall, before.predicted_active, shift, chosen_on.recall, other.recall,
            other.predicted_active, other.true_active);
      for (int i = 0; i < neurons; ++i) QVERIFY(std::fabs(p.bias[i] - before_bias[i] - shift) < 1e-4f);
      if (offset > 0) {
        QVERIFY2(before.recall > 0.95, qPrintable(QString::number(before.recall)));
        QVERIFY(shift < 0.0f);
        QVERIFY(other.predicted_active < before.predicted_active);
      } else {
        QVERIFY2(before.recall < 0.8, qPrintable(QString::number(before.recall)));
        QVERIFY(shift > 0.0f);
        QVERIFY(other.predicted_active > before.predicted_active);
      }
      // At least the target where chosen, and not much more (a recall of 0.9 is one threshold).
      QVERIFY2(chosen_on.recall >= target && chosen_on.recall < target + 0.005,
               qPrintable(QString::number(chosen_on.recall)));
      QVERIFY2(std::fabs(other.recall - target) < 0.02, qPrintable(QString::number(other.recall)));
    }

    // End to end through training (labels with noise, so the posterior's 0.5 point has a recall
    // well below 1): targets above and below it move the bias up and down and are met on the
    // reported held-out rows, which did not choose the threshold.
    const SyntheticLayer t = synthetic_layer(48, 96, 4, 8000, 1.0f, 7);
    PredictorTrainOptions options;
    options.steps = 600;
    options.seed = 3;
    options.target_recall = 0.0f;
    PredictorMetrics m0, m_up, m_down;
    float shift0 = 1.0f, shift_up = 0.0f, shift_down = 0.0f;
    predictor_train_layer(t.x.data(), t.labels.data(), 8000, 48, 96, 8, options, &m0, &shift0);
    options.target_recall = 0.97f;
    predictor_train_layer(t.x.data(), t.labels.data(), 8000, 48, 96, 8, options, &m_up, &shift_up);
    options.target_recall = 0.6f;
    predictor_train_layer(t.x.data(), t.labels.data(), 8000, 48, 96, 8, options, &m_down,
                          &shift_down);
    qInfo("trained: no target recall %.3f predicted %.3f; 0.97: shift %+.3f recall %.3f predicted "
          "%.3f; 0.6: shift %+.3f recall %.3f predicted %.3f",
          m0.recall, m0.predicted_active, shift_up, m_up.recall, m_up.predicted_active, shift_down,
          m_down.recall, m_down.predicted_active);
    QCOMPARE(shift0, 0.0f);
    QVERIFY2(m0.recall > 0.7 && m0.recall < 0.95, qPrintable(QString::number(m0.recall)));
    QVERIFY(shift_up > 0.0f);
    QVERIFY(shift_down < 0.0f);
    QVERIFY2(std::fabs(m_up.recall - 0.97) < 0.015, qPrintable(QString::number(m_up.recall)));
    QVERIFY2(std::fabs(m_down.recall - 0.6) < 0.03, qPrintable(QString::number(m_down.recall)));
    QVERIFY(m_up.predicted_active > m0.predicted_active);
    QVERIFY(m_down.predicted_active < m0.predicted_active);
  }

  // The rank rule: rank for most layers, 4x rank for the last quarter (rounded up), all capped by
  // min(dim, neurons); explicit per-layer ranks win.
  void rank_per_layer_rule() {
    PredictorTrainOptions o;  // rank 128, last layers 4x, last quarter
    for (int l = 0; l < 32; ++l) {
      QCOMPARE(predictor_rank_for_layer(o, l, 32, 4096), l >= 24 ? 512 : 128);
      QCOMPARE(predictor_rank_for_layer(o, l, 32, 256), l >= 24 ? 256 : 128);
    }
    QCOMPARE(predictor_rank_for_layer(o, 3, 5, 4096), 512);  // ceil(5 / 4) = 2 last layers
    QCOMPARE(predictor_rank_for_layer(o, 2, 5, 4096), 128);
    o.rank_last_layers = 0;
    QCOMPARE(predictor_rank_for_layer(o, 31, 32, 4096), 128);
    o.rank_last_layers = 300;
    o.n_last_layers = 1;
    QCOMPARE(predictor_rank_for_layer(o, 30, 32, 4096), 128);
    QCOMPARE(predictor_rank_for_layer(o, 31, 32, 4096), 300);
    o.layer_ranks = {5, 9000};
    QCOMPARE(predictor_rank_for_layer(o, 0, 2, 64), 5);
    QCOMPARE(predictor_rank_for_layer(o, 1, 2, 64), 64);
  }

  // Per-layer ranks go through the converter into predictors.safetensors and manifest.json and
  // come back on load (shapes, sizes from the manifest alone), with the held-out metrics, the
  // threshold shifts and the default rule (tiny_opt: 2 layers, the last one 4x).
  void per_layer_ranks_round_trip_through_the_file() {
    QTemporaryDir tmp;
    const std::string input = flashchat_test::test_data_path("tiny_opt").toStdString();
    for (const std::vector<int>& ranks : {std::vector<int>{3, 7}, std::vector<int>{}}) {
      const std::string dir = tmp.filePath(ranks.empty() ? "rule" : "list").toStdString();
      ConvertOptions o;
      o.calib_tokens = 400;
      o.predictor.rank = 4;
      o.predictor.layer_ranks = ranks;
      o.predictor.steps = 20;
      const ConvertReport rep = flash_convert(input, dir, o);
      const std::vector<int> want = ranks.empty() ? std::vector<int>{4, 16} : ranks;
      QCOMPARE(rep.ranks, want);
      std::unique_ptr<FlashModel> fm = flash_model_open(dir);
      QCOMPARE(fm->predictors.size(), want.size());
      int64_t bytes = 0;
      for (size_t l = 0; l < want.size(); ++l) {
        const Predictor& p = fm->predictors[l];
        QCOMPARE(p.rank, want[l]);
        QCOMPARE(p.a.size(), static_cast<size_t>(want[l]) * p.dim);
        QCOMPARE(p.b.size(), static_cast<size_t>(want[l]) * p.neurons);
        QCOMPARE(fm->metrics[l].recall, rep.metrics[l].recall);
        QCOMPARE(fm->metrics[l].predicted_active, rep.metrics[l].predicted_active);
        bytes += p.size_bytes();
      }
      QCOMPARE(flash_model_sizes(dir).predictor_bytes, bytes);
      QFile mf(QString::fromStdString(dir + "/manifest.json"));
      QVERIFY(mf.open(QIODevice::ReadOnly));
      const QJsonObject pred = QJsonDocument::fromJson(mf.readAll()).object()["predictors"].toObject();
      QCOMPARE(pred["ranks"].toArray().size(), int(want.size()));
      QCOMPARE(pred["bias_shifts"].toArray().size(), int(want.size()));
      QCOMPARE(pred["metric_tokens"].toInt(), int(rep.metric_tokens));
      QVERIFY(rep.metric_tokens > 0 && rep.metric_tokens < 400);
      for (size_t l = 0; l < want.size(); ++l) {
        QCOMPARE(float(pred["bias_shifts"].toArray()[int(l)].toDouble()), rep.bias_shifts[l]);
      }
    }
  }
};

QTEST_GUILESS_MAIN(PredictorFitTest)
#include "predictor_fit_test.moc"
