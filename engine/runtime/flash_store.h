// flash_store.h - reads runs of adjacent neuron bundles from ffn.bin, bypassing the page cache.
//
// The file is opened with O_DIRECT so that the only DRAM the reads use is what the engine
// accounts for (the destination rows plus this store's fixed staging buffers). When O_DIRECT is
// refused (open or the first aligned read fails with EINVAL, e.g. some tmpfs) the store falls
// back to buffered reads followed by posix_fadvise(POSIX_FADV_DONTNEED) on the range read, and
// direct_io() says so.
//
// A read is a list of runs {file offset, length, destination}. Each run is cut into requests of
// at most request_bytes and many requests are kept in flight (io_uring, or a pool of threads
// calling preadv). A direct-mode request whose offset, length and destination are all 4 KiB
// aligned lands in place; any other lands in a 4 KiB-aligned staging slot covering the 4 KiB
// span around it and is copied out. Staging memory is allocated once at open() and never grows:
// big runs are chunked, not buffered whole.
//
// Transient failures are survived: a completion of -EAGAIN or -EINTR is re-issued (up to
// kFlashMaxRetries times per request, backing off after the first few); a short completion is
// topped up synchronously from the last 4 KiB boundary it reached (so the continuation stays
// O_DIRECT-aligned); a request that finds no free submission entry waits for one instead of
// being dropped. Anything else (an I/O error, a short read at EOF) throws after the requests in
// flight have drained.
//
// Not thread-safe for concurrent read_runs() calls on one store (they are serialised by a mutex).
// read_runs_async hands one read to the store's I/O thread; read_runs_wait collects it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace flashchat {

// One contiguous byte range of the file and where it goes. dst must hold `length` bytes and may
// have any alignment.
struct ReadRun {
  uint64_t offset = 0;
  uint64_t length = 0;
  uint8_t* dst = nullptr;
};

// How requests are kept in flight.
enum class FlashReadBackend { IoUring, ThreadPool };

// The measured faster backend on this machine (bench/flash_read_bench.cc, 2 cores, virtio disk,
// random 16/32/64 KiB runs in batches of 128, medians of 3 interleaved rounds):
//   io_uring qd64  512 / 738 / 1075 MB/s, 118-264 CPU-ms per GB
//   io_uring qd32  466 / 627 /  926 MB/s
//   pool 32 thr    488 / 714 /  942 MB/s, 354-1213 CPU-ms per GB
//   fio qd32       456 / 741 / 1386 MB/s
// io_uring at depth 64 is at least as fast and costs 2-4x less CPU (which the FFN needs).
inline constexpr FlashReadBackend kDefaultFlashReadBackend = FlashReadBackend::IoUring;

struct FlashStoreOptions {
  FlashReadBackend backend = kDefaultFlashReadBackend;
  int queue_depth = 64;               // io_uring: requests in flight
  int threads = 16;                   // thread pool: worker threads (the caller reads too)
  int64_t request_bytes = 64 * 1024;  // largest single request (multiple of 4096); staging is
                                      // queue_depth (or threads + 1) x request_bytes = 4 MiB
};

// Times one request is re-issued after -EAGAIN/-EINTR before the read fails.
inline constexpr int kFlashMaxRetries = 32;

// Test hook: what happens to one I/O attempt (see FlashStore::set_fault_injector).
struct FlashFault {
  enum class Kind : uint8_t {
    None,
    ShortRead,    // only `bytes` arrive (the rest of the buffer is scribbled over)
    Again,        // the completion is -EAGAIN (the buffer is scribbled over)
    Interrupted,  // the completion is -EINTR
    IoError,      // the completion is -EIO
    NoSqe,        // io_uring: no submission entry is free for this attempt (pool: ignored)
  };
  Kind kind = Kind::None;
  uint32_t bytes = 0;  // ShortRead: bytes that arrive
};

// One I/O attempt, as the injector sees it. attempt counts every attempt (first issue, re-issue,
// short-read top-up) since set_fault_injector(), from 0.
struct FlashFaultSite {
  int64_t attempt = 0;
  uint64_t file_offset = 0;
  uint32_t io_bytes = 0;
  bool top_up = false;  // the synchronous continuation of a short read
};

// Called once per attempt, before the I/O; the thread pool backend calls it from its worker
// threads concurrently, so it must be thread-safe.
using FlashFaultInjector = std::function<FlashFault(const FlashFaultSite&)>;

// Appends the runs that read bundle neurons[j] (at layer_offset + neurons[j] * bundle_bytes) into
// dsts[j], merging consecutive entries that are adjacent both on disk (neuron + 1) and in memory
// (dst + bundle_bytes) into one run. Sort neurons (and append cache rows in that order) to get
// long runs. neurons and dsts have the same length (throws Error otherwise).
void bundle_runs_append(uint64_t layer_offset, int64_t bundle_bytes,
                        std::span<const int32_t> neurons, std::span<uint8_t* const> dsts,
                        std::vector<ReadRun>& runs);

// What reading `runs` costs the store, computed without reading: the requests it issues and the
// bytes they transfer (4 KiB padding of staged requests included, clipped at the end of a
// file of file_size bytes), exactly as FlashStore counts them when no request fails. dst is
// only looked at for its 4 KiB phase. Throws Error on a run past the end or a null dst.
struct FlashReadCost {
  int64_t bytes = 0;
  int64_t requests = 0;
};
FlashReadCost flash_read_cost(std::span<const ReadRun> runs, bool direct, int64_t request_bytes,
                              uint64_t file_size);

class FlashStore {
 public:

  // Cumulative since open() or reset_counters().
  struct Counters {
    int64_t bytes_read = 0;       // bytes transferred from the file (incl. 4 KiB alignment pads)
    int64_t bytes_requested = 0;  // sum of run lengths asked for
    int64_t requests = 0;         // I/O requests issued
    int64_t runs = 0;
    int64_t retries = 0;          // requests re-issued after -EAGAIN/-EINTR
    int64_t top_ups = 0;          // synchronous continuations of short completions
    double io_ms = 0;             // wall time spent inside read_runs()
  };

  static FlashReadBackend default_backend() { return kDefaultFlashReadBackend; }
  static const char* backend_name(FlashReadBackend b);

  FlashStore();
  ~FlashStore();
  FlashStore(const FlashStore&) = delete;
  FlashStore& operator=(const FlashStore&) = delete;

  // Opens `path` for reading (closing any file already open). direct = try O_DIRECT first.
  // Allocates the staging buffers. Throws Error naming the file when it cannot be opened, is
  // not a regular file, or the options are invalid (queue_depth/threads < 1, request_bytes not
  // a positive multiple of 4096); falls back to ThreadPool when io_uring cannot be set up.
  void open(const std::string& path, bool direct, const FlashStoreOptions& options);
  void open(const std::string& path, bool direct = true) { open(path, direct, FlashStoreOptions()); }
  void close();
  bool is_open() const { return fd_ >= 0; }

  const std::string& path() const { return path_; }
  uint64_t file_size_bytes() const { return file_size_; }
  // True when O_DIRECT is in force; false after the buffered fallback (or open(path, false)).
  bool direct_io() const { return direct_; }
  FlashReadBackend backend() const { return backend_; }
  const FlashStoreOptions& options() const { return options_; }
  // Bytes of 4 KiB-aligned staging buffers held (I/O buffers in the DRAM budget); fixed after open.
  int64_t staging_bytes() const { return staging_bytes_; }

  // Reads every run completely into its dst, many requests in flight; -EAGAIN/-EINTR are
  // re-issued and short completions topped up (see the top of this file). Throws Error naming
  // the file and offset when a run reaches past the end of the file, on a short read that cannot
  // be completed (EOF), an I/O error, or -EAGAIN after kFlashMaxRetries re-issues (after every
  // request in flight has completed, so the store stays usable and no buffer is written after
  // the throw). Runs must not overlap in dst.
  void read_runs(std::span<const ReadRun> runs);
  // One run.
  void read(uint64_t offset, uint64_t length, uint8_t* dst);

  // Overlapped reads: read_runs(runs) on the store's own I/O thread (started on first use), so
  // the caller can compute while the requests are in flight. `runs` is not copied: the list
  // and its destinations must stay valid and untouched until read_runs_wait() returns. One
  // pending read at a time (throws Error when one is pending).
  void read_runs_async(std::span<const ReadRun> runs);
  // Waits for the pending read_runs_async (returns at once when none is pending). Throws what
  // read_runs threw, after which the store is usable again.
  void read_runs_wait();

  const Counters& counters() const { return counters_; }
  void reset_counters() { counters_ = Counters(); }

  // Test hook: every later I/O attempt first asks `injector` what goes wrong with it (an empty
  // function = nothing; the default, costing one branch per request). Kept across open()/close().
  // Must not be called while another thread is inside read_runs().
  void set_fault_injector(FlashFaultInjector injector);

 private:
  struct Request {
    uint64_t file_offset = 0;  // where the I/O starts (aligned in direct mode)
    uint32_t io_bytes = 0;     // bytes the I/O asks for
    uint32_t expect_bytes = 0; // bytes that must arrive (io_bytes clipped at EOF)
    uint8_t* io_dst = nullptr; // in place, or nullptr = staged
    uint32_t copy_from = 0;    // staged: offset in the slot of the first byte wanted
    uint32_t copy_bytes = 0;   // staged: bytes to copy to copy_dst
    uint8_t* copy_dst = nullptr;
    uint64_t run_offset = 0;   // for messages: the run this request belongs to
    int tries = 0;             // io_uring: re-issues so far
    FlashFault fault;          // io_uring: the injected fault of the attempt in flight
  };
  struct Ring;
  struct Pool;
  struct Async;

  void plan(std::span<const ReadRun> runs);
  void async_stop();  // waits for a pending async read and ends the I/O thread
  void run_uring();
  void run_pool();
  void pool_worker(int slot);
  // Performs request i synchronously into `slot` (thread pool); returns an error message or "".
  std::string do_request(const Request& r, int slot);
  // Checks a completed request's result (`tries` re-issues so far, for the message), tops up a
  // short one, copies staged bytes out, drops cached pages in buffered mode. Returns an error
  // message or "".
  std::string finish_request(const Request& r, int64_t result, uint8_t* slot_buf, int tries);
  // The injected fault for the next attempt (None without an injector).
  FlashFault fault_draw(uint64_t file_offset, uint64_t io_bytes, bool top_up) {
    if (!fault_injector_) return {};
    return fault_injector_({fault_attempts_.fetch_add(1), file_offset,
                            static_cast<uint32_t>(io_bytes), top_up});
  }
  uint8_t* slot_data(int slot) {
    return staging_ == nullptr ? nullptr
                               : staging_ + static_cast<size_t>(slot) * options_.request_bytes;
  }

  std::string path_;
  int fd_ = -1;
  uint64_t file_size_ = 0;
  bool direct_ = false;
  FlashReadBackend backend_ = FlashReadBackend::IoUring;
  FlashStoreOptions options_;
  uint8_t* staging_ = nullptr;
  int64_t staging_bytes_ = 0;
  int n_slots_ = 0;
  std::unique_ptr<Ring> ring_;
  std::unique_ptr<Pool> pool_;
  struct AsyncDeleter {
    void operator()(Async* a) const;
  };
  std::unique_ptr<Async, AsyncDeleter> async_;
  std::vector<Request> requests_;  // reserved once; reused per call
  Counters counters_;
  std::atomic<int64_t> retries_{0};  // this call's re-issues and top-ups (pool threads add too)
  std::atomic<int64_t> top_ups_{0};
  std::atomic<int64_t> top_up_bytes_{0};
  FlashFaultInjector fault_injector_;
  std::atomic<int64_t> fault_attempts_{0};
  std::mutex read_mutex_;
};

}  // namespace flashchat
