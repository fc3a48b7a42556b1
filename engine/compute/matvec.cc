// matvec.cc - matrix-vector kernels: F32 through Eigen, F16/BF16 with AVX2 + F16C (8 elements
// converted at a time inside the dot product; F16 16 at a time on AVX-512 CPUs, bit-identical:
// simd_level.h), block-quantised rows through bundle_kernels'
// raw-row dots (a block at a time, never a whole matrix), parallel over output rows with TBB.
#include "compute/matvec.h"

#include <immintrin.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <Eigen/Core>
#include <cmath>
#include <cstring>
#include <string>

#include "compute/bundle_kernels.h"
#include "compute/simd_avx2.h"
#include "compute/simd_avx512.h"
#include "compute/simd_level.h"
#include "core/error.h"

namespace flashchat {
namespace {

using simd::hsum;
using simd::load8_bf16;
using simd::load8_f16;

using RowMajorMap =
    Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
using ConstVecMap = Eigen::Map<const Eigen::VectorXf>;
using VecMap = Eigen::Map<Eigen::VectorXf>;

// Rows per TBB task, and the element count below which matvec runs on the calling thread
// (task overhead would exceed the work).
constexpr int64_t kRowGrain = 32;
constexpr int64_t kSerialElems = 1 << 15;

inline float scalar_f16(uint16_t h) {
  return _cvtsh_ss(h);
}
inline float scalar_bf16(uint16_t b) {
  return bf16_to_fp32(b);
}

// w (n,) . x (n,) with w half-precision. Two accumulators over blocks of 16, one more block of
// 8, a fixed horizontal sum, then the scalar tail: dot4_half below does exactly the same
// arithmetic per row, so a row's result never depends on how rows are grouped or scheduled.
template <__m256 (*Load8)(const uint16_t*), float (*Scalar)(uint16_t)>
inline float dot_half(const uint16_t* w, const float* x, int64_t n) {
  if constexpr (Load8 == &load8_f16) {
    if (simd_detail::wide()) {  // the same sums 16 lanes at a time (simd_level.h)
      int64_t i = 0;
      float sum = hsum(simd512::dot_f16_acc2(w, x, n, &i));
      for (; i < n; ++i) sum = std::fma(Scalar(w[i]), x[i], sum);
      return sum;
    }
  }
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_fmadd_ps(Load8(w + i), _mm256_loadu_ps(x + i), a0);
    a1 = _mm256_fmadd_ps(Load8(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
  }
  if (i + 8 <= n) {
    a0 = _mm256_fmadd_ps(Load8(w + i), _mm256_loadu_ps(x + i), a0);
    i += 8;
  }
  float sum = hsum(_mm256_add_ps(a0, a1));
  for (; i < n; ++i) sum = std::fma(Scalar(w[i]), x[i], sum);  // fused, as matmul.cc
  return sum;
}

// Four rows w[0..3] (n,) . x (n,) -> out (4,): four weight streams in flight at once (more
// memory-level parallelism than one row at a time), x loaded once for all four.
template <__m256 (*Load8)(const uint16_t*), float (*Scalar)(uint16_t)>
inline void dot4_half(const uint16_t* const w[4], const float* x, int64_t n, float* out) {
  if constexpr (Load8 == &load8_f16) {
    if (simd_detail::wide()) {
      __m256 acc[4];
      int64_t i = 0;
      simd512::dot4_f16_acc2(w, x, n, acc, &i);
      for (int r = 0; r < 4; ++r) {
        float sum = hsum(acc[r]);
        for (int64_t j = i; j < n; ++j) sum = std::fma(Scalar(w[r][j]), x[j], sum);
        out[r] = sum;
      }
      return;
    }
  }
  __m256 a0[4], a1[4];
  for (int r = 0; r < 4; ++r) a0[r] = a1[r] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + 8);
    for (int r = 0; r < 4; ++r) {
      a0[r] = _mm256_fmadd_ps(Load8(w[r] + i), x0, a0[r]);
      a1[r] = _mm256_fmadd_ps(Load8(w[r] + i + 8), x1, a1[r]);
    }
  }
  const bool block8 = i + 8 <= n;
  if (block8) {
    const __m256 x0 = _mm256_loadu_ps(x + i);
    for (int r = 0; r < 4; ++r) a0[r] = _mm256_fmadd_ps(Load8(w[r] + i), x0, a0[r]);
    i += 8;
  }
  for (int r = 0; r < 4; ++r) {
    float sum = hsum(_mm256_add_ps(a0[r], a1[r]));
    for (int64_t j = i; j < n; ++j) sum = std::fma(Scalar(w[r][j]), x[j], sum);
    out[r] = sum;
  }
}

// out (n,) += a * w (n,) with w half-precision.
template <__m256 (*Load8)(const uint16_t*), float (*Scalar)(uint16_t)>
inline void axpy_half(const uint16_t* w, float a, float* out, int64_t n) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  if constexpr (Load8 == &load8_f16) {
    if (simd_detail::wide()) i = simd512::axpy_f16(w, a, out, n);
  }
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(out + i, _mm256_fmadd_ps(va, Load8(w + i), _mm256_loadu_ps(out + i)));
  }
  for (; i < n; ++i) out[i] += a * Scalar(w[i]);
}

inline const uint16_t* half_row(const Tensor& W, int64_t r) {
  return reinterpret_cast<const uint16_t*>(W.row(r));
}

// W rows [r0, r1) (., cols) half-precision @ x (cols,) -> out (r1 - r0,), four rows at a time.
template <__m256 (*Load8)(const uint16_t*), float (*Scalar)(uint16_t)>
void half_rows(const Tensor& W, const float* x, float* out, int64_t r0, int64_t r1) {
  const int64_t n = W.cols;
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) {
    const uint16_t* const w[4] = {half_row(W, r), half_row(W, r + 1), half_row(W, r + 2),
                                  half_row(W, r + 3)};
    dot4_half<Load8, Scalar>(w, x, n, out + (r - r0));
  }
  for (; r < r1; ++r) out[r - r0] = dot_half<Load8, Scalar>(half_row(W, r), x, n);
}

// W rows [r0, r1) (., cols) @ x (cols,) -> out (r1 - r0,). Single-threaded.
void rows_kernel(const Tensor& W, const float* x, float* out, int64_t r0, int64_t r1) {
  const int64_t n = W.cols;
  switch (W.dtype) {
    case DType::F32: {
      const RowMajorMap block(W.f32() + r0 * n, r1 - r0, n);
      VecMap(out, r1 - r0).noalias() = block * ConstVecMap(x, n);
      return;
    }
    case DType::F16:
      half_rows<load8_f16, scalar_f16>(W, x, out, r0, r1);
      return;
    case DType::BF16:
      half_rows<load8_bf16, scalar_bf16>(W, x, out, r0, r1);
      return;
    default:  // block-quantised
      for (int64_t r = r0; r < r1; ++r) out[r - r0] = dot_raw(W.dtype, W.row(r), x, n);
      return;
  }
}

void check_tensor(const Tensor& W, const char* what) {
  if (W.cols % dtype_block_elems(W.dtype) != 0) {
    fail("matvec", std::string(what) + ": " + dtype_name(W.dtype) + " rows of " +
                       std::to_string(W.cols) + " elements are not whole blocks");
  }
  if (W.data == nullptr && W.n_elements() > 0) fail("matvec", std::string(what) + ": empty tensor");
}

}  // namespace

// W (rows, cols) @ x (cols,) -> out (rows,)
void matvec(const Tensor& W, const float* x, float* out) {
  check_tensor(W, "matvec");
  const int64_t rows = W.rows;
  if (rows <= 0) return;
  if (rows * W.cols < kSerialElems || rows <= kRowGrain) {
    rows_kernel(W, x, out, 0, rows);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, rows, kRowGrain),
                    [&](const tbb::blocked_range<int64_t>& range) {
                      rows_kernel(W, x, out + range.begin(), range.begin(), range.end());
                    });
}

// W rows [row_begin, row_end) @ x (cols,) -> out (row_end - row_begin,)
void matvec_rows(const Tensor& W, const float* x, float* out, int64_t row_begin, int64_t row_end) {
  check_tensor(W, "matvec_rows");
  if (row_begin < 0 || row_end > W.rows || row_begin > row_end) {
    fail("matvec", "matvec_rows: row range [" + std::to_string(row_begin) + ", " +
                       std::to_string(row_end) + ") outside " + std::to_string(W.rows) + " rows");
  }
  if (row_begin == row_end) return;
  rows_kernel(W, x, out, row_begin, row_end);
}

// W[row,:] (cols,) . x (cols,) -> scalar
float dot_row(const Tensor& W, int64_t row, const float* x) {
  check_tensor(W, "dot_row");
  if (row < 0 || row >= W.rows) {
    fail("matvec", "dot_row: row " + std::to_string(row) + " outside " + std::to_string(W.rows));
  }
  const int64_t n = W.cols;
  switch (W.dtype) {
    case DType::F32:
      return ConstVecMap(W.f32() + row * n, n).dot(ConstVecMap(x, n));
    case DType::F16:
      return dot_half<load8_f16, scalar_f16>(half_row(W, row), x, n);
    case DType::BF16:
      return dot_half<load8_bf16, scalar_bf16>(half_row(W, row), x, n);
    default:
      return dot_raw(W.dtype, W.row(row), x, n);
  }
}

// out (cols,) += a * W[row,:] (cols,)
void axpy_row(const Tensor& W, int64_t row, float a, float* out) {
  check_tensor(W, "axpy_row");
  if (row < 0 || row >= W.rows) {
    fail("matvec", "axpy_row: row " + std::to_string(row) + " outside " + std::to_string(W.rows));
  }
  const int64_t n = W.cols;
  switch (W.dtype) {
    case DType::F32:
      VecMap(out, n) += a * ConstVecMap(W.f32() + row * n, n);
      return;
    case DType::F16:
      axpy_half<load8_f16, scalar_f16>(half_row(W, row), a, out, n);
      return;
    case DType::BF16:
      axpy_half<load8_bf16, scalar_bf16>(half_row(W, row), a, out, n);
      return;
    default:
      axpy_raw(W.dtype, W.row(row), a, out, n);
      return;
  }
}

}  // namespace flashchat
