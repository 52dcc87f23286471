"""Build the published cube with the marts: read the base counts, protect each family of measures as one table,
write the published cells and the audit (docs/METHODS.md#the-published-cube).

Public pages and the API read nothing else, so whatever a public user can add up or subtract is bounded by the
audit that runs here, over every published cell at once.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vrp.data_access import tables as t
from vrp.data_access.engine import bulk_insert, get_meta, set_meta
from vrp.data_access.measures import Measure, MeasureRegistry, disclosure_rules
from vrp.data_access.published import CubeNotSafe
from vrp.periods import add_months, months_in
from vrp.pipeline.cube_lsoa import Layer, protect_family
from vrp.pipeline.cube_table import U25_BANDS, CubeTable, FamilyInput, build_family
from vrp.pipeline.lattice import lattice

FORCE_LATTICE = ("quarter", "fy", "rolling12")
MAX_THREADS = 4  # families protected at once; the demo has four that take real work


def families(registry: MeasureRegistry) -> list[list[Measure]]:
    """Measures protected together: a measure and those that are part of it (their difference is a count)."""
    groups: dict[str, list[Measure]] = {}
    for m in registry:
        if m.source == "ons_knife":
            continue
        root = m.part_of if m.part_of and m.part_of in registry else m.id
        groups.setdefault(root, []).append(m)
    return [sorted(g, key=lambda m: m.part_of is not None) for g in groups.values()]


def threshold(measure: Measure, public_min_count: int) -> int:
    return max(measure.suppress_below, public_min_count)


def coverage(conn: Connection, source: str) -> tuple[date | None, date | None]:
    """The whole months a source covers: its first row to its last row or the last month a loaded file says it
    covers (a sparse source's last months may hold no rows, and those are zeros, not gaps)."""
    table = t.FACT_TABLES[source]
    month = table.c.get("recorded_month") if source == "police_records" else table.c.get("month")
    first, last = conn.execute(sa.select(sa.func.min(month), sa.func.max(month))).one()
    covered = conn.execute(
        sa.select(sa.func.max(t.load_audit.c.period_end)).where(t.load_audit.c.source == source)
    ).scalar()
    ends = [pd.Timestamp(d).date().replace(day=1) for d in (last, covered) if d is not None]
    return (pd.Timestamp(first).date().replace(day=1) if first else None), (max(ends) if ends else None)


def _base(conn: Connection, measure: Measure) -> pd.DataFrame:
    m = t.mart_counts
    if measure.source == "police_uk":  # no victim ages
        group = sa.case((m.c.age_band.is_(None), "none"), else_="all")
    else:
        group = sa.case((m.c.age_band.in_(U25_BANDS), "u25"), else_="o25")
    q = (
        sa.select(
            m.c.district_code,
            m.c.month,
            group.label("group"),
            sa.func.sum(m.c.count).label("count"),
            sa.func.sum(m.c.suppressed_cells).label("upstream"),
        )
        .where(m.c.measure_id == measure.id)
        .group_by(m.c.district_code, m.c.month, group)
    )
    frame = pd.read_sql(q, conn)
    frame["month"] = pd.to_datetime(frame["month"]).dt.date
    return frame


def _lsoa_counts(
    conn: Connection, measure: Measure, first: date, last: date, types: tuple[str, ...] = ("quarter", "fy", "rolling12")
) -> pd.DataFrame:
    """Counts by LSOA and lattice period of ``types`` (financial years; quarters and rolling years too where nothing
    is hidden)."""
    m = t.mart_counts
    q = (
        sa.select(m.c.lsoa21_code, m.c.district_code, m.c.month, sa.func.sum(m.c.count).label("count"))
        .where(m.c.measure_id == measure.id, m.c.geography_level == "lsoa", m.c.month.between(first, last))
        .group_by(m.c.lsoa21_code, m.c.district_code, m.c.month)
    )
    frame = pd.read_sql(q, conn)
    frame["month"] = pd.to_datetime(frame["month"]).dt.date
    rows = []
    for period in lattice(first, last, types):
        inside = frame[frame["month"].between(period.start, period.end)]
        sums = inside.groupby(["lsoa21_code", "district_code"], as_index=False)["count"].sum()
        rows.append(sums.assign(period_start=period.start, period_type=period.type))
    out = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(columns=["lsoa21_code", "district_code", "count", "period_start", "period_type"])
    )
    return out


def _family_input(conn, family, districts, lsoa_district, public_min_count) -> FamilyInput | None:
    first, last = coverage(conn, family[0].source)
    if first is None:
        return None
    months = [add_months(first, i) for i in range(months_in(first, last))]
    base = {m.id: _base(conn, m) for m in family}
    lsoa = {}
    for m in family:
        # A measure with a suppression rule has its LSOA years protected as a layer of their own (cube_lsoa).
        if m.has_lsoa and threshold(m, public_min_count) <= 1:
            lsoa[m.id] = _lsoa_counts(conn, m, first, last)
    thresholds = {m.id: threshold(m, public_min_count) for m in family}
    return FamilyInput(family, districts, months, base, lsoa, lsoa_district, thresholds)


def build_cube(conn: Connection, registry: MeasureRegistry, public_min_count: int = 0) -> dict:
    """Rebuild pub_cube and pub_cube_audit inside the caller's transaction. Returns the audit's summary."""
    started = time.perf_counter()
    for table in (t.pub_cube, t.pub_cube_audit):
        table.create(conn, checkfirst=True)
        conn.execute(table.delete())
    version = get_meta(conn, "data_version") or "0"
    districts = sorted(conn.execute(sa.select(t.dim_district.c.district_code)).scalars())
    lsoa_district = dict(conn.execute(sa.select(t.dim_area.c.lsoa21_code, t.dim_area.c.district_code)).all())
    summary = {
        "cells": 0,
        "hidden": 0,
        "primary": 0,
        "interior_protected": 0,
        "pinned": 0,
        "solves": 0,
        "min_width": None,
    }
    inputs = [
        (data, _lsoa_years(conn, data))
        for family in families(registry)
        if (data := _family_input(conn, family, districts, lsoa_district, public_min_count)) is not None
    ]
    for protected in protect_families(inputs):
        _publish_family(conn, protected, version, summary)
    summary["cells"] += _write_force_cells(conn, registry, version)
    summary["seconds"] = round(time.perf_counter() - started, 2)
    for key, value in summary.items():
        set_meta(conn, f"cube_{key}", str(value))
    set_meta(conn, "cube_min_count", str(public_min_count))
    set_meta(conn, "cube_rules", disclosure_rules(registry))
    if summary["pinned"]:  # raised inside the caller's transaction: nothing of this cube is published
        raise CubeNotSafe(f"the published cube would leave {summary['pinned']} hidden cells that a user could pin")
    return summary


def _lsoa_years(conn: Connection, data: FamilyInput) -> dict[str, pd.DataFrame]:
    """The LSOA years of the family's suppressed measures (only years: the other sums would be thrown away)."""
    if not any(k > 1 for k in data.thresholds.values()) or "fy" not in data.measures[0].public_periods:
        return {}
    first, last = data.months[0], data.months[-1]
    return {
        m.id: _lsoa_counts(conn, m, first, last, ("fy",))
        for m in data.measures
        if m.has_lsoa and data.thresholds[m.id] > 1
    }


@dataclass
class Protected:
    """One family's cube and what its protection hides, ready to be written."""

    cube: CubeTable
    hidden: np.ndarray
    primary: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    pinned: int
    solves: int
    layer: Layer | None
    cpu_seconds: float  # of the thread that protected it (benchmarks/bench_cube.py)


def protect_family_cube(data: FamilyInput, years: dict[str, pd.DataFrame]) -> Protected:
    """Build and protect one family's cube: no connection, so families can be protected side by side."""
    started = time.thread_time()
    cube, _ = build_family(data)
    n = len(cube.table.values)
    if not any(k > 1 for k in data.thresholds.values()):
        nothing, unknown = np.zeros(n, bool), np.full(n, np.nan)
        return Protected(cube, nothing, nothing, unknown, unknown, 0, 0, None, time.thread_time() - started)
    result, layer = protect_family(cube, years, data.lsoa_district, data.thresholds)
    return Protected(
        cube,
        result.hidden,
        result.primary,
        result.lower,
        result.upper,
        len(result.pinned),
        result.solves,
        layer,
        time.thread_time() - started,
    )


def protect_families(inputs: list[tuple[FamilyInput, dict]]) -> list[Protected]:
    """Every family protected, in the order given. Families share no cells and HiGHS lets go of the GIL while
    it solves, so threads keep the machine's cores busy. Families with more small counts start first, a rough
    guide to their work (homicide, with fewer, took longest at scale 10). A family's answer does not depend on the
    others, so the cube is the same with one thread or many, except that an integer check runs against a clock
    (disclosure_highs.INTEGER_TIME_LIMIT): one that runs out on a busy machine hides more, never less. The first
    failure stops the build without waiting for the families still queued."""
    workers = min(len(inputs), os.cpu_count() or 1, MAX_THREADS)
    if workers <= 1:
        return [protect_family_cube(data, years) for data, years in inputs]
    order = sorted(range(len(inputs)), key=lambda i: -_small_counts(inputs[i][0]))
    pool = ThreadPoolExecutor(workers, thread_name_prefix="vrp-cube")
    try:
        futures = {i: pool.submit(protect_family_cube, *inputs[i]) for i in order}
        return [futures[i].result() for i in range(len(inputs))]
    finally:  # after a failure (or Ctrl-C) the queued families are dropped; one already solving finishes alone
        pool.shutdown(wait=False, cancel_futures=True)


def _small_counts(data: FamilyInput) -> int:
    """How many base counts the family's rule hides: a rough measure of the work its protection takes."""
    return sum(
        int(((frame["count"] > 0) & (frame["count"] < data.thresholds[measure_id])).sum())
        for measure_id, frame in data.base.items()
    )


def _publish_family(conn: Connection, protected: Protected, version: str, summary: dict) -> None:
    """Write one family's cells and audit (with the LSOA years of its suppressed measures)."""
    p = protected
    table, layer = p.cube.table, p.layer
    summary["solves"] += p.solves
    _write_cells(conn, p.cube, p.hidden, version)
    audit = _write_audit(conn, p.cube, p.hidden, p.primary, p.lower, p.upper, version)
    summary["cells"] += int(table.publishable.sum())
    summary["hidden"] += int(p.hidden.sum())
    summary["primary"] += int((p.primary & table.publishable).sum())
    summary["interior_protected"] += int((p.primary & ~table.publishable).sum())
    summary["pinned"] += p.pinned
    if layer is not None and len(layer.cells):
        bulk_insert(conn, t.pub_cube, layer.cells.assign(data_version=version))
        bulk_insert(conn, t.pub_cube_audit, layer.audit.assign(data_version=version))
        summary["cells"] += len(layer.cells)
        summary["hidden"] += int(layer.cells["suppressed"].sum())
        summary["primary"] += int((layer.audit["reason"] == "small").sum()) if len(layer.audit) else 0
        summary["pinned"] += layer.pinned
        audit = pd.concat([audit, layer.audit], ignore_index=True)
    if len(audit):
        width = float((audit["upper"] - audit["lower"]).min())
        summary["min_width"] = width if summary["min_width"] is None else min(summary["min_width"], width)


def _write_cells(conn: Connection, cube, hidden: np.ndarray, version: str) -> None:
    table = cube.table
    keep = table.publishable
    frame = cube.meta[keep].copy()
    frame["count"] = pd.array(np.where(hidden[keep], np.nan, table.values[keep]), dtype="Int64")
    frame["suppressed"] = hidden[keep]
    frame["incomplete"] = cube.incomplete[keep]
    frame["data_version"] = version
    bulk_insert(conn, t.pub_cube, frame)


def _write_audit(conn, cube, hidden, primary, lower, upper, version) -> pd.DataFrame:
    table = cube.table
    rows = hidden | primary
    frame = cube.meta[rows].copy()
    frame["value"] = table.values[rows].astype(int)
    frame["reason"] = np.where(primary[rows], "small", "protects")
    frame["published"] = table.publishable[rows]
    frame["lower"], frame["upper"] = lower[rows], upper[rows]
    frame["data_version"] = version
    bulk_insert(conn, t.pub_cube_audit, frame)
    return frame


def _write_force_cells(conn: Connection, registry: MeasureRegistry, version: str) -> int:
    """The ONS force series: published by the ONS already, with no suppression; quarters and the years made of them."""
    written = 0
    for measure in registry.for_source("ons_knife"):
        m = t.mart_force_counts
        frame = pd.read_sql(
            sa.select(m.c.force_name, m.c.quarter_start, m.c.count).where(m.c.measure_id == measure.id), conn
        )
        if frame.empty:
            continue
        frame["quarter_start"] = pd.to_datetime(frame["quarter_start"]).dt.date
        rows = []
        for force, series in frame.groupby("force_name"):
            counts = dict(zip(series["quarter_start"], series["count"], strict=True))
            first, last = min(counts), add_months(max(counts), 2)
            for period in lattice(first, last, FORCE_LATTICE):
                starts = [add_months(period.start, 3 * i) for i in range(period.months // 3)]
                if all(s in counts for s in starts):
                    rows.append(
                        (
                            measure.id,
                            "force",
                            force,
                            "all",
                            period.type,
                            period.start,
                            period.end,
                            int(sum(counts[s] for s in starts)),
                        )
                    )
        cells = pd.DataFrame(
            rows,
            columns=[
                "measure_id",
                "area_level",
                "area_code",
                "age",
                "period_type",
                "period_start",
                "period_end",
                "count",
            ],
        )
        cells = cells.assign(suppressed=False, incomplete=False, data_version=version)
        bulk_insert(conn, t.pub_cube, cells)
        written += len(cells)
    return written
