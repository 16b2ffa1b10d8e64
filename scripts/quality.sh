#!/usr/bin/env bash
# MNIST quality check: a 784-256-32 dense autoencoder trained for 10 epochs must reach a
# lower test MSE than PCA with 32 components. Prints both `latent eval`/`latent pca` JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
MNIST=${MNIST:-../shared/data/mnist}
OUT=${OUT:-.bench/quality}
mkdir -p "$OUT"
cargo build --release -p latent-cli
L=target/release/latent
$L train --data "$MNIST/train-images-idx3-ubyte.gz" --hidden 256 --latent 32 --epochs 10 \
  --val-split 0 --seed 1 --out "$OUT/mnist.safetensors"
echo "== latent eval (autoencoder, MNIST test) =="
$L eval --model "$OUT/mnist.safetensors" --data "$MNIST/t10k-images-idx3-ubyte.gz" --format json | tee "$OUT/ae.json"
echo "== latent pca (32 components, MNIST test) =="
$L pca --model "$OUT/mnist.safetensors" --train "$MNIST/train-images-idx3-ubyte.gz" \
  --data "$MNIST/t10k-images-idx3-ubyte.gz" --components 32 --format json | tee "$OUT/pca.json"
python3 - "$OUT/ae.json" "$OUT/pca.json" <<'PY'
import json, sys
ae, pca = (json.load(open(p))["mse_mean"] for p in sys.argv[1:])
print(f"autoencoder test MSE {ae:.5f}  PCA-32 test MSE {pca:.5f}  ratio {ae / pca:.3f}")
sys.exit(0 if ae < pca else 1)
PY
