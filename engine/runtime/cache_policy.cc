// cache_policy.cc - least-recently-used victims and the demand-weighted split of cache rows.
#include "runtime/cache_policy.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace flashchat {

void cache_pick_victims(std::span<const int32_t> cached, std::span<const int32_t> last_used,
                        int32_t now, int32_t count, std::vector<int32_t>& victims,
                        std::vector<std::pair<int32_t, int32_t>>& scratch) {
  victims.clear();
  if (count <= 0) return;
  scratch.clear();
  for (const int32_t n : cached) {
    const int32_t used = last_used[static_cast<size_t>(n)];
    if (used < now) scratch.emplace_back(used, n);
  }
  const size_t take = std::min(scratch.size(), static_cast<size_t>(count));
  if (take < scratch.size()) {
    std::nth_element(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(take),
                     scratch.end());
  }
  std::sort(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(take));
  for (size_t i = 0; i < take; ++i) victims.push_back(scratch[i].second);
}

void cache_split_rows(int64_t total_rows, std::span<const double> demand,
                      std::span<const int32_t> cap, std::vector<int32_t>& rows) {
  if (demand.size() != cap.size()) fail("cache split", "demand and cap differ in size");
  const size_t n = cap.size();
  rows.assign(n, 0);
  for (size_t l = 0; l < n; ++l) {
    if (demand[l] < 0 || cap[l] < 0) fail("cache split", "negative demand or cap");
  }
  // Water-filling: share what is left among the layers not yet at their cap, in proportion to
  // demand (evenly when those layers show no demand), until nothing is left or all are full.
  int64_t left = std::max<int64_t>(0, total_rows);
  std::vector<uint8_t> open(n, 1);
  while (left > 0) {
    double weight = 0;
    size_t n_open = 0;
    for (size_t l = 0; l < n; ++l) {
      if (open[l] && rows[l] >= cap[l]) open[l] = 0;
      if (open[l]) {
        weight += demand[l];
        ++n_open;
      }
    }
    if (n_open == 0) break;
    const bool even = weight <= 0;
    int64_t given = 0;
    for (size_t l = 0; l < n; ++l) {
      if (!open[l]) continue;
      const double share = even ? 1.0 / static_cast<double>(n_open) : demand[l] / weight;
      const int64_t want = static_cast<int64_t>(static_cast<double>(left) * share);
      const int64_t give = std::min<int64_t>(want, cap[l] - rows[l]);
      rows[l] += static_cast<int32_t>(give);
      given += give;
    }
    if (given == 0) {
      // Shares rounded to zero: hand out the remainder one row at a time, lowest layers first.
      for (size_t l = 0; l < n && left - given > 0; ++l) {
        if (open[l] && rows[l] < cap[l]) {
          ++rows[l];
          ++given;
        }
      }
      if (given == 0) break;
    }
    left -= given;
  }
}

}  // namespace flashchat
