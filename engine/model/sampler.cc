// sampler.cc - repetition penalty, temperature, top-k, top-p, min-p and a seeded draw.
#include "model/sampler.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"

namespace flashchat {
namespace {

// Higher logit first; lower id first on ties, so the order (and hence the draw) is the same on
// every standard library.
bool by_logit_desc(const std::pair<float, int>& a, const std::pair<float, int>& b) {
  return a.first > b.first || (a.first == b.first && a.second < b.second);
}

}  // namespace

int argmax(const float* logits, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  return best;
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {
  if (!(params.repeat_penalty > 0.0f)) {
    fail("sampler", "repeat_penalty must be > 0, got " + std::to_string(params.repeat_penalty));
  }
  if (std::isnan(params.temperature) || std::isnan(params.top_p) || std::isnan(params.min_p)) {
    fail("sampler", "temperature, top_p and min_p must be numbers");
  }
}

int Sampler::sample(float* logits, int n_vocab, const std::vector<int>& history) {
  if (n_vocab <= 0 || logits == nullptr) {
    fail("sampler", "no logits to sample from (n_vocab " + std::to_string(n_vocab) + ")");
  }
  const SamplingParams& p = params_;
  // temperature 0: plain argmax of the model's logits; nothing else applies.
  if (p.temperature <= 0.0f) return argmax(logits, n_vocab);

  // Repetition penalty (llama.cpp): each distinct token of the last repeat_last_n has its logit
  // divided by the penalty when positive, multiplied when negative. repeat_last_n < 0: all.
  if (p.repeat_penalty != 1.0f && p.repeat_last_n != 0 && !history.empty()) {
    const size_t n_hist = p.repeat_last_n < 0
                              ? history.size()
                              : std::min(history.size(), static_cast<size_t>(p.repeat_last_n));
    std::vector<int> recent(history.end() - static_cast<std::ptrdiff_t>(n_hist), history.end());
    std::sort(recent.begin(), recent.end());
    recent.erase(std::unique(recent.begin(), recent.end()), recent.end());
    for (int tok : recent) {
      if (tok < 0 || tok >= n_vocab) continue;
      float& l = logits[tok];
      l = l > 0.0f ? l / p.repeat_penalty : l * p.repeat_penalty;
    }
  }

  const float inv_temp = 1.0f / p.temperature;
  for (int i = 0; i < n_vocab; ++i) logits[i] *= inv_temp;

  candidates_.resize(static_cast<size_t>(n_vocab));
  for (int i = 0; i < n_vocab; ++i) candidates_[static_cast<size_t>(i)] = {logits[i], i};

  // top-k (partial sort); otherwise a full sort only when top-p needs the order.
  size_t n = candidates_.size();
  if (p.top_k > 0 && static_cast<size_t>(p.top_k) < n) {
    n = static_cast<size_t>(p.top_k);
    std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<std::ptrdiff_t>(n),
                      candidates_.end(), by_logit_desc);
    candidates_.resize(n);
  } else if (p.top_p < 1.0f) {
    std::sort(candidates_.begin(), candidates_.end(), by_logit_desc);
  } else {
    // unsorted: move the maximum to the front so that candidates_[0] is p_max below
    std::iter_swap(candidates_.begin(),
                   std::min_element(candidates_.begin(), candidates_.end(), by_logit_desc));
  }

  // softmax (in place over .first), max subtracted; candidates_[0] holds the maximum.
  const float max_logit = candidates_[0].first;
  double sum = 0.0;
  for (auto& c : candidates_) {
    c.first = std::exp(c.first - max_logit);
    sum += c.first;
  }
  for (auto& c : candidates_) c.first = static_cast<float>(c.first / sum);

  // top-p: the shortest sorted prefix whose mass reaches top_p (at least one token).
  if (p.top_p < 1.0f) {
    double cum = 0.0;
    size_t keep = candidates_.size();
    for (size_t i = 0; i < candidates_.size(); ++i) {
      cum += candidates_[i].first;
      if (cum >= p.top_p) {
        keep = i + 1;
        break;
      }
    }
    candidates_.resize(std::max<size_t>(keep, 1));
  }

  // min-p: drop tokens below min_p * p_max (the maximum always survives).
  if (p.min_p > 0.0f) {
    const float threshold = p.min_p * candidates_[0].first;
    candidates_.erase(
        std::remove_if(candidates_.begin() + 1, candidates_.end(),
                       [threshold](const std::pair<float, int>& c) { return c.first < threshold; }),
        candidates_.end());
  }

  // draw: u uniform in [0, mass), walk the cumulative distribution.
  double mass = 0.0;
  for (const auto& c : candidates_) mass += c.first;
  const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53 * mass;
  double cum = 0.0;
  for (const auto& c : candidates_) {
    cum += c.first;
    if (u < cum) return c.second;
  }
  return candidates_.back().second;
}

}  // namespace flashchat
