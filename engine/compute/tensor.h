// tensor.h - a weight as the compute kernels see it: a row-major (rows, cols) matrix or a
// vector (rows == 1) of any dtype (plain or block-quantised; a row is whole blocks), pointing at
// memory someone else owns
// (a file map or a buffer held by the Model).
#pragma once

#include <cstdint>

#include "formats/dtype.h"

namespace flashchat {

struct Tensor {
  DType dtype = DType::F32;
  int64_t rows = 0;
  int64_t cols = 0;
  const void* data = nullptr;

  bool empty() const { return data == nullptr; }
  int64_t n_elements() const { return rows * cols; }
  int64_t size_bytes() const { return dtype_bytes_for(dtype, n_elements()); }
  int64_t row_bytes() const { return dtype_bytes_for(dtype, cols); }
  const uint8_t* row(int64_t r) const { return static_cast<const uint8_t*>(data) + r * row_bytes(); }
  // Only for F32 tensors (norm weights and biases are always converted to F32 at load).
  const float* f32() const { return static_cast<const float*>(data); }
};

}  // namespace flashchat
