"""Interrupted time series: recovers known effects from simulated data, and degrades clearly on short
series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vrp.stats import its


def simulate(rng: np.random.Generator, level: float, slope: float, n: int = 72, t0: int = 48, base: float = 400):
    t = np.arange(n)
    post = t >= t0
    pop = np.linspace(1.80e6, 1.86e6, n)
    mu = (
        base
        * pop
        / pop[0]
        * np.exp(
            0.002 * t
            + 0.15 * np.sin(2 * np.pi * t / 12)
            + np.log(level) * post
            + np.log(slope) * np.where(post, t - t0, 0)
        )
    )
    counts = rng.poisson(mu)
    idx = pd.date_range("2018-01-01", periods=n, freq="MS")
    return pd.Series(counts, index=idx), pd.Series(pop, index=idx), idx[t0]


def test_recovers_known_level_and_slope_change(rng: np.random.Generator) -> None:
    counts, pop, start = simulate(rng, level=0.8, slope=0.99)
    res = its(counts, start, population=pop)
    assert res.fitted and res.n_pre == 48 and res.n_post == 24
    assert res.level_change.lower < 0.8 < res.level_change.upper
    assert res.slope_change.lower < 0.99 < res.slope_change.upper
    assert res.level_change.rate_ratio == pytest.approx(0.8, abs=0.05)
    assert res.level_change.p_value < 0.001
    assert {"sin1", "cos1", "sin2", "cos2"} <= set(res.details["terms"]) and res.details["period"] == 12


def test_series_output_and_counterfactual(rng: np.random.Generator) -> None:
    counts, pop, start = simulate(rng, level=0.7, slope=1.0)
    res = its(counts, start, population=pop)
    s = res.series
    assert list(s.columns) == [
        "observed",
        "population",
        "post",
        "fitted",
        "counterfactual",
        "counterfactual_lower",
        "counterfactual_upper",
    ]
    assert s.index.equals(counts.index)
    pre = ~s["post"]
    np.testing.assert_allclose(s.loc[pre, "fitted"], s.loc[pre, "counterfactual"], rtol=1e-10)
    assert (s.loc[~pre, "counterfactual"] > s.loc[~pre, "fitted"]).all()  # the drop is removed
    assert (s["counterfactual_lower"] < s["counterfactual"]).all() and (
        s["counterfactual"] < s["counterfactual_upper"]
    ).all()


def test_no_effect_interval_contains_one(rng: np.random.Generator) -> None:
    counts, pop, start = simulate(rng, level=1.0, slope=1.0)
    for errors in ("quasi", "hac"):
        res = its(counts, start, population=pop, errors=errors)
        assert res.level_change.lower < 1 < res.level_change.upper
        assert res.slope_change.lower < 1 < res.slope_change.upper


def test_population_scale_does_not_change_effects(rng: np.random.Generator) -> None:
    counts, pop, start = simulate(rng, level=0.85, slope=1.0)
    a = its(counts, start, population=pop)
    b = its(counts, start, population=pop * 10)
    assert a.level_change.rate_ratio == pytest.approx(b.level_change.rate_ratio, rel=1e-8)
    assert b.series["counterfactual"].to_numpy() == pytest.approx(a.series["counterfactual"].to_numpy(), rel=1e-6)


def test_overdispersion_widens_intervals(rng: np.random.Generator) -> None:
    counts, pop, start = simulate(rng, level=0.8, slope=1.0)
    noisy = (counts * rng.gamma(20, 1 / 20, counts.size)).round()
    tight = its(counts, start, population=pop)
    wide = its(noisy, start, population=pop)
    assert wide.dispersion > tight.dispersion
    width = lambda r: np.log(r.level_change.upper / r.level_change.lower)  # noqa: E731
    assert width(wide) > width(tight)


def test_positional_start_and_no_seasonality() -> None:
    y = np.r_[np.full(10, 20), np.full(10, 10)]
    res = its(y, 10, seasonal=False)
    assert res.details["terms"] == ["const", "time", "post", "time_since"]
    assert res.level_change.rate_ratio == pytest.approx(0.5, rel=1e-6)


def test_short_or_empty_series_explain_themselves() -> None:
    short = its([5, 6, 7, 8, 9], 3)
    assert not short.fitted and "at least 3" in short.reason and short.level_change is None
    zeros = its(np.zeros(30), 15)
    assert not zeros.fitted and "no events" in zeros.reason
    with pytest.raises(ValueError):
        its(pd.Series([1, 2, 3], index=list("abc")), "z")
