// sampler.h - choosing the next token from logits.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace flashchat {

struct SamplingParams {
  float temperature = 0.8f;   // 0 = greedy (argmax)
  int top_k = 40;             // <= 0: off
  float top_p = 0.95f;        // >= 1: off
  float min_p = 0.05f;        // <= 0: off; drop tokens with p < min_p * p_max
  float repeat_penalty = 1.1f;  // 1 = off; applied to the last repeat_last_n tokens
  int repeat_last_n = 64;
  uint64_t seed = 0;          // same seed + same logits -> same tokens
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);

  // Picks a token from logits (n_vocab,). `history` is the token sequence so far (for the
  // repetition penalty). logits are modified in place (penalty, temperature).
  int sample(float* logits, int n_vocab, const std::vector<int>& history);

  const SamplingParams& params() const { return params_; }

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int>> candidates_;  // reused between calls
};

// Index of the largest logit (first on ties).
int argmax(const float* logits, int n);

}  // namespace flashchat
