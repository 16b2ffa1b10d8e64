#!/usr/bin/env python3
"""The PyTorch (CPU) side of the reference workloads of DESIGN.md section 4.

Usage: pytorch_workloads.py <w1|w2|w3|tiny|kernels> [--data random|mnist] [--mnist-dir DIR]
                            [--epochs N] [--reps N] [--threads N] [--rows N]

Prints one JSON line like crates/latent/examples/workloads.rs does, with "impl": "pytorch"
With `--runtime onnxruntime`, w2 exports the same trained model with torch.onnx.export and
times ONNX Runtime's `InferenceSession.run` on the same batches ("impl": "onnxruntime").
(`kernels` prints a markdown table of torch.mm GFLOP/s on the W1 training-step products instead).
The training loop is the plain idiomatic one: a fresh index permutation each epoch, gather the
batch, zero_grad / forward / MSE / backward / Adam step, accumulate loss.item().
"""
import argparse
import warnings
import gzip
import json
import os
import resource
import statistics
import struct
import time

import numpy as np
import torch
from torch import nn

SEED = 42
MNIST_ROWS, MNIST_WIDTH = 60_000, 784


def peak_rss_mb():
    # Linux: ru_maxrss is in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def mnist(args, rows):
    d = args.mnist_dir or os.environ.get("MNIST_DIR")
    if not d:
        raise SystemExit("--data mnist needs --mnist-dir DIR or $MNIST_DIR")
    with gzip.open(os.path.join(d, "train-images-idx3-ubyte.gz"), "rb") as f:
        raw = f.read()
    magic, n, h, w = struct.unpack(">IIII", raw[:16])
    assert magic == 0x0803 and h * w == MNIST_WIDTH, "not MNIST images"
    pix = np.frombuffer(raw, dtype=np.uint8, count=n * h * w, offset=16).reshape(n, h * w)
    reps = -(-rows // n)
    pix = np.tile(pix, (reps, 1))[:rows] if reps > 1 else pix[:rows]
    return torch.from_numpy(pix.astype(np.float32) / 255.0)


def uniform_or_mnist(args, rows):
    if args.data == "mnist":
        return mnist(args, rows)
    g = torch.Generator().manual_seed(SEED)
    return torch.rand(rows, MNIST_WIDTH, generator=g)


def autoencoder(widths, output):
    """Dense AE through `widths` (input .. latent), mirrored; ReLU hidden, identity code."""
    layers = []
    enc = list(zip(widths[:-1], widths[1:]))
    for i, (a, b) in enumerate(enc):
        layers.append(nn.Linear(a, b))
        if i + 1 < len(enc):
            layers.append(nn.ReLU())
    dec = [(b, a) for a, b in reversed(enc)]
    for i, (a, b) in enumerate(dec):
        layers.append(nn.Linear(a, b))
        layers.append(nn.ReLU() if i + 1 < len(dec) else output)
    return nn.Sequential(*layers)


def conv_autoencoder():
    """DESIGN.md W3: two stride-2 convs, two transposed convs, on 1x28x28."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),
        nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
        nn.ConvTranspose2d(32, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid(),
    )


def train(model, x, epochs, batch=256):
    """Returns per-epoch seconds and the last epoch's mean loss."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    n = x.shape[0]
    seconds, last = [], float("nan")
    model.train()
    for _ in range(epochs):
        start = time.perf_counter()
        perm = torch.randperm(n)
        total = 0.0
        for i in range(0, n, batch):
            xb = x[perm[i:i + batch]]
            opt.zero_grad()
            loss = loss_fn(model(xb), xb)
            loss.backward()
            opt.step()
            total += loss.item() * xb.shape[0]
        seconds.append(time.perf_counter() - start)
        last = total / n
    return seconds, last


def rate(rows, seconds):
    timed = seconds[1:] if len(seconds) > 1 else seconds
    return rows / statistics.median(timed)


def kernels(args):
    """torch.mm GFLOP/s on the W1 training-step products, same layouts as the engine."""
    b = 256
    widths = [784, 512, 128, 32, 128, 512, 784]
    g = torch.Generator().manual_seed(7)
    rows, total_t, total_f = [], 0.0, 0.0
    for l, (i, o) in enumerate(zip(widths[:-1], widths[1:])):
        x = torch.rand(b, i, generator=g) - 0.5
        w = torch.rand(o, i, generator=g) - 0.5
        dz = torch.rand(b, o, generator=g) - 0.5
        prods = [(f"L{l} fwd  y=x·Wᵀ  {b}x{i}·{i}x{o}", x, w.t()),
                 (f"L{l} bwd dW=dzᵀ·x {o}x{b}·{b}x{i}", dz.t(), x)]
        if l > 0:
            prods.append((f"L{l} bwd dx=dz·W  {b}x{o}·{o}x{i}", dz, w))
        for name, a, bb in prods:
            out = torch.empty(a.shape[0], bb.shape[1])
            for _ in range(3):
                torch.mm(a, bb, out=out)
            t0 = time.perf_counter()
            torch.mm(a, bb, out=out)
            once = max(time.perf_counter() - t0, 1e-7)
            samples = []
            for _ in range(min(2000, max(15, int(0.3 / once)))):
                t0 = time.perf_counter()
                torch.mm(a, bb, out=out)
                samples.append(time.perf_counter() - t0)
            s = statistics.median(samples)
            f = 2.0 * a.shape[0] * a.shape[1] * bb.shape[1]
            rows.append((name, f / s / 1e9))
            total_t += s
            total_f += f
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads: torch.mm GFLOP/s\n")
    print("| product | torch.mm |")
    print("|---|---:|")
    for name, gf in rows:
        print(f"| {name} | {gf:.1f} |")
    print(f"| **matmul time per step (GFLOP/s)** | **{total_t * 1e3:.2f} ms "
          f"({total_f / total_t / 1e9:.1f})** |")


def torch_eager(model):
    """The plainest inference loop a user writes: a NumPy batch in, a tensor out."""
    def infer(xb):
        with torch.inference_mode():
            return model(torch.from_numpy(xb))
    return infer, {}


def onnx_runtime(model, threads):
    """The same model exported by torch.onnx.export and run by ONNX Runtime's CPU provider
    (what users deploy): `InferenceSession.run` on each NumPy batch."""
    import tempfile
    import onnxruntime as ort
    path = os.path.join(tempfile.mkdtemp(), "w2.onnx")
    # The TorchScript exporter: the default (dynamo) one needs onnxscript; both give the same graph
    # for a Sequential of Linear layers and activations.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    torch.onnx.export(model, (torch.zeros(1024, MNIST_WIDTH),), path, input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "rows"}, "y": {0: "rows"}},
                      dynamo=False)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])

    def infer(xb):
        return sess.run(None, {"x": xb})[0]
    return infer, {"onnxruntime": ort.__version__}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("workload", choices=["w1", "w2", "w3", "tiny", "kernels"])
    p.add_argument("--data", choices=["random", "mnist"], default="random")
    p.add_argument("--mnist-dir")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rows", type=int)
    p.add_argument("--runtime", choices=["torch", "onnxruntime"], default="torch",
                   help="w2 only: PyTorch eager, or the exported model in ONNX Runtime")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)
    if args.workload == "kernels":
        kernels(args)
        return
    out = {"workload": args.workload, "impl": "pytorch", "threads": torch.get_num_threads(),
           "torch": torch.__version__}
    if args.workload == "w1":
        rows = args.rows or MNIST_ROWS
        x = uniform_or_mnist(args, rows)
        model = autoencoder([784, 512, 128, 32], nn.Sigmoid())
        seconds, loss = train(model, x, max(1, args.epochs))
        out.update(samples_per_s=round(rate(rows, seconds), 3),
                   epoch_seconds=[round(s, 3) for s in seconds], final_loss=loss,
                   rows=rows, data=args.data)
    elif args.workload == "w2":
        rows = args.rows or MNIST_ROWS
        x = uniform_or_mnist(args, rows).numpy()
        model = autoencoder([784, 512, 128, 32], nn.Sigmoid())
        # Weights from one short epoch on 2,048 rows, as on the latent side.
        train(model, torch.from_numpy(x[:2048].copy()), 1)
        model.eval()
        if args.runtime == "onnxruntime":
            infer, extra = onnx_runtime(model, args.threads)
        else:
            infer, extra = torch_eager(model)
        seconds, checksum = [], 0.0
        for _ in range(max(1, args.reps)):
            start = time.perf_counter()
            outs = [infer(x[i:i + 1024]) for i in range(0, rows, 1024)]
            seconds.append(time.perf_counter() - start)
            checksum += float(outs[len(outs) // 2].reshape(-1)[0])
            del outs
        out.update(impl=args.runtime if args.runtime != "torch" else "pytorch", **extra,
                   samples_per_s=round(rows / statistics.median(seconds), 3),
                   pass_seconds=[round(s, 3) for s in seconds], checksum=checksum,
                   rows=rows, data=args.data)
    elif args.workload == "w3":
        rows = args.rows or MNIST_ROWS
        x = uniform_or_mnist(args, rows).view(rows, 1, 28, 28).contiguous()
        model = conv_autoencoder()
        seconds, loss = train(model, x, max(1, args.epochs), batch=128)
        out.update(samples_per_s=round(rate(rows, seconds), 3),
                   epoch_seconds=[round(s, 3) for s in seconds], final_loss=loss,
                   rows=rows, data=args.data)
    else:  # tiny
        rows = args.rows or 200_000
        g = torch.Generator().manual_seed(SEED)
        x = torch.randn(rows, 30, generator=g)
        model = autoencoder([30, 16, 8], nn.Identity())
        seconds, loss = train(model, x, max(1, args.epochs))
        out.update(samples_per_s=round(rate(rows, seconds), 3),
                   epoch_seconds=[round(s, 3) for s in seconds], final_loss=loss,
                   rows=rows, data="normal")
    out["peak_rss_mb"] = round(peak_rss_mb(), 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
