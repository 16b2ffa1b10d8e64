#!/usr/bin/env bash
# Creates the venv of latent benchmark-anomaly's PyOD baselines (AutoEncoder, VAE through
# bench/pyod_reference.py) and runs the benchmark with the full panel.
#
#   bash scripts/anomaly_baselines.sh [benchmark-anomaly flags...]
#
# Environment:
#   PYTHON=...   a python that already has pyod and torch (skips the venv)
#   DATA=DIR     the data sets (default ../shared/data/anomaly)
# torch comes from the PyTorch CPU index when it is reachable, else from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.bench/pyod-venv
PY=${PYTHON:-$VENV/bin/python}
DATA=${DATA:-../shared/data/anomaly}
mkdir -p .bench
if [ -z "${PYTHON:-}" ] && ! "$PY" -c 'import torch, pyod, numpy' 2>/dev/null; then
    echo "== creating $VENV (pyod, torch)" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet torch --index-url https://download.pytorch.org/whl/cpu \
        || "$VENV/bin/pip" install --quiet torch
    "$VENV/bin/pip" install --quiet pyod numpy tqdm
fi
echo "== pyod $("$PY" -c 'import pyod; print(pyod.__version__)'), torch $("$PY" -c 'import torch; print(torch.__version__)')" >&2
cargo build --release -p latent-cli >&2
target/release/latent benchmark-anomaly --data-dir "$DATA" --python "$PY" "$@"
