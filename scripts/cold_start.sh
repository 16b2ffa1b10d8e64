#!/usr/bin/env bash
# Cold start (issue 13): wall time of `latent score` on one row from a model file, and of the
# bare binary's startup (`latent --version`), each run RUNS times as a fresh process, timed
# from Python around the whole process (fork, exec, load, score, exit); median and minimum.
#
#   bash scripts/cold_start.sh
#
# Two models: the shipped wbc table's default anomaly model (30 features, AE + ensemble detector,
# the `--preset anomaly` file a user scores with) and a plain dense autoencoder on it.
# Environment: RUNS=50, NO_BUILD=1 (use target/release/latent as built), PYTHON (any python3).
# Results: .bench/cold_start.md.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-50}
PY=${PYTHON:-python3}
LATENT=target/release/latent
DIR=.bench/cold
mkdir -p "$DIR"
if [ "${NO_BUILD:-0}" = 0 ]; then
    cargo build --release -p latent-cli >&2
fi
"$LATENT" train --data data/anomaly/wbc.csv --label-column label --preset anomaly --epochs 5 \
    --seed 1 --quiet --out "$DIR/anomaly.safetensors" >&2
"$LATENT" train --data data/anomaly/wbc.csv --label-column label --epochs 5 --seed 1 --quiet \
    --out "$DIR/dense.safetensors" >&2
head -2 data/anomaly/wbc.csv > "$DIR/one.csv"

"$PY" - "$LATENT" "$DIR" "$RUNS" <<'EOF' | tee .bench/cold_start.md
import statistics, subprocess, sys, time
latent, d, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])

def timed(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)  # warm the page cache
    ms = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        ms.append((time.perf_counter() - t) * 1e3)
    return statistics.median(ms), min(ms)

print(f"| what | median ms | min ms | runs |\n|---|---:|---:|---:|")
for name, cmd in [
    ("`latent --version` (startup)", [latent, "--version"]),
    ("`latent score`, one row, anomaly preset model",
     [latent, "score", "--model", f"{d}/anomaly.safetensors", "--data", f"{d}/one.csv", "--quiet"]),
    ("`latent score`, one row, dense model",
     [latent, "score", "--model", f"{d}/dense.safetensors", "--data", f"{d}/one.csv", "--quiet"]),
]:
    med, low = timed(cmd)
    print(f"| {name} | {med:.1f} | {low:.1f} | {runs} |")
EOF
