#!/usr/bin/env bash
# Issue 13's fixed-budget architecture experiment: each candidate trains from scratch on the same
# on-the-fly lines (scripts/recipes/synth_v4.toml, seed 4: every candidate reads the same stream) for
# the same CPU budget, expressed in steps: STEPS for the two small models, half as many for the wider
# one, which trains at half their speed (python -m benchmarks.train). Validation every 250 steps on the
# same 1,000 stored lines (data/v4/valid). Then python -m benchmarks.arch_report prints the curves. Input
# normalisation stays off: the first candidate ran before it existed, and it is the same for every model.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
KOCR=${KOCR:-.venv/bin/kocr}
STEPS=${STEPS:-2000}
OUT=${OUT:-runs/arch}
run() {  # run NAME MODEL STEPS
    if [ -f "$OUT/$1/last.pt" ]; then
        "$KOCR" train --resume "$OUT/$1/last.pt" --workers 1
    else
        "$KOCR" train --train-data synth:scripts/recipes/synth_v4.toml --valid-data data/v4/valid \
            --charset ko-2350 --model "$2" --img-w 400 --batch-size 64 --iters "$3" --lr 1e-3 \
            --valid-every 250 --valid-max-samples 1000 --no-augment --no-normalize --workers 1 --seed 1 \
            --amp bf16 \
            --output "$OUT" --name "$1"
    fi
}
run small vgg-bilstm-ctc-small "$STEPS"
run small-jamo vgg-bilstm-ctc-small-jamo "$STEPS"
run h32 vgg-bilstm-ctc-h32 $((STEPS / 2))
