"""Engine factory and the few dialect-specific pieces (bulk loading) behind one interface."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

from vrp.data_access.tables import meta_info, metadata


class WarehouseError(RuntimeError):
    """The warehouse cannot be reached or is not a warehouse: one line, fit for a user."""


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` as the psycopg 3 driver; check the scheme."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a long message
        raise WarehouseError(
            f"not a warehouse URL: {url!r} (expected duckdb:///FILE or postgresql+psycopg://...)"
        ) from exc
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend != "duckdb":
        raise WarehouseError(f"unsupported warehouse {backend!r}: use duckdb:///FILE or postgresql+psycopg://...")
    return parsed.render_as_string(hide_password=False)


def duckdb_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "duckdb" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def make_engine(url: str, *, read_only: bool = False, schema: str | None = None) -> Engine:
    """An engine for the warehouse. The app opens DuckDB read-only, so many workers can share the file."""
    url = normalise_url(url)
    if url.startswith("duckdb"):
        path = duckdb_path(url)
        if read_only and path is not None and not path.exists():
            raise WarehouseError(f"no warehouse at {path}: build it with `vrp build-demo`")
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        return sa.create_engine(url, connect_args={"read_only": read_only} if read_only else {})
    connect_args: dict = {"connect_timeout": 5}
    # libpq options given in the URL (?options=-csearch_path=...) are kept and extended, not replaced.
    options = [make_url(url).query.get("options") or ""]
    if schema:
        options.append(f"-csearch_path={schema}")
    if read_only:
        options.append("-cdefault_transaction_read_only=on")
    if any(options):
        connect_args["options"] = " ".join(o for o in options if o)
    return sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True)


def check_reachable(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        raise WarehouseError(f"cannot reach the warehouse {engine.url.render_as_string()}: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def create_schema(engine_or_conn: Engine | Connection) -> None:
    metadata.create_all(engine_or_conn)


def is_warehouse(engine: Engine) -> bool:
    return sa.inspect(engine).has_table("meta_info")


def duckdb_ready(conn: Connection):
    """The DuckDB connection under ``conn``, ready for new work (register a frame, run a statement of its own):
    DuckDB refuses it while an earlier result on the connection is unfinished, so that result is finished here.
    The same connection, so the work stays inside the caller's transaction."""
    raw = conn.connection.driver_connection
    try:
        raw.complete()
    except Exception:  # nothing pending
        pass
    return raw


def bulk_insert(conn: Connection, table: sa.Table, frame: pd.DataFrame) -> int:
    """Insert a DataFrame inside the caller's transaction, by the fastest path the dialect has.

    Row-by-row executemany is far too slow for the fact tables (DuckDB especially), so DuckDB reads the
    frame directly and PostgreSQL takes it through COPY.
    """
    if frame.empty:
        return 0
    cols = [c.name for c in table.columns if c.name in frame.columns]
    frame = frame[cols]
    dialect = conn.dialect.name
    raw = conn.connection.driver_connection
    if dialect == "duckdb":
        raw = duckdb_ready(conn)
        name = f"_bulk_{table.name}"
        raw.register(name, frame)
        try:
            col_list = ", ".join(f'"{c}"' for c in cols)
            raw.execute(f'INSERT INTO "{table.name}" ({col_list}) SELECT {col_list} FROM {name}')
        finally:
            raw.unregister(name)
    elif dialect == "postgresql":
        buf = io.StringIO()
        # NULL as \N, everything else as CSV text that COPY parses by the column types.
        frame.to_csv(
            buf,
            index=False,
            header=False,
            na_rep="\\N",
            quoting=csv.QUOTE_MINIMAL,
            date_format="%Y-%m-%d %H:%M:%S",
        )
        col_list = ", ".join(f'"{c}"' for c in cols)
        with raw.cursor() as cur:
            with cur.copy(f"COPY \"{table.name}\" ({col_list}) FROM STDIN WITH (FORMAT csv, NULL '\\N')") as copy:
                copy.write(buf.getvalue())
    else:  # pragma: no cover - only the two supported dialects reach here
        conn.execute(table.insert(), frame.to_dict("records"))
    return len(frame)


def get_meta(conn: Connection, key: str) -> str | None:
    return conn.execute(sa.select(meta_info.c.value).where(meta_info.c.key == key)).scalar()


def set_meta(conn: Connection, key: str, value: str) -> None:
    conn.execute(meta_info.delete().where(meta_info.c.key == key))
    conn.execute(meta_info.insert().values(key=key, value=value))


def bump_data_version(conn: Connection) -> str:
    """Every load and rebuild changes the data version, so cached results keyed on it all lapse at once."""
    current = get_meta(conn, "data_version_counter")
    counter = int(current) + 1 if current else 1
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    set_meta(conn, "data_version_counter", str(counter))
    set_meta(conn, "data_version", f"{counter}-{stamp}")
    set_meta(conn, "updated_at", datetime.now(UTC).isoformat(timespec="seconds"))
    return f"{counter}-{stamp}"


def data_version(engine: Engine) -> str:
    with engine.connect() as conn:
        return get_meta(conn, "data_version") or "0"
