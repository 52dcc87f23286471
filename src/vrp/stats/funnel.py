"""Funnel-plot control limits for rates, so districts of very different size can be compared fairly."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import gammainc

from ._common import ArrayLike, to_float_array


def level_label(level: float) -> str:
    """Column-name form of a level: 0.95 -> "95", 0.998 -> "99_8"."""
    return f"{level * 100:g}".replace(".", "_")


def _solve_shape(target_p: float, mean: np.ndarray, iterations: int = 80) -> np.ndarray:
    """Vectorised bisection for s with P(s, mean) = target_p (P = regularised lower incomplete gamma).

    P(s, mean) falls as s rises, and for whole s equals P(Poisson(mean) >= s), so s is a continuous
    version of a Poisson quantile: the same smooth limits as the exact chi-squared intervals.
    """
    lo = np.full_like(mean, 1e-12)
    hi = mean + 12 * np.sqrt(mean) + 40
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        too_low = gammainc(mid, mean) > target_p  # s still too small
        lo = np.where(too_low, mid, lo)
        hi = np.where(too_low, hi, mid)
    return 0.5 * (lo + hi)


def funnel_limits(
    benchmark_rate: float,
    populations: ArrayLike,
    per: float = 100_000,
    levels: Sequence[float] = (0.95, 0.998),
) -> pd.DataFrame:
    """Exact Poisson funnel limits around a benchmark rate, one row per population size.

    For an area of population N the expected count is E = benchmark_rate * N / per; the upper limit is the
    count O whose exact lower confidence limit equals E, the lower limit the count whose exact upper
    limit equals E (the Fingertips funnel method, made continuous so the funnel is smooth).
    Columns: population, expected, benchmark, then lower_<L>/upper_<L> per level (e.g. lower_95,
    upper_99_8) as rates per `per`. Zero or missing populations give NaN limits.
    """
    pops = to_float_array(populations)
    scalar = pops.ndim == 0
    pops = np.atleast_1d(pops)
    if benchmark_rate is None or np.isnan(benchmark_rate) or benchmark_rate < 0:
        raise ValueError("benchmark_rate must be a non-negative number")
    valid = (pops > 0) & ~np.isnan(pops)
    safe = np.where(valid, pops, 1.0)
    expected = benchmark_rate * safe / per
    out = {
        "population": pops,
        "expected": np.where(valid, expected, np.nan),
        "benchmark": np.full(pops.shape, float(benchmark_rate)),
    }
    for level in levels:
        alpha = 1 - level
        if expected.size and benchmark_rate > 0:
            upper_count = _solve_shape(alpha / 2, expected)
            lower_count = np.maximum(_solve_shape(1 - alpha / 2, expected) - 1, 0.0)
        else:  # a zero benchmark: nothing is expected, limits collapse to zero
            upper_count = np.zeros_like(expected)
            lower_count = np.zeros_like(expected)
        label = level_label(level)
        out[f"lower_{label}"] = np.where(valid, lower_count * per / safe, np.nan)
        out[f"upper_{label}"] = np.where(valid, upper_count * per / safe, np.nan)
    index = populations.index if isinstance(populations, pd.Series) and not scalar else None
    return pd.DataFrame(out, index=index)


def funnel_position(
    count: ArrayLike,
    population: ArrayLike,
    benchmark_rate: float,
    per: float = 100_000,
    levels: Sequence[float] = (0.95, 0.998),
) -> pd.Series:
    """Where each area sits on the funnel: e.g. "above 99.8%", "above 95%", "within", "below 95%".

    An area is above a limit when its rate exceeds the upper limit for its population. Missing or zero
    populations give "not compared".
    """
    o = np.atleast_1d(to_float_array(count))
    limits = funnel_limits(benchmark_rate, population, per, levels)
    pops = limits["population"].to_numpy()
    o, pops = np.broadcast_arrays(o, pops)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(pops > 0, o * per / np.where(pops > 0, pops, 1), np.nan)
    result = np.full(rate.shape, "within", dtype=object)
    for level in sorted(levels):  # widest limits last so they win
        lab = level_label(level)
        pct = f"{level * 100:g}%"
        result = np.where(rate > limits[f"upper_{lab}"].to_numpy(), f"above {pct}", result)
        result = np.where(rate < limits[f"lower_{lab}"].to_numpy(), f"below {pct}", result)
    result = np.where(np.isnan(rate) | np.isnan(o), "not compared", result)
    index = count.index if isinstance(count, pd.Series) else None
    return pd.Series(result, index=index, name="funnel_position", dtype=object)
