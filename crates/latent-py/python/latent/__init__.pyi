"""Type stubs of the latent package."""

from os import PathLike
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from ._native import Model as Model
from ._native import RecModel as RecModel
from ._native import presets as presets

__version__: str

_X = Any  # a 2-D array-like or a pandas DataFrame

class AutoEncoder:
    hidden: Optional[Sequence[int]]
    latent: Optional[int]
    preset: str
    epochs: Optional[int]
    batch_size: Optional[int]
    lr: Optional[float]
    seed: Optional[int]
    contamination: Optional[float]
    verbose: int
    dropout: Optional[float]
    weight_decay: Optional[float]
    activation: Optional[str]
    code_activation: Optional[str]
    code_dropout: bool
    quant_step: Optional[float]
    model_: Model
    decision_scores_: npt.NDArray[np.float32]
    threshold_: Optional[float]
    labels_: npt.NDArray[np.int64]
    history_: Dict[str, List[Any]]
    n_features_in_: int
    feature_names_in_: npt.NDArray[np.object_]
    def __init__(
        self,
        hidden: Optional[Sequence[int]] = ...,
        latent: Optional[int] = ...,
        preset: str = ...,
        epochs: Optional[int] = ...,
        batch_size: Optional[int] = ...,
        lr: Optional[float] = ...,
        seed: Optional[int] = ...,
        contamination: Optional[float] = ...,
        verbose: int = ...,
        dropout: Optional[float] = ...,
        weight_decay: Optional[float] = ...,
        activation: Optional[str] = ...,
        code_activation: Optional[str] = ...,
        code_dropout: bool = ...,
        quant_step: Optional[float] = ...,
    ) -> None: ...
    def get_params(self, deep: bool = ...) -> Dict[str, Any]: ...
    def set_params(self, **params: Any) -> "AutoEncoder": ...
    def fit(self, X: _X, y: Any = ...) -> "AutoEncoder": ...
    def fit_predict(self, X: _X, y: Any = ...) -> npt.NDArray[np.int64]: ...
    def fit_transform(self, X: _X, y: Any = ...) -> npt.NDArray[np.float32]: ...
    def decision_function(self, X: _X) -> npt.NDArray[np.float32]: ...
    def score_samples(self, X: _X) -> npt.NDArray[np.float32]: ...
    def predict(self, X: _X) -> npt.NDArray[np.int64]: ...
    def predict_proba(self, X: _X) -> npt.NDArray[np.float64]: ...
    def explain(self, X: _X, k: int = ...) -> List[List[Tuple[str, float]]]: ...
    def transform(self, X: _X) -> npt.NDArray[np.float32]: ...
    def inverse_transform(self, Z: Any) -> Any: ...
    def reconstruct(self, X: _X) -> Any: ...
    def compress(self, X: _X, block_rows: int = ...) -> bytes: ...
    def decompress(self, data: bytes) -> Any: ...
    def decompress_codes(self, data: bytes) -> npt.NDArray[np.int32]: ...
    def save(self, path: Union[str, PathLike[str]]) -> "AutoEncoder": ...

class Recommender:
    model: str
    hidden: Optional[int]
    latent: Optional[int]
    dropout: Optional[float]
    beta: Optional[float]
    lambdas: Optional[Sequence[float]]
    epochs: Optional[int]
    batch_size: Optional[int]
    lr: Optional[float]
    weight_decay: Optional[float]
    patience: Optional[int]
    seed: Optional[int]
    beta_rule: Optional[str]
    anneal_steps: Optional[int]
    decoupled_decay: Optional[bool]
    composite_prior: Optional[bool]
    emphasis: Optional[float]
    lr_decay_epochs: Optional[int]
    user_column: Optional[str]
    item_column: Optional[str]
    rating_column: Optional[str]
    min_rating: Optional[float]
    verbose: int
    model_: RecModel
    items_: npt.NDArray[Any]
    history_: Dict[str, Any]
    n_features_in_: int
    def __init__(
        self,
        model: str = ...,
        hidden: Optional[int] = ...,
        latent: Optional[int] = ...,
        dropout: Optional[float] = ...,
        beta: Optional[float] = ...,
        lambdas: Optional[Sequence[float]] = ...,
        epochs: Optional[int] = ...,
        batch_size: Optional[int] = ...,
        lr: Optional[float] = ...,
        weight_decay: Optional[float] = ...,
        patience: Optional[int] = ...,
        seed: Optional[int] = ...,
        beta_rule: Optional[str] = ...,
        anneal_steps: Optional[int] = ...,
        decoupled_decay: Optional[bool] = ...,
        composite_prior: Optional[bool] = ...,
        emphasis: Optional[float] = ...,
        lr_decay_epochs: Optional[int] = ...,
        user_column: Optional[str] = ...,
        item_column: Optional[str] = ...,
        rating_column: Optional[str] = ...,
        min_rating: Optional[float] = ...,
        verbose: int = ...,
    ) -> None: ...
    def get_params(self, deep: bool = ...) -> Dict[str, Any]: ...
    def set_params(self, **params: Any) -> "Recommender": ...
    def fit(self, X: Any, y: Any = ...) -> "Recommender": ...
    def recommend(
        self, X: Any, k: int = ..., exclude_seen: bool = ...
    ) -> Tuple[npt.NDArray[Any], npt.NDArray[np.float32]]: ...
    def recommend_table(self, X: Any, k: int = ..., exclude_seen: bool = ...) -> Any: ...
    def score_items(self, X: Any) -> npt.NDArray[np.float32]: ...
    def save(self, path: Union[str, PathLike[str]]) -> "Recommender": ...

class SeriesDetector:
    window: Optional[int]
    stride: int
    time_column: Optional[str]
    hidden: Optional[Sequence[int]]
    latent: Optional[int]
    preset: str
    epochs: Optional[int]
    batch_size: Optional[int]
    lr: Optional[float]
    seed: Optional[int]
    contamination: Optional[float]
    verbose: int
    dropout: Optional[float]
    weight_decay: Optional[float]
    activation: Optional[str]
    code_activation: Optional[str]
    code_dropout: bool
    model_: Model
    decision_scores_: npt.NDArray[np.float32]
    threshold_: Optional[float]
    labels_: npt.NDArray[np.int64]
    history_: Dict[str, List[Any]]
    n_features_in_: int
    window_: int
    def __init__(
        self,
        window: Optional[int] = ...,
        stride: int = ...,
        time_column: Optional[str] = ...,
        hidden: Optional[Sequence[int]] = ...,
        latent: Optional[int] = ...,
        preset: str = ...,
        epochs: Optional[int] = ...,
        batch_size: Optional[int] = ...,
        lr: Optional[float] = ...,
        seed: Optional[int] = ...,
        contamination: Optional[float] = ...,
        verbose: int = ...,
        dropout: Optional[float] = ...,
        weight_decay: Optional[float] = ...,
        activation: Optional[str] = ...,
        code_activation: Optional[str] = ...,
        code_dropout: bool = ...,
    ) -> None: ...
    def get_params(self, deep: bool = ...) -> Dict[str, Any]: ...
    def set_params(self, **params: Any) -> "SeriesDetector": ...
    def fit(self, X: Any, y: Any = ...) -> "SeriesDetector": ...
    def fit_predict(self, X: Any, y: Any = ...) -> npt.NDArray[np.int64]: ...
    def score_samples(self, X: Any) -> npt.NDArray[np.float32]: ...
    def decision_function(self, X: Any) -> npt.NDArray[np.float32]: ...
    def predict(self, X: Any) -> npt.NDArray[np.int64]: ...
    def save(self, path: Union[str, PathLike[str]]) -> "SeriesDetector": ...

def load(path: Union[str, PathLike[str]]) -> Union[AutoEncoder, Recommender, SeriesDetector]: ...
