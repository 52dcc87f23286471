"""Partner-only questions: record-level incidents and quarantined rows. Each refuses the public audience
before it reads anything."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa

from vrp.data_access import tables as t
from vrp.data_access.measures import MeasureRegistry, condition
from vrp.data_access.validation import AGE_GROUPS, Filter, InvalidQuery

if TYPE_CHECKING:
    from vrp.data_access.queries import Warehouse


def records_where(registry: MeasureRegistry, f: Filter) -> list:
    """Conditions on fact_police_records for a checked filter: the measure's definition, districts, recorded
    months and victim age group."""
    r = t.fact_police_records
    where = [condition(registry.get(f.measure_id))]
    if f.districts:
        where.append(r.c.district_code.in_(f.districts))
    if f.start:
        where.append(r.c.recorded_month >= f.start)
    if f.end:
        where.append(r.c.recorded_month <= f.end)
    if AGE_GROUPS[f.age]:
        where.append(r.c.age_band.in_(AGE_GROUPS[f.age]))
    return where


def quarantine(wh: Warehouse, load_id: int | None = None) -> pd.DataFrame:
    """Quarantined rows hold raw partner records: partner audience only."""
    wh.require_partner("Quarantined rows")
    q = sa.select(t.quarantine).order_by(t.quarantine.c.load_id, t.quarantine.c.line)
    if load_id is not None:
        q = q.where(t.quarantine.c.load_id == int(load_id))
    return wh.read(q)


def incidents(wh: Warehouse, measure_id: str, districts=(), start=None, end=None, age: str = "all") -> pd.DataFrame:
    """Record-level points for a police-records measure and victim age group (the same selection as the map's
    counts, so the density layer agrees with them): partner audience only."""
    wh.require_partner("Record-level incidents")
    f = wh.check(measure_id, districts, start, end, age)
    measure = wh.registry.get(f.measure_id)
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
    ).where(*wh.records_where(f))
    return wh.read(q)
