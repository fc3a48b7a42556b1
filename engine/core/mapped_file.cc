#include "core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "core/error.h"

namespace flashchat {

MappedFile::~MappedFile() {
  if (map_base_ != nullptr) munmap(map_base_, map_bytes_);
}

std::shared_ptr<MappedFile> mapped_file_open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    fail(path, std::string("cannot stat: ") + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, "not a regular file");
  }
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->path_ = path;
  file->size_bytes_ = static_cast<size_t>(st.st_size);
  if (file->size_bytes_ > 0) {
    void* p = mmap(nullptr, file->size_bytes_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      fail(path, std::string("cannot map: ") + std::strerror(err));
    }
    file->data_ = static_cast<const uint8_t*>(p);
    file->map_base_ = p;
    file->map_bytes_ = file->size_bytes_;
  }
  ::close(fd);
  return file;
}

std::shared_ptr<MappedFile> mapped_file_read_huge(const std::string& path) {
  constexpr size_t kHuge = size_t{2} << 20;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, "cannot stat or not a regular file");
  }
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->path_ = path;
  file->size_bytes_ = static_cast<size_t>(st.st_size);
  if (file->size_bytes_ == 0) {
    ::close(fd);
    return file;
  }
  // Over-allocate by one huge page so the data can start on a 2 MiB boundary.
  file->map_bytes_ = (file->size_bytes_ + kHuge - 1) / kHuge * kHuge + kHuge;
  void* base = mmap(nullptr, file->map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                    -1, 0);
  if (base == MAP_FAILED) {
    const int err = errno;
    ::close(fd);
    fail(path, std::string("cannot allocate ") + std::to_string(file->map_bytes_) +
                   " bytes: " + std::strerror(err));
  }
  file->map_base_ = base;
  uint8_t* data = reinterpret_cast<uint8_t*>(
      (reinterpret_cast<uintptr_t>(base) + kHuge - 1) / kHuge * kHuge);
  // Huge pages only where the data fills them: a partly used 2 MiB page would be resident whole
  // (a 4.1 MiB block would cost 6 MiB), so the tail stays on 4 KiB pages. A hint; 4 KiB pages
  // still work where the kernel gives no huge page.
  const size_t huge_part = file->size_bytes_ / kHuge * kHuge;
  if (huge_part > 0) madvise(data, huge_part, MADV_HUGEPAGE);
  size_t done = 0;
  while (done < file->size_bytes_) {
    const size_t chunk = std::min<size_t>(file->size_bytes_ - done, size_t{8} << 20);
    const ssize_t got = ::pread(fd, data + done, chunk, static_cast<off_t>(done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      const int err = got < 0 ? errno : 0;
      ::close(fd);
      fail(path, got < 0 ? std::string("read error: ") + std::strerror(err)
                         : "file shrank while being read");
    }
    done += static_cast<size_t>(got);
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
  file->data_ = data;  // the file object (and the memory) stay read-only by convention
  return file;
}

}  // namespace flashchat
