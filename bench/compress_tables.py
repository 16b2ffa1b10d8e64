#!/usr/bin/env python3
"""Helper of bench/compress_tables.sh (numpy only; zstd is the system `zstd` binary).

  compress_tables.py prep KDD-TRAIN.gz KDD-TEST.gz OUT-DIR TRAIN-ROWS TEST-ROWS
      the 38 numeric columns of KDD Cup 99 (the 3 symbolic ones and the label dropped):
      OUT-DIR/train.csv (a seeded sample of TRAIN-ROWS rows of the 10% training set) and
      OUT-DIR/test.csv (the first TEST-ROWS rows of `corrected`), with a header.
  compress_tables.py zstd OUT-DIR LEVEL
      the test values quantised to 16 bits per column (min-max over the test set, the 38
      minima and maxima stored as float64 beside the codes and counted), column-major, then
      `zstd -LEVEL`; prints one JSON row.
  compress_tables.py rmse OUT-DIR DECODED.csv LAT-FILE STEP
      latent's rate (every byte of the .lat file) and error; prints one JSON row.

Errors are RMSE over all test values in units of each column's training standard deviation
(columns constant in training: units of 1), the same for both codecs; rates are bits per value
(rows x 38 values).
"""
import gzip
import json
import os
import subprocess
import sys

import numpy as np

SYMBOLIC = {1, 2, 3}


def numeric(path, rows=None):
    out = []
    with gzip.open(path, "rt") as f:
        for i, line in enumerate(f):
            if rows is not None and i >= rows:
                break
            cells = line.strip().rstrip(".").split(",")[:-1]
            out.append([float(c) for j, c in enumerate(cells) if j not in SYMBOLIC])
    return np.array(out)


def names():
    return ["duration"] + [f"c{j}" for j in range(4, 41)]


def write_csv(path, x):
    np.savetxt(path, x, delimiter=",", header=",".join(names()), comments="", fmt="%.6g")


def scale(out):
    train = np.loadtxt(os.path.join(out, "train.csv"), delimiter=",", skiprows=1)
    std = train.std(axis=0)
    return np.where(std > 0, std, 1.0)


def rmse(a, b, std):
    return float(np.sqrt(np.mean(((a - b) / std) ** 2)))


def main():
    cmd = sys.argv[1]
    if cmd == "prep":
        train_path, test_path, out, n_train, n_test = sys.argv[2:7]
        os.makedirs(out, exist_ok=True)
        train = numeric(train_path)
        rng = np.random.default_rng(0)
        train = train[rng.choice(len(train), int(n_train), replace=False)]
        write_csv(os.path.join(out, "train.csv"), train)
        write_csv(os.path.join(out, "test.csv"), numeric(test_path, int(n_test)))
    elif cmd == "zstd":
        out, level = sys.argv[2], sys.argv[3]
        test = np.loadtxt(os.path.join(out, "test.csv"), delimiter=",", skiprows=1)
        lo, hi = test.min(axis=0), test.max(axis=0)
        span = np.where(hi > lo, hi - lo, 1.0)
        q = np.round((test - lo) / span * 65535).astype(np.uint16)
        raw = os.path.join(out, "q16.bin")
        with open(raw, "wb") as f:
            f.write(lo.astype(np.float64).tobytes() + hi.astype(np.float64).tobytes())
            f.write(np.ascontiguousarray(q.T).tobytes())
        subprocess.run(["zstd", f"-{level}", "-q", "-f", "-T1", raw, "-o", raw + ".zst"],
                       check=True)
        size = os.path.getsize(raw + ".zst")
        back = lo + q.astype(np.float64) / 65535 * span
        print(json.dumps({"codec": f"16-bit + zstd -{level}", "bytes": size,
                          "bits_per_value": 8 * size / test.size,
                          "rmse_std_units": rmse(test, back, scale(out))}))
    elif cmd == "rmse":
        out, decoded, lat, step = sys.argv[2:6]
        test = np.loadtxt(os.path.join(out, "test.csv"), delimiter=",", skiprows=1)
        back = np.loadtxt(decoded, delimiter=",", skiprows=1)[:, :test.shape[1]]
        size = os.path.getsize(lat)
        print(json.dumps({"codec": f"latent --quant-step {step}", "bytes": size,
                          "bits_per_value": 8 * size / test.size,
                          "rmse_std_units": rmse(test, back, scale(out))}))


if __name__ == "__main__":
    main()
