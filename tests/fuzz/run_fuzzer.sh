#!/usr/bin/env bash
# run_fuzzer.sh TARGET BUILD_DIR [SECONDS]
#
# Builds the libFuzzer target TARGET in BUILD_DIR (a clang-14 tree with -DFLASHCHAT_FUZZ_ONLY=ON,
# configured on first use), writes the seed corpus and fuzzes for SECONDS (default 60). Exits
# non-zero on any crash, sanitizer report, leak or timeout.
#   gguf            GgufFile::parse_bytes; seeds: small valid files + the fixture GGUFs
#   safetensors     SafetensorsFile; seeds: small valid files
#   tokenizer_json  tokenizer.json (Hugging Face); seeds: small files + tests/data/*/tokenizer.json
#   hf_config       config.json (Hugging Face); seeds: small files + tests/data/*/config.json
#   flash_manifest  manifest.json (flash model); seeds: the default model's manifest, whole and cut
# Seeds are never cut: -max_len is the largest seed (at least 64 KiB). The fixture GGUFs are
# required (a missing ../shared/fixtures fails, as in the Qt tests).
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
  echo "usage: $0 gguf|safetensors|tokenizer_json|hf_config|flash_manifest BUILD_DIR [SECONDS]" >&2
  exit 2
fi
target=$1
build=$2
seconds=${3:-${FLASHCHAT_FUZZ_SECONDS:-60}}
case "$target" in
  gguf | safetensors | tokenizer_json | hf_config | flash_manifest) ;;
  *) echo "unknown fuzz target '$target' (gguf | safetensors | tokenizer_json | hf_config | flash_manifest)" >&2; exit 2 ;;
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
"$build/tests/fuzz/fuzz_seeds" "$seeds" "$src/resources/models/default/manifest.json"
case "$target" in
  gguf)
    if ! compgen -G "$fixtures/*/*.gguf" > /dev/null && ! compgen -G "$fixtures/*/*/*.gguf" > /dev/null; then
      echo "fixture GGUFs missing under $fixtures (the shared fixtures live in ../shared/fixtures" \
           "beside the checkout; set FLASHCHAT_FIXTURES_DIR)" >&2
      exit 1
    fi
    find "$fixtures" -name '*.gguf' -exec cp {} "$seeds/gguf/" \; ;;
  tokenizer_json | hf_config)
    file=$([[ $target == tokenizer_json ]] && echo tokenizer.json || echo config.json)
    for d in "$src"/tests/data/*/; do
      if [[ -f $d/$file ]]; then cp "$d/$file" "$seeds/$target/$(basename "$d").json"; fi
    done ;;
  flash_manifest)
    cp "$src/resources/models/default/manifest.json" "$seeds/flash_manifest/default.json" ;;
esac
# The largest seed bounds the input length (libFuzzer would cut longer seeds to -max_len).
max_len=$(find "$seeds/$target" "$corpus" -type f -printf '%s\n' | sort -n | tail -1)
max_len=$(( ${max_len:-0} > 65536 ? max_len : 65536 ))

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "fuzzing $target for ${seconds}s (max_len $max_len, corpus $corpus, crashes go to $artifacts/)"
"$build/tests/fuzz/${target}_fuzz" \
  -max_total_time="$seconds" \
  -max_len="$max_len" \
  -rss_limit_mb=2048 \
  -timeout=20 \
  -print_final_stats=1 \
  -dict="$seeds/$target.dict" \
  -artifact_prefix="$artifacts/" \
  "$corpus" "$seeds/$target"
