"""Crude rates, proportions, age-standardised rates and benchmark comparison, following the PHE/OHID
Fingertips technical guidance so figures match what analysts in the field publish."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ._common import ArrayLike, first_series, restore, to_float_array, z_value

Polarity = Literal["lower_is_better", "higher_is_better", "neutral"]
_POLARITY_ALIASES = {
    "lower_is_better": "lower_is_better",
    "low": "lower_is_better",
    "lower": "lower_is_better",
    "higher_is_better": "higher_is_better",
    "high": "higher_is_better",
    "higher": "higher_is_better",
    "neutral": "neutral",
    "none": "neutral",
    "no_polarity": "neutral",
    None: "neutral",
}

#: Counts below this use the exact Poisson interval; Byar's approximation from here up (PHE guidance).
BYAR_THRESHOLD = 10
#: A directly standardised rate is not published below this many events (PHE guidance).
DSR_MIN_EVENTS = 10


def normalise_polarity(polarity: str | None) -> str:
    """Map the accepted spellings of a measure's polarity onto the three canonical ones."""
    key = polarity.lower() if isinstance(polarity, str) else polarity
    if key not in _POLARITY_ALIASES:
        raise ValueError(f"polarity must be one of lower_is_better, higher_is_better, neutral; got {polarity!r}")
    return _POLARITY_ALIASES[key]


def poisson_count_limits(count: ArrayLike, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Confidence limits for a Poisson count: exact (chi-squared) below 10, Byar's from 10 (PHE guidance).

    Exact: lower = chi2(a/2, 2O)/2, upper = chi2(1-a/2, 2O+2)/2; a count of 0 has lower limit 0.
    Byar: lower = O(1 - 1/(9O) - z/(3 sqrt O))^3, upper = (O+1)(1 - 1/(9(O+1)) + z/(3 sqrt(O+1)))^3.
    """
    o = to_float_array(count)
    if np.any(o < 0):
        raise ValueError("counts must not be negative")
    alpha = 1 - level
    z = z_value(level)
    with np.errstate(invalid="ignore", divide="ignore"):
        exact_lo = np.where(o > 0, stats.chi2.ppf(alpha / 2, 2 * np.where(o > 0, o, 1)) / 2, 0.0)
        exact_hi = stats.chi2.ppf(1 - alpha / 2, 2 * o + 2) / 2
        byar_lo = o * (1 - 1 / (9 * o) - z / (3 * np.sqrt(o))) ** 3
        o1 = o + 1
        byar_hi = o1 * (1 - 1 / (9 * o1) + z / (3 * np.sqrt(o1))) ** 3
    small = o < BYAR_THRESHOLD
    lower = np.where(small, exact_lo, byar_lo)
    upper = np.where(small, exact_hi, byar_hi)
    missing = np.isnan(o)
    lower = np.where(missing, np.nan, lower)
    upper = np.where(missing, np.nan, upper)
    return lower, upper


def rate_ci(count: ArrayLike, population: ArrayLike, per: float = 100_000, level: float = 0.95) -> tuple[Any, Any, Any]:
    """Crude rate per `per` with its confidence interval (Byar's from 10 events, exact Poisson below).

    Vectorised: scalars give floats, arrays give arrays, Series give Series on the first Series' index.
    A zero or missing population gives NaN for all three (the rate is undefined, not zero); a zero count
    gives rate 0, lower 0 and a positive upper limit.
    """
    o = to_float_array(count)
    n = to_float_array(population)
    if np.any(n < 0):
        raise ValueError("populations must not be negative")
    o, n = np.broadcast_arrays(o, n)
    lower_c, upper_c = poisson_count_limits(o, level)
    valid = (n > 0) & ~np.isnan(n) & ~np.isnan(o)
    safe_n = np.where(valid, n, 1.0)
    factor = np.where(valid, per / safe_n, np.nan)
    template = first_series(count, population)
    return (
        restore(template, o * factor, "rate"),
        restore(template, lower_c * factor, "lower"),
        restore(template, upper_c * factor, "upper"),
    )


def proportion_ci(k: ArrayLike, n: ArrayLike, level: float = 0.95) -> tuple[Any, Any, Any]:
    """Proportion k/n with the Wilson score interval (PHE's method: stays inside [0, 1] at 0 and n)."""
    k_ = to_float_array(k)
    n_ = to_float_array(n)
    k_, n_ = np.broadcast_arrays(k_, n_)
    if np.any(k_ < 0) or np.any(n_ < 0):
        raise ValueError("k and n must not be negative")
    if np.any(k_ > n_):
        raise ValueError("k must not exceed n")
    z = z_value(level)
    valid = (n_ > 0) & ~np.isnan(n_) & ~np.isnan(k_)
    nn = np.where(valid, n_, 1.0)
    kk = np.where(valid, k_, 0.0)
    p = kk / nn
    centre = 2 * kk + z**2
    spread = z * np.sqrt(z**2 + 4 * kk * (1 - p))
    denom = 2 * (nn + z**2)
    # Wilson always contains p; min/max only absorbs floating-point rounding at k = 0 and k = n
    lower = np.clip(np.minimum((centre - spread) / denom, p), 0.0, 1.0)
    upper = np.clip(np.maximum((centre + spread) / denom, p), 0.0, 1.0)
    nan = np.nan
    template = first_series(k, n)
    return (
        restore(template, np.where(valid, p, nan), "proportion"),
        restore(template, np.where(valid, lower, nan), "lower"),
        restore(template, np.where(valid, upper, nan), "upper"),
    )


@lru_cache(maxsize=1)
def _esp_table() -> pd.DataFrame:
    with resources.files("vrp.stats").joinpath("data/esp2013.csv").open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype={"age_band": str})


def european_standard_population() -> pd.DataFrame:
    """The 2013 European Standard Population in 19 five-year bands (0-4 ... 90+), summing to 100,000."""
    return _esp_table().copy()


@dataclass(frozen=True)
class DSRResult:
    """A directly standardised rate; `value`, `lower`, `upper` are None when `reason` says why not."""

    value: float | None
    lower: float | None
    upper: float | None
    count: float
    population: float
    reason: str | None = None

    @property
    def computed(self) -> bool:
        return self.reason is None


def dsr(
    counts: ArrayLike,
    populations: ArrayLike,
    standard: str | ArrayLike = "esp2013",
    per: float = 100_000,
    level: float = 0.95,
) -> DSRResult:
    """Directly age-standardised rate with Dobson's interval, as in the PHE guidance.

    `counts` and `populations` are per age band in the order of the standard (for "esp2013": 0-4, 5-9, ...,
    90+). Missing counts are taken as 0 (no events recorded). Not computed (None plus a reason) below 10
    events, or when a band with events has no population.
    """
    o = to_float_array(counts).ravel()
    n = to_float_array(populations).ravel()
    if isinstance(standard, str):
        if standard.lower() not in {"esp2013", "esp"}:
            raise ValueError(f"unknown standard population {standard!r}; pass 'esp2013' or the weights")
        w = _esp_table()["weight"].to_numpy(dtype=float)
    else:
        w = to_float_array(standard).ravel()
    if not (len(o) == len(n) == len(w)):
        raise ValueError(f"counts ({len(o)}), populations ({len(n)}) and standard ({len(w)}) differ in length")
    if np.any(o < 0) or np.any(n < 0) or np.any(w < 0):
        raise ValueError("counts, populations and standard weights must not be negative")
    o = np.nan_to_num(o, nan=0.0)
    total = float(o.sum())
    pop_total = float(np.nansum(n))

    def _none(reason: str) -> DSRResult:
        return DSRResult(None, None, None, total, pop_total, reason)

    if total < DSR_MIN_EVENTS:
        return _none(f"fewer than {DSR_MIN_EVENTS} events ({total:g}): a standardised rate is not reliable")
    if np.any(np.isnan(n)):
        return _none("population missing for at least one age band")
    if np.any((n == 0) & (o > 0)):
        return _none("events recorded in an age band with zero population")
    safe_n = np.where(n > 0, n, 1.0)
    wsum = w.sum()
    value = float(np.sum(w * o / safe_n) / wsum)
    var = float(np.sum((w / safe_n) ** 2 * o) / wsum**2)
    lo_c, hi_c = poisson_count_limits(total, level)
    scale = np.sqrt(var / total)
    lower = value + scale * (float(lo_c) - total)
    upper = value + scale * (float(hi_c) - total)
    return DSRResult(value * per, lower * per, upper * per, total, pop_total, None)


def compare(lower: ArrayLike, upper: ArrayLike, benchmark: ArrayLike, polarity: str | None) -> Any:
    """RAG-style comparison with a benchmark, as Fingertips does: "similar" if the benchmark lies inside the
    interval, else "better"/"worse" by the measure's polarity. Missing inputs give "not compared".

    For a neutral measure (no better direction) a significant difference is "higher" or "lower".
    """
    pol = normalise_polarity(polarity)
    lo = to_float_array(lower)
    hi = to_float_array(upper)
    b = to_float_array(benchmark)
    lo, hi, b = np.broadcast_arrays(lo, hi, b)
    missing = np.isnan(lo) | np.isnan(hi) | np.isnan(b)
    above = lo > b  # the whole interval is above the benchmark
    below = hi < b
    if pol == "lower_is_better":
        high_word, low_word = "worse", "better"
    elif pol == "higher_is_better":
        high_word, low_word = "better", "worse"
    else:
        high_word, low_word = "higher", "lower"
    out = np.where(missing, "not compared", np.where(above, high_word, np.where(below, low_word, "similar")))
    out = out.astype(object)
    template = first_series(lower, upper, benchmark)
    if isinstance(template, pd.Series):
        return pd.Series(out, index=template.index, name="comparison")
    if np.ndim(out) == 0:
        return str(out.item())
    return out


@dataclass(frozen=True)
class ChangeResult:
    """Change between two periods' counts, with an exact test that the underlying Poisson rates differ."""

    current: float
    previous: float
    absolute: float
    percent: float | None  # None when the previous count is 0 (percentage change undefined)
    rate_ratio: float | None  # current rate / previous rate; None when previous is 0
    ratio_lower: float | None
    ratio_upper: float | None
    p_value: float
    significant: bool
    level: float


def change(
    current: float,
    previous: float,
    current_exposure: float = 1.0,
    previous_exposure: float = 1.0,
    level: float = 0.95,
) -> ChangeResult:
    """Absolute and percentage change, and whether the two Poisson counts differ.

    The test is the exact conditional test: given the total, the current count is binomial with
    p = e1 / (e1 + e2) under "no change in rate" (exposures e default to equal periods). The rate ratio's
    interval comes from the exact (Clopper-Pearson) interval for that binomial proportion.
    """
    c, p = float(current), float(previous)
    if c < 0 or p < 0 or np.isnan(c) or np.isnan(p):
        raise ValueError("counts must be non-negative numbers")
    if current_exposure <= 0 or previous_exposure <= 0:
        raise ValueError("exposures must be positive")
    absolute = c - p
    percent = None if p == 0 else 100.0 * absolute / p
    total = c + p
    share = current_exposure / (current_exposure + previous_exposure)
    exposure_ratio = previous_exposure / current_exposure
    if total == 0:
        return ChangeResult(c, p, 0.0, None, None, None, None, 1.0, False, level)
    ci, ti = int(round(c)), int(round(total))
    test = stats.binomtest(ci, ti, share, alternative="two-sided")
    pv = float(test.pvalue)
    # Clopper-Pearson in closed form (beta quantiles): the same interval as
    # test.proportion_ci(method="exact"), which finds it by root-finding and takes 30 times as long.
    alpha = 1 - level
    ci_low = 0.0 if ci == 0 else float(stats.beta.ppf(alpha / 2, ci, ti - ci + 1))
    ci_high = 1.0 if ci == ti else float(stats.beta.ppf(1 - alpha / 2, ci + 1, ti - ci))

    def _ratio(q: float) -> float | None:
        if q >= 1:
            return None if q > 1 else float("inf")
        return q / (1 - q) * exposure_ratio

    rr = None if p == 0 else (c / current_exposure) / (p / previous_exposure)
    return ChangeResult(
        current=c,
        previous=p,
        absolute=absolute,
        percent=percent,
        rate_ratio=rr,
        ratio_lower=_ratio(ci_low),
        ratio_upper=_ratio(ci_high),
        p_value=min(1.0, pv),
        significant=bool(pv < 1 - level),
        level=level,
    )
