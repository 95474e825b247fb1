#!/usr/bin/env bash
# Reproduce the bundled default model (kocr/weights/default.pt) with kocr's own tools only.
#
#   bash scripts/train_default.sh            # data, then training (resumes if a run exists)
#
# Needs Debian's fonts-nanum fonts-nanum-extra fonts-unfonts-core fonts-noto-cjk (the training fonts,
# scripts/fontsplit.py) and the `fonts` extra. Settings can be overridden through the environment.
set -euo pipefail
cd "$(dirname "$0")/.."

# On a shared CPU, OpenMP threads that spin while waiting starve each other: with another busy process on
# the same two cores, training ran at 5-35 samples/s with the default policy and 85 with PASSIVE.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}

KOCR=${KOCR:-.venv/bin/kocr}
PY=${PY:-.venv/bin/python}
DATA=${DATA:-data/default}
NUM_TRAIN=${NUM_TRAIN:-80000}
NUM_VALID=${NUM_VALID:-2000}
ITERS=${ITERS:-4500}
BATCH=${BATCH:-64}
WORKERS=${WORKERS:-2}
RUN=${RUN:-runs/default}

mapfile -t FONTS < <("$PY" scripts/fontsplit.py train --as-options | tr ' ' '\n')

synth() {  # synth OUT NUM SEED
    if [ ! -d "$1" ]; then
        "$KOCR" data synth -o "$1" --num "$2" --seed "$3" --charset ko-2350 --max-chars 20 \
            --workers "$WORKERS" "${FONTS[@]}"
    fi
}
synth "$DATA/train" "$NUM_TRAIN" 1
synth "$DATA/valid" "$NUM_VALID" 2

if [ -f "$RUN/last.pt" ]; then
    exec "$KOCR" train --resume "$RUN/last.pt" --workers 1
fi
exec "$KOCR" train --train-data "$DATA/train" --valid-data "$DATA/valid" --charset ko-2350 \
    --model vgg-bilstm-ctc-small --img-w 400 --batch-size "$BATCH" --iters "$ITERS" --lr 1e-3 \
    --valid-every 500 --valid-max-samples 1000 --no-augment --workers 1 --seed 1 \
    --output "$(dirname "$RUN")" --name "$(basename "$RUN")"
