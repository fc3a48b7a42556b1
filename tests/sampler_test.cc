// sampler_test.cc - greedy, determinism, distribution and the truncation filters.
#include "model/sampler.h"

#include <QtTest>
#include <cmath>
#include <map>
#include <random>
#include <vector>

#include "core/error.h"

using flashchat::Sampler;
using flashchat::SamplingParams;

namespace {

// Every filter off, temperature 1: samples follow softmax(logits).
SamplingParams plain_params(uint64_t seed) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.repeat_penalty = 1.0f;
  p.seed = seed;
  return p;
}

std::vector<float> random_logits(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  return v;
}

// Draws `n` tokens from fresh copies of `logits`, returning the count per token.
std::map<int, int> draw_counts(Sampler& s, const std::vector<float>& logits, int n,
                               const std::vector<int>& history = {}) {
  std::map<int, int> counts;
  for (int i = 0; i < n; ++i) {
    std::vector<float> l = logits;
    ++counts[s.sample(l.data(), static_cast<int>(l.size()), history)];
  }
  return counts;
}

}  // namespace

class SamplerTest : public QObject {
  Q_OBJECT

 private slots:
  void argmax_picks_first_maximum() {
    const float l[] = {0.5f, 2.0f, -1.0f, 2.0f};
    QCOMPARE(flashchat::argmax(l, 4), 1);
    const float one[] = {-3.0f};
    QCOMPARE(flashchat::argmax(one, 1), 0);
  }

  void greedy_is_argmax() {
    SamplingParams p;  // defaults: penalty, top-k, top-p, min-p all on
    p.temperature = 0.0f;
    Sampler s(p);
    for (uint64_t seed = 0; seed < 20; ++seed) {
      std::vector<float> logits = random_logits(32000, seed);
      const int expected = flashchat::argmax(logits.data(), 32000);
      // greedy ignores everything else, including the repetition penalty
      QCOMPARE(s.sample(logits.data(), 32000, {expected, expected}), expected);
    }
  }

  void top_k_one_is_greedy() {
    SamplingParams p = plain_params(7);
    p.top_k = 1;
    p.temperature = 1.5f;
    Sampler s(p);
    for (uint64_t seed = 0; seed < 20; ++seed) {
      std::vector<float> logits = random_logits(5000, seed + 100);
      const int expected = flashchat::argmax(logits.data(), 5000);
      QCOMPARE(s.sample(logits.data(), 5000, {}), expected);
    }
  }

  void same_seed_same_tokens() {
    SamplingParams p;  // defaults with temperature 0.8
    p.seed = 1234;
    Sampler a(p), b(p);
    p.seed = 1235;
    Sampler c(p);
    std::vector<int> ta, tb, tc;
    for (int i = 0; i < 200; ++i) {
      std::vector<float> la = random_logits(1000, static_cast<uint64_t>(i) / 10);
      std::vector<float> lb = la, lc = la;
      ta.push_back(a.sample(la.data(), 1000, ta));
      tb.push_back(b.sample(lb.data(), 1000, tb));
      tc.push_back(c.sample(lc.data(), 1000, tc));
    }
    QCOMPARE(ta, tb);
    QVERIFY(ta != tc);  // a different seed gives a different sequence
  }

  void samples_follow_softmax() {
    const std::vector<float> logits = {1.0f, 2.0f, 0.5f};
    double z = 0.0;
    for (float l : logits) z += std::exp(l);
    Sampler s(plain_params(42));
    const int n = 100000;
    const auto counts = draw_counts(s, logits, n);
    for (int t = 0; t < 3; ++t) {
      const double expected = std::exp(logits[t]) / z;
      const double got = counts.count(t) ? counts.at(t) / static_cast<double>(n) : 0.0;
      QVERIFY2(std::abs(got - expected) < 0.01,
               qPrintable(QString("token %1: %2 vs %3").arg(t).arg(got).arg(expected)));
    }
  }

  void temperature_sharpens() {
    const std::vector<float> logits = {1.0f, 2.0f, 0.5f};
    SamplingParams p = plain_params(3);
    p.temperature = 0.25f;  // logits * 4: p(1) = 1 / (1 + e^-4 + e^-6) ~ 0.98
    Sampler s(p);
    const auto counts = draw_counts(s, logits, 20000);
    QVERIFY(counts.at(1) > 0.97 * 20000);
  }

  void top_p_keeps_the_nucleus() {
    // probabilities ~ 0.665, 0.245, 0.090: top_p 0.8 keeps tokens 0 and 1 only.
    const std::vector<float> logits = {2.0f, 1.0f, 0.0f};
    SamplingParams p = plain_params(11);
    p.top_p = 0.8f;
    Sampler s(p);
    const auto counts = draw_counts(s, logits, 20000);
    QVERIFY(!counts.count(2));
    QVERIFY(counts.count(0) && counts.count(1));
    // renormalised over the two: 0.665 / 0.91 ~ 0.731
    QVERIFY(std::abs(counts.at(0) / 20000.0 - 0.731) < 0.02);
    // a tiny top_p keeps exactly one token (the best)
    p.top_p = 1e-6f;
    Sampler one(p);
    const auto c1 = draw_counts(one, logits, 1000);
    QCOMPARE(c1.size(), size_t{1});
    QCOMPARE(c1.begin()->first, 0);
  }

  void min_p_drops_unlikely_tokens() {
    // p ~ 0.665, 0.245, 0.090: min_p 0.2 drops token 2 (0.090 < 0.2 * 0.665).
    const std::vector<float> logits = {2.0f, 1.0f, 0.0f};
    SamplingParams p = plain_params(5);
    p.min_p = 0.2f;
    Sampler s(p);
    const auto counts = draw_counts(s, logits, 20000);
    QVERIFY(!counts.count(2));
    QVERIFY(counts.count(0) && counts.count(1));
    p.min_p = 0.1f;  // 0.090 >= 0.0665 stays
    Sampler keep(p);
    QVERIFY(draw_counts(keep, logits, 20000).count(2));
  }

  void top_k_limits_candidates() {
    std::vector<float> logits = random_logits(40000, 77);
    std::vector<float> sorted = logits;
    std::sort(sorted.begin(), sorted.end(), std::greater<float>());
    SamplingParams p = plain_params(8);
    p.top_k = 5;
    p.temperature = 5.0f;  // flat enough that all five get drawn
    Sampler s(p);
    const auto counts = draw_counts(s, logits, 3000);
    QCOMPARE(counts.size(), size_t{5});
    for (const auto& [tok, n] : counts) QVERIFY(logits[tok] >= sorted[4]);
  }

  void repetition_penalty_lowers_repeated_tokens() {
    SamplingParams p = plain_params(9);
    p.repeat_penalty = 2.0f;
    p.repeat_last_n = 3;
    Sampler s(p);
    std::vector<float> logits = {2.0f, -1.0f, 2.0f, 1.0f};
    // the last three of the history are 0, 1, 0 (token 3 is older than repeat_last_n)
    s.sample(logits.data(), 4, {3, 0, 1, 0});
    QCOMPARE(logits[0], 1.0f);   // positive: divided, once despite repeating
    QCOMPARE(logits[1], -2.0f);  // negative: multiplied
    QCOMPARE(logits[2], 2.0f);   // untouched
    QCOMPARE(logits[3], 1.0f);   // outside the window
    // the effect on draws: two equal tokens, one of them repeated, the other wins most draws
    const std::vector<float> tie = {3.0f, 3.0f};
    const auto counts = draw_counts(s, tie, 5000, {0});
    QVERIFY(counts.at(1) > 0.7 * 5000);
  }

  void bad_input_throws() {
    SamplingParams p;
    p.repeat_penalty = 0.0f;
    QVERIFY_THROWS_EXCEPTION(flashchat::Error, Sampler{p});
    Sampler s(SamplingParams{});
    float l[1] = {0.0f};
    QVERIFY_THROWS_EXCEPTION(flashchat::Error, s.sample(l, 0, {}));
    // out-of-vocabulary ids in the history are ignored
    std::vector<float> logits = {1.0f, 0.0f};
    const int t = s.sample(logits.data(), 2, {-5, 99});
    QVERIFY(t == 0 || t == 1);
  }
};

QTEST_GUILESS_MAIN(SamplerTest)
#include "sampler_test.moc"
