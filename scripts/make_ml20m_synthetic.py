#!/usr/bin/env python3
"""An ML-20M-shaped synthetic interaction set for the Mult-VAE speed check (issue 15).

136,677 users x 20,108 items and about 10M positives, as in ML-20M after the preprocessing of
Liang et al. 2018 (ratings >= 3.5, users with at least 5 ratings). Popularity is skewed like
real data: item weights follow a Zipf law (exponent 1.0), user activity a log-normal (median
about 40 items, long tail, at least 5), and each user's items are drawn without replacement
from a mixture of the global popularity and one of 50 taste clusters, so there is structure
to learn. Deterministic for a seed.

Writes a CSV `userId,movieId` (about 130 MB) and a one-line summary on stderr.

Run: python3 scripts/make_ml20m_synthetic.py --out /tmp/ml20m-synth.csv   (needs numpy)
Then, one training epoch (do not time on a shared machine: figures would be wrong):
  latent train --preset mult-vae --data /tmp/ml20m-synth.csv --user-column userId \
      --item-column movieId --epochs 1 --out /tmp/ml20m.safetensors
  python3 bench/multvae_pytorch.py --data /tmp/ml20m-synth.csv --epochs 1
"""
import argparse
import sys

import numpy as np

USERS = 136_677
ITEMS = 20_108
TARGET = 10_000_000
CLUSTERS = 50


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--users", type=int, default=USERS)
    ap.add_argument("--items", type=int, default=ITEMS)
    ap.add_argument("--positives", type=int, default=TARGET)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    n_users, n_items = a.users, a.items
    # Item popularity: Zipf over a random permutation of the ids.
    pop = 1.0 / np.arange(1, n_items + 1) ** 1.0
    pop = pop[rng.permutation(n_items)]
    pop /= pop.sum()
    # Taste clusters: each a popularity reweighting over a random fifth of the items.
    cluster_items = [rng.choice(n_items, n_items // 5, replace=False) for _ in range(CLUSTERS)]
    # User activity: log-normal scaled to the target number of positives, at least 5.
    act = rng.lognormal(mean=0.0, sigma=1.1, size=n_users)
    act = np.maximum(5, np.round(act / act.sum() * a.positives)).astype(np.int64)
    act = np.minimum(act, n_items // 2)
    total = 0
    with open(a.out, "w") as f:
        f.write("userId,movieId\n")
        for u in range(n_users):
            c = cluster_items[rng.integers(CLUSTERS)]
            w = pop * 0.3
            w[c] += pop[c] * 3.5
            w /= w.sum()
            items = rng.choice(n_items, size=int(act[u]), replace=False, p=w)
            total += len(items)
            f.write("".join(f"{u},{i}\n" for i in np.sort(items)))
    print(f"{a.out}: {n_users} users x {n_items} items, {total} positives", file=sys.stderr)


if __name__ == "__main__":
    main()
