// dtype.h - element types of stored tensors and their conversions.
//
// The engine computes in fp32 but keeps weights in their stored type (F32, F16, BF16) so a
// half-precision model occupies half the memory. Block-quantised GGUF types (Q8_0, Q4_0) are
// dequantised to F16 at load time (see dtype_dequantize_to_f16).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace flashchat {

enum class DType : uint8_t { F32, F16, BF16, Q8_0, Q4_0 };

// "F32", "F16", "BF16", "Q8_0", "Q4_0".
const char* dtype_name(DType t);

// Elements per block (1 for plain types, 32 for Q8_0/Q4_0) and bytes per block.
int64_t dtype_block_elems(DType t);
int64_t dtype_block_bytes(DType t);

// Bytes needed for n elements; n must be a multiple of the block size (checked by callers).
inline int64_t dtype_bytes_for(DType t, int64_t n_elems) {
  return n_elems / dtype_block_elems(t) * dtype_block_bytes(t);
}

// IEEE half <-> float (round to nearest even), bfloat16 <-> float (round to nearest even).
float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_fp16(float f);
inline float bf16_to_fp32(uint16_t b) {
  uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}
uint16_t fp32_to_bf16(float f);

// Converts n elements of type `t` at src to fp32 (any type, including quantised blocks).
void dtype_to_fp32(DType t, const void* src, float* dst, int64_t n_elems);

// Converts n elements of quantised type `t` at src to IEEE half at dst.
void dtype_dequantize_to_f16(DType t, const void* src, uint16_t* dst, int64_t n_elems);

}  // namespace flashchat
