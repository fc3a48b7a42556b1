// matmul.h - the matrix-matrix kernel of batched (prompt) forward passes: one weight matrix
// times a block of token activations, each weight row decoded once and used for every token.
//
// Weights stay in their stored dtype (F32, F16, BF16, or block-quantised: each row's blocks are
// decoded to fp32 once per call, see formats/dtype.h); activations are fp32. For F16 and BF16 every output equals
// matvec() of that token bit for bit (the same per-row accumulation order, see matmul.cc); for
// F32 it is within float rounding of matvec (which goes through Eigen's own order).
#pragma once

#include <cstdint>

#include "compute/tensor.h"

namespace flashchat {

// W (rows, cols) @ X^T: X (n_tokens, cols) row-major -> Y (n_tokens, rows) row-major, i.e.
// Y[t, r] = W[r,:] . X[t,:]. Parallel over rows with TBB; the result does not depend on the
// thread count or the scheduling. n_tokens >= 0. Throws Error for quantised rows that are not
// whole blocks or an empty tensor with rows > 0.
void matmul(const Tensor& W, const float* X, int64_t n_tokens, float* Y);

// The same for rows that are not a Tensor: row r of W (cols elements of dtype) at
// w + r * row_stride_bytes, e.g. the up rows of neuron bundles (runtime/bundle_ffn.h).
void matmul_raw(DType dtype, const void* w, int64_t rows, int64_t cols, int64_t row_stride_bytes,
                const float* X, int64_t n_tokens, float* Y);

}  // namespace flashchat
