#!/usr/bin/env python3
"""PyTorch reference for one Mult-VAE training epoch (issue 15's speed bar).

The same network as latent's `--preset mult-vae`: input row L2-normalised, dropout 0.5, a
sparse x dense first layer (torch.sparse.mm on a CSR batch), tanh, 600-200 (mu, logvar),
200-600 tanh, 600-items logits, multinomial log-likelihood + beta KL, Adam lr 1e-3, batch 500.
Prints the epoch's wall time, users/s and the peak resident memory.

Data: `cargo run --release -p latent --example ml20m_synthetic -- /tmp/ml20m.csv`.
Run (2 threads, as the latent side): OMP_NUM_THREADS=2 python3 bench/multvae_pytorch.py \
    --data /tmp/ml20m.csv --epochs 1
Run by scripts/bench-multvae.sh, which sets both sides up and prints the ratio.
"""
import argparse
import resource
import time

import numpy as np
import torch


def load(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64)
    users, items = np.unique(data[:, 0], return_inverse=True)[1], np.unique(data[:, 1], return_inverse=True)[1]
    n_users, n_items = users.max() + 1, items.max() + 1
    order = np.lexsort((items, users))
    users, items = users[order], items[order]
    indptr = np.zeros(n_users + 1, dtype=np.int64)
    np.add.at(indptr, users + 1, 1)
    return np.cumsum(indptr), items, n_items


class MultVAE(torch.nn.Module):
    def __init__(self, n_items, hidden=600, latent=200):
        super().__init__()
        self.enc1 = torch.nn.Linear(n_items, hidden)
        self.enc2 = torch.nn.Linear(hidden, 2 * latent)
        self.dec1 = torch.nn.Linear(latent, hidden)
        self.out = torch.nn.Linear(hidden, n_items)
        self.latent = latent

    def forward(self, x_sparse):
        h = torch.tanh(torch.sparse.mm(x_sparse, self.enc1.weight.t()) + self.enc1.bias)
        mu, logvar = self.enc2(h).split(self.latent, dim=1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.out(torch.tanh(self.dec1(z))), mu, logvar


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    indptr, indices, n_items = load(a.data)
    n_users = len(indptr) - 1
    model = MultVAE(n_items)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    step, beta_cap, anneal = 0, 0.2, 200_000
    for epoch in range(a.epochs):
        t0 = time.perf_counter()
        order = rng.permutation(n_users)
        for s in range(0, n_users, a.batch):
            rows = order[s:s + a.batch]
            cols = [indices[indptr[u]:indptr[u + 1]] for u in rows]
            lens = np.array([len(c) for c in cols])
            crow = torch.from_numpy(np.concatenate([[0], np.cumsum(lens)]))
            col = torch.from_numpy(np.concatenate(cols))
            val = torch.from_numpy(np.repeat(1.0 / np.sqrt(lens), lens).astype(np.float32))
            keep = (torch.rand(len(val)) >= 0.5).float() * 2.0
            x_in = torch.sparse_csr_tensor(crow, col, val * keep, (len(rows), n_items)).to_sparse_coo()
            target = torch.sparse_csr_tensor(crow, col, torch.ones(len(col)), (len(rows), n_items))
            logits, mu, logvar = model(x_in)
            logp = torch.log_softmax(logits, dim=1)
            nll = -(target.to_dense() * logp).sum(1).mean()
            kl = 0.5 * (logvar.exp() + mu * mu - 1 - logvar).sum(1).mean()
            beta = min(beta_cap, step / anneal)
            loss = nll + beta * kl
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
        dt = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"epoch {epoch + 1}: {dt:.2f} s, {n_users / dt:.0f} users/s, peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
