#!/usr/bin/env bash
# Tables: a dense latent model as a lossy codec (`train`, then `fit-codec --quant-step` at
# several steps, `compress`, `decompress`) on the 38 numeric columns of KDD Cup 99, beside
# the same values quantised to 16 bits per column and compressed with the system `zstd`.
# No bar (issue 17): honest numbers, bits per value and RMSE in units of each column's
# training standard deviation.
#
#   bench/compress_tables.sh [OUT-DIR] [TRAIN-ROWS] [TEST-ROWS]
#
# Defaults: /tmp/compress-tables, 100000 training rows (a seeded sample of the 10% set),
# the first 50000 rows of `corrected` as the test set. Needs numpy (PYTHON, default python3)
# and zstd. Prints a Markdown table and writes OUT-DIR/results.jsonl.
set -euo pipefail
out=${1:-/tmp/compress-tables}
n_train=${2:-100000}
n_test=${3:-50000}
here="$(cd "$(dirname "$0")" && pwd)"
latent="${LATENT:-$here/../target/release/latent}"
py="${PYTHON:-python3}"
data="$here/../../shared/data/kddcup99"
[ -d "$data" ] || data=/work/shared/data/kddcup99
helper="$here/compress_tables.py"
mkdir -p "$out"
"$py" "$helper" prep "$data/kddcup.data_10_percent.gz" "$data/corrected.gz" "$out" \
    "$n_train" "$n_test"
# The model: one hidden layer of 32, a code of 8 (38 values in), standard scaling.
"$latent" train --data "$out/train.csv" --hidden 32 --latent 8 --epochs 60 --seed 1 \
    --scale standard --quiet --out "$out/dense.safetensors"
: > "$out/results.jsonl"
for step in 1 0.3 0.1 0.03 0.01; do
    m="$out/dense-$step.safetensors"
    "$latent" fit-codec --model "$out/dense.safetensors" --data "$out/train.csv" \
        --quant-step "$step" --out "$m" 2> /dev/null
    "$latent" compress --model "$m" --data "$out/test.csv" --out "$out/test-$step.lat" 2> /dev/null
    "$latent" decompress --model "$m" --data "$out/test-$step.lat" --out "$out/back-$step.csv"
    "$py" "$helper" rmse "$out" "$out/back-$step.csv" "$out/test-$step.lat" "$step" \
        >> "$out/results.jsonl"
done
for level in 3 19; do
    "$py" "$helper" zstd "$out" "$level" >> "$out/results.jsonl"
done
echo "| codec | bits per value | RMSE (training std units) |"
echo "|---|---:|---:|"
"$py" -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print("| %s | %.3f | %.4f |" % (r["codec"], r["bits_per_value"], r["rmse_std_units"]))
' "$out/results.jsonl"
