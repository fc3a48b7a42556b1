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
#include <new>
#include <semaphore>
#include <thread>

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
// Two buffers of this size: one is read into while the other is summed (1 MiB in all).
constexpr size_t kChunkBytes = size_t{512} << 10;
constexpr uint64_t kDropLagBytes = uint64_t{16} << 20;

int open_or_fail(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_RDONLY | O_CLOEXEC);
  if (fd < 0 && !((flags & O_DIRECT) != 0 && errno == EINVAL)) {
    fail(path, std::string("cannot open: ") + std::strerror(errno));
  }
  return fd;
}

struct FdCloser {
  int fd = -1;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

// One chunk read: the bytes buf[skip, got) continue the file (none left when got <= skip).
struct Chunk {
  uint64_t at = 0;
  size_t skip = 0;
  size_t got = 0;
  int err = 0;  // errno of a failed read
};

// Reads the chunk that continues the file at `pos`: in direct mode from the 4 KiB boundary at
// or below it (O_DIRECT offsets must be aligned; after a short read the block holding `pos` is
// read again and its head skipped). Retries EINTR/EAGAIN a few times. Buffered: drops the pages
// read so far from the page cache (the kernel drops only folios wholly inside the range, and
// read-ahead builds folios of up to 2 MiB across chunks, so the range starts well behind).
Chunk chunk_read(int fd, bool direct, uint8_t* buf, uint64_t pos) {
  Chunk c;
  c.at = direct ? pos & ~(kAlign - 1) : pos;
  c.skip = static_cast<size_t>(pos - c.at);
  for (int tries = 0;; ++tries) {
    const ssize_t got = ::pread(fd, buf, kChunkBytes, static_cast<off_t>(c.at));
    if (got >= 0) {
      c.got = static_cast<size_t>(got);
      break;
    }
    if ((errno == EINTR || errno == EAGAIN) && tries < 32) continue;
    c.err = errno;
    return c;
  }
  if (!direct && c.got > 0) {
    const uint64_t end = c.at + c.got;
    const uint64_t from = c.at > kDropLagBytes ? (c.at - kDropLagBytes) & ~(kDropLagBytes - 1) : 0;
    ::posix_fadvise(fd, static_cast<off_t>(from), static_cast<off_t>(end - from),
                    POSIX_FADV_DONTNEED);
  }
  return c;
}

// CRC32 of the file open at fd, a helper thread reading the next chunk while this one sums the
// last. Returns the first failed chunk (err != 0) or the end (err == 0) in *last.
uint32_t crc32_fd(int fd, bool direct, uint64_t* bytes, Chunk* last) {
  struct Buffers {
    uint8_t* p = static_cast<uint8_t*>(std::aligned_alloc(kAlign, 2 * kChunkBytes));
    ~Buffers() { std::free(p); }
  } buffers;
  if (buffers.p == nullptr) throw std::bad_alloc();
  Chunk chunks[2];
  std::binary_semaphore empty[2] = {std::binary_semaphore(1), std::binary_semaphore(1)};
  std::binary_semaphore full[2] = {std::binary_semaphore(0), std::binary_semaphore(0)};
  // The reader stops after posting an error or the end; the summer stops on the same chunk.
  std::thread reader([&] {
    uint64_t pos = 0;
    for (int i = 0;; i ^= 1) {
      empty[i].acquire();
      chunks[i] = chunk_read(fd, direct, buffers.p + i * kChunkBytes, pos);
      const Chunk c = chunks[i];
      full[i].release();
      if (c.err != 0 || c.got <= c.skip) return;
      pos = c.at + c.got;
    }
  });
  uint32_t crc = 0;
  uint64_t pos = 0;
  for (int i = 0;; i ^= 1) {
    full[i].acquire();
    const Chunk c = chunks[i];
    if (c.err != 0 || c.got <= c.skip) {
      *last = c;
      break;
    }
    crc = crc32_update(crc, buffers.p + i * kChunkBytes + c.skip, c.got - c.skip);
    pos = c.at + c.got;
    empty[i].release();
  }
  reader.join();
  *bytes = pos;
  return crc;
}

}  // namespace

FileCrc crc32_file(const std::string& path, bool direct) {
  FileCrc out;
  FdCloser fd{direct ? open_or_fail(path, O_DIRECT) : -1};
  out.direct_io = fd.fd >= 0;
  if (fd.fd < 0) fd.fd = open_or_fail(path, 0);
  for (;;) {
    if (!out.direct_io) ::posix_fadvise(fd.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    Chunk last;
    out.crc = crc32_fd(fd.fd, out.direct_io, &out.bytes_read, &last);
    if (last.err == 0) break;
    if (out.direct_io && last.err == EINVAL && last.at == 0) {
      // The file system accepted O_DIRECT at open but refuses the read: buffered instead.
      ::close(fd.fd);
      fd.fd = -1;
      fd.fd = open_or_fail(path, 0);
      out.direct_io = false;
      continue;
    }
    fail(path, "read error at offset " + std::to_string(last.at) + ": " + std::strerror(last.err));
  }
  if (!out.direct_io) ::posix_fadvise(fd.fd, 0, 0, POSIX_FADV_DONTNEED);  // the partial last page
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
