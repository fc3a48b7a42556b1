#include "bridge/thread_limit.h"

#include <tbb/global_control.h>
#include <tbb/info.h>

#include <memory>

namespace flashchat::ui {

namespace {
std::unique_ptr<tbb::global_control> g_control;
}

void thread_limit_set(int threads) {
  g_control.reset();
  if (threads > 0) {
    g_control = std::make_unique<tbb::global_control>(
        tbb::global_control::max_allowed_parallelism, static_cast<size_t>(threads));
  }
}

int thread_limit_hardware() { return tbb::info::default_concurrency(); }

}  // namespace flashchat::ui
