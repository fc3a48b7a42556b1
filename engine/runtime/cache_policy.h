// cache_policy.h - which cached neurons make room for new ones, and how the budget's cache rows
// are shared by the layers.
//
// The neuron cache evicts only when it needs space: the victims are the cached neurons used
// least recently (by the token that last predicted them), so neurons of the last k tokens (the
// window) go only after every older neuron has gone, and the window never has to shrink as a
// whole. A layer's rows follow its measured demand (how many distinct neurons its window holds)
// instead of an even split. Pure functions: the runtime and the what-if simulator share them.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace flashchat {

// Appends to `victims` (cleared first) the `count` neurons among `cached` whose last_used is
// below `now` with the smallest last_used (ties: smaller neuron id first), in that order.
// last_used[i]: token index of the last token whose active set held neuron i (-1 = never).
// Fewer than `count` are returned when fewer cached neurons are older than `now`.
// scratch is reused between calls (grown to cached.size() at most).
void cache_pick_victims(std::span<const int32_t> cached, std::span<const int32_t> last_used,
                        int32_t now, int32_t count, std::vector<int32_t>& victims,
                        std::vector<std::pair<int32_t, int32_t>>& scratch);

// Splits total_rows over layers in proportion to demand[l] (>= 0), each layer getting at most
// cap[l] rows; rows a capped layer cannot take go to the others (in proportion again), so the
// result sums to min(total_rows, sum(cap)). All-zero demand splits evenly. Deterministic: the
// remainder of the integer division goes to the lowest layers first. rows is resized to the
// number of layers. Throws Error when demand and cap differ in size or an entry is negative.
void cache_split_rows(int64_t total_rows, std::span<const double> demand,
                      std::span<const int32_t> cap, std::vector<int32_t>& rows);

}  // namespace flashchat
