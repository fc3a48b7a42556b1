// bundle_kernels.h - dot / axpy over raw rows of a stored dtype (F32, F16, BF16), for weights that
// are not Tensors: neuron bundles in a cache row or an I/O buffer. AVX2 + F16C like matvec.cc.
#pragma once

#include <cstdint>

#include "formats/dtype.h"

namespace flashchat {

// True for the dtypes these kernels take (F32, F16, BF16).
bool bundle_dtype_supported(DType t);

// w (n,) in dtype t . x (n,) -> scalar. t must be supported (unchecked: callers check once).
float dot_raw(DType t, const void* w, const float* x, int64_t n);

// out (n,) += a * w (n,), w in dtype t.
void axpy_raw(DType t, const void* w, float a, float* out, int64_t n);

// Two dots sharing x: w0 (n,) . x and w1 (n,) . x -> *d0, *d1 (one pass over x).
void dot2_raw(DType t, const void* w0, const void* w1, const float* x, int64_t n, float* d0,
              float* d1);

}  // namespace flashchat
