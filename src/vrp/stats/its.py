"""Interrupted time series by segmented Poisson regression, for judging whether an intervention in a place
changed the level or trend of harm (Bernal, Cummins & Gasparrini 2017)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ._common import ArrayLike, to_float_array

MIN_POINTS_EACH_SIDE = 3


@dataclass(frozen=True)
class Effect:
    """A multiplicative effect: rate ratio with its confidence interval and p-value."""

    rate_ratio: float
    lower: float
    upper: float
    p_value: float


@dataclass
class ITSResult:
    """Segmented regression output; effects are None and `reason` set when the model could not be fitted.

    `level_change`: immediate step at the intervention (rate ratio). `slope_change`: change in the trend per
    period after it (ratio of per-period growth). `pre_trend`: per-period growth before it.
    `series`: DataFrame indexed like the input with columns observed, population, post (bool), fitted,
    counterfactual, counterfactual_lower, counterfactual_upper (expected counts with no intervention,
    with its interval at `level`).
    `dispersion`: Pearson chi-squared / residual df (above 1 means overdispersed).
    """

    level_change: Effect | None
    slope_change: Effect | None
    pre_trend: Effect | None
    series: pd.DataFrame | None
    dispersion: float | None
    n_pre: int
    n_post: int
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def fitted(self) -> bool:
        return self.reason is None


def _period_of(index: pd.Index | None, period: int | None) -> int:
    if period is not None:
        return int(period)
    if isinstance(index, pd.DatetimeIndex | pd.PeriodIndex):
        freq = index.freqstr or (pd.infer_freq(index) if len(index) >= 3 else None)
        if freq:
            f = freq.upper()
            if f.startswith("W"):
                return 52
            if f.startswith("Q"):
                return 4
            if f.startswith("D"):
                return 7
            if f.startswith(("A", "Y")):
                return 1
    return 12


def its(
    counts: ArrayLike,
    intervention_start: Any,
    population: ArrayLike | None = None,
    seasonal: bool = True,
    *,
    period: int | None = None,
    harmonics: int = 2,
    errors: Literal["quasi", "hac"] = "quasi",
    level: float = 0.95,
) -> ITSResult:
    """Segmented Poisson regression: log E[count] = b0 + b1 t + b2 post + b3 (t - t0) post + Fourier terms
    + log(population).

    `intervention_start` is the first post-intervention period: an index label of a Series (e.g. a date)
    or an integer position. Seasonality uses `harmonics` sine/cosine pairs of `period` (inferred from a
    date index: 12 monthly, 52 weekly, 4 quarterly). Errors are quasi-Poisson (scaled by Pearson
    dispersion) or, with errors="hac", Newey-West robust to overdispersion and autocorrelation.
    Needs 3+ points each side; otherwise returns a result with a `reason` and no effects.
    """
    import statsmodels.api as sm

    index = counts.index if isinstance(counts, pd.Series) else None
    y = np.atleast_1d(to_float_array(counts)).astype(float)
    n = y.size
    if index is None:
        index = pd.RangeIndex(n)
    positional = isinstance(intervention_start, int | np.integer) and (
        isinstance(index, pd.RangeIndex) or intervention_start not in index
    )
    if positional:
        t0 = int(intervention_start)
    else:
        key = pd.Timestamp(intervention_start) if isinstance(index, pd.DatetimeIndex) else intervention_start
        try:
            # first period at or after the start, so a date inside a month's span still works
            ordered = isinstance(index, pd.DatetimeIndex | pd.PeriodIndex) and index.is_monotonic_increasing
            t0 = int(index.searchsorted(key)) if ordered else int(index.get_loc(key))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"intervention_start {intervention_start!r} not found in the series index") from exc
    n_pre, n_post = t0, n - t0

    def fail(reason: str) -> ITSResult:
        return ITSResult(None, None, None, None, None, max(n_pre, 0), max(n_post, 0), reason)

    if n_pre < MIN_POINTS_EACH_SIDE or n_post < MIN_POINTS_EACH_SIDE:
        return fail(f"needs at least {MIN_POINTS_EACH_SIDE} periods before and after the intervention")
    if population is None:
        pop = np.ones(n)
    else:
        pop = np.atleast_1d(to_float_array(population)).astype(float)
        pop = np.broadcast_to(pop, (n,)).copy()
    usable = ~np.isnan(y) & ~np.isnan(pop) & (pop > 0)
    if np.any(y[usable] < 0):
        raise ValueError("counts must not be negative")
    if usable.sum() < n:
        warnings.warn(f"{n - usable.sum()} periods with missing count or population are left out", stacklevel=2)
    if y[usable].sum() == 0:
        return fail("no events in the series")

    t = np.arange(n, dtype=float)
    post = (t >= t0).astype(float)
    since = np.where(post > 0, t - t0, 0.0)
    cols = {"const": np.ones(n), "time": t, "post": post, "time_since": since}
    per = _period_of(index if not isinstance(index, pd.RangeIndex) else None, period)
    if seasonal and per > 1:
        for h in range(1, max(0, harmonics) + 1):
            if 2 * h > per:
                break
            cols[f"sin{h}"] = np.sin(2 * np.pi * h * t / per)
            if 2 * h < per:
                cols[f"cos{h}"] = np.cos(2 * np.pi * h * t / per)
    x = pd.DataFrame(cols)
    offset = np.log(pop)
    if usable.sum() <= x.shape[1] + 1:
        return fail(f"too few periods ({int(usable.sum())}) for {x.shape[1]} model terms")

    model = sm.GLM(y[usable], x[usable], family=sm.families.Poisson(), offset=offset[usable])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if errors == "hac":
                maxlags = max(1, int(np.floor(4 * (usable.sum() / 100) ** (2 / 9))))
                res = model.fit(cov_type="HAC", cov_kwds={"maxlags": maxlags})
            elif errors == "quasi":
                res = model.fit(scale="X2")
            else:
                raise ValueError("errors must be 'quasi' or 'hac'")
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        if "errors must be" in str(exc):
            raise
        return fail(f"model did not fit: {exc}")
    params, cov = res.params, res.cov_params()
    dispersion = float(res.pearson_chi2 / res.df_resid) if res.df_resid > 0 else None
    zc = stats.norm.ppf(1 - (1 - level) / 2)

    def effect(name: str) -> Effect:
        b, se = float(params[name]), float(np.sqrt(cov.loc[name, name]))
        p = float(2 * stats.norm.sf(abs(b / se))) if se > 0 else float("nan")
        return Effect(float(np.exp(b)), float(np.exp(b - zc * se)), float(np.exp(b + zc * se)), p)

    x_cf = x.copy()
    x_cf["post"] = 0.0
    x_cf["time_since"] = 0.0
    beta = params.to_numpy()
    v = cov.to_numpy()
    eta_cf = x_cf.to_numpy() @ beta + offset
    se_cf = np.sqrt(np.einsum("ij,jk,ik->i", x_cf.to_numpy(), v, x_cf.to_numpy()))
    series = pd.DataFrame(
        {
            "observed": y,
            "population": pop if population is not None else np.nan,
            "post": post.astype(bool),
            "fitted": np.exp(x.to_numpy() @ beta + offset),
            "counterfactual": np.exp(eta_cf),
            "counterfactual_lower": np.exp(eta_cf - zc * se_cf),
            "counterfactual_upper": np.exp(eta_cf + zc * se_cf),
        },
        index=index,
    )
    return ITSResult(
        level_change=effect("post"),
        slope_change=effect("time_since"),
        pre_trend=effect("time"),
        series=series,
        dispersion=dispersion,
        n_pre=n_pre,
        n_post=n_post,
        reason=None,
        details={"terms": list(x.columns), "period": per, "errors": errors, "aic": float(res.aic)},
    )
