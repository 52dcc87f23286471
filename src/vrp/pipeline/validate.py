"""Vectorised field checks. Each returns the parsed values and a Series of reasons ('' where the value is good).

Reasons are collected per row and joined, so a quarantined row says everything wrong with it at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_FIELD_CHARS = 1000


class Reasons:
    """Accumulates reasons per row: ``add(mask, text)`` marks rows where ``mask`` holds."""

    def __init__(self, index: pd.Index):
        self._parts: list[pd.Series] = []
        self.index = index

    def add(self, mask: pd.Series | np.ndarray, text: str | pd.Series) -> None:
        mask = pd.Series(np.asarray(mask, dtype=bool), index=self.index)
        if not mask.any():
            return
        if isinstance(text, str):
            text = pd.Series(text, index=self.index)
        self._parts.append(text.where(mask, ""))

    def joined(self) -> pd.Series:
        out = pd.Series("", index=self.index, dtype=object)
        for part in self._parts:  # column-wise: a row-wise apply is far too slow on a million rows
            part = part.astype(object)
            out = out.where(part == "", out.where(out == "", out + "; ") + part)
        return out


def check_lengths(frame: pd.DataFrame, reasons: Reasons, columns: list[str]) -> None:
    for c in columns:
        length = frame[c].str.len()
        reasons.add(length > MAX_FIELD_CHARS, f"{c} is longer than {MAX_FIELD_CHARS} characters")


def _blank(s: pd.Series) -> pd.Series:
    return s.str.strip() == ""


def _show(s: pd.Series) -> pd.Series:
    return "'" + s.str.slice(0, 40) + "'"


def parse_date(
    frame,
    col,
    reasons: Reasons,
    *,
    required=True,
    fmt="%Y-%m-%d",
    pattern=r"\d{4}-\d{2}-\d{2}",
    expected="YYYY-MM-DD",
) -> pd.Series:
    s = frame[col].str.strip()
    shaped = s.str.fullmatch(pattern)
    parsed = pd.to_datetime(s.where(shaped), format=fmt, errors="coerce")
    blank = _blank(s)
    if required:
        reasons.add(blank, f"{col} is missing")
    reasons.add(~blank & parsed.isna(), f"{col}: unparseable date " + _show(s) + f" (expected {expected})")
    return parsed


def parse_month(frame, col, reasons: Reasons) -> pd.Series:
    return parse_date(frame, col, reasons, fmt="%Y-%m", pattern=r"\d{4}-\d{2}", expected="YYYY-MM")


def parse_datetime(frame, col, reasons: Reasons) -> pd.Series:
    """Optional date-time: ``YYYY-MM-DDTHH:MM[:SS]`` or with a space; blank means not known."""
    s = frame[col].str.strip().str.replace(" ", "T", n=1, regex=False)
    shaped = s.str.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?")
    parsed = pd.to_datetime(s.where(shaped), format="ISO8601", errors="coerce")
    blank = _blank(s)
    reasons.add(
        ~blank & parsed.isna(),
        f"{col}: unparseable date-time " + _show(frame[col]) + " (expected YYYY-MM-DDTHH:MM)",
    )
    return parsed


def parse_int(frame, col, reasons: Reasons, *, required=True, lo=None, hi=None) -> pd.Series:
    s = frame[col].str.strip()
    blank = _blank(s)
    shaped = s.str.fullmatch(r"[+-]?\d{1,9}")
    values = pd.to_numeric(s.where(shaped), errors="coerce")
    if required:
        reasons.add(blank, f"{col} is missing")
    reasons.add(~blank & ~shaped, f"{col}: not a whole number " + _show(s))
    if lo is not None or hi is not None:
        lo_ = -np.inf if lo is None else lo
        hi_ = np.inf if hi is None else hi
        out = shaped & ((values < lo_) | (values > hi_))
        reasons.add(out, f"{col}: " + s + f" is out of range ({lo}-{hi})")
        values = values.where(~out)
    return values.astype("Int64")


def parse_float(frame, col, reasons: Reasons, *, required=True) -> pd.Series:
    s = frame[col].str.strip()
    blank = _blank(s)
    values = pd.to_numeric(s.where(~blank), errors="coerce")
    if required:
        reasons.add(blank, f"{col} is missing")
    reasons.add(~blank & values.isna(), f"{col}: not a number " + _show(s))
    return values


TRUE = {"y", "yes", "true", "t", "1"}
FALSE = {"n", "no", "false", "f", "0"}


def parse_flag(frame, col, reasons: Reasons, *, required=True) -> pd.Series:
    s = frame[col].str.strip().str.lower()
    blank = s == ""
    is_true = s.isin(TRUE)
    is_false = s.isin(FALSE)
    if required:
        reasons.add(blank, f"{col} is missing")
    reasons.add(~blank & ~is_true & ~is_false, f"{col}: not Y or N " + _show(frame[col]))
    return is_true


def parse_choice(frame, col, reasons: Reasons, allowed: dict[str, str], *, label: str | None = None) -> pd.Series:
    """Map case-insensitive spellings onto canonical values; anything else is a reason."""
    s = frame[col].str.strip().str.lower()
    mapped = s.map(allowed)
    reasons.add(mapped.isna(), f"{col}: unknown {label or 'value'} " + _show(frame[col]))
    return mapped


def age_band(age: pd.Series) -> pd.Series:
    """The mart's age bands: under 18, 18-24, 25 and over, unknown."""
    out = pd.Series("unknown", index=age.index, dtype=object)
    known = age.notna()
    a = age.astype("Float64")
    out[known & (a < 18)] = "u18"
    out[known & (a >= 18) & (a < 25)] = "18_24"
    out[known & (a >= 25)] = "25plus"
    return out
