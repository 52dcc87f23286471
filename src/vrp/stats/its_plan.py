"""Words and plans for the default interrupted time series model (vrp.stats.its.evaluate): the plain-language
sentences a page, the API and the CLI print, and the minimum detectable effect of a planned intervention, by
simulation from the model fitted to the months before (docs/METHODS.md#interrupted-time-series)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._common import z_value
from .its import NotEvaluable, Ratio, irls_poisson, month_design, pearson_scale

# The level changes whose power is simulated: a drop of 2% to 80%.
DROPS = np.r_[np.arange(0.02, 0.30, 0.02), np.arange(0.30, 0.81, 0.05)]


def _pct(ratio: float) -> tuple[int, str]:
    change = (ratio - 1) * 100
    return int(round(abs(change))), "lower" if change < 0 else "higher"


def change_words(r: Ratio) -> str:
    """ "18% lower than expected (95% CI 5% to 29% lower)", or, when the interval holds no change, "6% lower than
    expected (95% CI 20% lower to 11% higher: no clear change)"."""
    size, way = _pct(r.ratio)
    (lo, lo_way), (hi, hi_way) = _pct(r.lower), _pct(r.upper)
    if size == 0:
        head = "about the same as expected"
    else:
        head = f"{size}% {way} than expected"
    if lo_way == hi_way == "lower":
        return f"{head} (95% CI {hi}% to {lo}% lower)"
    if lo_way == hi_way == "higher":
        return f"{head} (95% CI {lo}% to {hi}% higher)"
    return f"{head} (95% CI {lo}% lower to {hi}% higher: no clear change)"


def level_sentence(r: Ratio, start: pd.Timestamp, what: str, where: str) -> str:
    """The level change in one sentence: "After April 2024, knife-enabled serious violence in Southampton was 18%
    lower than expected (95% CI 5% to 29% lower)."."""
    return f"After {pd.Timestamp(start):%B %Y}, {what} in {where} was {change_words(r)}."


def trend_sentence(r: Ratio) -> str:
    """The change of trend: the yearly rate of change after the start against the one before."""
    size, way = _pct(r.ratio)
    (lo, lo_way), (hi, hi_way) = _pct(r.lower), _pct(r.upper)
    ci = (
        f"{min(lo, hi)}% to {max(lo, hi)}% a year {way}"
        if lo_way == hi_way
        else f"{lo}% a year lower to {hi}% a year higher: no clear change"
    )
    head = "no different from" if size == 0 else f"{size}% a year {'lower' if way == 'lower' else 'higher'} than"
    return f"From then on the trend was {head} the trend before (95% CI {ci})."


def did_sentence(r: Ratio, where: str, comparison: str) -> str:
    """The controlled design: the evaluated area's level change relative to the comparison area's."""
    words = change_words(r).replace(" than expected", "")
    return f"Against {comparison} over the same months (difference in differences), {where} was {words}."


@dataclass(frozen=True)
class Plan:
    """The smallest drop in level detectable with ``power`` at the ``alpha`` level (None: not even an 80% drop),
    with the simulated power at each drop."""

    mde_drop: float | None
    power: float
    alpha: float
    n_before: int
    n_after: int
    simulations: int
    dispersion: float
    curve: pd.DataFrame


def minimum_detectable_effect(
    counts_before,
    months_before,
    *,
    n_after: int = 12,
    power: float = 0.8,
    alpha: float = 0.05,
    simulations: int = 200,
    seed: int = 20240601,
) -> Plan:
    """Simulate the planned evaluation: fit the months before (intercept, t, month of year; quasi-Poisson),
    continue that model ``n_after`` months, draw ``simulations`` series for each drop in ``DROPS`` (Poisson, or
    gamma-Poisson with the fitted overdispersion), fit the default model to each and count how often its interval
    excludes no change. The minimum detectable effect is the smallest drop found with at least ``power``."""
    y = np.asarray(counts_before, dtype=float)
    if y.size < 12 or not np.isfinite(y).all():
        raise NotEvaluable("the plan needs at least 12 complete months before the start")
    if np.nansum(y) == 0:
        raise NotEvaluable("no events in the months before: no change could be detected")
    months = pd.date_range(pd.Timestamp(pd.to_datetime(months_before)[0]), periods=y.size + n_after, freq="MS")
    x, _, used = month_design(months, y.size)
    pre = np.r_[np.ones(y.size, bool), np.zeros(n_after, bool)]
    cols = [0, 1, *range(4, x.shape[1])]  # no step, no after: the months before alone
    xp = x[:, cols]
    beta, _, _, mask = irls_poisson(xp, np.r_[y, np.full(n_after, np.nan)], np.zeros(y.size + n_after), pre)
    mu0 = np.exp(xp @ beta[0])
    phi = max(1.0, float(pearson_scale(np.r_[y, np.zeros(n_after)], mu0[None], mask, xp.shape[1])[0]))
    rng = np.random.default_rng(seed)
    post = ~pre
    mu = mu0[None, :] * np.where(post[None, :], 1 - DROPS[:, None], 1.0)  # (drops, months)
    mu = np.repeat(mu, simulations, axis=0)
    # gamma-Poisson with variance phi * mu: the same overdispersion as the months before showed
    shape = mu / (phi - 1) if phi > 1.0001 else None
    lam = rng.gamma(shape, (phi - 1)) if shape is not None else mu
    sims = rng.poisson(lam)
    b, m, bread, mk = irls_poisson(x, sims, np.zeros(x.shape[0]), used)
    scale = pearson_scale(sims, m, mk, x.shape[1])
    upper = b[:, 2] + z_value(1 - alpha) * np.sqrt(scale * bread[:, 2, 2])
    detected = (upper < 0).reshape(DROPS.size, simulations).mean(axis=1)
    curve = pd.DataFrame({"drop": DROPS, "power": detected})
    enough = curve[curve["power"] >= power]
    mde = float(enough["drop"].iloc[0]) if len(enough) else None
    return Plan(mde, power, alpha, int(y.size), int(n_after), simulations, phi, curve)
