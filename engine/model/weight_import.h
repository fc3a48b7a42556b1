// weight_import.h - turning raw tensors from a file (GGUF or safetensors) into the Tensors a
// Model holds. Shared by the format loaders.
//
// Matrices of every dtype (F32/F16/BF16 and the block-quantised types) are used in place,
// pointing into the file map: the kernels compute on quantised rows. Vectors (norm weights,
// biases) are always converted to an owned F32 buffer.
#pragma once

#include <cstdint>
#include <string>

#include "model/model.h"

namespace flashchat {

// A (rows, cols) matrix at `data` of type `dtype`. Throws Error when a row is not whole blocks.
Tensor weight_import_matrix(Model& model, DType dtype, const void* data, int64_t rows,
                            int64_t cols);

// An n-element vector converted to owned F32.
Tensor weight_import_vector(Model& model, DType dtype, const void* data, int64_t n);

}  // namespace flashchat
