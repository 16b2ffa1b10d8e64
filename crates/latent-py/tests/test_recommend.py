"""latent.Recommender: the same models and rankings as `latent train --preset mult-vae|ease`
and `latent recommend`, both ways, from DataFrames and scipy.sparse matrices."""

import pickle
import warnings

import numpy as np
import pytest

import latent
from conftest import assert_ctrl_c_stops, run_cli

pd = pytest.importorskip("pandas")

# Small settings, the same for Python and the CLI.
SETTINGS = dict(epochs=4, batch_size=32, hidden=32, latent=8, lr=0.005, seed=3)
FLAGS = ["--epochs", "4", "--batch-size", "32", "--hidden", "32", "--latent", "8",
         "--lr", "0.005", "--seed", "3", "--quiet"]
COLUMNS = ["--rating-column", "rating", "--min-rating", "3.5"]


def ratings(users=120, seed=7):
    """Users in 4 taste groups of 10 movies (ratings 4-5), plus one low rating (2) outside
    their group, which min_rating=3.5 drops."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(users):
        g = u % 4
        for m in rng.integers(0, 10, size=6):
            rows.append((u, 100 + g * 10 + int(m), float(rng.integers(4, 6))))
        rows.append((u, 100 + ((g + 1) % 4) * 10 + int(rng.integers(0, 10)), 2.0))
    return pd.DataFrame(rows, columns=["userId", "movieId", "rating"])


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    df = ratings()
    path = tmp_path_factory.mktemp("rec") / "ratings.csv"
    df.to_csv(path, index=False)
    return df, path


def cli_table(text):
    """`latent recommend` CSV output as (user, item, score, rank) tuples."""
    out = []
    for line in text.strip().splitlines()[1:]:
        u, i, s, r = line.split(",")
        out.append((u, i, np.float32(s), int(r)))
    return out


def py_table(df):
    return [(str(u), str(i), np.float32(s), int(r))
            for u, i, s, r in df.itertuples(index=False, name=None)]


@pytest.mark.parametrize("model", ["ease", "mult-vae"])
def test_python_model_ranks_as_the_cli(tmp_path, latent_bin, table, model):
    df, csv = table
    rec = latent.Recommender(model=model, rating_column="rating", min_rating=3.5, **SETTINGS)
    rec.fit(df)
    path = tmp_path / "py.safetensors"
    rec.save(path)
    out = run_cli(latent_bin, "recommend", "--model", path, "--data", csv, "--k", "5")
    assert py_table(rec.recommend_table(df, k=5)) == cli_table(out)
    # The same model from the CLI's training run, with the same settings and seed.
    cli_model = tmp_path / "cli.safetensors"
    run_cli(latent_bin, "train", "--preset", model, "--data", csv, "--out", cli_model,
            *COLUMNS, *FLAGS)
    loaded = latent.load(cli_model)
    assert isinstance(loaded, latent.Recommender)
    items, scores = loaded.recommend(df, k=5)
    want_items, want_scores = rec.recommend(df, k=5)
    np.testing.assert_array_equal(items, want_items)
    np.testing.assert_array_equal(scores, want_scores)
    assert loaded.history_["validation"] == rec.history_["validation"]


def test_mult_vae_options_match_the_cli_flags(tmp_path, latent_bin, table):
    df, csv = table
    options = dict(beta_rule="constant", anneal_steps=5, composite_prior=True,
                   decoupled_decay=True, emphasis=4.0, lr_decay_epochs=2)
    rec = latent.Recommender(rating_column="rating", min_rating=3.5, **options, **SETTINGS)
    rec.fit(df)
    cli_model = tmp_path / "cli.safetensors"
    run_cli(latent_bin, "train", "--preset", "mult-vae", "--data", csv, "--out", cli_model,
            *COLUMNS, *FLAGS, "--beta-rule", "constant", "--anneal-steps", "5",
            "--composite-prior", "true", "--decoupled-decay", "true", "--emphasis", "4",
            "--lr-decay-epochs", "2")
    items, scores = latent.load(cli_model).recommend(df, k=5)
    want_items, want_scores = rec.recommend(df, k=5)
    np.testing.assert_array_equal(items, want_items)
    np.testing.assert_array_equal(scores, want_scores)
    # The options change the model: the default rule gives other scores.
    other = latent.Recommender(rating_column="rating", min_rating=3.5, **SETTINGS).fit(df)
    assert not np.array_equal(other.recommend(df, k=5)[1], want_scores)
    with pytest.raises(ValueError, match="beta rule \"sometimes\" is not one of"):
        latent.Recommender(beta_rule="sometimes").fit(df)


def test_cli_model_ranks_in_python_as_the_cli(tmp_path, latent_bin, table):
    df, csv = table
    model = tmp_path / "cli.safetensors"
    run_cli(latent_bin, "train", "--preset", "mult-dae", "--data", csv, "--out", model,
            *COLUMNS, *FLAGS)
    rec = latent.load(model)
    assert rec.model == "mult-dae" and rec.items_.dtype == np.int64
    history = pd.DataFrame({"userId": ["alice", "alice", "bob"], "movieId": [100, 101, 135]})
    hist_csv = tmp_path / "history.csv"
    history.to_csv(hist_csv, index=False)
    for seen in ("true", "false"):
        out = run_cli(latent_bin, "recommend", "--model", model, "--data", hist_csv,
                      "--k", "4", "--exclude-seen", seen)
        got = rec.recommend_table(history, k=4, exclude_seen=seen == "true")
        assert py_table(got) == cli_table(out)
    # Histories as lists of item ids give the same ranking as the table.
    items, scores = rec.recommend([[100, 101], [135]], k=4)
    want = rec.recommend(history, k=4)
    np.testing.assert_array_equal(items, want[0])
    np.testing.assert_array_equal(scores, want[1])
    full = rec.score_items(history)
    assert full.shape == (2, len(rec.items_)) and full.dtype == np.float32


def test_sparse_matrix_matches_the_cli_on_npz(tmp_path, latent_bin, table):
    sp = pytest.importorskip("scipy.sparse")
    df, _ = table
    pos = df[df.rating >= 3.5]
    m = sp.csr_matrix(
        (np.ones(len(pos), dtype=np.float32), (pos.userId.to_numpy(), pos.movieId.to_numpy() - 100)),
        shape=(120, 40),
    )
    m.sum_duplicates()
    m.data[:] = 1.0
    npz = tmp_path / "m.npz"
    sp.save_npz(npz, m)
    rec = latent.Recommender(model="ease").fit(m)
    assert rec.items_.tolist() == list(range(40))
    path = tmp_path / "py.safetensors"
    rec.save(path)
    out = run_cli(latent_bin, "recommend", "--model", path, "--data", npz, "--k", "3")
    items, scores = rec.recommend(m, k=3)
    want = cli_table(out)
    assert [(str(u), str(i), s, r) for u in range(120) for r, (i, s) in
            enumerate(zip(items[u], scores[u]), 1)] == want
    # A dense 0/1 array is the same matrix.
    np.testing.assert_array_equal(rec.recommend(m.toarray(), k=3)[0], items)
    cli_model = tmp_path / "cli.safetensors"
    run_cli(latent_bin, "train", "--preset", "ease", "--data", npz, "--out", cli_model, "-q")
    np.testing.assert_array_equal(latent.load(cli_model).recommend(m, k=3)[1], scores)


def test_estimator_contract(table):
    df, _ = table
    rec = latent.Recommender(model="ease", lambdas=[100.0], rating_column="rating")
    assert rec.get_params()["lambdas"] == [100.0]
    assert not hasattr(rec, "model_")
    pytest.importorskip("sklearn")
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        rec.recommend(df)
    rec2 = clone(rec).set_params(min_rating=3.5).fit(df)
    back = pickle.loads(pickle.dumps(rec2))
    np.testing.assert_array_equal(back.recommend(df, k=3)[1], rec2.recommend(df, k=3)[1])
    assert rec2.history_["lambda"] == 100.0


def test_bad_input_raises_value_error(table):
    df, _ = table
    with pytest.raises(ValueError, match="not one of mult-vae"):
        latent.Recommender(model="svd").fit(df)
    with pytest.raises(ValueError, match="user column \"uid\""):
        latent.Recommender(model="ease", user_column="uid").fit(df)
    with pytest.raises(ValueError, match="dropout"):
        latent.Recommender(dropout=1.5).fit(df)
    with pytest.raises(ValueError, match="none of the 3 rows is rated >= 9"):
        latent.Recommender(model="ease", rating_column="rating", min_rating=9).fit(df.head(3))
    rec = latent.Recommender(model="popularity").fit(df)
    with pytest.raises(ValueError, match="k must be at least 1"):
        rec.recommend(df, k=0)
    strangers = pd.DataFrame({"userId": [1], "movieId": [999]})
    with pytest.raises(ValueError, match="none of the 1 item ids is known"):
        rec.recommend(strangers)
    mixed = pd.DataFrame({"userId": [1, 1], "movieId": [100, 999]})
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        rec.recommend(mixed)
    assert any("1 interactions with items unknown" in str(x.message) for x in w)
    with pytest.raises(ValueError, match="2-D"):
        rec.recommend(np.zeros(3))


def test_verbose_progress_and_ctrl_c(tmp_path, table, capsys):
    df, _ = table
    latent.Recommender(model="mult-dae", verbose=1, **{**SETTINGS, "epochs": 2}).fit(df)
    assert "epoch 2/2" in capsys.readouterr().err
    assert_ctrl_c_stops(
        tmp_path,
        "X = (np.random.default_rng(0).random((1000, 1500)) < 0.02).astype(np.float32)",
        "latent.Recommender(epochs=100000, patience=100000).fit(X)",
    )
