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
    case DType::Q4_1: return "Q4_1";
    case DType::Q5_0: return "Q5_0";
    case DType::Q5_1: return "Q5_1";
    case DType::Q2_K: return "Q2_K";
    case DType::Q3_K: return "Q3_K";
    case DType::Q4_K: return "Q4_K";
    case DType::Q5_K: return "Q5_K";
    case DType::Q6_K: return "Q6_K";
  }
  return "?";
}

bool dtype_from_name(const std::string& name, DType* out) {
  for (DType t : kAllDTypes) {
    if (name == dtype_name(t)) {
      *out = t;
      return true;
    }
  }
  return false;
}

int64_t dtype_block_elems(DType t) {
  switch (t) {
    case DType::F32:
    case DType::F16:
    case DType::BF16: return 1;
    case DType::Q8_0:
    case DType::Q4_0:
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1: return 32;
    default: return 256;  // K-quants
  }
}

int64_t dtype_block_bytes(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::BF16: return 2;
    case DType::Q8_0: return 2 + 32;            // d, 32 int8
    case DType::Q4_0: return 2 + 16;            // d, 32 nibbles
    case DType::Q4_1: return 2 + 2 + 16;        // d, m, 32 nibbles
    case DType::Q5_0: return 2 + 4 + 16;        // d, 32 high bits, 32 nibbles
    case DType::Q5_1: return 2 + 2 + 4 + 16;    // d, m, 32 high bits, 32 nibbles
    case DType::Q2_K: return 16 + 64 + 2 + 2;   // scales, 2-bit quants, d, dmin
    case DType::Q3_K: return 32 + 64 + 12 + 2;  // high bits, 2-bit low quants, scales, d
    case DType::Q4_K: return 2 + 2 + 12 + 128;  // d, dmin, scales/mins, nibbles
    case DType::Q5_K: return 2 + 2 + 12 + 32 + 128;  // d, dmin, scales/mins, high bits, nibbles
    case DType::Q6_K: return 128 + 64 + 16 + 2;  // low nibbles, high 2 bits, int8 scales, d
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
// element conversion

// Quantised blocks through dtype_block_to_fp32, one block at a time.
template <typename Store>
static void dequantize_blocks(DType t, const uint8_t* src, int64_t n_elems, Store store) {
  const int64_t be = dtype_block_elems(t), bb = dtype_block_bytes(t);
  float tmp[256];
  for (int64_t b = 0; b < n_elems / be; ++b) {
    dtype_block_to_fp32(t, src + b * bb, tmp);
    for (int64_t i = 0; i < be; ++i) store(b * be + i, tmp[i]);
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
    default: {
      const int64_t be = dtype_block_elems(t), bb = dtype_block_bytes(t);
      for (int64_t b = 0; b < n / be; ++b) dtype_block_to_fp32(t, s + b * bb, dst + b * be);
      return;
    }
  }
}

void dtype_dequantize_to_f16(DType t, const void* src, uint16_t* dst, int64_t n) {
  dequantize_blocks(t, static_cast<const uint8_t*>(src), n,
                    [dst](int64_t i, float v) { dst[i] = fp32_to_fp16(v); });
}

}  // namespace flashchat
