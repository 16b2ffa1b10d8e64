#!/usr/bin/env bash
# Reproduces BENCHMARKS.md: latent against PyTorch (CPU, 2 threads) on the reference workloads
# of DESIGN.md §4, alternating, RUNS times each, medians and ratios.
#
#   bash scripts/bench.sh
#
# Environment:
#   RUNS=3              runs of each implementation per workload
#   WORKLOADS="w1 w2 tiny"  (w3: conv training; not in the default list, it takes minutes)
#   KERNELS=1           first time the W1 matrix products, gemm vs faer (0 skips it)
#   DATA=random         or mnist (then MNIST_DIR must hold train-images-idx3-ubyte.gz)
#   EPOCHS=3            training epochs (the first is warm-up and not timed)
#   ROWS=N              rows per workload instead of its default (a shorter run)
#   THREADS=2
#   ORT=1               W2 also in ONNX Runtime (the same PyTorch model exported; 0 skips it)
#   PYTHON=...          a python that already has torch and numpy (skips the venv)
#   NO_BUILD=1          use the binaries already in target/release/examples
#   PIN="taskset -c 0,1"  prefix for every measured command (e.g. on a larger machine)
# Results: .bench/results.jsonl (one JSON line per run), .bench/kernels.md, .bench/summary.md.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
WORKLOADS=${WORKLOADS:-"w1 w2 tiny"}
KERNELS=${KERNELS:-1}
DATA=${DATA:-random}
EPOCHS=${EPOCHS:-3}
THREADS=${THREADS:-2}
ORT=${ORT:-1}
VENV=.bench/venv
PY=${PYTHON:-$VENV/bin/python}
PIN=${PIN:-}
mkdir -p .bench

if [ -z "${PYTHON:-}" ] && ! "$PY" -c 'import torch, numpy' 2>/dev/null; then
    echo "== creating $VENV (PyTorch from PyPI)" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet torch numpy
fi
if [ "$ORT" != 0 ] && ! "$PY" -c 'import onnxruntime, onnx' 2>/dev/null; then
    "$PY" -m pip install --quiet onnxruntime onnx
fi

if [ "${NO_BUILD:-0}" = 0 ]; then
    echo "== building" >&2
    cargo build --release -p latent --example workloads --example peak_flops >&2
    if [ "$KERNELS" != 0 ]; then
        cargo build --release -p latent --features faer --example kernels >&2
    fi
fi
LATENT=target/release/examples/workloads
ARGS=(--data "$DATA" --epochs "$EPOCHS" --threads "$THREADS")
if [ -n "${MNIST_DIR:-}" ]; then ARGS+=(--mnist-dir "$MNIST_DIR"); fi
if [ -n "${ROWS:-}" ]; then ARGS+=(--rows "$ROWS"); fi

# PyTorch runs without the OpenBLAS tuning variables the Rust side may have been given.
pytorch() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $PIN "$PY" bench/pytorch_workloads.py "$@"; }

echo "== machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs, $THREADS threads used" >&2
echo "== torch $("$PY" -c 'import torch; print(torch.__version__)'), $(rustc --version 2>/dev/null || echo 'rustc not here')" >&2

if [ "$KERNELS" != 0 ]; then
    echo "== kernels (W1 matrix products)" >&2
    {
        $PIN target/release/examples/kernels --threads "$THREADS"
        echo
        pytorch kernels --threads "$THREADS"
    } | tee .bench/kernels.md
    echo
fi

# The fp32 peak of THREADS cores at the clock they run at, for the GFLOP/s columns.
$PIN target/release/examples/peak_flops --threads "$THREADS" | tee .bench/peak.json >&2

RESULTS=.bench/results.jsonl
: > "$RESULTS"
record() { # record <command...>: runs it, notes how busy the machine was just before, appends
    local load busy line
    load=$(cut -d' ' -f1 /proc/loadavg)
    # CPUs kept busy by other processes over the half second before the run (from /proc/stat):
    # PyTorch's OpenMP threads slow down by large factors when they must share CPUs.
    busy=$({ head -1 /proc/stat; sleep 0.5; head -1 /proc/stat; } | awk -v n="$(nproc)" '
        { idle = $5 + $6; total = 0; for (i = 2; i <= NF; i++) total += $i }
        NR == 1 { i0 = idle; t0 = total }
        NR == 2 { printf "%.2f", n * (1 - (idle - i0) / (total - t0)) }')
    line=$("$@" | tail -n 1)
    line="${line%\}},\"load1_before\":$load,\"busy_cpus_before\":$busy}"
    echo "$line" | tee -a "$RESULTS" >&2
}
for w in $WORKLOADS; do
    for run in $(seq 1 "$RUNS"); do
        echo "== $w run $run/$RUNS" >&2
        record $PIN "$LATENT" "$w" "${ARGS[@]}"
        record pytorch "$w" "${ARGS[@]}"
        if [ "$w" = w2 ] && [ "$ORT" != 0 ]; then
            record pytorch w2 --runtime onnxruntime "${ARGS[@]}"
        fi
    done
done

echo
"$PY" bench/summarise.py "$RESULTS" | tee .bench/summary.md
