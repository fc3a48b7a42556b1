// checksum.h - CRC32 (zlib's polynomial) of buffers and files, and its manifest spelling
// "crc32:xxxxxxxx" (8 lowercase hex digits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace flashchat {

// Continues a CRC32 over n more bytes (start with crc = 0).
uint32_t crc32_update(uint32_t crc, const void* data, size_t n);

// CRC32 of a whole file, read sequentially in large chunks. When drop_cache, the file's pages
// are dropped from the page cache afterwards (POSIX_FADV_DONTNEED) so that verifying a large
// file does not leave it cached. Throws Error naming the path when it cannot be read.
uint32_t crc32_file(const std::string& path, bool drop_cache = false);

// "crc32:0a1b2c3d".
std::string crc32_format(uint32_t crc);

// Parses "crc32:xxxxxxxx"; false when malformed.
bool crc32_parse(const std::string& text, uint32_t* crc);

}  // namespace flashchat
