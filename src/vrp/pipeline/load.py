"""Loading one file: refuse it whole, or load it in one transaction with its bad rows quarantined.

Idempotent twice over: a file already loaded (same source and SHA-256) changes nothing, and rows whose natural
key is already in the warehouse are never inserted again.
"""

from __future__ import annotations

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
from vrp.pipeline.csvfile import read_csv_file, sha256_of
from vrp.pipeline.reference import reference_loaded
from vrp.pipeline.sources import SPECS
from vrp.pipeline.sources.base import Context


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
    reasons: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        if self.status != "loaded":
            return f"{self.file_name}: {self.status}; nothing changed"
        text = (
            f"{self.file_name}: {self.rows_read:,} rows read, {self.rows_loaded:,} loaded, "
            f"{self.rows_out_of_area:,} out of area, {self.rows_rejected:,} quarantined, "
            f"{self.rows_duplicate:,} duplicates ignored"
        )
        if self.reasons:
            top = "; ".join(f"{n:,} x {r}" for r, n in self.reasons.most_common(3))
            text += f" (most common: {top})"
        return text


def context_for(conn: Connection, reference_dir: Path) -> Context:
    areas = conn.execute(sa.select(t.dim_area.c.lsoa21_code, t.dim_area.c.district_code)).all()
    districts = conn.execute(sa.select(t.dim_district.c.district_code)).scalars().all()
    offences = conn.execute(sa.select(t.dim_offence.c.ho_offence_code)).scalars().all()
    return Context(
        lsoa_index=load_lsoa_index(reference_dir),
        lsoa_district=dict(areas),
        districts=frozenset(districts),
        offence_codes=frozenset(offences),
    )


def _generic_reason(reason: str) -> str:
    """Reasons without the offending value, for counting the most common kinds."""
    return "; ".join(part.split(" '")[0].split(" (")[0] for part in reason.split("; "))


def load_file(
    conn: Connection,
    source: str,
    path: Path | str,
    *,
    reference_dir: Path,
    synthetic: bool = False,
    period_end: date | None = None,
) -> LoadResult:
    """Load ``path`` as ``source`` inside the caller's transaction. Raises FileRefused for an unusable file."""
    spec = SPECS[source]
    path = Path(path)
    if not reference_loaded(conn):
        raise WarehouseError("the warehouse has no reference data: run `vrp init` (or `vrp build-demo`) first")
    digest = sha256_of(path) if path.is_file() else ""
    if digest:
        seen = conn.execute(
            sa.select(t.load_audit.c.load_id).where(t.load_audit.c.source == source, t.load_audit.c.sha256 == digest)
        ).scalar()
        if seen is not None:
            return LoadResult(source, path.name, digest, status=f"already loaded (load {seen})", load_id=seen)
    csv = read_csv_file(path, spec.required, spec.optional)
    ctx = context_for(conn, reference_dir)
    rows = csv.rows
    prepared = spec.prepare(rows, ctx)
    reasons = prepared.reasons.copy()
    frame = prepared.frame

    # Natural keys: a repeat within the file, or a key already in the warehouse.
    good = reasons == ""
    key = _join(frame[spec.key], "\x1f")
    first_line = rows["_line"].where(good).groupby(key.where(good)).transform("min")
    dup_in_file = good & key.duplicated(keep="first") & key.where(good).notna()
    existing = _existing_keys(conn, source, spec.key)
    dup_in_warehouse = good & ~dup_in_file & key.isin(existing)
    duplicate_rows = 0
    key_text = "duplicate key " + _join(frame[spec.key], "/")
    if spec.duplicates == "ignore":
        duplicate_rows = int((dup_in_file | dup_in_warehouse).sum())
    else:
        reasons = reasons.mask(
            dup_in_file, key_text + " (first at line " + first_line.astype("Int64").astype(str) + ")"
        )
        reasons = reasons.mask(dup_in_warehouse, key_text + " (already in the warehouse)")
    accepted = (reasons == "") & ~dup_in_file & ~dup_in_warehouse

    load_id = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.load_audit.c.load_id), 0))).scalar()) + 1
    facts = frame[accepted].assign(load_id=load_id)
    bulk_insert(conn, t.FACT_TABLES[source], facts)

    rejected = rows[reasons != ""]
    quarantined = pd.DataFrame(
        {
            "load_id": load_id,
            "file_name": path.name,
            "line": rejected["_line"].astype(int),
            "reason": reasons[reasons != ""],
            "raw": rejected["_raw"],
        }
    )
    malformed = pd.DataFrame(csv.malformed, columns=["line", "reason", "raw"]).assign(
        load_id=load_id, file_name=path.name
    )
    bulk_insert(conn, t.quarantine, pd.concat([quarantined, malformed], ignore_index=True))

    out_of_area = int((prepared.out_of_area & accepted).sum())
    if period_end is None and accepted.any():
        period_end = max(frame.loc[accepted, spec.month_col])
        if source == "ons_knife":  # a quarter covers three months
            period_end = date(period_end.year + (period_end.month + 1) // 12, (period_end.month + 1) % 12 + 1, 1)
    result = LoadResult(
        source=source,
        file_name=path.name,
        sha256=csv.sha256,
        status="loaded",
        load_id=load_id,
        rows_read=csv.rows_read,
        rows_loaded=int(accepted.sum()) - out_of_area,
        rows_out_of_area=out_of_area,
        rows_rejected=len(quarantined) + len(malformed),
        rows_duplicate=duplicate_rows,
        reasons=Counter(_generic_reason(r) for r in quarantined["reason"])
        + Counter(r.split(",")[0] for _, r, _ in csv.malformed),
    )
    conn.execute(
        t.load_audit.insert().values(
            load_id=load_id,
            source=source,
            file_name=path.name,
            sha256=csv.sha256,
            rows_read=result.rows_read,
            rows_loaded=result.rows_loaded,
            rows_out_of_area=out_of_area,
            rows_rejected=result.rows_rejected,
            rows_duplicate=duplicate_rows,
            synthetic=synthetic,
            period_end=period_end,
            loaded_at=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
        )
    )
    bump_data_version(conn)
    return result


def _join(columns: pd.DataFrame, sep: str) -> pd.Series:
    """Columns joined as text, column-wise (row-wise apply is far too slow on a million rows)."""
    out = pd.Series("", index=columns.index, dtype=object)
    for i, c in enumerate(columns.columns):
        text = columns[c].map(str).astype(object)
        out = text if i == 0 else out + sep + text
    return out


def _existing_keys(conn: Connection, source: str, key_cols: list[str]) -> set[str]:
    table = t.FACT_TABLES[source]
    rows = conn.execute(sa.select(*(table.c[c] for c in key_cols))).all()
    return {"\x1f".join(str(v) for v in r) for r in rows}


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
) -> list[LoadResult]:
    """Each file in its own transaction; the marts are rebuilt in the transaction of the last file that loaded."""
    from vrp.pipeline.marts import rebuild_marts

    results = []
    for i, path in enumerate(paths):
        with engine.begin() as conn:
            result = load_file(
                conn, source, path, reference_dir=reference_dir, synthetic=synthetic, period_end=period_end
            )
            results.append(result)
            last = i == len(paths) - 1
            if rebuild and last and any(r.status == "loaded" for r in results):
                rebuild_marts(conn, registry, sources_config, public_min_count)
    return results
