"""The public read side of the pages: cells of the published cube (``pub_cube``) and nothing else.

Public mode reads only what `vrp rebuild-marts` published and audited (docs/METHODS.md#the-published-cube): each
area (HIPS, one district, or one LSOA for the map's financial years) on the fixed lattice of periods, for all ages
and under 25s. A question the cube cannot answer (a free window of months, a sum of several districts, a breakdown
by offence or age band, record-level rows) is refused with ``NotPublished`` and a reason fit for the page; the
partner audience asks the marts instead.

``guard_public`` makes this a property of the connection, not a convention: a public warehouse's engine refuses
any statement that names a table holding records, true counts or the audit's true values, so a page that forgot
its public branch fails loudly (and politely) rather than publishing a figure the audit never saw.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from vrp.data_access import tables as t
from vrp.data_access.measures import changed_rules
from vrp.data_access.validation import AGE_GROUPS, HIPS, InvalidQuery, NotPermitted, parse_month
from vrp.periods import PERIOD_TYPES, Period, months_in

if TYPE_CHECKING:
    from vrp.data_access.queries import Warehouse

# Tables a public connection may never name: records, the marts of partner data (true counts), the cube's audit
# (true values of hidden cells), the quarantine and the per-file load history (row counts are totals too).
# Reference data (districts, LSOAs, populations, deprivation), the registry of sources, the open ONS series and
# the published cube stay readable.
# Matched as prefixes, so a later table named like one of them (mart_counts_v2) is refused too.
UNPUBLISHED = re.compile(r"\b((?:fact_|mart_counts|pub_cube_audit|quarantine|load_audit)\w*)", re.IGNORECASE)
PUBLIC_OPTION = "vrp_public"
LEVELS = ("hips", "district", "lsoa", "force")


class NotPublished(NotPermitted):
    """A question the published cube cannot answer for the public audience."""


class CubeNotSafe(RuntimeError):
    """Secondary suppression could not protect every hidden cell: the cube is not published. Raised by the cube
    build (vrp.pipeline.cube); defined here, with what the public may read, so a command catches it without
    importing the build and its solvers."""


def _refuse_unpublished(conn, cursor, statement, parameters, context, executemany):
    if conn.get_execution_options().get(PUBLIC_OPTION):
        found = UNPUBLISHED.search(statement)
        if found:
            raise NotPublished(
                "This view needs figures the public release does not hold "
                f"({found.group(1).lower()}): it is shown to signed-in partners only."
            )


event.listen(Engine, "before_cursor_execute", _refuse_unpublished)


def guard_public(engine: Engine) -> Engine:
    """The same engine (and pool), marked so every statement it runs is checked against ``UNPUBLISHED``."""
    return engine.execution_options(**{PUBLIC_OPTION: True})


def check_release(wh: Warehouse) -> None:
    """Refuse to serve a cube made under other disclosure rules than this server's (a smaller minimum count, or
    other thresholds or definitions in config/measures.toml): hiding more cells now, without a new audit, could
    let the newly hidden ones be worked out from the rest, and the pages would state rules their numbers break."""
    required = wh.settings.public_min_count
    # Read and compared once per data version in each process (the registry is fixed for the process's life).
    built, changed = wh.in_process(
        "cube_release",
        lambda: (int(wh.meta("cube_min_count") or 0), changed_rules(wh.meta("cube_rules"), wh.registry)),
    )
    if changed:
        raise NotPublished(
            "The published figures were made under other measure definitions or thresholds than this server's "
            "config/measures.toml: an operator must run `vrp rebuild-marts` before they can be shown."
        )
    if required > built:
        raise NotPublished(
            f"The published figures were made with a minimum count of {built}, below this server's "
            f"VRP_PUBLIC_MIN_COUNT of {required}: an operator must run `vrp rebuild-marts` before they can be shown."
        )


def area_of(wh: Warehouse, districts) -> str:
    """The one published area a public selection names: HIPS (no district) or a single district."""
    codes = sorted({str(d).strip().upper() for d in (districts or ())} - {"", HIPS})
    unknown = [c for c in codes if c not in wh.district_codes]
    if unknown:
        raise InvalidQuery(f"unknown district {unknown[0][:20]!r}")
    if len(codes) > 1:
        raise NotPublished(
            "The public view shows one district at a time, or all of HIPS: a sum of several districts is not "
            "published, because it could be subtracted from other figures to reveal a small number."
        )
    return codes[0] if codes else HIPS


def _level(area: str) -> str:
    return "hips" if area == HIPS else ("lsoa" if re.fullmatch(r"[EW]01[0-9]{6}", area) else "district")


def periods(wh: Warehouse, measure_id: str, level: str = "hips", age: str = "all") -> list[Period]:
    """Every period the cube publishes for the measure at this level (HIPS, districts or LSOAs), in lattice order
    (months, quarters, financial years, rolling years), each in date order."""
    if measure_id not in wh.registry or level not in LEVELS or age not in AGE_GROUPS:
        raise InvalidQuery(f"no published periods for {str(measure_id)[:40]!r} at {str(level)[:10]!r}")
    check_release(wh)

    found = _period_index(wh).get((measure_id, level, age), [])
    order = {p: i for i, p in enumerate(PERIOD_TYPES)}
    return sorted(found, key=lambda p: (order[p.type], p.start))


def _period_index(wh: Warehouse) -> dict[tuple, list[Period]]:
    """Every published period of every measure, level and age, read in one query and kept in the process for the
    data version: pages ask for them many times a request, and a few thousand small tuples cost nothing to hold."""

    def compute() -> dict[tuple, list[Period]]:
        if not sa.inspect(wh.engine).has_table(t.pub_cube.name):
            return {}  # a warehouse built before the cube existed: nothing is published yet
        c = t.pub_cube
        q = sa.select(
            c.c.measure_id, c.c.area_level, c.c.age, c.c.period_type, c.c.period_start, c.c.period_end
        ).distinct()
        index: dict[tuple, list[Period]] = {}
        for r in wh.read(q).itertuples():
            period = Period(r.period_type, pd.Timestamp(r.period_start).date(), pd.Timestamp(r.period_end).date())
            index.setdefault((r.measure_id, r.area_level, r.age), []).append(period)
        return index

    return wh.in_process("pub_periods", compute)


def find_period(wh: Warehouse, measure_id: str, start, end, level: str = "hips") -> Period:
    """The published period running from ``start`` to ``end``, or NotPublished saying which periods there are."""
    s, e = parse_month(start, "start"), parse_month(end, "end")
    available = periods(wh, measure_id, level)
    match = next((p for p in available if p.start == s and p.end == e), None)
    if match is None:
        label = wh.registry.get(measure_id).label
        kinds = sorted({p.type for p in available}, key=PERIOD_TYPES.index)
        raise NotPublished(
            f"{label} is published for fixed periods only ({', '.join(KIND_NAMES[k] for k in kinds) or 'none yet'}): "
            f"{s:%b %Y} to {e:%b %Y} is not one of them."
            if s and e
            else f"{label}: choose one of its published periods."
        )
    return match


KIND_NAMES = {
    "month": "months",
    "quarter": "calendar quarters",
    "fy": "financial years",
    "rolling12": "rolling 12 months",
}


def cells(
    wh: Warehouse,
    measure_id: str,
    areas=(HIPS,),
    period_type: str | None = None,
    age: str = "all",
    start=None,
    end=None,
) -> pd.DataFrame:
    """Published cells, one row each: area, period_type, start, end (dates), months, count (a float, NaN where
    hidden), suppressed, incomplete. ``areas`` are HIPS, district codes or LSOA codes (one level per call);
    ``start``/``end`` keep the periods lying wholly inside them."""
    if measure_id not in wh.registry:
        raise InvalidQuery(f"unknown measure {str(measure_id)[:40]!r}")
    if period_type is not None and period_type not in PERIOD_TYPES:
        raise InvalidQuery(f"unknown period type {str(period_type)[:20]!r}")
    if age not in AGE_GROUPS:
        raise InvalidQuery(f"unknown age group {str(age)[:20]!r}")
    areas = tuple(sorted({str(a) for a in areas}))
    levels = {_level(a) for a in areas}
    if len(levels) > 1:
        raise InvalidQuery("ask for one level of area at a time")
    level = levels.pop() if levels else "hips"
    if level == "district" and not set(areas) <= wh.district_codes:
        raise InvalidQuery(f"unknown district {sorted(set(areas) - wh.district_codes)[0][:20]!r}")
    check_release(wh)
    s, e = parse_month(start, "start"), parse_month(end, "end")
    key = {"m": measure_id, "a": list(areas), "p": period_type, "g": age, "s": s, "e": e}

    def compute() -> pd.DataFrame:
        c = t.pub_cube
        q = sa.select(
            c.c.area_code.label("area"),
            c.c.period_type,
            c.c.period_start.label("start"),
            c.c.period_end.label("end"),
            c.c.count,
            c.c.suppressed,
            c.c.incomplete,
        ).where(c.c.measure_id == measure_id, c.c.area_level == level, c.c.age == age)
        if level != "hips":
            q = q.where(c.c.area_code.in_(list(areas)))
        if period_type:
            q = q.where(c.c.period_type == period_type)
        if s:
            q = q.where(c.c.period_start >= s)
        if e:
            q = q.where(c.c.period_end <= e)
        frame = wh.read(q.order_by(c.c.area_code, c.c.period_type, c.c.period_start))
        return _tidy(frame)

    return wh.cached("pub_cells", key, compute)


def lsoa_year(wh: Warehouse, measure_id: str, period: Period) -> pd.Series:
    """Every LSOA's published count for one published financial year (all ages), indexed by LSOA code, NaN where
    hidden: the map asks for all of them at once, so no list of 1,231 codes goes into the query or the cache key."""
    if measure_id not in wh.registry or period.type != "fy":
        raise InvalidQuery("LSOA cells are published by financial year only")
    check_release(wh)

    def compute() -> pd.Series:
        c = t.pub_cube
        q = sa.select(c.c.area_code, c.c.count, c.c.suppressed).where(
            c.c.measure_id == measure_id,
            c.c.area_level == "lsoa",
            c.c.age == "all",
            c.c.period_type == "fy",
            c.c.period_start == period.start,
            c.c.period_end == period.end,
        )
        frame = wh.read(q)
        counts = pd.to_numeric(frame["count"], errors="coerce").astype(float)
        return pd.Series(counts.mask(frame["suppressed"].astype(bool)).to_numpy(), index=frame["area_code"])

    return wh.cached("pub_lsoa_year", {"m": measure_id, "s": period.start, "e": period.end}, compute)


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    frame["start"] = pd.to_datetime(frame["start"]).dt.date
    frame["end"] = pd.to_datetime(frame["end"]).dt.date
    frame["suppressed"] = frame["suppressed"].astype(bool)
    frame["incomplete"] = frame["incomplete"].astype(bool)
    # A hidden cell carries no count, whatever the table holds.
    frame["count"] = pd.to_numeric(frame["count"], errors="coerce").astype(float).mask(frame["suppressed"])
    frame["months"] = [months_in(a, b) for a, b in zip(frame["start"], frame["end"], strict=True)]
    return frame


def _area_cells(wh: Warehouse, area: str, age: str) -> dict[tuple, tuple]:
    """Every published cell of one area and age group, all measures and periods (about two thousand, one query),
    by (measure, period type, start, end): a page asks for many single cells of one area (the Overview one or
    two per measure). Each value: (count or None where hidden, suppressed, incomplete)."""

    def compute() -> dict[tuple, tuple]:
        c = t.pub_cube
        q = sa.select(
            c.c.measure_id,
            c.c.area_code.label("area"),
            c.c.period_type,
            c.c.period_start.label("start"),
            c.c.period_end.label("end"),
            c.c.count,
            c.c.suppressed,
            c.c.incomplete,
        ).where(c.c.area_level == _level(area), c.c.area_code == area, c.c.age == age)
        frame = _tidy(wh.read(q))
        return {
            (r.measure_id, r.period_type, r.start, r.end): (
                None if r.suppressed else int(r.count),
                bool(r.suppressed),
                bool(r.incomplete),
            )
            for r in frame.itertuples()
        }

    return wh.cached("pub_area_cells", {"a": area, "g": age}, compute)


def cell(wh: Warehouse, measure_id: str, area: str, start, end, age: str = "all") -> dict:
    """One published cell: count (None where hidden), suppressed, incomplete, period (its Period). NotPublished
    when the cube has no such cell."""
    level = _level(area)
    period = find_period(wh, measure_id, start, end, "district" if level == "lsoa" else level)
    found = _area_cells(wh, area, age).get((measure_id, period.type, period.start, period.end))
    if found is None:
        label = wh.registry.get(measure_id).label
        raise NotPublished(f"{label} is not published for {area} in {period.label}.")
    count, suppressed, incomplete = found
    return {"count": count, "suppressed": suppressed, "incomplete": incomplete, "period": period}


def latest(wh: Warehouse, measure_id: str, kinds=("rolling12", "fy", "quarter", "month")) -> Period | None:
    """The most recent published period of the first kind in ``kinds`` the measure has (HIPS level)."""
    available = periods(wh, measure_id)
    for kind in kinds:
        of_kind = [p for p in available if p.type == kind]
        if of_kind:
            return max(of_kind, key=lambda p: p.end)
    return None


def as_month(value: date | str | None) -> str:
    """A period bound as the filter state writes it: YYYY-MM."""
    return "" if value is None else (value if isinstance(value, str) else f"{value:%Y-%m}")


def page_period(wh: Warehouse, measure_id: str, start, end) -> tuple[Period, str | None]:
    """The published period a page shows for the filter's ``start``/``end``, and a sentence when it is not
    exactly that one. A page with a measure of its own (admissions by quarter, homicide by year) may be handed a
    period its measure is not published for: it shows the nearest of the same kind ending no later, else the
    latest rolling 12 months (else the latest of any kind), and says so."""
    s, e = parse_month(start, "start"), parse_month(end, "end")
    available = periods(wh, measure_id)
    label = wh.registry.get(measure_id).label
    if not available:
        raise NotPublished(f"{label} has no published figures yet.")
    exact = next((p for p in available if p.start == s and p.end == e), None)
    if exact is not None:
        return exact, None
    kind = next((p.type for p in periods_of_span(s, e)), None)
    same_kind = [p for p in available if p.type == kind and (e is None or p.end <= e)]
    chosen = max(same_kind, key=lambda p: p.end) if same_kind else latest(wh, measure_id)
    kinds = sorted({p.type for p in available}, key=PERIOD_TYPES.index)
    return chosen, (f"{label} is published for {', '.join(KIND_NAMES[k] for k in kinds)}: showing {chosen.label}.")


def periods_of_span(start: date | None, end: date | None) -> list[Period]:
    """The lattice kinds a span of months could be (a 12-month span ending in March is a financial year and a
    rolling year), most specific first."""
    if start is None or end is None:
        return []
    n = months_in(start, end)
    kinds = {1: ["month"], 3: ["quarter"] if end.month in (3, 6, 9, 12) else [], 12: []}.get(n, [])
    if n == 12 and end.month in (3, 6, 9, 12):
        kinds = (["fy"] if end.month == 3 else []) + ["rolling12"]
    return [Period(k, start, end) for k in kinds]
