"""Counts, totals and the knife crime page's comparisons for the public audience, answered from published cells of
the cube only (docs/METHODS.md#the-published-cube).

Each function here is the public branch of its namesake in data_access/counts.py or data_access/outcomes.py and
returns the same shape. Every count is a published cell (hidden cells are NaN or None and flagged); a rate, a
change or a test is given only where its counts are published. A question the cube cannot answer (a free window
of months, several districts, months of a measure published by quarter or year, breakdowns by offence or age band)
is refused with ``NotPublished`` and a reason fit for the page.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from vrp.data_access import published
from vrp.data_access.published import KIND_NAMES, NotPublished
from vrp.data_access.validation import HIPS, InvalidQuery, parse_month
from vrp.periods import PERIOD_TYPES, Period, add_months
from vrp.stats import funnel_position, rate_ci

if TYPE_CHECKING:
    from vrp.data_access.queries import Warehouse

OFFENCES_PARTNER_ONLY = (
    "Shown to partners only: offences by Home Office offence group are not in the published figures, because "
    "split by offence the counts are small and could reveal small numbers."
)
AGE_BANDS_PARTNER_ONLY = (
    "Shown to partners only: victims by age band are not in the published figures (they hold all ages and under "
    "25 only), because split further the counts could reveal small numbers."
)


def _kinds(wh: Warehouse, measure_id: str) -> str:
    kinds = sorted({p.type for p in published.periods(wh, measure_id)}, key=PERIOD_TYPES.index)
    return ", ".join(KIND_NAMES[k] for k in kinds) or "no periods yet"


def _population(wh: Warehouse, measure_id: str, area: str, age: str) -> float:
    return wh.population(() if area == HIPS else (area,), age, wh.registry.get(measure_id))


def _level(area: str) -> str:
    return "hips" if area == HIPS else "district"


def month_range(wh: Warehouse, measure_id: str) -> tuple[date | None, date | None]:
    """The first and last month of any published period of the measure (all of HIPS)."""
    wh.check(measure_id)
    found = published.periods(wh, measure_id)
    if not found:
        return None, None
    return min(p.start for p in found), max(p.end for p in found)


def monthly_counts(
    wh: Warehouse, measure_id: str, districts=(), start=None, end=None, age: str = "all"
) -> pd.DataFrame:
    """The published month cells of one area: month, count (NaN where hidden), suppressed, incomplete, population.
    Only for a measure the cube publishes by month."""
    f = wh.check(measure_id, districts, start, end, age)
    measure = wh.registry.get(f.measure_id)
    area = published.area_of(wh, f.districts)
    if not any(p.type == "month" for p in published.periods(wh, f.measure_id, _level(area), f.age)):
        raise NotPublished(
            f"{measure.label} is published for {_kinds(wh, f.measure_id)} only, not by month: monthly figures "
            "could reveal small numbers."
        )
    cells = published.cells(wh, f.measure_id, (area,), "month", f.age, f.start, f.end)
    out = pd.DataFrame(
        {
            "month": cells["start"].to_numpy(),
            "count": cells["count"].to_numpy(dtype=float),
            "suppressed": cells["suppressed"].to_numpy(dtype=bool),
            "incomplete": cells["incomplete"].to_numpy(dtype=bool),
        }
    )
    out["population"] = _population(wh, f.measure_id, area, f.age)
    return out.reset_index(drop=True)


def period_total(wh: Warehouse, measure_id: str, districts=(), start=None, end=None, age: str = "all") -> dict:
    """The published cell for exactly ``start`` to ``end``: count (None when hidden), suppressed, incomplete,
    population, period. NotPublished, naming the published kinds, for any other window."""
    f = wh.check(measure_id, districts, start, end, age)
    area = published.area_of(wh, f.districts)
    if f.start is None or f.end is None:
        period = published.latest(wh, f.measure_id)
        if period is None:
            raise NotPublished(f"{wh.registry.get(f.measure_id).label} has no published figures yet.")
    else:
        period = published.find_period(wh, f.measure_id, f.start, f.end, _level(area))
    out = published.cell(wh, f.measure_id, area, period.start, period.end, f.age)
    return {**out, "population": _population(wh, f.measure_id, area, f.age)}


def counts_by_period(
    wh: Warehouse, measure_id: str, by: str = "fy", districts=(), start=None, end=None, age: str = "all"
) -> pd.DataFrame:
    """period (``2023-24`` or ``2023-04``), count (NaN where hidden), suppressed: the published financial years or
    months of one area lying inside ``start`` to ``end``."""
    f = wh.check(measure_id, districts, start, end, age)
    area = published.area_of(wh, f.districts)
    kind = "fy" if by == "fy" else "month"
    if not any(p.type == kind for p in published.periods(wh, f.measure_id, _level(area), f.age)):
        raise NotPublished(
            f"{wh.registry.get(f.measure_id).label} is published for {_kinds(wh, f.measure_id)} only, "
            f"not {KIND_NAMES[kind]}."
        )
    cells = published.cells(wh, f.measure_id, (area,), kind, f.age, f.start, f.end)
    label = (
        (lambda s: f"{s.year}-{(s.year + 1) % 100:02d}") if kind == "fy" else (lambda s: f"{s:%Y-%m}")  # noqa: E731
    )
    return pd.DataFrame(
        {
            "period": [label(s) for s in cells["start"]],
            "count": cells["count"].to_numpy(dtype=float),
            "suppressed": cells["suppressed"].to_numpy(dtype=bool),
        }
    )


def _year_before(period: Period) -> Period:
    return Period(period.type, add_months(period.start, -12), add_months(period.end, -12))


def _cell_or_none(wh: Warehouse, measure_id: str, area: str, period: Period, age: str) -> dict | None:
    """A published cell, or None when the cube has no such period (outside the data, say)."""
    available = published.periods(wh, measure_id, _level(area), age)
    if not any(p == period for p in available):
        return None
    return published.cell(wh, measure_id, area, period.start, period.end, age)


def _figures(wh: Warehouse, measure_id: str, area: str, period: Period, age: str) -> dict | None:
    """A period's published cell with its annual rate and 95% interval (None for all three when hidden)."""
    found = _cell_or_none(wh, measure_id, area, period, age)
    if found is None:
        return None
    measure = wh.registry.get(measure_id)
    population = _population(wh, measure_id, area, age)
    count = found["count"]
    rate, lo, hi = (
        rate_ci(count, population * period.months / 12, per=measure.per) if count is not None else (None,) * 3
    )
    return {
        "start": f"{period.start:%Y-%m}",
        "end": f"{period.end:%Y-%m}",
        "count": count,
        "incomplete": found["incomplete"],
        "rate": rate,
        "lower": lo,
        "upper": hi,
        "suppressed": found["suppressed"],
        "population": population,
        "period": period,
    }


def headline_period(wh: Warehouse, measure_id: str, start=None, end=None) -> tuple[Period, str | None]:
    """The period a headline shows: the published one for ``start``-``end`` (with page_period's note), the rolling
    12 months to ``end`` when only an end is given, else the latest rolling 12 months (or latest of any kind)."""
    if start and end:
        return published.page_period(wh, measure_id, start, end)
    if end:
        return published.page_period(wh, measure_id, add_months(end, -11), end)
    period = published.latest(wh, measure_id)
    if period is None:
        raise NotPublished(f"{wh.registry.get(measure_id).label} has no published figures yet.")
    return period, None


def comparisons(
    wh: Warehouse, measure_id: str, districts=(), end=None, age: str = "all", baseline_fy=None, start=None
) -> dict:
    """outcomes.comparisons from published cells: the headline period's cell against the same period a year
    before and against the baseline financial year (a 12-month period only). Changes are tested only when both
    cells are published and neither is a lower bound. Adds "period" and "note" (None, or why another period is
    shown)."""
    from vrp.data_access.outcomes import comparable, fy_months
    from vrp.stats import change

    f = wh.check(measure_id, districts, start, end, age)
    area = published.area_of(wh, f.districts)
    period, note = headline_period(wh, f.measure_id, start and f"{f.start:%Y-%m}", end and f"{f.end:%Y-%m}")
    baseline_fy = baseline_fy or wh.settings.baseline_fy
    b_start, b_end = fy_months(baseline_fy)
    out: dict = {"baseline_fy": baseline_fy, "period": period, "note": note}
    out["current"] = _figures(wh, f.measure_id, area, period, f.age)
    out["previous"] = _figures(wh, f.measure_id, area, _year_before(period), f.age)
    baseline = Period("fy", parse_month(b_start, "start"), parse_month(b_end, "end"))
    out["baseline"] = _figures(wh, f.measure_id, area, baseline, f.age) if period.months == 12 else None
    for key, other in (("year_on_year", "previous"), ("against_baseline", "baseline")):
        a, b = out["current"], out[other]
        ok = a is not None and b is not None and a["count"] is not None and b["count"] is not None
        ok = ok and comparable(a, b)  # neither a lower bound
        out[key] = change(a["count"], b["count"]) if ok else None
    return out


def district_rates(wh: Warehouse, measure_id: str, start=None, end=None, age: str = "all") -> pd.DataFrame:
    """outcomes.district_rates from each district's published cell for the page's period: hidden districts keep
    their row (count, rate and interval NaN; "not compared") and are left off the funnel. ``attrs`` holds the
    period and its note."""
    from vrp.data_access import published_outcomes

    f = wh.check(measure_id, (), start, end, age)
    measure = wh.registry.get(f.measure_id)
    if "district" not in measure.geography_levels:
        raise InvalidQuery(f"{measure.label} is not available by district")
    period, note = headline_period(wh, f.measure_id, start and f"{f.start:%Y-%m}", end and f"{f.end:%Y-%m}")
    frame = published_outcomes.district_rates(wh, f.measure_id, period, f.age)
    shown = ~frame["suppressed"].to_numpy(dtype=bool)
    exposure = frame["population"].to_numpy() * frame["years"].to_numpy()
    funnel = np.full(len(frame), "not compared", dtype=object)
    hips_rate = float(frame["hips_rate"].iloc[0]) if len(frame) else np.nan
    if shown.any() and np.isfinite(hips_rate):
        counts = frame["count"].to_numpy(dtype=float, na_value=np.nan)[shown]
        funnel[shown] = funnel_position(counts, exposure[shown], hips_rate, per=measure.per).to_numpy()
    frame["funnel"] = funnel
    frame.attrs.update(period=period, note=note)
    return frame


def breakdown(wh: Warehouse, measure_id: str, by: str, districts=(), start=None, end=None, age: str = "all"):
    """Partner-only: the published figures hold no breakdown by offence group or age band."""
    if by not in ("age_band", "offence_subgroup"):
        raise InvalidQuery("breakdown must be by age_band or offence_subgroup")
    wh.check(measure_id, districts, start, end, age)
    raise NotPublished(OFFENCES_PARTNER_ONLY if by == "offence_subgroup" else AGE_BANDS_PARTNER_ONLY)


def _latest_row(wh: Warehouse, measure, area: str) -> dict | None:
    """A measure's latest rolling 12 months (else financial year, else latest period) against a year before."""
    period = published.latest(wh, measure.id, ("rolling12", "fy", "quarter", "month"))
    if period is None:
        return None
    cur = _figures(wh, measure.id, area, period, "all")
    if cur is None:
        return None
    prev = _figures(wh, measure.id, area, _year_before(period), "all")
    rate = np.nan if cur["count"] is None or not cur["population"] else cur["rate"]
    return {
        "years": period.months / 12,
        "count": cur["count"],
        "hidden": cur["suppressed"],
        "incomplete": cur["incomplete"],
        "previous": None if prev is None else prev["count"],
        "previous_hidden": prev is not None and prev["suppressed"],
        "previous_incomplete": prev is not None and bool(prev["incomplete"]),
        "population": cur["population"],
        "period": f"12 months to {period.end:%B %Y}" if period.type == "rolling12" else period.label,
        "rate": rate,
    }


def latest_figures(wh: Warehouse, districts=()) -> pd.DataFrame:
    """counts.latest_figures from the cube: each measure's latest published rolling 12 months (or its latest
    period of another kind) against the same period a year before, for HIPS or one district. The national series
    is open data and read as for partners."""
    from vrp.data_access.counts import _national_latest

    area = published.area_of(wh, districts)
    rows = []
    for measure in wh.registry:
        base = {
            "measure_id": measure.id,
            "label": measure.label,
            "source": measure.source,
            "unit": measure.unit,
            "headline": measure.headline,
            "incomplete": False,
            "previous_incomplete": False,
        }
        if measure.source == "ons_knife":
            figures = None if area != HIPS else _national_latest(wh, measure)
            if figures is not None:
                per_year = figures["count"] / figures["population"] * measure.per if figures["population"] else np.nan
                figures = {**figures, "rate": per_year}
        else:
            figures = _latest_row(wh, measure, area)
        if figures is not None:
            rows.append({**base, **figures})
    return pd.DataFrame(rows)
