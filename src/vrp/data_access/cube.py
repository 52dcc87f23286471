"""The read side of the published cube (``pub_cube``) for the API, with rates and their intervals.

The public audience is answered only with published cells, each area its own rows, never summed: whatever a
public caller can add up or subtract was audited when the cube was built (docs/METHODS.md#the-published-cube).
The partner audience may also ask for a free window of months over a sum of districts, read from ``mart_counts``.

Every argument is checked against known values (measures, districts, force names, the lattice's period types,
age groups, months) before it reaches SQL or a cache key; results are cached per data version through
``Warehouse.cached``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa

from vrp.data_access import tables as t
from vrp.data_access.counts import FORCE_NAME
from vrp.data_access.measures import Measure
from vrp.data_access.published import check_release
from vrp.data_access.queries import Warehouse
from vrp.data_access.validation import AGE_GROUPS, HIPS, InvalidQuery, NotPermitted, parse_month
from vrp.periods import months_in
from vrp.stats.rates import rate_ci

CUBE_PERIODS = ("month", "quarter", "fy", "rolling12")
PERIODS = (*CUBE_PERIODS, "range")
AGES = tuple(AGE_GROUPS)
# Exactly (no spaces, no other digits: parse_month is lenient), in the years parse_month accepts; the OpenAPI
# document states the same pattern.
MONTH_PATTERN = "^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$"
MONTH = re.compile(MONTH_PATTERN)
ROW_FIELDS = (
    "measure",
    "area",
    "area_name",
    "area_level",
    "age",
    "period_type",
    "start",
    "end",
    "months",
    "count",
    "suppressed",
    "incomplete",
    "population",
    "rate",
    "lower",
    "upper",
    "synthetic",  # in every row, so a CSV export carries the label too
)


class UnknownMeasure(InvalidQuery):
    """A measure id the registry does not hold."""


@dataclass(frozen=True)
class CubeQuery:
    """A checked, normalised request: the cache key and the SQL both come from this."""

    measure_id: str
    areas: tuple[str, ...]  # HIPS first, then district codes sorted; or ONS force names sorted
    period: str
    start: date | None
    end: date | None
    age: str

    def as_key(self) -> dict:
        return {
            "m": self.measure_id,
            "a": list(self.areas),
            "p": self.period,
            "s": self.start,
            "e": self.end,
            "g": self.age,
        }


class CubeReader:
    """Questions the API asks of the published cube (and, for partners, of the mart), for one warehouse."""

    def __init__(self, warehouse: Warehouse):
        self.wh = warehouse

    @property
    def audience(self) -> str:
        return self.wh.audience

    # ---- what is published --------------------------------------------------------------------------------

    def catalogue(self) -> dict[str, dict]:
        """For each measure in the cube: the period types, ages and area levels it is published for, and the
        first and last month of its cells (LSOA cells, which the API does not serve, left out)."""

        def compute():
            if not sa.inspect(self.wh.engine).has_table(t.pub_cube.name):
                return {}  # a warehouse built before the cube existed: nothing is published yet
            c = t.pub_cube
            q = (
                sa.select(
                    c.c.measure_id,
                    c.c.period_type,
                    c.c.age,
                    c.c.area_level,
                    sa.func.min(c.c.period_start).label("first"),
                    sa.func.max(c.c.period_end).label("last"),
                )
                .where(c.c.area_level != "lsoa")
                .group_by(c.c.measure_id, c.c.period_type, c.c.age, c.c.area_level)
            )
            out: dict[str, dict] = {}
            for r in self.wh.read(q).itertuples():
                entry = out.setdefault(
                    r.measure_id, {"periods": set(), "ages": set(), "levels": set(), "first": None, "last": None}
                )
                entry["periods"].add(r.period_type)
                entry["ages"].add(r.age)
                entry["levels"].add(r.area_level)
                first, last = pd.Timestamp(r.first).date(), pd.Timestamp(r.last).date()
                entry["first"] = min(first, entry["first"] or first)
                entry["last"] = max(last, entry["last"] or last)
            return {
                mid: {
                    **e,
                    "periods": [p for p in CUBE_PERIODS if p in e["periods"]],
                    "ages": [a for a in AGES if a in e["ages"]],
                    "levels": sorted(e["levels"]),
                }
                for mid, e in out.items()
            }

        return self.wh.cached("api_catalogue", {}, compute)

    def forces(self) -> frozenset[str]:
        """The force names of the ONS series."""

        def compute():
            m = t.mart_force_counts
            return frozenset(self.wh.read(sa.select(m.c.force_name).distinct())["force_name"])

        return self.wh.cached("api_forces", {}, compute)

    def measures(self) -> list[dict]:
        """Every measure of the registry, with what the API publishes of it."""
        catalogue = self.catalogue()
        synthetic = self.wh.synthetic_sources()
        out = []
        for m in self.wh.registry:
            entry = catalogue.get(m.id, {})
            out.append(
                {
                    "id": m.id,
                    "name": m.label,
                    "unit": m.unit,
                    "per": m.per,
                    "source": m.source,
                    "definition": m.definition,
                    "suppress_below": max(m.suppress_below, self.wh.settings.public_min_count),
                    "denominator": m.denominator,
                    "polarity": m.polarity,
                    "areas": "force" if m.source == "ons_knife" else "district",
                    "periods": list(entry.get("periods", [])) + (["range"] if self._range_allowed(m) else []),
                    "ages": list(entry.get("ages", [])),
                    "first": _month(entry.get("first")),
                    "last": _month(entry.get("last")),
                    "synthetic": m.source in synthetic,
                }
            )
        return out

    def _range_allowed(self, measure: Measure) -> bool:
        return self.audience == "partner" and measure.source != "ons_knife"

    # ---- checking a request -------------------------------------------------------------------------------

    def check(self, measure_id, areas, period, start, end, age) -> CubeQuery:
        """Raise UnknownMeasure, InvalidQuery or NotPermitted (each with a message fit for the caller), else
        return the normalised request."""
        if measure_id is None:
            raise InvalidQuery("measure is required: GET /api/v1/measures lists them")
        if not isinstance(measure_id, str) or measure_id not in self.wh.registry:
            raise UnknownMeasure(f"unknown measure {str(measure_id)[:40]!r}: GET /api/v1/measures lists them")
        measure = self.wh.registry.get(measure_id)
        if period not in PERIODS:
            raise InvalidQuery(f"period must be one of {', '.join(PERIODS)}, not {str(period)[:20]!r}")
        if age not in AGES:
            raise InvalidQuery(f"age must be one of {', '.join(AGES)}, not {str(age)[:20]!r}")
        for name, value in (("from", start), ("to", end)):
            if value is not None and not (isinstance(value, str) and MONTH.fullmatch(value)):
                raise InvalidQuery(f"{name} must be a month like 2024-03, not {str(value)[:20]!r}")
        s, e = parse_month(start, "from"), parse_month(end, "to")
        if s and e and s > e:
            raise InvalidQuery(f"from ({s:%Y-%m}) is after to ({e:%Y-%m})")
        names = self._areas(measure, areas)
        if period == "range":
            self._check_range(measure, names, s, e, age)
        else:
            self._check_published(measure, period, age)
        return CubeQuery(measure.id, names, period, s, e, age)

    def area_pattern(self) -> str:
        """Every area the API knows (HIPS, district codes, ONS force names, written exactly so), comma-separated,
        a space after a comma allowed: the OpenAPI document states this same pattern."""
        tokens = [HIPS, *sorted(self.wh.district_codes), *sorted(self.forces())]
        token = "|".join(_literal(t) for t in tokens)
        return f"^(?:{token})(?:, ?(?:{token}))*$"

    def _areas(self, measure: Measure, areas) -> tuple[str, ...]:
        if not isinstance(areas, str) or not re.fullmatch(self.area_pattern(), areas):
            raise InvalidQuery(
                f"area must be HIPS, district codes or force names, written exactly as the /api page lists them "
                f"and separated by commas, not {str(areas)[:60]!r}"
            )
        parts = {a.lstrip(" ") for a in areas.split(",")}
        if measure.source == "ons_knife":
            names = {FORCE_NAME if p == HIPS else p for p in parts}
            wrong = sorted(names - self.forces())
            if wrong:
                raise InvalidQuery(
                    f"{measure.label} is published by police force area: area must be HIPS (the Hampshire force "
                    f"area) or force names, not {wrong[0]!r}"
                )
            return tuple(sorted(names))
        wrong = sorted(parts - self.wh.district_codes - {HIPS})
        if wrong:
            raise InvalidQuery(f"{measure.label} is published for HIPS and its districts: {wrong[0]!r} is neither")
        return tuple(sorted(parts, key=lambda c: (c != HIPS, c)))

    def _check_published(self, measure: Measure, period: str, age: str) -> None:
        entry = self.catalogue().get(measure.id)
        if entry is None:
            raise InvalidQuery(f"{measure.label} has no published figures yet")
        if period not in entry["periods"]:
            extra = " (partners may also ask for range)" if self._range_allowed(measure) else ""
            raise InvalidQuery(f"{measure.label} is published by {', '.join(entry['periods'])}{extra}, not {period}")
        if age not in entry["ages"]:
            raise InvalidQuery(f"{measure.label} is published for age {', '.join(entry['ages'])} only, not {age}")

    def _check_range(self, measure: Measure, areas: tuple[str, ...], s: date | None, e: date | None, age: str) -> None:
        if self.audience != "partner":
            raise NotPermitted(
                "period=range is for the partner audience only: a free window of months (or a sum of districts) "
                "could be subtracted from published cells to reveal a small count. Ask for month, quarter, fy or "
                "rolling12 instead."
            )
        if measure.source == "ons_knife":
            raise InvalidQuery(f"{measure.label} is quarterly: ask for quarter, fy or rolling12")
        if s is None or e is None:
            raise InvalidQuery("period=range needs both from and to (YYYY-MM)")
        if HIPS in areas and len(areas) > 1:
            raise InvalidQuery("period=range sums its areas: ask for HIPS alone or for districts, not both")
        if age != "all" and measure.source == "police_uk":
            raise InvalidQuery(f"{measure.label} has no victim ages, so no under-25 figure")
        first, last = self.wh.month_range(measure.id)
        first, last = _as_month(first), _as_month(last)
        if first is None or s < first or e > last:
            covered = f"{first:%Y-%m} to {last:%Y-%m}" if first else "nothing yet"
            raise InvalidQuery(f"{measure.label} covers {covered}: from and to must lie inside it")

    # ---- answers ------------------------------------------------------------------------------------------

    def rows(self, q: CubeQuery) -> pd.DataFrame:
        """The rows for a checked request (columns ROW_FIELDS), cached per data version."""
        if self.audience == "public":
            check_release(self.wh)
        if q.period == "range":
            self.wh.require_partner("period=range")
            return self.wh.cached("api_range", q.as_key(), lambda: self._range_rows(q))
        return self.wh.cached("api_cells", q.as_key(), lambda: self._cube_rows(q))

    def _cube_rows(self, q: CubeQuery) -> pd.DataFrame:
        measure = self.wh.registry.get(q.measure_id)
        c = t.pub_cube
        levels = ("force",) if measure.source == "ons_knife" else ("district", "hips")
        stmt = (
            sa.select(
                c.c.area_level,
                c.c.area_code,
                c.c.period_type,
                c.c.period_start,
                c.c.period_end,
                c.c.count,
                c.c.suppressed,
                c.c.incomplete,
            )
            .where(
                c.c.measure_id == q.measure_id,
                c.c.period_type == q.period,
                c.c.age == q.age,
                c.c.area_level.in_(levels),
                c.c.area_code.in_(list(q.areas)),
            )
            .order_by(c.c.area_code, c.c.period_start)
        )
        if q.start:
            stmt = stmt.where(c.c.period_start >= q.start)
        if q.end:
            stmt = stmt.where(c.c.period_end <= q.end)
        frame = self.wh.read(stmt)
        frame["start"] = pd.to_datetime(frame["period_start"]).dt.date
        frame["end"] = pd.to_datetime(frame["period_end"]).dt.date
        # A hidden cell carries no count, whatever the table holds.
        frame["count"] = frame["count"].astype("Int64").mask(frame["suppressed"].astype(bool))
        frame = frame.rename(columns={"area_code": "area"})
        order = {a: i for i, a in enumerate(q.areas)}
        frame = frame.sort_values(["area", "start"], key=lambda s: s.map(order) if s.name == "area" else s)
        frame["population"] = self._populations(measure, q, frame)
        return self._finish(measure, q, frame)

    def _populations(self, measure: Measure, q: CubeQuery, frame: pd.DataFrame) -> np.ndarray:
        if measure.source == "ons_knife":
            m = t.mart_force_counts
            table = self.wh.read(
                sa.select(m.c.force_name, m.c.quarter_start, m.c.population).where(
                    m.c.measure_id == measure.id, m.c.force_name.in_(list(q.areas))
                )
            )
            pops = {(r.force_name, pd.Timestamp(r.quarter_start).date()): r.population for r in table.itertuples()}
            # The force's population in the period's first quarter, as the national page takes it.
            return np.array(
                [pops.get((a, s), np.nan) for a, s in zip(frame["area"], frame["start"], strict=True)], dtype=float
            )
        per_area = {a: self.wh.population(() if a == HIPS else (a,), q.age, measure) for a in q.areas}
        return frame["area"].map(per_area).to_numpy(dtype=float)

    def _range_rows(self, q: CubeQuery) -> pd.DataFrame:
        """Partner only: one row, the true total over the window for the areas taken together."""
        measure = self.wh.registry.get(q.measure_id)
        m = t.mart_counts
        where = [m.c.measure_id == q.measure_id, m.c.month >= q.start, m.c.month <= q.end]
        districts = () if q.areas == (HIPS,) else q.areas
        if districts:
            where.append(m.c.district_code.in_(list(districts)))
        if AGE_GROUPS[q.age]:
            where.append(m.c.age_band.in_(AGE_GROUPS[q.age]))
        stmt = sa.select(
            sa.func.coalesce(sa.func.sum(m.c.count), 0).label("n"),
            sa.func.coalesce(sa.func.sum(m.c.suppressed_cells), 0).label("hidden"),
        ).where(*where)
        with self.wh.engine.connect() as conn:
            total, hidden = conn.execute(stmt).one()
        level = "hips" if not districts else ("district" if len(districts) == 1 else "districts")
        frame = pd.DataFrame(
            [
                {
                    "area_level": level,
                    "area": HIPS if not districts else "+".join(districts),
                    "period_type": "range",
                    "start": q.start,
                    "end": q.end,
                    "count": int(total),
                    "suppressed": False,
                    "incomplete": int(hidden) > 0,
                    "population": self.wh.population(districts, q.age, measure),
                }
            ]
        )
        frame["count"] = frame["count"].astype("Int64")
        return self._finish(measure, q, frame)

    def _finish(self, measure: Measure, q: CubeQuery, frame: pd.DataFrame) -> pd.DataFrame:
        """Names, months and the annual rate with its 95% interval (none where the count is hidden)."""
        names = self._area_names()
        frame = frame.assign(measure=measure.id, age=q.age)
        frame["area_name"] = [
            names.get(a, a) if "+" not in a else " + ".join(names.get(x, x) for x in a.split("+"))
            for a in frame["area"]
        ]
        frame["months"] = [months_in(s, e) for s, e in zip(frame["start"], frame["end"], strict=True)]
        frame["suppressed"] = frame["suppressed"].astype(bool)
        frame["incomplete"] = frame["incomplete"].astype(bool)
        counts = frame["count"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        exposure = frame["population"].to_numpy(dtype=float) * frame["months"].to_numpy(dtype=float) / 12
        if measure.unit == "count" or frame.empty:
            rate = lower = upper = np.full(len(frame), np.nan)
        else:
            rate, lower, upper = rate_ci(counts, exposure, per=measure.per)
        frame["rate"], frame["lower"], frame["upper"] = rate, lower, upper
        frame["synthetic"] = measure.source in self.wh.synthetic_sources()
        return frame[list(ROW_FIELDS)].reset_index(drop=True)

    def _area_names(self) -> dict[str, str]:
        names = dict(zip(self.wh.districts()["district_code"], self.wh.districts()["district_name"], strict=True))
        return {**names, HIPS: "Hampshire, Isle of Wight, Portsmouth and Southampton"}

    def meta(self, measure_id: str) -> dict:
        """Where the figures come from: the measure's definition and its source's registry entry."""
        measure = self.wh.registry.get(measure_id)
        sources = self.wh.sources().set_index("source_id")
        entry = sources.loc[measure.source] if measure.source in sources.index else None

        def field(name):
            value = None if entry is None else entry[name]
            return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value

        loaded, coverage_end = field("last_load_at"), field("coverage_end")
        return {
            "measure": measure.id,
            "name": measure.label,
            "definition": measure.definition,
            "unit": measure.unit,
            "per": measure.per,
            "source": measure.source,
            "source_name": field("name"),
            "licence": field("licence"),
            "synthetic": measure.source in self.wh.synthetic_sources(),
            "extract_date": None if loaded is None else pd.Timestamp(loaded).date().isoformat(),
            "coverage_end": _month(coverage_end),
            "suppress_below": max(measure.suppress_below, self.wh.settings.public_min_count),
            "data_version": self.wh.data_version(),
            "audience": self.audience,
        }


def _literal(name: str) -> str:
    """A name as a regular expression that both Python and JSON Schema (ECMA-262) read the same way: letters,
    digits, spaces, apostrophes and hyphens stand for themselves, anything else goes in a character class."""
    return "".join(
        ch if ch.isalnum() or ch in " '-" else "[" + ("\\" + ch if ch in "]\\^" else ch) + "]" for ch in name
    )


def _as_month(value) -> date | None:
    if value is None or (not isinstance(value, (str, date)) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date().replace(day=1)


def _month(value) -> str | None:
    month = _as_month(value)
    return None if month is None else f"{month:%Y-%m}"


__all__ = ["CUBE_PERIODS", "PERIODS", "AGES", "ROW_FIELDS", "CubeQuery", "CubeReader", "UnknownMeasure"]
