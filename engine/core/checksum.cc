// checksum.cc - CRC32 via zlib; whole files read without filling the page cache.
#include "core/checksum.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "core/error.h"

namespace flashchat {

uint32_t crc32_update(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const Bytef*>(data);
  uLong c = crc;
  while (n > 0) {
    // zlib takes uInt lengths; feed at most 1 GiB per call.
    const uInt chunk = static_cast<uInt>(n > (1u << 30) ? (1u << 30) : n);
    c = ::crc32(c, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<uint32_t>(c);
}

namespace {

constexpr uint64_t kAlign = 4096;
constexpr size_t kChunkBytes = size_t{1} << 20;

int open_or_fail(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_RDONLY | O_CLOEXEC);
  if (fd < 0 && !((flags & O_DIRECT) != 0 && errno == EINVAL)) {
    fail(path, std::string("cannot open: ") + std::strerror(errno));
  }
  return fd;
}

}  // namespace

FileCrc crc32_file(const std::string& path, bool direct) {
  FileCrc out;
  int fd = direct ? open_or_fail(path, O_DIRECT) : -1;
  out.direct_io = fd >= 0;
  if (fd < 0) fd = open_or_fail(path, 0);
  struct Closer {
    int& fd;
    ~Closer() {
      if (fd >= 0) ::close(fd);
    }
  } closer{fd};
  std::unique_ptr<uint8_t, decltype(&std::free)> buffer(
      static_cast<uint8_t*>(std::aligned_alloc(kAlign, kChunkBytes)), &std::free);
  if (!buffer) fail(path, "out of memory for a 1 MiB read buffer");
  if (!out.direct_io) ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  uint32_t crc = 0;
  uint64_t pos = 0;  // bytes summed so far
  int transient = 0;
  for (;;) {
    // O_DIRECT reads start on a 4 KiB boundary: after a short read (or at the tail) the block
    // holding `pos` is read again and its first bytes skipped.
    const uint64_t at = out.direct_io ? pos & ~(kAlign - 1) : pos;
    const uint64_t skip = pos - at;
    const ssize_t got = ::pread(fd, buffer.get(), kChunkBytes, static_cast<off_t>(at));
    if (got < 0) {
      const int err = errno;
      if ((err == EINTR || err == EAGAIN) && ++transient <= 32) continue;
      if (out.direct_io && err == EINVAL && pos == 0) {
        // The file system accepted O_DIRECT at open but refuses the read: buffered instead.
        ::close(fd);
        fd = -1;
        fd = open_or_fail(path, 0);
        out.direct_io = false;
        ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        continue;
      }
      fail(path, "read error at offset " + std::to_string(at) + ": " + std::strerror(err));
    }
    transient = 0;
    if (static_cast<uint64_t>(got) <= skip) break;  // end of file
    crc = crc32_update(crc, buffer.get() + skip, static_cast<size_t>(got) - skip);
    if (!out.direct_io) {
      // Whole pages only are dropped: start at the page holding `at`.
      ::posix_fadvise(fd, static_cast<off_t>(at & ~(kAlign - 1)),
                      static_cast<off_t>(at + static_cast<uint64_t>(got) - (at & ~(kAlign - 1))),
                      POSIX_FADV_DONTNEED);
    }
    pos = at + static_cast<uint64_t>(got);
  }
  if (!out.direct_io) ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);  // the partial last page
  out.crc = crc;
  out.bytes_read = pos;
  return out;
}

std::string crc32_format(uint32_t crc) {
  char text[16];
  std::snprintf(text, sizeof(text), "%08x", crc);
  return std::string("crc32:") + text;
}

bool crc32_parse(const std::string& text, uint32_t* crc) {
  if (text.size() != 14 || text.compare(0, 6, "crc32:") != 0) return false;
  uint32_t v = 0;
  for (size_t i = 6; i < text.size(); ++i) {
    const char c = text[i];
    uint32_t d;
    if (c >= '0' && c <= '9') {
      d = static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      d = static_cast<uint32_t>(c - 'A' + 10);
    } else {
      return false;
    }
    v = (v << 4) | d;
  }
  *crc = v;
  return true;
}

}  // namespace flashchat
