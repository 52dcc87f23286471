"""Reading a delivered CSV file defensively: refuse what is not a usable CSV, keep every row we read.

Whole-file problems (not text, empty, wrong delimiter, a required column missing) refuse the file with one
message naming the problem. Row problems (wrong number of fields) are returned for quarantine, with the line
they started on, so nothing in a delivered file is ever silently lost.
"""

from __future__ import annotations

import csv
import hashlib
import io
import sys
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


def _decode(data: bytes, path: Path) -> str:
    if b"\x00" in data[:65536]:
        raise FileRefused(f"{path.name}: not a CSV text file (it contains binary data)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Spreadsheet exports on Windows are often cp1252; decoding them loses nothing.
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise FileRefused(f"{path.name}: not a CSV text file (undecodable byte at offset {exc.start})") from exc


def _norm(name: str) -> str:
    return " ".join(name.strip().lower().replace("_", " ").split())


def read_csv_file(path: Path | str, required: list[str], optional: list[str] = ()) -> CsvFile:
    """Read ``path`` as a comma-separated file with a header naming at least ``required`` columns."""
    path = Path(path)
    if not path.exists():
        raise FileRefused(f"{path}: no such file")
    if not path.is_file():
        raise FileRefused(f"{path}: not a file")
    data = path.read_bytes()
    if not data.strip():
        raise FileRefused(f"{path.name}: the file is empty (no header row)")
    text = _decode(data, path)
    digest = hashlib.sha256(data).hexdigest()

    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise FileRefused(f"{path.name}: cannot read a header row ({exc})") from exc
    if len(header) == 1:
        for delim, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
            if delim in header[0]:
                raise FileRefused(f"{path.name}: the file is delimited by {name}; expected commas")
    wanted = {_norm(c): c for c in [*required, *optional]}
    positions: dict[str, int] = {}
    for i, name in enumerate(header):
        canonical = wanted.get(_norm(name))
        if canonical is not None and canonical not in positions:
            positions[canonical] = i
    missing = [c for c in required if c not in positions]
    if missing:
        raise FileRefused(
            f"{path.name}: missing required column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
            f" (found: {', '.join(h.strip() for h in header[:20])})"
        )

    n = len(header)
    good: list[list[str]] = []
    lines: list[int] = []
    raws: list[str] = []
    malformed: list[tuple[int, str, str]] = []
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
        if not row or (len(row) == 1 and not row[0].strip()):
            start = reader.line_num + 1
            continue  # blank line
        raw = _join(row)
        if len(row) != n:
            malformed.append((start, f"expected {n} fields, found {len(row)}", raw))
        else:
            good.append(row)
            lines.append(start)
            raws.append(raw)
        start = reader.line_num + 1

    cols = list(positions)
    idx = [positions[c] for c in cols]
    frame = pd.DataFrame([[r[i] for i in idx] for r in good], columns=cols, dtype=object)
    for c in optional:
        if c not in frame.columns:
            frame[c] = ""
    frame = frame.fillna("").astype(str)
    frame["_line"] = lines
    frame["_raw"] = raws
    return CsvFile(path=path, sha256=digest, rows=frame, malformed=malformed)


def _join(row: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(row)
    return buf.getvalue()
