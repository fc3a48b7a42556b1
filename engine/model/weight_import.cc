#include "model/weight_import.h"

#include <memory>
#include <vector>

namespace flashchat {

Tensor weight_import_matrix(Model& model, DType dtype, const void* data, int64_t rows,
                            int64_t cols) {
  Tensor t;
  t.rows = rows;
  t.cols = cols;
  if (dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16) {
    t.dtype = dtype;
    t.data = data;
    return t;
  }
  auto buffer = std::make_shared<std::vector<uint16_t>>(static_cast<size_t>(rows * cols));
  dtype_dequantize_to_f16(dtype, data, buffer->data(), rows * cols);
  t.dtype = DType::F16;
  t.data = buffer->data();
  model.storage.push_back(buffer);
  return t;
}

Tensor weight_import_vector(Model& model, DType dtype, const void* data, int64_t n) {
  auto buffer = std::make_shared<std::vector<float>>(static_cast<size_t>(n));
  dtype_to_fp32(dtype, data, buffer->data(), n);
  model.storage.push_back(buffer);
  Tensor t;
  t.dtype = DType::F32;
  t.rows = 1;
  t.cols = n;
  t.data = buffer->data();
  return t;
}

}  // namespace flashchat
