// bundle_ffn_test.cc - bundle_ffn_compute against DenseFfn on tiny random models: over all
// neurons it equals the dense FFN (minus the down bias), over a subset it equals the dense sum
// restricted to that subset; gated (SiLU, ReLU, dReLU) and ungated (OPT ReLU with fc1 bias, GELU),
// F32/F16/BF16, serial and parallel sizes, rows in any order.
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "core/error.h"
#include "flash/flash_model.h"
#include "formats/dtype.h"
#include "model/model.h"
#include "model/transformer.h"
#include "runtime/bundle_ffn.h"

using namespace flashchat;

namespace {

// A one-layer model holding only an FFN, its weights stored in `dtype`, plus the same FFN as
// neuron bundles.
struct TinyFfn {
  Model model;
  FlashLayout layout;
  std::vector<uint8_t> gate, up, down;  // stored dtype
  std::vector<float> up_bias, down_bias;
  std::vector<uint8_t> bundles;         // neurons x bundle_bytes
  std::vector<double> down_f;           // (dim, n) as stored, in double

  int64_t elem() const { return dtype_bytes_for(layout.dtype, 1); }
};

void store_value(DType t, float v, uint8_t* dst) {
  if (t == DType::F32) {
    std::memcpy(dst, &v, 4);
  } else {
    const uint16_t h = t == DType::F16 ? fp32_to_fp16(v) : fp32_to_bf16(v);
    std::memcpy(dst, &h, 2);
  }
}

double load_value(DType t, const uint8_t* src) {
  if (t == DType::F32) {
    float v;
    std::memcpy(&v, src, 4);
    return v;
  }
  uint16_t h;
  std::memcpy(&h, src, 2);
  return t == DType::F16 ? fp16_to_fp32(h) : bf16_to_fp32(h);
}

void build(TinyFfn& f, DType dtype, bool gated, Activation act, int dim, int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  ModelConfig& c = f.model.config;
  c.arch = gated ? Arch::Llama : Arch::Opt;
  c.dim = dim;
  c.ffn_dim = n;
  c.n_layers = 1;
  c.activation = act;
  c.ffn_gated = gated;
  c.has_biases = !gated;
  const int64_t e = dtype_bytes_for(dtype, 1);
  const float scale = 1.0f / std::sqrt(static_cast<float>(dim));
  auto fill = [&](std::vector<uint8_t>& w, int64_t count) {
    w.resize(static_cast<size_t>(count * e));
    for (int64_t i = 0; i < count; ++i) store_value(dtype, nd(rng) * scale, w.data() + i * e);
  };
  if (gated) fill(f.gate, int64_t{n} * dim);
  fill(f.up, int64_t{n} * dim);
  fill(f.down, int64_t{dim} * n);
  LayerWeights L;
  auto tensor = [&](const std::vector<uint8_t>& w, int64_t rows, int64_t cols) {
    return Tensor{dtype, rows, cols, w.data()};
  };
  if (gated) L.ffn_gate = tensor(f.gate, n, dim);
  L.ffn_up = tensor(f.up, n, dim);
  L.ffn_down = tensor(f.down, dim, n);
  if (!gated) {
    f.up_bias.resize(static_cast<size_t>(n));
    f.down_bias.resize(static_cast<size_t>(dim));
    for (auto& b : f.up_bias) b = 0.3f * nd(rng);
    for (auto& b : f.down_bias) b = 0.3f * nd(rng);
    L.ffn_up_bias = Tensor{DType::F32, 1, n, f.up_bias.data()};
    L.ffn_down_bias = Tensor{DType::F32, 1, dim, f.down_bias.data()};
  }
  f.model.weights.layers.push_back(L);

  FlashLayout& lay = f.layout;
  lay.dtype = dtype;
  lay.dim = dim;
  lay.neurons = n;
  lay.n_layers = 1;
  lay.gated = gated;
  lay.bundle_bytes = (gated ? 3 : 2) * dtype_bytes_for(dtype, dim);
  lay.layer_offsets = {0};
  lay.size_bytes = static_cast<uint64_t>(lay.bundle_bytes) * n;
  f.bundles.assign(lay.size_bytes, 0);
  f.down_f.resize(static_cast<size_t>(dim) * n);
  for (int i = 0; i < n; ++i) {
    uint8_t* b = f.bundles.data() + int64_t{i} * lay.bundle_bytes;
    if (gated) std::memcpy(b + lay.gate_offset(), f.gate.data() + int64_t{i} * dim * e, dim * e);
    std::memcpy(b + lay.up_offset(), f.up.data() + int64_t{i} * dim * e, dim * e);
    for (int r = 0; r < dim; ++r) {  // down column i
      const uint8_t* src = f.down.data() + (int64_t{r} * n + i) * e;
      std::memcpy(b + lay.down_offset() + int64_t{r} * e, src, e);
      f.down_f[static_cast<size_t>(r) * n + i] = load_value(dtype, src);
    }
  }
}

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, std::fabs(static_cast<double>(x)));
  return m;
}

}  // namespace

class BundleFfnTest : public QObject {
  Q_OBJECT

 private slots:
  void matches_dense_data() {
    QTest::addColumn<int>("dtype");
    QTest::addColumn<bool>("gated");
    QTest::addColumn<int>("act");
    QTest::addColumn<int>("dim");
    QTest::addColumn<int>("n");
    const std::pair<const char*, DType> types[] = {
        {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}};
    for (const auto& [tn, t] : types) {
      for (const auto& [dim, n] : {std::pair{70, 150}, std::pair{256, 700}}) {
        const QString sz = QString(" d%1 n%2").arg(dim).arg(n);
        QTest::newRow(qPrintable(QString("%1 silu").arg(tn) + sz))
            << int(t) << true << int(Activation::Silu) << dim << n;
        QTest::newRow(qPrintable(QString("%1 relu gated").arg(tn) + sz))
            << int(t) << true << int(Activation::Relu) << dim << n;
        QTest::newRow(qPrintable(QString("%1 drelu").arg(tn) + sz))
            << int(t) << true << int(Activation::DRelu) << dim << n;
        QTest::newRow(qPrintable(QString("%1 opt relu").arg(tn) + sz))
            << int(t) << false << int(Activation::Relu) << dim << n;
        QTest::newRow(qPrintable(QString("%1 gelu ungated").arg(tn) + sz))
            << int(t) << false << int(Activation::Gelu) << dim << n;
      }
    }
  }

  void matches_dense() {
    QFETCH(int, dtype);
    QFETCH(bool, gated);
    QFETCH(int, act);
    QFETCH(int, dim);
    QFETCH(int, n);
    TinyFfn f;
    build(f, static_cast<DType>(dtype), gated, static_cast<Activation>(act), dim, n,
          static_cast<uint32_t>(dtype * 100 + act * 10 + gated + dim));
    std::mt19937 rng(99);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> x(static_cast<size_t>(dim));
    for (auto& v : x) v = nd(rng);

    DenseFfn dense(f.model);
    std::vector<float> ref(static_cast<size_t>(dim));
    dense.ffn_forward(0, x.data(), ref.data());
    const std::vector<float> hidden = dense.last_hidden();
    if (!gated) {  // bundle_ffn_compute leaves the fc2 bias to the caller
      for (int i = 0; i < dim; ++i) ref[static_cast<size_t>(i)] -= f.down_bias[static_cast<size_t>(i)];
    }
    const float* up_bias = gated ? nullptr : f.up_bias.data();

    // All neurons, in order; out starts non-zero to check accumulation.
    std::vector<int32_t> ids(static_cast<size_t>(n));
    std::iota(ids.begin(), ids.end(), 0);
    std::vector<float> out(static_cast<size_t>(dim), 1.0f), row_hidden(static_cast<size_t>(n));
    BundleFfnStats stats;
    bundle_ffn_compute(f.layout, f.model.config, f.bundles.data(), n, ids.data(), up_bias,
                       x.data(), out.data(), row_hidden.data(), &stats);
    const double tol = 1e-5 * std::max(1.0, max_abs(ref));
    for (int i = 0; i < dim; ++i) {
      QVERIFY2(std::fabs(out[static_cast<size_t>(i)] - 1.0 - ref[static_cast<size_t>(i)]) <= tol,
               qPrintable(QString("out[%1] = %2, dense %3").arg(i).arg(out[i] - 1.0).arg(ref[i])));
    }
    int32_t nonzero = 0;
    for (int i = 0; i < n; ++i) {
      const float h = hidden[static_cast<size_t>(i)];
      QVERIFY(std::fabs(row_hidden[static_cast<size_t>(i)] - h) <= 1e-5 * std::max(1.0f, std::fabs(h)));
      nonzero += row_hidden[static_cast<size_t>(i)] != 0.0f;
    }
    QCOMPARE(stats.rows, n);
    QCOMPARE(stats.rows_active, nonzero);

    // A shuffled subset gathered into contiguous rows (as a cache holds them) equals the dense
    // sum over that subset, computed in double from the dense hidden values.
    std::vector<int32_t> subset;
    for (int i = 0; i < n; ++i) {
      if (rng() % 3 == 0) subset.push_back(i);
    }
    std::shuffle(subset.begin(), subset.end(), rng);
    std::vector<uint8_t> rows(subset.size() * static_cast<size_t>(f.layout.bundle_bytes));
    for (size_t r = 0; r < subset.size(); ++r) {
      std::memcpy(rows.data() + r * f.layout.bundle_bytes,
                  f.bundles.data() + int64_t{subset[r]} * f.layout.bundle_bytes,
                  static_cast<size_t>(f.layout.bundle_bytes));
    }
    std::vector<double> want(static_cast<size_t>(dim), 0.0);
    for (int32_t i : subset) {
      for (int r = 0; r < dim; ++r) {
        want[static_cast<size_t>(r)] += hidden[static_cast<size_t>(i)] * f.down_f[static_cast<size_t>(r) * n + i];
      }
    }
    std::vector<float> sub_out(static_cast<size_t>(dim), 0.0f);
    bundle_ffn_compute(f.layout, f.model.config, rows.data(), static_cast<int32_t>(subset.size()),
                       subset.data(), up_bias, x.data(), sub_out.data());
    double want_max = 0;
    for (double w : want) want_max = std::max(want_max, std::fabs(w));
    for (int r = 0; r < dim; ++r) {
      QVERIFY2(std::fabs(sub_out[static_cast<size_t>(r)] - want[static_cast<size_t>(r)]) <=
                   1e-5 * std::max(1.0, want_max),
               qPrintable(QString("subset out[%1] = %2, want %3").arg(r).arg(sub_out[r]).arg(want[r])));
    }
    // Selecting the same rows in place (no gather) gives the same bits, and the hidden values.
    std::vector<float> sel_out(static_cast<size_t>(dim), 0.0f), sel_h(subset.size());
    BundleFfnStats sel_stats;
    bundle_ffn_compute_selected(f.layout, f.model.config, f.bundles.data(), n, ids.data(),
                                subset.data(), static_cast<int32_t>(subset.size()), up_bias,
                                x.data(), sel_out.data(), sel_h.data(), &sel_stats);
    QVERIFY(std::memcmp(sel_out.data(), sub_out.data(), sel_out.size() * sizeof(float)) == 0);
    QCOMPARE(sel_stats.rows, static_cast<int32_t>(subset.size()));
    for (size_t k = 0; k < subset.size(); ++k) {
      QCOMPARE(sel_h[k], row_hidden[static_cast<size_t>(subset[k])]);
    }
    // Deterministic: the same call twice gives the same bits.
    std::vector<float> again(static_cast<size_t>(dim), 0.0f);
    bundle_ffn_compute(f.layout, f.model.config, rows.data(), static_cast<int32_t>(subset.size()),
                       subset.data(), up_bias, x.data(), again.data());
    QVERIFY(std::memcmp(again.data(), sub_out.data(), again.size() * sizeof(float)) == 0);
  }

  void empty_and_invalid() {
    TinyFfn f;
    build(f, DType::F16, true, Activation::Silu, 16, 8, 1);
    std::vector<float> x(16, 1.0f), out(16, 2.0f);
    BundleFfnStats stats{5, 5};
    bundle_ffn_compute(f.layout, f.model.config, nullptr, 0, nullptr, nullptr, x.data(), out.data(),
                       nullptr, &stats);
    QCOMPARE(out[0], 2.0f);  // nothing added
    QCOMPARE(stats.rows, 0);
    const int32_t bad_id = 8;
    QVERIFY_THROWS_EXCEPTION(Error, bundle_ffn_compute(f.layout, f.model.config, f.bundles.data(), 1,
                                                       &bad_id, nullptr, x.data(), out.data()));
    ModelConfig other = f.model.config;
    other.dim = 17;
    const int32_t id = 0;
    QVERIFY_THROWS_EXCEPTION(Error, bundle_ffn_compute(f.layout, other, f.bundles.data(), 1, &id,
                                                       nullptr, x.data(), out.data()));
    const int32_t bad_row = 8;
    QVERIFY_THROWS_EXCEPTION(Error, bundle_ffn_compute_selected(f.layout, f.model.config,
                                                                f.bundles.data(), 8, &id, &bad_row,
                                                                1, nullptr, x.data(), out.data()));
    other = f.model.config;
    other.ffn_gated = false;
    QVERIFY_THROWS_EXCEPTION(Error, bundle_ffn_compute(f.layout, other, f.bundles.data(), 1, &id,
                                                       nullptr, x.data(), out.data()));
  }
};

QTEST_GUILESS_MAIN(BundleFfnTest)
#include "bundle_ffn_test.moc"
