// quant_test.cc - the block-quantised GGUF types against an independent reference:
//   - every type's dequantisation (dtype_to_fp32, dtype_block_to_fp32, to F16) equals, bit for
//     bit, the values tools/make_quant_gguf.py computes in pure Python from the formats'
//     definitions, on blocks it writes (random contents from two seeds, all-zero, all-ones);
//   - matvec / matvec_rows / dot_row / axpy_row on quantised rows equal dequantise-then-double
//     dot within 1e-5 of sum |w x| (fp32 accumulation in a different order);
//   - the Q8_0 / Q4_0 quantisers stay within their rounding bounds and hit exact grids exactly;
//   - a tiny Llama GGUF of K-quant matrices (written by the tool) loads with its matrices kept
//     quantised, pointing into the file, and its logits equal those of the same model with the
//     matrices dequantised to F32 (within 1e-4 relative).
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "compute/matvec.h"
#include "formats/dtype.h"
#include "formats/gguf.h"
#include "model/model.h"
#include "model/transformer.h"
#include "test_support.h"

using namespace flashchat;

namespace {

std::string lower(const char* s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// Random blocks of type t (rows x cols), every half-precision field a finite random scale:
// bytes at random, then each block's scale fields overwritten (their offsets per type).
std::vector<uint8_t> random_quant(DType t, int64_t rows, int64_t cols, std::mt19937& rng) {
  std::vector<uint8_t> data(static_cast<size_t>(dtype_bytes_for(t, rows * cols)));
  for (uint8_t& b : data) b = static_cast<uint8_t>(rng());
  std::vector<int> halves;
  switch (t) {
    case DType::Q4_1: case DType::Q5_1: case DType::Q4_K: case DType::Q5_K: halves = {0, 2}; break;
    case DType::Q2_K: halves = {80, 82}; break;
    case DType::Q3_K: halves = {108}; break;
    case DType::Q6_K: halves = {208}; break;
    default: halves = {0}; break;
  }
  std::uniform_real_distribution<float> scale(-0.05f, 0.05f);
  const int64_t bb = dtype_block_bytes(t);
  for (size_t b = 0; b < data.size(); b += static_cast<size_t>(bb)) {
    for (int off : halves) {
      const uint16_t h = fp32_to_fp16(scale(rng));
      std::memcpy(&data[b + static_cast<size_t>(off)], &h, 2);
    }
  }
  return data;
}

bool close(double got, double want, double scale) {
  return std::fabs(got - want) <= 1e-5 * scale + 1e-7;
}

}  // namespace

class QuantTest : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;

  void check_reference_file(const QString& path) {
    const GgufFile f = GgufFile::open(path.toStdString());
    int types = 0;
    for (DType t : kAllDTypes) {
      if (!dtype_is_quantized(t)) continue;
      const std::string base = lower(dtype_name(t));
      const GgufTensorInfo* w = f.find_tensor(base + ".weight");
      const GgufTensorInfo* e = f.find_tensor(base + ".expected");
      QVERIFY2(w && e, base.c_str());
      QCOMPARE(int(w->dtype), int(t));  // the ggml type id maps to this dtype
      const int64_t n = w->n_elements();
      QCOMPARE(e->n_elements(), n);
      std::vector<float> got(static_cast<size_t>(n)), want(static_cast<size_t>(n)), block(256);
      std::memcpy(want.data(), f.tensor_data(*e), size_t(n) * 4);
      dtype_to_fp32(t, f.tensor_data(*w), got.data(), n);
      int distinct = 0;
      for (int64_t i = 0; i < n; ++i) {
        QVERIFY2(bits(got[size_t(i)]) == bits(want[size_t(i)]),
                 qPrintable(QString("%1 element %2: %3, reference %4")
                                .arg(base.c_str()).arg(i).arg(got[size_t(i)], 0, 'g', 9)
                                .arg(want[size_t(i)], 0, 'g', 9)));
        distinct += i > 0 && want[size_t(i)] != want[size_t(i - 1)];
      }
      QVERIFY2(distinct > n / 4, base.c_str());  // random contents, not a constant
      // Block by block, and to half precision.
      const int64_t be = dtype_block_elems(t);
      for (int64_t b = 0; b < n / be; ++b) {
        dtype_block_to_fp32(t, f.tensor_data(*w) + b * dtype_block_bytes(t), block.data());
        for (int64_t i = 0; i < be; ++i) QCOMPARE(bits(block[size_t(i)]), bits(want[size_t(b * be + i)]));
      }
      std::vector<uint16_t> h(static_cast<size_t>(n));
      dtype_dequantize_to_f16(t, f.tensor_data(*w), h.data(), n);
      for (int64_t i = 0; i < n; ++i) QCOMPARE(h[size_t(i)], fp32_to_fp16(want[size_t(i)]));
      ++types;
    }
    QCOMPARE(types, 10);
  }

 private slots:
  void initTestCase() { QVERIFY(tmp_.isValid()); }

  void names_sizes_and_ggml_ids() {
    const struct { DType t; const char* name; int64_t elems, bytes; } want[] = {
        {DType::Q4_1, "Q4_1", 32, 20},   {DType::Q5_0, "Q5_0", 32, 22},   {DType::Q5_1, "Q5_1", 32, 24},
        {DType::Q2_K, "Q2_K", 256, 84},  {DType::Q3_K, "Q3_K", 256, 110}, {DType::Q4_K, "Q4_K", 256, 144},
        {DType::Q5_K, "Q5_K", 256, 176}, {DType::Q6_K, "Q6_K", 256, 210}};
    for (const auto& w : want) {
      QCOMPARE(QString(dtype_name(w.t)), QString(w.name));
      QCOMPARE(dtype_block_elems(w.t), w.elems);
      QCOMPARE(dtype_block_bytes(w.t), w.bytes);
      DType back;
      QVERIFY(dtype_from_name(w.name, &back));
      QCOMPARE(int(back), int(w.t));
    }
    DType none;
    QVERIFY(!dtype_from_name("Q8_K", &none));
  }

  void dequantization_equals_independent_reference() {
    for (const char* seed : {"14", "7"}) {
      const QString path = tmp_.filePath(QString("blocks-%1.gguf").arg(seed));
      const QString err = flashchat_test::quant_gguf_make(path, {"--seed", seed});
      QVERIFY2(err.isEmpty(), qPrintable(err));
      check_reference_file(path);
      if (QTest::currentTestFailed()) return;
    }
  }

  void matvec_on_quantized_rows() {
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (DType t : kAllDTypes) {
      if (!dtype_is_quantized(t)) continue;
      const int64_t rows = 67, cols = 512;  // rows * cols above matvec's parallel threshold
      const std::vector<uint8_t> data = random_quant(t, rows, cols, rng);
      const Tensor W{t, rows, cols, data.data()};
      std::vector<float> x(static_cast<size_t>(cols)), deq(static_cast<size_t>(rows * cols));
      for (float& v : x) v = u(rng);
      dtype_to_fp32(t, data.data(), deq.data(), rows * cols);
      std::vector<double> want(static_cast<size_t>(rows)), scale(static_cast<size_t>(rows));
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t c = 0; c < cols; ++c) {
          const double p = double(deq[size_t(r * cols + c)]) * x[size_t(c)];
          want[size_t(r)] += p;
          scale[size_t(r)] += std::fabs(p);
        }
      }
      std::vector<float> out(static_cast<size_t>(rows)), part(static_cast<size_t>(rows));
      matvec(W, x.data(), out.data());
      matvec_rows(W, x.data(), part.data(), 5, 40);
      for (int64_t r = 0; r < rows; ++r) {
        const QString what = QString("%1 row %2").arg(dtype_name(t)).arg(r);
        QVERIFY2(close(out[size_t(r)], want[size_t(r)], scale[size_t(r)]), qPrintable(what));
        QVERIFY2(close(dot_row(W, r, x.data()), want[size_t(r)], scale[size_t(r)]), qPrintable(what));
        if (r >= 5 && r < 40) QCOMPARE(part[size_t(r - 5)], out[size_t(r)]);
      }
      // axpy: acc (cols,) += a * W[r,:] against the dequantised row.
      std::vector<float> acc(size_t(cols), 0.25f);
      axpy_row(W, 11, -1.5f, acc.data());
      for (int64_t c = 0; c < cols; ++c) {
        const double w = 0.25 - 1.5 * double(deq[size_t(11 * cols + c)]);
        QVERIFY2(std::fabs(acc[size_t(c)] - w) <= 1e-6 * (0.25 + std::fabs(w)), dtype_name(t));
      }
    }
  }

  void quantizers_q8_0_q4_0() {
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> u(-3.0f, 3.0f);
    std::vector<float> x(32 * 64), back(x.size());
    for (float& v : x) v = u(rng);
    for (DType t : {DType::Q8_0, DType::Q4_0}) {
      std::vector<uint8_t> q(size_t(dtype_bytes_for(t, int64_t(x.size()))));
      dtype_quantize_from_fp32(t, x.data(), q.data(), int64_t(x.size()));
      dtype_to_fp32(t, q.data(), back.data(), int64_t(x.size()));
      for (size_t b = 0; b < x.size() / 32; ++b) {
        float amax = 0;
        for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b * 32 + size_t(j)]));
        // Step d and the bound: half a step (Q8_0), a step where the clamp at 15 bites (Q4_0),
        // plus the half-precision rounding of d over the largest quant.
        const float d = t == DType::Q8_0 ? amax / 127 : amax / 8;
        const float bound = (t == DType::Q8_0 ? 0.5f * d + 128 * d / 2048 : d + 8 * d / 2048);
        for (int j = 0; j < 32; ++j) {
          const size_t i = b * 32 + size_t(j);
          QVERIFY2(std::fabs(back[i] - x[i]) <= bound, qPrintable(QString("%1 %2").arg(dtype_name(t)).arg(i)));
        }
      }
    }
    // Exact grids: integers with max |x| 127 are Q8_0's grid (d = 1); multiples of 0.25 whose
    // most negative element is -2 are Q4_0's (d = 0.25).
    std::vector<float> g(32), r(32);
    for (int j = 0; j < 32; ++j) g[size_t(j)] = float(j * 8 - 127 + (j == 31 ? 6 : 0));  // -127..121
    std::vector<uint8_t> q(34);
    dtype_quantize_from_fp32(DType::Q8_0, g.data(), q.data(), 32);
    dtype_to_fp32(DType::Q8_0, q.data(), r.data(), 32);
    QCOMPARE(r, g);
    for (int j = 0; j < 32; ++j) g[size_t(j)] = 0.25f * float((j % 16) - 8);  // -2 .. 1.75
    dtype_quantize_from_fp32(DType::Q4_0, g.data(), q.data(), 32);
    dtype_to_fp32(DType::Q4_0, q.data(), r.data(), 32);
    QCOMPARE(r, g);
    QVERIFY(!flashchat_test::error_of([&] { dtype_quantize_from_fp32(DType::Q4_K, g.data(), q.data(), 32); }).empty());
  }

  void kquant_model_runs_on_quantized_matrices() {
    const QString path = tmp_.filePath("kq.gguf");
    const QString err = flashchat_test::quant_gguf_make(path, {"--model"});
    QVERIFY2(err.isEmpty(), qPrintable(err));
    std::unique_ptr<Model> m = model_load(path.toStdString());
    const GgufFile f = GgufFile::open(path.toStdString());
    LayerWeights& l = m->weights.layers.at(0);
    const struct { const Tensor* t; const char* name; DType want; } mats[] = {
        {&m->weights.token_embd, "token_embd.weight", DType::Q8_0}, {&m->weights.output, "output.weight", DType::Q5_0},
        {&l.wq, "blk.0.attn_q.weight", DType::Q2_K}, {&l.wk, "blk.0.attn_k.weight", DType::Q3_K},
        {&l.wv, "blk.0.attn_v.weight", DType::Q4_K}, {&l.wo, "blk.0.attn_output.weight", DType::Q5_K},
        {&l.ffn_gate, "blk.0.ffn_gate.weight", DType::Q6_K}, {&l.ffn_up, "blk.0.ffn_up.weight", DType::Q4_1},
        {&l.ffn_down, "blk.0.ffn_down.weight", DType::Q5_1}};
    // Quantised in memory, in place: the file's bytes.
    for (const auto& e : mats) {
      QCOMPARE(int(e.t->dtype), int(e.want));
      QVERIFY2(std::memcmp(e.t->data, f.tensor_data(*f.find_tensor(e.name)), size_t(e.t->size_bytes())) == 0,
               e.name);
    }
    QCOMPARE(m->bytes().total(), [&] {
      int64_t b = 0;
      for (const GgufTensorInfo& t : f.tensors()) b += int64_t(t.size_bytes);
      return b;
    }());
    // The same model with every matrix dequantised to F32.
    Model ref;
    ref.config = m->config;
    ref.tokenizer = m->tokenizer;
    ref.weights = m->weights;
    ref.source_path = "dequantised";
    LayerWeights& rl = ref.weights.layers.at(0);
    Tensor* ref_mats[] = {&ref.weights.token_embd, &ref.weights.output, &rl.wq, &rl.wk, &rl.wv, &rl.wo,
                          &rl.ffn_gate, &rl.ffn_up, &rl.ffn_down};
    for (Tensor* t : ref_mats) {
      auto buf = std::make_shared<std::vector<float>>(size_t(t->n_elements()));
      dtype_to_fp32(t->dtype, t->data, buf->data(), t->n_elements());
      *t = Tensor{DType::F32, t->rows, t->cols, buf->data()};
      ref.storage.push_back(buf);
    }
    Transformer a(*m, 16, nullptr, KvType::F32), b(ref, 16, nullptr, KvType::F32);
    const int tokens[] = {1, 72, 105, 33, 200, 7, 7, 150};
    for (int p = 0; p < 8; ++p) {
      const float* la = a.forward(tokens[p], p);
      const float* lb = b.forward(tokens[p], p);
      double diff = 0, mx = 0;
      for (int v = 0; v < m->config.vocab_size; ++v) {
        QVERIFY(std::isfinite(la[v]));
        diff = std::max(diff, std::fabs(double(la[v]) - lb[v]));
        mx = std::max(mx, std::fabs(double(lb[v])));
      }
      QVERIFY2(mx > 0 && diff <= 1e-4 * mx, qPrintable(QString("position %1: %2 of %3").arg(p).arg(diff).arg(mx)));
    }
  }
};

QTEST_GUILESS_MAIN(QuantTest)
#include "quant_test.moc"
