"""``latent.SeriesDetector``: anomaly detection on time series with an autoencoder of sliding
windows, trained and run by the latent Rust library -- the code of ``latent train --window``
and ``latent score`` on such a model."""

from __future__ import annotations

import numpy as np

from ._common import _Estimator, _is_arrow, _is_dataframe, _matrix, _network_params
from ._native import fit_series, score_series


class SeriesDetector(_Estimator):
    """An anomaly detector for time series: an autoencoder of sliding windows.

    Every point is scored by the reconstruction error of the window ending at it (causal:
    later points never change an earlier score; the first ``window - 1`` points have no
    score, NaN). The windows are standard-scaled per position on the training series.

    Parameters
    ----------
    window : int
        Points per window (``latent train --window``). Required.
    stride : int, default 1
        Points between the starts of consecutive training windows (``--window-stride``).
    time_column : str, optional
        The time column of a DataFrame (ISO-8601 text, datetimes or epoch seconds, strictly
        increasing; ``--time-column``). Without it the rows are in time order.
    hidden, latent, preset, epochs, batch_size, lr, seed, contamination, verbose, dropout,
    weight_decay, activation, code_activation, code_dropout
        As :class:`latent.AutoEncoder` (the same flags as ``latent train``).

    Attributes
    ----------
    model_ : latent.Model
        The trained model (its ``series()`` tells how it reads a series).
    decision_scores_ : ndarray of shape (n_points,)
        Scores of the training series' points (NaN before the first full window).
    threshold_ : float
        Scores strictly above it are anomalies (calibrated on every training window).
    labels_ : ndarray of shape (n_points,)
        0/1 flags of the training points.
    history_ : dict
        ``{"loss": [...], "val_loss": [...]}`` per epoch.
    n_features_in_ : int
        Number of value columns (channels).
    """

    def __init__(
        self,
        window=None,
        stride=1,
        time_column=None,
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
    ):
        self.window = window
        self.stride = stride
        self.time_column = time_column
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

    def _data(self, X, time_column):
        """The series for the native side: a DataFrame's columns (the time column as text),
        or a 1-D (one channel) / 2-D (points x channels) array."""
        if _is_arrow(X):
            X = X.to_pandas()
        if _is_dataframe(X):
            if time_column is not None and time_column not in X.columns:
                raise ValueError(f"time column \"{time_column}\" is not in the data")
            out = []
            for name in X.columns:
                s = X[name]
                if str(name) == time_column:
                    out.append((str(name), [str(v) for v in s.tolist()]))
                else:
                    values = s.to_numpy(dtype=np.float32, na_value=np.nan)
                    out.append((str(name), np.ascontiguousarray(values)))
            return out
        arr = np.asarray(X)
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        arr = _matrix(arr)
        if hasattr(self, "model_"):
            names = self.model_.series()["columns"]
            if len(names) == arr.shape[1]:
                return (arr, list(names))
        return (arr, [])


    def fit(self, X, y=None):
        """Trains on the series ``X`` (``y`` is ignored) and calibrates the threshold on its
        windows. Returns self."""
        if self.window is None:
            raise ValueError("window= is required: the number of points per window")
        time_column = None if self.time_column is None else str(self.time_column)
        model, scores = fit_series(
            self._data(X, time_column),
            _network_params(self),
            window=int(self.window),
            stride=int(self.stride),
            time_column=time_column,
            preset=str(self.preset),
            verbose=int(self.verbose or 0),
        )
        self._set_fitted(model)
        self.decision_scores_ = scores
        self.labels_ = self._flags(scores)
        return self

    def _set_fitted(self, model):
        spec = model.series()
        self.model_ = model
        self.threshold_ = model.threshold
        self.history_ = model.history()
        self.n_features_in_ = len(spec["columns"])
        self.window_ = spec["window"]

    @classmethod
    def _from_model(cls, model):
        spec = model.series()
        est = cls(window=spec["window"], stride=spec["stride"], time_column=spec["time_column"])
        est._set_fitted(model)
        return est

    def _flags(self, scores):
        flags = self.model_.flags(scores)
        flags[np.isnan(scores)] = 0  # no full window yet: not flagged
        return flags

    def score_samples(self, X):
        """The score of every point of the series ``X`` (higher is more anomalous; NaN for
        the first ``window - 1`` points): the numbers ``latent score`` writes."""
        model = self._fitted()
        spec = model.series()
        return score_series(model, self._data(X, spec["time_column"]))

    def decision_function(self, X):
        """The same as :meth:`score_samples`."""
        return self.score_samples(X)

    def predict(self, X):
        """0 (normal) or 1 (anomaly: score above ``threshold_``) for every point (0 before
        the first full window)."""
        return self._flags(self.score_samples(X))

    def fit_predict(self, X, y=None):
        """Fits on ``X`` and returns the 0/1 flags of its points."""
        return self.fit(X).labels_

