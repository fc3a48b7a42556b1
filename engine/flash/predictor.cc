// predictor.cc - evaluating the low-rank sparsity predictor for one token, and rounding trained
// fp32 factors to the F16 they are stored in.
//
// Cost per call: rank*(dim + neurons) multiply-adds over half-precision A and B (two matvec
// calls: AVX2 + F16C, halves widened 8 at a time; TBB splits rows only for large shapes) plus one
// pass over the neurons; no allocation once `scratch` and `active` have grown to size. Memory
// bound: the F16 factors halve the bytes streamed per token compared with fp32.

#include "flash/predictor.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "compute/matvec.h"
#include "core/error.h"
#include "formats/dtype.h"
#include "compute/tensor.h"

namespace flashchat {

namespace {

constexpr float kF16Max = 65504.0f;

void check_shapes(const Predictor& p) {
  const int64_t r = p.rank, d = p.dim, n = p.neurons;
  if (r <= 0 || d <= 0 || n <= 0 || static_cast<int64_t>(p.a.size()) != r * d ||
      static_cast<int64_t>(p.b.size()) != n * r || static_cast<int64_t>(p.bias.size()) != n) {
    fail("predictor", "inconsistent shapes: rank " + std::to_string(r) + ", dim " +
                          std::to_string(d) + ", neurons " + std::to_string(n) + ", |a| " +
                          std::to_string(p.a.size()) + ", |b| " + std::to_string(p.b.size()) +
                          ", |bias| " + std::to_string(p.bias.size()));
  }
}

uint16_t to_f16_saturating(float v) {
  if (std::isnan(v)) return fp32_to_fp16(v);
  return fp32_to_fp16(std::clamp(v, -kF16Max, kF16Max));
}

}  // namespace

void predictor_store_f16(Predictor& p, const float* a, const float* b) {
  const int64_t r = p.rank, d = p.dim, n = p.neurons;
  if (r <= 0 || d <= 0 || n <= 0 || a == nullptr || b == nullptr) {
    fail("predictor", "cannot store factors: rank " + std::to_string(r) + ", dim " +
                          std::to_string(d) + ", neurons " + std::to_string(n));
  }
  p.a.resize(static_cast<size_t>(r * d));
  p.b.resize(static_cast<size_t>(n * r));
  for (int64_t k = 0; k < r; ++k) {
    float max_a = 0.0f, max_b = 0.0f;
    for (int64_t j = 0; j < d; ++j) max_a = std::max(max_a, std::fabs(a[k * d + j]));
    for (int64_t i = 0; i < n; ++i) max_b = std::max(max_b, std::fabs(b[i * r + k]));
    // 2^e with e ~ log2(sqrt(max_b / max_a)): both factors' largest entries end up ~equal.
    int e = 0;
    if (max_a > 0.0f && max_b > 0.0f && std::isfinite(max_a) && std::isfinite(max_b)) {
      e = static_cast<int>(
          std::lround(0.5 * (std::log2(double{max_b}) - std::log2(double{max_a}))));
      e = std::clamp(e, -60, 60);
    }
    for (int64_t j = 0; j < d; ++j) {
      p.a[static_cast<size_t>(k * d + j)] = to_f16_saturating(std::ldexp(a[k * d + j], e));
    }
    for (int64_t i = 0; i < n; ++i) {
      p.b[static_cast<size_t>(i * r + k)] = to_f16_saturating(std::ldexp(b[i * r + k], -e));
    }
  }
}

void predictor_weights_f32(const Predictor& p, std::vector<float>& a, std::vector<float>& b) {
  a.resize(p.a.size());
  b.resize(p.b.size());
  dtype_to_fp32(DType::F16, p.a.data(), a.data(), static_cast<int64_t>(p.a.size()));
  dtype_to_fp32(DType::F16, p.b.data(), b.data(), static_cast<int64_t>(p.b.size()));
}

// A (r,d) F16 @ x (d,) -> h (r,);  B (n,r) F16 @ h (r,) + bias (n,) -> z (n,);  active = {z > 0}
void predictor_predict(const Predictor& p, const float* x, std::vector<int32_t>& active,
                       std::vector<float>& scratch) {
  check_shapes(p);
  const int r = p.rank, n = p.neurons;
  scratch.resize(static_cast<size_t>(r) + static_cast<size_t>(n));
  float* h = scratch.data();
  float* z = scratch.data() + r;

  matvec(Tensor{DType::F16, r, p.dim, p.a.data()}, x, h);
  matvec(Tensor{DType::F16, n, r, p.b.data()}, h, z);

  active.clear();
  const float* bias = p.bias.data();
  for (int i = 0; i < n; ++i) {
    if (z[i] + bias[i] > 0.0f) active.push_back(i);
  }
}

}  // namespace flashchat
