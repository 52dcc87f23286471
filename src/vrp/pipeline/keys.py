"""Natural keys seen before: in the warehouse, or earlier in the file being loaded.

A file is loaded in chunks inside one transaction, so the rows accepted from its earlier chunks are already in the
fact table (with this load's id). Each chunk's keys are looked up in the fact table through a temporary table and
its primary key: memory follows the chunk, not the warehouse or the file. Only the line each key was first
accepted at is remembered, as two small numbers per row, for the "first at line N" reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vrp.data_access.engine import bulk_insert


def key_text(columns: pd.DataFrame, sep: str) -> pd.Series:
    """Columns joined as text, column-wise (row-wise apply is far too slow on a million rows)."""
    out = pd.Series("", index=columns.index, dtype=object)
    for i, c in enumerate(columns.columns):
        text = columns[c].map(str).astype(object)
        out = text if i == 0 else out + sep + text
    return out


class KeyLookup:
    """The keys of one fact table that a file's rows may repeat."""

    def __init__(self, conn: Connection, table: sa.Table, key_cols: list[str], load_id: int):
        self.conn, self.table, self.key_cols, self.load_id = conn, table, key_cols, load_id
        self.temp = sa.Table(
            "_vrp_load_keys",
            sa.MetaData(),
            *(sa.Column(f"k{i}", sa.Text) for i in range(len(key_cols))),
            prefixes=["TEMPORARY"],
        )
        conn.execute(sa.text("DROP TABLE IF EXISTS _vrp_load_keys"))
        self.temp.create(conn)
        self._hashes: list[np.ndarray] = []
        self._lines: list[np.ndarray] = []

    def close(self) -> None:
        self.conn.execute(sa.text("DROP TABLE IF EXISTS _vrp_load_keys"))

    def stored(self, keys: pd.DataFrame) -> pd.Series:
        """For each row of ``keys`` (the key columns), the load id already holding that key, else NA."""
        texts = pd.DataFrame({f"k{i}": keys[c].map(str) for i, c in enumerate(self.key_cols)}).drop_duplicates()
        self.conn.execute(self.temp.delete())
        if texts.empty:
            return pd.Series(pd.NA, index=keys.index, dtype="Int64")
        bulk_insert(self.conn, self.temp, texts)
        t, k = self.table.c, self.temp.c
        on = sa.and_(*(t[c] == sa.cast(k[f"k{i}"], t[c].type) for i, c in enumerate(self.key_cols)))
        query = sa.select(*self.temp.c, self.table.c.load_id).select_from(self.temp.join(self.table, on))
        found = {"\x1f".join(r[:-1]): r[-1] for r in self.conn.execute(query).all()}
        joined = key_text(keys[self.key_cols], "\x1f")
        return pd.Series([found.get(k) for k in joined], index=keys.index, dtype="Int64")

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
