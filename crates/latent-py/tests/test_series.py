"""latent.SeriesDetector: the same windowed models and per-point scores as `latent train
--window` and `latent score`, both ways."""

import pickle

import numpy as np
import pytest

import latent
from conftest import run_cli

pd = pytest.importorskip("pandas")

WINDOW = 12


def series(n=300, seed=0):
    """Two channels with a daily-like cycle and noise, a spike at point 200; hourly ISO-8601
    timestamps."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    a = np.sin(2 * np.pi * t / 24) + 0.05 * rng.normal(size=n)
    b = np.cos(2 * np.pi * t / 24) + 0.05 * rng.normal(size=n)
    a[200] += 3.0
    times = pd.date_range("2024-01-01", periods=n, freq="h").strftime("%Y-%m-%dT%H:%M:%S")
    return pd.DataFrame({
        "timestamp": times,
        "a": a.astype(np.float32),
        "b": b.astype(np.float32),
    })


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    df = series()
    path = tmp_path_factory.mktemp("series") / "s.csv"
    with open(path, "w") as f:
        f.write("timestamp,a,b\n")
        for t, a, b in df.itertuples(index=False, name=None):
            f.write(f"{t},{np.float32(a)},{np.float32(b)}\n")
    return df, path


def cli_scores(text):
    """`latent score` on a series: one row per point, an empty score before the first
    window."""
    lines = text.strip().splitlines()
    assert lines[0].startswith("timestamp,score,is_anomaly")
    rows = [line.split(",") for line in lines[1:]]
    scores = np.array([np.float32(r[1]) if r[1] else np.nan for r in rows], dtype=np.float32)
    flags = np.array([int(r[2]) if r[2] else 0 for r in rows])
    return scores, flags


def test_python_model_scored_by_the_cli_and_back(tmp_path, latent_bin, data):
    df, csv = data
    det = latent.SeriesDetector(window=WINDOW, time_column="timestamp", epochs=5, seed=3,
                                latent=3, contamination=0.01).fit(df)
    assert det.decision_scores_.shape == (len(df),)
    assert np.isnan(det.decision_scores_[: WINDOW - 1]).all()
    assert det.labels_[200 : 200 + WINDOW].any() and det.labels_[: WINDOW - 1].sum() == 0
    path = tmp_path / "py.safetensors"
    det.save(path)
    scores, flags = cli_scores(run_cli(latent_bin, "score", "--model", path, "--data", csv))
    np.testing.assert_array_equal(scores, det.score_samples(df))
    np.testing.assert_array_equal(flags, det.predict(df))
    np.testing.assert_array_equal(scores, det.decision_scores_)
    # Trained by the CLI with the same settings: the same model.
    cli_model = tmp_path / "cli.safetensors"
    run_cli(latent_bin, "train", "--data", csv, "--out", cli_model, "--window", str(WINDOW),
            "--time-column", "timestamp", "--epochs", "5", "--seed", "3", "--latent", "3",
            "--contamination", "0.01", "--quiet")
    loaded = latent.load(cli_model)
    assert isinstance(loaded, latent.SeriesDetector) and loaded.window_ == WINDOW
    assert loaded.threshold_ == det.threshold_
    np.testing.assert_array_equal(loaded.score_samples(df), scores)


def test_arrays_without_a_time_column(data):
    df, _ = data
    X = df[["a", "b"]].to_numpy()
    det = latent.SeriesDetector(window=8, epochs=2, seed=1).fit(X)
    assert det.n_features_in_ == 2
    s = det.score_samples(X)
    assert np.isnan(s[:7]).all() and np.isfinite(s[7:]).all()
    one = latent.SeriesDetector(window=8, epochs=2).fit(df["a"].to_numpy())
    assert one.score_samples(df["a"].to_numpy()).shape == (len(df),)
    back = pickle.loads(pickle.dumps(det))
    np.testing.assert_array_equal(back.score_samples(X), s)
    pytest.importorskip("sklearn")
    from sklearn.base import clone

    assert clone(det).get_params() == det.get_params()


def test_bad_input_raises_value_error(data):
    df, _ = data
    with pytest.raises(ValueError, match="window= is required"):
        latent.SeriesDetector().fit(df)
    with pytest.raises(ValueError, match="fewer than one window of 500"):
        latent.SeriesDetector(window=500, time_column="timestamp").fit(df)
    with pytest.raises(ValueError, match="time column \"ts\""):
        latent.SeriesDetector(window=4, time_column="ts").fit(df)
    shuffled = df.iloc[::-1]
    with pytest.raises(ValueError, match="timestamp"):
        latent.SeriesDetector(window=4, time_column="timestamp", epochs=1).fit(shuffled)
    gap = df.copy()
    gap.loc[5, "a"] = np.nan
    with pytest.raises(ValueError, match="missing or non-finite"):
        latent.SeriesDetector(window=4, time_column="timestamp", epochs=1).fit(gap)
