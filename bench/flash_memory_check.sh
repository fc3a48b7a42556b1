#!/usr/bin/env bash
# flash_memory_check.sh CLI FLASH_MODEL_DIR BUDGET [TOKENS]
#
# Runs `flashchat-cli generate --mode flash --budget BUDGET` (direct I/O, so the page cache
# holds none of the FFN) and checks what the kernel measured: the process's peak RSS above its
# RSS at start (the binary and its libraries, printed as "start") must not exceed the budget.
# Exits 1 when it does. Example:
#   bench/flash_memory_check.sh build/app/flashchat-cli /tmp/synth-125m-flash 100M
set -euo pipefail
cli=$1 model=$2 budget=$3 tokens=${4:-64}
err=$(mktemp)
trap 'rm -f "$err"' EXIT
"$cli" generate -m "$model" --mode flash --budget "$budget" --ctx 256 --temp 0 -n "$tokens" \
  -p "Once upon a time" >/dev/null 2>"$err"
line=$(grep "peak RSS above start" "$err")
echo "$line"
python3 - "$line" "$budget" <<'PY'
import re, sys
line, budget = sys.argv[1], sys.argv[2]
units = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}
m = re.search(r"peak RSS above start ([\d.]+) (\w+) \(start ([\d.]+) (\w+)\)", line)
above = float(m.group(1)) * units[m.group(2)]
mult = {"K": 2**10, "M": 2**20, "G": 2**30}
b = float(budget[:-1]) * mult[budget[-1].upper()] if budget[-1].isalpha() else float(budget)
print(f"peak RSS above start {above / 2**20:.1f} MiB, budget {b / 2**20:.1f} MiB, "
      f"start (fixed overhead) {m.group(3)} {m.group(4)}: {'OK' if above <= b else 'OVER BUDGET'}")
sys.exit(0 if above <= b else 1)
PY
