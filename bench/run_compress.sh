#!/usr/bin/env bash
# Rate-distortion of latent's quantised-code codec on an IDX image set, beside JPEG and WebP
# (bench/compress_reference.py, in a venv with Pillow and numpy made here).
#
#   bench/run_compress.sh TRAIN-IDX TEST-IDX OUT-DIR [MINUTES] [STEP...]
#
# Trains a conv autoencoder (channels 16,32, code 32, MSE) on TRAIN-IDX for MINUTES (default
# 8) unless OUT-DIR/model.safetensors exists, fits the entropy model for each quantisation
# STEP (default 0.02 0.05 0.1 0.2), compresses TEST-IDX into one .lat file per step, decodes
# it back to IDX and writes OUT-DIR/results.json (PSNR and bits per pixel of every codec).
set -euo pipefail
train=$1 test=$2 out=$3
minutes=${4:-8}
shift $(($# < 4 ? $# : 4))
steps=("$@")
((${#steps[@]})) || steps=(0.02 0.05 0.1 0.2)
here="$(cd "$(dirname "$0")" && pwd)"
latent="${LATENT:-$here/../target/release/latent}"
mkdir -p "$out"
venv="$here/.venv-compress"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check pillow numpy
fi
model="$out/model.safetensors"
if [ ! -f "$model" ]; then
    "$latent" train --data "$train" --preset conv --channels 16,32 --latent 32 --loss mse \
        --max-minutes "$minutes" --quiet --out "$model"
fi
args=()
for step in "${steps[@]}"; do
    m="$out/model-$step.safetensors"
    "$latent" fit-codec --model "$model" --data "$train" --quant-step "$step" --out "$m"
    "$latent" compress --model "$m" --data "$test" --out "$out/test-$step.lat" --block-rows 1
    "$latent" decompress --model "$m" --data "$out/test-$step.lat" \
        --out "$out/decoded-$step-idx3-ubyte"
    args+=(--decoded "$out/decoded-$step-idx3-ubyte" --lat-bytes "$(stat -c %s "$out/test-$step.lat")")
done
# The header of a one-file .lat of 10,000 rows, code width 32, one row per block: 17 bytes
# (a file per image has a 16-byte header: its row count takes one byte less).
"$venv/bin/python" "$here/compress_reference.py" --images "$test" --lat-header 17 "${args[@]}" \
    > "$out/results.json"
echo "wrote $out/results.json"
