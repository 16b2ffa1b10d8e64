"""PyOD reference baselines for `latent benchmark-anomaly`: PyOD's AutoEncoder and VAE
(PyTorch) with their library defaults, fitted and scored on the inputs latent writes.

Called by the benchmark, once per data set:

    python bench/pyod_reference.py --dir DIR --width W --seeds N

DIR holds, for each seed i in 0..N, `train{i}.f32` (rows fitted on) and `test{i}.f32` (rows
scored), raw little-endian float32, row-major, W values per row: latent's standardised model
inputs, so every method of the panel sees the same numbers. Prints one JSON object:
{"autoencoder": [[score per test row] per seed], "vae": [...], "pyod": version}.
Higher scores are more anomalous (PyOD's decision_function). Set up by
scripts/anomaly_baselines.sh (a venv with pyod and torch).
"""

import argparse
import json
import os
import sys

import numpy as np


def read(path, width):
    x = np.fromfile(path, dtype="<f4")
    return x.reshape(-1, width).astype(np.float32)


def models(seed):
    # Library defaults, quiet, seeded; one thread as on the benchmark machine's budget.
    from pyod.models.auto_encoder import AutoEncoder
    from pyod.models.vae import VAE

    return {
        "autoencoder": AutoEncoder(random_state=seed, verbose=0),
        "vae": VAE(random_state=seed, verbose=0),
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--width", type=int, required=True)
    p.add_argument("--seeds", type=int, required=True)
    a = p.parse_args()
    import torch
    import pyod

    torch.set_num_threads(int(os.environ.get("PYOD_THREADS", "2")))
    out = {"autoencoder": [], "vae": [], "pyod": pyod.__version__}
    for i in range(a.seeds):
        train = read(os.path.join(a.dir, f"train{i}.f32"), a.width)
        test = read(os.path.join(a.dir, f"test{i}.f32"), a.width)
        torch.manual_seed(i)
        np.random.seed(i)
        for name, model in models(i).items():
            model.fit(train)
            scores = model.decision_function(test)
            scores = np.nan_to_num(scores, nan=0.0, posinf=1e30, neginf=-1e30)
            out[name].append([float(s) for s in scores])
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
