"""Bad input raises clear Python exceptions with the library's messages."""

import numpy as np
import pytest

import latent
from conftest import make_data


@pytest.fixture(scope="module")
def fitted():
    X, _ = make_data(n=200, width=4, outliers=0)
    return latent.AutoEncoder(epochs=3).fit(X), X


def test_nan_and_inf_are_refused(fitted):
    det, X = fitted
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r'data row 4, column "f1": missing value'):
        det.decision_function(bad)
    with pytest.raises(ValueError, match="missing value"):
        latent.AutoEncoder(epochs=1).fit(bad)
    bad[3, 1] = np.inf
    with pytest.raises(ValueError):
        latent.AutoEncoder(epochs=1).fit(bad)


def test_wrong_width_and_shape(fitted):
    det, X = fitted
    with pytest.raises(ValueError, match="X has 3 features, but AutoEncoder is expecting 4"):
        det.decision_function(X[:, :3])
    with pytest.raises(ValueError, match="X has 3 columns; the model takes 4"):
        det.model_.score((np.ascontiguousarray(X[:, :3]), []))
    with pytest.raises(ValueError, match="2-D"):
        det.decision_function(X[0])
    with pytest.raises(ValueError, match="codes have 3 columns"):
        det.inverse_transform(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="numbers"):
        latent.AutoEncoder(epochs=1).fit(np.array([["a", "b"], ["c", "d"]]))


def test_dataframe_with_a_missing_column(fitted):
    pd = pytest.importorskip("pandas")
    X, _ = make_data(n=100, width=3, outliers=0)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    det = latent.AutoEncoder(epochs=2).fit(df)
    with pytest.raises(ValueError, match='"c"'):
        det.decision_function(df[["a", "b"]])


def test_bad_parameters():
    X, _ = make_data(n=50, width=3, outliers=0)
    with pytest.raises(ValueError, match='unknown preset "nope"'):
        latent.AutoEncoder(preset="nope").fit(X)
    with pytest.raises(ValueError, match="contamination must be in"):
        latent.AutoEncoder(contamination=0.9).fit(X)
    with pytest.raises(ValueError, match="latent size must be at least 1"):
        latent.AutoEncoder(latent=0).fit(X)


def test_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        latent.AutoEncoder().predict(np.zeros((2, 2)))


def test_corrupt_and_missing_model_files(tmp_path, fitted):
    det, _ = fitted
    path = tmp_path / "m.safetensors"
    det.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=str(path.name)):
        latent.load(path)
    (tmp_path / "junk.safetensors").write_bytes(b"not a model at all")
    with pytest.raises(ValueError, match="junk.safetensors"):
        latent.load(tmp_path / "junk.safetensors")
    with pytest.raises(OSError):
        latent.load(tmp_path / "absent.safetensors")
    with pytest.raises(ValueError):
        latent.Model.from_bytes(b"\x00" * 16)
