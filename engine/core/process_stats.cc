#include "core/process_stats.h"

#include <malloc.h>

#include <cstdio>
#include <cstring>

namespace flashchat {

namespace {

int64_t status_field_kib(const char* field) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  int64_t kib = 0;
  const size_t n = std::strlen(field);
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, field, n) == 0 && line[n] == ':') {
      long long v = 0;
      if (std::sscanf(line + n + 1, "%lld", &v) == 1) kib = v;
      break;
    }
  }
  std::fclose(f);
  return kib;
}

}  // namespace

int64_t process_rss_bytes() { return status_field_kib("VmRSS") * 1024; }
int64_t process_peak_rss_bytes() { return status_field_kib("VmHWM") * 1024; }

int64_t process_heap_bytes() {
  const struct mallinfo2 mi = mallinfo2();
  return static_cast<int64_t>(mi.uordblks + mi.hblkhd);
}

}  // namespace flashchat
