"""Where a file's accepted rows wait between its chunks and the end of its load.

PostgreSQL takes each chunk into the fact table at once (COPY; its transaction keeps new rows on disk). DuckDB
keeps every row a transaction inserts in memory until it commits, about 0.3 KB a row beyond its own accounting,
so a million-row file held some 300 MB more than one chunk's worth. On DuckDB each chunk's accepted rows are
written to a Parquet file of their own instead (outside the transaction), and all of them go into the fact table
with one INSERT once the file is accepted: DuckDB streams that insert from the files. A refused file never
touches the fact table, and its staged files go with the temporary folder.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vrp.data_access.engine import bulk_insert


class Staging:
    """The accepted rows of one load, for one fact table."""

    def __init__(self, conn: Connection, table: sa.Table):
        self.conn, self.table = conn, table
        self.on_disk = conn.dialect.name == "duckdb"
        self._folder = tempfile.TemporaryDirectory(prefix="vrp-stage-") if self.on_disk else None
        self.files: list[str] = []
        self.columns: list[str] = []

    def add(self, frame: pd.DataFrame) -> None:
        """Stage one chunk's accepted rows (on PostgreSQL: insert them)."""
        if frame.empty:
            return
        if not self.on_disk:
            bulk_insert(self.conn, self.table, frame)
            return
        cols = [c.name for c in self.table.columns if c.name in frame.columns]
        self.columns = self.columns or cols
        path = str(Path(self._folder.name) / f"chunk-{len(self.files):05d}.parquet")
        # Written by pyarrow, not by DuckDB: a frame DuckDB scans stays referenced by its transaction until
        # commit, which is the memory this staging is here to save.
        pq.write_table(pa.Table.from_pandas(frame[cols], preserve_index=False), path)
        self.files.append(path)

    def source(self, columns: list[str]) -> sa.Subquery | None:
        """The staged rows' ``columns`` as a subquery (None when nothing is staged), for finding repeated keys."""
        if not self.files:
            return None
        wanted = [sa.column(c) for c in columns]
        return sa.select(*wanted).select_from(sa.text(self._read())).subquery("staged")

    def _read(self) -> str:
        files = ", ".join("'" + f.replace("'", "''") + "'" for f in self.files)
        return f"read_parquet([{files}], union_by_name = true)"

    def finish(self) -> None:
        """Insert every staged row into the fact table, in one statement, inside the caller's transaction.

        On one thread: each of DuckDB's threads reads and buffers its own part of the files, so with two the peak
        memory of a million-row load varied from about 430 to 550 MB from run to run; with one it stays near
        430 MB, and the load took no longer (docs/PERFORMANCE.md)."""
        if self.files:
            col_list = ", ".join(f'"{c}"' for c in self.columns)
            insert = f'INSERT INTO "{self.table.name}" ({col_list}) SELECT {col_list} FROM {self._read()}'
            threads = self.conn.exec_driver_sql("SELECT current_setting('threads')").scalar()
            self.conn.exec_driver_sql("SET threads = 1")
            try:
                self.conn.exec_driver_sql(insert)
            finally:
                self.conn.exec_driver_sql(f"SET threads = {int(threads)}")
        self.close()

    def close(self) -> None:
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None
        self.files = []
