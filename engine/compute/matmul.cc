// matmul.cc - W (rows, cols) @ X^T for a block of tokens: weight rows decoded once to fp32 (two
// at a time, AVX2 + F16C), then 2-row x 3-token register tiles of FMAs over column chunks.
// Parallel over rows with TBB.
//
// Exactness: matvec's half-precision kernels (dot_half / dot4_half in matvec.cc) accumulate each
// row in two 8-lane accumulators over blocks of 16, add one more block of 8 to the first, sum
// them with simd::hsum and finish with a scalar tail of fused multiply-adds. The tile below does the same sequence of
// operations for every (row, token) pair on the same decoded values (F16/BF16 -> fp32 is exact),
// so each output equals matvec's bit for bit; for F32, matvec uses Eigen's order instead and
// the two agree within float rounding.
#include "compute/matmul.h"

#include <immintrin.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "compute/simd_avx2.h"
#include "core/error.h"

namespace flashchat {
namespace {

// Rows per TBB task, and the work (rows * cols * tokens) below which matmul runs on the calling
// thread (task overhead would exceed the work).
constexpr int64_t kRowGrain = 16;
constexpr int64_t kSerialWork = 1 << 16;

// Columns per pass over a tile (a multiple of 16): 2 decoded rows and 3 tokens of 1024 floats
// are 20 KiB, so a pass runs from L1 while the (n_tokens, cols) block sits in L2 (256, 512, 1024
// and 2048 measured within noise of each other on a 2048-wide shape; no chunking was 25% slower).
constexpr int64_t kColChunk = 1024;

// R rows w[r] . T tokens x[t] over the blocks of 16 in [i0, i1): the two 8-lane accumulators of
// each (r, t) are loaded from acc[(r * T + t) * 2 + {0, 1}] and stored back, so a row may be
// processed in column chunks with exactly the arithmetic of one pass.
template <int R, int T>
inline void tile_blocks(const float* const* w, const float* const* x, int64_t i0, int64_t i1,
                        __m256* acc) {
  __m256 a0[R][T], a1[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) {
      a0[r][t] = acc[(r * T + t) * 2];
      a1[r][t] = acc[(r * T + t) * 2 + 1];
    }
  }
  for (int64_t i = i0; i < i1; i += 16) {
    for (int r = 0; r < R; ++r) {
      const __m256 w0 = _mm256_loadu_ps(w[r] + i), w1 = _mm256_loadu_ps(w[r] + i + 8);
      for (int t = 0; t < T; ++t) {
        a0[r][t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[t] + i), a0[r][t]);
        a1[r][t] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x[t] + i + 8), a1[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) {
      acc[(r * T + t) * 2] = a0[r][t];
      acc[(r * T + t) * 2 + 1] = a1[r][t];
    }
  }
}

// After tile_blocks over [0, n16), n16 = n rounded down to 16: one more block of 8 into the
// first accumulator, the horizontal sum, the fused scalar tail -> out[r * T + t]. See the
// exactness note above.
template <int R, int T>
inline void tile_finish(const float* const* w, const float* const* x, int64_t n, int64_t n16,
                        const __m256* acc, float* out) {
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) {
      __m256 a0 = acc[(r * T + t) * 2];
      const __m256 a1 = acc[(r * T + t) * 2 + 1];
      int64_t i = n16;
      if (i + 8 <= n) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w[r] + i), _mm256_loadu_ps(x[t] + i), a0);
        i += 8;
      }
      float sum = simd::hsum(_mm256_add_ps(a0, a1));
      for (; i < n; ++i) sum = std::fma(w[r][i], x[t][i], sum);
      out[r * T + t] = sum;
    }
  }
}

// n halves at src -> fp32 at dst.
template <__m256 (*Load8)(const uint16_t*), float (*Scalar)(uint16_t)>
inline void decode_half(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, Load8(src + i));
  for (; i < n; ++i) dst[i] = Scalar(src[i]);
}

inline float scalar_f16(uint16_t h) { return _cvtsh_ss(h); }
inline float scalar_bf16(uint16_t b) { return bf16_to_fp32(b); }

// A weight matrix as raw rows: `rows` rows of `cols` elements of `dtype`, row r at
// data + r * stride_bytes (a Tensor's rows, or the up rows of neuron bundles).
struct RawRows {
  DType dtype;
  const uint8_t* data;
  int64_t rows, cols, stride_bytes;
};

// Row r of W as fp32: the row itself for F32, else decoded into buf (cols,).
const float* row_f32(const RawRows& W, int64_t r, float* buf) {
  const uint8_t* p = W.data + r * W.stride_bytes;
  switch (W.dtype) {
    case DType::F32:
      return reinterpret_cast<const float*>(p);
    case DType::F16:
      decode_half<simd::load8_f16, scalar_f16>(reinterpret_cast<const uint16_t*>(p), buf, W.cols);
      return buf;
    case DType::BF16:
      decode_half<simd::load8_bf16, scalar_bf16>(reinterpret_cast<const uint16_t*>(p), buf, W.cols);
      return buf;
    default:  // block-quantised: the row's blocks decoded (cols a multiple of the block)
      dtype_to_fp32(W.dtype, p, buf, W.cols);
      return buf;
  }
}

// Tokens per register tile: 2 rows x 3 tokens = 12 accumulators, 2 weight and 1 token register
// (15 of the 16 ymm registers); 5 loads per 6 FMAs.
constexpr int64_t kTileTokens = 3;

// The R rows w (R <= 2) against tokens [t, t + T) of X, one column chunk [k0, k1).
template <int R>
void tokens_blocks(const float* const* w, const float* X, int64_t n, int64_t t, int64_t T,
                   int64_t k0, int64_t k1, __m256* acc) {
  const float* const x[3] = {X + t * n, X + std::min(t + 1, t + T - 1) * n,
                             X + std::min(t + 2, t + T - 1) * n};
  if (T == 3) tile_blocks<R, 3>(w, x, k0, k1, acc);
  else if (T == 2) tile_blocks<R, 2>(w, x, k0, k1, acc);
  else tile_blocks<R, 1>(w, x, k0, k1, acc);
}

// The R rows w (R <= 2, rows r..) against tokens [t, t + T): finish -> Y (n_tokens, rows).
template <int R>
void tokens_finish(const float* const* w, const float* X, int64_t n, int64_t n16, int64_t t,
                   int64_t T, const __m256* acc, float* Y, int64_t rows, int64_t r) {
  const float* const x[3] = {X + t * n, X + std::min(t + 1, t + T - 1) * n,
                             X + std::min(t + 2, t + T - 1) * n};
  float out[2 * 3];  // [row][token]
  if (T == 3) tile_finish<R, 3>(w, x, n, n16, acc, out);
  else if (T == 2) tile_finish<R, 2>(w, x, n, n16, acc, out);
  else tile_finish<R, 1>(w, x, n, n16, acc, out);
  for (int i = 0; i < R; ++i) {
    for (int64_t j = 0; j < T; ++j) Y[(t + j) * rows + r + i] = out[i * T + j];
  }
}

// Rows [r0, r1) of W against all n_tokens rows of X -> the matching columns of Y (n_tokens,
// rows). Two rows decoded at a time (buf: 2 * cols floats), then, column chunk by column chunk,
// tiles of up to kTileTokens tokens; acc holds 4 accumulators per token between chunks (a tile
// of T tokens starting at token t keeps its 2 * R * T at acc + 4 t).
void rows_kernel(const RawRows& W, const float* X, int64_t n_tokens, float* Y, int64_t r0,
                 int64_t r1, float* buf, std::vector<__m256>& acc) {
  const int64_t n = W.cols, rows = W.rows, n16 = n / 16 * 16;
  acc.resize(static_cast<size_t>(4 * n_tokens));
  for (int64_t r = r0; r < r1; r += 2) {
    const int R = r + 2 <= r1 ? 2 : 1;
    const float* const w[2] = {row_f32(W, r, buf), R == 2 ? row_f32(W, r + 1, buf + n) : nullptr};
    std::fill(acc.begin(), acc.end(), _mm256_setzero_ps());
    for (int64_t k0 = 0; k0 < n16; k0 += kColChunk) {
      const int64_t k1 = std::min(n16, k0 + kColChunk);
      for (int64_t t = 0; t < n_tokens; t += kTileTokens) {
        const int64_t T = std::min(kTileTokens, n_tokens - t);
        if (R == 2) tokens_blocks<2>(w, X, n, t, T, k0, k1, acc.data() + t * 4);
        else tokens_blocks<1>(w, X, n, t, T, k0, k1, acc.data() + t * 4);
      }
    }
    for (int64_t t = 0; t < n_tokens; t += kTileTokens) {
      const int64_t T = std::min(kTileTokens, n_tokens - t);
      if (R == 2) tokens_finish<2>(w, X, n, n16, t, T, acc.data() + t * 4, Y, rows, r);
      else tokens_finish<1>(w, X, n, n16, t, T, acc.data() + t * 4, Y, rows, r);
    }
  }
}

}  // namespace

// W (rows, cols) at any row stride @ X (n_tokens, cols)^T -> Y (n_tokens, rows)
void matmul_raw(DType dtype, const void* w, int64_t rows, int64_t cols, int64_t row_stride_bytes,
                const float* X, int64_t n_tokens, float* Y) {
  if (cols % dtype_block_elems(dtype) != 0) {
    fail("matmul", std::string(dtype_name(dtype)) + " rows of " + std::to_string(cols) +
                       " columns are not whole blocks");
  }
  if (rows <= 0 || n_tokens <= 0) return;
  if (w == nullptr) fail("matmul", "empty tensor");
  const RawRows W{dtype, static_cast<const uint8_t*>(w), rows, cols, row_stride_bytes};
  const size_t buf_floats = 2 * static_cast<size_t>(cols);
  if (rows * cols * n_tokens < kSerialWork || rows <= kRowGrain) {
    thread_local std::vector<float> buf;
    thread_local std::vector<__m256> acc;
    if (buf.size() < buf_floats) buf.resize(buf_floats);
    rows_kernel(W, X, n_tokens, Y, 0, rows, buf.data(), acc);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, rows, kRowGrain),
                    [&](const tbb::blocked_range<int64_t>& range) {
                      // One decode buffer per thread, reused across its tasks.
                      thread_local std::vector<float> buf;
                      thread_local std::vector<__m256> acc;
                      if (buf.size() < buf_floats) buf.resize(buf_floats);
                      rows_kernel(W, X, n_tokens, Y, range.begin(), range.end(), buf.data(), acc);
                    });
}

// W (rows, cols) @ X (n_tokens, cols)^T -> Y (n_tokens, rows)
void matmul(const Tensor& W, const float* X, int64_t n_tokens, float* Y) {
  matmul_raw(W.dtype, W.data, W.rows, W.cols, W.row_bytes(), X, n_tokens, Y);
}

}  // namespace flashchat
