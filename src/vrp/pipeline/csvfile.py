"""Reading a delivered CSV file defensively: refuse what is not a usable CSV, keep every row we read.

Whole-file problems (not text, empty, wrong delimiter, a required column missing) refuse the file with one
message naming the problem, before any row is read. Rows are read in chunks (CsvStream.chunks), so a file of
a million rows never sits in memory whole. Row problems (wrong number of fields) are returned for quarantine,
with the line they started on, so nothing in a delivered file is ever silently lost.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

csv.field_size_limit(sys.maxsize)  # a 10 MB field is read, then quarantined by the length check, not crashed on


class FileRefused(ValueError):
    """The file cannot be loaded at all; the message says why in one line."""


@dataclass
class CsvFile:
    path: Path
    sha256: str
    rows: pd.DataFrame  # canonical column names, all str, plus "_line" and "_raw"
    malformed: list[tuple[int, str, str]]  # (line, reason, raw)

    @property
    def rows_read(self) -> int:
        return len(self.rows) + len(self.malformed)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _scan(path: Path) -> tuple[str, str, int]:
    """One pass over the bytes, never the whole file in memory: the SHA-256, the encoding (UTF-8, else cp1252),
    and the number of line breaks (\n, \r\n or \r), which no file has fewer of than data rows."""
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok, nonblank, offset, breaks = True, False, 0, 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            if offset == 0 and b"\x00" in block[:65536]:
                raise FileRefused(f"{path.name}: not a CSV text file (it contains binary data)")
            digest.update(block)
            breaks += block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")
            nonblank = nonblank or bool(block.strip())
            if utf8_ok:
                try:
                    utf8.decode(block)
                except UnicodeDecodeError:
                    utf8_ok = False
            offset += len(block)
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    if not nonblank:
        raise FileRefused(f"{path.name}: the file is empty (no header row)")
    if utf8_ok:
        return digest.hexdigest(), "utf-8-sig", breaks
    # Spreadsheet exports on Windows are often cp1252; decoding them loses nothing.
    cp1252 = codecs.getincrementaldecoder("cp1252")()
    offset = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            try:
                cp1252.decode(block)
            except UnicodeDecodeError as exc:
                raise FileRefused(
                    f"{path.name}: not a CSV text file (undecodable byte at offset {offset + exc.start})"
                ) from exc
            offset += len(block)
    return digest.hexdigest(), "cp1252", breaks


def _norm(name: str) -> str:
    return " ".join(name.strip().lower().replace("_", " ").split())


norm_header = _norm


def match_columns(
    file_name: str,
    header: list[str],
    required: list[str],
    optional: list[str],
    headers: dict[str, str] | None = None,
    mapping_name: str | None = None,
) -> dict[str, int]:
    """Each contract column's position in ``header``, found under its own name or the header a mapping gives it
    (``headers``: contract column -> the file's header). A required column missing refuses the file."""
    headers = headers or {}
    wanted = {_norm(headers.get(c, c)): c for c in [*required, *optional]}
    positions: dict[str, int] = {}
    for i, name in enumerate(header):
        canonical = wanted.get(_norm(str(name)))
        if canonical is not None and canonical not in positions:
            positions[canonical] = i
    missing = [c for c in required if c not in positions]
    found = ", ".join(str(h).strip() for h in header[:20])
    if missing and any(c in headers for c in missing):
        named = ", ".join(f"'{headers[c]}' ({c} in {mapping_name})" if c in headers else c for c in missing)
        raise FileRefused(f"{file_name}: missing column{'s' if len(missing) > 1 else ''} {named} (found: {found})")
    if missing:
        raise FileRefused(
            f"{file_name}: missing required column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
            f" (found: {found})"
        )
    return positions


@dataclass
class CsvChunk:
    rows: pd.DataFrame  # canonical column names, all str, plus "_line" and "_raw"
    malformed: list[tuple[int, str, str]]  # (line, reason, raw)

    @property
    def rows_read(self) -> int:
        return len(self.rows) + len(self.malformed)


class CsvStream:
    """A checked CSV file read in chunks of rows, so memory follows the chunk size and not the file size.

    Opening it reads the bytes once (hash, encoding) and the header (columns); whole-file problems are raised
    here, as FileRefused, before any row is read.
    """

    def __init__(
        self,
        path: Path | str,
        required: list[str],
        optional: list[str] = (),
        headers: dict[str, str] | None = None,
        mapping_name: str | None = None,
    ):
        path = Path(path)
        if not path.exists():
            raise FileRefused(f"{path}: no such file")
        if not path.is_file():
            raise FileRefused(f"{path}: not a file")
        self.path = path
        self.sha256, self.encoding, self.max_rows = _scan(path)
        self.optional = list(optional)
        with open(path, encoding=self.encoding, newline="") as fh:
            header = self._header(csv.reader(fh))
        self.width = len(header)
        self.positions = match_columns(path.name, header, required, list(optional), headers, mapping_name)

    def _header(self, reader) -> list[str]:
        try:
            header = next(reader)
        except (StopIteration, csv.Error) as exc:
            raise FileRefused(f"{self.path.name}: cannot read a header row ({exc})") from exc
        if len(header) == 1:
            for delim, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
                if delim in header[0]:
                    raise FileRefused(f"{self.path.name}: the file is delimited by {name}; expected commas")
        return header

    def chunks(self, size: int = 20_000) -> Iterator[CsvChunk]:
        """The rows after the header, ``size`` at a time (malformed rows count towards the size)."""
        with open(self.path, encoding=self.encoding, newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            good, lines, raws, malformed = [], [], [], []
            start = reader.line_num + 1
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    malformed.append((start, f"unreadable CSV row: {exc}", ""))
                    start = reader.line_num + 1
                    continue
                if row and not (len(row) == 1 and not row[0].strip()):  # else a blank line
                    raw = _join(row)
                    if len(row) != self.width:
                        malformed.append((start, f"expected {self.width} fields, found {len(row)}", raw))
                    else:
                        good.append(row)
                        lines.append(start)
                        raws.append(raw)
                    if len(good) + len(malformed) >= size:
                        yield self._chunk(good, lines, raws, malformed)
                        good, lines, raws, malformed = [], [], [], []
                start = reader.line_num + 1
            if good or malformed:
                yield self._chunk(good, lines, raws, malformed)

    def _chunk(self, good, lines, raws, malformed) -> CsvChunk:
        cols = list(self.positions)
        idx = [self.positions[c] for c in cols]
        frame = pd.DataFrame([[r[i] for i in idx] for r in good], columns=cols, dtype=object)
        for c in self.optional:
            if c not in frame.columns:
                frame[c] = ""
        frame = frame.fillna("").astype(str)
        frame["_line"] = lines
        frame["_raw"] = raws
        return CsvChunk(frame, malformed)


def read_csv_file(path: Path | str, required: list[str], optional: list[str] = ()) -> CsvFile:
    """Read ``path`` whole as a comma-separated file with a header naming at least ``required`` columns."""
    stream = CsvStream(path, required, optional)
    parts = list(stream.chunks(1 << 30))
    if parts:
        rows, malformed = parts[0].rows, parts[0].malformed
    else:
        rows, malformed = stream._chunk([], [], [], []).rows, []
    return CsvFile(path=stream.path, sha256=stream.sha256, rows=rows, malformed=malformed)


def _join(row: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(row)
    return buf.getvalue()
