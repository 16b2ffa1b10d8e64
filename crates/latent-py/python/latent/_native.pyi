"""Type stubs of latent._native, the Rust extension (see latent/__init__.py)."""

from os import PathLike
from typing import Any, Dict, List, Optional, Sequence, Tuple, TypedDict, Union

import numpy as np
import numpy.typing as npt

__version__: str

# Rows: (C-contiguous float32 array, column names or []) or [(name, float32 array | texts)].
_Data = Union[
    Tuple[npt.NDArray[np.float32], List[str]],
    List[Tuple[str, Union[npt.NDArray[np.float32], List[str]]]],
]
_Columns = List[Tuple[str, Union[npt.NDArray[np.float32], List[str]]]]


class _Params(TypedDict, total=False):
    """Network and training parameters (None: the preset's value); built by
    latent._common._network_params."""

    hidden: Optional[List[int]]
    latent: Optional[int]
    epochs: Optional[int]
    batch_size: Optional[int]
    lr: Optional[float]
    seed: Optional[int]
    contamination: Optional[float]
    dropout: Optional[float]
    weight_decay: Optional[float]
    activation: Optional[str]
    code_activation: Optional[str]
    code_dropout: bool

class _RecParams(TypedDict, total=False):
    """A recommender's parameters (None: the library's default); built by Recommender.fit."""

    hidden: Optional[int]
    latent: Optional[int]
    dropout: Optional[float]
    beta: Optional[float]
    lambdas: Optional[List[float]]
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

def presets() -> List[str]: ...

class Model:
    """A trained latent model (the .safetensors file of the `latent` program)."""

    @staticmethod
    def fit(
        data: _Data,
        params: _Params,
        *,
        preset: str = ...,
        verbose: int = ...,
        quant_step: Optional[float] = ...,
    ) -> Tuple["Model", npt.NDArray[np.float32]]: ...
    @staticmethod
    def load(path: Union[str, PathLike[str]]) -> "Model": ...
    @staticmethod
    def from_bytes(data: bytes) -> "Model": ...
    def save(self, path: Union[str, PathLike[str]]) -> None: ...
    def to_bytes(self) -> bytes: ...
    def score(self, data: _Data) -> npt.NDArray[np.float32]: ...
    def flags(self, scores: npt.NDArray[np.float32]) -> npt.NDArray[np.int64]: ...
    def proba(self, scores: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...
    def encode(self, data: _Data) -> npt.NDArray[np.float32]: ...
    def decode(self, codes: npt.NDArray[np.float32]) -> _Columns: ...
    def reconstruct(self, data: _Data) -> _Columns: ...
    def explain(self, data: _Data, k: int) -> List[List[Tuple[str, float]]]: ...
    def history(self) -> Dict[str, List[Any]]: ...
    def compress(self, data: _Data, block_rows: int = ...) -> bytes: ...
    def decompress(self, data: bytes) -> _Columns: ...
    def decompress_codes(self, data: bytes) -> npt.NDArray[np.int32]: ...
    def series(self) -> Optional[Dict[str, Any]]: ...
    @property
    def has_codec(self) -> bool: ...
    @property
    def threshold(self) -> Optional[float]: ...
    @property
    def score_kind(self) -> str: ...
    @property
    def input_names(self) -> List[str]: ...
    @property
    def categorical_names(self) -> List[str]: ...
    @property
    def code_width(self) -> int: ...
    @property
    def layer_widths(self) -> List[int]: ...

def fit_series(
    data: _Data,
    params: _Params,
    *,
    window: int,
    stride: int = ...,
    time_column: Optional[str] = ...,
    preset: str = ...,
    verbose: int = ...,
) -> Tuple[Model, npt.NDArray[np.float32]]: ...
def score_series(model: Model, data: _Data) -> npt.NDArray[np.float32]: ...

class Interactions:
    """Positive interactions: users, items and (user, item) pairs."""

    @staticmethod
    def from_ids(
        users: List[str],
        items: List[str],
        ratings: Optional[npt.NDArray[np.float64]] = ...,
        min_rating: Optional[float] = ...,
    ) -> "Interactions": ...
    @staticmethod
    def from_csr(
        rows: int,
        cols: int,
        indptr: npt.NDArray[np.int64],
        indices: npt.NDArray[np.int64],
        data: npt.NDArray[np.float32],
        min_rating: Optional[float] = ...,
    ) -> "Interactions": ...
    @property
    def users(self) -> List[str]: ...
    @property
    def items(self) -> List[str]: ...
    def __len__(self) -> int: ...

class RecModel:
    """A trained recommender (the .safetensors file of `latent train --preset mult-vae`)."""

    @staticmethod
    def fit(
        data: Interactions,
        params: _RecParams,
        *,
        model: str = ...,
        user: Optional[str] = ...,
        item: Optional[str] = ...,
        rating: Optional[str] = ...,
        min_rating: Optional[float] = ...,
        verbose: int = ...,
    ) -> "RecModel": ...
    @staticmethod
    def load(path: Union[str, PathLike[str]]) -> "RecModel": ...
    @staticmethod
    def is_recommender(path: Union[str, PathLike[str]]) -> bool: ...
    @staticmethod
    def from_bytes(data: bytes) -> "RecModel": ...
    def save(self, path: Union[str, PathLike[str]]) -> None: ...
    def to_bytes(self) -> bytes: ...
    def recommend(
        self, data: Interactions, k: int, exclude_seen: bool
    ) -> Tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], int]: ...
    def score_items(self, data: Interactions) -> Tuple[npt.NDArray[np.float32], int]: ...
    def columns(self) -> Dict[str, Any]: ...
    def history(self) -> Dict[str, Any]: ...
    @property
    def items(self) -> List[str]: ...
    @property
    def kind(self) -> str: ...
