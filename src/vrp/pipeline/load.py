"""Loading one file: refuse it whole, or load it in one transaction with its bad rows quarantined.

The file is read and checked in chunks of rows (memory follows the chunk size, not the file); a file whose rows are
mostly rejected is refused whole at the end, and its transaction rolls back. Accepted rows wait in
vrp.pipeline.staging until the file is accepted (on DuckDB, in Parquet files). Repeated keys are found in the
warehouse and the staged rows (vrp.pipeline.keys), not in a copy of its keys held in memory.

Idempotent twice over: a file already loaded (same source and SHA-256) changes nothing, and rows whose natural
key is already in the warehouse are never inserted again.
"""

from __future__ import annotations

import dataclasses
import pickle
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from vrp.data_access import tables as t
from vrp.data_access.engine import WarehouseError, bulk_insert, bump_data_version
from vrp.geo.boundaries import load_lsoa_index
from vrp.pipeline.csvfile import FileRefused
from vrp.pipeline.keys import KeyLookup, key_text
from vrp.pipeline.lock import lock_warehouse
from vrp.pipeline.mapping import Mapping, open_stream
from vrp.pipeline.reference import reference_loaded
from vrp.pipeline.sources import SPECS
from vrp.pipeline.sources.base import Context, Prepared, split_assignment
from vrp.pipeline.staging import Staging


@dataclass
class LoadResult:
    source: str
    file_name: str
    sha256: str
    status: str  # loaded | already loaded
    load_id: int | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_out_of_area: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    rows_lsoa11_split: int = 0
    mapping: str | None = None
    reasons: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        if self.status != "loaded":
            return f"{self.file_name}: {self.status}; nothing changed"
        text = (
            f"{self.file_name}: {self.rows_read:,} rows read, {self.rows_loaded:,} loaded, "
            f"{self.rows_out_of_area:,} out of area, {self.rows_rejected:,} quarantined, "
            f"{self.rows_duplicate:,} duplicates ignored"
        )
        if self.rows_lsoa11_split:
            text += f", {self.rows_lsoa11_split:,} placed in a district from a split 2011 LSOA"
        if self.reasons:
            top = "; ".join(f"{n:,} x {r}" for r, n in self.reasons.most_common(3))
            text += f" (most common: {top})"
        if self.mapping:
            text += f"; mapping {self.mapping}"
        return text


def context_for(conn: Connection, reference_dir: Path) -> Context:
    areas = conn.execute(sa.select(t.dim_area.c.lsoa21_code, t.dim_area.c.district_code)).all()
    districts = conn.execute(sa.select(t.dim_district.c.district_code)).scalars().all()
    offences = conn.execute(sa.select(t.dim_offence.c.ho_offence_code)).scalars().all()
    a = t.dim_area.c
    split = conn.execute(
        sa.select(a.lsoa11_code, a.district_code, a.census_population).where(a.change != "unchanged")
    ).all()
    return Context(
        lsoa_index=load_lsoa_index(reference_dir),
        lsoa_district=dict(areas),
        districts=frozenset(districts),
        offence_codes=frozenset(offences),
        lsoa11_split=split_assignment(
            pd.DataFrame(split, columns=["lsoa11_code", "district_code", "census_population"])
        ),
    )


def upgrade_load_audit(conn: Connection) -> None:
    """Add the load audit's later columns to a warehouse made before them (checked first: an ALTER would lock the
    table against readers for the whole load)."""
    have = set(
        conn.execute(
            sa.text(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'load_audit' AND table_schema = current_schema()"
            )
        ).scalars()
    )
    for column in ("mapping", "rows_lsoa11_split"):
        if have and column not in have:
            kind = t.load_audit.c[column].type.compile(conn.dialect)
            conn.execute(sa.text(f"ALTER TABLE load_audit ADD COLUMN {column} {kind}"))


def _generic_reason(reason: str) -> str:
    """Reasons without the offending value, for counting the most common kinds."""
    return "; ".join(part.split(" '")[0].split(" (")[0] for part in reason.split("; "))


DEFAULT_CHUNK_ROWS = 20_000
DEFAULT_MAX_REJECTED_SHARE = 0.5
FIRST_REASONS = 3


@dataclass
class _Tally:
    """Running totals over a file's chunks."""

    rows_read: int = 0
    rows_accepted: int = 0
    rows_out_of_area: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    rows_lsoa11_split: int = 0
    period_end: date | None = None
    reasons: Counter = field(default_factory=Counter)
    first: list[tuple[int, str]] = field(default_factory=list)  # (line, reason) of the first rejected rows


def load_file(
    conn: Connection,
    source: str,
    path: Path | str,
    *,
    reference_dir: Path,
    synthetic: bool = False,
    period_end: date | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    max_rejected_share: float = DEFAULT_MAX_REJECTED_SHARE,
    mapping: Mapping | None = None,
) -> LoadResult:
    """Load ``path`` as ``source`` inside the caller's transaction, ``chunk_rows`` rows at a time; a CSV file or a
    spreadsheet, under the contract's column names or through a partner's ``mapping`` (vrp.pipeline.mapping).

    Raises FileRefused for an unusable file, or for one whose rejected rows are more than ``max_rejected_share``
    of the rows read; the caller's transaction then rolls back, leaving the warehouse as it was."""
    spec = SPECS[source]
    path = Path(path)
    if not reference_loaded(conn):
        raise WarehouseError("the warehouse has no reference data: run `vrp init` (or `vrp build-demo`) first")
    stream = open_stream(path, spec, mapping)
    if mapping is not None:
        spec = dataclasses.replace(spec, prepare=_mapped(spec, mapping))
    seen = conn.execute(
        sa.select(t.load_audit.c.load_id).where(t.load_audit.c.source == source, t.load_audit.c.sha256 == stream.sha256)
    ).scalar()
    if seen is not None:
        return LoadResult(source, path.name, stream.sha256, status=f"already loaded (load {seen})", load_id=seen)
    ctx = context_for(conn, reference_dir)
    load_id = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.load_audit.c.load_id), 0))).scalar()) + 1
    tally = _Tally()
    staging = Staging(conn, t.FACT_TABLES[source])
    keys = KeyLookup(conn, t.FACT_TABLES[source], spec.key, load_id, staging)
    # Quarantined rows wait on disk until the file is accepted: a refused file never writes them.
    with tempfile.TemporaryFile() as spool:
        try:
            for chunk in stream.chunks(chunk_rows):
                if tally.rows_rejected > max_rejected_share * stream.max_rows:  # refused whatever the rest holds
                    _refuse_if_mostly_rejected(path.name, tally, max_rejected_share, stream.max_rows)
                _load_chunk(conn, spec, chunk, ctx, keys, path.name, tally, spool, staging)
            keys.close()
            _refuse_if_mostly_rejected(path.name, tally, max_rejected_share)
            staging.finish()
        finally:
            staging.close()
        spool.seek(0)
        while True:
            try:
                bulk_insert(conn, t.quarantine, pickle.load(spool))
            except EOFError:
                break
    if period_end is None and tally.period_end is not None:
        period_end = tally.period_end
        if source == "ons_knife":  # a quarter covers three months
            period_end = date(period_end.year + (period_end.month + 1) // 12, (period_end.month + 1) % 12 + 1, 1)
    result = LoadResult(
        source=source,
        file_name=path.name,
        sha256=stream.sha256,
        status="loaded",
        load_id=load_id,
        rows_read=tally.rows_read,
        rows_loaded=tally.rows_accepted - tally.rows_out_of_area,
        rows_out_of_area=tally.rows_out_of_area,
        rows_rejected=tally.rows_rejected,
        rows_duplicate=tally.rows_duplicate,
        rows_lsoa11_split=tally.rows_lsoa11_split,
        mapping=mapping.label if mapping else None,
        reasons=tally.reasons,
    )
    conn.execute(
        t.load_audit.insert().values(
            load_id=load_id,
            source=source,
            file_name=path.name,
            sha256=stream.sha256,
            rows_read=result.rows_read,
            rows_loaded=result.rows_loaded,
            rows_out_of_area=result.rows_out_of_area,
            rows_rejected=result.rows_rejected,
            rows_duplicate=result.rows_duplicate,
            rows_lsoa11_split=result.rows_lsoa11_split,
            mapping=result.mapping,
            synthetic=synthetic,
            period_end=period_end,
            loaded_at=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
        )
    )
    bump_data_version(conn)
    return result


def _mapped(spec, mapping: Mapping):
    """The source's check, on rows first converted by the mapping; reasons name the mapping's date patterns."""

    def prepare(rows: pd.DataFrame, ctx: Context) -> Prepared:
        prepared = spec.prepare(mapping.convert(rows), ctx)
        prepared.reasons = mapping.explain(prepared.reasons)
        return prepared

    return prepare


def _insertable(conn: Connection, frame: pd.DataFrame) -> pd.DataFrame:
    """DuckDB keeps the arrays it reads Python objects from (and so every ``date`` in them) alive until the
    transaction ends: a million rows held hundreds of MB. So it gets date columns as datetime64, in a frame built
    afresh (not a view on the checked frame's blocks); PostgreSQL's COPY takes the frame as it is."""
    if conn.dialect.name != "duckdb" or frame.empty:
        return frame
    columns = {}
    for c in frame.columns:
        values = frame[c]
        first = values.dropna().iloc[0] if values.dtype == object and values.notna().any() else None
        if isinstance(first, date) and not isinstance(first, datetime):
            values = pd.to_datetime(values)
        columns[c] = values.to_numpy(copy=True) if values.dtype == object else values.copy()
    return pd.DataFrame(columns, index=frame.index)


def _refuse_if_mostly_rejected(file_name: str, tally: _Tally, max_share: float, max_rows: int = 0) -> None:
    """Refuse the file if too many rows were rejected: at the end, or early (``max_rows``, the most rows the file
    can hold) once the rest of the file could not bring the share back under the limit."""
    first = "; ".join(f"line {line}: {reason[:120]}" for line, reason in tally.first)
    if max_rows:
        raise FileRefused(
            f"{file_name}: {tally.rows_rejected:,} of its first {tally.rows_read:,} rows rejected, more than the "
            f"{max_share:.0%} allowed of the whole file (at most {max_rows:,} rows), so nothing was loaded; "
            f"first: {first}"
        )
    if not tally.rows_read or tally.rows_rejected / tally.rows_read <= max_share:
        return
    raise FileRefused(
        f"{file_name}: {tally.rows_rejected:,} of {tally.rows_read:,} rows rejected "
        f"({tally.rows_rejected / tally.rows_read:.0%}, more than the {max_share:.0%} allowed), so nothing was "
        f"loaded; first: {first}"
    )


def _load_chunk(conn, spec, chunk, ctx: Context, keys: KeyLookup, file_name: str, tally: _Tally, spool, staging):
    """Check one chunk of rows, insert its good rows, spool its bad ones for quarantine, and add to the totals."""
    rows = chunk.rows
    prepared = spec.prepare(rows, ctx)
    reasons = prepared.reasons.copy()
    frame = prepared.frame

    # Natural keys: a repeat within this chunk, of an earlier chunk (already inserted, with this load's id), or of
    # a key already in the warehouse.
    good = reasons == ""
    key = key_text(frame[spec.key], "\x1f")
    stored = keys.stored(frame.loc[good, spec.key]).reindex(frame.index)
    earlier = good & (stored == keys.load_id).fillna(False)
    dup_in_file = good & (key.where(good).duplicated(keep="first") | earlier) & key.where(good).notna()
    dup_in_warehouse = good & ~dup_in_file & stored.notna()
    if spec.duplicates == "ignore":
        tally.rows_duplicate += int((dup_in_file | dup_in_warehouse).sum())
    else:
        first_line = rows["_line"].where(good).groupby(key.where(good)).transform("min").astype("Int64")
        first_line = first_line.mask(earlier, keys.first_lines(key[earlier]).reindex(key.index))
        text = "duplicate key " + key_text(frame[spec.key], "/")
        reasons = reasons.mask(dup_in_file, text + " (first at line " + first_line.astype(str) + ")")
        reasons = reasons.mask(dup_in_warehouse, text + " (already in the warehouse)")
    accepted = (reasons == "") & ~dup_in_file & ~dup_in_warehouse
    keys.remember(key[accepted], rows.loc[accepted, "_line"])

    staging.add(_insertable(conn, frame[accepted].assign(load_id=keys.load_id)))

    bad = reasons != ""
    quarantined = pd.DataFrame(
        {
            "load_id": keys.load_id,
            "file_name": file_name,
            "line": rows.loc[bad, "_line"].astype(int),
            "reason": reasons[bad],
            "raw": rows.loc[bad, "_raw"],
        }
    )
    malformed = pd.DataFrame(chunk.malformed, columns=["line", "reason", "raw"]).assign(
        load_id=keys.load_id, file_name=file_name
    )
    pickle.dump(pd.concat([quarantined, malformed], ignore_index=True), spool, protocol=pickle.HIGHEST_PROTOCOL)

    tally.rows_read += chunk.rows_read
    tally.rows_accepted += int(accepted.sum())
    tally.rows_out_of_area += int((prepared.out_of_area & accepted).sum())
    tally.rows_lsoa11_split += int((prepared.lsoa11_split & accepted).sum())
    tally.rows_rejected += len(quarantined) + len(malformed)
    tally.reasons += Counter(_generic_reason(r) for r in quarantined["reason"])
    tally.reasons += Counter(r.split(",")[0] for _, r, _ in chunk.malformed)
    if len(tally.first) < FIRST_REASONS:
        rejected = [*zip(quarantined["line"], quarantined["reason"], strict=True)]
        rejected += [(n, r) for n, r, _ in chunk.malformed]
        tally.first = sorted([*tally.first, *rejected])[:FIRST_REASONS]
    if accepted.any():
        latest = max(frame.loc[accepted, spec.month_col])
        tally.period_end = latest if tally.period_end is None else max(tally.period_end, latest)


def load_files(
    engine: Engine,
    source: str,
    paths: list[Path],
    *,
    reference_dir: Path,
    registry=None,
    sources_config: Path | None = None,
    synthetic: bool = False,
    rebuild: bool = True,
    period_end: date | None = None,
    public_min_count: int = 0,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    max_rejected_share: float = DEFAULT_MAX_REJECTED_SHARE,
    lock_wait: float = 0.0,
    mapping: Mapping | None = None,
) -> list[LoadResult]:
    """Each file in its own transaction, holding the warehouse's write lock (vrp.pipeline.lock); the marts are
    rebuilt in the transaction of the last file that loaded."""
    results = []
    for i, path in enumerate(paths):
        with engine.begin() as conn:
            lock_warehouse(conn, lock_wait)
            upgrade_load_audit(conn)
            result = load_file(
                conn,
                source,
                path,
                reference_dir=reference_dir,
                synthetic=synthetic,
                period_end=period_end,
                chunk_rows=chunk_rows,
                max_rejected_share=max_rejected_share,
                mapping=mapping,
            )
            results.append(result)
            last = i == len(paths) - 1
            if rebuild and last and any(r.status == "loaded" for r in results):
                # Imported only now: the cube's solvers (scipy, about 60 MB) would sit in memory through the load.
                from vrp.pipeline.marts import rebuild_marts

                rebuild_marts(conn, registry, sources_config, public_min_count)
    return results
