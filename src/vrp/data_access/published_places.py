"""The Hotspots page for the public audience: built only from cells of the published cube (``pub_cube``).

The cube holds LSOAs only for financial years, all ages, of the measures mapped by LSOA with a suppression rule
(knife-enabled serious violence and serious violence). So the public map shows one published financial year, its
hidden LSOAs as hidden, and every figure derived from it (rates, ranks, Gi* classes, shares, the concentration
curve) comes from published cells only (docs/METHODS.md#what-the-public-pages-show):

- rates and ranks only where the LSOA's count is published (ranks among the published LSOAs);
- Gi* classes over the published LSOAs alone (a hidden LSOA is left out of the test and of its neighbours'
  neighbourhoods, and is classed "hidden");
- shares of the selection's total use the published total of the area (HIPS or the district) for the year, so
  they are exact; with that total hidden, no share is shown;
- the concentration curve, the top 1/5/10% shares and the Gini coefficient count each hidden LSOA at the
  same value, the part of the published total that the published LSOAs leave, shared equally among the hidden
  ones: a figure computed from published cells alone, shown as approximate.

Views with no cube cells (the hour-by-weekday grid, the offence mix, an LSOA's months) are refused with
``NotPublished`` and a reason fit for the page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import sqlalchemy as sa

from vrp.data_access import published
from vrp.data_access import tables as t
from vrp.data_access.published import NotPublished
from vrp.data_access.validation import HIPS, parse_month
from vrp.geo.boundaries import lsoa_topology
from vrp.periods import Period, months_in
from vrp.stats import compare, concentration, gi_star, rate_ci

if TYPE_CHECKING:
    from vrp.data_access.queries import Warehouse

HIDDEN_CLASS = "hidden"
PARTNER_ONLY_MIX = (
    "Shown to partners only: the offence mix of one LSOA is not in the public release, because its small numbers "
    "could identify people."
)
PARTNER_ONLY_GRID = (
    "Shown to partners only: the hour and day of the week of offences are not in the public release, because "
    "their small numbers could identify people."
)


def lsoa_period(wh: Warehouse, measure_id: str, start, end, age: str = "all") -> tuple[Period, str | None]:
    """The published financial year the public map shows for the filter's ``start``/``end``, and a note when it
    is not exactly that period (or not the chosen age group): the filter's own year when it is one; else the
    published year sharing most months with the filter's (on a tie the earlier, so a rolling year from October
    shows the year it starts in); else, with none overlapping, the latest published year."""
    years = lsoa_period_list(wh, measure_id)
    s, e = parse_month(start, "start"), parse_month(end, "end")
    notes = []
    chosen = next((p for p in years if p.start == s and p.end == e), None)
    if chosen is None:
        overlap = {p: _overlap(p, s, e) for p in years}
        best = max(overlap.values())
        chosen = (
            min((p for p in years if overlap[p] == best), key=lambda p: p.start)
            if best > 0
            else max(years, key=lambda p: p.end)
        )
        notes.append(f"The public map shows financial years: showing {chosen.label}.")
    if age != "all":
        notes.append("LSOAs are published for all ages only: the map shows all ages.")
    return chosen, " ".join(notes) or None


def _overlap(period: Period, start, end) -> int:
    """How many months of ``period`` lie from ``start`` to ``end`` (0 when either is missing)."""
    if start is None or end is None:
        return 0
    first, last = max(period.start, start), min(period.end, end)
    return months_in(first, last) if first <= last else 0


def _lsoas(wh: Warehouse, area: str, group: str) -> pd.DataFrame:
    """Reference data of the area's LSOAs: code, name, district, deprivation decile, population. Every LSOA of
    HIPS is read once per data version and kept in the process (reference data, asked for by every map)."""

    def read_all() -> pd.DataFrame:
        a, p = t.dim_area, t.mart_population
        q = (
            sa.select(a.c.lsoa21_code, a.c.lsoa21_name, a.c.district_code, a.c.imd_decile, p.c.population)
            .select_from(
                a.outerjoin(
                    p,
                    sa.and_(p.c.area_code == a.c.lsoa21_code, p.c.geography_level == "lsoa", p.c.age_group == group),
                )
            )
            .order_by(a.c.lsoa21_code)
        )
        return wh.read(q)

    frame = wh.in_process(f"pub_lsoas:{group}", read_all)
    return frame if area == HIPS else frame[frame["district_code"] == area].reset_index(drop=True)


def published_lsoas(wh: Warehouse, measure_id: str, area: str, period: Period) -> pd.DataFrame:
    """Every LSOA of the area with its published count for the year (NaN where hidden or not published)."""
    measure = wh.registry.get(measure_id)
    frame = _lsoas(wh, area, measure.population_group("all"))
    counts = published.lsoa_year(wh, measure_id, period)
    frame["count"] = frame["lsoa21_code"].map(counts).astype(float)
    frame["suppressed"] = frame["count"].isna()
    return frame


def _gi_classes(wh: Warehouse, frame: pd.DataFrame) -> pd.DataFrame:
    """Gi* over the published LSOAs alone; hidden ones are classed "hidden" and left out of every neighbourhood."""
    from vrp.data_access.places import GI_INFERENCE

    shown = frame[~frame["suppressed"]]
    codes = shown["lsoa21_code"].tolist()
    inside = set(codes)
    nbrs = lsoa_topology(wh.settings.reference_dir, wh.settings.build_dir).neighbours
    neighbours = {c: [n for n in nbrs.get(c, []) if n in inside] for c in codes}
    values = pd.Series(shown["rate"].fillna(0).to_numpy(), index=codes)
    frame["gi_z"] = np.nan
    frame["hotspot"] = np.where(frame["suppressed"], HIDDEN_CLASS, "not significant")
    if len(codes) >= 3 and values.std() > 0:
        gi = gi_star(values, neighbours, permutations=0, inference=GI_INFERENCE)
        at = frame.index[~frame["suppressed"]]
        frame.loc[at, "gi_z"] = gi["z"].to_numpy()
        frame.loc[at, "hotspot"] = gi["cluster"].to_numpy()
    return frame


def map_frame(frame: pd.DataFrame, wh: Warehouse | None = None) -> pd.DataFrame:
    """Rates, ranks and Gi* classes of a frame of published LSOA counts (``published_lsoas``): a pure function
    of the published counts and the reference data, so a hidden cell's true value cannot reach it."""
    frame = frame.copy()
    pop = frame["population"].astype(float)
    frame["rate"] = np.where(pop > 0, frame["count"] / pop * 1000, np.nan)
    frame["rank"] = frame["count"].rank(ascending=False, method="min").astype("Int64")
    return _gi_classes(wh, frame) if wh is not None else frame


def hotspot_map(wh: Warehouse, measure_id: str, districts=(), start=None, end=None, age: str = "all") -> pd.DataFrame:
    """The public map: every LSOA of HIPS or one district, for one published financial year (``lsoa_period``)."""
    f = wh.check(measure_id, districts, start, end, age)
    area = published.area_of(wh, f.districts)
    period, _ = lsoa_period(wh, f.measure_id, f.start, f.end, f.age)

    def compute():
        return map_frame(published_lsoas(wh, f.measure_id, area, period), wh)

    return wh.cached("pub_hotspot_map", {"m": f.measure_id, "a": area, "p": [period.start, period.end]}, compute)


def area_total(wh: Warehouse, measure_id: str, area: str, period: Period) -> int | None:
    """The area's (HIPS or a district's) published count for the year, all ages; None where hidden or absent.
    Asked of pub_cube by level directly, the level named rather than read from the shape of the code."""

    def compute():
        c = t.pub_cube
        q = sa.select(c.c.count, c.c.suppressed).where(
            c.c.measure_id == measure_id,
            c.c.area_level == ("hips" if area == HIPS else "district"),
            c.c.area_code == area,
            c.c.age == "all",
            c.c.period_type == period.type,
            c.c.period_start == period.start,
            c.c.period_end == period.end,
        )
        row = wh.read(q)
        return None if row.empty or bool(row["suppressed"].iloc[0]) else int(row["count"].iloc[0])

    return wh.cached("pub_area_total", {"m": measure_id, "a": area, "p": [period.start, period.end]}, compute)


def concentration_from(frame: pd.DataFrame, total: int | None) -> dict:
    """The concentration figures from published cells only: the LSOAs' published counts and the area's published
    total. Each hidden LSOA counts as (total - published LSOAs) / hidden LSOAs; the result is then approximate."""
    n_hidden = int(frame["count"].isna().sum())
    base = {"areas": len(frame), "total": total, "hidden_areas": n_hidden, "approximate": False}
    empty = {"area_share": [], "harm_share": [], "top_1": None, "top_5": None, "top_10": None, "gini": None}
    if total is None:
        return {**base, **empty, "hidden": True}
    left = max(float(total) - float(frame["count"].sum()), 0.0)
    each = left / n_hidden if n_hidden else 0.0
    result = concentration(frame["count"].fillna(each))
    if not result.total:
        return {**base, **empty, "hidden": False}
    curve = result.curve
    steps = np.linspace(0, 1, 101 if len(frame) >= 500 else 11)
    at = np.interp(steps, curve["area_share"].to_numpy(), curve["value_share"].to_numpy())
    return {
        **base,
        "hidden": False,
        "approximate": bool(n_hidden and left > 0),
        "imputed": each,
        "area_share": steps.tolist(),
        "harm_share": at.tolist(),
        "top_1": result.top_1,
        "top_5": result.top_5,
        "top_10": result.top_10,
        "gini": result.gini,
    }


def concentration_of_harm(wh: Warehouse, measure_id: str, districts=(), start=None, end=None, age: str = "all") -> dict:
    f = wh.check(measure_id, districts, start, end, age)
    area = published.area_of(wh, f.districts)
    period, _ = lsoa_period(wh, f.measure_id, f.start, f.end, f.age)
    frame = hotspot_map(wh, f.measure_id, f.districts, f.start, f.end, f.age)
    return {**concentration_from(frame, area_total(wh, f.measure_id, area, period)), "period": period.label}


def top_from(frame: pd.DataFrame, total: int | None, district_names: dict, n: int = 20) -> pd.DataFrame:
    """The n published LSOAs with the most harm; shares of the area's published total (none when it is hidden)."""
    top = frame.dropna(subset=["count"]).sort_values(["count", "lsoa21_code"], ascending=[False, True]).head(n)
    top = top[top["count"] > 0].copy()
    top["share"] = top["count"] / total if total else np.nan
    top["cumulative_share"] = top["share"].cumsum()
    top["district_name"] = top["district_code"].map(district_names)
    return top[
        ["rank", "lsoa21_code", "lsoa21_name", "district_name", "count", "rate", "share", "cumulative_share", "hotspot"]
    ].reset_index(drop=True)


def top_places(wh: Warehouse, measure_id: str, districts=(), start=None, end=None, age="all", n=20) -> pd.DataFrame:
    f = wh.check(measure_id, districts, start, end, age)
    area = published.area_of(wh, f.districts)
    period, _ = lsoa_period(wh, f.measure_id, f.start, f.end, f.age)
    frame = hotspot_map(wh, f.measure_id, f.districts, f.start, f.end, f.age)
    names = wh.districts().set_index("district_code")["district_name"].to_dict()
    return top_from(frame, area_total(wh, f.measure_id, area, period), names, n)


def lsoa_profile(wh: Warehouse, lsoa: str, measure_id: str, start=None, end=None, age: str = "all") -> dict:
    """One LSOA in the public view: its published count and rate for the map's year against its district's
    published year, and its published financial years as the trend. No offence mix (partners only)."""
    f = wh.check(measure_id, (), start, end, age)
    measure = wh.registry.get(f.measure_id)
    period, note = lsoa_period(wh, f.measure_id, f.start, f.end, f.age)

    def compute():
        a = wh.read(sa.select(t.dim_area).where(t.dim_area.c.lsoa21_code == lsoa)).iloc[0]
        district = str(a["district_code"])
        years = published.cells(wh, f.measure_id, (lsoa,), "fy", "all")
        series = pd.DataFrame(
            {
                "month": years["start"],
                "label": [Period("fy", s, e).label for s, e in zip(years["start"], years["end"], strict=True)],
                "count": years["count"],
                "suppressed": years["suppressed"],
            }
        ).reset_index(drop=True)
        this = years[(years["start"] == period.start) & (years["end"] == period.end)]
        count = None if this.empty or this["suppressed"].iloc[0] else int(this["count"].iloc[0])
        p = t.mart_population
        pops = dict(
            wh.read(
                sa.select(p.c.area_code, p.c.population).where(
                    p.c.age_group == measure.population_group("all"), p.c.area_code.in_([lsoa, district])
                )
            ).itertuples(index=False)
        )
        d_count = area_total(wh, f.measure_id, district, period)
        d_rate = d_count / pops[district] * 1000 if d_count is not None and pops.get(district) else np.nan
        rate, lo, hi = rate_ci(count, pops.get(lsoa, 0), per=1000) if count is not None else (None,) * 3
        verdict = "not compared" if count is None or np.isnan(d_rate) else compare(lo, hi, d_rate, measure.polarity)
        return {
            "lsoa21_code": lsoa,
            "lsoa21_name": str(a["lsoa21_name"]),
            "district_code": district,
            "imd_decile": int(a["imd_decile"]),
            "series": series,
            "trend_title": "Published financial years",
            "mix": pd.DataFrame(columns=["group", "count"]),
            "mix_note": PARTNER_ONLY_MIX,
            "count": count,
            "rate": rate,
            "lower": lo,
            "upper": hi,
            "district_count": d_count,
            "district_rate": d_rate,
            "comparison": verdict,
            "population": pops.get(lsoa),
            "period": period.label,
        }

    # The note depends on the age and period asked for, which the key leaves out: added after the cache.
    profile = wh.cached("pub_lsoa_profile", {"m": f.measure_id, "l": lsoa, "p": [period.start, period.end]}, compute)
    return {**profile, "note": note}


def hour_by_weekday(wh: Warehouse, measure_id: str, districts=(), start=None, end=None, age: str = "all"):
    """None where the source records no time of day (as for partners); refused where it does: no cube cells."""
    f = wh.check(measure_id, districts, start, end, age)
    if wh.registry.get(f.measure_id).source != "police_records":
        return None
    raise NotPublished(PARTNER_ONLY_GRID)


def counts_by_lsoa(wh: Warehouse, measure_id: str, districts=(), start=None, end=None, age: str = "all"):
    """The published LSOA cells of one financial year (``start``/``end`` must be one: a caller without a page
    gets no note, so nothing is swapped), all ages, for the districts' LSOAs (all of HIPS when none)."""
    f = wh.check(measure_id, districts, start, end, age)
    if f.age != "all":
        raise NotPublished("LSOAs are published for all ages only.")
    years = {(p.start, p.end): p for p in lsoa_period_list(wh, f.measure_id)}
    period = years.get((f.start, f.end))
    if period is None:
        raise NotPublished(
            f"{wh.registry.get(f.measure_id).label} is published by LSOA for whole financial years only "
            f"({', '.join(p.label for p in years.values())})."
        )
    frames = [published_lsoas(wh, f.measure_id, area, period) for area in (f.districts or (HIPS,))]
    cols = ["lsoa21_code", "lsoa21_name", "district_code", "count", "population", "imd_decile", "suppressed"]
    return pd.concat(frames, ignore_index=True)[cols]


def lsoa_period_list(wh: Warehouse, measure_id: str) -> list[Period]:
    """The financial years the cube publishes by LSOA for the measure; NotPublished when there are none."""
    years = [p for p in published.periods(wh, measure_id, "lsoa", "all") if p.type == "fy"]
    if not years:
        label = wh.registry.get(measure_id).label.lower()
        raise NotPublished(
            f"The public release holds {label} by district and for all of HIPS, not by LSOA, so "
            "the public view has no map of it: the district figures are on the other pages. The LSOA map, its "
            "hotspots and top places are shown to signed-in partners."
        )
    return years
