// dtype_test.cc - half / bfloat16 conversions (exhaustively against the F16C hardware
// converter and at hand-picked rounding edges) and Q8_0 / Q4_0 dequantisation of hand-built
// blocks.
#include "formats/dtype.h"

#include <immintrin.h>

#include <QtTest>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

using flashchat::DType;

namespace {

float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint32_t float_to_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

bool half_is_nan(uint16_t h) {
  return (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0;
}
bool bf16_is_nan(uint16_t b) {
  return (b & 0x7f80u) == 0x7f80u && (b & 0x7fu) != 0;
}

// Reference conversions by the CPU's F16C unit (the build targets x86-64-v3).
uint16_t hw_fp32_to_fp16(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}
float hw_fp16_to_fp32(uint16_t h) {
  return _cvtsh_ss(h);
}

std::vector<uint8_t> block_q8(uint16_t d, const int8_t (&q)[32]) {
  std::vector<uint8_t> b(34);
  std::memcpy(b.data(), &d, 2);
  std::memcpy(b.data() + 2, q, 32);
  return b;
}

}  // namespace

class DtypeTest : public QObject {
  Q_OBJECT

 private slots:
  void names_and_sizes() {
    QCOMPARE(QString(flashchat::dtype_name(DType::F32)), QString("F32"));
    QCOMPARE(QString(flashchat::dtype_name(DType::F16)), QString("F16"));
    QCOMPARE(QString(flashchat::dtype_name(DType::BF16)), QString("BF16"));
    QCOMPARE(QString(flashchat::dtype_name(DType::Q8_0)), QString("Q8_0"));
    QCOMPARE(QString(flashchat::dtype_name(DType::Q4_0)), QString("Q4_0"));
    QCOMPARE(flashchat::dtype_block_elems(DType::F16), int64_t{1});
    QCOMPARE(flashchat::dtype_block_elems(DType::Q4_0), int64_t{32});
    QCOMPARE(flashchat::dtype_bytes_for(DType::F32, 10), int64_t{40});
    QCOMPARE(flashchat::dtype_bytes_for(DType::BF16, 10), int64_t{20});
    QCOMPARE(flashchat::dtype_bytes_for(DType::Q8_0, 64), int64_t{68});
    QCOMPARE(flashchat::dtype_bytes_for(DType::Q4_0, 96), int64_t{54});
  }

  void fp16_known_values() {
    QCOMPARE(flashchat::fp16_to_fp32(0x3c00), 1.0f);
    QCOMPARE(flashchat::fp16_to_fp32(0xc000), -2.0f);
    QCOMPARE(flashchat::fp16_to_fp32(0x7bff), 65504.0f);
    QCOMPARE(flashchat::fp16_to_fp32(0x0400), std::ldexp(1.0f, -14));         // smallest normal
    QCOMPARE(flashchat::fp16_to_fp32(0x0001), std::ldexp(1.0f, -24));         // smallest subnormal
    QCOMPARE(flashchat::fp16_to_fp32(0x03ff), 1023 * std::ldexp(1.0f, -24));  // largest subnormal
    QCOMPARE(flashchat::fp16_to_fp32(0x8001), -std::ldexp(1.0f, -24));
    QCOMPARE(flashchat::fp16_to_fp32(0x0200), std::ldexp(1.0f, -15));
    QVERIFY(std::isinf(flashchat::fp16_to_fp32(0x7c00)) && flashchat::fp16_to_fp32(0x7c00) > 0);
    QVERIFY(std::isinf(flashchat::fp16_to_fp32(0xfc00)) && flashchat::fp16_to_fp32(0xfc00) < 0);
    QVERIFY(std::isnan(flashchat::fp16_to_fp32(0x7e00)));
    QVERIFY(std::isnan(flashchat::fp16_to_fp32(0x7c01)));
    QVERIFY(std::signbit(flashchat::fp16_to_fp32(0x8000)));
    QCOMPARE(flashchat::fp16_to_fp32(0x8000), 0.0f);

    QCOMPARE(flashchat::fp32_to_fp16(1.0f), uint16_t{0x3c00});
    QCOMPARE(flashchat::fp32_to_fp16(-0.0f), uint16_t{0x8000});
    QCOMPARE(flashchat::fp32_to_fp16(std::numeric_limits<float>::infinity()), uint16_t{0x7c00});
    QCOMPARE(flashchat::fp32_to_fp16(-std::numeric_limits<float>::infinity()), uint16_t{0xfc00});
    QVERIFY(half_is_nan(flashchat::fp32_to_fp16(std::numeric_limits<float>::quiet_NaN())));
    QVERIFY(half_is_nan(flashchat::fp32_to_fp16(bits_to_float(0x7f800001u))));  // signalling
  }

  void fp16_rounding_edges() {
    const float ulp1 = std::ldexp(1.0f, -10);  // spacing of halves in [1, 2)
    // Ties go to even.
    QCOMPARE(flashchat::fp32_to_fp16(1.0f + ulp1 / 2), uint16_t{0x3c00});
    QCOMPARE(flashchat::fp32_to_fp16(1.0f + 3 * ulp1 / 2), uint16_t{0x3c02});
    QCOMPARE(flashchat::fp32_to_fp16(std::nextafter(1.0f + ulp1 / 2, 2.0f)), uint16_t{0x3c01});
    QCOMPARE(flashchat::fp32_to_fp16(std::nextafter(1.0f + ulp1 / 2, 0.0f)), uint16_t{0x3c00});
    // Mantissa carry into the exponent: just below 2 rounds up to 2.
    QCOMPARE(flashchat::fp32_to_fp16(std::nextafter(2.0f, 0.0f)), uint16_t{0x4000});
    // Overflow: 65504 is the largest half; 65520 is the tie with 65536 and rounds to inf.
    QCOMPARE(flashchat::fp32_to_fp16(65504.0f), uint16_t{0x7bff});
    QCOMPARE(flashchat::fp32_to_fp16(std::nextafter(65520.0f, 0.0f)), uint16_t{0x7bff});
    QCOMPARE(flashchat::fp32_to_fp16(65520.0f), uint16_t{0x7c00});
    QCOMPARE(flashchat::fp32_to_fp16(-1e10f), uint16_t{0xfc00});
    // Subnormals and underflow.
    const float sub = std::ldexp(1.0f, -24);
    QCOMPARE(flashchat::fp32_to_fp16(sub), uint16_t{0x0001});
    QCOMPARE(flashchat::fp32_to_fp16(sub / 2), uint16_t{0x0000});  // tie -> even (0)
    QCOMPARE(flashchat::fp32_to_fp16(std::nextafter(sub / 2, 1.0f)), uint16_t{0x0001});
    QCOMPARE(flashchat::fp32_to_fp16(-sub / 2), uint16_t{0x8000});
    QCOMPARE(flashchat::fp32_to_fp16(1.5f * sub), uint16_t{0x0002});  // tie -> even (2)
    QCOMPARE(flashchat::fp32_to_fp16(2.5f * sub), uint16_t{0x0002});
    QCOMPARE(flashchat::fp32_to_fp16(sub / 4), uint16_t{0x0000});
    QCOMPARE(flashchat::fp32_to_fp16(1e-30f), uint16_t{0x0000});
    // Largest subnormal + half an ulp ties up into the smallest normal.
    QCOMPARE(flashchat::fp32_to_fp16(1023.5f * sub), uint16_t{0x0400});
    QCOMPARE(flashchat::fp32_to_fp16(1022.5f * sub), uint16_t{0x03fe});
  }

  void fp16_exhaustive_against_f16c() {
    // Every half decodes exactly like the hardware and re-encodes to itself.
    for (uint32_t h = 0; h <= 0xffff; ++h) {
      const uint16_t h16 = static_cast<uint16_t>(h);
      const float f = flashchat::fp16_to_fp32(h16);
      if (half_is_nan(h16)) {
        QVERIFY(std::isnan(f));
        QVERIFY(half_is_nan(flashchat::fp32_to_fp16(f)));
        continue;
      }
      if (float_to_bits(f) != float_to_bits(hw_fp16_to_fp32(h16))) {
        QFAIL(qPrintable(QString("fp16_to_fp32(0x%1) = %2").arg(h, 4, 16).arg(f)));
      }
      if (flashchat::fp32_to_fp16(f) != h16) {
        QFAIL(qPrintable(QString("round trip of 0x%1 failed").arg(h, 4, 16)));
      }
    }
    // A dense stride through all float bit patterns encodes like the hardware (ties to even).
    for (uint64_t u = 0; u <= 0xffffffffull; u += 997) {
      const float f = bits_to_float(static_cast<uint32_t>(u));
      const uint16_t got = flashchat::fp32_to_fp16(f);
      if (std::isnan(f)) {
        if (!half_is_nan(got)) QFAIL("NaN did not stay NaN");
        continue;
      }
      if (got != hw_fp32_to_fp16(f)) {
        QFAIL(qPrintable(QString("fp32_to_fp16(bits 0x%1) = 0x%2, F16C says 0x%3")
                             .arg(u, 8, 16)
                             .arg(got, 4, 16)
                             .arg(hw_fp32_to_fp16(f), 4, 16)));
      }
    }
  }

  void bf16_conversions() {
    QCOMPARE(flashchat::bf16_to_fp32(0x3f80), 1.0f);
    QCOMPARE(flashchat::bf16_to_fp32(0xc040), -3.0f);
    QCOMPARE(flashchat::bf16_to_fp32(0x0001), bits_to_float(0x00010000u));  // subnormal
    QCOMPARE(flashchat::fp32_to_bf16(1.0f), uint16_t{0x3f80});
    const float ulp1 = std::ldexp(1.0f, -7);
    QCOMPARE(flashchat::fp32_to_bf16(1.0f + ulp1 / 2), uint16_t{0x3f80});      // tie -> even
    QCOMPARE(flashchat::fp32_to_bf16(1.0f + 3 * ulp1 / 2), uint16_t{0x3f82});  // tie -> even
    QCOMPARE(flashchat::fp32_to_bf16(std::nextafter(1.0f + ulp1 / 2, 2.0f)), uint16_t{0x3f81});
    QCOMPARE(flashchat::fp32_to_bf16(std::numeric_limits<float>::infinity()), uint16_t{0x7f80});
    QCOMPARE(flashchat::fp32_to_bf16(-std::numeric_limits<float>::infinity()), uint16_t{0xff80});
    QCOMPARE(flashchat::fp32_to_bf16(std::numeric_limits<float>::max()), uint16_t{0x7f80});
    QCOMPARE(flashchat::fp32_to_bf16(-0.0f), uint16_t{0x8000});
    QVERIFY(bf16_is_nan(flashchat::fp32_to_bf16(std::numeric_limits<float>::quiet_NaN())));
    // A NaN whose payload lives only in the low 16 bits must not collapse to infinity.
    QVERIFY(bf16_is_nan(flashchat::fp32_to_bf16(bits_to_float(0x7f800001u))));
    QVERIFY(bf16_is_nan(flashchat::fp32_to_bf16(bits_to_float(0xff800001u))));
    // Subnormal floats round like any other value.
    QCOMPARE(flashchat::fp32_to_bf16(bits_to_float(0x00018000u)), uint16_t{0x0002});
    QCOMPARE(flashchat::fp32_to_bf16(bits_to_float(0x00008000u)), uint16_t{0x0000});
    // Every bf16 value round-trips.
    for (uint32_t b = 0; b <= 0xffff; ++b) {
      const uint16_t b16 = static_cast<uint16_t>(b);
      const float f = flashchat::bf16_to_fp32(b16);
      if (bf16_is_nan(b16)) {
        QVERIFY(std::isnan(f));
        continue;
      }
      if (flashchat::fp32_to_bf16(f) != b16) {
        QFAIL(qPrintable(QString("bf16 round trip of 0x%1 failed").arg(b, 4, 16)));
      }
    }
  }

  void plain_arrays_to_fp32() {
    const std::vector<float> src{0.5f, -1.25f, 1e-6f, 300.0f};
    std::vector<uint16_t> h, b;
    for (float v : src) h.push_back(flashchat::fp32_to_fp16(v));
    for (float v : src) b.push_back(flashchat::fp32_to_bf16(v));
    float out[4];
    flashchat::dtype_to_fp32(DType::F32, src.data(), out, 4);
    for (int i = 0; i < 4; ++i) QCOMPARE(out[i], src[i]);
    flashchat::dtype_to_fp32(DType::F16, h.data(), out, 4);
    for (int i = 0; i < 4; ++i) QCOMPARE(out[i], flashchat::fp16_to_fp32(h[i]));
    QCOMPARE(out[1], -1.25f);
    flashchat::dtype_to_fp32(DType::BF16, b.data(), out, 4);
    for (int i = 0; i < 4; ++i) QCOMPARE(out[i], flashchat::bf16_to_fp32(b[i]));
    QCOMPARE(out[3], 300.0f);
  }

  void q8_0_hand_computed() {
    // Block 0: d = 0.25 (0x3400); block 1: d = -3.0 (0xc200).
    int8_t q0[32], q1[32];
    for (int i = 0; i < 32; ++i) {
      q0[i] = static_cast<int8_t>(i * 8 - 128);  // -128, -120, ..., 120
      q1[i] = static_cast<int8_t>(i % 2 == 0 ? i : -i);
    }
    q0[31] = 127;
    std::vector<uint8_t> data = block_q8(0x3400, q0);
    const std::vector<uint8_t> b1 = block_q8(0xc200, q1);
    data.insert(data.end(), b1.begin(), b1.end());
    float out[64];
    flashchat::dtype_to_fp32(DType::Q8_0, data.data(), out, 64);
    QCOMPARE(out[0], -32.0f);   // 0.25 * -128
    QCOMPARE(out[1], -30.0f);   // 0.25 * -120
    QCOMPARE(out[16], 0.0f);    // 0.25 * 0
    QCOMPARE(out[30], 28.0f);   // 0.25 * 112
    QCOMPARE(out[31], 31.75f);  // 0.25 * 127
    QCOMPARE(out[32], -0.0f);   // -3 * 0
    QCOMPARE(out[33], 3.0f);    // -3 * -1
    QCOMPARE(out[34], -6.0f);   // -3 * 2
    QCOMPARE(out[63], 93.0f);   // -3 * -31
    for (int i = 0; i < 32; ++i) {
      QCOMPARE(out[i], 0.25f * q0[i]);
      QCOMPARE(out[32 + i], -3.0f * q1[i]);
    }
    uint16_t h[64];
    flashchat::dtype_dequantize_to_f16(DType::Q8_0, data.data(), h, 64);
    for (int i = 0; i < 64; ++i) QCOMPARE(h[i], flashchat::fp32_to_fp16(out[i]));
  }

  void q4_0_hand_computed() {
    // d = 2.0 (0x4000). Byte i holds element i in its low nibble, element i + 16 in its high.
    std::vector<uint8_t> blk(18);
    const uint16_t d = 0x4000;
    std::memcpy(blk.data(), &d, 2);
    for (int i = 0; i < 16; ++i) blk[2 + i] = static_cast<uint8_t>(i | (15 - i) << 4);
    blk[2] = 0x0f;  // element 0 = 15 -> 2 * (15 - 8) = 14; element 16 = 0 -> -16
    blk[3] = 0x80;  // element 1 = 0 -> -16;                element 17 = 8 -> 0
    float out[32];
    flashchat::dtype_to_fp32(DType::Q4_0, blk.data(), out, 32);
    QCOMPARE(out[0], 14.0f);
    QCOMPARE(out[16], -16.0f);
    QCOMPARE(out[1], -16.0f);
    QCOMPARE(out[17], 0.0f);
    QCOMPARE(out[2], -12.0f);   // nibble 2 -> 2 * (2 - 8)
    QCOMPARE(out[18], 10.0f);   // nibble 13 -> 2 * (13 - 8)
    QCOMPARE(out[15], 14.0f);   // nibble 15
    QCOMPARE(out[31], -16.0f);  // nibble 0
    for (int i = 2; i < 16; ++i) {
      QCOMPARE(out[i], 2.0f * static_cast<float>(i - 8));
      QCOMPARE(out[16 + i], 2.0f * static_cast<float>(7 - i));
    }
    uint16_t h[32];
    flashchat::dtype_dequantize_to_f16(DType::Q4_0, blk.data(), h, 32);
    for (int i = 0; i < 32; ++i) QCOMPARE(h[i], flashchat::fp32_to_fp16(out[i]));
    // A subnormal scale.
    const uint16_t tiny = 0x0001;
    std::memcpy(blk.data(), &tiny, 2);
    flashchat::dtype_to_fp32(DType::Q4_0, blk.data(), out, 32);
    QCOMPARE(out[0], 7.0f * std::ldexp(1.0f, -24));
  }
};

QTEST_GUILESS_MAIN(DtypeTest)
#include "dtype_test.moc"
