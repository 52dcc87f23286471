"""Rates, proportions, DSRs, comparison and change: checked against scipy's exact distributions,
PHStatsMethods (DHSC's reference implementation) on random inputs, published examples and properties."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from vrp.stats import (
    change,
    compare,
    dsr,
    european_standard_population,
    poisson_count_limits,
    proportion_ci,
    rate_ci,
)

PHStatsMethods = pytest.importorskip("PHStatsMethods")


# ---------------------------------------------------------------- crude rates


@pytest.mark.parametrize("level", [0.95, 0.998])
@pytest.mark.parametrize("count", [1, 2, 5, 9])
def test_small_counts_are_exact_poisson_limits(count: int, level: float) -> None:
    """Below 10 the limits are the exact Poisson limits: the tail probabilities equal alpha/2 exactly."""
    lo, hi = poisson_count_limits(count, level)
    alpha = 1 - level
    assert stats.poisson.sf(count - 1, float(lo)) == pytest.approx(alpha / 2, rel=1e-9)  # P(X >= O | lo)
    assert stats.poisson.cdf(count, float(hi)) == pytest.approx(alpha / 2, rel=1e-9)  # P(X <= O | hi)


def test_zero_count_has_zero_lower_and_exact_upper() -> None:
    rate, lo, hi = rate_ci(0, 50_000)
    assert rate == 0 and lo == 0
    # P(X = 0 | mu) = 0.025 -> mu = -ln(0.025)
    assert hi == pytest.approx(-np.log(0.025) / 50_000 * 100_000, rel=1e-9)


@pytest.mark.parametrize("count", [10, 11, 25, 100, 1000, 54321])
def test_byar_is_close_to_exact_from_ten(count: int) -> None:
    """PHE guidance: at 95% Byar's limits are within 0.2% of the exact limits for counts of 10 or more."""
    lo, hi = poisson_count_limits(count, 0.95)
    exact_lo = stats.chi2.ppf(0.025, 2 * count) / 2
    exact_hi = stats.chi2.ppf(0.975, 2 * count + 2) / 2
    assert float(lo) == pytest.approx(exact_lo, rel=2e-3)
    assert float(hi) == pytest.approx(exact_hi, rel=2e-3)
    assert float(lo) != exact_lo  # it really is the approximation, not the exact value


def test_rate_ci_matches_phstatsmethods_on_random_inputs(rng: np.random.Generator) -> None:
    # the oracle rejects 0 (our zero case is checked against the exact formula above)
    counts = np.r_[rng.integers(1, 30, 60), rng.integers(30, 5000, 40)].astype(float)
    pops = rng.integers(1_000, 2_000_000, counts.size).astype(float)
    df = pd.DataFrame({"area": np.arange(counts.size), "num": counts, "den": pops})
    for level in (0.95, 0.998):
        ref = PHStatsMethods.ph_rate(df, "num", "den", group_cols="area", confidence=level, metadata=False)
        lo_col = [c for c in ref.columns if "lower" in c.lower()][0]
        hi_col = [c for c in ref.columns if "upper" in c.lower()][0]
        rate, lo, hi = rate_ci(counts, pops, level=level)
        np.testing.assert_allclose(rate, ref["Value"], rtol=1e-10)
        np.testing.assert_allclose(lo, ref[lo_col], rtol=1e-9)
        np.testing.assert_allclose(hi, ref[hi_col], rtol=1e-9)


def test_rate_ci_series_keeps_index_and_handles_missing_population() -> None:
    counts = pd.Series([0, 5, 25, 3, None], index=list("abcde"))
    pops = pd.Series([1000, 0, None, 100, 500], index=list("abcde"))
    rate, lo, hi = rate_ci(counts, pops)
    assert list(rate.index) == list("abcde")
    assert rate["a"] == 0 and lo["a"] == 0 and hi["a"] > 0
    for label in "bce":  # zero population, missing population, missing count: undefined, not zero
        assert np.isnan(rate[label]) and np.isnan(lo[label]) and np.isnan(hi[label])
    assert rate["d"] == pytest.approx(3000)


def test_rate_ci_scalar_returns_floats_and_rejects_negative() -> None:
    out = rate_ci(12, 10_000)
    assert all(isinstance(v, float) for v in out)
    with pytest.raises(ValueError):
        rate_ci(-1, 100)
    with pytest.raises(ValueError):
        rate_ci(1, -100)


@given(
    count=st.integers(min_value=0, max_value=100_000),
    population=st.floats(min_value=1, max_value=1e8, allow_nan=False),
)
def test_interval_contains_estimate_and_widens_with_level(count: int, population: float) -> None:
    r95, lo95, hi95 = rate_ci(count, population, level=0.95)
    r998, lo998, hi998 = rate_ci(count, population, level=0.998)
    assert lo95 <= r95 <= hi95
    assert lo998 <= lo95 and hi998 >= hi95
    assert hi998 > lo998


@given(count=st.integers(min_value=1, max_value=10_000), scale=st.floats(min_value=1.5, max_value=100))
def test_interval_narrows_as_population_grows(count: int, scale: float) -> None:
    """Same underlying rate, bigger population (so proportionally more events): relative width shrinks."""
    r1, lo1, hi1 = rate_ci(count, 10_000)
    bigger = int(round(count * scale))
    r2, lo2, hi2 = rate_ci(bigger, 10_000 * bigger / count)
    assert (hi2 - lo2) / r2 < (hi1 - lo1) / r1


# ---------------------------------------------------------------- proportions


@pytest.mark.parametrize(
    "k, n, lower, upper",
    # Newcombe (1998) Stat Med 17:857-872, Table II, method 3 (Wilson score without continuity correction)
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_published_examples(k: int, n: int, lower: float, upper: float) -> None:
    _, lo, hi = proportion_ci(k, n)
    assert lo == pytest.approx(lower, abs=1e-4)
    assert hi == pytest.approx(upper, abs=1e-4)


def test_wilson_matches_phstatsmethods_and_statsmodels(rng: np.random.Generator) -> None:
    from statsmodels.stats.proportion import proportion_confint

    n = rng.integers(1, 5000, 80)
    k = np.minimum(rng.integers(0, 5000, 80), n)
    df = pd.DataFrame({"g": np.arange(80), "k": k, "n": n})
    ref = PHStatsMethods.ph_proportion(df, "k", "n", group_cols="g", metadata=False, multiplier=1)
    lo_col = [c for c in ref.columns if "lower" in c.lower()][0]
    hi_col = [c for c in ref.columns if "upper" in c.lower()][0]
    p, lo, hi = proportion_ci(k, n)
    np.testing.assert_allclose(lo, ref[lo_col], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(hi, ref[hi_col], rtol=1e-9, atol=1e-12)
    sm_lo, sm_hi = proportion_confint(k, n, method="wilson")
    np.testing.assert_allclose(lo, sm_lo, atol=1e-12)
    np.testing.assert_allclose(hi, sm_hi, atol=1e-12)


@given(n=st.integers(min_value=1, max_value=10**6), frac=st.floats(min_value=0, max_value=1))
def test_wilson_properties(n: int, frac: float) -> None:
    k = int(round(frac * n))
    p, lo, hi = proportion_ci(k, n)
    p2, lo2, hi2 = proportion_ci(k, n, level=0.998)
    assert 0 <= lo <= p <= hi <= 1
    assert lo2 <= lo + 1e-15 and hi2 >= hi - 1e-15


def test_proportion_edge_cases() -> None:
    p, lo, hi = proportion_ci(0, 0)
    assert np.isnan(p) and np.isnan(lo) and np.isnan(hi)
    with pytest.raises(ValueError):
        proportion_ci(5, 4)


# ---------------------------------------------------------------- DSR


def test_esp_is_the_2013_standard() -> None:
    esp = european_standard_population()
    assert len(esp) == 19 and esp["weight"].sum() == 100_000
    assert esp["age_band"].iloc[0] == "0-4" and esp["age_band"].iloc[-1] == "90+"
    assert esp.loc[esp.age_band == "40-44", "weight"].item() == 7000


def test_dsr_matches_phstatsmethods_on_random_areas(rng: np.random.Generator) -> None:
    esp = european_standard_population()
    rows = []
    for area in range(25):
        pops = rng.integers(200, 9000, 19)
        counts = rng.poisson(rng.uniform(0.05, 3), 19)
        rows.append(pd.DataFrame({"area": area, "age": esp["age_band"], "num": counts, "den": pops}))
    df = pd.concat(rows, ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):  # the oracle prints its age-band join
            ref = PHStatsMethods.ph_dsr(df.copy(), "num", "den", "age", group_cols="area", metadata=False)
    ref = ref.set_index("area")
    lo_col = [c for c in ref.columns if "lower" in c.lower()][0]
    hi_col = [c for c in ref.columns if "upper" in c.lower()][0]
    checked = 0
    for area, grp in df.groupby("area"):
        res = dsr(grp["num"].to_numpy(), grp["den"].to_numpy(), "esp2013")
        if ref.loc[area, "Total Count"] < 10:
            assert res.value is None and "fewer than 10" in res.reason
            continue
        checked += 1
        assert res.value == pytest.approx(ref.loc[area, "Value"], rel=1e-10)
        assert res.lower == pytest.approx(ref.loc[area, lo_col], rel=1e-9)
        assert res.upper == pytest.approx(ref.loc[area, hi_col], rel=1e-9)
    assert checked >= 15


def test_dsr_hand_worked_uniform_rate() -> None:
    """Same rate in every band: the DSR equals that rate whatever the weights."""
    res = dsr(np.full(19, 3), np.full(19, 10_000), "esp2013")
    assert res.value == pytest.approx(30.0)
    assert res.lower < 30 < res.upper
    assert res.count == 57


def test_dsr_not_computed_cases() -> None:
    assert dsr(np.zeros(19), np.full(19, 1000)).reason.startswith("fewer than 10")
    pops = np.full(19, 1000.0)
    pops[3] = np.nan
    assert "missing" in dsr(np.full(19, 2), pops).reason
    pops[3] = 0
    assert "zero population" in dsr(np.full(19, 2), pops).reason
    with pytest.raises(ValueError):
        dsr(np.ones(18), np.ones(18))


# ---------------------------------------------------------------- compare


@pytest.mark.parametrize(
    "lo, hi, bench, polarity, expected",
    [
        (10, 20, 15, "lower_is_better", "similar"),
        (10, 20, 25, "lower_is_better", "better"),
        (10, 20, 5, "lower_is_better", "worse"),
        (10, 20, 5, "higher_is_better", "better"),
        (10, 20, 25, "higher_is_better", "worse"),
        (10, 20, 20, "higher_is_better", "similar"),
        (10, 20, 25, "neutral", "lower"),
        (np.nan, 20, 25, "lower_is_better", "not compared"),
        (10, 20, None, "lower_is_better", "not compared"),
    ],
)
def test_compare(lo, hi, bench, polarity, expected) -> None:
    assert compare(lo, hi, bench, polarity) == expected


def test_compare_vectorised_series() -> None:
    lo = pd.Series([1.0, 30.0, np.nan], index=["x", "y", "z"])
    hi = pd.Series([5.0, 40.0, 2.0], index=["x", "y", "z"])
    out = compare(lo, hi, 20, "higher_is_better")
    assert out.to_dict() == {"x": "worse", "y": "better", "z": "not compared"}
    with pytest.raises(ValueError):
        compare(1, 2, 3, "sideways")


# ---------------------------------------------------------------- change


def test_change_matches_conditional_binomial_test() -> None:
    res = change(30, 15)
    assert res.absolute == 15 and res.percent == pytest.approx(100.0)
    assert res.p_value == pytest.approx(stats.binomtest(30, 45, 0.5).pvalue)
    assert res.ratio_lower < res.rate_ratio == 2.0 < res.ratio_upper


@pytest.mark.parametrize(
    ("current", "previous", "exposure"), [(30, 15, 1.0), (1, 12, 1.0), (0, 7, 2.0), (250, 231, 0.5)]
)
def test_change_interval_is_the_exact_clopper_pearson_interval(current, previous, exposure) -> None:
    """The rate ratio's interval maps scipy's exact binomial interval for the current share of the total."""
    res = change(current, previous, current_exposure=exposure, previous_exposure=1.0)
    share = exposure / (exposure + 1.0)
    ci = stats.binomtest(current, current + previous, share).proportion_ci(0.95, method="exact")
    assert res.ratio_lower == pytest.approx(ci.low / (1 - ci.low) / exposure, rel=1e-7)
    assert res.ratio_upper == pytest.approx(ci.high / (1 - ci.high) / exposure, rel=1e-7)


def test_change_significance_and_exposure() -> None:
    assert change(60, 20).significant
    assert not change(11, 9).significant
    # twice the exposure, twice the count: no change in rate
    res = change(40, 20, current_exposure=2, previous_exposure=1)
    assert res.rate_ratio == pytest.approx(1.0) and not res.significant
    assert res.ratio_lower < 1 < res.ratio_upper


def test_change_edge_cases() -> None:
    both_zero = change(0, 0)
    assert both_zero.p_value == 1 and not both_zero.significant and both_zero.percent is None
    from_zero = change(5, 0)
    assert from_zero.percent is None and from_zero.rate_ratio is None and from_zero.absolute == 5
    with pytest.raises(ValueError):
        change(-1, 3)
