"""The outcome pages' questions (hospital admissions, homicide) for the public audience, answered from published
cells of the cube only (docs/METHODS.md#the-published-cube).

Every count here is a published cell, or worked out from published cells alone: 25 and over is all ages less
under 25, given only when both are published and neither is a lower bound (the audit protects it as if it were
published). Rates and comparisons use published counts only. What the cube does not hold (age bands other than
under 25, homicide methods, windows other than the lattice's) is refused with ``NotPublished`` and a reason fit
for the page; the partner audience asks the marts (data_access/outcomes.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from vrp.data_access import published
from vrp.data_access.published import NotPublished
from vrp.data_access.validation import AGE_GROUPS, HIPS, InvalidQuery
from vrp.periods import Period
from vrp.stats import compare, rate_ci

if TYPE_CHECKING:
    from vrp.data_access.queries import Warehouse

AGE_BANDS_PARTNER_ONLY = (
    "Shown to partners only: finer age bands (under 18, 18 to 24) are not in the published figures, which hold "
    "all ages and under 25 only, because splitting small counts further could reveal small numbers."
)
METHODS_PARTNER_ONLY = (
    "Shown to partners only: homicides by method of killing are not in the published figures. Split by method, "
    "counts are so small that they could reveal small numbers, and so individual victims."
)


def _checked(wh: Warehouse, measure_id: str, age: str) -> None:
    if measure_id not in wh.registry:
        raise InvalidQuery(f"unknown measure {str(measure_id)[:40]!r}")
    if age not in AGE_GROUPS:
        raise InvalidQuery(f"unknown age group {str(age)[:20]!r}")


def _population(wh: Warehouse, measure_id: str, area: str, age: str) -> float:
    return wh.population(() if area == HIPS else (area,), age, wh.registry.get(measure_id))


def _cells(wh: Warehouse, measure_id: str, areas=(HIPS,), period_type=None, age="all", start=None, end=None):
    """The published cells of HIPS or districts (``published.cells``, which checks the release)."""
    return published.cells(wh, measure_id, areas, period_type, age, start, end)


def annual_rate(count, population: float, months: int, per: float) -> float:
    """A published count as a rate a year per ``per`` residents; NaN when the count is hidden."""
    if count is None or pd.isna(count) or not population:
        return np.nan
    return float(count) / (population * months / 12) * per


def period_cell(wh: Warehouse, measure_id: str, area: str, period: Period, age: str = "all") -> dict:
    """One published cell: count (None when hidden), suppressed, incomplete, period. NotPublished when the cube
    has no such cell."""
    _checked(wh, measure_id, age)
    frame = _cells(wh, measure_id, (area,), period.type, age, period.start, period.end)
    row = frame[(frame["start"] == period.start) & (frame["end"] == period.end)]
    if row.empty:
        label = wh.registry.get(measure_id).label
        raise NotPublished(f"{label} is not published for {period.label}.")
    r = row.iloc[0]
    return {
        "count": None if r["suppressed"] else int(r["count"]),
        "suppressed": bool(r["suppressed"]),
        "incomplete": bool(r["incomplete"]),
        "period": period,
    }


def page_total(wh: Warehouse, measure_id: str, districts=(), start=None, end=None, age: str = "all") -> dict:
    """The published total a page headline shows: the cell of ``published.page_period`` for the one area the
    selection names, with its population and annual rate, and the period's note (None when it is the one asked)."""
    _checked(wh, measure_id, age)
    area = published.area_of(wh, districts)
    period, note = published.page_period(wh, measure_id, start, end)
    out = period_cell(wh, measure_id, area, period, age)
    population = _population(wh, measure_id, area, age)
    rate = annual_rate(out["count"], population, period.months, wh.registry.get(measure_id).per)
    return {**out, "area": area, "note": note, "population": population, "rate": rate}


def age_groups(wh: Warehouse, measure_id: str, districts=(), start=None, end=None) -> dict:
    """Under 25 and 25 and over from the published "u25" and "all" cells of the page's period, in the shape
    data_access.outcomes.age_groups returns ({"bands": group, label, count, share, suppressed; "under_25";
    "total"}), plus period, note and partner_only (why finer bands are not shown)."""
    _checked(wh, measure_id, "all")
    area = published.area_of(wh, districts)
    period, note = published.page_period(wh, measure_id, start, end)
    return {**_ages(wh, measure_id, area, period), "note": note}


def age_groups_by_period(wh: Warehouse, measure_id: str, districts, periods: list[tuple[str, str]]) -> list[dict]:
    """``age_groups`` for several published periods (each must be one exactly: nothing is substituted)."""
    _checked(wh, measure_id, "all")
    area = published.area_of(wh, districts)
    level = "hips" if area == HIPS else "district"
    return [
        {**_ages(wh, measure_id, area, published.find_period(wh, measure_id, s, e, level)), "note": None}
        for s, e in periods
    ]


def _ages(wh: Warehouse, measure_id: str, area: str, period: Period) -> dict:
    total = period_cell(wh, measure_id, area, period, "all")
    young = period_cell(wh, measure_id, area, period, "u25")
    t, y = total["count"], young["count"]
    # 25 and over is all ages less under 25: exact from two exact counts, and a lower bound ("at least") when only
    # all ages is one (the cells the supplier hid are then outside under 25). A lower bound less a lower bound
    # bounds nothing. No shares of a lower bound.
    older = t - y if t is not None and y is not None and not young["incomplete"] else None
    shares = t is not None and t > 0 and not total["incomplete"]
    bands = pd.DataFrame(
        {
            "group": ["u25", "25plus"],
            "label": [
                "Under 25 (at least)" if young["incomplete"] else "Under 25",
                "25 and over (at least)" if older is not None and total["incomplete"] else "25 and over",
            ],
            "count": pd.array([y, older], dtype="Int64"),
            "share": [
                y / t if y is not None and shares else np.nan,
                older / t if older is not None and shares else np.nan,
            ],
            "suppressed": [y is None, older is None],
            "incomplete": [bool(young["incomplete"]), bool(total["incomplete"])],
        }
    )
    if young["incomplete"] and t is not None and y is not None:  # not hidden: not known (the summary says why)
        bands = bands[bands["group"] == "u25"].reset_index(drop=True)
    return {
        "bands": bands,
        "under_25": y,
        "total": t,
        "incomplete": total["incomplete"] or young["incomplete"],
        "period": period,
        "partner_only": AGE_BANDS_PARTNER_ONLY,
    }


def yearly(wh: Warehouse, measure_id: str, districts=(), age: str = "all") -> pd.DataFrame:
    """Every published financial year of the area: fy (2023-24), start, end, months, count (Int64, NA where
    hidden), suppressed, incomplete, young (the under-25 cell), young_suppressed."""
    _checked(wh, measure_id, age)
    area = published.area_of(wh, districts)
    main = _cells(wh, measure_id, (area,), "fy", age)
    young = _cells(wh, measure_id, (area,), "fy", "u25")[["start", "count", "suppressed"]]
    frame = main.merge(
        young.rename(columns={"count": "young", "suppressed": "young_suppressed"}), on="start", how="left"
    )
    frame["fy"] = [f"{s.year}-{(s.year + 1) % 100:02d}" for s in frame["start"]]
    frame["count"] = pd.array(frame["count"].round(), dtype="Int64")
    frame["young"] = pd.array(frame["young"].round(), dtype="Int64")
    frame["young_suppressed"] = frame["young_suppressed"].fillna(True).astype(bool)
    cols = ["fy", "start", "end", "months", "count", "suppressed", "incomplete", "young", "young_suppressed"]
    return frame[cols].sort_values("start").reset_index(drop=True)


def rolling_counts(wh: Warehouse, measure_id: str, districts=(), age: str = "all", months: int = 12) -> pd.DataFrame:
    """The published rolling 12 months ending at each quarter end: window_start, window_end, count (NaN where
    hidden), suppressed, incomplete, population. Only 12-month windows are published."""
    _checked(wh, measure_id, age)
    if months != 12:
        raise NotPublished(
            "The public figures hold rolling 12-month totals only: longer windows are shown to partners, since "
            "one window less another could reveal a small number."
        )
    area = published.area_of(wh, districts)
    frame = _cells(wh, measure_id, (area,), "rolling12", age)
    out = frame.rename(columns={"start": "window_start", "end": "window_end"})
    out = out[["window_start", "window_end", "count", "suppressed", "incomplete"]].sort_values("window_end")
    out["count"] = pd.array(out["count"].round(), dtype="Int64")
    out["population"] = _population(wh, measure_id, area, age)
    return out.reset_index(drop=True)


def district_rates(wh: Warehouse, measure_id: str, period: Period, age: str = "all") -> pd.DataFrame:
    """Each district's published cell for ``period`` with its annual rate and 95% interval, compared with the
    HIPS cell's rate (only where both counts are published): the columns of outcomes.district_rates."""
    _checked(wh, measure_id, age)
    measure = wh.registry.get(measure_id)
    frame = wh.districts()[["district_code", "district_name"]].copy()
    cells = _cells(wh, measure_id, tuple(frame["district_code"]), period.type, age, period.start, period.end)
    cells = cells[(cells["start"] == period.start) & (cells["end"] == period.end)]
    frame = frame.merge(cells[["area", "count", "suppressed", "incomplete"]], left_on="district_code", right_on="area")
    frame = frame.drop(columns="area")
    frame["population"] = [_population(wh, measure_id, d, age) for d in frame["district_code"]]
    frame["years"] = period.months / 12
    exposure = frame["population"].to_numpy() * frame["years"].to_numpy()
    hips = period_cell(wh, measure_id, HIPS, period, age)
    hips_rate = annual_rate(hips["count"], _population(wh, measure_id, HIPS, age), period.months, measure.per)
    rate, lower, upper = rate_ci(frame["count"].fillna(0).to_numpy(), exposure, per=measure.per)
    hidden = frame["suppressed"].to_numpy()
    frame["rate"] = np.where(hidden, np.nan, rate)
    frame["lower"] = np.where(hidden, np.nan, lower)
    frame["upper"] = np.where(hidden, np.nan, upper)
    frame["compared_with_hips"] = np.where(
        hidden,
        "not compared",
        compare(frame["lower"].to_numpy(), frame["upper"].to_numpy(), hips_rate, measure.polarity),
    )
    frame["count"] = pd.array(frame["count"].round(), dtype="Int64")
    frame["hips_rate"] = hips_rate
    return frame.sort_values("district_name").reset_index(drop=True)


def homicide_methods(*_args, **_kwargs) -> pd.DataFrame:
    raise NotPublished(METHODS_PARTNER_ONLY)
