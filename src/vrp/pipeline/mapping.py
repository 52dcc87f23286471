"""A partner's mapping file: its own column names, date patterns, value spellings and grid, onto a data contract.

A mapping (TOML, docs/DATA_CONTRACTS.md#mapping-files) is read and checked whole before any row of a file is read:
an unknown contract column, a bad date pattern or an unknown coordinate system refuses the load in one line that
names the problem. Its headers are then looked for in the file (a missing one refuses the file the same way), and
each chunk of rows is converted to the contract's own text (ISO dates, Y/N, WGS84) so that the contract's checks,
quarantine and audit run exactly as for a contract CSV.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from vrp.pipeline.csvfile import FileRefused, norm_header
from vrp.pipeline.sources import SPECS
from vrp.pipeline.sources.base import SourceSpec

WGS84, BRITISH_NATIONAL_GRID = "EPSG:4326", "EPSG:27700"
# The command-line names of the sources (vrp ingest KIND), which a mapping's ``kind`` may use too.
KINDS = {name.replace("_", "-"): name for name in SPECS}
# Columns that hold dates, per source, and what kind of date (the [file] pattern that applies to each).
DATE_COLUMNS = {
    "police_records": {"recorded_date": "date", "occurred_datetime": "datetime"},
    "homicides": {"offence_date": "date"},
    "admissions": {"month": "month"},
    "police_uk": {"Month": "month"},
}
ISO = {"date": "%Y-%m-%d", "datetime": "%Y-%m-%dT%H:%M", "month": "%Y-%m"}
FILE_KEYS = {"kind", "sheet", "header_row", "date_format", "datetime_format", "month_format", "crs"}
# A date every pattern must write and read back unchanged (day 15 and month 3 cannot be confused).
PROBE = datetime(2024, 3, 15, 14, 30)


class MappingError(FileRefused):
    """The mapping cannot be used; the message names the mapping file and the problem in one line."""


def coordinate_columns(spec: SourceSpec) -> tuple[str, str] | None:
    """The contract's longitude and latitude columns, where it has them."""
    names = {norm_header(c): c for c in spec.required}
    if "longitude" in names and "latitude" in names:
        return names["longitude"], names["latitude"]
    return None


@dataclass(frozen=True)
class Mapping:
    name: str  # the mapping file's name, as the load audit records it
    sha256: str
    source: str
    columns: dict[str, str]  # contract column -> the file's header
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # contract column -> {file value: contract value}
    formats: dict[str, str] = field(default_factory=dict)  # date | datetime | month -> strftime pattern
    crs: str = WGS84
    sheet: str | None = None
    header_row: int = 1

    @property
    def label(self) -> str:
        return f"{self.name} (sha256 {self.sha256[:12]})"

    @property
    def spec(self) -> SourceSpec:
        return SPECS[self.source]

    def contract_columns(self) -> tuple[list[str], list[str]]:
        """The columns to find in the file (required, optional): the contract's, with eastings and northings in
        place of longitude and latitude on the British National Grid."""
        required, optional = list(self.spec.required), list(self.spec.optional)
        coords = coordinate_columns(self.spec)
        if self.crs == BRITISH_NATIONAL_GRID and coords:
            required = [c for c in required if c not in coords] + ["easting", "northing"]
        return required, optional

    def headers(self) -> dict[str, str]:
        return dict(self.columns)

    def convert(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows under contract names, as the file gave them -> the contract's own text."""
        frame = frame.copy()
        for col, spellings in self.values.items():
            if col in frame.columns:
                raw = frame[col]
                frame[col] = raw.str.strip().str.lower().map(spellings).fillna(raw)
        for col, kind in DATE_COLUMNS.get(self.source, {}).items():
            pattern = self.formats.get(kind)
            if pattern and col in frame.columns:
                frame[col] = _reformat(frame[col], pattern, ISO[kind])
        if self.crs == BRITISH_NATIONAL_GRID and "easting" in frame.columns:
            lon_col, lat_col = coordinate_columns(self.spec)
            frame[lon_col], frame[lat_col] = grid_to_wgs84(frame.pop("easting"), frame.pop("northing"))
        return frame

    def explain(self, reasons: pd.Series) -> pd.Series:
        """Reasons name the contract's columns and date shapes; under a mapping, name what the partner gave: the
        date pattern, and eastings and northings where their text was not a number."""
        for kind, pattern in self.formats.items():
            iso = {"date": "YYYY-MM-DD", "datetime": "YYYY-MM-DDTHH:MM", "month": "YYYY-MM"}[kind]
            reasons = reasons.str.replace(f"(expected {iso})", f"(expected {pattern}, the mapping's {kind} format)")
        if self.crs == BRITISH_NATIONAL_GRID and coordinate_columns(self.spec):
            for contract, given in zip(coordinate_columns(self.spec), ("easting", "northing"), strict=True):
                for problem in (" is missing", ": not a number"):
                    reasons = reasons.str.replace(contract + problem, given + problem)
        return reasons


def _reformat(text: pd.Series, pattern: str, iso: str) -> pd.Series:
    """Dates in ``pattern`` rewritten as ISO; what does not match is left as given, for the contract's check to
    report (ISO text, such as an Excel date cell reads as, is already what the contract wants)."""
    parsed = pd.to_datetime(text.str.strip(), format=pattern, errors="coerce")
    return parsed.dt.strftime(iso).where(parsed.notna(), text).astype(object)


@cache
def _grid_transformer():
    from pyproj import Transformer

    # OSGB36 -> WGS84 by PROJ's bundled Helmert transformation (EPSG:1314, about 2 m): no grid file, no network.
    return Transformer.from_crs(BRITISH_NATIONAL_GRID, WGS84, always_xy=True)


def grid_to_wgs84(easting: pd.Series, northing: pd.Series) -> tuple[pd.Series, pd.Series]:
    """British National Grid eastings and northings (metres) -> longitude and latitude as text. A value that is
    not a number is passed on as given, so the contract's check names it."""
    e = pd.to_numeric(easting.str.strip(), errors="coerce")
    n = pd.to_numeric(northing.str.strip(), errors="coerce")
    both = e.notna() & n.notna()
    lon = np.full(len(e), np.nan)
    lat = np.full(len(e), np.nan)
    if both.any():
        lon[both.to_numpy()], lat[both.to_numpy()] = _grid_transformer().transform(
            e[both].to_numpy(dtype=float), n[both].to_numpy(dtype=float)
        )
    finite = both & np.isfinite(lon) & np.isfinite(lat)
    lon_text = pd.Series(lon, index=e.index).round(7).astype(str).where(finite, easting)
    lat_text = pd.Series(lat, index=e.index).round(7).astype(str).where(finite, northing)
    return lon_text.astype(object), lat_text.astype(object)


def read_mapping(path: Path | str, kind: str | None = None) -> Mapping:
    """Read and check a mapping file; ``kind`` is the source it is used for (else the mapping says, or its
    columns show). Raises MappingError with one line naming the problem."""
    path = Path(path)
    if not path.is_file():
        raise MappingError(f"{path}: no such mapping file")
    data = path.read_bytes()
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(f"{path.name}: not a valid TOML mapping ({exc})") from None
    fail = _failer(path.name)
    unknown = sorted(set(doc) - {"file", "columns", "values"})
    if unknown:
        fail(f"unknown section [{unknown[0]}] (a mapping has [file], [columns] and [values.COLUMN])")
    file_ = _table(doc, "file", fail)
    columns = _table(doc, "columns", fail)
    values = _table(doc, "values", fail)
    extra = sorted(set(file_) - FILE_KEYS)
    if extra:
        fail(f"[file] {extra[0]}: unknown setting (known: {', '.join(sorted(FILE_KEYS))})")
    source = _source(file_.get("kind"), kind, columns, fail)
    crs = _crs(file_.get("crs", WGS84), SPECS[source], fail)
    contract = _contract_names(SPECS[source], crs)
    mapped = {}
    for key, header in columns.items():
        column = _contract_column(key, contract, source, fail, "[columns]")
        if not isinstance(header, str) or not header.strip():
            fail(f'[columns] {key}: the file\'s header must be text, like {key} = "Crime Ref"')
        mapped[column] = header.strip()
    if crs == BRITISH_NATIONAL_GRID:
        pass  # eastings and northings are found under their own names unless mapped
    elif {"easting", "northing"} & set(mapped):
        fail(f'[columns] maps easting/northing but crs is {WGS84}: add crs = "{BRITISH_NATIONAL_GRID}" to [file]')
    formats = {kind_: _pattern(file_[f"{kind_}_format"], kind_, fail) for kind_ in ISO if f"{kind_}_format" in file_}
    return Mapping(
        name=path.name,
        sha256=hashlib.sha256(data).hexdigest(),
        source=source,
        columns=mapped,
        values=_values(values, contract, source, fail),
        formats=formats,
        crs=crs,
        sheet=_sheet(file_.get("sheet"), fail),
        header_row=_header_row(file_.get("header_row", 1), fail),
    )


def _failer(name: str):
    def fail(problem: str):
        raise MappingError(f"{name}: {problem}")

    return fail


def _table(doc: dict, key: str, fail) -> dict:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        fail(f"{key} must be a table, [{key}]")
    return value


def _source(declared, wanted: str | None, columns: dict, fail) -> str:
    if declared is not None:
        source = KINDS.get(str(declared).replace("_", "-"))
        if source is None:
            fail(f"[file] kind = {declared!r}: not a source (one of {', '.join(KINDS)})")
        if wanted and wanted != source:
            fail(f"this mapping is for {declared}, not {wanted.replace('_', '-')}")
        return source
    if wanted:
        return wanted
    keys = {norm_header(k) for k in columns}
    fits = [s for s, spec in SPECS.items() if keys <= {norm_header(c) for c in _contract_names(spec, "")}]
    if len(fits) != 1:
        fail('say which source it maps: add kind = "police-records" (or another source) to [file]')
    return fits[0]


def _contract_names(spec: SourceSpec, crs: str) -> list[str]:
    names = [*spec.required, *spec.optional]
    if coordinate_columns(spec) and crs != WGS84:
        names += ["easting", "northing"]
    return names


def _contract_column(key: str, contract: list[str], source: str, fail, where: str) -> str:
    found = {norm_header(c): c for c in contract}.get(norm_header(key))
    if found is None:
        fail(
            f"{where} {key}: not a column of the {source.replace('_', '-')} contract (its columns: "
            f"{', '.join(contract)})"
        )
    return found


def _crs(value, spec: SourceSpec, fail) -> str:
    crs = str(value).strip().upper()
    if crs not in (WGS84, BRITISH_NATIONAL_GRID):
        fail(f"[file] crs = {value!r}: use {WGS84} (longitude/latitude) or {BRITISH_NATIONAL_GRID} (easting/northing)")
    if crs == BRITISH_NATIONAL_GRID and not coordinate_columns(spec):
        fail(f"[file] crs = {value!r}: this source has no coordinates")
    return crs


def _pattern(pattern, kind: str, fail) -> str:
    """A strftime pattern that writes and reads back a probe date: a day, month and year at least (a time too,
    for date-times; no day, for months)."""
    if not isinstance(pattern, str) or "%" not in pattern:
        fail(f'[file] {kind}_format = {pattern!r}: not a strftime pattern like "%d/%m/%Y"')
    expected = pd.Timestamp(PROBE.strftime(ISO[kind]))
    try:
        read = pd.to_datetime(PROBE.strftime(pattern), format=pattern)
        # A date may carry a time (15/03/2024 00:00) and a month a day (01/03/2024): only the date or month counts.
        read = {"date": read.normalize(), "month": read.to_period("M").start_time}.get(kind, read)
    except (ValueError, TypeError):
        read = None
    if read is None or read != expected:
        need = {"date": "%d, %m and %Y", "datetime": "%d, %m, %Y, %H and %M", "month": "%m and %Y"}[kind]
        fail(f"[file] {kind}_format = {pattern!r}: a bad pattern (it must read {need} back exactly)")
    return pattern


def _values(values: dict, contract: list[str], source: str, fail) -> dict[str, dict[str, str]]:
    out = {}
    for key, spellings in values.items():
        column = _contract_column(key, contract, source, fail, f"[values.{key}]")
        if not isinstance(spellings, dict):
            fail(f'[values.{key}] must be a table of "file value" = "contract value"')
        out[column] = {}
        for given, meant in spellings.items():
            if isinstance(meant, bool):
                meant = "Y" if meant else "N"
            if not isinstance(meant, str | int):
                fail(f"[values.{key}] {given!r}: the contract value must be text")
            out[column][given.strip().lower()] = str(meant)
    return out


def _sheet(value, fail) -> str | None:
    if value is not None and (not isinstance(value, str | int) or isinstance(value, bool)):
        fail("[file] sheet: a sheet name (text) or position (1 for the first)")
    return None if value is None else str(value) if isinstance(value, str) else value


def _header_row(value, fail) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        fail(f"[file] header_row = {value!r}: the row number of the headers (1 for the first row)")
    return value


def open_stream(path: Path | str, spec: SourceSpec, mapping: Mapping | None = None):
    """The file as a stream of chunks of contract-named text rows: a CSV file, or a workbook's sheet."""
    from vrp.pipeline.csvfile import CsvStream
    from vrp.pipeline.xlsx import XlsxStream, is_spreadsheet

    path = Path(path)
    if mapping is not None and mapping.source != spec.name:
        raise MappingError(
            f"{mapping.name}: this mapping is for {mapping.source.replace('_', '-')}, not {spec.name.replace('_', '-')}"
        )
    required, optional = mapping.contract_columns() if mapping else (spec.required, spec.optional)
    headers, name = (mapping.headers(), mapping.name) if mapping else (None, None)
    if is_spreadsheet(path):
        return XlsxStream(
            path,
            required,
            optional,
            headers,
            name,
            sheet=mapping.sheet if mapping else None,
            header_row=mapping.header_row if mapping else 1,
            kinds=DATE_COLUMNS.get(spec.name),
        )
    if mapping is not None and (mapping.sheet is not None or mapping.header_row != 1):
        raise MappingError(f"{mapping.name}: [file] sheet and header_row apply to spreadsheets, not {path.name}")
    return CsvStream(path, required, optional, headers, name)
