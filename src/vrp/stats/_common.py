"""Small shared helpers: input coercion and z-values, so every method treats scalars/arrays/Series alike."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri

ArrayLike = Any  # scalar, sequence, numpy array or pandas Series


def z_value(level: float) -> float:
    """Two-sided standard normal quantile for a confidence level (0.95 -> 1.96)."""
    if not 0 < level < 1:
        raise ValueError(f"level must be strictly between 0 and 1, got {level!r}")
    return float(ndtri(1 - (1 - level) / 2))


def to_float_array(x: ArrayLike) -> np.ndarray:
    """Coerce to a float array; None/pd.NA become NaN so missing data flows through as missing."""
    if isinstance(x, pd.Series):
        return pd.to_numeric(x, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if x is None:
        return np.array(np.nan)
    arr = np.asarray(x, dtype=object) if not isinstance(x, np.ndarray) else x
    if arr.dtype == object:
        arr = np.array([np.nan if v is None or v is pd.NA else v for v in arr.ravel()], dtype=float).reshape(arr.shape)
    return arr.astype(float)


def restore(template: ArrayLike, values: np.ndarray, name: str | None = None) -> Any:
    """Give results the shape the caller passed in: float for scalars, Series (same index) for Series."""
    if isinstance(template, pd.Series):
        return pd.Series(values, index=template.index, name=name)
    if np.ndim(template) == 0 and np.ndim(values) == 0:
        return float(values) if values.dtype.kind == "f" else values.item()
    return values


def first_series(*args: ArrayLike) -> ArrayLike:
    """The first pandas Series among the inputs (its index is reused for outputs), else the first arg."""
    for a in args:
        if isinstance(a, pd.Series):
            return a
    for a in args:
        if np.ndim(a) > 0:
            return a
    return args[0]
