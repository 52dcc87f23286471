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


def attacker_bounds(table, hidden, targets) -> list[tuple[float, float]]:
    """What a user can derive about each target cell of a stats.disclosure.LinearTable from its published cells
    alone (counts >= 0, the links and the part-of-whole structure), by scipy's own linear programming."""
    import numpy as np
    from scipy.optimize import linprog

    published = table.publishable & ~hidden
    a_eq = table.cells[np.flatnonzero(published)].toarray()
    b_eq = table.values[published]
    if table.links is not None:
        a_eq = np.vstack([a_eq, table.links.toarray()])
        b_eq = np.concatenate([b_eq, np.zeros(table.links.shape[0])])
    a_ub = b_ub = None
    if table.subsets is not None and len(table.subsets):
        a_ub = np.zeros((len(table.subsets), table.cells.shape[1]))
        a_ub[np.arange(len(table.subsets)), table.subsets[:, 0]] = 1
        a_ub[np.arange(len(table.subsets)), table.subsets[:, 1]] = -1
        b_ub = np.zeros(len(table.subsets))
    out = []
    for cell in targets:
        c = table.cells[cell].toarray().ravel()
        lo = linprog(c, A_eq=a_eq, b_eq=b_eq, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        hi = linprog(-c, A_eq=a_eq, b_eq=b_eq, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        assert lo.status == 0
        out.append((lo.fun, np.inf if hi.status == 3 else -hi.fun))
    return out


def cube_lsoa_year(wh, measure_id: str, fy_start: str, district: str | None = None):
    """An independent reference for the public Hotspots page: the published LSOA cells of one financial year
    (all ages), read straight from pub_cube by SQL, indexed by LSOA code: count (NaN where hidden), suppressed."""
    import pandas as pd

    where = f" AND a.district_code = '{district}'" if district else ""
    frame = wh.read(
        "SELECT c.area_code, c.count, c.suppressed FROM pub_cube c JOIN dim_area a ON a.lsoa21_code = c.area_code "
        f"WHERE c.measure_id = '{measure_id}' AND c.area_level = 'lsoa' AND c.age = 'all' AND c.period_type = 'fy' "
        f"AND c.period_start = DATE '{fy_start}'{where}"
    ).set_index("area_code")
    frame["suppressed"] = frame["suppressed"].astype(bool)
    frame["count"] = pd.to_numeric(frame["count"]).astype(float).mask(frame["suppressed"])
    return frame


def cube_area_year(wh, measure_id: str, area: str, fy_start: str) -> int | None:
    """The published count of HIPS or a district for one financial year (all ages), from pub_cube by SQL; None
    where hidden."""
    level = "hips" if area == "HIPS" else "district"
    row = wh.read(
        f"SELECT count, suppressed FROM pub_cube WHERE measure_id = '{measure_id}' AND area_level = '{level}' "
        f"AND area_code = '{area}' AND age = 'all' AND period_type = 'fy' AND period_start = DATE '{fy_start}'"
    )
    return None if bool(row["suppressed"].iloc[0]) else int(row["count"].iloc[0])


def cube_cells(wh, measure_id: str, area: str, period_type: str, age: str = "all"):
    """An independent reference for the public pages: the published cells of HIPS or one district of one kind of
    period, read straight from pub_cube by SQL, in date order: start, end (dates), count (NaN where hidden),
    suppressed."""
    import pandas as pd

    level = "hips" if area == "HIPS" else "district"
    frame = wh.read(
        "SELECT period_start AS start, period_end AS end, count, suppressed FROM pub_cube "
        f"WHERE measure_id = '{measure_id}' AND area_level = '{level}' AND area_code = '{area}' AND age = '{age}' "
        f"AND period_type = '{period_type}' ORDER BY period_start"
    )
    frame["start"] = pd.to_datetime(frame["start"]).dt.date
    frame["end"] = pd.to_datetime(frame["end"]).dt.date
    frame["suppressed"] = frame["suppressed"].astype(bool)
    frame["count"] = pd.to_numeric(frame["count"]).astype(float).mask(frame["suppressed"])
    return frame.reset_index(drop=True)


def to_grid(where: tuple[float, float]) -> tuple[int, int]:
    """A WGS84 point as whole-metre British National Grid easting and northing, as a police system exports it."""
    from pyproj import Transformer

    easting, northing = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(*where)
    return round(easting), round(northing)


def write_workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    """An .xlsx workbook, sheets in the order given. Cells: text, numbers, booleans, dates and date-times (stored
    as Excel dates, shown dd/mm/yyyy [hh:mm]), and ("=FORMULA", saved value) pairs, saved as Excel saves them."""
    from datetime import date, datetime

    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    moment = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, tuple):
                    sheet.write_formula(r, c, value[0], None, value[1])
                elif isinstance(value, datetime):
                    sheet.write_datetime(r, c, value, moment)
                elif isinstance(value, date):
                    sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), day)
                elif value is None:
                    continue
                else:
                    sheet.write(r, c, value)
    book.close()
    return path
