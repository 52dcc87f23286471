"""Creating a warehouse: schema, reference dimensions, empty marts."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from vrp.data_access.engine import create_schema, set_meta
from vrp.data_access.measures import load_registry
from vrp.pipeline.load import upgrade_load_audit
from vrp.pipeline.lock import lock_warehouse
from vrp.pipeline.marts import rebuild_marts
from vrp.pipeline.reference import load_reference
from vrp.settings import Settings

SCHEMA_VERSION = "1"


def init_warehouse(engine: Engine, settings: Settings, *, lock_wait: float = 0.0) -> dict[str, int]:
    """Create the tables (if absent) and (re)load the reference data, in one transaction holding the warehouse's
    write lock."""
    registry = load_registry(settings.measures_file)
    with engine.begin() as conn:
        lock_warehouse(conn, lock_wait)
        create_schema(conn)
        upgrade_load_audit(conn)
        counts = load_reference(conn, settings.reference_dir, settings.config_dir / "offence_codes.csv")
        set_meta(conn, "schema_version", SCHEMA_VERSION)
        rebuild_marts(conn, registry, settings.sources_file, settings.public_min_count)
    return counts
