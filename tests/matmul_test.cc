// matmul_test.cc - the block kernel against matvec run token by token, for every weight dtype and
// odd shapes (tails of 1..15 elements, odd row and token counts, serial and parallel sizes).
//
// Tolerance: F16 and BF16 must equal matvec bit for bit (same accumulation order on the same
// decoded values). F32 matvec goes through Eigen, whose summation order differs; both are fp32
// dot products of `cols` terms, each within gamma_cols * sum|w*x| of the exact value
// (gamma_n = n*eps/(1-n*eps), the textbook bound for recursive/blocked summation), so they may
// differ by at most 2 * gamma_cols * sum|w*x|; that is what is checked.
#include "compute/matmul.h"

#include <QtTest>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "compute/matvec.h"
#include "core/error.h"
#include "formats/dtype.h"

using flashchat::DType;
using flashchat::Tensor;

namespace {

struct Weights {
  Tensor t;
  std::vector<float> values;  // the stored (rounded) values as fp32
  std::vector<uint8_t> bytes;
};

// (rows, cols) uniform in [-1, 1) stored in `dtype`.
Weights weights_random(DType dtype, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  Weights w;
  const size_t n = static_cast<size_t>(rows * cols);
  w.values.resize(n);
  w.bytes.resize(static_cast<size_t>(flashchat::dtype_bytes_for(dtype, rows * cols)));
  for (size_t i = 0; i < n; ++i) {
    const float v = dist(rng);
    if (dtype == DType::F32) {
      w.values[i] = v;
      std::memcpy(w.bytes.data() + 4 * i, &v, 4);
    } else {
      const uint16_t h = dtype == DType::F16 ? flashchat::fp32_to_fp16(v) : flashchat::fp32_to_bf16(v);
      w.values[i] = dtype == DType::F16 ? flashchat::fp16_to_fp32(h) : flashchat::bf16_to_fp32(h);
      std::memcpy(w.bytes.data() + 2 * i, &h, 2);
    }
  }
  w.t.dtype = dtype;
  w.t.rows = rows;
  w.t.cols = cols;
  w.t.data = w.bytes.data();
  return w;
}

}  // namespace

class MatmulTest : public QObject {
  Q_OBJECT
 private slots:
  void equalsMatvecPerToken_data();
  void equalsMatvecPerToken();
  void quantisedRowsAndEmpty();
};

void MatmulTest::equalsMatvecPerToken_data() {
  QTest::addColumn<int>("dtype");
  QTest::addColumn<int>("rows");
  QTest::addColumn<int>("cols");
  QTest::addColumn<int>("tokens");
  const struct {
    int rows, cols, tokens;
  } shapes[] = {{1, 1, 1},    {3, 7, 5},     {2, 16, 2},     {17, 33, 3},  {5, 24, 1},
                {64, 40, 32}, {129, 300, 7}, {257, 520, 33}, {96, 263, 32}};
  for (DType d : {DType::F32, DType::F16, DType::BF16}) {
    for (const auto& s : shapes) {
      QTest::addRow("%s %dx%d n%d", flashchat::dtype_name(d), s.rows, s.cols, s.tokens)
          << static_cast<int>(d) << s.rows << s.cols << s.tokens;
    }
  }
}

void MatmulTest::equalsMatvecPerToken() {
  QFETCH(int, dtype);
  QFETCH(int, rows);
  QFETCH(int, cols);
  QFETCH(int, tokens);
  const DType d = static_cast<DType>(dtype);
  const Weights w = weights_random(d, rows, cols, static_cast<uint32_t>(rows * 131 + cols));
  std::mt19937 rng(7u + static_cast<uint32_t>(tokens));
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  std::vector<float> X(static_cast<size_t>(tokens) * cols);
  for (float& v : X) v = dist(rng);

  std::vector<float> Y(static_cast<size_t>(tokens) * rows, std::numeric_limits<float>::quiet_NaN());
  flashchat::matmul(w.t, X.data(), tokens, Y.data());

  const double eps = std::numeric_limits<float>::epsilon() / 2;  // unit roundoff
  const double gamma = cols * eps / (1.0 - cols * eps);
  std::vector<float> y(static_cast<size_t>(rows));
  for (int t = 0; t < tokens; ++t) {
    const float* x = X.data() + static_cast<size_t>(t) * cols;
    flashchat::matvec(w.t, x, y.data());
    for (int r = 0; r < rows; ++r) {
      const float got = Y[static_cast<size_t>(t) * rows + r];
      if (d != DType::F32) {
        QVERIFY2(got == y[r], qPrintable(QString("token %1 row %2: %3 vs matvec %4")
                                             .arg(t).arg(r).arg(got, 0, 'g', 9).arg(y[r], 0, 'g', 9)));
        continue;
      }
      double abs_sum = 0.0;
      for (int c = 0; c < cols; ++c) {
        abs_sum += std::fabs(static_cast<double>(w.values[static_cast<size_t>(r) * cols + c]) * x[c]);
      }
      const double bound = 2.0 * gamma * abs_sum;
      QVERIFY2(std::fabs(static_cast<double>(got) - y[r]) <= bound,
               qPrintable(QString("token %1 row %2: %3 vs matvec %4 (bound %5)")
                              .arg(t).arg(r).arg(got, 0, 'g', 9).arg(y[r], 0, 'g', 9).arg(bound)));
    }
  }
}

void MatmulTest::quantisedRowsAndEmpty() {
  // A Q8_0 row (scale 0.5, quants j - 16) is decoded block by block: against ones it sums to
  // 0.5 * (496 - 512) = -8, for every token.
  std::vector<uint8_t> block(34);
  const uint16_t half = flashchat::fp32_to_fp16(0.5f);
  std::memcpy(block.data(), &half, 2);
  for (int j = 0; j < 32; ++j) block[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(j - 16));
  Tensor q{DType::Q8_0, 1, 32, block.data()};
  std::vector<float> X(64, 1.0f), Y(2);
  flashchat::matmul(q, X.data(), 2, Y.data());
  QCOMPARE(Y[0], -8.0f);
  QCOMPARE(Y[1], -8.0f);
  Tensor partial{DType::Q8_0, 1, 16, block.data()};  // not whole blocks
  QVERIFY_THROWS_EXCEPTION(flashchat::Error, flashchat::matmul(partial, X.data(), 1, Y.data()));
  Tensor empty{DType::F16, 4, 8, nullptr};
  std::vector<float> Y4(4);
  QVERIFY_THROWS_EXCEPTION(flashchat::Error, flashchat::matmul(empty, X.data(), 1, Y4.data()));
  // Zero tokens: nothing written, nothing thrown.
  flashchat::matmul(empty, X.data(), 0, Y4.data());
}

QTEST_APPLESS_MAIN(MatmulTest)
#include "matmul_test.moc"
