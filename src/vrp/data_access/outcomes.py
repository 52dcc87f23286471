"""Questions the outcome pages ask: district comparisons with intervals, breakdowns, and the tables behind the
SPC charts. Computed from true counts here; the public receives only what the suppression rule allows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from vrp import periods
from vrp.data_access import tables as t
from vrp.data_access.mart import mart_where, totals_many
from vrp.data_access.measures import condition
from vrp.data_access.queries import Warehouse
from vrp.data_access.validation import AGE_GROUPS, InvalidQuery
from vrp.periods import add_months, months_in
from vrp.stats import compare, funnel_position, rate_ci

AGE_LABELS = {"u18": "Under 18", "18_24": "18 to 24", "25plus": "25 and over", "unknown": "Not known"}


def district_rates(wh: Warehouse, measure_id: str, start=None, end=None, age: str = "all") -> pd.DataFrame:
    """Every district: count, population, rate a year per the measure's unit with a 95% interval, compared with
    HIPS (similar/better/worse by polarity) and its place on the funnel. Hidden counts hide their rate too.

    Rates are annual: a period of other than 12 months uses population x years as the exposure.
    """
    if wh.audience == "public":
        from vrp.data_access import published_counts

        return published_counts.district_rates(wh, measure_id, start, end, age)
    f = wh.check(measure_id, (), start, end, age)
    measure = wh.registry.get(f.measure_id)
    if "district" not in measure.geography_levels:
        raise InvalidQuery(f"{measure.label} is not available by district")

    def compute():
        m = t.mart_counts
        counts = wh.read(
            sa.select(m.c.district_code, sa.func.sum(m.c.count).label("count"))
            .where(*mart_where(f))
            .group_by(m.c.district_code)
        )
        group = measure.population_group(f.age)
        p = t.mart_population
        pops = wh.read(
            sa.select(p.c.area_code.label("district_code"), p.c.population).where(
                p.c.geography_level == "district", p.c.age_group == group
            )
        )
        frame = wh.districts().merge(pops, on="district_code").merge(counts, on="district_code", how="left")
        frame["count"] = frame["count"].fillna(0).astype(int)
        first, last = wh.month_range(f.measure_id)
        lo, hi = f.start or first, f.end or last
        years = months_in(lo, hi) / 12 if lo and hi else 1.0
        frame["years"] = years
        exposure = frame["population"].to_numpy() * years
        total, population = int(frame["count"].sum()), float(exposure.sum())
        hips_rate = total / population * measure.per if population else np.nan
        frame["rate"], frame["lower"], frame["upper"] = rate_ci(frame["count"].to_numpy(), exposure, per=measure.per)
        frame["compared_with_hips"] = compare(
            frame["lower"].to_numpy(), frame["upper"].to_numpy(), hips_rate, measure.polarity
        )
        frame["funnel"] = funnel_position(frame["count"].to_numpy(), exposure, hips_rate, per=measure.per).to_numpy()
        frame["hips_rate"] = hips_rate
        # The HIPS total is published beside the districts: protect hidden districts from it.
        out = wh.audience_rule.suppress(frame, measure, secondary_by="_series")
        hide = out["suppressed"]
        out.loc[hide, ["rate", "lower", "upper"]] = np.nan
        out.loc[hide, ["compared_with_hips", "funnel"]] = "not compared"
        return out.sort_values("district_name").reset_index(drop=True)

    return wh.cached("district_rates", f.as_key(), compute)


def breakdown(
    wh: Warehouse, measure_id: str, by: str, districts=(), start=None, end=None, age: str = "all"
) -> pd.DataFrame:
    """Counts by ``age_band`` (from the mart) or ``offence_subgroup`` (police records): group, count, share."""
    if wh.audience == "public":
        from vrp.data_access import published_counts

        return published_counts.breakdown(wh, measure_id, by, districts, start, end, age)
    if by not in ("age_band", "offence_subgroup"):
        raise InvalidQuery("breakdown must be by age_band or offence_subgroup")
    f = wh.check(measure_id, districts, start, end, age)
    measure = wh.registry.get(f.measure_id)

    def compute():
        if by == "age_band":
            m = t.mart_counts
            frame = wh.read(
                sa.select(m.c.age_band.label("group"), sa.func.sum(m.c.count).label("count"))
                .where(*mart_where(f))
                .group_by(m.c.age_band)
            )
            order = list(AGE_LABELS)
            frame = pd.DataFrame({"group": order}).merge(frame, on="group", how="left").fillna({"count": 0})
            frame["label"] = frame["group"].map(AGE_LABELS)
        else:
            if measure.source != "police_records":
                raise InvalidQuery(f"{measure.label} has no offence breakdown")
            r, o = t.fact_police_records, t.dim_offence
            q = (
                sa.select(o.c.offence_subgroup.label("group"), sa.func.count().label("count"))
                .select_from(r.join(o, o.c.ho_offence_code == r.c.ho_offence_code))
                .where(*wh.records_where(f))
                .group_by(o.c.offence_subgroup)
            )
            frame = wh.read(q).sort_values("count", ascending=False)
            frame["label"] = frame["group"]
        frame["count"] = frame["count"].astype(int)
        total = int(frame["count"].sum())
        frame["share"] = frame["count"] / total if total else np.nan
        out = wh.audience_rule.suppress(frame.reset_index(drop=True), measure, secondary_by="_series")
        out.loc[out["suppressed"], "share"] = np.nan
        return out

    return wh.cached("breakdown", {**f.as_key(), "by": by}, compute)


def fy_months(fy: str) -> tuple[str, str]:
    """'2022-23' -> ('2022-04', '2023-03'); anything else is refused as a query."""
    try:
        return periods.fy_months(fy)
    except ValueError as exc:
        raise InvalidQuery(str(exc)) from None


def comparable(current: dict | None, other: dict | None) -> bool:
    """Whether two periods' counts can be compared: neither is a lower bound. A count holding cells the supplier
    hid (NHS data: 1 to 7 each) is only "at least" that much, so its change from another is not known: 74 against
    74 may be 74 against 90."""
    return not ((current or {}).get("incomplete") or (other or {}).get("incomplete"))


def comparisons(
    wh: Warehouse,
    measure_id: str,
    districts=(),
    end: str | None = None,
    age: str = "all",
    baseline_fy: str | None = None,
    start: str | None = None,
) -> dict:
    """The latest 12 months to ``end`` against the 12 before and against the baseline year: counts, rates with
    intervals, change and whether it is statistically significant (exact conditional test on the counts).

    Returns {"current": {...}, "previous": {...} | None, "baseline": {...} | None, "year_on_year": ChangeResult |
    None, "against_baseline": ChangeResult | None}; each period dict has start, end, count, rate, lower, upper,
    suppressed, incomplete. Changes are only given when both counts may be shown to this audience and neither is
    a lower bound (cells the supplier hid: the true change is not known, see comparable()).

    Public (published_counts.comparisons): the published period for ``start``/``end`` (or the rolling 12 months
    to ``end``, else the latest) against the same period a year before, each a cube cell, with its note.
    """
    if wh.audience == "public":
        from vrp.data_access import published_counts

        return published_counts.comparisons(wh, measure_id, districts, end, age, baseline_fy, start)
    from vrp.stats import change

    f = wh.check(measure_id, districts, None, end, age)
    measure = wh.registry.get(f.measure_id)
    first, last = wh.source_coverage().get(measure.source, (None, None))
    if first is None:
        raise InvalidQuery(f"{measure.label} has no data loaded")
    end = f"{f.end:%Y-%m}" if f.end else f"{last:%Y-%m}"
    periods = {"current": (add_months(end, -11), end), "previous": (add_months(end, -23), add_months(end, -12))}
    baseline_fy = baseline_fy or wh.settings.baseline_fy
    periods["baseline"] = fy_months(baseline_fy)

    def compute():
        out: dict = {"baseline_fy": baseline_fy}
        raw: dict = {}
        covered = {name: (s, e) for name, (s, e) in periods.items() if s >= f"{first:%Y-%m}" and e <= f"{last:%Y-%m}"}
        # This measure and those published beside it (its whole or parts), in one query.
        ids = (f.measure_id, *(m.id for m in wh.registry.related(f.measure_id)))
        batch = totals_many(wh, ids, f.districts, f.age, covered) if covered else {}
        totals = batch.get(f.measure_id, {})
        hide = wh.hidden_totals(f, covered, totals, known=batch) if covered else {}
        population = wh.population(f.districts, f.age, measure)
        for name, (s, e) in periods.items():
            if name not in covered:
                out[name] = None
                continue
            total, hidden = totals[name]
            rate, lo, hi = rate_ci(total, population, per=measure.per)
            suppressed = hide[name]
            raw[name] = total
            out[name] = {
                "start": s,
                "end": e,
                "count": None if suppressed else total,
                "incomplete": hidden > 0,
                "rate": None if suppressed else rate,
                "lower": None if suppressed else lo,
                "upper": None if suppressed else hi,
                "suppressed": suppressed,
                "population": population,
            }
        for key, other in (("year_on_year", "previous"), ("against_baseline", "baseline")):
            ok = (
                out.get("current")
                and out.get(other)
                and not out["current"]["suppressed"]
                and not out[other]["suppressed"]
                and comparable(out["current"], out[other])
            )
            out[key] = change(raw["current"], raw[other]) if ok else None
        return out

    return wh.cached("comparisons", {**f.as_key(), "b": baseline_fy}, compute)


# ---- Homicide page (issue 5) ----------------------------------------------------------------------------------

HOMICIDE_METHODS = {
    "sharp_instrument": "Sharp instrument",
    "blunt_instrument": "Blunt instrument",
    "hitting_kicking": "Hitting, kicking",
    "shooting": "Shooting",
    "strangulation": "Strangulation",
    "poison_drugs": "Poison or drugs",
    "burning": "Burning",
    "motor_vehicle": "Motor vehicle",
    "other": "Other method",
    "not_known": "Not known",
}


def homicide_methods(
    wh: Warehouse, measure_id: str, districts=(), start=None, end=None, age: str = "all"
) -> pd.DataFrame:
    """Homicide victims by method of killing: method, label, count, share, suppressed (every method, zeros
    included). Aggregates only, in every audience; the public get the measure's threshold with secondary
    suppression against the total, which the page publishes beside the methods. Partner-only: the public
    release holds no methods (published_outcomes.METHODS_PARTNER_ONLY says why)."""
    if wh.audience == "public":
        from vrp.data_access import published_outcomes

        return published_outcomes.homicide_methods(wh, measure_id, districts, start, end, age)
    f = wh.check(measure_id, districts, start, end, age)
    measure = wh.registry.get(f.measure_id)
    if measure.source != "homicides":
        raise InvalidQuery(f"{measure.label} has no method of killing")

    def compute():
        h = t.fact_homicides
        q = sa.select(h.c.method, sa.func.count().label("count")).where(condition(measure)).group_by(h.c.method)
        if f.districts:
            q = q.where(h.c.district_code.in_(f.districts))
        if f.start:
            q = q.where(h.c.month >= f.start)
        if f.end:
            q = q.where(h.c.month <= f.end)
        if AGE_GROUPS[f.age]:
            q = q.where(h.c.age_band.in_(AGE_GROUPS[f.age]))
        counts = wh.read(q)
        order = list(HOMICIDE_METHODS) + sorted(set(counts["method"]) - set(HOMICIDE_METHODS))
        frame = pd.DataFrame({"method": order}).merge(counts, on="method", how="left").fillna({"count": 0})
        frame["label"] = frame["method"].map(lambda m: HOMICIDE_METHODS.get(m, str(m).replace("_", " ").capitalize()))
        frame["count"] = frame["count"].astype(int)
        total = int(frame["count"].sum())
        frame["share"] = frame["count"] / total if total else np.nan
        out = wh.audience_rule.suppress(frame, measure, secondary_by="_series")
        out.loc[out["suppressed"], "share"] = np.nan
        return out

    return wh.cached("homicide_methods", f.as_key(), compute)


def rolling_counts(wh: Warehouse, measure_id: str, districts=(), age: str = "all", months: int = 36) -> pd.DataFrame:
    """Totals over each ``months``-month window ending at a quarter end (March, June, September, December),
    summed from the true monthly counts and then suppressed: window_start, window_end, count, suppressed,
    incomplete, population. Only whole windows inside the loaded data.

    Quarter-end steps rather than monthly: neighbouring windows then differ by three months, not one, so
    subtracting one published total from the next says less about a single month. Public: the cube's rolling
    12-month cells only (published_outcomes.rolling_counts)."""
    if not isinstance(months, int) or not 3 <= months <= 120:
        raise InvalidQuery("the rolling window must be 3 to 120 months")
    if wh.audience == "public":
        from vrp.data_access import published_outcomes

        return published_outcomes.rolling_counts(wh, measure_id, districts, age, months)
    f = wh.check(measure_id, districts, None, None, age)
    measure = wh.registry.get(f.measure_id)
    if measure.source == "ons_knife":
        raise InvalidQuery(f"{measure.label} is quarterly and force-level")

    def compute():
        out = _rolling_raw(wh, f, months)
        if out.empty:
            return wh.audience_rule.suppress(out, measure)
        out["population"] = wh.population(f.districts, f.age, measure)
        shown = wh.audience_rule.suppress(out, measure)
        limit = wh.threshold(measure)
        for other in wh.registry.related(f.measure_id):
            # The window's count beside its whole or part: a small difference is a count too.
            diff = (
                out["count"] - _rolling_raw(wh, wh.check(other.id, f.districts, None, None, f.age), months)["count"]
            ).abs()
            small = (diff > 0) & (diff < limit)
            shown.loc[small, "suppressed"] = True
            shown["count"] = shown["count"].mask(shown["suppressed"])
        return shown

    return wh.cached("rolling_counts", {**f.as_key(), "w": months}, compute)


def _rolling_raw(wh: Warehouse, f, months: int) -> pd.DataFrame:
    """True totals over each window ending at a quarter end (internal: suppressed by the caller)."""
    measure = wh.registry.get(f.measure_id)
    first, last = wh.source_coverage().get(measure.source, (None, None))
    columns = ["window_start", "window_end", "count", "incomplete"]
    if first is None or last is None:
        return pd.DataFrame({c: pd.Series(dtype=int) for c in columns})
    m = t.mart_counts
    q = (
        sa.select(m.c.month, sa.func.sum(m.c.count).label("count"), sa.func.sum(m.c.suppressed_cells).label("hidden"))
        .where(*mart_where(f))
        .group_by(m.c.month)
    )
    raw = wh.read(q)
    raw["month"] = pd.to_datetime(raw["month"]).dt.date
    series = pd.DataFrame({"month": pd.date_range(first, last, freq="MS").date}).merge(raw, on="month", how="left")
    series = series.fillna({"count": 0, "hidden": 0})
    series["count"] = series["count"].rolling(months).sum()
    series["hidden"] = series["hidden"].rolling(months).sum()
    series["window_start"] = series["month"].shift(months - 1)
    ends = series[series["count"].notna() & series["month"].map(lambda d: d.month % 3 == 0)]
    out = pd.DataFrame(
        {
            "window_start": ends["window_start"].to_numpy(),
            "window_end": ends["month"].to_numpy(),
            "count": ends["count"].astype(int).to_numpy(),
            "incomplete": (ends["hidden"] > 0).to_numpy(),
        }
    )
    return out


# ---- Hospital admissions page (issue 5) ------------------------------------------------------------------------


def age_groups(wh: Warehouse, measure_id: str, districts=(), start=None, end=None) -> dict:
    """Counts by age band together with the under-25 subtotal, suppressed as one table: {"bands": group, label,
    count, share, suppressed; "under_25": count or None; "total": count or None}.

    The public get the bands with secondary suppression against both published totals (all ages and under 25;
    25-and-over plus not-known then follows by subtraction, so it is protected too). An under-25 subtotal that
    the threshold hides is not published, and the bands are then protected against the all-ages total only.
    Public: the cube's under-25 and all-ages cells only, for its published period (published_outcomes)."""
    if wh.audience == "public":
        from vrp.data_access import published_outcomes

        return published_outcomes.age_groups(wh, measure_id, districts, start, end)
    f = wh.check(measure_id, districts, start, end, "all")
    measure = wh.registry.get(f.measure_id)

    def compute():
        m = t.mart_counts
        frame = wh.read(
            sa.select(m.c.age_band.label("group"), sa.func.sum(m.c.count).label("count"))
            .where(*mart_where(f))
            .group_by(m.c.age_band)
        )
        return _age_table(wh, measure, frame)

    return wh.cached("age_groups", f.as_key(), compute)


def age_groups_by_period(wh: Warehouse, measure_id: str, districts, periods: list[tuple[str, str]]) -> list[dict]:
    """``age_groups`` for several periods (financial years, say) from one query; each result is also cached
    as ``age_groups`` would cache it, so a chart of one of those periods reuses it. Public: published periods
    only, from the cube."""
    if wh.audience == "public":
        from vrp.data_access import published_outcomes

        return published_outcomes.age_groups_by_period(wh, measure_id, districts, periods)
    checked = [wh.check(measure_id, districts, s, e, "all") for s, e in periods]
    ordered = sorted(checked, key=lambda f: f.start)
    if any(a.end >= b.start for a, b in zip(ordered, ordered[1:], strict=False)):
        # Each month goes to one period only: overlapping periods would store short tables under age_groups' keys.
        raise ValueError("age_groups_by_period needs periods that do not overlap")
    measure = wh.registry.get(measure_id)
    keys = [f.as_key() for f in checked]
    m = t.mart_counts
    label = sa.case(
        *[(sa.and_(m.c.month >= f.start, m.c.month <= f.end), i) for i, f in enumerate(checked)], else_=-1
    ).label("period")
    base = mart_where(wh.check(measure_id, districts))

    def all_periods():
        rows = wh.read(
            sa.select(label, m.c.age_band.label("group"), sa.func.sum(m.c.count).label("count"))
            .where(*base, m.c.month >= min(f.start for f in checked), m.c.month <= max(f.end for f in checked))
            .group_by(label, m.c.age_band)
        )
        return {i: rows[rows["period"] == i][["group", "count"]] for i in range(len(checked))}

    raw: dict | None = None

    def one(i: int):
        nonlocal raw
        if raw is None:
            raw = all_periods()
        return _age_table(wh, measure, raw[i])

    return [wh.cached("age_groups", key, lambda i=i: one(i)) for i, key in enumerate(keys)]


def _age_table(wh: Warehouse, measure, counts: pd.DataFrame) -> dict:
    """The suppressed age table from raw counts by band (see age_groups)."""
    # Four rows: built directly (pandas merges and maps cost more than the suppression on a table this small).
    by_band = {g: int(n) for g, n in zip(counts["group"], counts["count"], strict=True) if pd.notna(n)}
    groups = list(AGE_LABELS)
    n = np.array([by_band.get(g, 0) for g in groups], dtype=int)
    young_rows = np.isin(groups, AGE_GROUPS["u25"])
    frame = pd.DataFrame(
        {
            "group": groups,
            "count": n,
            "label": [AGE_LABELS[g] for g in groups],
            "tier": np.where(young_rows, "under_25", "other"),
        }
    )
    total, young = int(n.sum()), int(n[young_rows].sum())
    limit = wh.threshold(measure)
    show_young = not (0 < young < limit)
    show_total = not (0 < total < limit)
    frame["share"] = frame["count"] / total if total else np.nan
    out = wh.audience_rule.suppress(frame, measure, secondary_by=["_series", "tier"] if show_young else "_series")
    out.loc[out["suppressed"], "share"] = np.nan
    return {
        "bands": out.drop(columns="tier"),
        "under_25": young if show_young and show_total else None,
        "total": total if show_total else None,
    }
