"""What every ``vrp`` command shares: the warehouse and output options, the settings, and opening the warehouse to
read or to write. Its own module so the command modules (vrp.cli, cli_evaluate, cli_briefing) import it, not each
other."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import click
import pandas as pd

from vrp import settings as settings_mod
from vrp.data_access.engine import WarehouseError, check_reachable, is_warehouse, make_engine
from vrp.pipeline.lock import duckdb_busy

if TYPE_CHECKING:
    from vrp.data_access.queries import Warehouse

warehouse_option = click.option(
    "--warehouse",
    "warehouse_url",
    metavar="URL",
    default=None,
    help="duckdb:///FILE or postgresql+psycopg://USER@HOST/DB (default: $VRP_WAREHOUSE_URL, else the demo file).",
)
wait_option = click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=0,
    metavar="SECONDS",
    help="If another load is writing to the warehouse, wait up to this long for it (default: refuse at once).",
)
format_option = click.option("--format", "fmt", type=click.Choice(["csv", "table"]), default="table", show_default=True)


def settings_for(warehouse_url: str | None) -> settings_mod.Settings:
    s = settings_mod.from_env()
    return s.with_(warehouse_url=warehouse_url) if warehouse_url else s


def close_later(closer) -> None:
    """Release the warehouse when the command ends: DuckDB lets a process hold a file in one mode at a time."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(closer)


def write_engine(s: settings_mod.Settings, *, must_exist: bool = True, wait: float = 0.0):
    engine = make_engine(s.warehouse)
    close_later(engine.dispose)
    open_for_writing(engine, wait)
    if must_exist and not is_warehouse(engine):
        engine.dispose()
        raise WarehouseError(f"{s.warehouse} is not a warehouse yet: run `vrp init` or `vrp build-demo`")
    return engine


def open_for_writing(engine, wait: float) -> None:
    """Reach the warehouse; a DuckDB file another process holds is retried for ``wait`` seconds, then refused in
    one line (PostgreSQL loads wait for their turn in vrp.pipeline.lock instead)."""
    import time

    deadline = time.monotonic() + wait
    while True:
        try:
            check_reachable(engine)
            return
        except WarehouseError as exc:
            busy = duckdb_busy(exc.__cause__ or exc)
            if busy is None:
                raise
            if time.monotonic() >= deadline:
                raise busy from None
            engine.dispose()
            time.sleep(0.5)


def reader(s: settings_mod.Settings) -> Warehouse:
    # Imported here: the read side loads the statistics (scipy), which a load (`vrp ingest`) does without.
    from vrp.data_access.queries import Warehouse

    wh = Warehouse(s)
    close_later(wh.dispose)
    check_reachable(wh.engine)
    if not is_warehouse(wh.engine):
        raise WarehouseError(f"{s.warehouse} is not a warehouse yet: run `vrp init` or `vrp build-demo`")
    return wh


def emit(frame: pd.DataFrame, fmt: str) -> None:
    if fmt == "csv":
        click.echo(frame.to_csv(index=False), nl=False)
    elif frame.empty:
        click.echo("(nothing)")
    else:
        click.echo(frame.to_string(index=False))


def parse_month(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        y, m = value.split("-")
        return date(int(y), int(m), 1)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a month like 2026-09") from exc
