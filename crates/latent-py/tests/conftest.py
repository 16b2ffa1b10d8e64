"""Shared data and helpers of the Python package's tests (run by .ci/run)."""

import os
import pathlib
import subprocess

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


def needs(what):
    """Skips a test that needs an optional tool; under CI (CI=true) the test fails instead,
    since .ci/run installs everything the tests need."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required under CI")
    pytest.skip(f"{what} is not available")


@pytest.fixture(scope="session")
def latent_bin():
    """The `latent` binary of this workspace (LATENT_BIN, or target/release/latent)."""
    path = pathlib.Path(os.environ.get("LATENT_BIN", ROOT / "target" / "release" / "latent"))
    if not path.is_file():
        needs(f"the latent binary ({path}; build it with cargo build --release -p latent-cli)")
    return str(path)


def assert_ctrl_c_stops(tmp_path, setup, fit):
    """Runs ``setup`` then the long ``fit`` (Python lines) in a child interpreter, sends it
    SIGINT once the fit has started, and checks that the fit raised latent's
    KeyboardInterrupt within 10 seconds."""
    import signal
    import sys
    import time

    script = tmp_path / "long_fit.py"
    script.write_text(
        f"import numpy as np, latent\n{setup}\n"
        "print('fitting', flush=True)\n"
        f"try:\n    {fit}\n"
        "except KeyboardInterrupt as e:\n"
        "    print('interrupted:', e, flush=True)\n"
    )
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "fitting"
    time.sleep(1.0)
    start = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=60)
    assert "interrupted: training interrupted at epoch" in out
    assert time.monotonic() - start < 10


def run_cli(latent_bin, *args):
    """Runs the latent binary; returns its standard output, failing the test on an error."""
    r = subprocess.run([latent_bin, *map(str, args)], capture_output=True, text=True)
    assert r.returncode == 0, f"latent {' '.join(map(str, args))}: {r.stderr}"
    return r.stdout


def make_data(n=400, width=6, outliers=20, seed=0):
    """Rows near a 2-D plane in `width` dimensions, plus rows that break its correlations.
    Returns float32 X and 0/1 labels (1 = outlier)."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(2, width))
    normal = rng.normal(size=(n, 2)) @ w + 0.05 * rng.normal(size=(n, width))
    odd = rng.normal(scale=2.0, size=(outliers, width))
    X = np.vstack([normal, odd]).astype(np.float32)
    y = np.r_[np.zeros(n, dtype=int), np.ones(outliers, dtype=int)]
    order = rng.permutation(len(X))
    return X[order], y[order]


@pytest.fixture(scope="session")
def data():
    return make_data()


def write_csv(path, X, names=None):
    """Writes X as CSV with float32 values in their shortest round-trip form."""
    names = names or [f"f{i}" for i in range(X.shape[1])]
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for row in X:
            f.write(",".join(str(np.float32(v)) for v in row))
            f.write("\n")
    return path


def read_scores(text):
    """The `score` column of `latent score` output, as float32."""
    lines = text.strip().splitlines()
    col = lines[0].split(",").index("score")
    return np.array([np.float32(line.split(",")[col]) for line in lines[1:]], dtype=np.float32)
