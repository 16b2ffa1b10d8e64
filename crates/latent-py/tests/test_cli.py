"""Models move between Python and the `latent` binary, both ways, with identical scores."""

import numpy as np
import pytest

import latent
from conftest import make_data, read_scores, run_cli, write_csv


def test_python_model_scored_by_the_cli(tmp_path, latent_bin, data):
    X, _ = data
    det = latent.AutoEncoder(epochs=10, contamination=0.05, seed=3).fit(X)
    model = tmp_path / "py.safetensors"
    det.save(model)
    csv = write_csv(tmp_path / "x.csv", X)
    out = run_cli(latent_bin, "score", "--model", model, "--data", csv, "--quiet")
    np.testing.assert_array_equal(read_scores(out), det.decision_function(X))
    flags = np.array([int(l.split(",")[1]) for l in out.strip().splitlines()[1:]])
    np.testing.assert_array_equal(flags, det.predict(X))
    info = run_cli(latent_bin, "info", "--model", model)
    assert "contamination" in info


def test_cli_model_scored_in_python(tmp_path, latent_bin, data):
    X, _ = data
    csv = write_csv(tmp_path / "x.csv", X)
    model = tmp_path / "cli.safetensors"
    run_cli(latent_bin, "train", "--data", csv, "--out", model, "--epochs", "5", "--quiet")
    det = latent.load(model)
    out = run_cli(latent_bin, "score", "--model", model, "--data", csv, "--quiet")
    np.testing.assert_array_equal(det.decision_function(X), read_scores(out))
    # Loaded from a CSV file: its columns have names, and a DataFrame is matched by them.
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    np.testing.assert_array_equal(det.decision_function(df), read_scores(out))


@pytest.mark.parametrize("preset", ["dense", "anomaly"])
def test_same_seed_same_model_as_the_cli(tmp_path, latent_bin, preset):
    X, _ = make_data(n=300, width=5, outliers=10, seed=4)
    csv = write_csv(tmp_path / "x.csv", X)
    model = tmp_path / "cli.safetensors"
    run_cli(
        latent_bin, "train", "--data", csv, "--out", model, "--preset", preset,
        "--epochs", "4", "--seed", "9", "--latent", "2", "--contamination", "0.05", "--quiet",
    )
    cli = latent.load(model)
    py = latent.AutoEncoder(preset=preset, epochs=4, seed=9, latent=2, contamination=0.05).fit(X)
    assert py.threshold_ == cli.threshold_
    np.testing.assert_array_equal(py.decision_function(X), cli.decision_function(X))
    np.testing.assert_array_equal(py.transform(X), cli.transform(X))
    assert py.history_ == cli.history_
