#include "model/weight_import.h"

#include "core/error.h"

#include <memory>
#include <string>
#include <vector>

namespace flashchat {

Tensor weight_import_matrix(Model& model, DType dtype, const void* data, int64_t rows,
                            int64_t cols) {
  Tensor t;
  t.rows = rows;
  t.cols = cols;
  (void)model;  // every dtype is used in place: the kernels compute on quantised rows
  if (cols % dtype_block_elems(dtype) != 0) {
    fail("weight import", std::string("a ") + dtype_name(dtype) + " matrix of " +
                              std::to_string(cols) + " columns: rows are not whole blocks");
  }
  t.dtype = dtype;
  t.data = data;
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
