// bundle_kernels.h - dot / axpy over raw rows of a stored dtype, for weights that are not Tensors
// (neuron bundles in a cache row or an I/O buffer) and for matvec's quantised rows. AVX2 + F16C
// like matvec.cc. Every dtype is computed on directly; a quantised row (n a multiple of the
// block size) is never converted as a whole.
#pragma once

#include <cstdint>

#include "formats/dtype.h"

namespace flashchat {

// True for the dtypes flash bundles are stored in (F32, F16, BF16, Q8_0, Q4_0; the kernels
// below take every dtype).
bool bundle_dtype_supported(DType t);

// w (n,) in dtype t . x (n,) -> scalar. t must be supported (unchecked: callers check once).
float dot_raw(DType t, const void* w, const float* x, int64_t n);

// out (n,) += a * w (n,), w in dtype t.
void axpy_raw(DType t, const void* w, float a, float* out, int64_t n);

// Two dots sharing x: w0 (n,) . x and w1 (n,) . x -> *d0, *d1 (one pass over x).
void dot2_raw(DType t, const void* w0, const void* w1, const float* x, int64_t n, float* d0,
              float* d1);

// Q8_0 / Q4_0 rows in split form (dtype_blocks_split: the quants block after block, the n / 32
// f16 scales apart; n a multiple of 32), as flash bundles of format 2 hold them.
float dot_split(DType t, const uint8_t* quants, const uint16_t* scales, const float* x, int64_t n);
void axpy_split(DType t, const uint8_t* quants, const uint16_t* scales, float a, float* out,
                int64_t n);

}  // namespace flashchat
