// checksum.h - CRC32 (zlib's polynomial) of buffers and files, and its manifest spelling
// "crc32:xxxxxxxx" (8 lowercase hex digits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace flashchat {

// Continues a CRC32 over n more bytes (start with crc = 0).
uint32_t crc32_update(uint32_t crc, const void* data, size_t n);

// How crc32_file read a file.
struct FileCrc {
  uint32_t crc = 0;
  uint64_t bytes_read = 0;  // bytes summed (the file's size)
  bool direct_io = false;   // read with O_DIRECT (false: buffered, pages dropped as read)
};

// CRC32 of a whole file, read sequentially in 512 KiB chunks (two buffers, 1 MiB in all: a
// helper thread reads the next chunk while the caller sums the last) without growing the page
// cache: with O_DIRECT when `direct` and the file system allows it, otherwise buffered with the
// pages read dropped from the page cache (POSIX_FADV_DONTNEED) as it goes.
// Throws Error naming the path (and the offset, for a read error) when it cannot be read.
FileCrc crc32_file(const std::string& path, bool direct = true);

// "crc32:0a1b2c3d".
std::string crc32_format(uint32_t crc);

// Parses "crc32:xxxxxxxx"; false when malformed.
bool crc32_parse(const std::string& text, uint32_t* crc);

}  // namespace flashchat
