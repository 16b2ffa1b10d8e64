"""AutoEncoder.compress/decompress: the `.lat` bytes of `latent compress`, both ways."""

import numpy as np
import pytest

import latent
from conftest import run_cli, write_csv


def read_csv(path):
    return np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32, ndmin=2)


def test_python_codec_compresses_as_the_cli(tmp_path, latent_bin, data):
    X, _ = data
    ae = latent.AutoEncoder(epochs=5, seed=3, latent=3, quant_step=0.05).fit(X)
    assert ae.model_.has_codec
    blob = ae.compress(X)
    assert isinstance(blob, bytes) and len(blob) < X.nbytes / 4
    model = tmp_path / "py.safetensors"
    ae.save(model)
    csv = write_csv(tmp_path / "x.csv", X)
    lat = tmp_path / "x.lat"
    run_cli(latent_bin, "compress", "--model", model, "--data", csv, "--out", lat)
    assert lat.read_bytes() == blob
    assert ae.compress(X, block_rows=50) != blob  # other blocks, same codes
    np.testing.assert_array_equal(
        ae.decompress_codes(ae.compress(X, block_rows=50)), ae.decompress_codes(blob)
    )
    # Decoded as `latent decompress` decodes the CLI's file.
    out = tmp_path / "y.csv"
    run_cli(latent_bin, "decompress", "--model", model, "--data", lat, "--out", out)
    np.testing.assert_allclose(ae.decompress(blob), read_csv(out), rtol=1e-6, atol=1e-6)
    assert ae.decompress(blob).shape == X.shape
    codes = ae.decompress_codes(blob)
    assert codes.shape == (len(X), 3) and codes.dtype == np.int32


def test_cli_codec_compresses_in_python(tmp_path, latent_bin, data):
    X, _ = data
    csv = write_csv(tmp_path / "x.csv", X)
    model = tmp_path / "cli.safetensors"
    run_cli(latent_bin, "train", "--data", csv, "--out", model, "--epochs", "3",
            "--quant-step", "0.1", "--seed", "5", "--quiet")
    lat = tmp_path / "x.lat"
    run_cli(latent_bin, "compress", "--model", model, "--data", csv, "--out", lat)
    ae = latent.load(model)
    assert ae.compress(X) == lat.read_bytes()
    same = latent.AutoEncoder(epochs=3, seed=5, quant_step=0.1).fit(X)
    assert same.compress(X) == lat.read_bytes()


def test_codec_errors(data):
    X, _ = data
    with pytest.raises(ValueError, match="quant_step must be a positive number"):
        latent.AutoEncoder(epochs=1, quant_step=-1).fit(X)
    plain = latent.AutoEncoder(epochs=1).fit(X)
    with pytest.raises(ValueError, match="entropy model|codec"):
        plain.compress(X)
    coded = latent.AutoEncoder(epochs=1, quant_step=0.1).fit(X)
    with pytest.raises(ValueError):
        coded.decompress(b"not a lat file")
    with pytest.raises(ValueError, match="block_rows"):
        coded.compress(X, block_rows=0)
