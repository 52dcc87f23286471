"""One writer at a time per warehouse, and a one-line answer for the second.

PostgreSQL: every writing transaction (a file's load, a marts rebuild, `vrp init`) first takes a transaction-level
advisory lock keyed on the warehouse's schema, so two loads into one warehouse never interleave, while warehouses in
other schemas of the same database load side by side. The lock goes with the transaction: a crashed load frees it.
DuckDB locks the file itself (one writing process); its refusal is turned into the same kind of line here.
"""

from __future__ import annotations

import re
import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vrp.data_access.engine import WarehouseError

LOCK_CLASS = 0x56_52_50  # "VRP": the first key of the two-key advisory lock; the second is the schema's hash
POLL_SECONDS = 0.2


class WarehouseBusy(WarehouseError):
    """Another process is writing to this warehouse."""


def busy_message(holder: str, wait: float) -> str:
    waited = f" (waited {wait:g} s)" if wait > 0 else ""
    return (
        f"another load is running into this warehouse{holder}{waited}: nothing was changed; "
        "run the command again when it ends, or pass --wait SECONDS"
    )


def lock_warehouse(conn: Connection, wait: float = 0.0) -> None:
    """Take the warehouse's write lock for the rest of ``conn``'s transaction, waiting up to ``wait`` seconds.

    Raises WarehouseBusy if another transaction holds it. A no-op on DuckDB, whose file lock already admits one
    writing process (see duckdb_busy)."""
    if conn.dialect.name != "postgresql":
        return
    deadline = time.monotonic() + max(wait, 0.0)
    query = sa.text("SELECT pg_try_advisory_xact_lock(:cls, hashtext(current_schema()))")
    while not conn.execute(query, {"cls": LOCK_CLASS}).scalar():
        if time.monotonic() >= deadline:
            raise WarehouseBusy(busy_message(_pg_holder(conn), wait))
        time.sleep(POLL_SECONDS)


def _pg_holder(conn: Connection) -> str:
    """Who holds the lock, for the message: ' (PostgreSQL backend 1234, since 07:12:03 UTC)', or ''."""
    row = conn.execute(
        sa.text(
            "SELECT l.pid, to_char(a.xact_start AT TIME ZONE 'UTC', 'HH24:MI:SS') FROM pg_locks l "
            "LEFT JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
            "AND l.classid = :cls AND l.objid = hashtext(current_schema())::oid AND l.objsubid = 2 LIMIT 1"
        ),
        {"cls": LOCK_CLASS},
    ).first()
    if row is None:
        return ""
    return f" (PostgreSQL backend {row[0]}" + (f", since {row[1]} UTC)" if row[1] else ")")


_DUCKDB_LOCK = re.compile(r"Could not set lock on file|Conflicting lock", re.IGNORECASE)
_DUCKDB_PID = re.compile(r"\(PID (\d+)\)")


def duckdb_busy(exc: BaseException) -> WarehouseBusy | None:
    """DuckDB's 'Could not set lock on file ... Conflicting lock is held in ... (PID n)' as a WarehouseBusy."""
    text = str(getattr(exc, "orig", None) or exc)
    if not _DUCKDB_LOCK.search(text):
        return None
    pid = _DUCKDB_PID.search(text)
    holder = f" (process {pid.group(1)} has the file open)" if pid else ""
    return WarehouseBusy(
        f"another process is using this DuckDB warehouse{holder}: a load, or the app, which must be stopped while "
        "a DuckDB file is loaded (nothing was changed)"
    )
