"""The ``vrp`` command: build, load and inspect the warehouse."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
import pandas as pd
import sqlalchemy as sa

from vrp import settings as settings_mod
from vrp.data_access.audience import SUPPRESSED
from vrp.data_access.engine import WarehouseError, check_reachable, get_meta, is_warehouse, make_engine
from vrp.data_access.measures import MeasureConfigError, load_registry
from vrp.data_access.queries import Warehouse
from vrp.data_access.validation import InvalidQuery, NotPermitted
from vrp.pipeline.csvfile import FileRefused
from vrp.pipeline.cube import CubeNotSafe
from vrp.pipeline.reference import ReferenceDataError

EXPECTED = (
    FileRefused,
    CubeNotSafe,
    WarehouseError,
    InvalidQuery,
    NotPermitted,
    MeasureConfigError,
    ReferenceDataError,
    FileNotFoundError,
)

warehouse_option = click.option(
    "--warehouse",
    "warehouse_url",
    metavar="URL",
    default=None,
    help="duckdb:///FILE or postgresql+psycopg://USER@HOST/DB (default: $VRP_WAREHOUSE_URL, else the demo file).",
)
format_option = click.option("--format", "fmt", type=click.Choice(["csv", "table"]), default="table", show_default=True)


def _settings(warehouse_url: str | None) -> settings_mod.Settings:
    s = settings_mod.from_env()
    return s.with_(warehouse_url=warehouse_url) if warehouse_url else s


def _close_later(closer) -> None:
    """Release the warehouse when the command ends: DuckDB lets a process hold a file in one mode at a time."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(closer)


def _write_engine(s: settings_mod.Settings, *, must_exist: bool = True):
    engine = make_engine(s.warehouse)
    _close_later(engine.dispose)
    check_reachable(engine)
    if must_exist and not is_warehouse(engine):
        engine.dispose()
        raise WarehouseError(f"{s.warehouse} is not a warehouse yet: run `vrp init` or `vrp build-demo`")
    return engine


def _reader(s: settings_mod.Settings) -> Warehouse:
    wh = Warehouse(s)
    _close_later(wh.dispose)
    check_reachable(wh.engine)
    if not is_warehouse(wh.engine):
        raise WarehouseError(f"{s.warehouse} is not a warehouse yet: run `vrp init` or `vrp build-demo`")
    return wh


def _emit(frame: pd.DataFrame, fmt: str) -> None:
    if fmt == "csv":
        click.echo(frame.to_csv(index=False), nl=False)
    elif frame.empty:
        click.echo("(nothing)")
    else:
        click.echo(frame.to_string(index=False))


def _month(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        y, m = value.split("-")
        return date(int(y), int(m), 1)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a month like 2026-09") from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Build, load and inspect the HIPS serious-violence warehouse."""


@cli.command()
@warehouse_option
def init(warehouse_url):
    """Create the warehouse tables and load the reference data (idempotent)."""
    from vrp.pipeline.warehouse import init_warehouse

    s = _settings(warehouse_url)
    engine = _write_engine(s, must_exist=False)
    counts = init_warehouse(engine, s)
    click.echo("reference loaded: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))


@cli.command("build-demo")
@warehouse_option
@click.option("--seed", type=int, default=2024, show_default=True, help="Seed for the synthetic partner data.")
@click.option(
    "--scale",
    type=click.FloatRange(min=0.01, max=100),
    default=1.0,
    show_default=True,
    help="Volume multiplier (10 for benchmarks).",
)
@click.option("--end", "end", metavar="YYYY-MM", default="2026-09", show_default=True, help="Last month.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def build_demo_cmd(warehouse_url, seed, scale, end, quiet):
    """Build the demonstration warehouse: real reference data and police.uk months, synthetic partner data."""
    import time

    from vrp.pipeline.demo import DemoOptions, build_demo
    from vrp.pipeline.synthetic import DEFAULT_START

    s = _settings(warehouse_url)
    end_month = _month(end)
    if end_month < DEFAULT_START:
        raise click.BadParameter(f"--end must be {DEFAULT_START:%Y-%m} or later")
    if not s.warehouse.startswith("duckdb"):
        check_reachable(make_engine(s.warehouse))
    started = time.perf_counter()
    results = build_demo(s, s.warehouse, DemoOptions(seed=seed, scale=scale, end=end_month), progress=not quiet)
    for r in results:
        click.echo(r.summary())
    click.echo(
        f"demo warehouse built at {s.warehouse} in {time.perf_counter() - started:.1f} s (partner data SYNTHETIC)"
    )


@cli.group()
def ingest():
    """Load source files, then rebuild the marts."""


def _ingest(source: str, files: tuple[str, ...], warehouse_url: str | None, synthetic: bool, rebuild: bool):
    from vrp.pipeline.load import load_files
    from vrp.pipeline.warehouse import sources_config

    s = _settings(warehouse_url)
    registry = load_registry(s.measures_file)
    engine = _write_engine(s)
    failed = False
    for f in files:  # each file its own transaction: one refused file does not stop the rest
        try:
            for r in load_files(
                engine,
                source,
                [Path(f)],
                reference_dir=s.reference_dir,
                registry=registry,
                sources_config=sources_config(s),
                synthetic=synthetic,
                rebuild=rebuild,
                public_min_count=s.public_min_count,
            ):
                click.echo(r.summary())
        except FileRefused as exc:
            click.echo(f"vrp: refused: {exc}", err=True)
            failed = True
    if failed:
        sys.exit(1)


for _name, _source, _help in [
    ("police-uk", "police_uk", "data.police.uk street-level CSV files (the published 12 columns)."),
    ("police-records", "police_records", "Police recorded crime extract (docs/DATA_CONTRACTS.md)."),
    ("admissions", "admissions", "Hospital admissions for assault by sharp object (ICD-10 X99)."),
    ("homicides", "homicides", "Homicide victims extract."),
    ("ons-knife", "ons_knife", "ONS knife or sharp instrument offences by force and quarter."),
]:

    def _make(source=_source, name=_name, help_=_help):
        @ingest.command(name, help=help_)
        @warehouse_option
        @click.option("--synthetic", is_flag=True, help="Mark the file as synthetic demonstration data.")
        @click.option("--no-rebuild", is_flag=True, help="Leave the marts for a later `vrp rebuild-marts`.")
        @click.argument("files", nargs=-1 if source == "police_uk" else 1, required=True)
        def _cmd(warehouse_url, synthetic, no_rebuild, files):
            _ingest(
                source,
                files if isinstance(files, tuple) else (files,),
                warehouse_url,
                synthetic,
                not no_rebuild,
            )

        return _cmd

    _make()


@cli.command("rebuild-marts")
@warehouse_option
def rebuild_marts_cmd(warehouse_url):
    """Rebuild the marts and the published cube from the facts and config/measures.toml (after editing a
    definition or VRP_PUBLIC_MIN_COUNT)."""
    from vrp.pipeline.marts import rebuild_marts
    from vrp.pipeline.warehouse import sources_config

    s = _settings(warehouse_url)
    registry = load_registry(s.measures_file)
    engine = _write_engine(s)
    with engine.begin() as conn:
        written = rebuild_marts(conn, registry, sources_config(s), s.public_min_count)
        cube = {k: get_meta(conn, f"cube_{k}") for k in ("cells", "hidden", "pinned", "seconds")}
    click.echo(f"marts rebuilt: {len(written)} measures, {sum(written.values()):,} rows")
    click.echo(
        f"published cube: {int(cube['cells']):,} cells, {int(cube['hidden']):,} hidden, {cube['pinned']} pinned"
        f" ({cube['seconds']} s; docs/METHODS.md#the-published-cube)"
    )


@cli.command()
@warehouse_option
@click.option("--by", type=click.Choice(["fy", "month"]), default="fy", show_default=True)
@click.option("--district", metavar="LADCODE", default=None, help="One district (default: all of HIPS).")
@click.option("--measure", "measures", multiple=True, metavar="ID", help="Only these measures.")
@format_option
def summary(warehouse_url, by, district, measures, fmt):
    """Counts per measure and period (financial year like 2023-24, or month like 2023-04)."""
    wh = _reader(_settings(warehouse_url))
    ids = measures or wh.registry.ids
    frames = []
    for mid in ids:
        frame = wh.counts_by_period(mid, by=by, districts=[district] if district else ())
        frame["count"] = frame["count"].astype(object).where(~frame["suppressed"].astype(bool), SUPPRESSED)
        frames.append(frame.assign(measure=mid, district=district.upper() if district else "HIPS"))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    _emit(out.reindex(columns=["measure", "period", "district", "count"]), fmt)


@cli.command()
@warehouse_option
@format_option
def loads(warehouse_url, fmt):
    """The load audit: one row per file loaded."""
    frame = _reader(_settings(warehouse_url)).load_audit()
    frame = frame.rename(columns={"file_name": "file"})
    _emit(
        frame[["file", "sha256", "rows_read", "rows_loaded", "rows_out_of_area", "rows_rejected", "loaded_at"]],
        fmt,
    )


@cli.command()
@warehouse_option
@format_option
def sources(warehouse_url, fmt):
    """The source registry: owner, coverage, last load, synthetic or real, sharing status."""
    frame = _reader(_settings(warehouse_url)).sources()
    frame = frame.rename(columns={"source_id": "source", "synthetic": "data"})
    cols = [
        "source",
        "owner",
        "coverage_start",
        "coverage_end",
        "rows",
        "files_loaded",
        "last_load_at",
        "data",
        "sharing_status",
        "licence",
    ]
    if fmt == "table":
        for _, row in frame.iterrows():
            click.echo(f"{row['source']} ({row['name']})")
            for c in cols[1:]:
                click.echo(f"  {c:15} {row[c] if pd.notna(row[c]) else '-'}")
        return
    _emit(frame[cols], fmt)


@cli.command()
@warehouse_option
@click.option("--load", "load_id", type=int, default=None, help="Only this load.")
@format_option
def quarantine(warehouse_url, load_id, fmt):
    """Quarantined rows with file, line and reason (partner audience: VRP_AUDIENCE=partner)."""
    frame = _reader(_settings(warehouse_url)).quarantine(load_id)
    frame["raw"] = frame["raw"].str.slice(0, 200)
    _emit(frame, fmt)


def main(argv: list[str] | None = None) -> None:
    """Entry point: expected failures are one line on stderr and a non-zero exit, never a traceback."""
    try:
        cli.main(args=argv, prog_name="vrp", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("vrp: aborted", err=True)
        sys.exit(1)
    except click.UsageError as exc:
        click.echo(
            f"vrp: error: {exc.format_message()} (see `vrp {exc.ctx.info_name if exc.ctx else ''} --help`)".replace(
                " )", ")"
            ).replace("`vrp vrp", "`vrp"),
            err=True,
        )
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"vrp: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except EXPECTED as exc:
        click.echo(f"vrp: error: {exc}", err=True)
        sys.exit(1)
    except sa.exc.SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        if "lock" in first.lower():
            first += " (is the app or another vrp command using the warehouse file?)"
        click.echo(f"vrp: error: warehouse: {first}", err=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
