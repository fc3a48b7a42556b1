// mapped_file.h - a read-only memory map of a whole file.
//
// Model weights are mapped, not read, so that loading a model costs no copy and the tensors that
// stay in their stored dtype point straight into the map. The map lives as long as any holder of
// the shared_ptr returned by mapped_file_open().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace flashchat {

class MappedFile {
 public:
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  size_t size_bytes() const { return size_bytes_; }
  const std::string& path() const { return path_; }

 private:
  friend std::shared_ptr<MappedFile> mapped_file_open(const std::string& path);

// Reads `path` into anonymous memory aligned to 2 MiB and advised MADV_HUGEPAGE, then drops the
// file's page cache. For weights read every token: 2 MiB pages instead of 4 KiB page-cache
// pages cut TLB misses, which on this VM made the resident matvecs ~2-3x slower whenever the
// flash reads of a token ran between them. Same interface and lifetime as mapped_file_open.
std::shared_ptr<MappedFile> mapped_file_read_huge(const std::string& path);
  friend std::shared_ptr<MappedFile> mapped_file_read_huge(const std::string& path);
  MappedFile() = default;
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_bytes_ = 0;
  void* map_base_ = nullptr;  // what munmap gets (differs from data_ for aligned copies)
  size_t map_bytes_ = 0;
};

// Maps `path` read-only. Throws Error naming the path when it cannot be opened or mapped.
// An empty file maps to data() == nullptr, size_bytes() == 0.
std::shared_ptr<MappedFile> mapped_file_open(const std::string& path);

// Reads `path` into anonymous memory aligned to 2 MiB and advised MADV_HUGEPAGE, then drops the
// file's page cache. For weights read every token: 2 MiB pages instead of 4 KiB page-cache
// pages cut TLB misses, which on this VM made the resident matvecs ~2-3x slower whenever the
// flash reads of a token ran between them. Same interface and lifetime as mapped_file_open.
std::shared_ptr<MappedFile> mapped_file_read_huge(const std::string& path);

}  // namespace flashchat
