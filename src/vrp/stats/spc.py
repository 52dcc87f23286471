"""XmR statistical process control charts with NHS England "Making Data Count" rules, matching the
NHS-R community's NHSRplotthedots so charts read the same way as NHS board reports."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import ArrayLike, to_float_array
from .rates import normalise_polarity

#: Process limits sit this many mean moving ranges from the mean (3 sigma for individuals).
LIMIT_FACTOR = 2.66
#: Moving ranges above this multiple of their mean are screened out before the limits are computed.
MR_SCREEN_FACTOR = 3.267
#: Fewer baseline points than this and the limits are flagged as trial limits.
MIN_POINTS_FOR_LIMITS = 12
RUN_LENGTH = 7
TREND_LENGTH = 7

XMR_COLUMNS = [
    "value",
    "moving_range",
    "mean",
    "lcl",
    "ucl",
    "lower_two_sigma",
    "upper_two_sigma",
    "in_baseline",
    "segment",
    "trial",
    "outside_limits",
    "shift",
    "trend",
    "two_in_three",
    "special_cause",
    "direction",
    "point_type",
]


def _runs(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run id and run length for each position of a 1-d array of labels."""
    if labels.size == 0:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    starts = np.r_[True, labels[1:] != labels[:-1]]
    run_id = np.cumsum(starts) - 1
    lengths = np.bincount(run_id)
    return run_id, lengths[run_id]


def _shift(side: np.ndarray) -> np.ndarray:
    """Points in a run of RUN_LENGTH or more on the same side of the mean (a point on the mean breaks a run)."""
    _, run_len = _runs(side)
    return (side != 0) & (run_len >= RUN_LENGTH)


def _trend(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points in a run of TREND_LENGTH or more each strictly above (below) the one before, and the trend's
    direction at each: a point inside a trend takes the step after it, the last point the step before it."""
    n = y.size
    trend = np.zeros(n, dtype=bool)
    if n < 2:
        return trend, np.zeros(n, dtype=int)
    step = np.sign(np.diff(y)).astype(int)
    _, step_len = _runs(step)
    for j in np.flatnonzero((step != 0) & (step_len >= TREND_LENGTH - 1)):  # step j links points j and j + 1
        trend[j] = trend[j + 1] = True
    next_in_trend = np.r_[trend[1:], False] & trend
    after, before = np.r_[step, step[-1]], np.r_[0, step]
    return trend, np.where(trend, np.where(next_in_trend, after, before), 0)


def _two_in_three(close: np.ndarray, side: np.ndarray) -> np.ndarray:
    """Points close to the limits (beyond two sigma, within the limits) in some three consecutive points, all
    on one side of the mean, of which at least two are close to the limits."""
    n = close.size
    hit = np.zeros(n, dtype=bool)
    for start in range(max(0, n - 2)):
        w = slice(start, start + 3)
        if abs(int(side[w].sum())) == 3 and close[w].sum() >= 2:
            hit[w] = True
    return hit & close


def _xmr_limits(base: np.ndarray) -> tuple[float, float]:
    """Mean and screened mean moving range of the baseline points."""
    mean = float(base.mean()) if base.size else np.nan
    if base.size < 2:
        return mean, np.nan
    mr = np.abs(np.diff(base))
    amr = float(mr.mean())
    if amr > 0:
        kept = mr[mr < MR_SCREEN_FACTOR * amr]
        amr = float(kept.mean())
    return mean, amr


def xmr(
    values: ArrayLike,
    baseline: int | None = None,
    *,
    recalculate_at: ArrayLike = (),
    polarity: str | None = "neutral",
    target: float | None = None,
) -> pd.DataFrame:
    """XmR chart table, one row per point (index kept from a Series), with the Making Data Count signals.

    Segments, as NHSRplotthedots' ``rebase``: each position (0-based row) in `recalculate_at` starts a new
    segment with limits of its own, and each segment is a chart of its own (moving ranges and rules never
    cross its start). Limits: mean +/- 2.66 x mean moving range of the first `baseline` rows of each segment
    (all its rows if None; NHSRplotthedots' ``fix_after_n_points``), extended across the rest of the segment;
    moving ranges above 3.267 x their mean are screened out first. Rows, not values: a missing value in the
    baseline is a baseline row without a value, as in NHSRplotthedots.
    Signals, as NHSRplotthedots (R/ptd_calculate_point_type.R): outside_limits; shift (7+ consecutive points
    on one side of the mean; points on the mean break a run); trend (7+ consecutive points each strictly
    above/below the one before); two_in_three (2 of 3 consecutive points close to the limits - beyond two
    sigma, mean +/- (2/3) x 2.66 x mean MR, but not beyond the limits - with all three on the same side of the
    mean). `direction` is "high"/"low" for special-cause points, from the first rule that applies in the order
    limits, trend (its direction), two in three, shift; `point_type` judges it by `polarity`. `trial` marks a
    segment whose baseline has fewer than 12 values. Variation and assurance icons (of the latest segment) are
    in `df.attrs` and from variation_icon()/assurance_icon(). Missing values are kept as rows but skipped in the
    calculations.
    """
    pol = normalise_polarity(polarity)
    index = values.index if isinstance(values, pd.Series) else None
    y_all = np.atleast_1d(to_float_array(values)).astype(float)
    if y_all.ndim != 1:
        raise ValueError("xmr needs a one-dimensional series")
    if baseline is not None and baseline < 1:
        raise ValueError("baseline must be a positive number of points")
    starts = sorted({int(i) for i in np.atleast_1d(np.asarray(recalculate_at, dtype=int)) if 0 < int(i) < y_all.size})
    bounds = [0, *starts, y_all.size]
    parts = [_segment(y_all[a:b], baseline, pol) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    for k, part in enumerate(parts):
        part["segment"] = np.full(part["value"].shape, k)
    frame = pd.DataFrame(
        {col: np.concatenate([part[col] for part in parts]) if parts else np.zeros(0) for col in XMR_COLUMNS},
        index=index,
    )
    frame.attrs["polarity"] = pol
    frame.attrs["target"] = target
    frame.attrs["variation_icon"] = variation_icon(frame, pol)
    frame.attrs["assurance_icon"] = assurance_icon(frame, target, pol)
    return frame


def recalculation_points(months: ArrayLike, changes: ArrayLike) -> list[int]:
    """The rows at which xmr's limits start again: for each change month ("YYYY-MM" or a date), the first of
    `months` (in date order) on or after it. A change on or before the first month, or after the last, starts
    nothing."""
    when = pd.to_datetime(pd.Series(list(months), dtype=object)).to_numpy()
    rows = {int(np.searchsorted(when, pd.Timestamp(str(c)).to_datetime64())) for c in np.atleast_1d(changes)}
    return sorted(r for r in rows if 0 < r < when.size)


def monthly_xmr(
    months: ArrayLike,
    values: ArrayLike,
    *,
    baseline_months: int | None,
    changes: ArrayLike = (),
    polarity: str | None = "neutral",
) -> pd.DataFrame:
    """xmr for a monthly series as the pages draw it: limits fixed on the first `baseline_months` months, and
    again from each change month on (a measure's spc_baseline_months and spc_recalculate). One home, so a page's
    chart and the Overview's variation icon read a month the same way."""
    return xmr(
        values,
        baseline=baseline_months,
        recalculate_at=recalculation_points(months, changes),
        polarity=polarity,
    )


def _segment(y_all: np.ndarray, baseline: int | None, pol: str) -> dict[str, np.ndarray]:
    """One segment's columns: limits from its first `baseline` rows, signals within it (NaN rows skipped)."""
    present = ~np.isnan(y_all)
    y = y_all[present]
    n_rows = y_all.size if baseline is None else min(int(baseline), y_all.size)
    base = y_all[:n_rows][present[:n_rows]]
    mean, amr = _xmr_limits(base)
    lcl, ucl = mean - LIMIT_FACTOR * amr, mean + LIMIT_FACTOR * amr
    two = 2 * LIMIT_FACTOR / 3
    l2s, u2s = mean - two * amr, mean + two * amr
    sig = _signals(y, mean, (lcl, ucl), (l2s, u2s), pol)

    def _expand(arr: np.ndarray, fill: object) -> np.ndarray:
        out = np.empty(y_all.shape, dtype=arr.dtype)
        out[:] = fill
        out[present] = arr
        return out

    mr_full = np.full(y_all.shape, np.nan)
    if y.size >= 2:
        mr_full[present] = np.r_[np.nan, np.abs(np.diff(y))]
    point_type = _expand(sig["point_type"], "common_cause")
    point_type[~present] = "missing"
    return {
        "value": y_all,
        "moving_range": mr_full,
        "mean": np.full(y_all.shape, mean),
        "lcl": np.full(y_all.shape, lcl),
        "ucl": np.full(y_all.shape, ucl),
        "lower_two_sigma": np.full(y_all.shape, l2s),
        "upper_two_sigma": np.full(y_all.shape, u2s),
        "in_baseline": np.arange(y_all.size) < n_rows,
        "trial": np.full(y_all.shape, base.size < MIN_POINTS_FOR_LIMITS),
        "outside_limits": _expand(sig["outside"], False),
        "shift": _expand(sig["shift"], False),
        "trend": _expand(sig["trend"], False),
        "two_in_three": _expand(sig["two_in_three"], False),
        "special_cause": _expand(sig["special"], False),
        "direction": _expand(sig["direction"].astype(object), ""),
        "point_type": point_type,
    }


def _signals(y: np.ndarray, mean: float, limits: tuple, two_sigma: tuple, pol: str) -> dict[str, np.ndarray]:
    """Each point's Making Data Count signals, direction and point type (NaN-free values)."""
    (lcl, ucl), (l2s, u2s), n = limits, two_sigma, y.size
    with np.errstate(invalid="ignore"):
        side = np.sign(y - mean) if n else np.zeros(0)
        side = np.nan_to_num(side).astype(int)
        above = y > ucl
        below = y < lcl
    outside = above | below

    # "Close to the limits": beyond two sigma but not beyond the process limits (as NHSRplotthedots).
    with np.errstate(invalid="ignore"):
        close = ~outside & ((y > u2s) | (y < l2s))
    shift = _shift(side)
    trend, trend_dir = _trend(y)
    two_in_three = _two_in_three(close, side)

    special = outside | shift | trend | two_in_three
    # direction: the first rule that applies decides, in NHSRplotthedots' order: limits, trend (its own
    # direction), two in three, shift (the side of the mean)
    dir_num = np.select([outside, trend, two_in_three, shift], [side, trend_dir, side, side], 0)
    direction = np.where(dir_num > 0, "high", np.where(dir_num < 0, "low", ""))
    point_type = np.full(n, "common_cause", dtype=object)
    for i in np.flatnonzero(special):
        point_type[i] = _judge(direction[i], pol)
    return {
        "outside": outside,
        "shift": shift,
        "trend": trend,
        "two_in_three": two_in_three,
        "special": special,
        "direction": direction,
        "point_type": point_type,
    }


def _judge(direction: str, polarity: str) -> str:
    if polarity == "neutral":
        return f"special_cause_neutral_{direction}"
    good = "high" if polarity == "higher_is_better" else "low"
    return "special_cause_improvement" if direction == good else "special_cause_concern"


def variation_icon(chart: pd.DataFrame, polarity: str | None = "neutral") -> str | None:
    """The Making Data Count variation icon, read from the latest point (as NHSRplotthedots does).

    One of "common_cause", "improving_high", "improving_low", "concerning_high", "concerning_low",
    "neither_high", "neither_low"; None for an empty chart.
    """
    pol = normalise_polarity(polarity)
    rows = chart[chart["point_type"] != "missing"]
    if rows.empty:
        return None
    last = rows.iloc[-1]
    if not last["special_cause"]:
        return "common_cause"
    direction = last["direction"]
    if pol == "neutral":
        return f"neither_{direction}"
    good = "high" if pol == "higher_is_better" else "low"
    return f"{'improving' if direction == good else 'concerning'}_{direction}"


def assurance_icon(chart: pd.DataFrame, target: float | None, polarity: str | None = "neutral") -> str | None:
    """Whether the process will meet a target: "pass" (target outside the limits on the bad side, so every
    point will meet it), "fail" (outside on the good side, so none will), "hit_and_miss" (target within the
    limits). None without a target, for a neutral measure, or when limits cannot be computed.
    """
    pol = normalise_polarity(polarity)
    if target is None or pol == "neutral" or chart.empty:
        return None
    lcl, ucl = float(chart["lcl"].iloc[-1]), float(chart["ucl"].iloc[-1])
    if np.isnan(lcl) or np.isnan(ucl) or np.isnan(target):
        return None
    if target > ucl:
        return "fail" if pol == "higher_is_better" else "pass"
    if target < lcl:
        return "pass" if pol == "higher_is_better" else "fail"
    return "hit_and_miss"
