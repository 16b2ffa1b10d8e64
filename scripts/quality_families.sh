#!/usr/bin/env bash
# Quality of each model family on MNIST / Fashion-MNIST, measured through `latent` commands.
#   bash scripts/quality_families.sh [denoising] [sparse] [vae] [conv]   (default: all)
# Fashion-MNIST: apt-get install -y dataset-fashion-mnist. Outputs under .bench/families/.
set -euo pipefail
cd "$(dirname "$0")/.."
MNIST=${MNIST:-../shared/data/mnist}
FASHION=${FASHION:-/usr/share/datasets/fashion-mnist}
OUT=${OUT:-.bench/families}
VAE_MINUTES=${VAE_MINUTES:-30}
IW=${IW:-1000}
mkdir -p "$OUT"
cargo build --release -p latent-cli >/dev/null
L=target/release/latent
TRAIN=$MNIST/train-images-idx3-ubyte.gz
TEST=$MNIST/t10k-images-idx3-ubyte.gz
want() { [ $# -eq 0 ] || [[ " $* " == *" $1 "* ]]; }
jq_get() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
sections=("$@")
run_all=$(( ${#sections[@]} == 0 ))
has() { [ "$run_all" = 1 ] || [[ " ${sections[*]} " == *" $1 "* ]]; }

if has denoising; then
  echo "== denoising: MNIST test + Gaussian noise sigma 0.5 (clipped), PSNR gain =="
  $L train --data "$TRAIN" --preset denoising --corruption gaussian:0.5 --loss bce --hidden 1024,512 \
    --latent 128 --epochs 20 --val-split 0 --seed 1 --quiet --out "$OUT/denoising.safetensors"
  $L eval --model "$OUT/denoising.safetensors" --data "$TEST" --noise-sigma 0.5 --format json | tee "$OUT/denoising.json"
  python3 - "$OUT/denoising.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
gain = r["psnr_denoised"] - r["psnr_noisy"]
print(f"PSNR noisy {r['psnr_noisy']:.2f} dB -> denoised {r['psnr_denoised']:.2f} dB: gain {gain:.2f} dB (bar: >= 8)")
PY
fi

if has sparse; then
  echo "== sparse: rho 0.05, mean code activation and test MSE vs a dense AE of the same size =="
  # Same size, epochs, batch and learning rate for both; the dense baseline has a sigmoid code
  # too (a dense AE with an identity code reaches a lower test MSE, ~0.0033 here).
  # KL beta is small because the MSE is a mean over pixels while the KL is summed over units.
  common=(--hidden 256 --latent 64 --epochs 10 --batch-size 64 --lr 0.002 --val-split 0 --seed 1 --quiet)
  $L train --data "$TRAIN" "${common[@]}" --code-activation sigmoid --out "$OUT/dense64.safetensors"
  $L train --data "$TRAIN" "${common[@]}" --preset sparse --sparsity kl:0.05:0.003 \
    --out "$OUT/sparse64.safetensors"
  $L eval --model "$OUT/dense64.safetensors" --data "$TEST" --format json > "$OUT/dense64.json"
  $L eval --model "$OUT/sparse64.safetensors" --data "$TEST" --format json | tee "$OUT/sparse64.json"
  python3 - "$OUT/dense64.json" "$OUT/sparse64.json" <<'PY'
import json, sys
d, s = (json.load(open(p)) for p in sys.argv[1:])
print(f"sparse mean activation {s['code_mean_activation']:.4f} (bar: within 0.02 of 0.05); "
      f"test MSE sparse {s['mse_mean']:.5f} vs dense {d['mse_mean']:.5f}: +{100*(s['mse_mean']/d['mse_mean']-1):.1f}% (bar: <= 25%)")
PY
fi

if has conv; then
  echo "== conv: Fashion-MNIST, conv AE vs dense AE with the same latent size (32) =="
  FTRAIN=$FASHION/train-images-idx3-ubyte.gz
  FTEST=$FASHION/t10k-images-idx3-ubyte.gz
  $L train --data "$FTRAIN" --hidden 256 --latent 32 --epochs 10 --val-split 0 --seed 1 --quiet \
    --out "$OUT/fashion-dense.safetensors"
  $L train --data "$FTRAIN" --preset conv --channels 32,64 --latent 32 --epochs 10 --batch-size 128 \
    --val-split 0 --seed 1 --quiet --out "$OUT/fashion-conv.safetensors"
  $L eval --model "$OUT/fashion-dense.safetensors" --data "$FTEST" --format json > "$OUT/fashion-dense.json"
  $L eval --model "$OUT/fashion-conv.safetensors" --data "$FTEST" --format json > "$OUT/fashion-conv.json"
  python3 - "$OUT/fashion-dense.json" "$OUT/fashion-conv.json" <<'PY'
import json, sys
d, c = (json.load(open(p)) for p in sys.argv[1:])
print(f"Fashion-MNIST test MSE: conv {c['mse_mean']:.5f} vs dense {d['mse_mean']:.5f} (bar: conv lower)")
PY
fi

if has vae; then
  echo "== vae: dynamically binarised MNIST, ${VAE_MINUTES}-minute budget, IWAE k=$IW =="
  $L train --data "$TRAIN" --preset vae --binarize --hidden 512,256 --latent 32 --kl-warmup 10 \
    --epochs 10000 --max-minutes "$VAE_MINUTES" --batch-size 128 --val-split 0 --seed 1 \
    --out "$OUT/vae.safetensors"
  $L info --model "$OUT/vae.safetensors" | grep -E "epochs|train loss"
  $L eval --model "$OUT/vae.safetensors" --data "$TEST" --iw-samples "$IW" --format json | tee "$OUT/vae.json"
  python3 -c "import json; r=json.load(open('$OUT/vae.json')); print(f\"test NLL {r['nll']:.2f} nats (IWAE k={r['iw_samples']}), ELBO {r['elbo']:.2f} (bar: NLL <= 95)\")"
fi
