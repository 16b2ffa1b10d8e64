"""latent.AutoEncoder against PyOD's AutoEncoder (PyTorch) on the anomaly sets, in one run:
fit time and ROC-AUC, with the same architecture and training settings on both sides.

    python crates/latent-py/bench/pyod_panel.py [--data-dir ../shared/data/anomaly] [--seeds 3]

Needs a Python with latent (pip install ./crates/latent-py), PyOD, PyTorch and scikit-learn
(scripts/bench.sh sets up .bench/venv with PyTorch; add pyod and the latent wheel to it).
Run it on an idle machine: the fit-time ratio is only meaningful there.

Settings shared by both (PyOD's AutoEncoder defaults, batch normalisation off since latent has
none): layers in-64-32-64-in, ReLU, dropout 0.2 after hidden layers, Adam lr 1e-3 with weight
decay 1e-5, batch 32, 10 epochs, inputs standardised, score = reconstruction error. Also shown:
PyOD with its default batch normalisation, and latent's own anomaly preset (its default
detector), for quality. Fit time is the `fit` call (PyOD's includes scoring the training rows,
as latent's includes calibrating its threshold on them). Threads: both use all cores.
"""

import argparse
import math
import os
import pathlib
import platform
import time

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

import latent

ROOT = pathlib.Path(__file__).resolve().parents[3]
SAME = dict(epochs=10, batch_size=32, lr=1e-3, dropout=0.2, weight_decay=1e-5)


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def latent_same(X, seed):
    det = latent.AutoEncoder(hidden=[64], latent=32, preset="dense", seed=seed, **SAME)
    secs, det = timed(lambda: det.fit(X))
    return secs, det.decision_scores_


def latent_pyod_net(X, seed):
    """PyOD's network exactly: its bottleneck is a ReLU layer with dropout too."""
    det = latent.AutoEncoder(hidden=[64], latent=32, preset="dense", seed=seed,
                             code_activation="relu", code_dropout=True, **SAME)
    secs, det = timed(lambda: det.fit(X))
    return secs, det.decision_scores_


def latent_preset(X, seed):
    det = latent.AutoEncoder(preset="anomaly", seed=seed)
    secs, det = timed(lambda: det.fit(X))
    return secs, det.decision_scores_


def pyod(X, seed, batch_norm):
    from pyod.models.auto_encoder import AutoEncoder

    det = AutoEncoder(hidden_neuron_list=[64, 32], epoch_num=SAME["epochs"],
                      batch_size=SAME["batch_size"], lr=SAME["lr"],
                      dropout_rate=SAME["dropout"], batch_norm=batch_norm,
                      optimizer_params={"weight_decay": SAME["weight_decay"]},
                      random_state=seed, verbose=0)
    secs, det = timed(lambda: det.fit(X))
    return secs, det.decision_scores_


RUNS = {
    "latent AE": latent_same,
    "latent AE (ReLU code, code dropout)": latent_pyod_net,
    "PyOD AE": lambda X, s: pyod(X, s, batch_norm=False),
    "PyOD AE (batch norm)": lambda X, s: pyod(X, s, batch_norm=True),
    "latent anomaly preset": latent_preset,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=str(ROOT.parent / "shared/data/anomaly"))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--runs", default=",".join(RUNS),
                    help="comma-separated columns to run (default: all)")
    ap.add_argument("--torch-threads", type=int, default=0,
                    help="PyTorch threads (0: its default); ROC-AUC does not depend on it")
    ap.add_argument("--out", default=str(ROOT / ".bench/pyod_panel.md"))
    args = ap.parse_args()
    import torch

    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    runs = {n: RUNS[n] for n in args.runs.split(",")}

    print(f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, "
          f"{platform.processor() or platform.machine()}; torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), latent {latent.__version__}")
    sets = sorted(pathlib.Path(args.data_dir).glob("*.csv"))
    rows = []
    for path in sets:
        df = pd.read_csv(path)
        y = df.pop("label").to_numpy().astype(int)
        X = np.ascontiguousarray(df.to_numpy(dtype=np.float32))
        res = {}
        for name, run in runs.items():
            times, aucs = [], []
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                secs, scores = run(X, seed)
                times.append(secs)
                aucs.append(roc_auc_score(y, scores))
            res[name] = (float(np.mean(times)), float(np.mean(aucs)))
        rows.append((path.stem, X.shape, res))
        line = "  ".join(f"{n}: {t:6.2f} s {a:.3f}" for n, (t, a) in res.items())
        print(f"{path.stem:12s} {X.shape[0]:5d}x{X.shape[1]:<4d} {line}", flush=True)

    names = list(runs)
    out = ["| set | rows x cols | " + " | ".join(f"{n} fit s / ROC" for n in names)
           + " | fit speed-up (PyOD AE / latent AE) |",
           "|---|---|" + "---:|" * (len(names) + 1)]
    ratios = []
    for stem, shape, res in rows:
        both = {"PyOD AE", "latent AE"} <= set(res)
        ratio = res["PyOD AE"][0] / res["latent AE"][0] if both else math.nan
        ratios.append(ratio)
        cells = " | ".join(f"{res[n][0]:.2f} / {res[n][1]:.3f}" for n in names)
        out.append(f"| {stem} | {shape[0]} x {shape[1]} | {cells} | {ratio:.1f}x |")
    total = {n: sum(r[2][n][0] for r in rows) for n in names}
    mean_auc = {n: float(np.mean([r[2][n][1] for r in rows])) for n in names}
    cells = " | ".join(f"{total[n]:.2f} / {mean_auc[n]:.3f}" for n in names)
    geo = math.exp(np.mean(np.log(ratios)))
    speed = (f"{total['PyOD AE'] / total['latent AE']:.1f}x total, {geo:.1f}x geometric mean"
             if {"PyOD AE", "latent AE"} <= set(names) else "-")
    out.append(f"| **all ({len(rows)} sets)** | total s / mean ROC | {cells} | {speed} |")
    table = "\n".join(out)
    print(table)
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(args.out).write_text(table + "\n")


if __name__ == "__main__":
    main()
