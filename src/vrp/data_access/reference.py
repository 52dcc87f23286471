"""Reference tables every page reads: districts, measures, sources and their coverage, and the load audit.

Counts of records are partner-only even here: a source's ``rows`` is a total over its whole coverage, so less the
published financial years it gives the count of a part-year the cube does not publish; the load audit counts each
file's rows. The public audience gets the registry without ``rows`` and no load audit.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import sqlalchemy as sa

from vrp.data_access import tables as t

if TYPE_CHECKING:
    from vrp.data_access.queries import Warehouse


def _as_date(value) -> date | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    return pd.Timestamp(value).date().replace(day=1)


def districts(wh: Warehouse) -> pd.DataFrame:
    return wh.in_process(
        "districts", lambda: wh.read(sa.select(t.dim_district).order_by(t.dim_district.c.district_name))
    )


def measures(wh: Warehouse) -> pd.DataFrame:
    return wh.cached("measures", {}, lambda: wh.read(sa.select(t.dim_measure)))


# Columns of the source registry that count partner records (see the module's docstring).
PARTNER_ONLY_COLUMNS = frozenset({"rows"})


def sources(wh: Warehouse) -> pd.DataFrame:
    """The source registry, one row per source; for the public audience without its row counts."""
    reg = t.source_registry
    columns = [c for c in reg.c if wh.audience == "partner" or c.name not in PARTNER_ONLY_COLUMNS]
    # Read by every page (coverage, synthetic labels); held per Warehouse, whose audience is fixed.
    return wh.in_process("sources", lambda: wh.read(sa.select(*columns).order_by(reg.c.source_id)))


def synthetic_sources(wh: Warehouse) -> set[str]:
    frame = wh.sources()
    return set(frame.loc[frame["synthetic"].isin(["synthetic", "mixed"]), "source_id"])


def source_coverage(wh: Warehouse) -> dict[str, tuple[date | None, date | None]]:
    return wh.in_process(
        "source_coverage",
        lambda: {
            r.source_id: (_as_date(r.coverage_start), _as_date(r.coverage_end)) for r in wh.sources().itertuples()
        },
    )


def load_audit(wh: Warehouse) -> pd.DataFrame:
    """One row per file loaded, with its row counts: partner audience only."""
    wh.require_partner("The load audit (rows read, loaded and quarantined per file)")
    a = t.load_audit
    return wh.read(sa.select(a).order_by(a.c.load_id))
