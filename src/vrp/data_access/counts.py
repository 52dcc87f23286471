"""Questions about counts and totals from the marts: monthly series, LSOA and period tables, the force-level
national series, period totals and the latest figures. Computed from true counts; each result leaves through the
audience rule (vrp.data_access.audience)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import sqlalchemy as sa

from vrp.data_access import tables as t
from vrp.data_access.mart import mart_where, raw_total, totals_many
from vrp.data_access.measures import Measure
from vrp.data_access.validation import AGE_GROUPS, Filter, InvalidQuery, parse_month
from vrp.periods import add_months, months_in

if TYPE_CHECKING:
    from vrp.data_access.queries import Warehouse

FORCE_NAME = "Hampshire"  # the force's name in the ONS series


def month_range(wh: Warehouse, measure_id: str) -> tuple[date | None, date | None]:
    if wh.audience == "public" and measure_id in wh.registry and wh.registry.get(measure_id).source != "ons_knife":
        from vrp.data_access import published_counts

        return published_counts.month_range(wh, measure_id)
    f = wh.check(measure_id)
    measure = wh.registry.get(f.measure_id)

    def compute():
        if measure.source == "ons_knife":
            m = t.mart_force_counts
            q = sa.select(sa.func.min(m.c.quarter_start), sa.func.max(m.c.quarter_start)).where(
                m.c.measure_id == measure.id
            )
        else:
            m = t.mart_counts
            q = sa.select(sa.func.min(m.c.month), sa.func.max(m.c.month)).where(m.c.measure_id == measure.id)
        with wh.engine.connect() as conn:
            return tuple(conn.execute(q).one())

    return wh.cached("month_range", f.as_key(), compute)


def _read_populations(wh: Warehouse) -> tuple[dict, dict]:
    """District and force populations by age group, and the force's per group (summed over its rows)."""
    table = wh.read(sa.select(t.mart_population).where(t.mart_population.c.geography_level.in_(("district", "force"))))
    by_key = {(r.geography_level, r.area_code, r.age_group): float(r.population) for r in table.itertuples()}
    force = {g: sum(v for (lvl, _, g2), v in by_key.items() if lvl == "force" and g2 == g) for g in AGE_GROUPS}
    return by_key, force


def population(
    wh: Warehouse, districts: tuple[str, ...] = (), age: str = "all", measure: Measure | None = None
) -> float:
    """The denominator: the selected age group, or the measure's own (under-25 measures use under-25s)."""
    group = measure.population_group(age) if measure is not None else ("u25" if age == "u25" else "all")
    # District and force populations: 14 x 5 rows, read once per data version and kept in the process (a
    # page asks dozens of times; even a cache round trip per ask adds up).
    by_key, force = wh.in_process("populations", lambda: _read_populations(wh))
    if districts:
        return sum(by_key.get(("district", d, group), 0.0) for d in districts)
    return force.get(group, 0.0)


def monthly_counts(
    wh: Warehouse, measure_id: str, districts=(), start=None, end=None, age: str = "all"
) -> pd.DataFrame:
    """One row per month of the period (months with nothing recorded included, as 0):
    month, count, suppressed, incomplete (supplier-hidden cells), population."""
    if wh.audience == "public":
        from vrp.data_access import published_counts

        return published_counts.monthly_counts(wh, measure_id, districts, start, end, age)
    f = wh.check(measure_id, districts, start, end, age)
    measure = wh.registry.get(f.measure_id)
    if measure.source == "ons_knife":
        raise InvalidQuery(f"{measure.label} is quarterly and force-level: use force_quarterly")

    def compute():
        m = t.mart_counts
        q = (
            sa.select(
                m.c.month,
                sa.func.sum(m.c.count).label("count"),
                sa.func.sum(m.c.suppressed_cells).label("hidden_cells"),
            )
            .where(*mart_where(f))
            .group_by(m.c.month)
            .order_by(m.c.month)
        )
        frame = wh.read(q)
        lo, hi = f.start, f.end
        if lo is None or hi is None:
            first, last = wh.month_range(f.measure_id)
            lo, hi = lo or first, hi or last
        months = (
            pd.DataFrame({"month": pd.date_range(lo, hi, freq="MS").date})
            if lo and hi
            else pd.DataFrame({"month": pd.Series([], dtype=object)})
        )
        frame["month"] = pd.to_datetime(frame["month"]).dt.date
        out = months.merge(frame, on="month", how="left")
        out["count"] = out["count"].fillna(0).astype(int)
        out["incomplete"] = out["hidden_cells"].fillna(0).astype(int) > 0
        out = out.drop(columns="hidden_cells")
        out["population"] = wh.population(f.districts, f.age, measure)
        return wh.audience_rule.suppress_months(out, measure)

    return wh.cached("monthly_counts", f.as_key(), compute)


def lsoa_counts_raw(wh: Warehouse, f: Filter) -> pd.DataFrame:
    """True counts for every LSOA of the selection (zeros included), with population and deprivation.
    Internal to data_access: callers outside it get suppressed results."""
    measure = wh.registry.get(f.measure_id)
    m, a, p = t.mart_counts, t.dim_area, t.mart_population
    counts = (
        sa.select(m.c.lsoa21_code, sa.func.sum(m.c.count).label("count"))
        .where(*mart_where(f), m.c.geography_level == "lsoa")
        .group_by(m.c.lsoa21_code)
        .subquery()
    )
    group = measure.population_group(f.age)
    q = (
        sa.select(
            a.c.lsoa21_code,
            a.c.lsoa21_name,
            a.c.district_code,
            a.c.imd_decile,
            sa.func.coalesce(counts.c.count, 0).label("count"),
            p.c.population,
        )
        .select_from(
            a.outerjoin(counts, counts.c.lsoa21_code == a.c.lsoa21_code).join(
                p, sa.and_(p.c.area_code == a.c.lsoa21_code, p.c.geography_level == "lsoa", p.c.age_group == group)
            )
        )
        .order_by(a.c.lsoa21_code)
    )
    if f.districts:
        q = q.where(a.c.district_code.in_(f.districts))
    frame = wh.read(q)
    frame["count"] = frame["count"].astype(int)
    return frame


def counts_by_lsoa(
    wh: Warehouse, measure_id: str, districts=(), start=None, end=None, age: str = "all"
) -> pd.DataFrame:
    """Every LSOA of the selected districts (those with nothing recorded included):
    lsoa21_code, lsoa21_name, district_code, count, population, imd_decile, suppressed. The public audience gets
    the published cube's LSOA cells of one financial year (published_places.counts_by_lsoa)."""
    if wh.audience == "public":
        from vrp.data_access import published_places

        return published_places.counts_by_lsoa(wh, measure_id, districts, start, end, age)
    f = wh.check(measure_id, districts, start, end, age)
    measure = wh.registry.get(f.measure_id)
    if not measure.has_lsoa:
        raise InvalidQuery(f"{measure.label} is not available by LSOA")

    def compute():
        # A district's total is published beside its LSOAs: protect hidden LSOAs from it.
        return wh.audience_rule.suppress(wh.lsoa_counts_raw(f), measure, secondary_by="district_code")

    return wh.cached("counts_by_lsoa", f.as_key(), compute)


def _national_by_period(wh: Warehouse, f: Filter, by: str) -> pd.DataFrame:
    """The force's quarters within the filter's months, summed by financial year or by quarter."""
    frame = wh.force_quarterly(f.measure_id, forces=(FORCE_NAME,))
    if f.start:
        frame = frame[frame["quarter_start"] >= f.start]
    if f.end:
        frame = frame[frame["quarter_start"] <= f.end]
    key = frame["financial_year"] if by == "fy" else frame["quarter_start"].map(lambda d: f"{d:%Y-%m}")
    return frame.groupby(key)["count"].sum().rename_axis("period").reset_index()


def counts_by_period(
    wh: Warehouse, measure_id: str, by: str = "fy", districts=(), start=None, end=None, age: str = "all"
) -> pd.DataFrame:
    """period (``2023-24`` or ``2023-04``), count, suppressed: the table behind ``vrp summary``. Public: the
    published cells (the national series is open data and read as for partners)."""
    if by not in ("fy", "month"):
        raise InvalidQuery("by must be fy or month")
    if wh.audience == "public" and measure_id in wh.registry and wh.registry.get(measure_id).source != "ons_knife":
        from vrp.data_access import published_counts

        return published_counts.counts_by_period(wh, measure_id, by, districts, start, end, age)
    f = wh.check(measure_id, districts, start, end, age)
    measure = wh.registry.get(f.measure_id)

    def compute():
        if measure.source == "ons_knife":
            if f.districts:
                return pd.DataFrame(columns=["period", "count", "suppressed"])
            out = _national_by_period(wh, f, by)
        else:
            m, d = t.mart_counts, t.dim_month
            period = d.c.financial_year if by == "fy" else d.c.month_label
            q = (
                sa.select(period.label("period"), sa.func.sum(m.c.count).label("count"))
                .select_from(m.join(d, d.c.month == m.c.month))
                .where(*mart_where(f))
                .group_by(period)
                .order_by(period)
            )
            out = wh.read(q)
        out["count"] = out["count"].astype(int)
        if by == "month" and len(out):
            months = out.assign(month=pd.to_datetime(out["period"] + "-01"))
            return wh.audience_rule.suppress_months(months, measure).drop(columns="month")
        return wh.audience_rule.suppress(out, measure)

    return wh.cached("counts_by_period", {**f.as_key(), "by": by}, compute)


def force_quarterly(wh: Warehouse, measure_id: str = "ons_knife_crime", forces: tuple[str, ...] = ()) -> pd.DataFrame:
    f = wh.check(measure_id)
    if wh.registry.get(f.measure_id).source != "ons_knife":
        raise InvalidQuery(f"{measure_id} is not a force-level series")
    forces = tuple(sorted(forces))

    def compute():
        m = t.mart_force_counts
        q = sa.select(m).where(m.c.measure_id == f.measure_id).order_by(m.c.force_name, m.c.quarter_start)
        if forces:
            q = q.where(m.c.force_name.in_(forces))
        frame = wh.read(q)
        frame["quarter_start"] = pd.to_datetime(frame["quarter_start"]).dt.date
        return frame

    return wh.cached("force_quarterly", {"m": f.measure_id, "f": list(forces)}, compute)


def period_total(wh: Warehouse, measure_id: str, districts=(), start=None, end=None, age: str = "all") -> dict:
    """One total for a period: count (None when the audience rule hides it), suppressed, incomplete."""
    if wh.audience == "public":
        from vrp.data_access import published_counts

        return published_counts.period_total(wh, measure_id, districts, start, end, age)
    f = wh.check(measure_id, districts, start, end, age)
    measure = wh.registry.get(f.measure_id)

    def compute():
        total, hidden = raw_total(wh, f)
        first, last = wh.month_range(f.measure_id)
        span = {"p": (f"{(f.start or first):%Y-%m}", f"{(f.end or last):%Y-%m}")} if (f.start or first) else {}
        hide = wh.hidden_totals(f, span, {"p": (total, hidden)})["p"] if span else 0 < total < wh.threshold(measure)
        return {
            "count": None if hide else total,
            "suppressed": hide,
            "incomplete": hidden > 0,
            "population": wh.population(f.districts, f.age, measure),
        }

    return wh.cached("period_total", f.as_key(), compute)


def _latest_windows(wh: Warehouse, coverage: dict, districts: tuple[str, ...]) -> dict[str, dict]:
    """For each local source: its latest 12 months (and the 12 before, where loaded), and every one of its
    measures' totals over them, in one query per source."""
    windows: dict[str, dict] = {}
    for source, (first, last) in coverage.items():
        if first is None or last is None or source == "ons_knife":
            continue
        window_start = max(add_months(last, -11), first)
        prev_start = add_months(window_start, -12)
        periods = {"cur": (f"{window_start:%Y-%m}", f"{last:%Y-%m}")}
        if prev_start >= first:
            periods["prev"] = (f"{prev_start:%Y-%m}", f"{add_months(last, -12):%Y-%m}")
        ids = tuple(m.id for m in wh.registry if m.source == source)
        if ids:
            windows[source] = {"periods": periods, "totals": totals_many(wh, ids, districts, "all", periods)}
    return windows


def _national_latest(wh: Warehouse, measure: Measure) -> dict | None:
    """The force's latest 4 quarters against the 4 before, or None when nothing is loaded."""
    frame = wh.force_quarterly(measure.id, forces=(FORCE_NAME,))
    if frame.empty:
        return None
    cur, prev = frame.tail(4), frame.iloc[-8:-4]
    return {
        "count": int(cur["count"].sum()),
        "hidden": False,
        "previous": int(prev["count"].sum()) if len(prev) == 4 else None,
        "previous_hidden": False,
        "population": float(cur["population"].iloc[-1]),
        "period": f"4 quarters to {cur['financial_year'].iloc[-1]} Q{cur['fy_quarter'].iloc[-1]}",
    }


def _local_latest(wh: Warehouse, measure: Measure, districts: tuple[str, ...], window: dict, last: date) -> dict:
    """A local measure's total over its source's latest window and the one before, as the audience may see."""
    periods, batch = window["periods"], window["totals"]
    n = months_in(parse_month(periods["cur"][0], "start"), last)
    fm = wh.check(measure.id, districts)
    totals = batch[measure.id]
    (cur, cur_hidden), prev = totals["cur"], totals.get("prev")
    hide = wh.hidden_totals(fm, periods, totals, known=batch)
    cur_suppressed = hide["cur"]
    prev_count = None if prev is None or hide["prev"] else prev[0]
    return {
        "years": n / 12,
        "count": None if cur_suppressed else cur,
        "hidden": cur_suppressed,
        "incomplete": cur_hidden > 0,
        "previous": prev_count,
        "previous_hidden": prev is not None and bool(hide["prev"]),
        "previous_incomplete": prev is not None and prev[1] > 0,
        "population": wh.population(fm.districts, fm.age, measure),
        "period": (
            f"12 months to {last:%B %Y}"
            if n == 12
            else f"{n} month{'s' if n > 1 else ''} to {last:%B %Y} (all that is loaded)"
        ),
    }


def latest_figures(wh: Warehouse, districts=()) -> pd.DataFrame:
    """For each measure: the latest 12 months of its source (4 quarters for the national series) against the
    12 before, as counts and rates. Fewer months are labelled as such where less has been loaded."""
    if wh.audience == "public":
        from vrp.data_access import published_counts

        return published_counts.latest_figures(wh, districts)
    f0 = wh.check("serious_violence" if "serious_violence" in wh.registry else wh.registry.ids[0], districts)
    key = {"d": list(f0.districts)}

    def compute():
        coverage = wh.source_coverage()
        windows = _latest_windows(wh, coverage, f0.districts)
        rows = []
        for measure in wh.registry:
            first, last = coverage.get(measure.source, (None, None))
            if first is None or last is None:
                continue
            row = {
                "measure_id": measure.id,
                "label": measure.label,
                "source": measure.source,
                "unit": measure.unit,
                "headline": measure.headline,
                "incomplete": False,
                "previous_incomplete": False,
            }
            if measure.source == "ons_knife":
                figures = None if f0.districts else _national_latest(wh, measure)
                if figures is None:
                    continue
            else:
                figures = _local_latest(wh, measure, f0.districts, windows[measure.source], last)
            row.update(figures)
            # A rate a year, whatever the number of months loaded (the national series is a year of quarters).
            rate = (
                row["count"] / (row["population"] * row.get("years", 1.0)) * measure.per
                if row["count"] is not None and row["population"]
                else np.nan
            )
            rows.append({**row, "rate": rate})
        return pd.DataFrame(rows)

    return wh.cached("latest_figures", key, compute)
