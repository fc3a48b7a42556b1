#!/usr/bin/env bash
# Installs dependencies, builds Release and starts FlashChat on the default model.
# Until the GUI lands this runs the CLI on the stories260K fixture model.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install_deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DFLASHCHAT_BUILD_TESTS=OFF
cmake --build build --target flashchat-cli
MODEL="${FLASHCHAT_MODEL:-../shared/fixtures/models/stories260K/stories260K.gguf}"
if [ ! -e "$MODEL" ]; then
  echo "No model at $MODEL: set FLASHCHAT_MODEL to a GGUF file, Hugging Face directory or" >&2
  echo "flash model directory (the embedded default model arrives with a later issue)." >&2
  exit 1
fi
[ $# -eq 0 ] && set -- --temp 0.8 -n 200
exec build/app/flashchat-cli generate --model "$MODEL" "$@"
