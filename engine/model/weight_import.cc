#include "model/weight_import.h"

#include "core/error.h"

#include <cstring>
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

Tensor weight_rows_view(const Tensor& t, int64_t begin, int64_t count) {
  if (begin < 0 || count < 0 || begin + count > t.rows) {
    fail("weight import", "rows [" + std::to_string(begin) + ", " + std::to_string(begin + count) +
                              ") outside a matrix of " + std::to_string(t.rows) + " rows");
  }
  Tensor v = t;
  v.rows = count;
  v.data = t.row(begin);
  return v;
}

Tensor weight_rows_gather(Model& model, const Tensor& t, const std::vector<int64_t>& rows) {
  const int64_t row_bytes = t.row_bytes();
  auto buffer = std::make_shared<std::vector<uint8_t>>(rows.size() * static_cast<size_t>(row_bytes));
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= t.rows) {
      fail("weight import", "row " + std::to_string(rows[i]) + " outside a matrix of " +
                                std::to_string(t.rows) + " rows");
    }
    std::memcpy(buffer->data() + i * static_cast<size_t>(row_bytes), t.row(rows[i]),
                static_cast<size_t>(row_bytes));
  }
  model.storage.push_back(buffer);
  Tensor g = t;
  g.rows = static_cast<int64_t>(rows.size());
  g.data = buffer->data();
  return g;
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
