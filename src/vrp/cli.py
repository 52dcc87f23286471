"""The ``vrp`` command: build, load and inspect the warehouse."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
import pandas as pd
import sqlalchemy as sa

from vrp.cli_briefing import briefing
from vrp.cli_common import (
    emit,
    format_option,
    parse_month,
    reader,
    settings_for,
    wait_option,
    warehouse_option,
    write_engine,
)
from vrp.cli_evaluate import evaluate
from vrp.data_access import published
from vrp.data_access.engine import WarehouseError, check_reachable, get_meta, make_engine
from vrp.data_access.measures import MeasureConfigError, load_registry
from vrp.data_access.published import CubeNotSafe, NotPublished
from vrp.data_access.validation import HIPS, InvalidQuery, NotPermitted
from vrp.periods import financial_year
from vrp.pipeline.csvfile import FileRefused
from vrp.pipeline.lock import lock_warehouse
from vrp.pipeline.reference import ReferenceDataError

if TYPE_CHECKING:
    from vrp.data_access.queries import Warehouse

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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Build, load and inspect the HIPS serious-violence warehouse."""


@cli.command()
@warehouse_option
@wait_option
def init(warehouse_url, wait):
    """Create the warehouse tables and load the reference data (idempotent)."""
    from vrp.pipeline.warehouse import init_warehouse

    s = settings_for(warehouse_url)
    engine = write_engine(s, must_exist=False, wait=wait)
    counts = init_warehouse(engine, s, lock_wait=wait)
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

    s = settings_for(warehouse_url)
    end_month = parse_month(end)
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


def _ingest(source: str, files: tuple[str, ...], warehouse_url: str | None, options: dict):
    from vrp.pipeline.load import load_files
    from vrp.pipeline.mapping import read_mapping

    # A mapping is checked whole before the warehouse is even opened: a broken one changes nothing.
    mapping = read_mapping(options["mapping"], source) if options.get("mapping") else None
    s = settings_for(warehouse_url)
    registry = load_registry(s.measures_file)
    engine = write_engine(s, wait=options["wait"])
    max_rejected = options["max_rejected"]
    failed = False
    for f in files:  # each file its own transaction: one refused file does not stop the rest
        try:
            for r in load_files(
                engine,
                source,
                [Path(f)],
                reference_dir=s.reference_dir,
                registry=registry,
                sources_config=s.sources_file,
                synthetic=options["synthetic"],
                rebuild=options["rebuild"],
                public_min_count=s.public_min_count,
                chunk_rows=s.load_chunk_rows,
                max_rejected_share=s.max_rejected_share if max_rejected is None else max_rejected,
                lock_wait=options["wait"],
                mapping=mapping,
            ):
                click.echo(r.summary())
        except FileRefused as exc:
            click.echo(f"vrp: refused: {exc}", err=True)
            failed = True
    if failed:
        sys.exit(1)


def _share(ctx, param, value: str | None) -> float | None:
    """A share of rows: 0.5 or 50%."""
    if value is None:
        return None
    text = value.strip()
    try:
        share = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        share = -1.0
    if not 0 <= share <= 1:
        raise click.BadParameter(f"{value!r} is not a share from 0 to 1 (or 0% to 100%)")
    return share


mapping_option = click.option(
    "--mapping",
    metavar="MAPPING.toml",
    default=None,
    help="The partner's mapping file: its column names, date patterns, values and grid onto the contract "
    "(docs/DATA_CONTRACTS.md#mapping-files). Files may be CSV or .xlsx.",
)

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
        @click.option(
            "--max-rejected",
            metavar="SHARE",
            callback=_share,
            help="Refuse a file whole when more than this share of its rows is rejected, e.g. 0.2 or 20% "
            "(default: $VRP_MAX_REJECTED_SHARE, else 50%).",
        )
        @wait_option
        @mapping_option
        @click.argument("files", nargs=-1 if source == "police_uk" else 1, required=True)
        def _cmd(warehouse_url, synthetic, no_rebuild, max_rejected, wait, mapping, files):
            options = {"synthetic": synthetic, "rebuild": not no_rebuild, "max_rejected": max_rejected, "wait": wait}
            options["mapping"] = mapping
            _ingest(source, files if isinstance(files, tuple) else (files,), warehouse_url, options)

        return _cmd

    _make()


@cli.group("mapping")
def mapping_group():
    """Partner mapping files (docs/DATA_CONTRACTS.md#mapping-files)."""


@mapping_group.command("check")
@warehouse_option
@click.option("--rows", type=click.IntRange(1, 1000), default=5, show_default=True, help="How many rows to show.")
@click.argument("mapping_file", metavar="MAPPING.toml")
@click.argument("file", metavar="FILE")
def mapping_check(warehouse_url, rows, mapping_file, file):
    """Check MAPPING.toml against FILE and show its first rows as they will load (nothing is loaded)."""
    from vrp.pipeline.mapping_preview import preview

    s = settings_for(warehouse_url)
    try:
        wh = reader(s)
    except WarehouseError as exc:  # still worth a preview of the conversion: the checks need the warehouse
        click.echo(f"vrp: note: rows shown converted but not checked ({exc})", err=True)
        wh = None
    for line in preview(Path(mapping_file), Path(file), rows, wh, s.reference_dir):
        click.echo(line)


@cli.command("rebuild-marts")
@warehouse_option
@wait_option
def rebuild_marts_cmd(warehouse_url, wait):
    """Rebuild the marts and the published cube from the facts and config/measures.toml (after editing a
    definition or VRP_PUBLIC_MIN_COUNT)."""
    from vrp.pipeline.marts import rebuild_marts

    s = settings_for(warehouse_url)
    registry = load_registry(s.measures_file)
    engine = write_engine(s, wait=wait)
    with engine.begin() as conn:
        lock_warehouse(conn, wait)
        written = rebuild_marts(conn, registry, s.sources_file, s.public_min_count)
        cube = {k: get_meta(conn, f"cube_{k}") for k in ("cells", "hidden", "pinned", "seconds")}
    click.echo(f"marts rebuilt: {len(written)} measures, {sum(written.values()):,} rows")
    click.echo(
        f"published cube: {int(cube['cells']):,} cells, {int(cube['hidden']):,} hidden, {cube['pinned']} pinned"
        f" ({cube['seconds']} s; docs/METHODS.md#the-published-cube)"
    )


PARTNER_HINT = "VRP_AUDIENCE=partner (partner staff only) gives true counts"


def _partner_only(wh: Warehouse, what: str, why: str) -> None:
    """Refuse a partner-only command in the public audience: one line saying why, and how partners ask."""
    if wh.audience != "partner":
        raise NotPermitted(f"{what} is shown to partners only: {why}. Partner staff: set VRP_AUDIENCE=partner.")


@cli.command()
@warehouse_option
@click.option("--by", type=click.Choice(["fy", "month"]), default="fy", show_default=True)
@click.option(
    "--district",
    "districts",
    multiple=True,
    metavar="LADCODE",
    help="One district (default: all of HIPS). Partners may repeat it for the districts' sum.",
)
@click.option("--start", metavar="YYYY-MM", default=None, help="Partners only: the first month counted.")
@click.option("--end", metavar="YYYY-MM", default=None, help="Partners only: the last month counted.")
@click.option("--measure", "measures", multiple=True, metavar="ID", help="Only these measures.")
@format_option
def summary(warehouse_url, by, districts, start, end, measures, fmt):
    """Counts per measure and period (financial year like 2023-24, or month like 2023-04).

    The public audience (the default) gets the published cube's cells: whole periods only, one area, "*" where a
    cell is hidden. VRP_AUDIENCE=partner gives true counts for any window and sum of districts."""
    for month in (start, end):
        parse_month(month)  # a malformed month is a usage error in either audience
    wh = reader(settings_for(warehouse_url))
    if wh.audience == "public":
        out = _public_summary(wh, by, districts, start, end, measures)
    else:
        out = _partner_summary(wh, by, districts, start, end, measures)
    emit(out.reindex(columns=["measure", "period", "district", "count"]), fmt)


def _partner_summary(wh: Warehouse, by, districts, start, end, measures) -> pd.DataFrame:
    """True counts from the marts, summed over the districts and the window asked for."""
    from vrp.data_access.audience import SUPPRESSED

    codes = sorted({d.strip().upper() for d in districts})
    frames = []
    for mid in measures or wh.registry.ids:
        frame = wh.counts_by_period(mid, by=by, districts=codes, start=start, end=end)
        frame["count"] = frame["count"].astype(object).where(~frame["suppressed"].astype(bool), SUPPRESSED)
        frames.append(frame.assign(measure=mid, district="+".join(codes) or HIPS))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _public_summary(wh: Warehouse, by, districts, start, end, measures) -> pd.DataFrame:
    """The published cube's cells for one area (docs/METHODS.md#the-published-cube): nothing else is public.
    A window of months or a sum of districts is refused, since either could be subtracted from published
    cells to reveal a small count; measures not published at this grain are named on stderr (or refused, when
    asked for by name)."""
    if start or end:
        raise NotPublished(
            "--start/--end are not published: a free window of months could be subtracted from published periods "
            f"to reveal a small count, so the public summary lists whole published periods only. {PARTNER_HINT}."
        )
    try:
        area = published.area_of(wh, districts)
    except NotPublished as exc:
        raise NotPublished(f"{exc} {PARTNER_HINT}.") from None
    # The read side loads the statistics (scipy, about 60 MB): imported here, not for every command (`vrp ingest`).
    from vrp.data_access.audience import SUPPRESSED
    from vrp.data_access.cube import CubeReader

    reader = CubeReader(wh)
    catalogue = reader.catalogue()
    frames, skipped = [], []
    for mid in measures or wh.registry.ids:
        measure = wh.registry.get(wh.check(mid).measure_id)
        entry = catalogue.get(measure.id, {"periods": []})
        force_only = measure.source == "ons_knife" and area != HIPS
        if by not in entry["periods"] or force_only:
            if measures:
                kinds = ", ".join(published.KIND_NAMES[k] for k in entry["periods"]) or "nothing yet"
                where = "for the police force area only" if force_only else f"for {kinds} only"
                raise NotPublished(f"{measure.label} is published {where}: not by {by} for {area}.")
            skipped.append(measure.id)
            continue
        rows = reader.rows(reader.check(measure.id, area, by, None, None, "all"))
        label = financial_year if by == "fy" else (lambda d: f"{d:%Y-%m}")
        count = rows["count"].astype(object).where(~rows["suppressed"], SUPPRESSED)
        frames.append(
            pd.DataFrame({"measure": measure.id, "period": rows["start"].map(label), "district": area, "count": count})
        )
    if skipped:
        click.echo(f"vrp: note: not published by {by} for {area}: {', '.join(skipped)}", err=True)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


@cli.command()
@warehouse_option
@format_option
def loads(warehouse_url, fmt):
    """The load audit: one row per file loaded (partner audience: VRP_AUDIENCE=partner)."""
    wh = reader(settings_for(warehouse_url))
    _partner_only(wh, "The load audit", "its row counts per file are totals of partner records")
    frame = wh.load_audit().rename(columns={"file_name": "file"})
    emit(
        frame[
            [
                "file",
                "sha256",
                "rows_read",
                "rows_loaded",
                "rows_out_of_area",
                "rows_rejected",
                "rows_lsoa11_split",
                "mapping",
                "loaded_at",
            ]
        ],
        fmt,
    )


@cli.command()
@warehouse_option
@format_option
def sources(warehouse_url, fmt):
    """The source registry: owner, coverage, last load, synthetic or real, sharing status (and row counts, for
    the partner audience)."""
    frame = reader(settings_for(warehouse_url)).sources()
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
    cols = [c for c in cols if c in frame.columns]  # the public registry has no row counts
    if fmt == "table":
        for _, row in frame.iterrows():
            click.echo(f"{row['source']} ({row['name']})")
            for c in cols[1:]:
                click.echo(f"  {c:15} {row[c] if pd.notna(row[c]) else '-'}")
        return
    emit(frame[cols], fmt)


@cli.command()
@warehouse_option
@click.option("--load", "load_id", type=int, default=None, help="Only this load.")
@format_option
def quarantine(warehouse_url, load_id, fmt):
    """Quarantined rows with file, line and reason (partner audience: VRP_AUDIENCE=partner)."""
    wh = reader(settings_for(warehouse_url))
    _partner_only(wh, "Quarantined rows", "they are raw partner records")
    frame = wh.quarantine(load_id)
    frame["raw"] = frame["raw"].str.slice(0, 200)
    emit(frame, fmt)


cli.add_command(briefing)
cli.add_command(evaluate)


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
