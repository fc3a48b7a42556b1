// matvec.h - the matrix-vector kernels every forward pass spends its time in.
//
// Weights stay in their stored dtype (F32, F16, BF16 or block-quantised: Q8_0, Q4_K, ...);
// activations are fp32. F32 goes through
// Eigen; F16/BF16 are converted a few rows at a time inside the kernel (AVX2 + F16C), never
// as a whole matrix. Work is split over output rows with TBB.
#pragma once

#include <cstdint>

#include "compute/tensor.h"

namespace flashchat {

// W (rows, cols) @ x (cols,) -> out (rows,). Parallel over rows.
void matvec(const Tensor& W, const float* x, float* out);

// Rows [row_begin, row_end) only: out[r - row_begin] = W[r,:] . x. Single-threaded; the building
// block for callers that split work themselves.
void matvec_rows(const Tensor& W, const float* x, float* out, int64_t row_begin, int64_t row_end);

// One row of W dotted with x.
float dot_row(const Tensor& W, int64_t row, const float* x);

// out (cols,) += a * W[row,:]  (used for W^T-style accumulation, e.g. down columns).
void axpy_row(const Tensor& W, int64_t row, float a, float* out);

}  // namespace flashchat
