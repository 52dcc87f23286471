"""XmR charts and Making Data Count rules, on hand-worked series where each rule's answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vrp.stats import assurance_icon, variation_icon, xmr
from vrp.stats.spc import XMR_COLUMNS

# A stable baseline alternating around 10 with moving ranges of 1 and 2 (mean MR 1.5 when fixed at 12).
STABLE = [10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 11, 9]


def test_limits_hand_worked() -> None:
    chart = xmr(STABLE)
    mr = np.abs(np.diff(STABLE))
    assert chart["mean"].iloc[0] == pytest.approx(10.0)
    assert chart["ucl"].iloc[0] == pytest.approx(10 + 2.66 * mr.mean())
    assert chart["lcl"].iloc[0] == pytest.approx(10 - 2.66 * mr.mean())
    assert chart["upper_two_sigma"].iloc[0] == pytest.approx(10 + 2 / 3 * 2.66 * mr.mean())
    assert not chart["special_cause"].any()
    assert not chart["trial"].any()
    assert list(chart.columns) == XMR_COLUMNS
    assert chart.attrs["variation_icon"] == "common_cause"


def test_large_moving_ranges_are_screened() -> None:
    values = STABLE + [40] + STABLE
    chart = xmr(values)
    mr = np.abs(np.diff(values))
    kept = mr[mr < 3.267 * mr.mean()]
    assert kept.size == mr.size - 2  # the jump up to 40 and back down are screened out
    assert chart["ucl"].iloc[0] == pytest.approx(np.mean(values) + 2.66 * kept.mean())
    assert chart["outside_limits"].tolist() == [False] * 12 + [True] + [False] * 12
    assert chart.loc[12, "direction"] == "high"


def test_baseline_fixes_limits_and_shift_detected_after() -> None:
    values = STABLE + [10.5] * 6 + [10.6]  # 7 points just above the baseline mean of 10
    chart = xmr(values, baseline=12)
    assert chart["in_baseline"].sum() == 12
    assert chart["mean"].nunique() == 1 and chart["mean"].iloc[-1] == pytest.approx(10.0)
    assert chart["shift"].tolist() == [False] * 12 + [True] * 7
    six_only = xmr(STABLE + [10.5] * 6, baseline=12)
    assert not six_only["shift"].any()


def test_points_on_the_mean_break_a_run() -> None:
    values = STABLE + [10.5, 10.5, 10.5, 10.0, 10.5, 10.5, 10.5, 10.5]
    assert not xmr(values, baseline=12)["shift"].any()


def test_trend_of_seven_rising_and_not_six() -> None:
    base = [10, 10.5] * 6  # mean 10.25, limits 10.25 +/- 1.33
    rising = base + [9.4, 9.7, 10.0, 10.3, 10.6, 10.9, 11.2]  # crosses the mean, so no shift
    chart = xmr(rising, baseline=12)
    assert chart["trend"].tolist() == [False] * 12 + [True] * 7
    assert not chart["shift"].any() and not chart["outside_limits"].any()
    assert (chart["direction"].iloc[12:] == "high").all()  # the trend's direction, even below the mean
    assert not xmr(base + [9.7, 10.0, 10.3, 10.6, 10.9, 11.2], baseline=12)["trend"].any()
    # equal neighbours break a trend
    assert not xmr(base + [9.4, 9.7, 10.0, 10.0, 10.3, 10.6, 10.9], baseline=12)["trend"].any()
    falling = xmr(base + [11.2, 10.9, 10.6, 10.3, 10.0, 9.7, 9.4], baseline=12, polarity="lower_is_better")
    assert (falling["point_type"].iloc[12:] == "special_cause_improvement").all()


def test_two_of_three_beyond_two_sigma_same_side() -> None:
    chart0 = xmr(STABLE)
    u2, ucl = chart0["upper_two_sigma"].iloc[0], chart0["ucl"].iloc[0]
    near = (u2 + ucl) / 2  # beyond two sigma, inside the limits
    values = STABLE + [near, 10.2, near]
    chart = xmr(values, baseline=12)
    assert chart["two_in_three"].tolist() == [False] * 12 + [True, False, True]
    assert not chart["outside_limits"].any()
    # the middle point below the mean: not all three on one side, so no signal (as NHSRplotthedots)
    assert not xmr(STABLE + [near, 9.8, near], baseline=12)["two_in_three"].any()
    # only one of three beyond two sigma
    assert not xmr(STABLE + [near, 10.2, 10.2], baseline=12)["two_in_three"].any()


@pytest.mark.parametrize(
    "polarity, point_type, icon",
    [
        ("lower_is_better", "special_cause_concern", "concerning_high"),
        ("higher_is_better", "special_cause_improvement", "improving_high"),
        ("neutral", "special_cause_neutral_high", "neither_high"),
    ],
)
def test_variation_icon_by_polarity(polarity: str, point_type: str, icon: str) -> None:
    chart = xmr(STABLE + [30], baseline=12, polarity=polarity)
    assert chart["point_type"].iloc[-1] == point_type
    assert chart.attrs["variation_icon"] == icon
    assert variation_icon(chart, polarity) == icon


@pytest.mark.parametrize(
    "target, polarity, expected",
    [
        (20, "lower_is_better", "pass"),
        (20, "higher_is_better", "fail"),
        (0, "lower_is_better", "fail"),
        (0, "higher_is_better", "pass"),
        (10.5, "lower_is_better", "hit_and_miss"),
        (10.5, "neutral", None),
        (None, "lower_is_better", None),
    ],
)
def test_assurance_icon(target, polarity, expected) -> None:
    chart = xmr(STABLE, polarity=polarity, target=target)
    assert chart.attrs["assurance_icon"] == expected
    assert assurance_icon(chart, target, polarity) == expected


def test_short_series_are_trial_and_do_not_fail() -> None:
    one = xmr([5.0])
    assert one["mean"].iloc[0] == 5 and np.isnan(one["ucl"].iloc[0]) and one["trial"].all()
    assert not one["special_cause"].any() and one.attrs["variation_icon"] == "common_cause"
    empty = xmr([])
    assert empty.empty and empty.attrs["variation_icon"] is None
    eleven = xmr(STABLE[:11])
    assert eleven["trial"].all()


def test_all_values_equal() -> None:
    chart = xmr([7.0] * 15)
    assert (chart["lcl"] == 7).all() and (chart["ucl"] == 7).all()
    assert not chart["special_cause"].any()


def test_missing_values_are_kept_as_rows_and_skipped() -> None:
    s = pd.Series(STABLE[:6] + [None] + STABLE[6:], index=pd.period_range("2023-01", periods=13, freq="M"))
    chart = xmr(s)
    assert chart.index.equals(s.index)
    assert chart["point_type"].iloc[6] == "missing"
    assert chart["mean"].iloc[0] == pytest.approx(10.0)
    assert chart["ucl"].iloc[0] == pytest.approx(xmr(STABLE)["ucl"].iloc[0])


@given(
    st.lists(st.floats(min_value=-1e3, max_value=1e3, allow_nan=False), min_size=2, max_size=60),
    st.floats(min_value=-1e3, max_value=1e3),
    st.floats(min_value=0.01, max_value=100),
)
def test_signals_unchanged_by_shifting_and_scaling(values, shift, scale) -> None:
    base = xmr(values)
    moved = xmr([v * scale + shift for v in values])
    for col in ["outside_limits", "shift", "trend", "two_in_three"]:
        # points exactly on a limit/mean can flip under floating-point rounding; compare the rest
        y = np.asarray(values)
        m, a = base["mean"].iloc[0], (base["ucl"].iloc[0] - base["mean"].iloc[0])
        tol = 1e-9 * (1 + np.abs(y).max())
        edge = (np.abs(y - m) < tol) | (np.abs(np.abs(y - m) - a) < tol) | (np.abs(np.abs(y - m) - 2 / 3 * a) < tol)
        if edge.any():
            return
        assert base[col].tolist() == moved[col].tolist(), col
