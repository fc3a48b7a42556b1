// weight_import.h - turning raw tensors from a file (GGUF or safetensors) into the Tensors a
// Model holds. Shared by the format loaders.
//
// Matrices of every dtype (F32/F16/BF16 and the block-quantised types) are used in place,
// pointing into the file map: the kernels compute on quantised rows. Vectors (norm weights,
// biases) are always converted to an owned F32 buffer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/model.h"

namespace flashchat {

// A (rows, cols) matrix at `data` of type `dtype`. Throws Error when a row is not whole blocks.
Tensor weight_import_matrix(Model& model, DType dtype, const void* data, int64_t rows,
                            int64_t cols);

// Rows [begin, begin + count) of matrix `t`, a view into the same bytes (fused projections such
// as Phi-3's qkv and gate_up split without copying). Throws Error when the range is outside t.
Tensor weight_rows_view(const Tensor& t, int64_t begin, int64_t count);

// A matrix of `t`'s rows in the order `rows` lists them, copied into a buffer the model owns
// (Hugging Face Falcon's per-head interleaved query_key_value). Throws Error for a row outside t.
Tensor weight_rows_gather(Model& model, const Tensor& t, const std::vector<int64_t>& rows);

// An n-element vector converted to owned F32.
Tensor weight_import_vector(Model& model, DType dtype, const void* data, int64_t n);

}  // namespace flashchat
