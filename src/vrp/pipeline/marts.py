"""The curated marts every chart reads, rebuilt from the facts and the measure registry in SQL.

mart_counts: measure x month x LSOA (district where the source has nothing finer) x age band.
mart_force_counts: force-level quarterly series (ONS). Also refreshes dim_measure, the source registry and the
place names (pipeline/place_names.py).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vrp.data_access import tables as t
from vrp.data_access.engine import bump_data_version
from vrp.data_access.measures import Measure, MeasureRegistry, condition
from vrp.pipeline.cube import build_cube
from vrp.pipeline.place_names import build_place_names

MART_COLS = [
    "measure_id",
    "month",
    "geography_level",
    "lsoa21_code",
    "district_code",
    "age_band",
    "count",
    "suppressed_cells",
]


def _select_for(measure: Measure) -> sa.Select | None:
    mid = sa.literal(measure.id, sa.String)
    where = condition(measure)
    if measure.source == "police_records":
        f = t.fact_police_records
        return (
            sa.select(
                mid,
                f.c.recorded_month,
                sa.literal("lsoa"),
                f.c.lsoa21_code,
                f.c.district_code,
                f.c.age_band,
                sa.func.count(),
                sa.literal(0),
            )
            .where(where)
            .group_by(f.c.recorded_month, f.c.lsoa21_code, f.c.district_code, f.c.age_band)
        )
    if measure.source == "police_uk":
        f = t.fact_police_uk
        return (
            sa.select(
                mid,
                f.c.month,
                sa.literal("lsoa"),
                f.c.lsoa21_code,
                f.c.district_code,
                sa.literal("unknown"),
                sa.func.count(),
                sa.literal(0),
            )
            .where(where, f.c.out_of_area.is_(False))
            .group_by(f.c.month, f.c.lsoa21_code, f.c.district_code)
        )
    if measure.source in ("homicides", "admissions"):
        f = t.fact_homicides if measure.source == "homicides" else t.fact_admissions
        level = sa.case((f.c.lsoa21_code.is_(None), sa.literal("district")), else_=sa.literal("lsoa"))
        if measure.source == "homicides":
            count, hidden = sa.func.count(), sa.literal(0)
        else:
            count = sa.func.coalesce(sa.func.sum(f.c.admissions), 0)
            hidden = sa.func.sum(sa.case((f.c.suppressed_upstream, 1), else_=0))
        return (
            sa.select(
                mid,
                f.c.month,
                level,
                f.c.lsoa21_code,
                f.c.district_code,
                f.c.age_band,
                sa.cast(count, sa.Integer),
                sa.cast(hidden, sa.Integer),
            )
            .where(where)
            .group_by(f.c.month, f.c.lsoa21_code, f.c.district_code, f.c.age_band)
        )
    return None


def rebuild_marts(
    conn: Connection, registry: MeasureRegistry, sources_config: Path | None = None, public_min_count: int = 0
) -> dict[str, int]:
    """Rebuild every mart, then the published cube from them, inside the caller's transaction; returns rows written
    per measure. A cube that cannot be protected raises CubeNotSafe, and the whole transaction (a load with it)
    rolls back: nothing is published that a user could subtract."""
    conn.execute(t.mart_counts.delete())
    conn.execute(t.mart_force_counts.delete())
    conn.execute(t.dim_measure.delete())
    written: dict[str, int] = {}
    for m in registry:
        conn.execute(
            t.dim_measure.insert().values(
                measure_id=m.id,
                label=m.label,
                definition=m.definition,
                source=m.source,
                unit=m.unit,
                denominator=m.denominator,
                polarity=m.polarity,
                geography_levels=",".join(m.geography_levels),
                time_grain=m.time_grain,
                suppress_below=m.suppress_below,
                filter_json=m.filter_json(),
            )
        )
        select = _select_for(m)
        if select is not None:
            written[m.id] = conn.execute(t.mart_counts.insert().from_select(MART_COLS, select)).rowcount
        elif m.source == "ons_knife":
            f = t.fact_ons_knife
            select = sa.select(
                sa.literal(m.id, sa.String),
                f.c.force_name,
                f.c.region,
                f.c.quarter_start,
                f.c.financial_year,
                f.c.fy_quarter,
                f.c.knife_crime,
                f.c.population_thousands * 1000.0,
            )
            written[m.id] = conn.execute(
                t.mart_force_counts.insert().from_select(
                    [
                        "measure_id",
                        "force_name",
                        "region",
                        "quarter_start",
                        "financial_year",
                        "fy_quarter",
                        "count",
                        "population",
                    ],
                    select,
                )
            ).rowcount
    if sources_config is not None:
        refresh_source_registry(conn, sources_config)
    build_place_names(conn)
    if conn.dialect.name == "postgresql":
        # Fresh statistics for the planner: without them (autovacuum may be off or slow) a bulk-loaded mart is
        # planned as a nested loop, many times slower (docs/PERFORMANCE.md, "Fewer round trips").
        for table in (t.mart_counts, t.mart_force_counts, t.mart_population, t.dim_area, t.fact_police_records):
            conn.execute(sa.text(f'ANALYZE "{table.name}"'))
    bump_data_version(conn)
    build_cube(conn, registry, public_min_count)  # after the bump: its cells carry the new data version
    return written


def _coverage(conn: Connection, source: str) -> tuple:
    table = t.FACT_TABLES[source]
    month = {"police_records": table.c.get("recorded_month"), "ons_knife": table.c.get("quarter_start")}.get(
        source, table.c.get("month")
    )
    return conn.execute(sa.select(sa.func.min(month), sa.func.max(month), sa.func.count()).select_from(table)).one()


def refresh_source_registry(conn: Connection, sources_config: Path) -> None:
    config = tomllib.loads(Path(sources_config).read_text(encoding="utf-8"))["sources"]
    conn.execute(t.source_registry.delete())
    audit = t.load_audit
    for source_id, info in config.items():
        start, end, rows = _coverage(conn, source_id)
        files, last, n_synth, covered_to = conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.max(audit.c.loaded_at),
                sa.func.sum(sa.case((audit.c.synthetic, 1), else_=0)),
                sa.func.max(audit.c.period_end),
            ).where(audit.c.source == source_id)
        ).one()
        n_synth = int(n_synth or 0)
        status = (
            "none loaded" if not files else "synthetic" if n_synth == files else "real" if n_synth == 0 else "mixed"
        )
        conn.execute(
            t.source_registry.insert().values(
                source_id=source_id,
                name=info["name"],
                owner=info["owner"],
                licence=info["licence"],
                sharing_status=info["sharing_status"],
                geography=info["geography"],
                synthetic=status,
                coverage_start=start,
                coverage_end=max(d for d in (end, covered_to) if d) if (end or covered_to) else None,
                rows=int(rows),
                files_loaded=int(files),
                last_load_at=last,
            )
        )
