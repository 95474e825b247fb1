#!/usr/bin/env bash
# Install kocr for development into ./.venv.
#
# PyTorch goes in first and on its own: a bare `torch` requirement on a machine without torch makes pip
# fetch the newest CUDA build (several GB). Set KOCR_TORCH_INDEX to a PyTorch wheel index (for example
# PyTorch's CPU-only index) to choose the build; KOCR_TORCH_VERSION picks the version (default 2.13.0).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
TORCH_VERSION=${KOCR_TORCH_VERSION:-2.13.0}

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import torch" >/dev/null 2>&1; then
    echo "installing torch==$TORCH_VERSION"
    "$VENV/bin/python" -m pip install --quiet "torch==$TORCH_VERSION" ${KOCR_TORCH_INDEX:+--index-url "$KOCR_TORCH_INDEX"}
fi
echo "installing kocr (editable) with its dev extra"
"$VENV/bin/python" -m pip install --quiet -e ".[dev]"
"$VENV/bin/kocr" --version
