"""Conditions on, and raw totals from, the count mart (``mart_counts``): internal to data_access. The totals
here are true counts, never returned to a caller outside data_access before the audience rule is applied."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from vrp.data_access import tables as t
from vrp.data_access.validation import AGE_GROUPS, Filter, parse_month

if TYPE_CHECKING:
    from vrp.data_access.queries import Warehouse


def mart_where(f: Filter) -> list:
    """Conditions on mart_counts for a checked filter: measure, districts, months and age group."""
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


def raw_total(wh: Warehouse, f: Filter) -> tuple[int, int]:
    """Raw total and supplier-hidden cells over a filter."""
    m = t.mart_counts
    q = sa.select(
        sa.func.coalesce(sa.func.sum(m.c.count), 0),
        sa.func.coalesce(sa.func.sum(m.c.suppressed_cells), 0),
    ).where(*mart_where(f))
    with wh.engine.connect() as conn:
        total, hidden = conn.execute(q).one()
    return int(total), int(hidden)


def period_totals(wh: Warehouse, f: Filter, periods: dict[str, tuple[str, str]]) -> dict[str, tuple[int, int]]:
    """Raw totals and supplier-hidden cells for several periods (``YYYY-MM`` bounds) in one query; the
    filter's own months are ignored."""
    return totals_many(wh, (f.measure_id,), f.districts, f.age, periods)[f.measure_id]


def totals_many(
    wh: Warehouse, measure_ids, districts: tuple[str, ...], age: str, periods: dict[str, tuple[str, str]]
) -> dict[str, dict[str, tuple[int, int]]]:
    """``period_totals`` for several measures over the same districts and periods: one query, not one each."""
    m = t.mart_counts
    where = mart_where(Filter(measure_ids[0], districts, None, None, age))[1:]  # all but the measure
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
    with wh.engine.connect() as conn:
        rows = {r.measure_id: r._mapping for r in conn.execute(q)}
    return {
        mid: {
            name: (int(rows[mid][f"{name}_n"]), int(rows[mid][f"{name}_h"])) if mid in rows else (0, 0)
            for name in periods
        }
        for mid in measure_ids
    }
