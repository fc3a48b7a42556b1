// simd_level_test.cc - the run-time SIMD choice: the AVX-512 F16 kernels give bit-identical
// results to the AVX2 baseline (every row length class: whole blocks of 32/16, one block of 8,
// scalar tails), so tests and reference outputs hold on any x86-64-v3 machine.
#include <QtTest>

#include <cstring>
#include <random>
#include <vector>

#include "compute/bundle_kernels.h"
#include "compute/matvec.h"
#include "compute/simd_level.h"
#include "core/error.h"
#include "formats/dtype.h"

using namespace flashchat;

namespace {

std::vector<uint16_t> random_halves(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<uint16_t> h(static_cast<size_t>(n));
  for (auto& v : h) v = fp32_to_fp16(d(rng));
  return h;
}

std::vector<float> random_floats(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& f : v) f = d(rng);
  return v;
}

// Everything the F16 kernels compute for one row length, at the level in force.
std::vector<float> run_kernels(int64_t cols) {
  const int64_t rows = 70;  // 4-row groups and a remainder; past the serial threshold when long
  const std::vector<uint16_t> w = random_halves(rows * cols, static_cast<uint32_t>(cols));
  const std::vector<float> x = random_floats(cols, static_cast<uint32_t>(cols) + 1);
  std::vector<float> out(static_cast<size_t>(rows));
  const Tensor W{DType::F16, rows, cols, w.data()};
  matvec(W, x.data(), out.data());
  std::vector<float> all = out;
  all.push_back(dot_row(W, 3, x.data()));
  std::vector<float> acc = random_floats(cols, 7);
  axpy_row(W, 5, 0.37f, acc.data());
  axpy_raw(DType::F16, w.data() + cols, -1.25f, acc.data(), cols);
  all.insert(all.end(), acc.begin(), acc.end());
  all.push_back(dot_raw(DType::F16, w.data() + 2 * cols, x.data(), cols));
  float d0 = 0, d1 = 0;
  dot2_raw(DType::F16, w.data(), w.data() + 9 * cols, x.data(), cols, &d0, &d1);
  all.push_back(d0);
  all.push_back(d1);
  return all;
}

}  // namespace

class SimdLevelTest : public QObject {
  Q_OBJECT
 private slots:
  void levelFollowsTheCpu() {
    const SimdLevel detected = simd_level_detected();
    qInfo("CPU: %s, in force: %s", simd_level_name(detected), simd_level_name(simd_level()));
    if (detected == SimdLevel::Avx2) {
      QVERIFY_THROWS_EXCEPTION(Error, simd_level_set(SimdLevel::Avx512));
      QCOMPARE(simd_level(), SimdLevel::Avx2);
    }
    simd_level_set(SimdLevel::Avx2);
    QCOMPARE(simd_level(), SimdLevel::Avx2);
    simd_level_set(detected);
    QCOMPARE(simd_level(), detected);
  }

  void avx512KernelsEqualAvx2Bitwise_data() {
    QTest::addColumn<qint64>("cols");
    for (qint64 c : {1, 7, 8, 15, 16, 24, 31, 32, 40, 47, 64, 100, 256, 2048 + 13, 4096}) {
      QTest::newRow(qPrintable(QString::number(c))) << c;
    }
  }
  void avx512KernelsEqualAvx2Bitwise() {
    QFETCH(qint64, cols);
    const SimdLevel detected = simd_level_detected();
    simd_level_set(SimdLevel::Avx2);
    const std::vector<float> base = run_kernels(cols);
    simd_level_set(detected);
    const std::vector<float> wide = run_kernels(cols);
    QCOMPARE(wide.size(), base.size());
    // Bitwise: memcmp, not ==, so a changed summation order cannot hide in a tolerance.
    for (size_t i = 0; i < base.size(); ++i) {
      QVERIFY2(std::memcmp(&base[i], &wide[i], sizeof(float)) == 0,
               qPrintable(QString("value %1: avx2 %2 vs %3 %4").arg(i).arg(base[i], 0, 'g', 9)
                              .arg(simd_level_name(detected)).arg(wide[i], 0, 'g', 9)));
    }
  }
};

QTEST_GUILESS_MAIN(SimdLevelTest)
#include "simd_level_test.moc"
