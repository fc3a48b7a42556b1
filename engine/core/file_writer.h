// file_writer.h - writing a file atomically with large buffered writes and a running CRC32.
//
// Bytes go to "<path>.partial" through a large buffer; commit() flushes, fsyncs, renames the
// partial file to `path` and fsyncs the directory, so `path` either does not exist or holds the
// complete file. A writer destroyed without commit() removes the partial file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace flashchat {

class FileWriter {
 public:
  // Creates (truncates) "<path>.partial". Throws Error naming the path on failure.
  explicit FileWriter(std::string path, size_t buffer_bytes = size_t{8} << 20);
  ~FileWriter();
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  // Appends n bytes. Throws Error naming the path on a write error (e.g. disk full).
  void write(const void* data, size_t n);
  // Appends zero bytes until size_bytes() is a multiple of `alignment`.
  void pad_to_multiple(uint64_t alignment);

  uint64_t size_bytes() const { return size_bytes_; }
  uint32_t crc32() const { return crc_; }  // of everything written so far
  const std::string& path() const { return path_; }

  // Flushes, fsyncs and renames into place. The writer accepts no more writes afterwards.
  void commit();

 private:
  void flush_buffer();
  [[noreturn]] void fail_errno(const char* what);

  std::string path_;
  std::string partial_path_;
  int fd_ = -1;
  std::vector<uint8_t> buffer_;
  size_t buffered_ = 0;
  uint64_t size_bytes_ = 0;
  uint32_t crc_ = 0;
  bool committed_ = false;
};

// Writes `text` to `path` atomically (as FileWriter). Returns nothing; throws Error on failure.
void file_write_atomic(const std::string& path, const std::string& text);

}  // namespace flashchat
