#!/usr/bin/env bash
# bench/run.sh [--quick] [--model-preset P ...] [--model NAME=PATH ...] [--out DIR]
#              [--cache-dir DIR] [--build-dir DIR] [-- bench_run.py options]
#
# The whole benchmark in one command: prepares the models (synthetic OPT presets generated with
# make_synthetic_opt.py and converted with `flashchat-cli convert`, cached), runs the mode
# matrix, the budget sweep and the window sweep (bench_run.py), measures fio and the memory
# bandwidth, then writes OUT/results.json, OUT/results.md (bench_report.py) and OUT/plots/*.png
# (plot_bench). See bench/README.md, section "bench/run.sh".
#
#   --quick            CI mode (a minute or two): the `tiny` preset and the stories260K fixture,
#                      short prompt and generation, short fio runs
#   --model-preset P   tiny | opt-125m | opt-1.3b | opt-6.7b (repeatable; default: quick: tiny +
#                      stories260K, full: opt-125m opt-1.3b opt-6.7b)
#   --model NAME=PATH  an extra or pre-built model: a flash model directory (used as is), a
#                      Hugging Face directory or a GGUF file (converted into the cache). A NAME
#                      equal to a preset replaces that preset. Also: FLASHCHAT_BENCH_MODELS=
#                      "NAME=PATH NAME=PATH".
#   --out DIR          results (default /tmp/flashchat-bench-<date>)
#   --cache-dir DIR    converted models (default: quick OUT/models, full /tmp/flashchat-bench-
#                      models; or FLASHCHAT_BENCH_CACHE)
#   --build-dir DIR    where flashchat-cli, matvec_bench and plot_bench were built (default:
#                      FLASHCHAT_BUILD_DIR, else the first of build-bench, build, build-* that
#                      has app/flashchat-cli)
#   after --            passed to bench_run.py, e.g. --gen-tokens 64 (flash and dram rows),
#                      --baseline-prompt-tokens 16 --baseline-gen-tokens 8 (naive and mmap rows,
#                      which read the whole FFN per token), --sweep-fractions 0.3,0.5,
#                      --window-ks 1,4,16, --references none (bench_run.py --help lists all)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
python=/usr/bin/python3  # Debian's interpreter (numpy); a pyenv python3 may not have it
stories_gguf=${FLASHCHAT_FIXTURES_DIR:-$root/../shared/fixtures}/models/stories260K/stories260K.gguf

die() {
  echo "bench/run.sh: $*" >&2
  exit 1
}

quick=0 out="" cache="${FLASHCHAT_BENCH_CACHE:-}" build="${FLASHCHAT_BUILD_DIR:-}"
presets=() models=() extra=()
while (($#)); do
  case $1 in
    --quick) quick=1 ;;
    --model-preset) presets+=("${2:?--model-preset needs a value}"); shift ;;
    --model) models+=("${2:?--model needs NAME=PATH}"); shift ;;
    --out) out=${2:?--out needs a directory}; shift ;;
    --cache-dir) cache=${2:?--cache-dir needs a directory}; shift ;;
    --build-dir) build=${2:?--build-dir needs a directory}; shift ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done
[[ -x $python ]] || die "$python not found (Debian's python3 with numpy is needed)"
if ((${#presets[@]} == 0)); then
  if ((quick)); then presets=(tiny); else presets=(opt-125m opt-1.3b opt-6.7b); fi
fi
out=${out:-/tmp/flashchat-bench-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [[ -z $cache ]]; then
  if ((quick)); then cache=$out/models; else cache=/tmp/flashchat-bench-models; fi
fi
mkdir -p "$cache"

# --- binaries ------------------------------------------------------------------------------
if [[ -z $build ]]; then
  for d in "$root/build-bench" "$root/build" "$root"/build-*; do
    if [[ -x $d/app/flashchat-cli ]]; then build=$d; break; fi
  done
fi
cli=${build:+$build/app/flashchat-cli}
[[ -n $cli && -x $cli ]] || die "flashchat-cli not found (--build-dir or FLASHCHAT_BUILD_DIR); \
build it: cmake -S $root -B $root/build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release && \
ninja -C $root/build-bench flashchat-cli matvec_bench plot_bench"
matvec=$build/bench/matvec_bench
plot=$build/bench/plot_bench
echo "[bench] binaries from $build; results in $out; models cached in $cache" >&2

# --- models --------------------------------------------------------------------------------
# Converts SRC (HF directory or GGUF) into DEST unless DEST already is a flash model. Writes to
# DEST.partial first so an interrupted run never leaves a half model that looks complete.
convert_into() {
  local src=$1 dest=$2
  [[ -f $dest/manifest.json ]] && return 0
  rm -rf "$dest.partial"
  echo "[bench] converting $src -> $dest" >&2
  "$cli" convert "$src" -o "$dest.partial" >"$dest.convert.log" 2>&1 ||
    die "convert $src failed (log: $dest.convert.log)"
  mv "$dest.partial" "$dest"
}

# Prints the flash directory of preset P, generating and converting it when not cached.
prepare_preset() {
  local p=$1 hf=$cache/synth-$1 flash=$cache/synth-$1-flash
  case $p in tiny | opt-125m | opt-1.3b | opt-6.7b) ;; *) die "unknown preset '$p'" ;; esac
  if [[ ! -f $flash/manifest.json && ! -f $hf/config.json ]]; then
    rm -rf "$hf.partial"
    echo "[bench] generating synthetic $p -> $hf" >&2
    "$python" "$here/make_synthetic_opt.py" --preset "$p" --out "$hf.partial" >"$hf.log" 2>&1 ||
      die "make_synthetic_opt.py --preset $p failed (log: $hf.log)"
    mv "$hf.partial" "$hf"
  fi
  convert_into "$hf" "$flash"
  echo "$flash"
}

declare -A chosen=()
order=()
add_model() {  # NAME PATH (a later NAME replaces an earlier one)
  [[ -v chosen[$1] ]] || order+=("$1")
  chosen[$1]=$2
}
read -r -a env_models <<<"${FLASHCHAT_BENCH_MODELS:-}"
for spec in "${env_models[@]}" "${models[@]}"; do
  [[ $spec == *=* ]] || die "model '$spec': expected NAME=PATH"
  add_model "${spec%%=*}" "${spec#*=}"
done
for p in "${presets[@]}"; do
  [[ -v chosen[$p] ]] || add_model "$p" "$(prepare_preset "$p")"
done
if ((quick)) && [[ ! -v chosen[stories260K] ]]; then
  if [[ -f $stories_gguf ]]; then
    add_model stories260K "$stories_gguf"
  else
    echo "[bench] note: $stories_gguf not found; stories260K skipped" >&2
  fi
fi
args=()
for name in "${order[@]}"; do
  path=${chosen[$name]}
  if [[ ! -f $path/manifest.json ]]; then  # HF directory or GGUF: convert into the cache
    [[ -e $path ]] || die "model $name: $path does not exist"
    convert_into "$path" "$cache/$name-flash"
    path=$cache/$name-flash
  fi
  args+=(--model "$name=$path")
done

# --- runs, report, plots -------------------------------------------------------------------
run_args=(--cli "$cli" --out "$out" "${args[@]}")
[[ -x $matvec ]] && run_args+=(--matvec-bench "$matvec")
((quick)) && run_args+=(--quick)
"$python" "$here/bench_run.py" "${run_args[@]}" "${extra[@]}"
if [[ -x $plot ]]; then
  QT_QPA_PLATFORM=offscreen "$plot" "$out/results.json" "$out/plots" ||
    die "plot_bench failed (results.json is complete; rerun $plot $out/results.json $out/plots)"
else
  echo "[bench] note: $plot not built (ninja plot_bench; needs libqcustomplot-dev): no PNGs" >&2
fi
"$python" "$here/bench_report.py" "$out/results.json"
echo "[bench] done: $out/results.md" >&2
