"""XmR charts and Making Data Count rules, on hand-worked series where each rule's answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vrp.stats import assurance_icon, variation_icon, xmr
from vrp.stats.spc import XMR_COLUMNS, recalculation_points

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


# ---- the rules as NHSRplotthedots defines them (R/ptd_calculate_point_type.R, ptd_spc_standard.R) --------------


def test_points_beyond_the_limits_do_not_count_towards_two_in_three() -> None:
    """NHSRplotthedots counts only points between two sigma and the limits: 6 is beyond the upper limit, so with
    3.2 it is not "two in three", and the last point is common cause."""
    chart = xmr([0, 1] * 8 + [1.5, 6, 3.2], polarity="neutral")
    assert chart["outside_limits"].iloc[-2] and chart["point_type"].iloc[-2] == "special_cause_neutral_high"
    assert chart["point_type"].iloc[-1] == "common_cause" and not chart["two_in_three"].any()
    assert chart.attrs["variation_icon"] == "common_cause"


def test_a_trend_comes_before_a_shift() -> None:
    """Seven rising points all below the mean: NHSRplotthedots takes the trend (rising: a concern when lower is
    better), not the shift below the mean (which would read as an improvement)."""
    chart = xmr([12, 11] * 4 + [12, 9.0, 9.2, 9.4, 9.6, 9.8, 10.0, 10.2], polarity="lower_is_better")
    last = chart.iloc[-7:]
    assert last["trend"].all() and last["shift"].all()
    assert (last["direction"] == "high").all() and (last["point_type"] == "special_cause_concern").all()
    assert chart.attrs["variation_icon"] == "concerning_high"


def _reference_point_types(y: list[float], improvement: int) -> list[str]:
    """An independent, point-by-point reading of NHSRplotthedots' definitions: limits from all points, each rule
    evaluated per point with the same windows, the same padding and the same precedence."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    mr = np.abs(np.diff(y))
    amr = mr.mean()
    amr = mr[mr < 3.267 * amr].mean()
    mean = y.mean()
    upl, lpl = mean + 2.66 * amr, mean - 2.66 * amr
    nupl, nlpl = mean + 2.66 * 2 / 3 * amr, mean - 2.66 * 2 / 3 * amr
    rtm = np.sign(y - mean)
    outside = (y > upl) | (y < lpl)
    close = ~outside & ((y < nlpl) | (y > nupl))

    def window_flags(flag_at_end: list[int]) -> list[int]:  # ptd_part_of_seven_trend
        padded = list(flag_at_end) + [0] * 6
        return [int(any(abs(padded[i + k]) == 1 for k in range(7))) for i in range(n)]

    padded_rtm = [0] * 6 + list(rtm)
    one_side = [
        int(all(padded_rtm[i] == padded_rtm[i - k] for k in range(1, 7)) and padded_rtm[i] != 0)
        for i in range(6, n + 6)
    ]
    trend_end = [0] * min(n, 6)
    for i in range(6, n):
        d = np.sign(np.diff(y[i - 6 : i + 1]))
        trend_end.append(1 if (d == 1).all() else (-1 if (d == -1).all() else 0))
    part_shift, part_trend = window_flags(one_side), window_flags(trend_end)
    cp, rp = [0, 0, *close.astype(int), 0, 0], [0, 0, *rtm, 0, 0]
    two = [
        int(any(sum(cp[i + k : i + k + 3]) >= 2 and abs(sum(rp[i + k : i + k + 3])) == 3 for k in range(3)))
        for i in range(n)
    ]
    part_two = [int(two[i] == 1 and close[i]) for i in range(n)]
    sdy = np.sign(np.diff(y))
    types = []
    for i in range(n):
        if outside[i]:
            v = rtm[i]
        elif part_trend[i]:
            in_next = i + 1 < n and part_trend[i + 1]
            v = (sdy[i] if i < n - 1 else sdy[-1]) if in_next else (sdy[i - 1] if i > 0 else 0)
        elif part_two[i] or part_shift[i]:
            v = rtm[i]
        else:
            v = 0
        if v == 0:
            types.append("common_cause")
        elif improvement == 0:
            types.append("special_cause_neutral_" + ("high" if v > 0 else "low"))
        else:
            types.append("special_cause_improvement" if v * improvement > 0 else "special_cause_concern")
    return types


@pytest.mark.parametrize("seed", range(40))
def test_every_point_type_matches_the_reference_definitions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(8, 40))
    # Mixtures of noise, steps, ramps and outliers, so every rule fires somewhere across the seeds.
    y = rng.normal(10, 1, n) + np.where(np.arange(n) > n // 2, rng.choice([0, 2, -2]), 0)
    y += np.arange(n) * rng.choice([0, 0.4])
    y[rng.integers(0, n)] += rng.choice([0, 6, -6])
    y = np.round(y, 1)
    for polarity, improvement in (("neutral", 0), ("higher_is_better", 1), ("lower_is_better", -1)):
        got = xmr(y, polarity=polarity)["point_type"].tolist()
        assert got == _reference_point_types(y.tolist(), improvement), (seed, polarity)


# ---- baselines and recalculation (NHSRplotthedots' fix_after_n_points and rebase, ptd_spc_standard.R) ----------

# Moving ranges 2, 1, 2, 2, 1, 2, 2, 1, 2, 2, 1 (mean 18/11) around a mean of 5.5.
WAVE = [4, 6, 5, 7, 5, 6, 4, 6, 5, 7, 5, 6]


def test_limits_are_fixed_on_the_baseline_rows_by_hand() -> None:
    """Limits from the first 12 rows only, extended over the rest: the later points (far higher) move nothing."""
    chart = xmr(WAVE + [9, 9.5, 9, 9.5], baseline=12)
    assert chart["mean"].tolist() == pytest.approx([5.5] * 16)
    assert chart["ucl"].iloc[-1] == pytest.approx(5.5 + 2.66 * 18 / 11)  # 9.8527
    assert chart["lcl"].iloc[-1] == pytest.approx(5.5 - 2.66 * 18 / 11)  # 1.1473
    assert chart["upper_two_sigma"].iloc[-1] == pytest.approx(5.5 + 2 / 3 * 2.66 * 18 / 11)  # 8.4018
    assert chart["in_baseline"].tolist() == [True] * 12 + [False] * 4
    # 9 and 9.5 lie between two sigma (8.40) and the limit (9.85): two in three, high.
    assert chart["two_in_three"].iloc[-4:].all() and (chart["direction"].iloc[-4:] == "high").all()


def test_a_hidden_month_in_the_baseline_is_a_baseline_row_without_a_value() -> None:
    """Rows, not values, as NHSRplotthedots' row_number(): the baseline is the first 12 months even when one is
    hidden, so the 13th month's value stays out of the limits."""
    values = [*WAVE[:5], None, *WAVE[6:], 40.0]
    chart = xmr(values, baseline=12)
    kept = [v for v in values[:12] if v is not None]
    mr = np.abs(np.diff(kept))
    assert chart["mean"].iloc[0] == pytest.approx(np.mean(kept))
    assert chart["ucl"].iloc[0] == pytest.approx(np.mean(kept) + 2.66 * mr.mean())
    assert chart["trial"].all()  # 11 values in the baseline: fewer than 12, a trial
    assert chart["outside_limits"].iloc[-1]


def _level_shift() -> list[float]:
    """Two years at about 9.5 a month, then two years at about 5.5: a fall at a recorded change in row 24."""
    return [v + 4 for v in WAVE * 2] + [float(v) for v in WAVE * 2]


def test_a_level_shift_flags_the_early_years_against_one_long_mean() -> None:
    """The issue's reading of "All months": against one mean of both levels, the first years sit above it, seven
    in a row and more, and read as concerning (lower is better) though nothing happened in them."""
    chart = xmr(_level_shift(), polarity="lower_is_better")
    assert chart["mean"].iloc[0] == pytest.approx(7.5)
    assert (chart["point_type"].iloc[:24] == "special_cause_concern").all()


def test_limits_recalculated_at_the_change_judge_each_level_on_its_own() -> None:
    """Recalculated at the change, each segment has its own baseline mean and limits (by hand: 9.5 and 5.5, each
    +/- 2.66 x 38/23, the wave's 11 moving ranges twice and the 2 where it repeats) and neither level is a
    signal."""
    chart = xmr(_level_shift(), baseline=24, recalculate_at=[24], polarity="lower_is_better")
    assert chart["segment"].tolist() == [0] * 24 + [1] * 24
    assert chart["mean"].iloc[0] == pytest.approx(9.5) and chart["mean"].iloc[24] == pytest.approx(5.5)
    for row, mean in ((0, 9.5), (47, 5.5)):
        assert chart["ucl"].iloc[row] == pytest.approx(mean + 2.66 * 38 / 23)
        assert chart["lcl"].iloc[row] == pytest.approx(mean - 2.66 * 38 / 23)
    assert not chart["special_cause"].any() and chart.attrs["variation_icon"] == "common_cause"
    assert np.isnan(chart["moving_range"].iloc[24])  # no moving range across the change


def test_rules_do_not_run_across_a_recalculation() -> None:
    """Four points above the mean before the change and three after are not a run of seven: each segment is a
    chart of its own (NHSRplotthedots groups its rules by rebase group)."""
    first = WAVE + [6, 6, 6, 6]
    second = [6, 6, 6] + WAVE
    assert xmr(first + second, baseline=12)["shift"].iloc[12:19].all()  # one chart: a run of seven
    split = xmr(first + second, baseline=12, recalculate_at=[len(first)])
    assert not split["shift"].any()
    # the second segment's baseline is its own first 12 rows, so its limits differ from the first's
    assert split["mean"].iloc[-1] == pytest.approx(np.mean(second[:12]))


def test_a_short_segment_is_a_trial_on_its_own() -> None:
    chart = xmr(WAVE * 2 + WAVE[:6], baseline=24, recalculate_at=[24])
    assert not chart["trial"].iloc[:24].any() and chart["trial"].iloc[24:].all()


def test_recalculation_points_are_the_first_month_on_or_after_each_change() -> None:
    months = pd.date_range("2021-04-01", periods=24, freq="MS").date
    assert recalculation_points(months, ["2022-04"]) == [12]
    # a change falling in a gap starts at the next month there is; one before the data or after it does nothing
    gappy = [m for m in months if f"{m:%Y-%m}" != "2022-04"]
    assert recalculation_points(gappy, ["2022-04"]) == [12]
    assert recalculation_points(months, ["2020-01", "2021-04", "2030-01"]) == []
