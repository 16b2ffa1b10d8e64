"""latent: autoencoders as fast software, from Python.

The estimators here follow the scikit-learn contract (``get_params``/``set_params``, no work
in ``__init__``, fitted attributes ending in ``_``, ``clone()`` and pickling work) and PyOD's
detector habits (``decision_function`` and ``decision_scores_``: higher is more anomalous;
``predict``: 0 normal, 1 anomaly; ``threshold_``, ``labels_``).

Everything a model does is the Rust ``latent`` library's -- the same code as the ``latent``
command-line program and HTTP service: presets, preprocessing (scaling, one-hot encoding of
text and categorical columns, the missing-value policy), training, the anomaly threshold,
scores and explanations. Models are the same ``.safetensors`` files the program writes and
reads, both ways.

Example::

    import numpy as np, latent
    X = np.random.default_rng(0).normal(size=(1000, 8)).astype(np.float32)
    det = latent.AutoEncoder(epochs=20, contamination=0.05).fit(X)
    scores = det.decision_function(X)       # higher = more anomalous
    flags = det.predict(X)                  # 1 above the saved threshold
    det.save("model.safetensors")           # `latent score --model model.safetensors ...`
"""

from __future__ import annotations

import numpy as np

from . import _native
from ._common import (
    _Estimator,
    _columns_out,
    _dataframe_columns,
    _is_arrow,
    _is_dataframe,
    _matrix,
    _network_params,
)
from ._native import Model, RecModel, presets
from ._recommend import Recommender
from ._series import SeriesDetector

__all__ = ["AutoEncoder", "Model", "RecModel", "Recommender", "SeriesDetector", "load", "presets"]
__version__ = _native.__version__


class AutoEncoder(_Estimator):
    """An autoencoder for tables, trained and run by the latent Rust library.

    Parameters
    ----------
    hidden : list of int, optional
        Encoder hidden-layer widths, outermost first (the decoder mirrors them). Default:
        sized from the data width, as ``latent train`` does.
    latent : int, optional
        Width of the latent code (default: from the data width).
    preset : str, default "dense"
        A starting configuration, as ``latent train --preset``: "dense", "denoising",
        "sparse", "vae", "beta-vae" or "anomaly" (tanh units, standard scaling, 100 epochs
        and the ensemble detector: two Isolation Forests, on residuals and inputs and on
        inputs, and the kNN distance, combined by their largest standardised score).
    epochs : int, optional
        Training epochs, taken as given (default: the library's, with a minimum number of
        optimiser steps).
    batch_size : int, optional
        Rows per optimiser step (default 256).
    lr : float, optional
        Adam learning rate (default 1e-3).
    seed : int, optional
        Random seed (default 42, as ``latent train``). The same seed and data give the same
        model as ``latent train --seed``.
    contamination : float, optional
        Expected share of anomalies in the training data, in (0, 0.5]: that share of the
        highest training scores is flagged. Default: the library's automatic rule (a robust
        3-sigma rule on the log scores).
    verbose : int, default 0
        1 prints one line per epoch on ``sys.stderr``.
    dropout : float, optional
        Dropout after each hidden layer while training, in [0, 1) (default 0).
    weight_decay : float, optional
        L2 weight decay added to the gradient, as Adam's ``weight_decay`` (default 0).
    activation : str, optional
        Hidden-layer activation: "relu" (default; "tanh" for the "anomaly" preset),
        "leaky_relu", "tanh" or "gelu".
    code_activation : str, optional
        Activation of the code layer: "identity" (default), "relu", "sigmoid", ...
    code_dropout : bool, default False
        Also drop out code units while training (with ``dropout``'s probability), as PyOD's
        ``AutoEncoder`` does after every layer including the bottleneck.
    quant_step : float, optional
        Also fit the model's codec after training, as ``latent train --quant-step``: each
        code value is stored as ``round(value / quant_step)`` and range-coded, so that
        :meth:`compress` and ``latent compress`` turn rows into a compact ``.lat`` container.

    Attributes
    ----------
    model_ : latent.Model
        The trained model.
    decision_scores_ : ndarray of shape (n_samples,)
        Anomaly scores of the training rows (higher is more anomalous).
    threshold_ : float
        Scores strictly above it are anomalies (saved in the model file).
    labels_ : ndarray of shape (n_samples,)
        0/1 flags of the training rows.
    history_ : dict
        ``{"loss": [...], "val_loss": [...]}`` per epoch.
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of str
        Column names, when fitted on a DataFrame with string column names.

    Notes
    -----
    ``score_samples`` and ``decision_function`` both return the anomaly score, higher for
    more anomalous rows (PyOD's convention; scikit-learn's own outlier detectors use the
    opposite sign for ``score_samples``). ``predict`` returns 0 (normal) or 1 (anomaly).
    Inputs: NumPy arrays (float32 is read in place, other dtypes are converted once), pandas
    DataFrames (text, boolean and categorical columns are one-hot encoded, as the ``latent``
    program does with CSV files) or pyarrow Tables. Missing values raise ``ValueError``.
    """

    def __init__(
        self,
        hidden=None,
        latent=None,
        preset="dense",
        epochs=None,
        batch_size=None,
        lr=None,
        seed=None,
        contamination=None,
        verbose=0,
        dropout=None,
        weight_decay=None,
        activation=None,
        code_activation=None,
        code_dropout=False,
        quant_step=None,
    ):
        self.hidden = hidden
        self.latent = latent
        self.preset = preset
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.contamination = contamination
        self.verbose = verbose
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.activation = activation
        self.code_activation = code_activation
        self.code_dropout = code_dropout
        self.quant_step = quant_step

    # -- input ---------------------------------------------------------------------------

    def _data(self, X, fitted):
        """Rows for the native model, checking the width against the fitted model."""
        if _is_arrow(X):  # a pyarrow Table or RecordBatch: through pandas, column by column
            X = X.to_pandas()
        if _is_dataframe(X):
            cats = set(self.model_.categorical_names) if fitted else set()
            return _dataframe_columns(X, cats), X.shape[1], [str(c) for c in X.columns]
        arr = _matrix(X)
        if fitted and arr.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {arr.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        return (arr, []), arr.shape[1], None


    # -- fitting -------------------------------------------------------------------------

    def fit(self, X, y=None):
        """Fits the autoencoder on ``X`` (``y`` is ignored) and calibrates the anomaly
        threshold on the training rows. Returns self."""
        data, width, names = self._data(X, fitted=False)
        model, scores = Model.fit(
            data,
            _network_params(self),
            preset=str(self.preset),
            verbose=int(self.verbose or 0),
            quant_step=None if self.quant_step is None else float(self.quant_step),
        )
        self._set_fitted(model, width, names)
        self.decision_scores_ = scores
        self.labels_ = model.flags(scores)
        return self

    def _set_fitted(self, model, width, names):
        self.model_ = model
        self.threshold_ = model.threshold
        self.history_ = model.history()
        self.n_features_in_ = width
        if names is not None and not all(n.isdigit() for n in names):
            self.feature_names_in_ = np.asarray(names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    def fit_predict(self, X, y=None):
        """Fits on ``X`` and returns the 0/1 flags of its rows."""
        return self.fit(X).labels_

    # -- scoring -------------------------------------------------------------------------

    def decision_function(self, X):
        """Anomaly score of every row of ``X`` (higher is more anomalous): the score the
        model's threshold was calibrated on (reconstruction error, or the ensemble score of
        the "anomaly" preset)."""
        model = self._fitted()
        return model.score(self._data(X, fitted=True)[0])

    def score_samples(self, X):
        """The same as :meth:`decision_function` (higher is more anomalous)."""
        return self.decision_function(X)

    def predict(self, X):
        """0 (normal) or 1 (anomaly: score above the model's threshold) for every row."""
        return self._fitted().flags(self.decision_function(X))

    def predict_proba(self, X):
        """``(n_samples, 2)``: the probability-like ``[normal, anomaly]`` mapping of the
        scores through the model's calibration (the anomaly column is above 0.5 exactly when
        the row is flagged). A calibrated rank, not a posterior probability."""
        p = self._fitted().proba(self.decision_function(X)).astype(np.float64)
        return np.column_stack([1.0 - p, p])

    def explain(self, X, k=3):
        """The ``k`` input columns contributing most to each row's score: per row, a list of
        ``(column, share)`` pairs, largest share first (one-hot groups summed back to their
        column)."""
        model = self._fitted()
        return model.explain(self._data(X, fitted=True)[0], int(k))

    # -- the code ------------------------------------------------------------------------

    def transform(self, X):
        """The latent code of every row: ``(n_samples, latent)`` float32."""
        return self._fitted().encode(self._data(X, fitted=True)[0])

    def fit_transform(self, X, y=None):
        """Fits on ``X`` and returns its latent codes."""
        return self.fit(X).transform(X)

    def inverse_transform(self, Z):
        """Rows decoded from latent codes, in the original units: a float32 array, or a
        pandas DataFrame when the model has categorical columns."""
        model = self._fitted()
        return _columns_out(model.decode(_matrix(Z, "Z")))

    def reconstruct(self, X):
        """Every row's reconstruction in the original units (categorical columns as their most
        likely category): a float32 array, or a DataFrame when the model has categorical
        columns or ``X`` is a DataFrame."""
        model = self._fitted()
        out = model.reconstruct(self._data(X, fitted=True)[0])
        return _columns_out(out, as_frame=_is_dataframe(X))

    # -- compression ---------------------------------------------------------------------

    def compress(self, X, block_rows=256):
        """The rows of ``X`` compressed into a ``.lat`` container (bytes): the quantised
        codes, range-coded with the model's entropy model -- the bytes ``latent compress``
        writes for the same rows of a table. Needs a model fitted with ``quant_step`` (or
        ``latent train --quant-step`` / ``latent fit-codec``)."""
        model = self._fitted()
        return model.compress(self._data(X, fitted=True)[0], int(block_rows))

    def decompress(self, data):
        """The rows of a ``.lat`` container written with this model, decoded in the original
        units (as ``latent decompress``): a float32 array, or a DataFrame when the model has
        categorical columns. Lossy: close to the reconstruction of the rows compressed."""
        return _columns_out(self._fitted().decompress(bytes(data)))

    def decompress_codes(self, data):
        """The quantised codes of a ``.lat`` container: ``(n_samples, latent)`` int32 (as
        ``latent decompress --codes``)."""
        return self._fitted().decompress_codes(bytes(data))

    # -- files ---------------------------------------------------------------------------


    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        tags.requires_fit = True
        if tags.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = ["float32"]  # codes are float32
        return tags


def load(path):
    """A fitted estimator from a model file written by ``save`` or by ``latent train``: a
    :class:`Recommender` for a recommender file, a :class:`SeriesDetector` for a time-series
    model (``latent train --window``), else an :class:`AutoEncoder`. Training-time
    attributes (``decision_scores_``, ``labels_``) are not in the file."""
    path = str(path)
    if RecModel.is_recommender(path):
        return Recommender._from_model(RecModel.load(path))
    model = Model.load(path)
    if model.series() is not None:
        return SeriesDetector._from_model(model)
    est = AutoEncoder()
    names = model.input_names
    default = [f"f{i}" for i in range(len(names))]  # the names of an array's columns
    est._set_fitted(model, len(names), None if names == default else names)
    return est
