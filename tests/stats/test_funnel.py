"""Funnel limits: checked against PHStatsMethods' Fingertips funnel method and the exact Poisson
distribution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from vrp.stats import funnel_limits, funnel_position

PHStatsMethods = pytest.importorskip("PHStatsMethods")


def test_matches_phstatsmethods_rate_funnel(rng: np.random.Generator) -> None:
    pops = rng.integers(20_000, 400_000, 14).astype(float)
    counts = rng.poisson(pops * 80 / 100_000).astype(float)
    df = pd.DataFrame({"num": counts, "den": pops, "rate": counts / pops * 100_000})
    ref = PHStatsMethods.calculate_funnel_limits(
        df,
        "num",
        "rate",
        100_000,
        denom_col="den",
        metadata=False,
        rate="rate",
        rate_type="crude",
        years_of_data=1,
    )
    benchmark = counts.sum() / pops.sum() * 100_000
    ref = ref[ref["Events"] >= 1]
    # The oracle tabulates by events: at population N (where the limit passes through that many events),
    # our limit at N must equal its limit.
    for side, sig, level in [
        ("lower", "2s", 0.95),
        ("upper", "2s", 0.95),
        ("lower", "3s", 0.998),
        ("upper", "3s", 0.998),
    ]:
        pop_col = f"{side}_{sig}_population_1_year"
        ours = funnel_limits(benchmark, ref[pop_col].to_numpy(), levels=(level,))
        label = "95" if level == 0.95 else "99_8"
        np.testing.assert_allclose(ours[f"{side}_{label}"], ref[f"{side}_{sig}_limit"], rtol=2e-5)


@pytest.mark.parametrize("expected_count", [0.5, 3.0, 12.0, 80.0, 1500.0])
def test_limits_are_continuous_poisson_quantiles(expected_count: float) -> None:
    """At whole-number limits the exact tail probability is alpha/2; the funnel brackets Poisson quantiles."""
    pop = expected_count / 60 * 100_000
    row = funnel_limits(60, [pop]).iloc[0]
    for label, level in (("95", 0.95), ("99_8", 0.998)):
        upper_count = row[f"upper_{label}"] * pop / 100_000
        lower_count = row[f"lower_{label}"] * pop / 100_000
        alpha = 1 - level
        # the upper limit sits between the integer quantiles either side of it
        assert stats.poisson.sf(np.ceil(upper_count) - 1, expected_count) <= alpha / 2 + 1e-12
        assert stats.poisson.sf(np.floor(upper_count) - 1, expected_count) >= alpha / 2 - 1e-12
        if lower_count > 0:
            assert stats.poisson.cdf(np.floor(lower_count), expected_count) <= alpha / 2 + 1e-12
            assert stats.poisson.cdf(np.ceil(lower_count), expected_count) >= alpha / 2 - 1e-12


@given(st.lists(st.floats(min_value=100, max_value=5e6), min_size=2, max_size=20))
def test_funnel_narrows_and_nests(pops: list[float]) -> None:
    pops = sorted(pops)
    t = funnel_limits(45, pops)
    assert (t["lower_99_8"] <= t["lower_95"] + 1e-9).all()
    assert (t["lower_95"] <= 45).all() and (t["upper_95"] >= 45).all()
    assert (t["upper_99_8"] >= t["upper_95"] - 1e-9).all()
    width = (t["upper_95"] - t["lower_95"]).to_numpy()
    assert np.all(np.diff(width) <= 1e-6 * width[:-1] + 1e-9)


def test_edge_cases() -> None:
    t = funnel_limits(50, [0, np.nan, 1000])
    assert t.iloc[:2][["lower_95", "upper_95"]].isna().all().all()
    assert t.iloc[2]["upper_95"] > 50
    zero = funnel_limits(0, [1000])
    assert zero["upper_95"].item() == 0
    with pytest.raises(ValueError):
        funnel_limits(-1, [1000])


def test_funnel_position() -> None:
    # benchmark 50 per 100k; at 10,000 people 5 are expected and the 95% upper limit is ~103 per 100k
    pos = funnel_position(pd.Series([5, 11, 200, 0, 3], index=list("abcde")), [10_000, 10_000, 100_000, 0, 10_000], 50)
    assert pos.to_dict() == {
        "a": "within",
        "b": "above 95%",
        "c": "above 99.8%",
        "d": "not compared",
        "e": "within",
    }
