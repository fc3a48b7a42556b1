#!/usr/bin/env bash
# Installs dependencies, builds Release and starts the FlashChat desktop app on the shipped
# default model (resources/models/default). `./run.sh --cli ARGS` runs flashchat-cli instead
# (no ARGS: a short generation in flash mode at about 71% of the default model).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install_deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DFLASHCHAT_BUILD_TESTS=OFF
if [ "${1:-}" = "--cli" ]; then
  shift
  cmake --build build --target flashchat-cli
  [ $# -eq 0 ] && set -- generate --temp 0.8 -n 120 --mode flash --budget 7.2M -p "The old man walked along the river"
  exec build/app/flashchat-cli "$@"
fi
cmake --build build --target flashchat
exec build/app/flashchat "$@"
