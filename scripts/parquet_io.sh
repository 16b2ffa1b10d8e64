#!/usr/bin/env bash
# Parquet streaming (issue 19): `latent score` and `latent encode` over a Parquet file of
# 1,000,000 rows x 30 features (the S1 table of scripts/s1.sh, written by pyarrow, zstd, row
# groups of 100,000 rows) with a 30-16-8-16-30 model: wall time and peak RSS (/usr/bin/time -v)
# for Parquet in -> CSV out, Parquet in -> Parquet out, and the CSV path beside them; then
# training on all rows streamed (`train --stream`) and loaded whole.
#
#   bash scripts/parquet_io.sh
#
# Environment: ROWS=1000000, PYTHON=... (a python with numpy and pyarrow; default: .ci-venv's),
# NO_BUILD=1 (use target/release/latent). Results: .bench/parquet/summary.md.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-1000000}
DIR=.bench/parquet
PY=${PYTHON:-.ci-venv/bin/python}
LATENT=target/release/latent
mkdir -p "$DIR"
if [ "${NO_BUILD:-0}" = 0 ]; then
    cargo build --release -p latent-cli >&2
fi

DATA=$DIR/rows-$ROWS
if [ ! -f "$DATA.parquet" ]; then
    echo "== writing $DATA.parquet and $DATA.csv" >&2
    "$PY" - "$DATA" "$ROWS" <<'PY'
import sys
import numpy as np
import pyarrow as pa, pyarrow.csv as pc, pyarrow.parquet as pq
path, rows = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(7)
z = rng.standard_normal((rows, 8)).astype(np.float32)
x = z @ rng.standard_normal((8, 30)).astype(np.float32) + 0.1 * rng.standard_normal((rows, 30)).astype(np.float32)
bad = rng.random(rows) < 0.01
x[bad] += rng.normal(0, 3, (bad.sum(), 30)).astype(np.float32)
t = pa.table({f"f{i}": x[:, i] for i in range(30)})
pq.write_table(t, path + ".parquet", compression="zstd", row_group_size=100_000)
pc.write_csv(t, path + ".csv")
pq.write_table(t.slice(0, 100_000), path + "-train.parquet")
PY
fi
MODEL=$DIR/model.safetensors
if [ ! -f "$MODEL" ]; then
    echo "== training $MODEL on the first 100,000 rows (from Parquet)" >&2
    "$LATENT" train --data "$DATA-train.parquet" --hidden 16 --latent 8 --epochs 10 --seed 1 \
        --quiet --out "$MODEL"
fi

echo "== machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
{
    echo "| command | input | output | seconds | rows/s | peak RSS (MB) |"
    echo "|---|---|---|---:|---:|---:|"
} > "$DIR/summary.md"
measure() { # name input output args...
    local name=$1 input=$2 output=$3
    shift 3
    /usr/bin/time -v "$LATENT" "$@" 2> "$DIR/time.txt" > /dev/null
    local secs rss
    secs=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$DIR/time.txt" | awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$DIR/time.txt")
    printf '| %s | %s | %s | %.2f | %d | %.1f |\n' "$name" "$input" "$output" "$secs" \
        "$(awk -v r="$ROWS" -v s="$secs" 'BEGIN { print int(r / s) }')" \
        "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" >> "$DIR/summary.md"
}
measure "latent score" parquet csv score --model "$MODEL" --data "$DATA.parquet" --quiet --out "$DIR/s.csv"
measure "latent score" parquet parquet score --model "$MODEL" --data "$DATA.parquet" --quiet --out "$DIR/s.parquet"
measure "latent score" csv csv score --model "$MODEL" --data "$DATA.csv" --quiet --out "$DIR/s2.csv"
measure "latent encode" parquet parquet encode --model "$MODEL" --data "$DATA.parquet" --out "$DIR/codes.parquet"
# Training on all rows, 3 epochs: streamed from the file, and loaded whole (rows/s: rows per
# wall second of the whole run, both passes and all epochs).
TRAIN=(--hidden 16 --latent 8 --epochs 3 --seed 1 --quiet)
measure "latent train --stream (3 epochs)" parquet model train --data "$DATA.parquet" --stream "${TRAIN[@]}" --out "$DIR/streamed.safetensors"
measure "latent train, loaded whole (3 epochs)" parquet model train --data "$DATA.parquet" "${TRAIN[@]}" --out "$DIR/whole.safetensors"
for m in streamed whole; do
    echo "$m: $("$LATENT" info --model "$DIR/$m.safetensors" | grep -E '^(training rows|validation loss)' | tr -s ' ' | paste -sd ';')"
done
"$PY" - "$DIR" <<'PY'
import sys
import numpy as np, pyarrow.parquet as pq, pyarrow.csv as pc
d = sys.argv[1]
a = pq.read_table(f"{d}/s.parquet").column("score").to_numpy()
b = pc.read_csv(f"{d}/s2.csv").column("score").to_numpy()
c = pc.read_csv(f"{d}/s.csv").column("score").to_numpy()
print(f"scores: Parquet out vs CSV path max |diff| {np.abs(a - b).max():.3g}, Parquet in CSV out vs CSV path {np.abs(c - b).max():.3g}")
PY
cat "$DIR/summary.md"
