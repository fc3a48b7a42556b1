#!/usr/bin/env bash
# Installs dependencies, builds (Release) and runs every test through ctest.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install_deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DFLASHCHAT_BUILD_TESTS=ON
cmake --build build
cd build
ctest --output-on-failure -j2 --timeout 900
