#include "core/units.h"

#include <cctype>
#include <cmath>
#include <cstdio>

#include "core/error.h"

namespace flashchat {

int64_t size_parse_bytes(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) fail("size '" + text + "'", "expected a number such as 512M or 2G");
  double value = 0;
  try {
    value = std::stod(text.substr(0, i));
  } catch (const std::exception&) {
    fail("size '" + text + "'", "expected a number such as 512M or 2G");
  }
  std::string unit = text.substr(i);
  for (char& ch : unit) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (unit.size() >= 2 && unit.back() == 'B') unit.pop_back();  // "MB", "GIB" -> "M", "GI"
  if (!unit.empty() && unit.back() == 'I') unit.pop_back();
  double scale = 1;
  if (unit.empty()) scale = 1;
  else if (unit == "K") scale = 1024.0;
  else if (unit == "M") scale = 1024.0 * 1024;
  else if (unit == "G") scale = 1024.0 * 1024 * 1024;
  else if (unit == "T") scale = 1024.0 * 1024 * 1024 * 1024;
  else fail("size '" + text + "'", "unknown unit (use K, M, G or T)");
  const double bytes = value * scale;
  if (!std::isfinite(bytes) || bytes > 9.0e18) fail("size '" + text + "'", "too large");
  return static_cast<int64_t>(std::llround(bytes));
}

std::string size_format_bytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (std::fabs(v) >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  char buf[64];
  if (u == 0) std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
  else std::snprintf(buf, sizeof buf, "%.2f %s", v, units[u]);
  return buf;
}

}  // namespace flashchat
