// dtype.h - element types of stored tensors and their conversions.
//
// The engine computes in fp32 but keeps weights in their stored type (F32, F16, BF16 and the
// block-quantised GGUF types Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K..Q6_K) so a model occupies in
// memory what it occupies on disk. The block layouts are ggml's (dtype_quant.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace flashchat {

enum class DType : uint8_t { F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K };

// Every dtype, in enum order (for name lookups and tests).
inline constexpr DType kAllDTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0,
                                       DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K,
                                       DType::Q4_K, DType::Q5_K, DType::Q6_K};

// "F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", ... as ggml names them.
const char* dtype_name(DType t);

// The dtype named `name` (dtype_name's spelling), or false.
bool dtype_from_name(const std::string& name, DType* out);

// True for the block-quantised types (everything but F32, F16, BF16).
inline bool dtype_is_quantized(DType t) {
  return t != DType::F32 && t != DType::F16 && t != DType::BF16;
}

// Elements per block (1 for plain types, 32 for Q*_0/Q*_1, 256 for the K-quants) and bytes per
// block.
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

// One block of quantised type `t` at src -> dtype_block_elems(t) floats at dst. Each value is
// computed as ggml's reference dequantisation does (same operations, same order, no fused
// multiply-add), so results are bit-exact to the format's definition.
void dtype_block_to_fp32(DType t, const uint8_t* src, float* dst);

// Quantises n fp32 values (n a multiple of 32) into Q8_0 or Q4_0 blocks at dst, as ggml's
// reference quantisers do (Q8_0: d = max|x| / 127, q = round(x / d); Q4_0: d = x_maxabs / -8,
// q = min(15, trunc(x / d + 8.5))). Throws Error for any other target type.
void dtype_quantize_from_fp32(DType t, const float* src, void* dst, int64_t n_elems);

// Q8_0 / Q4_0 rows with the block scales kept apart from the quants (flash bundles of format
// 2): a block is a 2-byte f16 scale followed by its quants; split, n elements (a multiple of
// 32) are n / 32 scales plus dtype_split_quant_bytes(t, n) bytes of quants, block after block.
bool dtype_has_split_scales(DType t);  // true for Q8_0 and Q4_0
inline int64_t dtype_split_quant_bytes(DType t, int64_t n_elems) {
  return n_elems / 32 * (dtype_block_bytes(t) - 2);
}
// blocks (n elements of t) -> quants + scales. Throws Error unless t has split scales.
void dtype_blocks_split(DType t, const void* blocks, int64_t n_elems, uint8_t* quants,
                        uint16_t* scales);
// quants + scales -> blocks (the inverse). Throws Error unless t has split scales.
void dtype_blocks_join(DType t, const uint8_t* quants, const uint16_t* scales, int64_t n_elems,
                       void* blocks);

}  // namespace flashchat
