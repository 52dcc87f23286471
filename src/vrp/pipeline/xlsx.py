"""Reading a delivered spreadsheet (.xlsx, and the other workbooks calamine reads) like a CSV file.

python-calamine reads the cells (a formula as its saved value; a date cell as a date), about ten times faster than
openpyxl (docs/PERFORMANCE.md). Each cell becomes the text a contract CSV would hold: an Excel date as an ISO date
(or month, or date-time, by what the column holds), a whole number without ".0", TRUE/FALSE as Y/N. Rows then go
through the same checks, quarantine and audit as CSV rows; ``_line`` is the Excel row number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pandas as pd

from vrp.pipeline.csvfile import CsvChunk, FileRefused, match_columns, sha256_of

SUFFIXES = frozenset({".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"})
DATE_TEXT = {"date": "%Y-%m-%d", "month": "%Y-%m", "datetime": "%Y-%m-%dT%H:%M:%S"}


def is_spreadsheet(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES


def _float_text(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _datetime_text(value: datetime) -> str:
    return value.isoformat(sep=" ", timespec="minutes" if value.second == 0 else "seconds")


# Cell text by the cell's type, looked up once per cell: a million cells make the usual isinstance chain slow.
TEXT_OF = {
    str: lambda v: v,
    float: _float_text,
    int: str,
    bool: lambda v: "Y" if v else "N",
    datetime: _datetime_text,
    date: date.isoformat,
    type(None): lambda v: "",
    time: str,
    timedelta: str,
}


def _cell_text(value, kind: str | None = None) -> str:
    """One cell as contract text; ``kind`` is date, datetime or month for a date column, else None."""
    if kind is not None and isinstance(value, date):
        return value.strftime(DATE_TEXT[kind])
    return TEXT_OF.get(type(value), str)(value)


class XlsxStream:
    """A workbook's sheet read in chunks of rows, with the interface of csvfile.CsvStream.

    Opening it hashes the file, opens the sheet (the one named, else the first whose header row names the
    columns wanted) and matches the header; whole-file problems raise FileRefused before any row is read."""

    def __init__(
        self,
        path: Path | str,
        required: list[str],
        optional: list[str] = (),
        headers: dict[str, str] | None = None,
        mapping_name: str | None = None,
        *,
        sheet: str | int | None = None,
        header_row: int = 1,
        kinds: dict[str, str] | None = None,
    ):
        from python_calamine import CalamineError, CalamineWorkbook

        path = Path(path)
        if not path.is_file():
            raise FileRefused(f"{path}: no such file")
        self.path, self.optional, self.header_row = path, list(optional), header_row
        self.kinds = kinds or {}
        self._sheets: dict = {}
        self.sha256 = sha256_of(path)
        try:
            self.workbook = CalamineWorkbook.from_path(str(path))
        except (CalamineError, OSError, ValueError) as exc:
            raise FileRefused(f"{path.name}: not a readable spreadsheet ({_first_line(exc)})") from None
        names = self.workbook.sheet_names
        if not names:
            raise FileRefused(f"{path.name}: the workbook has no sheets")
        args = (required, list(optional), headers, mapping_name)
        self.sheet_name, self.positions = self._choose_sheet(names, sheet, args)
        self.max_rows = max(self._sheet().height, 0)

    def _sheet(self, name: str | None = None):
        """The sheet's cells, read once (calamine reads a whole sheet each time it is asked for one)."""
        name = name or self.sheet_name
        if name not in self._sheets:
            self._sheets = {name: self.workbook.get_sheet_by_name(name)}  # keep one sheet at a time
        return self._sheets[name]

    def _header(self, name: str) -> list[str]:
        for i, row in enumerate(self._sheet(name).iter_rows(), start=1):
            if i == self.header_row:
                return [_cell_text(v) for v in row]
        return []

    def _choose_sheet(self, names: list[str], sheet, args) -> tuple[str, dict[str, int]]:
        if sheet is not None:
            if isinstance(sheet, int):
                if not 1 <= sheet <= len(names):
                    raise FileRefused(f"{self.path.name}: no sheet {sheet} (it has {len(names)})")
                name = names[sheet - 1]
            elif sheet in names:
                name = sheet
            else:
                raise FileRefused(f"{self.path.name}: no sheet '{sheet}' (sheets: {', '.join(names)})")
            return name, match_columns(f"{self.path.name} sheet '{name}'", self._header(name), *args)
        # No sheet named: the first whose header row has the columns (a "Read me" sheet often comes first).
        first_problem = None
        for name in names:
            try:
                return name, match_columns(f"{self.path.name} sheet '{name}'", self._header(name), *args)
            except FileRefused as exc:
                first_problem = first_problem or exc
        if len(names) == 1:
            raise first_problem
        raise FileRefused(
            f"{self.path.name}: no sheet has the columns needed (sheets: {', '.join(names)}); "
            f"first sheet: {str(first_problem).split(': ', 1)[1]}"
        )

    def chunks(self, size: int = 20_000) -> Iterator[CsvChunk]:
        """The rows after the header, ``size`` at a time; blank rows are skipped, as in a CSV file."""
        cols = list(self.positions)
        take = [(self.positions[c], self.kinds.get(c)) for c in cols]
        good: list[list[str]] = []
        lines: list[int] = []
        raws: list[str] = []
        text_of, dates = TEXT_OF, (date, datetime)
        for line, row in enumerate(self._sheet().iter_rows(), start=1):
            if line <= self.header_row:
                continue
            texts = [text_of.get(type(v), str)(v) for v in row]
            if not any(texts) or not any(t.strip() for t in texts):
                continue
            width = len(row)
            good.append(
                [
                    ""
                    if i >= width
                    else row[i].strftime(DATE_TEXT[kind])
                    if kind is not None and type(row[i]) in dates
                    else texts[i]
                    for i, kind in take
                ]
            )
            lines.append(line)
            raws.append(_join(texts))
            if len(good) >= size:
                yield self._chunk(cols, good, lines, raws)
                good, lines, raws = [], [], []
        if good:
            yield self._chunk(cols, good, lines, raws)

    def _chunk(self, cols, good, lines, raws) -> CsvChunk:
        frame = pd.DataFrame(good, columns=cols, dtype=object)
        for c in self.optional:
            if c not in frame.columns:
                frame[c] = ""
        frame["_line"] = lines
        frame["_raw"] = raws
        return CsvChunk(frame, [])


def _join(texts: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(texts)
    return buf.getvalue()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
