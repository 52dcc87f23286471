"""Natural keys seen before: in the warehouse, or earlier in the file being loaded.

A file is loaded in chunks inside one transaction, so the rows accepted from its earlier chunks are already in the
fact table (with this load's id), or staged beside it (vrp.pipeline.staging). Each chunk's keys are looked up in
both through a temporary table: memory follows the chunk, not the warehouse or the file. Only the line each key
was first accepted at is remembered, as two small numbers per row, for the "first at line N" reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vrp.data_access.engine import bulk_insert, duckdb_ready


def key_text(columns: pd.DataFrame, sep: str) -> pd.Series:
    """Columns joined as text, column-wise (row-wise apply is far too slow on a million rows)."""
    out = pd.Series("", index=columns.index, dtype=object)
    for i, c in enumerate(columns.columns):
        text = columns[c].map(str).astype(object)
        out = text if i == 0 else out + sep + text
    return out


class KeyLookup:
    """The keys of one fact table that a file's rows may repeat."""

    def __init__(self, conn: Connection, table: sa.Table, key_cols: list[str], load_id: int, staging=None):
        self.conn, self.table, self.key_cols, self.load_id = conn, table, key_cols, load_id
        self.staging = staging  # vrp.pipeline.staging.Staging: this load's rows not yet in the table
        self.temp = sa.Table(
            "_vrp_load_keys",
            sa.MetaData(),
            *(sa.Column(f"k{i}", sa.Text) for i in range(len(key_cols))),
            prefixes=["TEMPORARY"],
        )
        # DuckDB reads each chunk's keys straight from the frame: a temporary table filled and emptied once a
        # chunk kept every deleted row in the transaction's memory until commit (about 0.3 KB a row).
        self.registered = conn.dialect.name == "duckdb"
        if not self.registered:
            conn.execute(sa.text("DROP TABLE IF EXISTS _vrp_load_keys"))
            self.temp.create(conn)
        self._hashes: list[np.ndarray] = []
        self._lines: list[np.ndarray] = []

    def close(self) -> None:
        if not self.registered:
            self.conn.execute(sa.text("DROP TABLE IF EXISTS _vrp_load_keys"))

    def stored(self, keys: pd.DataFrame) -> pd.Series:
        """For each row of ``keys`` (the key columns), the load id already holding that key, else NA."""
        texts = pd.DataFrame({f"k{i}": keys[c].map(str) for i, c in enumerate(self.key_cols)}).drop_duplicates()
        if texts.empty:
            return pd.Series(pd.NA, index=keys.index, dtype="Int64")
        if self.registered:
            raw = duckdb_ready(self.conn)
            raw.register(self.temp.name, texts)
        else:
            self.conn.execute(self.temp.delete())
            bulk_insert(self.conn, self.temp, texts)
        try:
            found = self._found(self.table)
            staged = self.staging.source([*self.key_cols, "load_id"]) if self.staging is not None else None
            if staged is not None:
                found.update(self._found(staged))
        finally:
            if self.registered:
                raw.unregister(self.temp.name)
        joined = key_text(keys[self.key_cols], "\x1f")
        return pd.Series([found.get(k) for k in joined], index=keys.index, dtype="Int64")

    def _found(self, rows) -> dict[str, int]:
        """Keys of the temporary table found in ``rows`` (the fact table, or the staged rows), with their load id."""
        t, k, types = rows.c, self.temp.c, self.table.c
        on = sa.and_(*(t[c] == sa.cast(k[f"k{i}"], types[c].type) for i, c in enumerate(self.key_cols)))
        query = sa.select(*self.temp.c, t.load_id).select_from(self.temp.join(rows, on))
        return {"\x1f".join(r[:-1]): r[-1] for r in self.conn.execute(query).all()}

    def remember(self, keys: pd.Series, lines: pd.Series) -> None:
        """Keys accepted from this chunk (joined text) and their lines."""
        self._hashes.append(np.fromiter((hash(k) for k in keys), dtype=np.int64, count=len(keys)))
        self._lines.append(lines.to_numpy(dtype=np.int64))

    def first_lines(self, keys: pd.Series) -> pd.Series:
        """The line each key was accepted at in an earlier chunk (NA where none)."""
        out = pd.Series(pd.NA, index=keys.index, dtype="Int64")
        if not self._hashes or keys.empty:
            return out
        hashes = np.concatenate(self._hashes)
        lines = np.concatenate(self._lines)
        wanted = np.fromiter((hash(k) for k in keys), dtype=np.int64, count=len(keys))
        order = np.argsort(hashes, kind="stable")
        pos = np.searchsorted(hashes[order], wanted).clip(max=len(hashes) - 1)
        hit = hashes[order][pos] == wanted
        out[hit] = lines[order][pos][hit]
        return out
