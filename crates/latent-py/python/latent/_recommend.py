"""``latent.Recommender``: recommendation from implicit feedback (Mult-VAE, Mult-DAE, EASE,
popularity), trained and run by the latent Rust library -- the code of ``latent train
--preset mult-vae|mult-dae|ease`` and ``latent recommend``."""

from __future__ import annotations

import warnings

import numpy as np

from ._common import _Estimator, _is_arrow, _is_dataframe, _is_sparse
from ._native import Interactions, RecModel


def _ids(values):
    """Ids as the ``latent`` program reads them from a file: their text."""
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]


def _id_array(ids):
    """Item ids as an array: int64 when every id is a whole number (MovieLens's ``movieId``,
    a matrix's column numbers), else object (str)."""
    if ids and all(i.lstrip("-").isdigit() and len(i) < 19 for i in ids):
        return np.asarray([int(i) for i in ids], dtype=np.int64)
    return np.asarray(ids, dtype=object)


class Recommender(_Estimator):
    """A recommender for implicit feedback (users x items), trained by the latent library.

    Parameters
    ----------
    model : str, default "mult-vae"
        "mult-vae" (Liang et al. 2018), "mult-dae", "ease" (Steck 2019, closed form, λ chosen
        on validation users) or "popularity" -- as ``latent train --preset``.
    hidden : int, optional
        Hidden width of Mult-VAE/DAE (default 600).
    latent : int, optional
        Code width of Mult-VAE/DAE (default 200).
    dropout : float, optional
        Input dropout of Mult-VAE/DAE (default 0.5).
    beta : float, optional
        Final KL weight of Mult-VAE (default 0.2).
    lambdas : list of float, optional
        EASE's λ grid (default 50, 100, 200, 500, 1000).
    epochs : int, optional
        Maximum epochs (default 200, early stopping on validation NDCG@100).
    batch_size : int, optional
        Users per batch, taken as given (default: 500, smaller on small data).
    lr : float, optional
        Adam learning rate (default 1e-3).
    weight_decay : float, optional
        L2 weight decay (default 0).
    patience : int, optional
        Epochs without a better validation NDCG@100 before stopping (default 50).
    seed : int, optional
        Seed of the validation split, initialisation and sampling (default 42). The same
        seed and data give the same model as ``latent train --seed``.
    beta_rule : {"history", "constant"}, optional
        Mult-VAE's KL weight per user: β scaled by the user's history size over the mean
        (RecVAE; the default) or one β for every user (Liang et al. 2018).
    anneal_steps : int, optional
        Steps over which Mult-VAE's KL weight rises to ``beta`` (default: 80% of the run).
    decoupled_decay : bool, optional
        Decoupled (AdamW) weight decay instead of L2 in the gradient.
    composite_prior : bool, optional
        Mult-VAE's KL against RecVAE's composite prior instead of N(0, I).
    emphasis : float, optional
        Emphasised denoising: the items dropped from the input weigh ``emphasis`` times the
        kept ones in the likelihood (default 1, off), as ``latent --emphasis``.
    lr_decay_epochs : int, optional
        Cosine learning-rate decay from ``lr`` to a hundredth of it over this many epochs
        (default: a constant rate), as ``latent --lr-decay-epochs``.
    user_column, item_column : str, optional
        The id columns of a DataFrame (default "userId" and "movieId", as ``latent``).
    rating_column : str, optional
        A rating column: rows rated at least ``min_rating`` are the positives (without one,
        every row is).
    min_rating : float, optional
        The smallest rating counted as a positive (a matrix's entries too).
    verbose : int, default 0
        1 prints one line per epoch on ``sys.stderr``.

    Attributes
    ----------
    model_ : latent.RecModel
        The trained model.
    items_ : ndarray
        Item ids on the model's item axis (int64 when they are whole numbers, as a matrix's
        column numbers are; else str).
    history_ : dict
        ``{"loss", "ndcg_100", "beta"}`` per epoch, ``best_epoch``, ``lambda`` and the kept
        model's ``validation`` metrics.

    Notes
    -----
    Interactions are a ``scipy.sparse`` matrix (users x items; users and items are then
    named by their row and column numbers, as ``latent`` names those of a ``.npz`` file), a
    dense 0/1 array, or a pandas DataFrame in long form (one row per interaction, the id
    columns above).
    """

    def __init__(
        self,
        model="mult-vae",
        hidden=None,
        latent=None,
        dropout=None,
        beta=None,
        lambdas=None,
        epochs=None,
        batch_size=None,
        lr=None,
        weight_decay=None,
        patience=None,
        seed=None,
        beta_rule=None,
        anneal_steps=None,
        decoupled_decay=None,
        composite_prior=None,
        emphasis=None,
        lr_decay_epochs=None,
        user_column=None,
        item_column=None,
        rating_column=None,
        min_rating=None,
        verbose=0,
    ):
        self.model = model
        self.hidden = hidden
        self.latent = latent
        self.dropout = dropout
        self.beta = beta
        self.lambdas = lambdas
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.seed = seed
        self.beta_rule = beta_rule
        self.anneal_steps = anneal_steps
        self.decoupled_decay = decoupled_decay
        self.composite_prior = composite_prior
        self.emphasis = emphasis
        self.lr_decay_epochs = lr_decay_epochs
        self.user_column = user_column
        self.item_column = item_column
        self.rating_column = rating_column
        self.min_rating = min_rating
        self.verbose = verbose

    # -- input ---------------------------------------------------------------------------

    def _columns(self, fitted):
        """The id columns: the parameters, else the model's (when fitted), else latent's."""
        saved = self.model_.columns() if fitted else {}
        user = self.user_column or saved.get("user") or "userId"
        item = self.item_column or saved.get("item") or "movieId"
        rating = self.rating_column or saved.get("rating")
        min_rating = self.min_rating
        if min_rating is None and self.rating_column is None:
            min_rating = saved.get("min_rating")
        return user, item, rating, min_rating

    def _interactions(self, X, fitted):
        """``X`` as native interactions, and the user ids of its rows."""
        _, _, _, min_rating = self._columns(fitted)
        min_rating = None if min_rating is None else float(min_rating)
        if _is_arrow(X):
            X = X.to_pandas()
        if _is_dataframe(X):
            return self._table(X, fitted)
        if _is_sparse(X):
            m = X.tocsr()
            m.sort_indices()
            data = Interactions.from_csr(
                int(m.shape[0]),
                int(m.shape[1]),
                np.ascontiguousarray(m.indptr, dtype=np.int64),
                np.ascontiguousarray(m.indices, dtype=np.int64),
                np.ascontiguousarray(m.data, dtype=np.float32),
                min_rating,
            )
            return data
        if isinstance(X, (list, tuple)) and fitted and all(
            not np.isscalar(h) for h in X
        ):  # histories: one list of item ids per user
            users, items = [], []
            for u, h in enumerate(X):
                h = list(h)
                if not h:
                    raise ValueError(f"history {u} is empty")
                users.extend([str(u)] * len(h))
                items.extend(_ids(h))
            return Interactions.from_ids(users, items)
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise ValueError(
                f"interactions must be a 2-D users x items matrix, a scipy.sparse matrix or a "
                f"DataFrame with user and item columns; got a {arr.ndim}-D array"
            )
        rows, cols = np.nonzero(arr)
        indptr = np.zeros(arr.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=arr.shape[0]), out=indptr[1:])
        values = np.ascontiguousarray(arr[rows, cols], dtype=np.float32)
        return Interactions.from_csr(
            int(arr.shape[0]), int(arr.shape[1]), indptr, cols.astype(np.int64), values,
            min_rating,
        )

    def _table(self, df, fitted):
        user, item, rating, min_rating = self._columns(fitted)
        for name, what in ((user, "user"), (item, "item")):
            if name not in df.columns:
                raise ValueError(
                    f"{what} column \"{name}\" is not in the data (columns: "
                    f"{', '.join(map(str, df.columns))}); set {what}_column="
                )
        if rating is not None and rating not in df.columns:
            if fitted and self.rating_column is None:
                # A history table without the model's rating column: every row is a positive.
                rating, min_rating = None, None
            else:
                raise ValueError(f"rating column \"{rating}\" is not in the data")
        ratings = None
        if rating is not None:
            ratings = np.ascontiguousarray(df[rating].to_numpy(dtype=np.float64, na_value=np.nan))
        return Interactions.from_ids(
            _ids(df[user].tolist()),
            _ids(df[item].tolist()),
            ratings,
            None if min_rating is None or rating is None else float(min_rating),
        )


    # -- fitting -------------------------------------------------------------------------

    def fit(self, X, y=None):
        """Trains the recommender on the interactions ``X`` (``y`` is ignored). Returns
        self."""
        data = self._interactions(X, fitted=False)
        user, item, rating, min_rating = self._columns(fitted=False)
        hidden = self.hidden
        if hidden is not None:
            hidden = int(np.atleast_1d(hidden)[0])
        opt = lambda v, f: None if v is None else f(v)  # noqa: E731
        params = dict(
            hidden=hidden,
            latent=opt(self.latent, int),
            dropout=opt(self.dropout, float),
            beta=opt(self.beta, float),
            lambdas=opt(self.lambdas, lambda v: [float(x) for x in np.atleast_1d(v)]),
            epochs=opt(self.epochs, int),
            batch_size=opt(self.batch_size, int),
            lr=opt(self.lr, float),
            weight_decay=opt(self.weight_decay, float),
            patience=opt(self.patience, int),
            seed=opt(self.seed, int),
            beta_rule=opt(self.beta_rule, str),
            anneal_steps=opt(self.anneal_steps, int),
            decoupled_decay=opt(self.decoupled_decay, bool),
            composite_prior=opt(self.composite_prior, bool),
            emphasis=opt(self.emphasis, float),
            lr_decay_epochs=opt(self.lr_decay_epochs, int),
        )
        model = RecModel.fit(
            data,
            params,
            model=str(self.model),
            user=user if _is_dataframe(X) or self.user_column else None,
            item=item if _is_dataframe(X) or self.item_column else None,
            rating=rating,
            min_rating=opt(min_rating, float),
            verbose=int(self.verbose or 0),
        )
        self._set_fitted(model)
        return self

    def _set_fitted(self, model):
        self.model_ = model
        self.items_ = _id_array(model.items)
        self.history_ = model.history()
        self.n_features_in_ = len(model.items)

    @classmethod
    def _from_model(cls, model):
        est = cls(model=model.kind)
        est._set_fitted(model)
        return est

    # -- ranking -------------------------------------------------------------------------

    def _warn_unknown(self, unknown):
        if unknown:
            warnings.warn(
                f"{unknown} interactions with items unknown to the model were skipped",
                stacklevel=3,
            )

    def recommend(self, X, k=10, exclude_seen=True):
        """The top ``k`` items of every user of ``X`` (interactions as for :meth:`fit`, or a
        list of histories, one list of item ids per user), leaving out the user's own items
        when ``exclude_seen``. Returns ``(items, scores)``, both ``(n_users, k)``, best first
        (a short list is padded with -1 or None and NaN). Users are a matrix's rows, or a
        DataFrame's users in order of first appearance (see :meth:`recommend_table`)."""
        model = self._fitted()
        idx, scores, unknown = model.recommend(
            self._interactions(X, fitted=True), int(k), bool(exclude_seen)
        )
        self._warn_unknown(unknown)
        if self.items_.dtype == object:
            items = np.empty(idx.shape, dtype=object)
            ok = idx >= 0
            items[ok] = self.items_[idx[ok]]
        else:
            items = np.where(idx >= 0, self.items_[np.maximum(idx, 0)], -1)
        return items, scores

    def recommend_table(self, X, k=10, exclude_seen=True):
        """:meth:`recommend` as the long table ``latent recommend`` writes: a DataFrame with
        columns user, item, score, rank (from 1), one row per recommendation."""
        import pandas as pd

        model = self._fitted()
        data = self._interactions(X, fitted=True)
        idx, scores, unknown = model.recommend(data, int(k), bool(exclude_seen))
        self._warn_unknown(unknown)
        users = np.asarray(data.users, dtype=object)
        ok = idx >= 0
        rows, ranks = np.nonzero(ok)
        items = np.asarray(model.items, dtype=object)
        return pd.DataFrame(
            {
                "user": users[rows],
                "item": items[idx[ok]],
                "score": scores[ok],
                "rank": ranks + 1,
            }
        )

    def score_items(self, X):
        """The score of every item (in the order of ``items_``) for every user of ``X``:
        ``(n_users, n_items)`` float32, higher is a better recommendation."""
        scores, unknown = self._fitted().score_items(self._interactions(X, fitted=True))
        self._warn_unknown(unknown)
        return scores

    # -- files ---------------------------------------------------------------------------

