#!/usr/bin/env bash
# run_fuzzer.sh TARGET BUILD_DIR [SECONDS]
#
# Builds the libFuzzer target TARGET (gguf | safetensors) in BUILD_DIR (a clang-14 tree with
# -DFLASHCHAT_FUZZ_ONLY=ON, configured on first use), writes the seed corpus (small valid files
# plus the real fixture GGUFs when ../shared/fixtures is present) and fuzzes for SECONDS
# (default 60). Exits non-zero on any crash, sanitizer report, leak or timeout.
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
  echo "usage: $0 gguf|safetensors BUILD_DIR [SECONDS]" >&2
  exit 2
fi
target=$1
build=$2
seconds=${3:-${FLASHCHAT_FUZZ_SECONDS:-60}}
case "$target" in
  gguf | safetensors) ;;
  *) echo "unknown fuzz target '$target' (gguf | safetensors)" >&2; exit 2 ;;
esac

src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$build"
build=$(cd "$build" && pwd)
fixtures=${FLASHCHAT_FIXTURES_DIR:-$src/../shared/fixtures}

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  generator=()
  command -v ninja > /dev/null && generator=(-G Ninja)
  CC=clang-14 CXX=clang++-14 cmake -S "$src" -B "$build" "${generator[@]}" \
    -DFLASHCHAT_FUZZ_ONLY=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$build" --target "${target}_fuzz" fuzz_seeds

# Seeds are regenerated every run; the working corpus persists between runs.
seeds=$build/fuzz-seeds
corpus=$build/fuzz-corpus/$target
artifacts=$build/fuzz-artifacts/$target
rm -rf "$seeds"
mkdir -p "$seeds" "$corpus" "$artifacts"
"$build/tests/fuzz/fuzz_seeds" "$seeds"
if [[ $target == gguf ]]; then
  if compgen -G "$fixtures/*/*.gguf" > /dev/null || compgen -G "$fixtures/*/*/*.gguf" > /dev/null; then
    find "$fixtures" -name '*.gguf' -exec cp {} "$seeds/gguf/" \;
  else
    echo "note: no fixture GGUFs under $fixtures; using generated seeds only"
  fi
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "fuzzing $target for ${seconds}s (corpus $corpus, crashes go to $artifacts/)"
"$build/tests/fuzz/${target}_fuzz" \
  -max_total_time="$seconds" \
  -max_len=65536 \
  -rss_limit_mb=2048 \
  -timeout=20 \
  -print_final_stats=1 \
  -dict="$seeds/$target.dict" \
  -artifact_prefix="$artifacts/" \
  "$corpus" "$seeds/$target"
