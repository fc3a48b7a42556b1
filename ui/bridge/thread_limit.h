// thread_limit.h - the number of worker threads the engine's parallel loops may use (oneTBB
// global_control), kept out of Qt headers (TBB declares emit()).
#pragma once

namespace flashchat::ui {

// Limits the engine's parallelism to `threads` (<= 0: the hardware default). Call it on the
// engine thread between tokens. Not thread-safe against itself.
void thread_limit_set(int threads);
// Hardware threads available to the process.
int thread_limit_hardware();

}  // namespace flashchat::ui
