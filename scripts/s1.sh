#!/usr/bin/env bash
# S1 of DESIGN.md §4: anomaly scoring end to end. `latent score` over a CSV of 1,000,000 rows x
# 30 features with a 30-16-8-16-30 model, against the equivalent pandas + PyTorch pipeline
# (bench/s1_pytorch.py, same model file) in the same run, alternating: wall time from process
# start to last byte written and peak RSS (/usr/bin/time), medians, ratio; then the two score
# files are compared value by value.
#
#   bash scripts/s1.sh
#
# Environment: RUNS=3, ROWS=1000000, PYTHON=... (a python with torch, numpy, pandas and
# safetensors; default: the .bench/venv it creates), NO_BUILD=1 (use target/release/latent).
# Results: .bench/s1/summary.md.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
ROWS=${ROWS:-1000000}
DIR=.bench/s1
VENV=.bench/venv
PY=${PYTHON:-$VENV/bin/python}
LATENT=target/release/latent
mkdir -p "$DIR"

if [ -z "${PYTHON:-}" ] && ! "$PY" -c 'import torch, numpy, pandas, safetensors' 2>/dev/null; then
    echo "== preparing $VENV (PyTorch, pandas, safetensors from PyPI)" >&2
    [ -x "$PY" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet torch numpy pandas safetensors
fi
if [ "${NO_BUILD:-0}" = 0 ]; then
    cargo build --release -p latent-cli >&2
fi

DATA=$DIR/rows-$ROWS.csv
if [ ! -f "$DATA" ]; then
    echo "== writing $DATA" >&2
    "$PY" - "$DATA" "$ROWS" <<'PY'
import sys
import numpy as np
import pandas as pd
path, rows = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(7)
# 30 correlated features from 8 latent factors, plus noise; 1% of rows shifted (anomalies).
z = rng.standard_normal((rows, 8)).astype(np.float32)
x = z @ rng.standard_normal((8, 30)).astype(np.float32) + 0.1 * rng.standard_normal((rows, 30)).astype(np.float32)
bad = rng.random(rows) < 0.01
x[bad] += rng.normal(0, 3, (bad.sum(), 30)).astype(np.float32)
pd.DataFrame(x, columns=[f"f{i}" for i in range(30)]).to_csv(path, index=False, float_format="%.6g")
PY
fi
MODEL=$DIR/model.safetensors
if [ ! -f "$MODEL" ]; then
    echo "== training $MODEL on the first 100,000 rows" >&2
    head -n 100001 "$DATA" > "$DIR/train.csv"
    "$LATENT" train --data "$DIR/train.csv" --hidden 16 --latent 8 --epochs 10 --seed 1 \
        --quiet --out "$MODEL"
fi

echo "== machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
: > "$DIR/times.txt"
for run in $(seq 1 "$RUNS"); do
    echo "== run $run/$RUNS" >&2
    /usr/bin/time -f "latent %e %M" -a -o "$DIR/times.txt" \
        "$LATENT" score --model "$MODEL" --data "$DATA" --out "$DIR/latent.csv" --quiet
    /usr/bin/time -f "pytorch %e %M" -a -o "$DIR/times.txt" \
        "$PY" bench/s1_pytorch.py --model "$MODEL" --data "$DATA" --out "$DIR/pytorch.csv"
done

"$PY" - "$DIR" "$ROWS" <<'PY' | tee "$DIR/summary.md"
import statistics, sys
import numpy as np
import pandas as pd
d, rows = sys.argv[1], int(sys.argv[2])
t = {}
for line in open(f"{d}/times.txt"):
    parts = line.split()
    if len(parts) == 3 and parts[0] in ("latent", "pytorch"):
        t.setdefault(parts[0], []).append((float(parts[1]), float(parts[2]) / 1024))
med = {k: (statistics.median(s for s, _ in v), max(m for _, m in v)) for k, v in t.items()}
a = pd.read_csv(f"{d}/latent.csv")
b = pd.read_csv(f"{d}/pytorch.csv")
rel = np.abs(a["score"] - b["score"]) / np.maximum(np.abs(b["score"]), 1e-6)
flags = (a["is_anomaly"].astype(bool) == b["is_anomaly"].astype(bool)).mean()
(ls, lm), (ps, pm) = med["latent"], med["pytorch"]
print(f"S1: {rows:,} rows x 30 columns, 30-16-8-16-30 model, {len(t['latent'])} runs each (medians)\n")
print("| pipeline | seconds | rows/s | peak RSS (MB) |\n|---|---:|---:|---:|")
print(f"| latent score | {ls:.2f} | {rows / ls:,.0f} | {lm:.1f} |")
print(f"| pandas + PyTorch | {ps:.2f} | {rows / ps:,.0f} | {pm:.1f} |")
print(f"\nlatent is {ps / ls:.1f}x faster with {pm / lm:.1f}x less memory (targets: >= 10x, <= 100 MB).")
print(f"Scores agree: max relative difference {rel.max():.2e}, same flag on {flags:.4%} of rows.")
PY
