#!/usr/bin/env bash
# make_screenshots.sh [BUILD_DIR] - regenerates every picture of the README and the user guides
# (docs/USER_GUIDE*.md) from the current build into docs/images/ (English) and docs/images/ko/
# (Korean, `--lang ko`), with `flashchat --screenshot` offscreen at 1280x800 (and the demo at
# 1920x1080) on the shipped default model. Korean needs a CJK font (fonts-noto-cjk; fontconfig
# finds it for the offscreen platform too). Each picture gets its own scratch data
# folder; a settings.ini there chooses the mode and window the app starts with.
# BUILD_DIR defaults to ./build (what run.sh and test.sh build); it needs the flashchat target.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
gui=$build/app/flashchat
[ -x "$gui" ] || { echo "make_screenshots.sh: $gui is missing; build the flashchat target" >&2; exit 1; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export QT_QPA_PLATFORM=offscreen LANG=C.UTF-8 LC_ALL=C.UTF-8
unset FLASHCHAT_MODEL FLASHCHAT_RESOURCES FLASHCHAT_THEME

# shot NAME MODE WINDOW BUDGET_BYTES [flashchat options...]: $out/NAME.png from a fresh data
# folder whose settings start the engine in MODE with window WINDOW and the budget BUDGET_BYTES
# (0: the app's default, 75% of the model), in the language $lang (--lang) at $size.
shot() {
  local name=$1 mode=$2 window=$3 budget=$4
  shift 4
  local data=$scratch/$lang-$name
  mkdir -p "$data"
  printf '[engine]\nmode=%s\nwindow=%s\nbudget_bytes=%s\n' "$mode" "$window" "$budget" >"$data/settings.ini"
  local t0=$SECONDS
  FLASHCHAT_DATA_DIR=$data "$gui" --lang "$lang" --screenshot "$out/$name.png" --size "$size" "$@"
  echo "${out#"$src"/}/$name.png ($((SECONDS - t0)) s)"
}

# The English pictures in docs/images/ (README, USER_GUIDE.md), the Korean ones in
# docs/images/ko/ (USER_GUIDE.ko.md): the same scenes.
for lang in en ko; do
  out=$src/docs/images
  [ "$lang" = en ] || out=$src/docs/images/$lang
  mkdir -p "$out"
  size=1280x800
  # README and guide, "Your first chat": the demo script (two turns; budget 75% -> 68% of the
  # model after 12 tokens of the second reply, window 4 -> 8 after 24).
  shot flashchat-demo-1280x800 flash 4 0 --demo
  # Guide, "Install": the window right after the start, default model loaded, no chat yet.
  shot flashchat-start-1280x800 flash 4 0
  # Guide, lesson on the window: the demo with a roomy budget (10 MB, 94% of the model) from
  # window 1 and from window 8; the demo's own budget cut (to 68%) comes late in both.
  shot flashchat-window1-1280x800 flash 1 10000000 --demo
  shot flashchat-window8-1280x800 flash 8 10000000 --demo
  # Guide, lesson on reading: the demo in naive mode (the whole FFN read for every token).
  shot flashchat-naive-1280x800 naive 4 0 --demo
  # Guide, run history: the demo's two replies compared; the teaching view on the demo's run.
  shot flashchat-run-history-1280x800 flash 4 0 --demo --view history
  shot flashchat-teaching-1280x800 flash 4 0 --demo --view teaching
  # The chat settings dialog, advanced part open (its own size).
  shot flashchat-settings flash 4 0 --view settings
  # The demo on a large screen (checks that nothing is laid out for 1280x800 only).
  size=1920x1080
  shot flashchat-demo-1920x1080 flash 4 0 --demo
done
