#!/usr/bin/env bash
# The GPU half of issue 13's checks, in one short run (well under 10 minutes).
#
#   scripts/gpu-check.sh prepare   on any machine (no GPU, no CUDA toolkit needed): builds the
#                                  parity test binary with `--features cuda` into
#                                  target/gpu-check/latent-parity (stripped, carried to the GPU
#                                  machine, which has no network to fetch crates)
#   scripts/gpu-check.sh [run]     on the GPU machine: runs that binary (or builds it with cargo
#                                  when it is missing and cargo can), with LATENT_REQUIRE_CUDA=1
#                                  so a missing device fails instead of skipping, and prints a
#                                  summary
#
# What it checks: every backend operation (products, fused bias + activation forward and
# backward with dropout, bias gradients, im2col/col2im, the VAE head, the likelihoods and
# losses, Adam/AdamW, norm and scaling) on the CUDA backend against the CPU backend, relative
# error <= 1e-4 in fp32; the random operations by their statistics and reproducibility.
# Not yet: per-family training curves and the GPU benchmarks (they need Net on the seam, the
# next step of issue 13).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=target/gpu-check/latent-parity
mode=${1:-run}

build() {
    local json exe
    json=$(cargo test --release -p latent --features cuda --lib --no-run --message-format=json)
    exe=$(printf '%s\n' "$json" | grep '"executable":"[^"]*latent-[^"]*"' -o | tail -1 | cut -d'"' -f4)
    [ -n "$exe" ] || { echo "gpu-check: no test binary was built" >&2; exit 1; }
    mkdir -p "$(dirname "$BIN")"
    cp "$exe" "$BIN"
    strip "$BIN" 2>/dev/null || true
    echo "gpu-check: test binary at $BIN ($(du -h "$BIN" | cut -f1))"
}

if [ "$mode" = prepare ]; then
    build
    exit 0
fi

# The toolkit's libraries (cuBLAS, NVRTC); never its stubs/ folder, whose libcuda is a stub.
CUDA_LIB=${CUDA_LIB:-/usr/local/cuda-13.0/targets/x86_64-linux/lib}
case "$CUDA_LIB" in *stubs*) echo "gpu-check: CUDA_LIB must not be a stubs/ folder" >&2; exit 2 ;; esac
export LD_LIBRARY_PATH="$CUDA_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LATENT_REQUIRE_CUDA=1

echo "== device"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null \
    || echo "nvidia-smi not available"
if [ ! -x "$BIN" ]; then
    echo "== building the parity tests (no prepared binary)"
    build
fi

echo "== parity: CUDA backend vs CPU backend"
SECONDS=0
set +e
timeout 480 "$BIN" engine::backend --nocapture --test-threads 1 2>&1 | tee target/gpu-check/parity.log
rc=${PIPESTATUS[0]}
set -e

echo "== summary"
grep -E "largest relative error|skipped|^test .* (ok|FAILED)$|test result" target/gpu-check/parity.log || true
echo "parity run: ${SECONDS} s, exit $rc"
if [ "$rc" -eq 0 ]; then
    echo "GPU CHECK: PASS (operation parity)"
else
    echo "GPU CHECK: FAIL"
fi
exit "$rc"
