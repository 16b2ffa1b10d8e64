"""The scikit-learn contract and PyOD habits of latent.AutoEncoder."""

import pickle
import threading
import time

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import make_scorer, roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import latent
from conftest import assert_ctrl_c_stops, make_data


def small(**kw):
    params = dict(epochs=20, batch_size=64, seed=1)
    params.update(kw)
    return latent.AutoEncoder(**params)


def test_fit_scores_flags_and_attributes(data):
    X, y = data
    det = small(latent=2, contamination=0.05).fit(X)
    assert det.n_features_in_ == X.shape[1]
    assert not hasattr(det, "feature_names_in_")
    assert det.decision_scores_.shape == (len(X),)
    scores = det.decision_function(X)
    np.testing.assert_array_equal(scores, det.decision_scores_)
    np.testing.assert_array_equal(det.score_samples(X), scores)
    assert roc_auc_score(y, scores) > 0.9
    flags = det.predict(X)
    assert set(np.unique(flags)) <= {0, 1}
    np.testing.assert_array_equal(flags, (scores > det.threshold_).astype(int))
    np.testing.assert_array_equal(det.labels_, flags)
    assert abs(flags.mean() - 0.05) < 0.01
    proba = det.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba[:, 1] > 0.5, flags == 1)
    assert len(det.history_["loss"]) == 20
    assert det.history_["loss"][-1] < det.history_["loss"][0]


def test_float64_and_float32_give_the_same_scores(data):
    X, _ = data
    det = small().fit(X)
    np.testing.assert_array_equal(det.decision_function(X.astype(np.float64)), det.decision_function(X))
    np.testing.assert_array_equal(det.decision_function(X.tolist()), det.decision_function(X))


def test_codes_reconstruction_and_explanations(data):
    X, _ = data
    det = small(latent=2).fit(X)
    Z = det.transform(X)
    assert Z.shape == (len(X), 2) and Z.dtype == np.float32
    R = det.inverse_transform(Z)
    assert R.shape == X.shape
    np.testing.assert_allclose(R, det.reconstruct(X), rtol=1e-4, atol=1e-4)
    err = np.mean((R - X) ** 2, axis=1)
    assert np.median(err) < 0.5 * np.mean(X**2)  # far better than the mean row
    ex = det.explain(X[:5], k=2)
    assert len(ex) == 5 and all(len(row) == 2 for row in ex)
    for row in ex:
        assert row[0][1] >= row[1][1]
        assert all(name.startswith("f") and 0 <= share <= 1 for name, share in row)


def test_same_seed_same_model_and_seed_matters(data):
    X, _ = data
    a = small(seed=5).fit(X).decision_function(X)
    b = small(seed=5).fit(X).decision_function(X)
    c = small(seed=6).fit(X).decision_function(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_params_clone_and_pickle(data):
    X, _ = data
    det = small(hidden=[16], latent=3, contamination=0.1)
    params = det.get_params()
    assert params["hidden"] == [16] and params["preset"] == "dense" and params["verbose"] == 0
    det.set_params(latent=2)
    assert det.latent == 2
    with pytest.raises(ValueError):
        det.set_params(nope=1)
    assert not hasattr(det, "model_")  # no work in __init__ or set_params
    det.fit(X)
    twin = clone(det)
    assert twin.get_params() == det.get_params() and not hasattr(twin, "model_")
    back = pickle.loads(pickle.dumps(det))
    np.testing.assert_array_equal(back.decision_function(X), det.decision_function(X))
    np.testing.assert_array_equal(back.predict(X), det.predict(X))
    assert back.threshold_ == det.threshold_
    model = pickle.loads(pickle.dumps(det.model_))
    np.testing.assert_array_equal(model.score((X, [])), det.decision_function(X))


def test_pipeline_with_a_scaler(data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), small(latent=2)).fit(X * 100.0 + 7.0)
    scores = pipe.decision_function(X * 100.0 + 7.0)
    assert roc_auc_score(y, scores) > 0.9
    assert pipe.predict(X).shape == (len(X),)
    assert pipe.transform(X).shape == (len(X), 2)


def test_grid_search_with_a_scorer(data):
    X, y = data
    scorer = make_scorer(roc_auc_score, response_method="decision_function")
    grid = GridSearchCV(small(epochs=10), {"latent": [1, 2], "lr": [1e-3, 1e-2]}, scoring=scorer, cv=2)
    grid.fit(X, y)
    assert grid.best_params_["latent"] in (1, 2)
    assert grid.best_score_ > 0.8
    assert grid.best_estimator_.decision_function(X).shape == (len(X),)


def test_presets_including_anomaly_and_vae(data):
    X, y = data
    assert {"dense", "denoising", "sparse", "vae", "anomaly"} <= set(latent.presets())
    ensemble = small(preset="anomaly", epochs=10).fit(X)
    assert ensemble.model_.score_kind == "ensemble"
    assert roc_auc_score(y, ensemble.decision_function(X)) > 0.85
    vae = small(preset="vae").fit(X)
    assert vae.model_.score_kind == "neg_elbo"
    assert np.isfinite(vae.decision_function(X)).all()


def test_dataframes_one_hot_text_columns():
    pd = pytest.importorskip("pandas")
    X, _ = make_data(n=300, width=4, outliers=0)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    df["colour"] = np.where(X[:, 0] > 0, "red", "blue")
    df["kind"] = pd.Categorical(np.where(X[:, 1] > 0, "x", "y"))
    det = small(latent=2).fit(df)
    assert list(det.feature_names_in_) == ["a", "b", "c", "d", "colour", "kind"]
    assert det.model_.categorical_names == ["colour", "kind"]
    assert det.decision_function(df).shape == (300,)
    # An unseen category is encoded as all zeros, as `latent score` does.
    odd = df.head(3).copy()
    odd["colour"] = "green"
    assert np.isfinite(det.decision_function(odd)).all()
    out = det.reconstruct(df.head(10))
    assert list(out.columns) == list(df.columns)
    assert set(out["colour"]) <= {"red", "blue"}
    names = {name for row in det.explain(df.head(20), k=6) for name, _ in row}
    assert {"colour", "kind"} <= names
    # Columns are matched by name, not position.
    np.testing.assert_array_equal(
        det.decision_function(df[list(reversed(df.columns))]), det.decision_function(df)
    )


def test_verbose_prints_progress(data, capsys):
    X, _ = data
    small(epochs=3, verbose=1).fit(X)
    err = capsys.readouterr().err
    assert "epoch 1/3" in err and "epoch 3/3" in err and "loss" in err


def test_the_gil_is_released_during_fit():
    X, _ = make_data(n=20000, width=32, outliers=0)
    det = latent.AutoEncoder(epochs=3, hidden=[256], latent=8)
    ticks = 0
    t = threading.Thread(target=det.fit, args=(X,))
    t.start()
    while t.is_alive():
        ticks += 1  # pure Python: runs only while the fit does not hold the GIL
        time.sleep(0)
    t.join()
    assert hasattr(det, "model_")
    assert ticks > 100, ticks


def test_ctrl_c_interrupts_a_fit(tmp_path):
    assert_ctrl_c_stops(
        tmp_path,
        "X = np.random.default_rng(0).normal(size=(20000, 32)).astype(np.float32)",
        "latent.AutoEncoder(epochs=100000, hidden=[256]).fit(X)",
    )


def test_arrow_tables_are_read_like_dataframes():
    pa = pytest.importorskip("pyarrow")
    pd = pytest.importorskip("pandas")
    X, _ = make_data(n=200, width=3, outliers=0)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["kind"] = np.where(X[:, 0] > 0, "p", "n")
    det = small(epochs=3).fit(pa.Table.from_pandas(df))
    assert list(det.feature_names_in_) == ["a", "b", "c", "kind"]
    np.testing.assert_array_equal(
        det.decision_function(pa.Table.from_pandas(df)), det.decision_function(df)
    )


def test_regularisation_and_activation_reach_the_model_file(data, tmp_path):
    import json

    from safetensors import safe_open

    X, _ = data
    path = tmp_path / "m.safetensors"
    small(dropout=0.2, weight_decay=1e-5, activation="leaky_relu").fit(X).save(path)
    with safe_open(str(path), "np") as f:
        config = json.loads(f.metadata()["latent"])["config"]
    assert config["model"]["dropout"] == pytest.approx(0.2)
    assert config["model"]["activation"] == "leaky_relu"
    assert config["train"]["optimizer"]["weight_decay"] == pytest.approx(1e-5)
    with pytest.raises(ValueError, match="activation"):
        small(activation="sigmoidal").fit(X)
    with pytest.raises(ValueError, match="dropout"):
        small(dropout=1.5).fit(X)
    # PyOD's AutoEncoder network: a ReLU code with dropout on it too.
    small(dropout=0.2, code_activation="relu", code_dropout=True).fit(X).save(path)
    with safe_open(str(path), "np") as f:
        model = json.loads(f.metadata()["latent"])["config"]["model"]
    assert (model["code_activation"], model["code_dropout"]) == ("relu", True)
    with pytest.raises(ValueError, match="code activation \"softsign\" is not one of"):
        small(code_activation="softsign").fit(X)
    with pytest.raises(ValueError, match="code dropout needs a dropout probability"):
        small(code_dropout=True).fit(X)
