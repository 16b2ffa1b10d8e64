#!/usr/bin/env bash
# The exported ONNX scorer beside latent (issue 19), on the 1,000,000 x 30 Parquet table of
# scripts/parquet_io.sh (made by it when absent) and its 30-16-8-16-30 model:
#   1. `latent score` over the Parquet file (streamed, CSV out), wall time and peak RSS;
#   2. the exported scorer in ONNX Runtime (Python, pyarrow read, batches of 1024 rows):
#      bench/onnx_scorer.py, checked against 1.;
#   3. pandas + PyTorch reading the same Parquet file and scoring it (bench/s1_pytorch.py),
#      when TORCH_PYTHON names a Python with torch (its packages first, then .ci-venv's for
#      pandas, pyarrow and safetensors); else skipped with a note;
#   4. `latent serve` with the same model, 1024-row requests as fast as answers come back
#      (crates/latent-serve/examples/load.rs, 2 connections, 5 s).
#
#   bash scripts/onnx_bench.sh
#
# Environment: PYTHON (numpy, pyarrow, onnxruntime; default .ci-venv's), TORCH_PYTHON,
# NO_BUILD=1 (use target/release/latent and target/release/examples/load as built).
# Results: .bench/parquet/onnx.md.
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=.bench/parquet
PY=${PYTHON:-.ci-venv/bin/python}
LATENT=target/release/latent
LOAD=target/release/examples/load
DATA=$DIR/rows-1000000
MODEL=$DIR/model.safetensors
if [ "${NO_BUILD:-0}" = 0 ]; then
    cargo build --release -p latent-cli >&2
    cargo build --release -p latent-serve --example load >&2
fi
if [ ! -f "$DATA.parquet" ] || [ ! -f "$MODEL" ]; then
    NO_BUILD=1 PYTHON="$PY" bash scripts/parquet_io.sh >&2
fi
OUT=$DIR/onnx.md
echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg) at start, $(date -u +%FT%TZ)" > "$OUT"

"$LATENT" export --model "$MODEL" --part scorer --out "$DIR/scorer.onnx" 2>> "$OUT"

/usr/bin/time -f "latent score (Parquet in, CSV out): %e s wall, %M KB peak RSS" \
    "$LATENT" score --model "$MODEL" --data "$DATA.parquet" --quiet --out "$DIR/s.csv" 2>> "$OUT"

echo "onnxruntime: $("$PY" bench/onnx_scorer.py --onnx "$DIR/scorer.onnx" --data "$DATA.parquet" \
    --batch 1024 --check "$DIR/s.csv")" >> "$OUT"

if [ -n "${TORCH_PYTHON:-}" ]; then
    SITE=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    TSITE=$("$TORCH_PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    PYTHONPATH="$TSITE:$SITE" /usr/bin/time -f "pandas + PyTorch (Parquet in, CSV out): %e s wall, %M KB peak RSS" \
        "$TORCH_PYTHON" bench/s1_pytorch.py --model "$MODEL" --data "$DATA.parquet" \
        --out "$DIR/s-torch.csv" --threads 2 2>> "$OUT"
else
    echo "pandas + PyTorch: skipped (TORCH_PYTHON not set)" >> "$OUT"
fi

PORT=${PORT:-18093}
"$LATENT" serve --model "$MODEL" --addr "127.0.0.1:$PORT" 2> "$DIR/serve.log" &
SERVE=$!
trap 'kill $SERVE 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null 2>&1 && break
    sleep 0.2
done
echo "latent serve, 1024-row requests, 2 connections, 5 s:" >> "$OUT"
"$LOAD" --addr "127.0.0.1:$PORT" --rows 1024 --rate 0 --seconds 5 --connections 2 >> "$OUT" 2>&1
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT"
cat "$OUT"
