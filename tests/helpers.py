"""Small builders for test files in the partner contracts."""

from __future__ import annotations

import csv
from pathlib import Path

SOUTHAMPTON = (-1.4044, 50.9097)  # E01035444, Southampton
PORTSMOUTH = (-1.0913, 50.7989)  # E01017034, Portsmouth
NEWPORT_IOW = (-1.2939, 50.6998)  # E01017326, Isle of Wight
AT_SEA = (-1.3, 50.55)  # the Channel, south of the Isle of Wight
LONDON = (-0.1276, 51.5072)

POLICE_HEADER = [
    "crime_reference",
    "recorded_date",
    "occurred_datetime",
    "ho_offence_code",
    "knife_flag",
    "victim_age",
    "domestic_flag",
    "longitude",
    "latitude",
]


def write_csv(
    path: Path,
    header: list[str],
    rows: list[list],
    *,
    newline: str = "\n",
    bom: bool = False,
    delimiter: str = ",",
) -> Path:
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator=newline, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def police_row(
    ref: str,
    date: str = "2024-03-15",
    code: str = "8N",
    knife: str = "Y",
    age="19",
    domestic: str = "N",
    where=SOUTHAMPTON,
    occurred: str = "2024-03-15T23:10",
) -> list:
    return [ref, date, occurred, code, knife, age, domestic, where[0], where[1]]
