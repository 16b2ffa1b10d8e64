#!/usr/bin/env bash
# Issue 15's speed bar: Mult-VAE training epochs on the ML-20M-shaped synthetic set (136,677
# users x 20,108 items, about 10M positives), latent against the PyTorch reference
# (bench/multvae_pytorch.py: sparse input, the same layers, batch 500), one after the other on
# the same machine, 2 threads each. Run it on an idle machine.
#
#   bash scripts/bench-multvae.sh
#
# Environment:
#   DATA=.bench/ml20m.csv   the synthetic set (written by the committed generator when missing)
#   EPOCHS=2                epochs per side; the last one is reported (the first warms up)
#   PYTHON=...              a python that already has torch and numpy (skips the venv)
# Prints, per side, the last epoch's seconds, users per second and peak RSS, then the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${DATA:-.bench/ml20m.csv}
EPOCHS=${EPOCHS:-2}
VENV=.bench/venv
PY=${PYTHON:-$VENV/bin/python}
mkdir -p .bench

if [ -z "${PYTHON:-}" ] && ! "$PY" -c 'import torch, numpy' 2>/dev/null; then
    echo "== creating $VENV (PyTorch from PyPI)" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet torch numpy
fi
cargo build --release -p latent-cli >&2
cargo build --release -p latent --example ml20m_synthetic >&2
if [ ! -s "$DATA" ]; then
    target/release/examples/ml20m_synthetic "$DATA" >&2
fi

echo "== latent: $EPOCHS epochs (each includes scoring the 10,000 validation users)" >&2
export RAYON_NUM_THREADS=2
/usr/bin/time -f "%M" -o .bench/multvae-latent.rss target/release/latent train --preset mult-vae \
    --data "$DATA" --user-column userId --item-column movieId --epochs "$EPOCHS" -q \
    --out .bench/multvae.safetensors
latent_line=$(tail -1 .bench/multvae.metrics.jsonl)
train_users=$(target/release/latent info --model .bench/multvae.safetensors --format json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["manifest"]["summary"]["train_users"])')

echo "== PyTorch: $EPOCHS epochs" >&2
torch_out=$(OMP_NUM_THREADS=2 "$PY" bench/multvae_pytorch.py --data "$DATA" --epochs "$EPOCHS" --threads 2 | tail -1)

python3 - "$latent_line" "$train_users" "$(cat .bench/multvae-latent.rss)" "$torch_out" <<'EOF'
import json, re, sys
line, users, rss_kb, torch_out = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
lat_s = line["epoch_seconds"]
lat_ups = users / lat_s
m = re.search(r"([\d.]+) s, (\d+) users/s, peak RSS (\d+) MiB", torch_out)
pt_s, pt_ups, pt_rss = float(m[1]), float(m[2]), float(m[3])
print(f"latent : {lat_s:.1f} s per epoch, {lat_ups:.0f} users/s ({users} training users), peak RSS {rss_kb / 1024:.0f} MiB")
print(f"PyTorch: {pt_s:.1f} s per epoch, {pt_ups:.0f} users/s, peak RSS {pt_rss:.0f} MiB")
print(f"speed latent/PyTorch (users/s): {lat_ups / pt_ups:.2f}x; peak memory latent/PyTorch: {rss_kb / 1024 / pt_rss:.2f}")
EOF
