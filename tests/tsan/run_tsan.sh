#!/usr/bin/env bash
# run_tsan.sh BUILD_DIR - builds the session tests with ThreadSanitizer in BUILD_DIR (configured
# on first use, -DFLASHCHAT_SANITIZE=thread) and runs them; any TSan report fails the run.
# The engine's parallel loops run on one TBB thread there (FLASHCHAT_TEST_THREADS=1): libtbb is
# not instrumented, so its workers' synchronisation is invisible to TSan. The threads under test
# are the Session's engine thread and the threads that drive it (settings, stop). Accesses that
# uninstrumented libraries make through TSan's interceptors (QtTest's watchdog thread, Qt's own
# wait conditions) are ignored (ignore_noninstrumented_modules); every access of our code is
# still checked.
set -euo pipefail
if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$1
mkdir -p "$build"
build=$(cd "$build" && pwd)
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  generator=()
  command -v ninja > /dev/null && generator=(-G Ninja)
  launcher=()
  command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S "$src" -B "$build" "${generator[@]}" "${launcher[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DFLASHCHAT_SANITIZE=thread -DFLASHCHAT_BUILD_TESTS=ON
fi
tests=(session_stress_test flash_session_test)
cmake --build "$build" --target "${tests[@]}"
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:report_signal_unsafe=0:ignore_noninstrumented_modules=1:suppressions=$src/tests/tsan/suppressions.txt}
export FLASHCHAT_TEST_THREADS=1 QT_QPA_PLATFORM=offscreen
export FLASHCHAT_FIXTURES_DIR=${FLASHCHAT_FIXTURES_DIR:-$src/../shared/fixtures}
export FLASHCHAT_TEST_DATA=$src/tests/data
for t in "${tests[@]}"; do
  echo "== $t (ThreadSanitizer)"
  "$build/tests/$t"
done
