// dtype_quant.cc - ggml's block-quantised types: dequantisation of one block (Q8_0, Q4_0, Q4_1,
// Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K) and the reference quantisers for Q8_0 and Q4_0.
//
// Layouts (little endian, `d`/`m`/`dmin` IEEE half):
//   Q8_0 (32, 34 B):  d, int8 q[32]                          x = q * d
//   Q4_0 (32, 18 B):  d, qs[16]                              x = (nib - 8) * d
//   Q4_1 (32, 20 B):  d, m, qs[16]                           x = nib * d + m
//   Q5_0 (32, 22 B):  d, qh[4], qs[16]                       x = ((nib | hbit << 4) - 16) * d
//   Q5_1 (32, 24 B):  d, m, qh[4], qs[16]                    x = (nib | hbit << 4) * d + m
//   (element j < 16 is the low nibble of qs[j], j >= 16 the high nibble of qs[j - 16]; its 5th
//    bit is bit j of the 32-bit qh)
//   Q2_K (256, 84 B):  scales[16] (scale | min << 4), qs[64] (2 bits), d, dmin
//   Q3_K (256, 110 B): hmask[32], qs[64] (2 low bits), scales[12] (16 x 6 bits), d
//   Q4_K (256, 144 B): d, dmin, scales[12] (8 x 6-bit scale + 8 x 6-bit min), qs[128]
//   Q5_K (256, 176 B): d, dmin, scales[12] (as Q4_K), qh[32], qs[128]
//   Q6_K (256, 210 B): ql[128], qh[64], int8 scales[16], d
// This file is compiled with -ffp-contract=off: every product and sum is rounded separately,
// as the format's reference code computes it.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "formats/dtype.h"

namespace flashchat {
namespace {

float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return fp16_to_fp32(h);
}

// Q4_0/Q4_1/Q5_0/Q5_1: the 32 (4- or 5-bit) quants of a block, unsigned.
void quants_4_5(const uint8_t* qs, const uint8_t* qh, int q[32]) {
  uint32_t h = 0;
  if (qh != nullptr) std::memcpy(&h, qh, 4);
  for (int j = 0; j < 16; ++j) {
    q[j] = (qs[j] & 0x0f) | static_cast<int>(((h >> j) << 4) & 0x10);
    q[j + 16] = (qs[j] >> 4) | static_cast<int>((h >> (j + 12)) & 0x10);
  }
}

// Q4_K/Q5_K: the 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes.
void scale_min_k4(int j, const uint8_t* s, int* sc, int* mn) {
  if (j < 4) {
    *sc = s[j] & 63;
    *mn = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4);
    *mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// Q3_K: the 6-bit scale of sub-block i (0..15), unsigned (the format subtracts 32).
int scale_q3k(int i, const uint8_t* s) {
  const int low = i < 8 ? (s[i] & 0x0f) : (s[i - 8] >> 4);
  const int high = (s[8 + i % 4] >> (2 * (i / 4))) & 3;
  return low | (high << 4);
}

void block_q2_k(const uint8_t* b, float* y) {
  const uint8_t* scales = b;
  const uint8_t* q = b + 16;
  const float d = half_at(b + 80), dmin = half_at(b + 82);
  int is = 0;
  for (int n = 0; n < 256; n += 128) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int half = 0; half < 2; ++half) {
        const uint8_t sc = scales[is++];
        const float dl = d * static_cast<float>(sc & 0x0f), ml = dmin * static_cast<float>(sc >> 4);
        for (int l = 0; l < 16; ++l) {
          *y++ = dl * static_cast<float>((q[l + 16 * half] >> shift) & 3) - ml;
        }
      }
    }
    q += 32;
  }
}

void block_q3_k(const uint8_t* b, float* y) {
  const uint8_t* hm = b;
  const uint8_t* q = b + 32;
  const uint8_t* scales = b + 96;
  const float d = half_at(b + 108);
  int is = 0;
  uint8_t m = 1;
  for (int n = 0; n < 256; n += 128) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int half = 0; half < 2; ++half) {
        const float dl = d * static_cast<float>(scale_q3k(is++, scales) - 32);
        for (int l = 16 * half; l < 16 * half + 16; ++l) {
          *y++ = dl * static_cast<float>(((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
        }
      }
      m = static_cast<uint8_t>(m << 1);
    }
    q += 32;
  }
}

// Q4_K (qh == nullptr) and Q5_K.
void block_q45_k(const uint8_t* b, const uint8_t* qh, const uint8_t* ql, float* y) {
  const float d = half_at(b), dmin = half_at(b + 2);
  const uint8_t* scales = b + 4;
  int u1 = 1, u2 = 2;
  for (int is = 0; is < 8; is += 2) {
    int sc, mn;
    scale_min_k4(is, scales, &sc, &mn);
    const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(mn);
    scale_min_k4(is + 1, scales, &sc, &mn);
    const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(mn);
    for (int l = 0; l < 32; ++l) {
      const int h = qh != nullptr && (qh[l] & u1) ? 16 : 0;
      *y++ = d1 * static_cast<float>((ql[l] & 0x0f) + h) - m1;
    }
    for (int l = 0; l < 32; ++l) {
      const int h = qh != nullptr && (qh[l] & u2) ? 16 : 0;
      *y++ = d2 * static_cast<float>((ql[l] >> 4) + h) - m2;
    }
    ql += 32;
    u1 <<= 2;
    u2 <<= 2;
  }
}

void block_q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
  const float d = half_at(b + 208);
  for (int n = 0; n < 256; n += 128) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
      y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
      y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
      y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
    }
    y += 128;
    ql += 64;
    qh += 32;
    sc += 8;
  }
}

}  // namespace

// One block of `t` at b -> dtype_block_elems(t) floats at y.
void dtype_block_to_fp32(DType t, const uint8_t* b, float* y) {
  int q[32];
  switch (t) {
    case DType::Q8_0: {
      const float d = half_at(b);
      for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(static_cast<int8_t>(b[2 + j])) * d;
      return;
    }
    case DType::Q4_0:
    case DType::Q5_0: {
      const float d = half_at(b);
      const bool five = t == DType::Q5_0;
      quants_4_5(b + (five ? 6 : 2), five ? b + 2 : nullptr, q);
      const int offset = five ? 16 : 8;
      for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(q[j] - offset) * d;
      return;
    }
    case DType::Q4_1:
    case DType::Q5_1: {
      const float d = half_at(b), m = half_at(b + 2);
      const bool five = t == DType::Q5_1;
      quants_4_5(b + (five ? 8 : 4), five ? b + 4 : nullptr, q);
      for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(q[j]) * d + m;
      return;
    }
    case DType::Q2_K: return block_q2_k(b, y);
    case DType::Q3_K: return block_q3_k(b, y);
    case DType::Q4_K: return block_q45_k(b, nullptr, b + 16, y);
    case DType::Q5_K: return block_q45_k(b, b + 16, b + 48, y);
    case DType::Q6_K: return block_q6_k(b, y);
    default: fail("dtype", std::string("dtype_block_to_fp32: ") + dtype_name(t) + " is not a block type");
  }
}

// n fp32 -> Q8_0 / Q4_0 blocks
void dtype_quantize_from_fp32(DType t, const float* x, void* dst, int64_t n) {
  if (t != DType::Q8_0 && t != DType::Q4_0) {
    fail("dtype", std::string("cannot quantise to ") + dtype_name(t) + " (Q8_0, Q4_0)");
  }
  if (n % 32 != 0) fail("dtype", "quantising " + std::to_string(n) + " values: not whole blocks of 32");
  uint8_t* out = static_cast<uint8_t*>(dst);
  for (int64_t b = 0; b < n / 32; ++b, x += 32) {
    uint8_t* blk = out + b * dtype_block_bytes(t);
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < 32; ++j) {
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = t == DType::Q8_0 ? amax / 127.0f : max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const uint16_t d16 = fp32_to_fp16(d);
    std::memcpy(blk, &d16, 2);
    if (t == DType::Q8_0) {
      for (int j = 0; j < 32; ++j) blk[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(std::round(x[j] * id)));
    } else {
      for (int j = 0; j < 16; ++j) {
        const int lo = std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * id + 8.5f)));
        const int hi = std::min(15, static_cast<int>(static_cast<int8_t>(x[j + 16] * id + 8.5f)));
        blk[2 + j] = static_cast<uint8_t>(lo | (hi << 4));
      }
    }
  }
}

bool dtype_has_split_scales(DType t) { return t == DType::Q8_0 || t == DType::Q4_0; }

namespace {
void split_check(DType t, int64_t n) {
  if (!dtype_has_split_scales(t)) {
    fail("dtype", std::string(dtype_name(t)) + " has no split-scale form (Q8_0, Q4_0)");
  }
  if (n % 32 != 0) fail("dtype", std::to_string(n) + " values: not whole blocks of 32");
}
}  // namespace

// blocks [d | quants]... -> quants..., d...
void dtype_blocks_split(DType t, const void* blocks, int64_t n, uint8_t* quants, uint16_t* scales) {
  split_check(t, n);
  const int64_t bb = dtype_block_bytes(t), qb = bb - 2;
  const auto* in = static_cast<const uint8_t*>(blocks);
  for (int64_t b = 0; b < n / 32; ++b) {
    std::memcpy(&scales[b], in + b * bb, 2);
    std::memcpy(quants + b * qb, in + b * bb + 2, static_cast<size_t>(qb));
  }
}

// quants..., d... -> blocks [d | quants]...
void dtype_blocks_join(DType t, const uint8_t* quants, const uint16_t* scales, int64_t n, void* blocks) {
  split_check(t, n);
  const int64_t bb = dtype_block_bytes(t), qb = bb - 2;
  auto* out = static_cast<uint8_t*>(blocks);
  for (int64_t b = 0; b < n / 32; ++b) {
    std::memcpy(out + b * bb, &scales[b], 2);
    std::memcpy(out + b * bb + 2, quants + b * qb, static_cast<size_t>(qb));
  }
}

}  // namespace flashchat
