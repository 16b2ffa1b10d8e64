#!/usr/bin/env python3
"""The Python side of S1 (DESIGN.md section 4): the pipeline a data scientist would write to
score a CSV with a trained autoencoder, pandas + PyTorch on the CPU.

Usage: s1_pytorch.py --model M.safetensors --data rows.csv --out scores.csv [--threads 2]

`--data` may be a `.parquet` file (read with `pandas.read_parquet`); the seconds spent reading,
scoring and writing go to stderr as one JSON line.

It loads the same latent model file (weights with safetensors, scaling and threshold from the
manifest), reads the whole CSV with pandas, scales, runs the network under inference_mode in
chunks of 65,536 rows, and writes `score,is_anomaly` with pandas, the columns `latent score`
writes first, so the two outputs can be compared value by value.
"""
import argparse
import json
import sys
import time

import numpy as np
import pandas as pd
import torch
from safetensors import safe_open
from safetensors.torch import load_file
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "identity": nn.Identity,
               "gelu": nn.GELU}


def network(weights, manifest):
    """Dense encoder and decoder from the model file (PyTorch's [out, in] weight layout)."""
    model = manifest["config"]["model"]
    hidden = ACTIVATIONS[model["activation"]]
    code = ACTIVATIONS[model.get("code_activation", "identity")]
    output = ACTIVATIONS[manifest["output"]]
    layers = []
    for part in ("encoder", "decoder"):
        n = sum(1 for k in weights if k.startswith(part) and k.endswith(".weight"))
        for i in range(n):
            w = weights[f"{part}.{i}.weight"]
            lin = nn.Linear(w.shape[1], w.shape[0])
            lin.weight.data.copy_(w)
            lin.bias.data.copy_(weights[f"{part}.{i}.bias"])
            layers.append(lin)
            last = i + 1 == n
            layers.append((code if part == "encoder" else output)() if last else hidden())
    return nn.Sequential(*layers).eval()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    with safe_open(args.model, "pt") as f:
        manifest = json.loads(f.metadata()["latent"])
    net = network(load_file(args.model), manifest)
    columns = manifest["preprocess"]["columns"]
    names = [c["name"] for c in columns]
    shift = np.array([c["shift"] for c in columns], dtype=np.float32)
    scale = np.array([c["scale"] for c in columns], dtype=np.float32)
    threshold = manifest["anomaly"]["value"]

    t0 = time.perf_counter()
    frame = pd.read_parquet(args.data) if args.data.endswith(".parquet") else pd.read_csv(args.data)
    t1 = time.perf_counter()
    x = (frame[names].to_numpy(dtype=np.float32) - shift) / scale
    x = torch.from_numpy(x)
    scores = torch.empty(x.shape[0])
    with torch.inference_mode():
        for i in range(0, x.shape[0], 65536):
            xb = x[i:i + 65536]
            scores[i:i + 65536] = ((net(xb) - xb) ** 2).mean(dim=1)
    s = scores.numpy()
    t2 = time.perf_counter()
    pd.DataFrame({"score": s, "is_anomaly": s > threshold}).to_csv(args.out, index=False)
    t3 = time.perf_counter()
    times = {"read_s": t1 - t0, "score_s": t2 - t1, "write_s": t3 - t2, "torch": torch.__version__}
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in times.items()}),
          file=sys.stderr)


if __name__ == "__main__":
    main()
