"""Interrupted time series by segmented Poisson regression, for judging whether an intervention in a place
changed the level or trend of harm (Bernal, Cummins & Gasparrini 2017)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special, stats

from ._common import ArrayLike, to_float_array, z_value

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


# ---- The default evaluation model (docs/METHODS.md#interrupted-time-series) ------------------------------------
# Monthly counts y_t, t = 0, 1, ... from the period's start; T0 the start month's index. Covariates: intercept, t,
# step = [t >= T0], after = (t - T0) from T0 (0 before), 11 month-of-year indicators (January the reference).
# Poisson GLM, log link; quasi-Poisson scale = Pearson chi2 / residual df; 95% normal intervals on the log scale.
# A phase-in of p months leaves months T0 .. T0+p-1 out of the fit and measures step and after from T0+p.

FAMILIES = ("poisson", "negbin")
ERRORS = ("quasi", "newey-west")


@dataclass(frozen=True)
class Ratio:
    """A ratio exp(b) with its interval and two-sided p-value (normal, on the log scale)."""

    ratio: float
    lower: float
    upper: float
    p_value: float

    def as_dict(self) -> dict[str, float]:
        return {"ratio": self.ratio, "lower": self.lower, "upper": self.upper, "p_value": self.p_value}


@dataclass
class Evaluation:
    """The default model's answer. ``level``: exp(b_step); ``trend``: exp(12 b_after), the change in the yearly
    trend; ``pre_trend``: exp(12 b_t). ``series``: one row a month with month, observed, phase (before, phase-in,
    after), fitted, counterfactual, cf_lower, cf_upper (the expected counts with no intervention, with its band).
    ``dispersion``: Pearson chi2 / df; ``autocorrelation``: lag-1 autocorrelation of the Pearson residuals, with
    ``autocorrelation_p`` its Breusch-Godfrey test."""

    level: Ratio
    trend: Ratio
    pre_trend: Ratio
    series: pd.DataFrame
    dispersion: float
    autocorrelation: float
    autocorrelation_p: float
    n_before: int
    n_after: int
    n_phase_in: int
    terms: list[str]
    options: dict[str, Any]
    did_level: Ratio | None = None
    did_trend: Ratio | None = None


def month_design(months, start_index: int, phase_in: int = 0) -> tuple[np.ndarray, list[str], np.ndarray]:
    """The design matrix of the default model, its column names and the mask of months used in the fit (phase-in
    months are left out). ``months``: the month of each row (anything pandas reads as dates)."""
    moy = pd.DatetimeIndex(pd.to_datetime(months)).month.to_numpy()
    n = moy.size
    t = np.arange(n, dtype=float)
    t1 = start_index + phase_in
    step = (t >= t1).astype(float)
    after = np.where(t >= t1, t - t1, 0.0)
    cols = [np.ones(n), t, step, after] + [(moy == m).astype(float) for m in range(2, 13)]
    names = ["intercept", "t", "step", "after"] + [f"month_{m:02d}" for m in range(2, 13)]
    used = ~((t >= start_index) & (t < t1))
    return np.column_stack(cols), names, used


def irls_poisson(x: np.ndarray, y: np.ndarray, offset: np.ndarray, used: np.ndarray, iterations: int = 30):
    """Poisson GLM (log link) fitted by iteratively reweighted least squares to many series at once: ``y`` is
    (series, months) and shares the design ``x`` (months, terms). Returns beta (series, terms), mu (series, months)
    and the inverse information (series, terms, terms). Rows outside ``used`` get weight 0."""
    y = np.atleast_2d(np.asarray(y, dtype=float))
    mask = used.astype(float)[None, :] * np.isfinite(y)
    y0 = np.where(np.isfinite(y), y, 0.0)
    mean = (y0 * mask).sum(1) / np.maximum(mask.sum(1), 1) / np.exp(offset[used]).mean()
    beta = np.zeros((y.shape[0], x.shape[1]))
    beta[:, 0] = np.log(np.maximum(mean, 1e-3))
    k = x.shape[1]
    outer = (x[:, :, None] * x[:, None, :]).reshape(x.shape[0], k * k)  # so each X'WX is one matrix product
    for _ in range(iterations):
        eta = np.clip(x @ beta.T, -30, 30).T + offset
        mu = np.exp(eta)
        z = eta - offset + (y0 - mu) / mu
        w = mu * mask
        info = (w @ outer).reshape(-1, k, k)
        new = np.linalg.solve(info + 1e-10 * np.eye(k), ((w * z) @ x)[..., None])[..., 0]
        done = np.max(np.abs(new - beta)) < 1e-9
        beta = new
        if done:
            break
    mu = np.exp(np.clip(x @ beta.T, -30, 30).T + offset)
    info = ((mu * mask) @ outer).reshape(-1, k, k)
    return beta, mu, np.linalg.inv(info + 1e-10 * np.eye(k)), mask


def pearson_scale(y: np.ndarray, mu: np.ndarray, mask: np.ndarray, n_terms: int) -> np.ndarray:
    """Pearson chi-squared over the residual degrees of freedom, per series."""
    y0 = np.where(np.isfinite(y), y, 0.0)
    chi2 = (((y0 - mu) ** 2 / mu) * mask).sum(-1)
    return chi2 / np.maximum(mask.sum(-1) - n_terms, 1)


def newey_west(x: np.ndarray, y: np.ndarray, mu: np.ndarray, bread: np.ndarray, used: np.ndarray, lags: int):
    """Newey-West (Bartlett kernel) covariance for a Poisson GLM: bread x meat x bread, with the scores of the
    months used, in time order (statsmodels' GLM HAC without small-sample correction)."""
    scores = x[used] * (y[used] - mu[used])[:, None]
    meat = scores.T @ scores
    for lag in range(1, lags + 1):
        gamma = scores[lag:].T @ scores[:-lag]
        meat += (1 - lag / (lags + 1)) * (gamma + gamma.T)
    return bread @ meat @ bread


def _ratio(b: float, se: float, times: float, z: float) -> Ratio:
    p = float(2 * special.ndtr(-abs(b / se))) if se > 0 else float("nan")
    return Ratio(float(np.exp(times * b)), float(np.exp(times * (b - z * se))), float(np.exp(times * (b + z * se))), p)


def autocorrelation_test(residuals: np.ndarray, weighted_x: np.ndarray) -> tuple[float, float]:
    """Lag-1 autocorrelation of the Pearson residuals (months used, in time order) and the Breusch-Godfrey test of
    it in its F form: the residuals regressed on the weighted design and their own lag. Residuals of a fitted
    model are correlated by the fit itself (12 months apart through the month terms), which a Ljung-Box test on
    them mistakes for autocorrelation; the auxiliary regression allows for the design."""
    e = residuals
    n, k = e.size, weighted_x.shape[1] + 1
    centred = e - e.mean()
    denom = float(centred @ centred)
    if n - k < 1 or denom <= 0:
        return float("nan"), float("nan")
    r1 = float(centred[1:] @ centred[:-1]) / denom

    def rss(z: np.ndarray) -> float:
        coef, *_ = np.linalg.lstsq(z, e, rcond=None)
        return float(np.sum((e - z @ coef) ** 2))

    restricted, full = rss(weighted_x), rss(np.column_stack([weighted_x, np.r_[0.0, e[:-1]]]))
    if full <= 0:
        return r1, float("nan")
    f = (restricted - full) / (full / (n - k))
    return r1, float(special.fdtrc(1, n - k, max(f, 0.0)))


def _negbin_fit(x, y, offset, used):
    """Negative binomial (NB2, dispersion by maximum likelihood): statsmodels, imported only for this option."""
    import statsmodels.api as sm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sm.NegativeBinomial(y[used], x[used], offset=offset[used]).fit(disp=0, maxiter=200)
    k = x.shape[1]
    return np.asarray(res.params[:k]), np.asarray(res.cov_params())[:k, :k], float(res.params[k])


class NotEvaluable(ValueError):
    """A series the default model cannot answer for (too short, no events): the message says why."""


def _check_inputs(y: np.ndarray, start_index: int, phase_in: int, min_before: int, min_after: int) -> None:
    n_before, n_after = start_index, y.size - start_index - phase_in
    if phase_in < 0 or start_index < 0:
        raise NotEvaluable("the start and the phase-in must not be negative")
    if n_before < min_before or n_after < min_after:
        raise NotEvaluable(
            f"too little data: {n_before} month{'s' if n_before != 1 else ''} before the start and {max(n_after, 0)} "
            f"after it{' the phase-in' if phase_in else ''}; the evaluation needs at least {min_before} before and "
            f"{min_after} after"
        )
    if np.any(y[np.isfinite(y)] < 0):
        raise NotEvaluable("counts must not be negative")
    if np.nansum(y) == 0:
        raise NotEvaluable("no events in the series")


def evaluate(
    counts: ArrayLike,
    months,
    start_index: int,
    *,
    phase_in: int = 0,
    population: ArrayLike | None = None,
    errors: str = "quasi",
    family: str = "poisson",
    comparison: ArrayLike | None = None,
    comparison_population: ArrayLike | None = None,
    level: float = 0.95,
    min_before: int = 12,
    min_after: int = 6,
) -> Evaluation:
    """The default model (see the comment above ``FAMILIES``) fitted to one monthly series. Options: Newey-West
    errors (``errors="newey-west"``), a population offset, a negative binomial family, and a comparison area's
    series for the difference-in-differences ratios. Raises NotEvaluable with the reason when it cannot answer."""
    if errors not in ERRORS or family not in FAMILIES:
        raise ValueError(f"errors must be one of {ERRORS} and family one of {FAMILIES}")
    y = np.atleast_1d(to_float_array(counts)).astype(float)
    _check_inputs(y, int(start_index), int(phase_in), min_before, min_after)
    x, names, used = month_design(months, int(start_index), int(phase_in))
    offset = _offset(population, y.size)
    used = used & np.isfinite(y)
    # A month of the year with no month in the fit (a short series with a long phase-in) has no coefficient.
    keep = np.r_[True, True, True, True, x[used, 4:].any(axis=0)]
    x, names = x[:, keep], [n for n, k in zip(names, keep, strict=True) if k]
    beta, mu, bread, mask = irls_poisson(x, y, offset, used)
    beta, mu = beta[0], mu[0]
    scale = float(pearson_scale(y, mu, mask[0], x.shape[1]))
    lags = max(1, int(np.floor(4 * (used.sum() / 100) ** (2 / 9))))
    if family == "negbin":
        beta, cov, alpha = _negbin_fit(x, y, offset, used)
        mu = np.exp(x @ beta + offset)
    elif errors == "newey-west":
        cov = newey_west(x, y, mu, bread[0], used, lags)
    else:
        cov = scale * bread[0]
    z = z_value(level)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    pearson = (np.where(used, y, 0) - mu) / np.sqrt(mu)
    acf1, ac_p = autocorrelation_test(pearson[used], x[used] * np.sqrt(mu[used])[:, None])
    out = Evaluation(
        level=_ratio(beta[2], se[2], 1, z),
        trend=_ratio(beta[3], se[3], 12, z),
        pre_trend=_ratio(beta[1], se[1], 12, z),
        series=_series(months, y, x, beta, cov, offset, int(start_index), int(phase_in), z),
        dispersion=scale,
        autocorrelation=acf1,
        autocorrelation_p=ac_p,
        n_before=int(start_index),
        n_after=int(y.size - start_index - phase_in),
        n_phase_in=int(phase_in),
        terms=names,
        options={"errors": errors, "family": family, "offset": population is not None, "level": level},
    )
    out.options.update({"negbin_alpha": alpha} if family == "negbin" else {})
    out.options.update({"newey_west_lags": lags} if errors == "newey-west" else {})
    if comparison is not None:
        out.did_level, out.did_trend = _difference_in_differences(
            y, comparison, months, int(start_index), int(phase_in), offset, comparison_population, z
        )
    return out


def _offset(population: ArrayLike | None, n: int) -> np.ndarray:
    if population is None:
        return np.zeros(n)
    pop = np.broadcast_to(np.atleast_1d(to_float_array(population)).astype(float), (n,))
    if not np.all(np.isfinite(pop) & (pop > 0)):
        raise NotEvaluable("the population offset must be positive in every month")
    return np.log(pop)


def _series(months, y, x, beta, cov, offset, start_index, phase_in, z) -> pd.DataFrame:
    x_cf = x.copy()
    x_cf[:, 2:4] = 0.0  # no step, no change of trend: what the months before predict
    eta_cf = x_cf @ beta + offset
    se_cf = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", x_cf, cov, x_cf), 0, None))
    t = np.arange(y.size)
    phase = np.where(t < start_index, "before", np.where(t < start_index + phase_in, "phase-in", "after"))
    return pd.DataFrame(
        {
            "month": pd.to_datetime(months).to_numpy(),
            "observed": y,
            "phase": phase,
            "fitted": np.exp(x @ beta + offset),
            "counterfactual": np.exp(eta_cf),
            "cf_lower": np.exp(eta_cf - z * se_cf),
            "cf_upper": np.exp(eta_cf + z * se_cf),
        }
    )


def did_design(x: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Two areas stacked (the evaluated one first): intercept, t, month indicators shared in shape; each area its
    own level and trend (``group``, ``t_group``); step and after for both; ``step_group`` and ``after_group`` the
    evaluated area's changes beyond the comparison's (the difference-in-differences terms)."""
    n = x.shape[0]
    g = np.r_[np.ones(n), np.zeros(n)]
    both = np.vstack([x, x])
    extra = np.column_stack([g, g * both[:, 1], g * both[:, 2], g * both[:, 3]])
    return np.column_stack([both, extra]), [*names, "group", "t_group", "step_group", "after_group"]


def _difference_in_differences(y, comparison, months, start_index, phase_in, offset, comparison_population, z):
    yc = np.atleast_1d(to_float_array(comparison)).astype(float)
    if yc.size != y.size:
        raise NotEvaluable("the comparison area's series must cover the same months")
    if np.nansum(yc) == 0:
        raise NotEvaluable("the comparison area has no events in the period")
    x, names, used = month_design(months, start_index, phase_in)
    xs, names = did_design(x, names)
    ys = np.r_[y, yc]
    offs = np.r_[offset, _offset(comparison_population, yc.size)]
    used_s = np.r_[used, used] & np.isfinite(ys)
    keep = xs[used_s].any(axis=0)
    xs = xs[:, keep]
    names = [n for n, k in zip(names, keep, strict=True) if k]
    beta, mu, bread, mask = irls_poisson(xs, ys, offs, used_s)
    cov = float(pearson_scale(ys, mu[0], mask[0], xs.shape[1])) * bread[0]
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    i, j = names.index("step_group"), names.index("after_group")
    return _ratio(beta[0][i], se[i], 1, z), _ratio(beta[0][j], se[j], 12, z)
