#!/usr/bin/env bash
# build_default_model.sh - the whole path from Debian text to the shipped default model:
#   1. train.py          corpus -> BPE -> OPT ReLU model -> HF export (WORK/hf)      ~55 min
#   2. logit_fixture.py  PyTorch reference logits -> tests/data/default_model_logits.json
#   3. flashchat-cli convert WORK/hf (the same converter users run) -> predictors + bundles
#   4. replace resources/models/default (and its training report) with the result
#
#   tools/default_model/build_default_model.sh [WORK_DIR] [BUILD_DIR]
#
# Defaults: WORK_DIR /tmp/fc_full (reused: finished steps are skipped by train.py), BUILD_DIR
# build (must contain app/flashchat-cli). Training is seeded and step-based (800 steps), so a rerun
# should give the same weights on this machine; that was not verified with a second 47-minute run,
# and another CPU or torch build may differ in the last bits.
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK="${1:-/tmp/fc_full}"
BUILD="${2:-build}"
CLI="$BUILD/app/flashchat-cli"
[ -x "$CLI" ] || { echo "error: $CLI not found (build flashchat-cli first)" >&2; exit 1; }

if [ ! -f "$WORK/hf/model.safetensors" ]; then
  /usr/bin/python3 tools/default_model/train.py --out "$WORK"
fi
/usr/bin/python3 tools/default_model/logit_fixture.py "$WORK/hf" tests/data/default_model_logits.json

# Rank 64 (of d = 256) in every layer (0.9 MB of predictors next to the 10.6 MB model): on this
# model layer 0, not the last one, needs the rank, and 64 meets recall >= 0.9 at <= 2x the active
# neurons everywhere (issue 11; tests/predictor_quality_test). 8192 of the calibration text's
# ~10 k tokens, 1000 Adam steps, threshold for recall 0.91 on held-out tokens (the report is on
# other held-out tokens, where it lands within ~0.01 of it), positive weight up to 16 (the layers
# 1-2 neurons fire on ~0.3% of tokens). Re-making only the predictors of the shipped model needs
# no training: tools/default_model/flash_to_hf.py resources/models/default WORK/hf
rm -rf "$WORK/flash"
"$CLI" convert "$WORK/hf" -o "$WORK/flash" --rank 64 --rank-last 0 --steps 1000 --batch 256 --tokens 8192 \
  --recall 0.91 --pos-weight-max 16

# Swap the new model in with renames, never leaving a half-copied resources/models/default.
DEST=resources/models/default
mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST.new" "$DEST.old"
cp -r "$WORK/flash" "$DEST.new"
[ -d "$DEST" ] && mv "$DEST" "$DEST.old"
mv "$DEST.new" "$DEST"
rm -rf "$DEST.old"
cp "$WORK/hf/training_report.json" resources/models/default_training_report.json
echo "default model: $DEST ($(du -sh "$DEST" | cut -f1))"
