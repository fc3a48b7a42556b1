#!/bin/sh
# opt-1.3b shape: F16 / Q8_0 / Q4_0 flash models, 24 greedy tokens, window 4.
B=${B:-flashchat-cli}
F16=/work/bench-cache/synth-opt-1.3b-flash
Q8=/work/bench-cache-qswi/opt-1.3b-q8_0
Q4=/work/bench-cache-qswi/opt-1.3b-q4_0
run() { # label model budget
  echo "== $1 $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> bench.log
  $B generate -m $2 -p "Once upon a time" -n 24 --temp 0 --ctx 64 --mode flash ${3:+--budget $3} --telemetry tel-$1.jsonl >> bench.log 2>&1
  echo "exit $?" >> bench.log
}
for round in 1 2; do
  run f16-50-$round $F16 1162M
  run q8-50-$round $Q8 614M
  run q4-50-$round $Q4 327M
  run q4-614-$round $Q4 614M
  run f16-nob-$round $F16
  run q8-nob-$round $Q8
  run q4-nob-$round $Q4
done
echo done >> bench.log
