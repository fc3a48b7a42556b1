#!/usr/bin/env bash
# Installs dependencies, builds Release and starts FlashChat on the default model.
# Until the GUI lands this runs the CLI on the shipped default model (resources/models/default;
# FLASHCHAT_MODEL or -m names another).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install_deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DFLASHCHAT_BUILD_TESTS=OFF
cmake --build build --target flashchat-cli
# No arguments: flash mode at about 60% of the default model (resources/models/README.md).
[ $# -eq 0 ] && set -- --temp 0.8 -n 120 --mode flash --budget 6.7M -p "The old man walked along the river"
exec build/app/flashchat-cli generate "$@"
