// neuron_cache_test.cc - NeuronCache and NeuronWindow against std::set models: random add/remove
// sequences, row contents follow their neuron through swaps, maps stay consistent, no
// reallocation; window union / add / remove semantics including changes of k.
#include <QtTest>
#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "core/error.h"
#include "runtime/neuron_cache.h"
#include "runtime/neuron_window.h"

using flashchat::Error;
using flashchat::NeuronCache;
using flashchat::NeuronWindow;

namespace {

// A neuron-specific byte pattern: byte j of neuron n's row.
uint8_t pattern_byte(int32_t n, int64_t j) {
  return static_cast<uint8_t>((n * 131 + j * 7 + (j >> 8) * 3 + 17) & 0xff);
}

void fill_row(uint8_t* row, int32_t n, int64_t bytes) {
  for (int64_t j = 0; j < bytes; ++j) row[j] = pattern_byte(n, j);
}

// Everything NeuronCache promises, against the model set.
bool cache_matches(const NeuronCache& c, const std::set<int32_t>& model, QString* why) {
  if (c.used_rows() != static_cast<int32_t>(model.size())) {
    *why = QString("used %1 vs model %2").arg(c.used_rows()).arg(model.size());
    return false;
  }
  std::set<int32_t> rows_set;
  for (int32_t r = 0; r < c.used_rows(); ++r) {
    const int32_t n = c.row_to_neuron()[static_cast<size_t>(r)];
    if (!model.count(n)) {
      *why = QString("row %1 holds %2 not in model").arg(r).arg(n);
      return false;
    }
    if (c.neuron_to_row()[static_cast<size_t>(n)] != r) {
      *why = QString("neuron_to_row[%1] != %2").arg(n).arg(r);
      return false;
    }
    rows_set.insert(n);
    const uint8_t* row = c.row_data(r);
    for (int64_t j = 0; j < c.bundle_bytes(); ++j) {
      if (row[j] != pattern_byte(n, j)) {
        *why = QString("row %1 (neuron %2) byte %3 wrong").arg(r).arg(n).arg(j);
        return false;
      }
    }
  }
  if (rows_set != model) {
    *why = "rows are not a permutation of the model set";
    return false;
  }
  // No stale rows or map entries.
  for (int32_t r = c.used_rows(); r < c.max_capacity(); ++r) {
    if (c.row_to_neuron()[static_cast<size_t>(r)] != -1) {
      *why = QString("stale row_to_neuron[%1]").arg(r);
      return false;
    }
  }
  for (int32_t n = 0; n < c.n_neurons(); ++n) {
    const bool in = model.count(n) > 0;
    if (c.contains(n) != in || (!in && c.neuron_to_row()[static_cast<size_t>(n)] != -1)) {
      *why = QString("neuron %1 presence wrong").arg(n);
      return false;
    }
  }
  if (c.reallocations() != 0) {
    *why = "reallocated";
    return false;
  }
  return true;
}

}  // namespace

class NeuronCacheTest : public QObject {
  Q_OBJECT

 private slots:
  void construction_is_aligned_and_preallocated() {
    NeuronCache c(100, 3 * 4096, 10);
    QCOMPARE(reinterpret_cast<uintptr_t>(c.data()) % 4096, uintptr_t{0});
    QCOMPARE(reinterpret_cast<uintptr_t>(c.row_data(3)) % 4096, uintptr_t{0});
    QCOMPARE(c.row_data(1) - c.row_data(0), int64_t{3 * 4096});
    QCOMPARE(c.allocated_bytes(), int64_t{10} * 3 * 4096);
    QCOMPARE(c.capacity(), 10);
    QCOMPARE(c.used_rows(), 0);
    QCOMPARE(c.reallocations(), int64_t{0});
    NeuronCache empty(5, 100, 0);  // zero capacity is legal
    QCOMPARE(empty.capacity(), 0);
    QVERIFY_THROWS_EXCEPTION(Error, empty.append(1));
  }

  void invalid_use_throws() {
    QVERIFY_THROWS_EXCEPTION(Error, NeuronCache(10, 0, 5));
    QVERIFY_THROWS_EXCEPTION(Error, NeuronCache(10, 64, 11));
    QVERIFY_THROWS_EXCEPTION(Error, NeuronCache(-1, 64, 0));
    NeuronCache c(10, 64, 2);
    QVERIFY_THROWS_EXCEPTION(Error, c.append(10));
    QVERIFY_THROWS_EXCEPTION(Error, c.append(-1));
    c.append(3);
    QVERIFY_THROWS_EXCEPTION(Error, c.append(3));  // already present
    QVERIFY_THROWS_EXCEPTION(Error, c.remove(4));  // absent
    c.append(4);
    QVERIFY_THROWS_EXCEPTION(Error, c.append(5));  // full
    QVERIFY_THROWS_EXCEPTION(Error, c.set_capacity(3));
    QVERIFY_THROWS_EXCEPTION(Error, c.neuron_at(2));
    const std::vector<int32_t> dup{3, 3};
    QVERIFY_THROWS_EXCEPTION(Error, c.remove_many(dup));
    const std::vector<int32_t> absent{3, 7};
    QVERIFY_THROWS_EXCEPTION(Error, c.remove_many(absent));
    // Failed remove_many changed nothing.
    QCOMPARE(c.used_rows(), 2);
    QVERIFY(c.contains(3) && c.contains(4));
  }

  void remove_copies_last_row_over_hole() {
    NeuronCache c(8, 40, 8);
    for (int32_t n : {5, 1, 7, 2}) fill_row(c.append(n), n, 40);
    c.remove(1);  // row 1 <- row 3 (neuron 2)
    QCOMPARE(c.used_rows(), 3);
    QCOMPARE(c.row_of(2), 1);
    QCOMPARE(c.neuron_at(1), 2);
    QCOMPARE(c.row_of(1), -1);
    QCOMPARE(c.row_data(1)[5], pattern_byte(2, 5));
    QCOMPARE(c.rows_copied(), int64_t{1});
    QCOMPARE(c.row_of(7), 2);
    c.remove(7);  // the last row: no copy
    QCOMPARE(c.rows_copied(), int64_t{1});
    c.remove(5);  // row 0 <- row 1 (neuron 2)
    QCOMPARE(c.rows_copied(), int64_t{2});
    QCOMPARE(c.row_of(2), 0);
    QCOMPARE(c.row_data(0)[39], pattern_byte(2, 39));
    QCOMPARE(c.used_rows(), 1);
  }

  // replace: the evicted neuron's row goes to the new one in place; nothing is copied and the
  // other rows stay put; misuse throws and changes nothing.
  void replace_reuses_the_row_without_copies() {
    NeuronCache c(8, 40, 4);
    std::set<int32_t> model;
    for (int32_t n : {5, 1, 7}) {
      fill_row(c.append(n), n, 40);
      model.insert(n);
    }
    const int32_t row = c.row_of(1);
    uint8_t* dst = c.replace(1, 3);
    QCOMPARE(dst, c.row_data(row));
    fill_row(dst, 3, 40);
    model.erase(1);
    model.insert(3);
    QString why;
    QVERIFY2(cache_matches(c, model, &why), qPrintable(why));
    QCOMPARE(c.row_of(3), row);
    QCOMPARE(c.row_of(5), 0);
    QCOMPARE(c.row_of(7), 2);
    QCOMPARE(c.rows_copied(), int64_t{0});
    QVERIFY_THROWS_EXCEPTION(Error, c.replace(1, 4));   // 1 is gone
    QVERIFY_THROWS_EXCEPTION(Error, c.replace(5, 7));   // 7 is cached
    QVERIFY_THROWS_EXCEPTION(Error, c.replace(5, 8));   // out of range
    QVERIFY2(cache_matches(c, model, &why), qPrintable(why));
  }

  void random_add_remove_matches_set_model() {
    for (const uint32_t seed : {1u, 2u, 3u, 42u}) {
      std::mt19937 rng(seed);
      const int32_t n_neurons = 300;
      const int64_t bundle = 24 + static_cast<int64_t>(seed % 3) * 100;  // not page multiples
      const int32_t cap = 120;
      NeuronCache c(n_neurons, bundle, cap);
      std::set<int32_t> model;
      const uint8_t* base = c.data();
      QString why;
      for (int step = 0; step < 4000; ++step) {
        const int op = static_cast<int>(rng() % 10);
        if (op < 4 && static_cast<int32_t>(model.size()) < c.capacity()) {
          int32_t n;
          do n = static_cast<int32_t>(rng() % n_neurons); while (model.count(n));
          fill_row(c.append(n), n, bundle);
          model.insert(n);
        } else if (op < 7 && !model.empty()) {
          auto it = model.begin();
          std::advance(it, static_cast<long>(rng() % model.size()));
          c.remove(*it);
          model.erase(it);
        } else if (op < 9 && !model.empty()) {
          // Batch removal (the window's drop list), in random order.
          std::vector<int32_t> victims;
          for (int32_t n : model) {
            if (rng() % 3 == 0) victims.push_back(n);
          }
          std::shuffle(victims.begin(), victims.end(), rng);
          c.remove_many(victims);
          for (int32_t n : victims) model.erase(n);
        } else {
          // Change capacity within the preallocation; dropped neurons are the tail rows.
          const int32_t new_cap = static_cast<int32_t>(rng() % (cap + 1));
          std::vector<int32_t> tail;
          for (int32_t r = new_cap; r < c.used_rows(); ++r) tail.push_back(c.neuron_at(r));
          const std::vector<int32_t> dropped = c.set_capacity(new_cap);
          QCOMPARE(std::set<int32_t>(dropped.begin(), dropped.end()),
                   std::set<int32_t>(tail.begin(), tail.end()));
          QCOMPARE(dropped.size(), tail.size());
          for (int32_t n : dropped) model.erase(n);
          QCOMPARE(c.capacity(), new_cap);
          QVERIFY(c.used_rows() <= new_cap);
        }
        if (step % 50 == 0 || step > 3950) {
          QVERIFY2(cache_matches(c, model, &why), qPrintable(QString("seed %1 step %2: %3")
                                                                 .arg(seed).arg(step).arg(why)));
        }
      }
      QVERIFY2(cache_matches(c, model, &why), qPrintable(why));
      QCOMPARE(c.data(), base);  // never moved
      QCOMPARE(c.reallocations(), int64_t{0});
      c.clear();
      QCOMPARE(c.used_rows(), 0);
      QVERIFY2(cache_matches(c, {}, &why), qPrintable(why));
    }
  }

  void remove_many_skips_copies_of_removed_tail_rows() {
    NeuronCache c(10, 16, 10);
    for (int32_t n = 0; n < 6; ++n) fill_row(c.append(n), n, 16);
    const std::vector<int32_t> victims{0, 5, 4};  // 5 and 4 are the tail
    c.remove_many(victims);
    // Only one copy: neuron 3 (now last) moved into row 0.
    QCOMPARE(c.rows_copied(), int64_t{1});
    QCOMPARE(c.row_of(3), 0);
    QString why;
    QVERIFY2(cache_matches(c, {1, 2, 3}, &why), qPrintable(why));
  }

  // The move log (for the teaching view's animation): replaying the logged operations on a
  // plain row -> neuron array reproduces the cache's own maps after random appends, replaces,
  // removes, remove_many, shrinks and a clear; each remove logs a swap with the last row
  // (copies counted) or a drop of the last row.
  void move_log_replays_to_the_same_rows() {
    NeuronCache c(300, 64, 200, /*hold_rows=*/false);
    std::vector<flashchat::RowMove> log;
    c.set_move_log(&log);
    std::vector<int32_t> rows(200, -1);
    int32_t used = 0;
    int64_t moves = 0;
    auto replay = [&] {
      for (const flashchat::RowMove& m : log) {
        switch (m.kind) {
          case flashchat::RowMove::Kind::Append:
            QCOMPARE(m.row, used);
            rows[size_t(m.row)] = m.neuron;
            ++used;
            break;
          case flashchat::RowMove::Kind::Replace:
            QCOMPARE(rows[size_t(m.row)], m.old_neuron);
            rows[size_t(m.row)] = m.neuron;
            break;
          case flashchat::RowMove::Kind::Move:
            QCOMPARE(m.from, used - 1);  // always the last used row
            QCOMPARE(rows[size_t(m.row)], m.old_neuron);
            QCOMPARE(rows[size_t(m.from)], m.neuron);
            rows[size_t(m.row)] = rows[size_t(m.from)];
            rows[size_t(m.from)] = -1;
            --used;
            ++moves;
            break;
          case flashchat::RowMove::Kind::Drop:
            QCOMPARE(m.row, used - 1);
            QCOMPARE(rows[size_t(m.row)], m.old_neuron);
            rows[size_t(m.row)] = -1;
            --used;
            break;
        }
      }
      log.clear();
      QCOMPARE(used, c.used_rows());
      for (int32_t r = 0; r < used; ++r) QCOMPARE(rows[size_t(r)], c.row_to_neuron()[size_t(r)]);
    };
    std::mt19937 rng(5);
    std::set<int32_t> held;
    for (int round = 0; round < 40; ++round) {
      for (int i = 0; i < 30 && c.free_rows() > 0; ++i) {
        const int32_t n = int32_t(rng() % 300);
        if (held.insert(n).second) c.append(n);
      }
      replay();
      for (int i = 0; i < 5 && !held.empty(); ++i) {  // evict in place
        const int32_t old = *std::next(held.begin(), long(rng() % held.size()));
        const int32_t n = int32_t(rng() % 300);
        if (held.count(n)) continue;
        c.replace(old, n);
        held.erase(old);
        held.insert(n);
      }
      replay();
      std::vector<int32_t> gone;
      for (const int32_t n : held) {
        if (rng() % 3 == 0) gone.push_back(n);
      }
      if (round % 2 == 0) {
        c.remove_many(gone);
      } else {
        for (const int32_t n : gone) c.remove(n);
      }
      for (const int32_t n : gone) held.erase(n);
      replay();
      if (round % 10 == 9) {
        for (const int32_t n : c.set_capacity(std::max(0, c.used_rows() - 7))) held.erase(n);
        replay();
        c.set_capacity(200);
      }
    }
    QVERIFY(moves > 0);
    QCOMPARE(moves, c.rows_copied());
    c.clear();
    held.clear();
    replay();
    c.set_move_log(nullptr);
    c.append(1);
    QVERIFY(log.empty());  // off: nothing logged
  }

  void window_basic() {
    NeuronWindow w(20, 2);
    std::vector<int32_t> add, rem;
    const std::vector<int32_t> s1{1, 2, 3, 3};
    w.push(s1, nullptr, add, rem);
    QCOMPARE(add, (std::vector<int32_t>{1, 2, 3}));
    QVERIFY(rem.empty());
    QCOMPARE(w.union_size(), 3);
    const std::vector<int32_t> s2{3, 4};
    w.push(s2, nullptr, add, rem);
    QCOMPARE(add, (std::vector<int32_t>{4}));
    QVERIFY(rem.empty());
    QCOMPARE(w.ref_count(3), 2);
    const std::vector<int32_t> s3{5, 1};
    w.push(s3, nullptr, add, rem);  // drops {1,2,3}: 2 leaves; 1 re-enters, 3 is still in s2
    QCOMPARE(add, (std::vector<int32_t>{5}));
    QCOMPARE(rem, (std::vector<int32_t>{2}));
    QCOMPARE(w.union_size(), 4);  // {3,4,5,1}
    QVERIFY_THROWS_EXCEPTION(Error, w.set_k(0, nullptr, rem));
    const std::vector<int32_t> bad{20};
    QVERIFY_THROWS_EXCEPTION(Error, w.push(bad, nullptr, add, rem));
    QCOMPARE(w.sets_held(), 2);  // the failed push changed nothing
    w.set_k(1, nullptr, rem);  // drops {3,4}: both leave
    std::sort(rem.begin(), rem.end());
    QCOMPARE(rem, (std::vector<int32_t>{3, 4}));
    QCOMPARE(w.union_size(), 2);
    QCOMPARE(w.sets_held(), 1);
    w.set_k(4, nullptr, rem);  // growing drops nothing
    QVERIFY(rem.empty());
    QCOMPARE(w.sets_held(), 1);
  }

  // Window + cache driven together for thousands of tokens, k changing, against a model of the
  // last-k sets; the cache ends each token holding exactly the window union (capacity permitting).
  void window_with_cache_random() {
    std::mt19937 rng(7);
    const int32_t n_neurons = 200, bundle = 48;
    NeuronCache cache(n_neurons, bundle, n_neurons);
    NeuronWindow w(n_neurons, 3);
    std::deque<std::set<int32_t>> model_sets;
    int32_t k = 3;
    std::vector<int32_t> add, rem;
    QString why;
    for (int token = 0; token < 3000; ++token) {
      if (rng() % 25 == 0) {
        k = 1 + static_cast<int32_t>(rng() % 6);
        w.set_k(k, &cache, rem);
        while (static_cast<int32_t>(model_sets.size()) > k) model_sets.pop_front();
        cache.remove_many(rem);
      }
      // A correlated active set: mostly a drifting hot range plus random neurons.
      std::vector<int32_t> active;
      const int32_t centre = (token / 10) % n_neurons;
      for (int i = 0; i < 30; ++i) {
        active.push_back(static_cast<int32_t>(
            (centre + static_cast<int32_t>(rng() % 40)) % n_neurons));
      }
      for (int i = 0; i < 5; ++i) active.push_back(static_cast<int32_t>(rng() % n_neurons));
      std::set<int32_t> before;
      for (const auto& s : model_sets) before.insert(s.begin(), s.end());
      w.push(active, &cache, add, rem);
      model_sets.emplace_back(active.begin(), active.end());
      while (static_cast<int32_t>(model_sets.size()) > k) model_sets.pop_front();
      std::set<int32_t> uni;
      for (const auto& s : model_sets) uni.insert(s.begin(), s.end());
      // add = this set minus the cache; remove = cached neurons no longer in the window.
      const std::set<int32_t> cur(active.begin(), active.end());
      std::set<int32_t> want_add, want_rem;
      for (int32_t n : cur) {
        if (!cache.contains(n)) want_add.insert(n);
      }
      for (int32_t n : before) {
        if (!uni.count(n) && cache.contains(n)) want_rem.insert(n);
      }
      QCOMPARE(std::set<int32_t>(add.begin(), add.end()), want_add);
      QCOMPARE(add.size(), want_add.size());
      QCOMPARE(std::set<int32_t>(rem.begin(), rem.end()), want_rem);
      QCOMPARE(rem.size(), want_rem.size());
      QCOMPARE(w.union_size(), static_cast<int32_t>(uni.size()));
      cache.remove_many(rem);
      for (int32_t n : add) fill_row(cache.append(n), n, bundle);
      QVERIFY2(cache_matches(cache, uni, &why), qPrintable(QString("token %1: %2").arg(token).arg(why)));
      for (int32_t n = 0; n < n_neurons; ++n) QCOMPARE(w.in_window(n), uni.count(n) > 0);
    }
    QCOMPARE(cache.reallocations(), int64_t{0});
  }
};

QTEST_GUILESS_MAIN(NeuronCacheTest)
#include "neuron_cache_test.moc"
