"""Fit and score the same data through Python (latent.AutoEncoder) and the `latent` binary,
reporting raw wall times and ROC-AUC.

    .ci-venv/bin/python crates/latent-py/bench/compare.py [CSV] [--epochs N] [--repeat R]

CSV defaults to ../shared/data/anomaly/satimage-2.csv (label column `label`). The binary's
times include reading the CSV and writing the model or the scores; Python's include only the
call (the array is in memory). Times are raw: on a shared machine they vary between runs.
"""

import argparse
import pathlib
import subprocess
import tempfile
import time

import numpy as np
from sklearn.metrics import roc_auc_score

import latent

ROOT = pathlib.Path(__file__).resolve().parents[3]


def best_of(repeat, fn):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv", nargs="?", default=str(ROOT.parent / "shared/data/anomaly/satimage-2.csv"))
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--preset", default="anomaly")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--latent-bin", default=str(ROOT / "target/release/latent"))
    args = ap.parse_args()

    raw = np.genfromtxt(args.csv, delimiter=",", names=True, dtype=np.float32)
    names = [n for n in raw.dtype.names if n != "label"]
    X = np.ascontiguousarray(np.column_stack([raw[n] for n in names]).astype(np.float32))
    y = raw["label"].astype(int)
    print(f"data: {args.csv} ({X.shape[0]} rows x {X.shape[1]} columns), preset {args.preset}, "
          f"{args.epochs} epochs, best of {args.repeat}")

    params = dict(preset=args.preset, epochs=args.epochs, seed=0)
    fit_s, det = best_of(args.repeat, lambda: latent.AutoEncoder(**params).fit(X))
    score_s, scores = best_of(args.repeat, lambda: det.decision_function(X))
    print(f"python  fit {fit_s:8.3f} s   decision_function {score_s:8.4f} s   "
          f"ROC-AUC {roc_auc_score(y, scores):.4f}")

    with tempfile.TemporaryDirectory() as tmp:
        model = pathlib.Path(tmp) / "m.safetensors"
        out = pathlib.Path(tmp) / "s.csv"
        train = [args.latent_bin, "train", "--data", args.csv, "--label-column", "label",
                 "--preset", args.preset, "--epochs", str(args.epochs), "--seed", "0",
                 "--out", str(model), "--quiet"]
        score = [args.latent_bin, "score", "--model", str(model), "--data", args.csv,
                 "--label-column", "label", "--out", str(out), "--quiet"]
        cli_fit_s, _ = best_of(args.repeat, lambda: subprocess.run(train, check=True))
        cli_score_s, _ = best_of(args.repeat, lambda: subprocess.run(score, check=True))
        lines = out.read_text().strip().splitlines()
        col = lines[0].split(",").index("score")
        cli_scores = np.array([np.float32(l.split(",")[col]) for l in lines[1:]])
        print(f"cli     train {cli_fit_s:6.3f} s   score {cli_score_s:8.4f} s               "
              f"ROC-AUC {roc_auc_score(y, cli_scores):.4f}")
        same = np.array_equal(cli_scores, scores)
        print(f"same scores from Python and the CLI (same seed): {same}")

    try:
        from pyod.models.auto_encoder import AutoEncoder as PyodAE  # needs torch
    except ImportError as e:
        print(f"PyOD AutoEncoder not run ({e})")
        return
    hidden = det.model_.layer_widths
    pyod = PyodAE(hidden_neuron_list=hidden[1:len(hidden) // 2 + 1], epoch_num=args.epochs,
                  batch_size=256, contamination=0.1, verbose=0)
    pyod_s, _ = best_of(1, lambda: pyod.fit(X))
    print(f"pyod    fit {pyod_s:8.3f} s   ROC-AUC {roc_auc_score(y, pyod.decision_scores_):.4f}")


if __name__ == "__main__":
    main()
