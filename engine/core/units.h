// units.h - parsing and printing byte sizes ("512M", "2G", "1.5GiB").
#pragma once

#include <cstdint>
#include <string>

namespace flashchat {

// Parses "123", "512K", "512M", "2G", "1.5G", "2GiB", "300MB" (binary multiples: K = 1024).
// Throws Error naming the text when it is not a size.
int64_t size_parse_bytes(const std::string& text);

// "1.50 GiB", "512.0 MiB", "900 B".
std::string size_format_bytes(int64_t bytes);

}  // namespace flashchat
