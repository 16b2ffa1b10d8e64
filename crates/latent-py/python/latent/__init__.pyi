"""Type stubs of the latent package."""

from os import PathLike
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from ._native import Model as Model
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
    def save(self, path: Union[str, PathLike[str]]) -> "AutoEncoder": ...

def load(path: Union[str, PathLike[str]]) -> AutoEncoder: ...
