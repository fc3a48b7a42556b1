// matvec_test.cc - every kernel and dtype against a double-precision scalar reference.
#include "compute/matvec.h"

#include <QtTest>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "core/error.h"
#include "formats/dtype.h"

using flashchat::DType;
using flashchat::Tensor;

namespace {

// A random (rows, cols) matrix stored in `dtype`, plus its exact values as doubles (the stored,
// rounded values, so the reference sees the same weights as the kernel).
struct TestMatrix {
  Tensor t;
  std::vector<float> f32;
  std::vector<uint16_t> half;
  std::vector<double> exact;  // (rows, cols)
};

TestMatrix make_matrix(DType dtype, int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  TestMatrix m;
  const int64_t n = rows * cols;
  m.exact.resize(static_cast<size_t>(n));
  if (dtype == DType::F32) {
    m.f32.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      m.f32[i] = dist(rng);
      m.exact[i] = m.f32[i];
    }
    m.t.data = m.f32.data();
  } else {
    m.half.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const float v = dist(rng);
      if (dtype == DType::F16) {
        m.half[i] = flashchat::fp32_to_fp16(v);
        m.exact[i] = flashchat::fp16_to_fp32(m.half[i]);
      } else {
        m.half[i] = flashchat::fp32_to_bf16(v);
        m.exact[i] = flashchat::bf16_to_fp32(m.half[i]);
      }
    }
    m.t.data = m.half.data();
  }
  m.t.dtype = dtype;
  m.t.rows = rows;
  m.t.cols = cols;
  return m;
}

std::vector<float> random_vector(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  return v;
}

double ref_dot(const TestMatrix& m, int64_t r, const std::vector<float>& x) {
  double s = 0.0;
  for (int64_t c = 0; c < m.t.cols; ++c) s += m.exact[r * m.t.cols + c] * x[c];
  return s;
}

// fp32 accumulation of n products of magnitude <= 1: error grows ~ sqrt(n) * eps, bound loosely.
double tolerance(int64_t cols) {
  return 1e-5 * std::sqrt(static_cast<double>(cols)) + 1e-6;
}

const DType kDtypes[] = {DType::F32, DType::F16, DType::BF16};

}  // namespace

class MatvecTest : public QObject {
  Q_OBJECT

 private slots:
  void matvec_matches_reference_data() {
    QTest::addColumn<int>("dtype");
    QTest::addColumn<qint64>("rows");
    QTest::addColumn<qint64>("cols");
    const qint64 shapes[][2] = {{1, 1},      {3, 7},      {17, 9},      {33, 64}, {97, 131},
                                {257, 1003}, {1029, 515}, {2051, 4099}, {64, 8},  {5, 33}};
    for (DType d : kDtypes) {
      for (const auto& s : shapes) {
        const QByteArray name = QByteArray(flashchat::dtype_name(d)) + " " +
                                QByteArray::number(s[0]) + "x" + QByteArray::number(s[1]);
        QTest::newRow(name.constData()) << static_cast<int>(d) << s[0] << s[1];
      }
    }
  }

  void matvec_matches_reference() {
    QFETCH(int, dtype);
    QFETCH(qint64, rows);
    QFETCH(qint64, cols);
    const TestMatrix m = make_matrix(static_cast<DType>(dtype), rows, cols, rows * 7919 + cols);
    const std::vector<float> x = random_vector(cols, cols + 1);
    std::vector<float> out(static_cast<size_t>(rows), -12345.0f);
    flashchat::matvec(m.t, x.data(), out.data());
    for (int64_t r = 0; r < rows; ++r) {
      const double ref = ref_dot(m, r, x);
      if (std::abs(out[r] - ref) > tolerance(cols)) {
        QFAIL(qPrintable(QString("row %1: got %2, reference %3").arg(r).arg(out[r]).arg(ref)));
      }
    }
  }

  void matvec_rows_matches_reference() {
    for (DType d : kDtypes) {
      const int64_t rows = 301, cols = 77;
      const TestMatrix m = make_matrix(d, rows, cols, 42);
      const std::vector<float> x = random_vector(cols, 43);
      const int64_t begin = 13, end = 250;
      std::vector<float> out(static_cast<size_t>(end - begin) + 1, -7.0f);
      flashchat::matvec_rows(m.t, x.data(), out.data(), begin, end);
      for (int64_t r = begin; r < end; ++r) {
        QVERIFY2(std::abs(out[r - begin] - ref_dot(m, r, x)) <= tolerance(cols),
                 flashchat::dtype_name(d));
      }
      QCOMPARE(out.back(), -7.0f);  // nothing written past the range
      // empty range is a no-op; a bad range throws
      flashchat::matvec_rows(m.t, x.data(), out.data(), 5, 5);
      QVERIFY_THROWS_EXCEPTION(flashchat::Error,
                               flashchat::matvec_rows(m.t, x.data(), out.data(), 10, rows + 1));
      QVERIFY_THROWS_EXCEPTION(flashchat::Error,
                               flashchat::matvec_rows(m.t, x.data(), out.data(), -1, 3));
    }
  }

  void dot_row_matches_reference() {
    for (DType d : kDtypes) {
      for (int64_t cols : {1, 7, 8, 15, 31, 32, 33, 100, 1027}) {
        const int64_t rows = 5;
        const TestMatrix m = make_matrix(d, rows, cols, static_cast<uint64_t>(cols) * 3);
        const std::vector<float> x = random_vector(cols, 99);
        for (int64_t r = 0; r < rows; ++r) {
          const float got = flashchat::dot_row(m.t, r, x.data());
          QVERIFY2(
              std::abs(got - ref_dot(m, r, x)) <= tolerance(cols),
              qPrintable(
                  QString("%1 cols %2 row %3").arg(flashchat::dtype_name(d)).arg(cols).arg(r)));
        }
        QVERIFY_THROWS_EXCEPTION(flashchat::Error, flashchat::dot_row(m.t, rows, x.data()));
      }
    }
  }

  void axpy_row_matches_reference() {
    for (DType d : kDtypes) {
      for (int64_t cols : {1, 7, 8, 9, 63, 64, 65, 509}) {
        const int64_t rows = 4;
        const TestMatrix m = make_matrix(d, rows, cols, static_cast<uint64_t>(cols) * 5 + 1);
        const std::vector<float> start = random_vector(cols, 7);
        std::vector<float> out = start;
        const float a = -0.625f;
        const int64_t row = 2;
        flashchat::axpy_row(m.t, row, a, out.data());
        for (int64_t c = 0; c < cols; ++c) {
          const double ref = start[c] + static_cast<double>(a) * m.exact[row * cols + c];
          QVERIFY2(
              std::abs(out[c] - ref) <= 1e-6,
              qPrintable(
                  QString("%1 cols %2 col %3").arg(flashchat::dtype_name(d)).arg(cols).arg(c)));
        }
      }
    }
  }

  void matvec_is_deterministic() {
    // Each row is computed by one task with a fixed arithmetic order, so results depend neither
    // on the schedule nor on how rows are grouped (F16/BF16 process rows four at a time).
    for (DType d : {DType::F16, DType::BF16}) {
      const TestMatrix m = make_matrix(d, 1501, 999, 5);
      const std::vector<float> x = random_vector(999, 6);
      std::vector<float> a(1501), b(1501);
      flashchat::matvec(m.t, x.data(), a.data());
      flashchat::matvec(m.t, x.data(), b.data());
      QCOMPARE(a, b);
      for (int64_t begin : {0, 1, 2, 3, 7}) {
        std::vector<float> c(static_cast<size_t>(1501 - begin));
        flashchat::matvec_rows(m.t, x.data(), c.data(), begin, 1501);
        QCOMPARE(c, std::vector<float>(a.begin() + begin, a.end()));
      }
      for (int64_t r : {0, 1, 2, 3, 4, 1499, 1500}) {
        QCOMPARE(flashchat::dot_row(m.t, r, x.data()), a[static_cast<size_t>(r)]);
      }
    }
  }

  // Quantised rows are computed on (quant_test); a row that is not whole blocks is refused.
  void partial_block_throws() {
    std::vector<uint8_t> block(68, 0);
    Tensor t;
    t.dtype = DType::Q8_0;
    t.rows = 1;
    t.cols = 48;
    t.data = block.data();
    std::vector<float> x(64, 1.0f), out(64);
    QVERIFY_THROWS_EXCEPTION(flashchat::Error, flashchat::matvec(t, x.data(), out.data()));
    QVERIFY_THROWS_EXCEPTION(flashchat::Error, flashchat::dot_row(t, 0, x.data()));
    QVERIFY_THROWS_EXCEPTION(flashchat::Error, flashchat::axpy_row(t, 0, 1.0f, out.data()));
  }
};

QTEST_GUILESS_MAIN(MatvecTest)
#include "matvec_test.moc"
