// flash_store_async.cc - FlashStore's I/O thread: read_runs_async / read_runs_wait.
#include <condition_variable>
#include <exception>
#include <mutex>
#include <span>
#include <thread>

#include "core/error.h"
#include "runtime/flash_store.h"

namespace flashchat {

// The I/O thread of read_runs_async: waits for a job, runs read_runs, reports.
struct FlashStore::Async {
  std::thread thread;
  std::mutex mutex;
  std::condition_variable cv;
  std::span<const ReadRun> runs;  // the caller's list: it stays untouched until read_runs_wait
  bool pending = false;  // a job was handed over and not yet collected
  bool done = false;     // the job finished (error holds its exception, if any)
  bool stop = false;
  std::exception_ptr error;
};

void FlashStore::AsyncDeleter::operator()(Async* a) const { delete a; }

void FlashStore::read_runs_async(std::span<const ReadRun> runs) {
  if (fd_ < 0) fail(path_.empty() ? "flash store" : path_, "read_runs_async: no file open");
  if (!async_) {
    async_.reset(new Async());
    Async* a = async_.get();
    a->thread = std::thread([this, a] {
      std::unique_lock<std::mutex> lock(a->mutex);
      for (;;) {
        a->cv.wait(lock, [a] { return a->stop || (a->pending && !a->done); });
        if (a->stop) return;
        lock.unlock();
        std::exception_ptr error;
        try {
          read_runs(a->runs);
        } catch (...) {
          error = std::current_exception();
        }
        lock.lock();
        a->error = error;
        a->done = true;
        a->cv.notify_all();
      }
    });
  }
  std::lock_guard<std::mutex> lock(async_->mutex);
  if (async_->pending) fail(path_, "read_runs_async: a read is already pending");
  async_->runs = runs;
  async_->pending = true;
  async_->done = false;
  async_->error = nullptr;
  async_->cv.notify_all();
}

void FlashStore::read_runs_wait() {
  if (!async_) return;
  std::unique_lock<std::mutex> lock(async_->mutex);
  if (!async_->pending) return;
  async_->cv.wait(lock, [this] { return async_->done; });
  async_->pending = false;
  if (async_->error) {
    std::exception_ptr error = async_->error;
    async_->error = nullptr;
    std::rethrow_exception(error);
  }
}

void FlashStore::async_stop() {
  if (!async_) return;
  try {
    read_runs_wait();
  } catch (...) {
    // The store is closing: a failed read nobody collected has no one left to report to.
  }
  {
    std::lock_guard<std::mutex> lock(async_->mutex);
    async_->stop = true;
    async_->cv.notify_all();
  }
  async_->thread.join();
  async_.reset();
}

}  // namespace flashchat
