"""Helpers shared by the estimators of the latent package: the scikit-learn base, input
conversion (NumPy arrays, pandas DataFrames, pyarrow Tables) and output columns."""

from __future__ import annotations

import inspect

import numpy as np

try:  # scikit-learn is optional: without it a small base gives get_params/set_params.
    from sklearn.base import BaseEstimator, TransformerMixin

    class _Base(TransformerMixin, BaseEstimator):
        """scikit-learn's transformer base (``fit_transform``, ``set_output``, params)."""

except ImportError:  # pragma: no cover - exercised only without scikit-learn

    class _Base:
        """``get_params``/``set_params`` as scikit-learn's ``BaseEstimator`` gives them."""

        @classmethod
        def _get_param_names(cls):
            sig = inspect.signature(cls.__init__)
            return sorted(p for p in sig.parameters if p != "self")

        def get_params(self, deep=True):
            """The estimator's parameters, by name."""
            return {k: getattr(self, k) for k in self._get_param_names()}

        def set_params(self, **params):
            """Sets parameters by name; returns the estimator."""
            valid = self._get_param_names()
            for k, v in params.items():
                if k not in valid:
                    raise ValueError(f"invalid parameter {k!r} for {type(self).__name__}")
                setattr(self, k, v)
            return self

        def __repr__(self):
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
            return f"{type(self).__name__}({args})"


def _is_dataframe(X):
    return type(X).__module__.split(".")[0] == "pandas" and hasattr(X, "columns")


def _is_arrow(X):
    return type(X).__module__.split(".")[0] == "pyarrow" and hasattr(X, "to_pandas")


def _is_sparse(X):
    return hasattr(X, "tocsr") or type(X).__module__.startswith("scipy.sparse")


def _dataframe_columns(X, categorical):
    """A pandas DataFrame as ``[(name, column)]``: numeric columns as float32 arrays (NaN for
    missing), the others -- and the model's categorical columns -- as texts ("" missing)."""
    import pandas as pd

    out = []
    for name in X.columns:
        s = X[name]
        key = str(name)
        numeric = pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(
            s.dtype
        )
        if numeric and key not in categorical:
            values = s.to_numpy(dtype=np.float32, na_value=np.nan)
            out.append((key, np.ascontiguousarray(values)))
        else:
            out.append((key, ["" if pd.isna(v) else str(v) for v in s.tolist()]))
    return out


def _matrix(X, what="X"):
    """``X`` as a C-contiguous 2-D float32 array: float32 input is used in place, float64 is
    converted once."""
    if _is_sparse(X):
        raise TypeError(f"{what}: sparse input is not supported; pass a dense array")
    arr = np.asarray(X)
    if arr.dtype.kind == "c":
        raise ValueError(f"{what}: Complex data not supported")
    if arr.ndim != 2:
        raise ValueError(
            f"Expected a 2-D array for {what}, got {arr.ndim}-D. Reshape your data with "
            "X.reshape(-1, 1) for one feature or X.reshape(1, -1) for one sample."
        )
    for axis, unit in ((0, "sample"), (1, "feature")):
        if arr.shape[axis] == 0:
            raise ValueError(
                f"{what}: 0 {unit}(s) (shape={arr.shape}) while a minimum of 1 is required."
            )
    try:
        return np.ascontiguousarray(arr, dtype=np.float32)
    except TypeError as e:
        raise TypeError(f"{what}: {e}") from None
    except ValueError as e:
        raise ValueError(
            f"{what}: cannot read the values as numbers ({e}); pass a pandas DataFrame to "
            "have text columns one-hot encoded"
        ) from None


def _columns_out(columns, as_frame=False):
    """Named columns from the native model as an array, or a DataFrame when some column is
    categorical (or asked for)."""
    numeric = all(isinstance(v, np.ndarray) for _, v in columns)
    if numeric and not as_frame:
        if not columns:
            return np.zeros((0, 0), dtype=np.float32)
        return np.column_stack([v for _, v in columns]).astype(np.float32, copy=False)
    import pandas as pd

    return pd.DataFrame({name: v for name, v in columns})


def not_fitted(est):
    """scikit-learn's ``NotFittedError`` (``AttributeError`` without scikit-learn) for ``est``."""
    try:
        from sklearn.exceptions import NotFittedError
    except ImportError:  # pragma: no cover
        NotFittedError = AttributeError
    return NotFittedError(
        f"This {type(est).__name__} instance is not fitted yet. Call 'fit' with "
        "appropriate arguments before using this estimator."
    )


class _Estimator(_Base):
    """What every latent estimator shares: the fitted native model in ``model_`` and its
    file."""

    def _fitted(self):
        """The fitted native model (scikit-learn's ``NotFittedError`` before ``fit``)."""
        model = getattr(self, "model_", None)
        if model is None:
            raise not_fitted(self)
        return model

    def save(self, path):
        """Writes the model file: the same ``.safetensors`` file the ``latent`` program
        writes and reads (``latent.load`` reads it back). Returns self."""
        self._fitted().save(str(path))
        return self


def _network_params(est):
    """The network and training parameters of an estimator as the native fit takes them:
    integers and floats converted once, ``None`` left for the preset's value."""

    def opt(v, kind):
        return None if v is None else kind(v)

    hidden = getattr(est, "hidden", None)
    return dict(
        hidden=None if hidden is None else [int(h) for h in np.atleast_1d(hidden)],
        latent=opt(est.latent, int),
        epochs=opt(est.epochs, int),
        batch_size=opt(est.batch_size, int),
        lr=opt(est.lr, float),
        seed=opt(est.seed, int),
        contamination=opt(est.contamination, float),
        dropout=opt(est.dropout, float),
        weight_decay=opt(est.weight_decay, float),
        activation=opt(est.activation, str),
        code_activation=opt(est.code_activation, str),
        code_dropout=bool(est.code_dropout),
    )
