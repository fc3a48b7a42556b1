#include "formats/dtype.h"

#include <cmath>
#include <cstring>

namespace flashchat {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::Q8_0: return "Q8_0";
    case DType::Q4_0: return "Q4_0";
  }
  return "?";
}

int64_t dtype_block_elems(DType t) {
  return (t == DType::Q8_0 || t == DType::Q4_0) ? 32 : 1;
}

int64_t dtype_block_bytes(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::BF16: return 2;
    case DType::Q8_0: return 2 + 32;  // fp16 scale + 32 int8
    case DType::Q4_0: return 2 + 16;  // fp16 scale + 32 nibbles
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// half / bfloat16

float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;  // +-0
    } else {      // subnormal: normalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      bits = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (mant & 0x3ffu) << 13;
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | mant << 13;  // inf / nan
  } else {
    bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t fp32_to_fp16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // inf / nan
    return sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u);
  }
  if (abs >= 0x477ff000u) return sign | 0x7c00u;  // rounds to >= 65520: overflow to inf
  if (abs < 0x38800000u) {                         // below the smallest normal half
    if (abs < 0x33000000u) return sign;            // rounds to zero
    const uint32_t e = abs >> 23;
    const uint32_t m = (abs & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - e;                // 14..24
    uint32_t half_m = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half_m & 1u))) ++half_m;
    return sign | static_cast<uint16_t>(half_m);
  }
  uint32_t h = ((abs >> 13) - ((127 - 15) << 10));
  const uint32_t rem = abs & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // may carry into the exponent: fine
  return sign | static_cast<uint16_t>(h);
}

uint16_t fp32_to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // nan
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

// ---------------------------------------------------------------------------------------------
// block dequantisation. Q8_0: x[i] = d * q[i]. Q4_0: x[i] = d * (nibble[i] - 8), where the low
// nibbles of the 16 bytes are elements 0..15 and the high nibbles 16..31.

template <typename Store>
static void dequantize_blocks(DType t, const uint8_t* src, int64_t n_elems, Store store) {
  const int64_t n_blocks = n_elems / 32;
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* blk = src + b * dtype_block_bytes(t);
    uint16_t d16;
    std::memcpy(&d16, blk, 2);
    const float d = fp16_to_fp32(d16);
    const int64_t base = b * 32;
    if (t == DType::Q8_0) {
      const int8_t* q = reinterpret_cast<const int8_t*>(blk + 2);
      for (int i = 0; i < 32; ++i) store(base + i, d * static_cast<float>(q[i]));
    } else {
      const uint8_t* q = blk + 2;
      for (int i = 0; i < 16; ++i) {
        store(base + i, d * static_cast<float>((q[i] & 0x0f) - 8));
        store(base + i + 16, d * static_cast<float>((q[i] >> 4) - 8));
      }
    }
  }
}

void dtype_to_fp32(DType t, const void* src, float* dst, int64_t n) {
  const uint8_t* s = static_cast<const uint8_t*>(src);
  switch (t) {
    case DType::F32:
      std::memcpy(dst, s, static_cast<size_t>(n) * 4);
      return;
    case DType::F16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, s + 2 * i, 2);
        dst[i] = fp16_to_fp32(h);
      }
      return;
    case DType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, s + 2 * i, 2);
        dst[i] = bf16_to_fp32(h);
      }
      return;
    case DType::Q8_0:
    case DType::Q4_0:
      dequantize_blocks(t, s, n, [dst](int64_t i, float v) { dst[i] = v; });
      return;
  }
}

void dtype_dequantize_to_f16(DType t, const void* src, uint16_t* dst, int64_t n) {
  dequantize_blocks(t, static_cast<const uint8_t*>(src), n,
                    [dst](int64_t i, float v) { dst[i] = fp32_to_fp16(v); });
}

}  // namespace flashchat
