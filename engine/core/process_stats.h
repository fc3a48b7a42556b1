// process_stats.h - this process's memory use, as the kernel counts it.
#pragma once

#include <cstdint>

namespace flashchat {

// Resident set size now and at its peak (VmRSS / VmHWM from /proc/self/status), bytes; 0 when
// unavailable.
int64_t process_rss_bytes();
int64_t process_peak_rss_bytes();

// Heap bytes in use (glibc mallinfo2: arena + mmapped chunks). The difference around building
// a structure is what it holds on the heap.
int64_t process_heap_bytes();

}  // namespace flashchat
