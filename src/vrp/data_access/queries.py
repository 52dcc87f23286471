"""The read side: one method per question the dashboard (or the CLI) asks, returning small DataFrames.

Every argument from outside is checked against known values before it reaches SQL, and every query is built with
SQLAlchemy Core (parameterised). The audience rule is enforced here, not in page layouts: the ``public`` audience
never receives a count the measure's suppression rule hides, nor record-level rows.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vrp.data_access import tables as t
from vrp.data_access.cache import QueryCache, code_version
from vrp.data_access.engine import duckdb_path, get_meta, make_engine
from vrp.data_access.measures import Measure, MeasureRegistry, load_registry
from vrp.periods import add_months, months_in
from vrp.settings import Settings
from vrp.stats import suppress
from vrp.stats.suppression import group_codes

log = logging.getLogger(__name__)
AGE_GROUPS = {"all": None, "u25": ("u18", "18_24")}
HIPS = "HIPS"
FORCE_NAME = "Hampshire"  # the force's name in the ONS series
SUPPRESSED = "*"


def _as_date(value) -> date | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    return pd.Timestamp(value).date().replace(day=1)


class InvalidQuery(ValueError):
    """A filter value that is not one the warehouse knows: refused with a message fit for the page."""


class NotPermitted(PermissionError):
    """Record-level or unsuppressed data asked for in the public audience."""


_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def parse_month(value: str | date | None, what: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value.replace(day=1)
    if not isinstance(value, str) or not _MONTH.match(value.strip()):
        raise InvalidQuery(f"{what} must be a month like 2024-03, not {str(value)[:20]!r}")
    y, m = value.strip().split("-")
    if not 2000 <= int(y) <= 2100:  # year 0000 or 9999 would break date arithmetic further on
        raise InvalidQuery(f"{what} {value.strip()} is outside the years this dashboard covers")
    return date(int(y), int(m), 1)


@dataclass(frozen=True)
class Filter:
    """A checked, normalised question: the cache key and the SQL both come from this."""

    measure_id: str
    districts: tuple[str, ...]  # sorted; empty = all of HIPS
    start: date | None
    end: date | None
    age: str

    def as_key(self) -> dict:
        return {
            "m": self.measure_id,
            "d": list(self.districts),
            "s": self.start,
            "e": self.end,
            "a": self.age,
        }


class Warehouse:
    """Read access to one warehouse, for one audience."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        cache: QueryCache | None = None,
        registry: MeasureRegistry | None = None,
    ):
        self.settings = settings
        self.audience = settings.audience
        self._engine = engine
        self._owns_engine = engine is None
        self._file_id: tuple | None = None
        self._lock = threading.Lock()
        self.cache = cache or QueryCache(None)
        self._version: tuple | None = None
        self._populations: tuple | None = None
        self._held: dict[str, tuple] = {}
        self._registry = registry

    # ---- connection and version -------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        with self._lock:
            path = duckdb_path(self.settings.warehouse) if self._owns_engine else None
            if path is not None:
                # `vrp build-demo` swaps in a new file: notice it and reopen, so readers follow the rebuild.
                try:
                    st = os.stat(path)
                    file_id = (st.st_ino, st.st_mtime_ns)
                except FileNotFoundError:
                    file_id = None
                if self._engine is not None and file_id != self._file_id:
                    self._engine.dispose()
                    self._engine = None
                self._file_id = file_id
            if self._engine is None:
                self._engine = make_engine(self.settings.warehouse, read_only=True)
            return self._engine

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    VERSION_TTL = 2.0  # seconds: a load shows within this, and a callback's 5-6 lookups share one round trip

    def data_version(self) -> str:
        engine = self.engine  # first: notices a swapped DuckDB file and reopens
        now = time.monotonic()
        cached = self._version
        if cached and now - cached[1] < self.VERSION_TTL and cached[2] is engine:
            return cached[0]
        with engine.connect() as conn:
            version = get_meta(conn, "data_version") or "0"
        self._version = (version, now, engine)
        return version

    def meta(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return get_meta(conn, key)

    @property
    def registry(self) -> MeasureRegistry:
        if self._registry is None:
            self._registry = load_registry(self.settings.measures_file)
        return self._registry

    def cached(self, name: str, key: dict, compute):
        # The code version is in the key too, so an upgrade never serves results shaped by older code, and so are
        # the suppression settings and measure definitions: raising a threshold must not serve older, finer results.
        version = f"{code_version()}:{self.data_version()}:{self.audience}:{self.rules_hash}"
        return self.cache.fetch(name, version, key, compute)

    @cached_property
    def rules_hash(self) -> str:
        # Every field of every measure (definitions, thresholds, part_of, units, labels) and the settings that
        # shape what a page shows: editing any of them must not serve results or views made under the old ones.
        rules = [(repr(m), m.filter_json()) for m in self.registry]
        settings = (self.settings.public_min_count, self.settings.baseline_fy)
        return hashlib.sha256(repr((rules, settings)).encode()).hexdigest()[:12]

    def read(self, query) -> pd.DataFrame:
        with self.engine.connect() as conn:
            return pd.read_sql(query, conn)

    # ---- checking what the browser sends ----------------------------------------------------------------

    @property
    def district_codes(self) -> frozenset[str]:
        # From the district list, so a rebuilt warehouse is followed like everything else.
        return self._in_process("district_codes", lambda: frozenset(self.districts()["district_code"]))

    def _in_process(self, name: str, compute):
        """Small reference tables every callback asks for many times (districts, sources): kept in the process
        for the current data version, since even a cache round trip per ask adds up. DataFrames are copied out,
        so a caller cannot change what the next one gets."""
        version = self.data_version()
        held = self._held.get(name)
        if held is None or held[0] != version:
            held = (version, compute())
            self._held[name] = held
        value = held[1]
        return value.copy() if isinstance(value, (pd.DataFrame, dict)) else value

    def check(self, measure_id: str, districts=(), start=None, end=None, age: str = "all") -> Filter:
        if not isinstance(measure_id, str) or measure_id not in self.registry:
            raise InvalidQuery(f"unknown measure {str(measure_id)[:40]!r}")
        if isinstance(districts, str):
            districts = [d for d in districts.split(",") if d.strip()]
        if not isinstance(districts, (list, tuple, set, frozenset)):
            raise InvalidQuery("districts must be a list of district codes")
        cleaned = []
        for d in districts:
            code = str(d).strip().upper()
            if code == HIPS:
                continue
            if code not in self.district_codes:
                raise InvalidQuery(f"unknown district {str(d)[:20]!r}")
            cleaned.append(code)
        s, e = parse_month(start, "the start month"), parse_month(end, "the end month")
        if s and e and s > e:
            raise InvalidQuery(f"the start month {s:%Y-%m} is after the end month {e:%Y-%m}")
        if age not in AGE_GROUPS:
            raise InvalidQuery(f"age must be one of {', '.join(AGE_GROUPS)}, not {str(age)[:20]!r}")
        measure = self.registry.get(measure_id)
        if age != "all" and measure.source in ("police_uk", "ons_knife"):
            raise InvalidQuery(f"{measure.label} has no victim ages, so no under-25 figure")
        return Filter(measure_id, tuple(sorted(set(cleaned))), s, e, age)

    # ---- the audience rule --------------------------------------------------------------------------------

    def threshold(self, measure: Measure) -> int:
        return max(measure.suppress_below, self.settings.public_min_count) if self.audience == "public" else 0

    def _suppress(
        self, frame: pd.DataFrame, measure: Measure, col: str = "count", secondary_by: str | None = None
    ) -> pd.DataFrame:
        """Public: counts from 1 to threshold-1 become missing, flagged ``suppressed``; zero is shown.

        ``secondary_by`` names the groups whose totals are published elsewhere (a district's total beside its
        LSOAs, a period's total beside its months): further cells are hidden so no small count can be worked
        back from those totals (stats.suppress, docs/METHODS.md#small-number-suppression).
        """
        frame = frame.copy()
        limit = self.threshold(measure)
        frame[col] = frame[col].astype("Int64")
        if limit <= 1 or frame.empty:
            frame["suppressed"] = False
            return frame
        table = frame.assign(_series=0)
        total = frame[col].fillna(0).sum()
        if 0 < total < limit:
            # The whole table adds up to a small number: its total is itself hidden wherever it is published,
            # and showing which cells are zero would narrow down where the few are. Hide every cell.
            frame["suppressed"] = True
            frame[col] = frame[col].mask(frame["suppressed"])
            return frame
        result = suppress(table, col, limit, secondary_by=secondary_by, hide_small_groups=True)
        mask = result.mask.copy()
        if result.unprotected and secondary_by:
            # A hidden cell that hiding other cells cannot protect (its neighbours are zeros, or it is alone in
            # a group): hide every cell of its groups, so the published totals give only a sum of hidden cells.
            specs = [secondary_by] if isinstance(secondary_by, str) else list(secondary_by)
            rows = table.index.get_indexer(result.unprotected)
            for spec in specs:
                codes = group_codes(table, [spec] if isinstance(spec, str) else list(spec))
                mask |= np.isin(codes, codes[rows])
        frame["suppressed"] = mask.to_numpy()
        frame[col] = frame[col].mask(frame["suppressed"])
        return frame

    def _suppress_months(self, frame: pd.DataFrame, measure: Measure, month_col: str = "month") -> pd.DataFrame:
        """A monthly series for the public: besides the whole series' total, pages and the CLI publish totals
        for financial years and for the 12 months to the latest month (and the 12 before): each is a group whose
        total must not give away a hidden month."""
        months = pd.to_datetime(frame[month_col])
        table = frame.assign(
            _fy=(months.dt.year - (months.dt.month < 4)).to_numpy(),
            _block=((months.max().year * 12 + months.max().month) - (months.dt.year * 12 + months.dt.month)) // 12
            if len(frame)
            else 0,
        )
        out = self._suppress(table, measure, secondary_by=["_series", "_fy", "_block"])
        return out.drop(columns=["_fy", "_block"])

    def require_partner(self, what: str) -> None:
        if self.audience != "partner":
            raise NotPermitted(f"{what} is available to the partner audience only")

    # ---- questions ------------------------------------------------------------------------------------------

    def districts(self) -> pd.DataFrame:
        return self._in_process(
            "districts", lambda: self.read(sa.select(t.dim_district).order_by(t.dim_district.c.district_name))
        )

    def measures(self) -> pd.DataFrame:
        return self.cached("measures", {}, lambda: self.read(sa.select(t.dim_measure)))

    def month_range(self, measure_id: str) -> tuple[date | None, date | None]:
        f = self.check(measure_id)
        measure = self.registry.get(f.measure_id)

        def compute():
            if measure.source == "ons_knife":
                m = t.mart_force_counts
                q = sa.select(sa.func.min(m.c.quarter_start), sa.func.max(m.c.quarter_start)).where(
                    m.c.measure_id == measure.id
                )
            else:
                m = t.mart_counts
                q = sa.select(sa.func.min(m.c.month), sa.func.max(m.c.month)).where(m.c.measure_id == measure.id)
            with self.engine.connect() as conn:
                return tuple(conn.execute(q).one())

        return self.cached("month_range", f.as_key(), compute)

    def _mart_where(self, f: Filter):
        m = t.mart_counts
        where = [m.c.measure_id == f.measure_id]
        if f.districts:
            where.append(m.c.district_code.in_(f.districts))
        if f.start:
            where.append(m.c.month >= f.start)
        if f.end:
            where.append(m.c.month <= f.end)
        if AGE_GROUPS[f.age]:
            where.append(m.c.age_band.in_(AGE_GROUPS[f.age]))
        return where

    def population(self, districts: tuple[str, ...] = (), age: str = "all", measure: Measure | None = None) -> float:
        """The denominator: the selected age group, or the measure's own (under-25 measures use under-25s)."""
        group = measure.population_group(age) if measure is not None else ("u25" if age == "u25" else "all")
        # District and force populations: 14 x 5 rows, read once per data version and kept in the process (a
        # page asks dozens of times; even a cache round trip per ask adds up).
        version = self.data_version()
        if self._populations is None or self._populations[0] != version:
            table = self.read(
                sa.select(t.mart_population).where(t.mart_population.c.geography_level.in_(("district", "force")))
            )
            by_key = {(r.geography_level, r.area_code, r.age_group): float(r.population) for r in table.itertuples()}
            force = {g: sum(v for (lvl, _, g2), v in by_key.items() if lvl == "force" and g2 == g) for g in AGE_GROUPS}
            self._populations = (version, by_key, force)
        _, by_key, force = self._populations
        if districts:
            return sum(by_key.get(("district", d, group), 0.0) for d in districts)
        return force.get(group, 0.0)

    def monthly_counts(self, measure_id: str, districts=(), start=None, end=None, age: str = "all") -> pd.DataFrame:
        """One row per month of the period (months with nothing recorded included, as 0):
        month, count, suppressed, incomplete (supplier-hidden cells), population."""
        f = self.check(measure_id, districts, start, end, age)
        measure = self.registry.get(f.measure_id)
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
                .where(*self._mart_where(f))
                .group_by(m.c.month)
                .order_by(m.c.month)
            )
            frame = self.read(q)
            lo, hi = f.start, f.end
            if lo is None or hi is None:
                first, last = self.month_range(f.measure_id)
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
            out["population"] = self.population(f.districts, f.age, measure)
            return self._suppress_months(out, measure)

        return self.cached("monthly_counts", f.as_key(), compute)

    def lsoa_counts_raw(self, f: Filter) -> pd.DataFrame:
        """True counts for every LSOA of the selection (zeros included), with population and deprivation.
        Internal to data_access: callers outside it get suppressed results."""
        measure = self.registry.get(f.measure_id)
        m, a, p = t.mart_counts, t.dim_area, t.mart_population
        counts = (
            sa.select(m.c.lsoa21_code, sa.func.sum(m.c.count).label("count"))
            .where(*self._mart_where(f), m.c.geography_level == "lsoa")
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
        frame = self.read(q)
        frame["count"] = frame["count"].astype(int)
        return frame

    def records_where(self, f: Filter) -> list:
        """Conditions on fact_police_records for a checked filter: the measure's definition, districts, recorded
        months and victim age group."""
        from vrp.data_access.measures import condition

        r = t.fact_police_records
        where = [condition(self.registry.get(f.measure_id))]
        if f.districts:
            where.append(r.c.district_code.in_(f.districts))
        if f.start:
            where.append(r.c.recorded_month >= f.start)
        if f.end:
            where.append(r.c.recorded_month <= f.end)
        if AGE_GROUPS[f.age]:
            where.append(r.c.age_band.in_(AGE_GROUPS[f.age]))
        return where

    def counts_by_lsoa(self, measure_id: str, districts=(), start=None, end=None, age: str = "all") -> pd.DataFrame:
        """Every LSOA of the selected districts (those with nothing recorded included):
        lsoa21_code, lsoa21_name, district_code, count, population, imd_decile, suppressed."""
        f = self.check(measure_id, districts, start, end, age)
        measure = self.registry.get(f.measure_id)
        if not measure.has_lsoa:
            raise InvalidQuery(f"{measure.label} is not available by LSOA")

        def compute():
            # A district's total is published beside its LSOAs: protect hidden LSOAs from it.
            return self._suppress(self.lsoa_counts_raw(f), measure, secondary_by="district_code")

        return self.cached("counts_by_lsoa", f.as_key(), compute)

    def counts_by_period(
        self, measure_id: str, by: str = "fy", districts=(), start=None, end=None, age: str = "all"
    ) -> pd.DataFrame:
        """period (``2023-24`` or ``2023-04``), count, suppressed: the table behind ``vrp summary``."""
        if by not in ("fy", "month"):
            raise InvalidQuery("by must be fy or month")
        f = self.check(measure_id, districts, start, end, age)
        measure = self.registry.get(f.measure_id)

        def compute():
            if measure.source == "ons_knife":
                if f.districts:
                    return pd.DataFrame(columns=["period", "count", "suppressed"])
                frame = self.force_quarterly(f.measure_id, forces=(FORCE_NAME,))
                if f.start:
                    frame = frame[frame["quarter_start"] >= f.start]
                if f.end:
                    frame = frame[frame["quarter_start"] <= f.end]
                key = frame["financial_year"] if by == "fy" else frame["quarter_start"].map(lambda d: f"{d:%Y-%m}")
                out = frame.groupby(key)["count"].sum().rename_axis("period").reset_index()
            else:
                m, d = t.mart_counts, t.dim_month
                period = d.c.financial_year if by == "fy" else d.c.month_label
                q = (
                    sa.select(period.label("period"), sa.func.sum(m.c.count).label("count"))
                    .select_from(m.join(d, d.c.month == m.c.month))
                    .where(*self._mart_where(f))
                    .group_by(period)
                    .order_by(period)
                )
                out = self.read(q)
            out["count"] = out["count"].astype(int)
            if by == "month" and len(out):
                return self._suppress_months(out.assign(month=pd.to_datetime(out["period"] + "-01")), measure).drop(
                    columns="month"
                )
            return self._suppress(out, measure)

        return self.cached("counts_by_period", {**f.as_key(), "by": by}, compute)

    def force_quarterly(self, measure_id: str = "ons_knife_crime", forces: tuple[str, ...] = ()) -> pd.DataFrame:
        f = self.check(measure_id)
        if self.registry.get(f.measure_id).source != "ons_knife":
            raise InvalidQuery(f"{measure_id} is not a force-level series")
        forces = tuple(sorted(forces))

        def compute():
            m = t.mart_force_counts
            q = sa.select(m).where(m.c.measure_id == f.measure_id).order_by(m.c.force_name, m.c.quarter_start)
            if forces:
                q = q.where(m.c.force_name.in_(forces))
            frame = self.read(q)
            frame["quarter_start"] = pd.to_datetime(frame["quarter_start"]).dt.date
            return frame

        return self.cached("force_quarterly", {"m": f.measure_id, "f": list(forces)}, compute)

    def source_coverage(self) -> dict[str, tuple[date | None, date | None]]:
        return self._in_process(
            "source_coverage",
            lambda: {
                r.source_id: (_as_date(r.coverage_start), _as_date(r.coverage_end)) for r in self.sources().itertuples()
            },
        )

    def _totals(self, f: Filter, periods: dict[str, tuple[str, str]]) -> dict[str, tuple[int, int]]:
        """Raw totals and supplier-hidden cells for several periods (``YYYY-MM`` bounds) in one query; the
        filter's own months are ignored. Internal only."""
        return self._totals_many((f.measure_id,), f.districts, f.age, periods)[f.measure_id]

    def _totals_many(
        self, measure_ids, districts: tuple[str, ...], age: str, periods: dict[str, tuple[str, str]]
    ) -> dict[str, dict[str, tuple[int, int]]]:
        """``_totals`` for several measures over the same districts and periods: one query, not one each."""
        m = t.mart_counts
        where = self._mart_where(Filter(measure_ids[0], districts, None, None, age))[1:]  # all but the measure
        columns = []
        for name, (s, e) in periods.items():
            inside = sa.and_(m.c.month >= parse_month(s, "start"), m.c.month <= parse_month(e, "end"))
            columns += [
                sa.func.coalesce(sa.func.sum(sa.case((inside, m.c.count), else_=0)), 0).label(f"{name}_n"),
                sa.func.coalesce(sa.func.sum(sa.case((inside, m.c.suppressed_cells), else_=0)), 0).label(f"{name}_h"),
            ]
        q = (
            sa.select(m.c.measure_id, *columns)
            .where(m.c.measure_id.in_(list(measure_ids)), *where)
            .group_by(m.c.measure_id)
        )
        with self.engine.connect() as conn:
            rows = {r.measure_id: r._mapping for r in conn.execute(q)}
        return {
            mid: {
                name: (int(rows[mid][f"{name}_n"]), int(rows[mid][f"{name}_h"])) if mid in rows else (0, 0)
                for name in periods
            }
            for mid in measure_ids
        }

    def hidden_totals(
        self,
        f: Filter,
        periods: dict[str, tuple[str, str]],
        totals: dict[str, tuple[int, int]],
        known: dict[str, dict[str, tuple[int, int]]] | None = None,
    ) -> dict[str, bool]:
        """Which of these totals the audience may not see: small ones, and, for a selection of several (not all)
        districts, any that includes a district whose own total for that period is small: the district table
        shows the others, so the difference would give the small one away."""
        measure = self.registry.get(f.measure_id)
        limit = self.threshold(measure)
        hidden = {name: 0 < totals[name][0] < limit for name in periods}
        if limit > 1 and periods:
            # A measure shown beside its whole or its parts (all homicides and under-25 non-domestic ones): the
            # difference is a count too.
            for other in self.registry.related(f.measure_id):
                others = (known or {}).get(other.id) or self._totals(
                    Filter(other.id, f.districts, None, None, f.age), periods
                )
                for name in periods:
                    if 0 < abs(totals[name][0] - others[name][0]) < limit:
                        hidden[name] = True
        if limit > 1 and 1 < len(f.districts) < len(self.district_codes):
            m = t.mart_counts
            where = self._mart_where(Filter(f.measure_id, f.districts, None, None, f.age))
            for name, (s, e) in periods.items():
                q = (
                    sa.select(m.c.district_code, sa.func.sum(m.c.count).label("n"))
                    .where(*where, m.c.month >= parse_month(s, "start"), m.c.month <= parse_month(e, "end"))
                    .group_by(m.c.district_code)
                )
                per_district = self.read(q)["n"]
                if ((per_district > 0) & (per_district < limit)).any():
                    hidden[name] = True
        return hidden

    def _total(self, f: Filter) -> tuple[int, int]:
        """Raw total and supplier-hidden cells over a filter: internal only, never returned unsuppressed."""
        m = t.mart_counts
        q = sa.select(
            sa.func.coalesce(sa.func.sum(m.c.count), 0),
            sa.func.coalesce(sa.func.sum(m.c.suppressed_cells), 0),
        ).where(*self._mart_where(f))
        with self.engine.connect() as conn:
            total, hidden = conn.execute(q).one()
        return int(total), int(hidden)

    def period_total(self, measure_id: str, districts=(), start=None, end=None, age: str = "all") -> dict:
        """One total for a period: count (None when the audience rule hides it), suppressed, incomplete."""
        f = self.check(measure_id, districts, start, end, age)
        measure = self.registry.get(f.measure_id)

        def compute():
            total, hidden = self._total(f)
            first, last = self.month_range(f.measure_id)
            span = {"p": (f"{(f.start or first):%Y-%m}", f"{(f.end or last):%Y-%m}")} if (f.start or first) else {}
            hide = (
                self.hidden_totals(f, span, {"p": (total, hidden)})["p"]
                if span
                else 0 < total < self.threshold(measure)
            )
            return {
                "count": None if hide else total,
                "suppressed": hide,
                "incomplete": hidden > 0,
                "population": self.population(f.districts, f.age, measure),
            }

        return self.cached("period_total", f.as_key(), compute)

    def latest_figures(self, districts=()) -> pd.DataFrame:
        """For each measure: the latest 12 months of its source (4 quarters for the national series) against the
        12 before, as counts and rates. Fewer months are labelled as such where less has been loaded."""
        f0 = self.check("serious_violence" if "serious_violence" in self.registry else self.registry.ids[0], districts)
        key = {"d": list(f0.districts)}

        def compute():
            coverage = self.source_coverage()
            rows = []
            windows: dict[str, dict] = {}  # source -> its periods, and every measure's totals over them at once
            for source, (first, last) in coverage.items():
                if first is None or last is None or source == "ons_knife":
                    continue
                window_start = max(add_months(last, -11), first)
                prev_start = add_months(window_start, -12)
                periods = {"cur": (f"{window_start:%Y-%m}", f"{last:%Y-%m}")}
                if prev_start >= first:
                    periods["prev"] = (f"{prev_start:%Y-%m}", f"{add_months(last, -12):%Y-%m}")
                ids = tuple(m.id for m in self.registry if m.source == source)
                if ids:
                    windows[source] = {
                        "periods": periods,
                        "totals": self._totals_many(ids, f0.districts, "all", periods),
                    }
            for measure in self.registry:
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
                }
                if measure.source == "ons_knife":
                    if f0.districts:
                        continue
                    frame = self.force_quarterly(measure.id, forces=(FORCE_NAME,))
                    if frame.empty:
                        continue
                    cur, prev = frame.tail(4), frame.iloc[-8:-4]
                    row.update(
                        count=int(cur["count"].sum()),
                        hidden=False,
                        previous=int(prev["count"].sum()) if len(prev) == 4 else None,
                        previous_hidden=False,
                        population=float(cur["population"].iloc[-1]),
                        period=f"4 quarters to {cur['financial_year'].iloc[-1]} Q{cur['fy_quarter'].iloc[-1]}",
                    )
                else:
                    window = windows[measure.source]
                    periods, batch = window["periods"], window["totals"]
                    n = months_in(parse_month(periods["cur"][0], "start"), last)
                    fm = self.check(measure.id, f0.districts)
                    totals = batch[measure.id]
                    (cur, cur_hidden), prev = totals["cur"], totals.get("prev")
                    hide = self.hidden_totals(fm, periods, totals, known=batch)
                    cur_suppressed = hide["cur"]
                    prev_count = None if prev is None or hide["prev"] else prev[0]
                    row.update(
                        years=n / 12,
                        count=None if cur_suppressed else cur,
                        hidden=cur_suppressed,
                        incomplete=cur_hidden > 0,
                        previous=prev_count,
                        previous_hidden=prev is not None and bool(hide["prev"]),
                        population=self.population(fm.districts, fm.age, measure),
                        period=(
                            f"12 months to {last:%B %Y}"
                            if n == 12
                            else f"{n} month{'s' if n > 1 else ''} to {last:%B %Y} (all that is loaded)"
                        ),
                    )
                # A rate a year, whatever the number of months loaded (the national series is a year of quarters).
                rate = (
                    row["count"] / (row["population"] * row.get("years", 1.0)) * measure.per
                    if row["count"] is not None and row["population"]
                    else np.nan
                )
                rows.append({**row, "rate": rate})
            return pd.DataFrame(rows)

        return self.cached("latest_figures", key, compute)

    def load_audit(self) -> pd.DataFrame:
        a = t.load_audit
        return self.read(sa.select(a).order_by(a.c.load_id))

    def sources(self) -> pd.DataFrame:
        # Read by every page (coverage, synthetic labels).
        return self._in_process(
            "sources", lambda: self.read(sa.select(t.source_registry).order_by(t.source_registry.c.source_id))
        )

    def synthetic_sources(self) -> set[str]:
        frame = self.sources()
        return set(frame.loc[frame["synthetic"].isin(["synthetic", "mixed"]), "source_id"])

    def quarantine(self, load_id: int | None = None) -> pd.DataFrame:
        """Quarantined rows hold raw partner records: partner audience only."""
        self.require_partner("Quarantined rows")
        q = sa.select(t.quarantine).order_by(t.quarantine.c.load_id, t.quarantine.c.line)
        if load_id is not None:
            q = q.where(t.quarantine.c.load_id == int(load_id))
        return self.read(q)

    def incidents(self, measure_id: str, districts=(), start=None, end=None) -> pd.DataFrame:
        """Record-level points for a police-records measure: partner audience only."""
        self.require_partner("Record-level incidents")
        f = self.check(measure_id, districts, start, end)
        measure = self.registry.get(f.measure_id)
        if measure.source != "police_records":
            raise InvalidQuery(f"{measure.label} has no record-level points")
        r = t.fact_police_records
        q = sa.select(
            r.c.crime_reference,
            r.c.recorded_date,
            r.c.occurred_at,
            r.c.ho_offence_code,
            r.c.longitude,
            r.c.latitude,
            r.c.lsoa21_code,
            r.c.district_code,
        ).where(*self.records_where(f))
        return self.read(q)
