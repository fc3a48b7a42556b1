#!/bin/sh
# Same share of the FFN cacheable: budget = fixed part + ~17% of the FFN (what F16 at 50% leaves).
B=${B:-flashchat-cli}
Q8=/work/bench-cache-qswi/opt-1.3b-q8_0
Q4=/work/bench-cache-qswi/opt-1.3b-q4_0
run() {
  echo "== $1 $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> bench2.log
  $B generate -m $2 -p "Once upon a time" -n 24 --temp 0 --ctx 64 --mode flash --budget $3 --telemetry tel-$1.jsonl >> bench2.log 2>&1
  echo "exit $?" >> bench2.log
}
for round in 1 2; do
  run q8-710-$round $Q8 710M
  run q4-445-$round $Q4 445M
done
echo done >> bench2.log
