// cache_policy_test.cc - the eviction order and the split of cache rows over layers, against
// brute-force models: victims are the oldest-used neurons (ties by id), never the current
// token's; the split sums to what fits, honours caps and follows demand.
#include <QtTest>
#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "core/error.h"
#include "runtime/cache_policy.h"

using namespace flashchat;

class CachePolicyTest : public QObject {
  Q_OBJECT

 private slots:
  void victims_are_least_recently_used_first() {
    std::mt19937 rng(7);
    for (int round = 0; round < 200; ++round) {
      const int32_t n = 1 + int32_t(rng() % 300);
      const int32_t now = int32_t(rng() % 20);
      std::vector<int32_t> last_used(static_cast<size_t>(n));
      for (auto& u : last_used) u = int32_t(rng() % (now + 1)) - 1;  // -1 .. now
      std::vector<int32_t> cached;
      for (int32_t i = 0; i < n; ++i) {
        if (rng() % 3 != 0) cached.push_back(i);
      }
      std::shuffle(cached.begin(), cached.end(), rng);
      const int32_t count = int32_t(rng() % (n + 2));
      std::vector<int32_t> victims;
      std::vector<std::pair<int32_t, int32_t>> scratch;
      cache_pick_victims(cached, last_used, now, count, victims, scratch);
      // Brute force: every cached neuron older than now, sorted by (last_used, id).
      std::vector<std::pair<int32_t, int32_t>> older;
      for (int32_t c : cached) {
        if (last_used[size_t(c)] < now) older.emplace_back(last_used[size_t(c)], c);
      }
      std::sort(older.begin(), older.end());
      const size_t take = std::min(older.size(), size_t(count));
      QCOMPARE(victims.size(), take);
      for (size_t i = 0; i < take; ++i) QCOMPARE(victims[i], older[i].second);
    }
  }

  void split_sums_honours_caps_and_follows_demand() {
    std::vector<int32_t> rows;
    // Proportional, no cap in the way.
    cache_split_rows(1000, std::vector<double>{1, 3}, std::vector<int32_t>{1000, 1000}, rows);
    QCOMPARE(rows, (std::vector<int32_t>{250, 750}));
    // A capped layer's surplus goes to the others.
    cache_split_rows(1000, std::vector<double>{1, 3}, std::vector<int32_t>{1000, 500}, rows);
    QCOMPARE(rows, (std::vector<int32_t>{500, 500}));
    // No demand yet: even.
    cache_split_rows(10, std::vector<double>{0, 0, 0}, std::vector<int32_t>{10, 10, 10}, rows);
    QCOMPARE(std::accumulate(rows.begin(), rows.end(), 0), 10);
    QVERIFY(*std::max_element(rows.begin(), rows.end()) -
                *std::min_element(rows.begin(), rows.end()) <= 1);
    // More rows than all caps: everyone full.
    cache_split_rows(100, std::vector<double>{5, 1}, std::vector<int32_t>{7, 9}, rows);
    QCOMPARE(rows, (std::vector<int32_t>{7, 9}));
    QVERIFY_THROWS_EXCEPTION(Error, cache_split_rows(10, std::vector<double>{1},
                                                     std::vector<int32_t>{1, 2}, rows));
    QVERIFY_THROWS_EXCEPTION(Error, cache_split_rows(10, std::vector<double>{-1},
                                                     std::vector<int32_t>{1}, rows));
    // Random: the sum is min(total, sum caps), every layer within its cap, and among layers
    // below their cap more demand never gets fewer rows (up to one row of rounding).
    std::mt19937 rng(11);
    for (int round = 0; round < 300; ++round) {
      const size_t n = 1 + rng() % 40;
      std::vector<double> demand(n);
      std::vector<int32_t> cap(n);
      for (size_t l = 0; l < n; ++l) {
        demand[l] = double(rng() % 500);
        cap[l] = int32_t(rng() % 2000);
      }
      const int64_t total = int64_t(rng() % 40000);
      cache_split_rows(total, demand, cap, rows);
      QCOMPARE(rows.size(), n);
      const int64_t caps = std::accumulate(cap.begin(), cap.end(), int64_t{0});
      const int64_t sum = std::accumulate(rows.begin(), rows.end(), int64_t{0});
      QCOMPARE(sum, std::min(total, caps));
      for (size_t a = 0; a < n; ++a) {
        QVERIFY(rows[a] >= 0 && rows[a] <= cap[a]);
        for (size_t b = 0; b < n; ++b) {
          if (rows[a] < cap[a] && demand[a] > demand[b]) QVERIFY(rows[a] + 1 >= rows[b]);
        }
      }
    }
  }
};

QTEST_GUILESS_MAIN(CachePolicyTest)
#include "cache_policy_test.moc"
