#!/usr/bin/env bash
# Rate-distortion of latent's learned codec (--preset compress) on an IDX image set, beside
# JPEG and WebP (bench/compress_reference.py, in a venv with Pillow and numpy made here).
#
#   bench/run_compress.sh TRAIN-IDX TEST-IDX OUT-DIR [MINUTES] [LAMBDA...]
#
# Trains one --preset compress model per LAMBDA (default 0.004 0.015 0.06; channels 32,16,
# batch 32, lr 0.002, no validation split) on TRAIN-IDX for MINUTES each (default 32; the
# models train side by side, one thread each) unless OUT-DIR/c-LAMBDA.safetensors exists,
# then runs `latent benchmark-compress` on TEST-IDX: OUT-DIR/rd/results.json and rd.png.
set -euo pipefail
train=$1 test=$2 out=$3
minutes=${4:-32}
shift $(($# < 4 ? $# : 4))
lambdas=("$@")
((${#lambdas[@]})) || lambdas=(0.004 0.015 0.06)
here="$(cd "$(dirname "$0")" && pwd)"
latent="${LATENT:-$here/../target/release/latent}"
mkdir -p "$out"
venv="$here/.venv-compress"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check pillow numpy
fi
models=()
for lambda in "${lambdas[@]}"; do
    m="$out/c-$lambda.safetensors"
    models+=("$m")
    [ -f "$m" ] && continue
    RAYON_NUM_THREADS=1 "$latent" train --data "$train" --preset compress --channels 32,16 \
        --lambda "$lambda" --batch-size 32 --lr 0.002 --epochs 100 --val-split 0 \
        --max-minutes "$minutes" --quiet --out "$m" &
done
wait
list=$(IFS=,; echo "${models[*]}")
(cd "$here/.." && "$latent" benchmark-compress --models "$list" --data "$test" \
    --python "$venv/bin/python" --out "$out/rd")
