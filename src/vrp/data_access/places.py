"""Questions about places: the Hotspots page's data. Each computes from true counts inside data_access and
returns only what the audience may see (suppressed counts, hotspot classes, shares)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
import pandas as pd
import sqlalchemy as sa

from vrp.data_access import published_places
from vrp.data_access import tables as t
from vrp.data_access.mart import mart_where
from vrp.data_access.queries import Warehouse
from vrp.data_access.validation import Filter, InvalidQuery
from vrp.geo.boundaries import lsoa_topology
from vrp.periods import WEEKDAYS  # noqa: F401 - kept importable from here for the pages
from vrp.stats import compare, concentration, gi_star, rate_ci

# Classes come from the analytical Gi* p-values with Benjamini-Hochberg false-discovery-rate control. With 999
# permutations the smallest pseudo p-value is 0.002, and FDR control over ~1,200 LSOAs then flags nothing unless
# dozens of areas reach that floor (measured on the demo: 0 hot spots where the analytical test finds 59);
# 9,999 permutations cost seconds a view. docs/METHODS.md#hotspots.
GI_INFERENCE = "analytical"
log = logging.getLogger(__name__)


def _named_lsoas(wh: Warehouse) -> pd.DataFrame:
    """Every LSOA's name and police.uk street (None where police.uk has none), from published reference tables
    only, so the public audience may read it; held in the process for the data version."""

    def read_all() -> pd.DataFrame:
        a, n = t.dim_area, t.pub_place_names
        q = sa.select(a.c.lsoa21_code, a.c.lsoa21_name, n.c.street).select_from(
            a.outerjoin(n, n.c.lsoa21_code == a.c.lsoa21_code)
        )
        try:
            return wh.read(q)
        except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError):  # pandas wraps the driver's error in its own
            # A warehouse built before pub_place_names existed: names without streets until `vrp rebuild-marts`.
            log.warning("pub_place_names is missing: places are named without their streets until a rebuild")
            frame = wh.read(sa.select(a.c.lsoa21_code, a.c.lsoa21_name))
            return frame.assign(street=None)

    return wh.in_process("named_lsoas", read_all)


def place_names(wh: Warehouse, lsoa_codes: Iterable[str]) -> dict[str, str]:
    """Names people recognise for LSOAs: "Portsmouth 027C, around Commercial Road", the LSOA's name and the
    police.uk street location most often recorded inside it (pipeline/place_names.py); the name alone where
    police.uk has no street there. Unknown codes are left out. Public and partner alike (published tables only)."""
    frame = _named_lsoas(wh).set_index("lsoa21_code")
    wanted = [c for c in dict.fromkeys(lsoa_codes) if isinstance(c, str) and c in frame.index]
    rows = frame.loc[wanted]
    return {
        code: name if not isinstance(street, str) or not street else f"{name}, around {street}"
        for code, name, street in zip(rows.index, rows["lsoa21_name"], rows["street"], strict=True)
    }


def _lsoa_raw(wh: Warehouse, f: Filter) -> pd.DataFrame:
    """True counts per LSOA of the selection. Internal: never returned as is."""
    return wh.lsoa_counts_raw(f)


def hotspot_map(wh: Warehouse, measure_id: str, districts=(), start=None, end=None, age: str = "all") -> pd.DataFrame:
    """Per LSOA of the selection: count (suppressed for the public), rate per 1,000 residents, rank, and the
    Getis-Ord Gi* class (hot/cold at 99% or 95% after false-discovery-rate control, docs/METHODS.md#hotspots).

    Partners: Gi* on the true rates within the selection (neighbours outside it are not counted). The public map
    reads only the published cube (one financial year, Gi* over the published LSOAs): published_places.py.
    """
    if wh.audience == "public":
        return published_places.hotspot_map(wh, measure_id, districts, start, end, age)
    f = wh.check(measure_id, districts, start, end, age)
    measure = wh.registry.get(f.measure_id)
    if not measure.has_lsoa:
        raise InvalidQuery(f"{measure.label} is not available by LSOA, so it cannot be mapped")

    def compute():
        raw = _lsoa_raw(wh, f)
        raw["rate"] = np.where(raw["population"] > 0, raw["count"] / raw["population"] * 1000, np.nan)
        raw["rank"] = raw["count"].rank(ascending=False, method="min").astype(int)
        codes = raw["lsoa21_code"].tolist()
        inside = set(codes)
        nbrs = lsoa_topology(wh.settings.reference_dir, wh.settings.build_dir).neighbours
        neighbours = {c: [n for n in nbrs.get(c, []) if n in inside] for c in codes}
        values = pd.Series(raw["rate"].fillna(0).to_numpy(), index=codes)
        if len(codes) >= 3 and values.std() > 0:
            gi = gi_star(values, neighbours, permutations=0, inference=GI_INFERENCE)
            raw["gi_z"] = gi["z"].to_numpy()
            raw["hotspot"] = gi["cluster"].to_numpy()
        else:
            raw["gi_z"] = np.nan
            raw["hotspot"] = "not significant"
        out = wh.audience_rule.suppress(raw, measure, secondary_by="district_code")
        # Rates and ranks would give a hidden count away: blank them where the count is hidden.
        out.loc[out["suppressed"], ["rate"]] = np.nan
        out["rank"] = out["rank"].astype("Int64").mask(out["suppressed"])
        return out

    return wh.cached("hotspot_map", f.as_key(), compute)


def concentration_of_harm(wh: Warehouse, measure_id: str, districts=(), start=None, end=None, age: str = "all") -> dict:
    """The concentration curve (in steps of 1% of areas) and the shares held by the top 1%, 5% and 10%."""
    if wh.audience == "public":
        return published_places.concentration_of_harm(wh, measure_id, districts, start, end, age)
    f = wh.check(measure_id, districts, start, end, age)

    def compute():
        raw = _lsoa_raw(wh, f)
        result = concentration(raw["count"])
        curve = result.curve
        total = int(result.total)
        limit = wh.threshold(wh.registry.get(f.measure_id))
        # The public never gets a small total, nor shares of one (share x total = a count), nor a curve fine
        # enough to read single LSOAs off: steps of 1% of areas only where that is several LSOAs each.
        if 0 < total < limit or (limit > 1 and raw["count"].max() < limit):
            return {
                "area_share": [],
                "harm_share": [],
                "top_1": None,
                "top_5": None,
                "top_10": None,
                "gini": None,
                "areas": result.n_areas,
                "total": None if 0 < total < limit else total,
                "hidden": True,
            }
        points = 101 if limit <= 1 or len(raw) >= 500 else 11
        steps = np.linspace(0, 1, points)
        at = (
            np.interp(steps, curve["area_share"].to_numpy(), curve["value_share"].to_numpy())
            if result.total
            else np.zeros_like(steps)
        )
        return {
            "hidden": False,
            "area_share": steps.tolist(),
            "harm_share": at.tolist(),
            "top_1": result.top_1,
            "top_5": result.top_5,
            "top_10": result.top_10,
            "gini": result.gini,
            "areas": result.n_areas,
            "total": total,
        }

    return wh.cached("concentration", f.as_key(), compute)


def top_places(
    wh: Warehouse, measure_id: str, districts=(), start=None, end=None, age: str = "all", n: int = 20
) -> pd.DataFrame:
    """The n LSOAs with the most harm: count, share of the selection's total and the cumulative share, each
    place named (``place_names``) and whether its rank is shared with another LSOA of the map (``tied``)."""
    frame = hotspot_map(wh, measure_id, districts, start, end, age)
    if wh.audience == "public":
        top = published_places.top_places(wh, measure_id, districts, start, end, age, n)
    else:
        total = concentration_of_harm(wh, measure_id, districts, start, end, age)["total"]
        names = wh.districts().set_index("district_code")["district_name"].to_dict()
        top = published_places.top_from(frame, total, names, n)  # a pure function of the frame and the total
    return _named(wh, top, frame)


def hot_spots(wh: Warehouse, measure_id: str, districts=(), start=None, end=None, age: str = "all") -> pd.DataFrame:
    """Every LSOA of the map that is a statistically significant hot spot (Gi*, after false-discovery-rate
    control), strongest first, with the columns of ``top_places`` (no cumulative share) and its z-score."""
    frame = hotspot_map(wh, measure_id, districts, start, end, age)
    total = concentration_of_harm(wh, measure_id, districts, start, end, age)["total"]
    hot = frame[frame["hotspot"].astype(str).str.startswith("hot")]
    hot = hot.sort_values(["gi_z", "lsoa21_code"], ascending=[False, True]).copy()
    hot["share"] = hot["count"] / total if total else np.nan
    hot["cumulative_share"] = np.nan
    hot["district_name"] = hot["district_code"].map(wh.districts().set_index("district_code")["district_name"])
    cols = ["rank", "lsoa21_code", "lsoa21_name", "district_name", "count", "rate", "share", "cumulative_share"]
    return _named(wh, hot[[*cols, "hotspot", "gi_z"]].reset_index(drop=True), frame)


def _named(wh: Warehouse, rows: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of the map with each place's name and whether another LSOA of the map shares its rank."""
    rows = rows.copy()
    names = place_names(wh, rows["lsoa21_code"])
    rows["place"] = rows["lsoa21_code"].map(names).fillna(rows["lsoa21_name"])
    shared = frame["rank"].dropna().value_counts()
    rows["tied"] = rows["rank"].map(lambda r: bool(pd.notna(r) and shared.get(r, 0) > 1)).astype(bool)
    return rows


def lsoa_options(wh: Warehouse, districts=()) -> pd.DataFrame:
    f = wh.check("serious_violence" if "serious_violence" in wh.registry else wh.registry.ids[0], districts)

    def compute():
        a, d = t.dim_area, t.dim_district
        q = (
            sa.select(a.c.lsoa21_code, a.c.lsoa21_name, d.c.district_name)
            .select_from(a.join(d, d.c.district_code == a.c.district_code))
            .order_by(a.c.lsoa21_name)
        )
        if f.districts:
            q = q.where(a.c.district_code.in_(f.districts))
        return wh.read(q)

    return wh.cached("lsoa_options", {"d": list(f.districts)}, compute)


def lsoa_profile(wh: Warehouse, lsoa: str, measure_id: str, start=None, end=None, age: str = "all") -> dict:
    """One LSOA: its monthly trend, offence mix, deprivation, and its rate against its district's."""
    codes = set(lsoa_options(wh)["lsoa21_code"])
    if not isinstance(lsoa, str) or lsoa not in codes:
        raise InvalidQuery(f"unknown LSOA {str(lsoa)[:20]!r}")
    if wh.audience == "public":
        return published_places.lsoa_profile(wh, lsoa, measure_id, start, end, age)
    f = wh.check(measure_id, (), start, end, age)
    measure = wh.registry.get(f.measure_id)

    def compute():
        a = wh.read(sa.select(t.dim_area).where(t.dim_area.c.lsoa21_code == lsoa)).iloc[0]
        district = str(a["district_code"])
        m = t.mart_counts
        where = [*mart_where(f), m.c.lsoa21_code == lsoa]
        series = wh.read(
            sa.select(m.c.month, sa.func.sum(m.c.count).label("count"))
            .where(*where)
            .group_by(m.c.month)
            .order_by(m.c.month)
        )
        months = (
            pd.DataFrame({"month": pd.date_range(f.start, f.end, freq="MS").date})
            if f.start and f.end
            else series[["month"]]
        )
        series["month"] = pd.to_datetime(series["month"]).dt.date
        series = months.merge(series, on="month", how="left").fillna({"count": 0})
        series["count"] = series["count"].astype(int)
        total = int(series["count"].sum())
        series = wh.audience_rule.suppress_months(series, measure)

        group = measure.population_group(f.age)
        p = t.mart_population
        pops = dict(
            wh.read(
                sa.select(p.c.area_code, p.c.population).where(
                    p.c.age_group == group, p.c.area_code.in_([lsoa, district])
                )
            ).itertuples(index=False)
        )
        district_total = int(
            wh.read(
                sa.select(sa.func.coalesce(sa.func.sum(m.c.count), 0).label("n")).where(
                    *mart_where(f), m.c.district_code == district
                )
            )["n"].iloc[0]
        )
        rate, lo, hi = rate_ci(total, pops.get(lsoa, 0), per=1000)
        d_rate = district_total / pops[district] * 1000 if pops.get(district) else np.nan
        if 0 < district_total < wh.threshold(measure):
            d_rate = np.nan  # the district's rate would give its small count away
        verdict = compare(lo, hi, d_rate, measure.polarity)
        hidden = wh.audience == "public" and 0 < total < wh.threshold(measure)

        mix = _offence_mix(wh, f, lsoa)
        return {
            "lsoa21_code": lsoa,
            "lsoa21_name": str(a["lsoa21_name"]),
            "district_code": district,
            "imd_decile": int(a["imd_decile"]),
            "series": series,
            "mix": mix,
            "count": None if hidden else total,
            "rate": None if hidden else rate,
            "lower": None if hidden else lo,
            "upper": None if hidden else hi,
            "district_rate": d_rate,
            "comparison": "not compared" if hidden or np.isnan(d_rate) else verdict,
            "population": pops.get(lsoa),
        }

    return wh.cached("lsoa_profile", {**f.as_key(), "lsoa": lsoa}, compute)


def _offence_mix(wh: Warehouse, f: Filter, lsoa: str) -> pd.DataFrame:
    """Partners: one LSOA's offences by subgroup, where the source records offences."""
    measure = wh.registry.get(f.measure_id)
    if measure.source != "police_records":
        return pd.DataFrame(columns=["group", "count"])
    r, o = t.fact_police_records, t.dim_offence
    q = (
        sa.select(o.c.offence_subgroup.label("group"), sa.func.count().label("count"))
        .select_from(r.join(o, o.c.ho_offence_code == r.c.ho_offence_code))
        .where(*wh.records_where(f), r.c.lsoa21_code == lsoa)
        .group_by(o.c.offence_subgroup)
        .order_by(sa.func.count().desc())
    )
    return wh.audience_rule.suppress(wh.read(q), measure, secondary_by="_series")


def _hour_grid(wh: Warehouse, f: Filter) -> pd.DataFrame:
    """True counts by day of week (0 = Monday) and hour of occurrence, every cell of the 7 x 24 grid. Internal:
    never returned as is."""
    r = t.fact_police_records
    dow = sa.extract("dow", r.c.occurred_at)  # 0 = Sunday in both DuckDB and PostgreSQL
    hour = sa.extract("hour", r.c.occurred_at)
    q = (
        sa.select(dow.label("dow"), hour.label("hour"), sa.func.count().label("count"))
        .where(*wh.records_where(f), r.c.occurred_at.is_not(None))
        .group_by(dow, hour)
    )
    frame = wh.read(q)
    grid = pd.DataFrame([(d, h) for d in range(7) for h in range(24)], columns=["weekday", "hour"])
    frame["weekday"] = (frame["dow"].astype(int) + 6) % 7  # Monday = 0
    frame["hour"] = frame["hour"].astype(int)
    grid = grid.merge(frame[["weekday", "hour", "count"]], on=["weekday", "hour"], how="left").fillna(0)
    grid["count"] = grid["count"].astype(int)
    return grid


def hour_by_weekday(
    wh: Warehouse, measure_id: str, districts=(), start=None, end=None, age: str = "all"
) -> pd.DataFrame | None:
    """Counts by day of week (rows, Monday first) and hour of occurrence (columns 0-23), where the source records
    when things happened; None where it does not. The day and hour totals are shown beside it
    (``day_and_hour_totals``), so a hidden cell is protected against its row's and its column's totals too."""
    if wh.audience == "public":
        return published_places.hour_by_weekday(wh, measure_id, districts, start, end, age)
    f = wh.check(measure_id, districts, start, end, age)
    measure = wh.registry.get(f.measure_id)
    if measure.source != "police_records":
        return None

    def compute():
        return wh.audience_rule.suppress(_hour_grid(wh, f), measure, secondary_by=["_series", "weekday", "hour"])

    return wh.cached("hour_by_weekday", f.as_key(), compute)


def day_and_hour_totals(
    wh: Warehouse, measure_id: str, districts=(), start=None, end=None, age: str = "all"
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The grid's totals by day of week (weekday, count, suppressed) and by hour (hour, count, suppressed): they
    hide less than its cells. The same suppression rule applies to each, against the selection's total. None
    where the source records no time of day; refused for the public as the grid is."""
    if wh.audience == "public":
        published_places.hour_by_weekday(wh, measure_id, districts, start, end, age)  # None or NotPublished
        return None
    f = wh.check(measure_id, districts, start, end, age)
    measure = wh.registry.get(f.measure_id)
    if measure.source != "police_records":
        return None

    def compute():
        grid = _hour_grid(wh, f)
        return tuple(
            wh.audience_rule.suppress(grid.groupby(by, as_index=False)["count"].sum(), measure, secondary_by="_series")
            for by in ("weekday", "hour")
        )

    return wh.cached("day_and_hour_totals", f.as_key(), compute)
