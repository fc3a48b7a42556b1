// flash_store.cc - O_DIRECT reads of bundle runs through io_uring or a preadv thread pool.
#include "runtime/flash_store.h"

#include <fcntl.h>
#include <liburing.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <semaphore>
#include <thread>

#include "core/error.h"

namespace flashchat {
namespace {

constexpr uint64_t kAlign = 4096;
// A run whose file offset and destination share their 4 KiB phase is read in place except for
// its unaligned head and tail blocks, but only when the in-place middle is at least this big
// (below it one staged request plus a memcpy is cheaper than three requests).
constexpr uint64_t kMinInPlaceBytes = 64 * 1024;

uint64_t align_down(uint64_t v) { return v & ~(kAlign - 1); }
uint64_t align_up(uint64_t v) { return (v + kAlign - 1) & ~(kAlign - 1); }
bool aligned(uint64_t v) { return (v & (kAlign - 1)) == 0; }
uint64_t addr(const uint8_t* p) { return reinterpret_cast<uintptr_t>(p); }

std::string errno_text(int err) { return std::strerror(err); }

bool transient(int64_t result) { return result == -EAGAIN || result == -EINTR; }

// Before re-issue number `tries` (from 1): immediately for the first few, then a short sleep so
// that a device saying "try again" is not hammered.
void retry_backoff(int tries) {
  if (tries > 4) std::this_thread::sleep_for(std::chrono::microseconds(100 * (tries - 4)));
}

// What an injected fault does to a read of `result` bytes into buf.
int64_t fault_apply(const FlashFault& f, int64_t result, uint8_t* buf) {
  using Kind = FlashFault::Kind;
  switch (f.kind) {
    case Kind::ShortRead:
      if (result > static_cast<int64_t>(f.bytes)) {
        std::memset(buf + f.bytes, 0xEE, static_cast<size_t>(result - f.bytes));
        return f.bytes;
      }
      return result;
    case Kind::Again:
      if (result > 0) std::memset(buf, 0xEE, static_cast<size_t>(result));
      return -EAGAIN;
    case Kind::Interrupted:
      return -EINTR;
    case Kind::IoError:
      return -EIO;
    case Kind::None:
    case Kind::NoSqe:
      break;
  }
  return result;
}

}  // namespace

// io_uring state: one ring, staging slots registered as fixed buffers when the kernel allows.
struct FlashStore::Ring {
  io_uring ring{};
  bool fixed_buffers = false;
  ~Ring() { io_uring_queue_exit(&ring); }
};

// Thread pool state: workers wait on their own semaphore, pull request indices from `next`.
struct FlashStore::Pool {
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<std::binary_semaphore>> wake;
  std::counting_semaphore<1 << 20> done{0};
  std::atomic<size_t> next{0};
  size_t total = 0;
  std::atomic<bool> stop{false};
  std::atomic<bool> failed{false};
  std::atomic<int64_t> bytes{0};
  std::mutex error_mutex;
  std::string error;
};

void bundle_runs_append(uint64_t layer_offset, int64_t bundle_bytes,
                        std::span<const int32_t> neurons, std::span<uint8_t* const> dsts,
                        std::vector<ReadRun>& runs) {
  if (neurons.size() != dsts.size() || bundle_bytes <= 0) {
    fail("flash store", "bundle_runs_append: " + std::to_string(neurons.size()) + " neurons but " +
                            std::to_string(dsts.size()) + " destinations, bundle_bytes " +
                            std::to_string(bundle_bytes));
  }
  const uint64_t bb = static_cast<uint64_t>(bundle_bytes);
  for (size_t j = 0; j < neurons.size(); ++j) {
    if (neurons[j] < 0) fail("flash store", "bundle_runs_append: negative neuron id");
    const uint64_t off = layer_offset + static_cast<uint64_t>(neurons[j]) * bb;
    if (j > 0 && neurons[j] == neurons[j - 1] + 1 && dsts[j] == dsts[j - 1] + bb) {
      runs.back().length += bb;
      continue;
    }
    runs.push_back({off, bb, dsts[j]});
  }
}

const char* FlashStore::backend_name(FlashReadBackend b) {
  return b == FlashReadBackend::IoUring ? "io_uring" : "thread_pool";
}

FlashStore::FlashStore() = default;

FlashStore::~FlashStore() { close(); }

void FlashStore::close() {
  async_stop();
  if (pool_) {
    pool_->stop = true;
    for (auto& w : pool_->wake) w->release();
    for (auto& t : pool_->threads) t.join();
    pool_.reset();
  }
  ring_.reset();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::free(staging_);
  staging_ = nullptr;
  staging_bytes_ = 0;
  n_slots_ = 0;
  file_size_ = 0;
  direct_ = false;
  requests_.clear();
}

void FlashStore::open(const std::string& path, bool direct, const FlashStoreOptions& options) {
  close();
  if (options.queue_depth < 1 || options.queue_depth > 4096 || options.threads < 1 ||
      options.threads > 1024 || options.request_bytes <= 0 ||
      !aligned(static_cast<uint64_t>(options.request_bytes)) ||
      options.request_bytes > (int64_t{1} << 30)) {
    fail(path, "flash store: invalid options (queue_depth " + std::to_string(options.queue_depth) +
                   ", threads " + std::to_string(options.threads) + ", request_bytes " +
                   std::to_string(options.request_bytes) + ")");
  }
  options_ = options;
  path_ = path;

  int fd = -1;
  bool use_direct = false;
  if (direct) {
    fd = ::open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
    if (fd >= 0) {
      use_direct = true;
    } else if (errno != EINVAL) {
      fail(path, "cannot open: " + errno_text(errno));
    }
  }
  if (fd < 0) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(path, "cannot open: " + errno_text(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, "not a regular file");
  }
  file_size_ = static_cast<uint64_t>(st.st_size);

  if (use_direct) {
    // Some file systems accept O_DIRECT at open and refuse the read: probe one aligned block.
    void* probe = std::aligned_alloc(kAlign, kAlign);
    if (probe == nullptr) {
      ::close(fd);
      fail(path, "out of memory for the O_DIRECT probe buffer");
    }
    const ssize_t n = ::pread(fd, probe, kAlign, 0);
    const int err = errno;
    std::free(probe);
    if (n < 0) {
      ::close(fd);
      if (err != EINVAL) fail(path, "read at offset 0 failed: " + errno_text(err));
      use_direct = false;
      fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) fail(path, "cannot open: " + errno_text(errno));
    }
  }
  fd_ = fd;
  direct_ = use_direct;
  if (!direct_) ::posix_fadvise(fd_, 0, 0, POSIX_FADV_RANDOM);

  backend_ = options_.backend;
  if (backend_ == FlashReadBackend::IoUring) {
    auto ring = std::make_unique<Ring>();
    // COOP_TASKRUN: completions are run when we enter the kernel anyway, no IPIs (5.19+);
    // retried without flags on older kernels.
    const unsigned depth = static_cast<unsigned>(options_.queue_depth);
    if (io_uring_queue_init(depth, &ring->ring, IORING_SETUP_COOP_TASKRUN) == 0 ||
        io_uring_queue_init(depth, &ring->ring, 0) == 0) {
      ring_ = std::move(ring);
    } else {
      ring.release();  // never initialised: nothing to tear down
      backend_ = FlashReadBackend::ThreadPool;
    }
  }
  // Staging: one slot per request in flight (io_uring) or per reading thread (pool + caller).
  // Buffered mode reads in place and needs none.
  n_slots_ = backend_ == FlashReadBackend::IoUring ? options_.queue_depth : options_.threads + 1;
  if (direct_) {
    staging_bytes_ = int64_t{n_slots_} * options_.request_bytes;
    staging_ = static_cast<uint8_t*>(std::aligned_alloc(kAlign, static_cast<size_t>(staging_bytes_)));
    if (staging_ == nullptr) {
      const int64_t want = staging_bytes_;
      close();
      fail(path, "out of memory for " + std::to_string(want) + " bytes of staging buffers");
    }
    std::memset(staging_, 0, static_cast<size_t>(staging_bytes_));
    if (ring_) {
      std::vector<iovec> iov(static_cast<size_t>(n_slots_));
      for (int s = 0; s < n_slots_; ++s) {
        iov[static_cast<size_t>(s)] = {slot_data(s), static_cast<size_t>(options_.request_bytes)};
      }
      ring_->fixed_buffers =
          io_uring_register_buffers(&ring_->ring, iov.data(), static_cast<unsigned>(n_slots_)) == 0;
    }
  }
  if (backend_ == FlashReadBackend::ThreadPool) {
    pool_ = std::make_unique<Pool>();
    for (int t = 0; t < options_.threads; ++t) {
      pool_->wake.push_back(std::make_unique<std::binary_semaphore>(0));
    }
    for (int t = 0; t < options_.threads; ++t) {
      pool_->threads.emplace_back([this, t] { pool_worker(t); });
    }
  }
  requests_.reserve(256);
  counters_ = Counters();
}

void FlashStore::read(uint64_t offset, uint64_t length, uint8_t* dst) {
  const ReadRun run{offset, length, dst};
  read_runs(std::span<const ReadRun>(&run, 1));
}

namespace {

// Cuts runs into requests (see the header for the in-place / staged rule). emit(file_offset,
// io_bytes, expect_bytes, staged, copy_from, copy_bytes, dst, run_offset) receives each request:
// staged ones land at copy_from in a slot and copy_bytes go to dst; in-place ones land at dst.
// The one place the rule lives: FlashStore::plan and flash_read_cost both follow it.
template <class Emit>
void plan_requests(std::span<const ReadRun> runs, bool direct, uint64_t rb, uint64_t file_size,
                   const std::string& path, Emit&& emit) {
  auto staged = [&](uint64_t off, uint64_t len, uint8_t* dst, uint64_t run_offset) {
    const uint64_t end = off + len;
    for (uint64_t p = align_down(off); p < end; p += rb) {
      const uint64_t pend = std::min(p + rb, align_up(end));
      const uint64_t want0 = std::max(p, off), want1 = std::min(pend, end);
      emit(p, pend - p, std::min(pend, file_size) - p, true, want0 - p, want1 - want0,
           dst + (want0 - off), run_offset);
    }
  };
  auto in_place = [&](uint64_t off, uint64_t len, uint8_t* dst, uint64_t run_offset) {
    for (uint64_t p = 0; p < len; p += rb) {
      const uint64_t n = std::min(rb, len - p);
      emit(off + p, n, n, false, 0, 0, dst + p, run_offset);
    }
  };
  for (const ReadRun& run : runs) {
    if (run.length == 0) continue;
    if (run.dst == nullptr) fail(path, "read at offset " + std::to_string(run.offset) + ": null destination");
    if (run.offset > file_size || run.length > file_size - run.offset) {
      fail(path, "read of " + std::to_string(run.length) + " bytes at offset " +
                     std::to_string(run.offset) + " runs past the end of the file (" +
                     std::to_string(file_size) + " bytes)");
    }
    if (!direct) {
      in_place(run.offset, run.length, run.dst, run.offset);
      continue;
    }
    const uint64_t off = run.offset, end = run.offset + run.length;
    if ((off & (kAlign - 1)) != (addr(run.dst) & (kAlign - 1))) {
      staged(off, run.length, run.dst, off);
      continue;
    }
    // Same 4 KiB phase: the aligned middle can land in place.
    const uint64_t mid0 = align_up(off), mid1 = align_down(end);
    const bool whole = aligned(off) && aligned(end);
    if (mid1 <= mid0 || (!whole && mid1 - mid0 < kMinInPlaceBytes)) {
      staged(off, run.length, run.dst, off);
      continue;
    }
    if (off < mid0) staged(off, mid0 - off, run.dst, off);
    in_place(mid0, mid1 - mid0, run.dst + (mid0 - off), off);
    if (mid1 < end) staged(mid1, end - mid1, run.dst + (mid1 - off), off);
  }
}

}  // namespace

FlashReadCost flash_read_cost(std::span<const ReadRun> runs, bool direct, int64_t request_bytes,
                              uint64_t file_size) {
  FlashReadCost cost;
  plan_requests(runs, direct, static_cast<uint64_t>(request_bytes), file_size, "flash read cost",
                [&](uint64_t, uint64_t, uint64_t expect, bool, uint64_t, uint64_t, uint8_t*,
                    uint64_t) {
                  cost.bytes += static_cast<int64_t>(expect);
                  ++cost.requests;
                });
  return cost;
}

void FlashStore::plan(std::span<const ReadRun> runs) {
  requests_.clear();
  plan_requests(runs, direct_, static_cast<uint64_t>(options_.request_bytes), file_size_, path_,
                [&](uint64_t file_offset, uint64_t io_bytes, uint64_t expect, bool staged,
                    uint64_t copy_from, uint64_t copy_bytes, uint8_t* dst, uint64_t run_offset) {
                  Request r;
                  r.file_offset = file_offset;
                  r.io_bytes = static_cast<uint32_t>(io_bytes);
                  r.expect_bytes = static_cast<uint32_t>(expect);
                  if (staged) {
                    r.copy_from = static_cast<uint32_t>(copy_from);
                    r.copy_bytes = static_cast<uint32_t>(copy_bytes);
                    r.copy_dst = dst;
                  } else {
                    r.io_dst = dst;
                  }
                  r.run_offset = run_offset;
                  requests_.push_back(r);
                });
}

void FlashStore::read_runs(std::span<const ReadRun> runs) {
  if (fd_ < 0) fail(path_.empty() ? "flash store" : path_, "read_runs: no file open");
  std::lock_guard<std::mutex> lock(read_mutex_);
  const auto t0 = std::chrono::steady_clock::now();
  struct Timer {
    Counters& c;
    std::chrono::steady_clock::time_point t0;
    ~Timer() {
      c.io_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }
  } timer{counters_, t0};
  plan(runs);
  retries_ = 0;
  top_ups_ = 0;
  top_up_bytes_ = 0;
  struct Merge {  // this call's retries and top-ups, also when it throws
    FlashStore& s;
    ~Merge() {
      s.counters_.retries += s.retries_.load();
      s.counters_.top_ups += s.top_ups_.load();
      s.counters_.bytes_read += s.top_up_bytes_.load();
    }
  } merge{*this};
  counters_.runs += static_cast<int64_t>(runs.size());
  for (const ReadRun& run : runs) counters_.bytes_requested += static_cast<int64_t>(run.length);
  if (requests_.empty()) return;
  if (backend_ == FlashReadBackend::IoUring) {
    run_uring();
  } else {
    run_pool();
  }
}

void FlashStore::set_fault_injector(FlashFaultInjector injector) {
  std::lock_guard<std::mutex> lock(read_mutex_);
  fault_injector_ = std::move(injector);
  fault_attempts_ = 0;
}

std::string FlashStore::finish_request(const Request& r, int64_t result, uint8_t* slot_buf,
                                       int tries) {
  if (result < 0) {
    return path_ + ": read of " + std::to_string(r.io_bytes) + " bytes at offset " +
           std::to_string(r.file_offset) + " failed: " + errno_text(static_cast<int>(-result)) +
           (tries > 0 ? " (after " + std::to_string(tries) + " retries)" : "");
  }
  uint8_t* buf = r.io_dst != nullptr ? r.io_dst : slot_buf;
  // A short completion: read the rest synchronously (rare; at EOF or on signals). In direct
  // mode the continuation restarts at the last 4 KiB boundary reached, so that its offset,
  // destination and length stay aligned (io_bytes is a multiple of 4096 there).
  uint64_t got = static_cast<uint64_t>(result);
  int top_up_tries = 0;
  while (got < r.expect_bytes) {
    const uint64_t from = direct_ ? align_down(got) : got;
    const FlashFault f = fault_draw(r.file_offset + from, r.io_bytes - from, true);
    const ssize_t n = ::pread(fd_, buf + from, r.io_bytes - from,
                              static_cast<off_t>(r.file_offset + from));
    int64_t res = n < 0 ? -static_cast<int64_t>(errno) : n;
    if (f.kind != FlashFault::Kind::None) res = fault_apply(f, res, buf + from);
    ++top_ups_;
    if (transient(res) && ++top_up_tries <= kFlashMaxRetries) {
      retry_backoff(top_up_tries);
      continue;
    }
    if (res > 0) top_up_bytes_ += res;
    // Re-reading from the boundary may bring fewer bytes than were already there: no progress
    // this round, tolerated like a transient error.
    if (res > 0 && from + static_cast<uint64_t>(res) <= got &&
        ++top_up_tries <= kFlashMaxRetries) {
      continue;
    }
    if (res <= 0 || from + static_cast<uint64_t>(res) <= got) {
      // res > 0: every re-read from the boundary stopped short of `got` (direct mode only).
      const std::string why =
          res < 0    ? errno_text(static_cast<int>(-res))
          : res == 0 ? "file truncated?"
                     : "no progress after " + std::to_string(kFlashMaxRetries) + " top-ups";
      return path_ + ": short read at offset " + std::to_string(r.file_offset) + ": got " +
             std::to_string(got) + " of " + std::to_string(r.expect_bytes) + " bytes (" + why + ")";
    }
    got = from + static_cast<uint64_t>(res);
  }
  if (r.io_dst == nullptr) std::memcpy(r.copy_dst, slot_buf + r.copy_from, r.copy_bytes);
  if (!direct_) {
    ::posix_fadvise(fd_, static_cast<off_t>(align_down(r.file_offset)),
                    static_cast<off_t>(align_up(r.file_offset + r.io_bytes) - align_down(r.file_offset)),
                    POSIX_FADV_DONTNEED);
  }
  return {};
}

void FlashStore::run_uring() {
  io_uring* ring = &ring_->ring;
  const size_t n = requests_.size();
  const size_t depth = static_cast<size_t>(options_.queue_depth);
  std::vector<int> free_slots;  // small; slots are handed out LIFO
  free_slots.reserve(static_cast<size_t>(n_slots_));
  for (int s = n_slots_ - 1; s >= 0; --s) free_slots.push_back(s);
  // Requests to re-issue after -EAGAIN/-EINTR, as their user data (they keep their slot).
  std::vector<uint64_t> retry;
  size_t next = 0, inflight = 0, issued = 0;
  int stalls = 0;  // rounds in a row with work left, nothing in flight and no SQE
  std::string error;
  int64_t bytes = 0;

  // Prepares one SQE for request idx into `slot` (-1: in place); false when none is free.
  auto issue = [&](size_t idx, int slot) -> bool {
    Request& r = requests_[idx];
    r.fault = fault_draw(r.file_offset, r.io_bytes, false);
    if (r.fault.kind == FlashFault::Kind::NoSqe) return false;
    io_uring_sqe* sqe = io_uring_get_sqe(ring);
    if (sqe == nullptr) return false;
    if (slot < 0) {
      io_uring_prep_read(sqe, fd_, r.io_dst, r.io_bytes, r.file_offset);
    } else if (ring_->fixed_buffers) {
      io_uring_prep_read_fixed(sqe, fd_, slot_data(slot), r.io_bytes, r.file_offset, slot);
    } else {
      io_uring_prep_read(sqe, fd_, slot_data(slot), r.io_bytes, r.file_offset);
    }
    io_uring_sqe_set_data64(sqe, (static_cast<uint64_t>(slot + 1) << 32) | idx);
    ++inflight;
    return true;
  };

  for (;;) {
    // Re-issues first, then new requests, while the ring has room.
    while (error.empty() && inflight < depth) {
      if (!retry.empty()) {
        const uint64_t data = retry.back();
        if (!issue(static_cast<size_t>(data & 0xffffffffu), static_cast<int>(data >> 32) - 1)) break;
        retry.pop_back();
        ++retries_;
        continue;
      }
      if (next >= n) break;
      const bool staged = requests_[next].io_dst == nullptr;
      if (staged && free_slots.empty()) break;
      const int slot = staged ? free_slots.back() : -1;
      if (!issue(next, slot)) break;
      if (staged) free_slots.pop_back();
      ++next;
      ++issued;
    }
    if (!error.empty()) {  // stop issuing; drain what is in flight
      next = n;
      for (uint64_t data : retry) free_slots.push_back(static_cast<int>(data >> 32) - 1);
      retry.clear();
    }
    if (inflight == 0) {
      if (next >= n && retry.empty()) break;
      // Work left, nothing in flight, no free SQE: flush the submission queue and try again
      // (never leave with reads unissued); give up only if no entry frees up at all.
      if (++stalls > 1000) {
        error = path_ + ": io_uring has no free submission entry with nothing in flight; " +
                std::to_string(n - next + retry.size()) + " reads not issued";
        continue;
      }
      io_uring_submit(ring);
      if (stalls > 10) std::this_thread::sleep_for(std::chrono::microseconds(100));
      continue;
    }
    stalls = 0;
    int rc = io_uring_submit_and_wait(ring, 1);
    if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
      // The ring is unusable: close the store (tearing the ring down) so no request in flight
      // can be reaped into a stale state; the caller may open() again.
      const std::string message = "io_uring submit failed: " + errno_text(-rc) + "; store closed";
      const std::string file = path_;
      close();
      fail(file, message);
    }
    io_uring_cqe* cqe = nullptr;
    unsigned head = 0, seen = 0;
    io_uring_for_each_cqe(ring, head, cqe) {
      const uint64_t data = io_uring_cqe_get_data64(cqe);
      const size_t idx = static_cast<size_t>(data & 0xffffffffu);
      const int slot = static_cast<int>(data >> 32) - 1;
      Request& r = requests_[idx];
      uint8_t* slot_buf = slot >= 0 ? slot_data(slot) : nullptr;
      int64_t res = cqe->res;
      if (r.fault.kind != FlashFault::Kind::None) {
        res = fault_apply(r.fault, res, r.io_dst != nullptr ? r.io_dst : slot_buf);
      }
      --inflight;
      ++seen;
      if (error.empty() && transient(res) && r.tries < kFlashMaxRetries) {
        retry_backoff(++r.tries);
        retry.push_back(data);  // keeps its slot
        continue;
      }
      if (res > 0) bytes += res;
      if (error.empty()) {
        std::string e = finish_request(r, res, slot_buf, r.tries);
        if (!e.empty()) error = std::move(e);
      }
      if (slot >= 0) free_slots.push_back(slot);
    }
    io_uring_cq_advance(ring, seen);
  }
  counters_.requests += static_cast<int64_t>(issued);
  counters_.bytes_read += bytes;
  if (!error.empty()) throw Error(error);
}

std::string FlashStore::do_request(const Request& r, int slot) {
  uint8_t* buf = r.io_dst != nullptr ? r.io_dst : slot_data(slot);
  iovec iov{buf, r.io_bytes};
  for (int tries = 0;; ++tries) {
    const FlashFault f = fault_draw(r.file_offset, r.io_bytes, false);
    const ssize_t n = ::preadv(fd_, &iov, 1, static_cast<off_t>(r.file_offset));
    int64_t res = n < 0 ? -static_cast<int64_t>(errno) : n;
    if (f.kind != FlashFault::Kind::None) res = fault_apply(f, res, buf);
    if (transient(res) && tries < kFlashMaxRetries) {
      ++retries_;
      retry_backoff(tries + 1);
      continue;
    }
    if (res > 0) pool_->bytes += res;
    return finish_request(r, res, slot_data(slot), tries);
  }
}

void FlashStore::pool_worker(int slot) {
  Pool& p = *pool_;
  for (;;) {
    p.wake[static_cast<size_t>(slot)]->acquire();
    if (p.stop) return;
    for (size_t i = p.next.fetch_add(1); i < p.total && !p.failed; i = p.next.fetch_add(1)) {
      std::string e = do_request(requests_[i], slot);
      if (!e.empty()) {
        std::lock_guard<std::mutex> lock(p.error_mutex);
        if (p.error.empty()) p.error = std::move(e);
        p.failed = true;
      }
    }
    p.done.release();
  }
}

void FlashStore::run_pool() {
  Pool& p = *pool_;
  const size_t n = requests_.size();
  p.total = n;
  p.next = 0;
  p.failed = false;
  p.bytes = 0;
  p.error.clear();
  // Wake only as many workers as there are requests beyond the one the caller takes.
  const int helpers = static_cast<int>(std::min<size_t>(static_cast<size_t>(options_.threads), n - 1));
  for (int t = 0; t < helpers; ++t) p.wake[static_cast<size_t>(t)]->release();
  const int caller_slot = options_.threads;
  for (size_t i = p.next.fetch_add(1); i < n && !p.failed; i = p.next.fetch_add(1)) {
    std::string e = do_request(requests_[i], caller_slot);
    if (!e.empty()) {
      std::lock_guard<std::mutex> lock(p.error_mutex);
      if (p.error.empty()) p.error = std::move(e);
      p.failed = true;
    }
  }
  for (int t = 0; t < helpers; ++t) p.done.acquire();
  counters_.requests += static_cast<int64_t>(std::min(p.next.load(), n));
  counters_.bytes_read += p.bytes.load();
  if (p.failed) throw Error(p.error);
}

}  // namespace flashchat
