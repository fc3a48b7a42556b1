#include "core/file_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/checksum.h"
#include "core/error.h"

namespace flashchat {

namespace {

// fsync of the directory holding `path`, so a rename into it is durable. Best effort.
void fsync_parent_dir(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

FileWriter::FileWriter(std::string path, size_t buffer_bytes)
    : path_(std::move(path)), partial_path_(path_ + ".partial") {
  fd_ = ::open(partial_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(path_, std::string("cannot create: ") + std::strerror(errno));
  buffer_.resize(buffer_bytes < 4096 ? 4096 : buffer_bytes);
}

FileWriter::~FileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(partial_path_.c_str());
}

void FileWriter::fail_errno(const char* what) {
  const int err = errno;
  fail(path_, std::string(what) + ": " + std::strerror(err));
}

void FileWriter::flush_buffer() {
  const uint8_t* p = buffer_.data();
  size_t left = buffered_;
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("write error");
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  buffered_ = 0;
}

void FileWriter::write(const void* data, size_t n) {
  if (fd_ < 0) fail(path_, "write after commit");
  crc_ = crc32_update(crc_, data, n);
  size_bytes_ += n;
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    if (buffered_ == 0 && n >= buffer_.size()) {
      // Large writes bypass the buffer.
      const ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        fail_errno("write error");
      }
      p += w;
      n -= static_cast<size_t>(w);
      continue;
    }
    const size_t take = std::min(n, buffer_.size() - buffered_);
    std::memcpy(buffer_.data() + buffered_, p, take);
    buffered_ += take;
    p += take;
    n -= take;
    if (buffered_ == buffer_.size()) flush_buffer();
  }
}

void FileWriter::pad_to_multiple(uint64_t alignment) {
  static const uint8_t zeros[4096] = {};
  uint64_t pad = (alignment - size_bytes_ % alignment) % alignment;
  while (pad > 0) {
    const size_t take = static_cast<size_t>(std::min<uint64_t>(pad, sizeof(zeros)));
    write(zeros, take);
    pad -= take;
  }
}

void FileWriter::commit() {
  if (fd_ < 0) fail(path_, "committed twice");
  flush_buffer();
  if (::fsync(fd_) != 0) fail_errno("fsync failed");
  if (::close(fd_) != 0) {
    fd_ = -1;
    fail_errno("close failed");
  }
  fd_ = -1;
  if (::rename(partial_path_.c_str(), path_.c_str()) != 0) fail_errno("cannot rename into place");
  committed_ = true;
  fsync_parent_dir(path_);
}

void file_write_atomic(const std::string& path, const std::string& text) {
  FileWriter w(path, 1 << 16);
  w.write(text.data(), text.size());
  w.commit();
}

}  // namespace flashchat
