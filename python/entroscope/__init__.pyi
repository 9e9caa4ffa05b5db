# Type stubs for entroscope (docs/python.md). The implementation is __init__.py + _entroscope.
import os
from typing import Any, Literal, Mapping, Sequence, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

from .errors import Error as Error
from .errors import InputError as InputError
from .errors import NonFiniteError as NonFiniteError
from .errors import NotFoundError as NotFoundError
from .errors import NumericError as NumericError

__version__: str

Text = str | Mapping[str, Any]  # a text, or {"text": ..., "id": ..., other fields carried through}

def load(model: str | os.PathLike[str], threads: int | None = None, offline: bool = False, device: str = "cpu") -> Model: ...

class Tokenizer:
    def encode(self, text: str) -> list[int]: ...
    def decode(self, ids: Sequence[int]) -> str: ...
    def token_text(self, token_id: int) -> str: ...

class Model:
    name: str
    family: str
    model_type: str
    parameters: int
    dtype: str
    path: str
    revision: str
    vocab_size: int
    context_length: int
    device: str
    resident_weight_bytes: int
    tokenizer: Tokenizer
    def metadata(self) -> dict[str, str]: ...
    @overload
    def score(self, texts: Text | Sequence[Text], unit: Literal["token", "word"] = "token", bos: str | int = "auto",
              format: Literal["pandas"] = "pandas", progress: bool | None = None) -> pd.DataFrame: ...
    @overload
    def score(self, texts: Text | Sequence[Text], unit: Literal["token", "word"] = "token", bos: str | int = "auto", *,
              format: Literal["numpy"], progress: bool | None = None) -> dict[str, np.ndarray]: ...
    @overload
    def score(self, texts: Text | Sequence[Text], unit: Literal["token", "word"] = "token", bos: str | int = "auto", *,
              format: Literal["dict"], progress: bool | None = None) -> dict[str, list[Any]]: ...
    @overload
    def forward(self, ids: npt.ArrayLike, hidden_states: Literal[False] = False) -> npt.NDArray[np.float32]: ...
    @overload
    def forward(self, ids: npt.ArrayLike,
                hidden_states: Literal[True]) -> tuple[npt.NDArray[np.float32], list[npt.NDArray[np.float32]]]: ...

def run(spec: str | os.PathLike[str] | Mapping[str, Any], out: str | os.PathLike[str] | None = None, force: bool = False,
        offline: bool = False, report: bool = True) -> pd.DataFrame: ...
def report(results: str | os.PathLike[str], out: str | os.PathLike[str] | None = None) -> str: ...
def doctor(model: str | os.PathLike[str], text: str | None = None, max_tokens: int = 128) -> dict[str, Any]: ...
