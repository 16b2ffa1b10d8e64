#!/usr/bin/env python3
"""Reference values from PyTorch for latent's engine tests.

Writes crates/latent/tests/fixtures/dense_reference.json: for small dense autoencoders with
every activation, output activation and loss, the loss and every parameter gradient for fixed
weights and inputs, and the weights after one Adam / AdamW step.

Run: .bench/venv/bin/python scripts/make_fixtures.py   (needs torch and numpy)
"""
import json
import math
import pathlib

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/latent/tests/fixtures/dense_reference.json"

ACT = {
    "relu": torch.nn.ReLU,
    "leaky_relu": lambda: torch.nn.LeakyReLU(0.01),
    "tanh": torch.nn.Tanh,
    "gelu": lambda: torch.nn.GELU(approximate="tanh"),
    "sigmoid": torch.nn.Sigmoid,
    "identity": torch.nn.Identity,
}


def build(d, hidden, latent, act, out_act):
    widths = [d] + hidden + [latent]
    enc, dec = [], []
    depth = len(widths) - 1
    for i in range(depth):
        enc.append((f"encoder.{i}", torch.nn.Linear(widths[i], widths[i + 1]),
                    "identity" if i + 1 == depth else act))
    for i in range(depth):
        enc_from, enc_to = widths[depth - i], widths[depth - i - 1]
        dec.append((f"decoder.{i}", torch.nn.Linear(enc_from, enc_to),
                    out_act if i + 1 == depth else act))
    return enc + dec


def forward(layers, x):
    h = x
    for _, lin, act in layers:
        z = lin(h)
        h = ACT[act]()(z)
    return h, z


def loss_fn(name, y, z, t):
    if name == "mse":
        return torch.mean((y - t) ** 2)
    if name == "mae":
        return torch.mean(torch.abs(y - t))
    return torch.nn.functional.binary_cross_entropy_with_logits(z, t)


def case(rng, name, act, out_act, loss, d=6, hidden=(5, 4), latent=3, batch=4, adam=None):
    layers = build(d, list(hidden), latent, act, out_act)
    params = {}
    for prefix, lin, _ in layers:
        for kind, p in (("weight", lin.weight), ("bias", lin.bias)):
            v = rng.uniform(-0.8, 0.8, size=tuple(p.shape))
            with torch.no_grad():
                p.copy_(torch.tensor(v))
            params[f"{prefix}.{kind}"] = {"shape": list(p.shape), "data": v.ravel().tolist()}
    x = torch.tensor(rng.uniform(0.0, 1.0, size=(batch, d)))
    y, z = forward(layers, x)
    l = loss_fn(loss, y, z, x)
    l.backward()
    grads = {}
    for prefix, lin, _ in layers:
        grads[f"{prefix}.weight"] = lin.weight.grad.ravel().tolist()
        grads[f"{prefix}.bias"] = lin.bias.grad.ravel().tolist()
    out = {
        "name": name,
        "model": {"hidden": list(hidden), "latent": latent, "activation": act,
                  "output": out_act, "loss": loss, "dropout": 0.0},
        "input": x.ravel().tolist(),
        "batch": batch,
        "width": d,
        "loss": l.item(),
        "grads": grads,
        "params": params,
    }
    if adam is not None:
        weights = [lin.weight for _, lin, _ in layers]
        biases = [lin.bias for _, lin, _ in layers]
        groups = [{"params": weights, "weight_decay": adam["weight_decay"]},
                  {"params": biases, "weight_decay": 0.0}]
        opt_cls = torch.optim.AdamW if adam["decoupled"] else torch.optim.Adam
        opt = opt_cls(groups, lr=adam["lr"], betas=(0.9, 0.999), eps=1e-8)
        for step in range(3):
            if step > 0:
                opt.zero_grad()
                y, z = forward(layers, x)
                loss_fn(loss, y, z, x).backward()
            opt.step()
        after = {}
        for prefix, lin, _ in layers:
            after[f"{prefix}.weight"] = lin.weight.detach().ravel().tolist()
            after[f"{prefix}.bias"] = lin.bias.detach().ravel().tolist()
        out["adam"] = dict(adam, steps=3, params_after=after)
    return out


def main():
    rng = np.random.default_rng(20261127)
    cases = []
    for act in ["relu", "leaky_relu", "tanh", "gelu"]:
        for out_act, loss in [("sigmoid", "mse"), ("identity", "mse"), ("sigmoid", "bce"),
                              ("identity", "mae")]:
            cases.append(case(rng, f"{act}-{out_act}-{loss}", act, out_act, loss))
    cases.append(case(rng, "adam", "relu", "sigmoid", "mse",
                      adam={"lr": 0.01, "weight_decay": 0.1, "decoupled": False}))
    cases.append(case(rng, "adamw", "tanh", "identity", "mse",
                      adam={"lr": 0.01, "weight_decay": 0.1, "decoupled": True}))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"generator": "scripts/make_fixtures.py",
                               "torch": torch.__version__, "cases": cases}))
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
