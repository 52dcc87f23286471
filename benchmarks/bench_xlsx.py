"""Benchmark for partner workbooks: a workbook through its mapping against the same rows as a contract CSV. Not a test.

Usage: PYTHONPATH=src python benchmarks/bench_xlsx.py [--rows N] [--readers] [--keep DIR]

Writes N police records twice: as the contract CSV, and as the police workbook config/mappings/police-workbook.toml
maps (a "Read me" sheet first, its own headers, dates as Excel dates, Yes/No, eastings and northings). Each is
loaded into its own empty DuckDB warehouse (marts not rebuilt: the same for both), and the load times (wall and
CPU) are printed as JSON with their ratios (issue 17: a workbook within 3x of the CSV). --readers also times reading
the workbook's cells with python-calamine and with openpyxl (read-only, values), which is how the reader was chosen.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_ingest import CODES, HEADER, POINTS  # noqa: E402

WORKBOOK_HEADER = ["Crime Ref", "Date Recorded", "Date/Time of Offence", "HO Code", "Knife/Sharp Instrument"]
WORKBOOK_HEADER += ["Victim Age", "DA Flag", "Easting", "Northing"]


def records(rows: int):
    start = datetime(2024, 1, 1)
    for i in range(rows):
        recorded = start + timedelta(days=i % 360)
        occurred = recorded - timedelta(hours=1 + i % 30) if i % 4 else None
        yield i, recorded, occurred, CODES[i % len(CODES)], i % 3 == 0, 10 + i % 70, i % 5 == 0, POINTS[i % 3]


def write_files(folder: Path, rows: int) -> tuple[Path, Path]:
    import xlsxwriter
    from pyproj import Transformer

    grid = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    grid_points = [tuple(round(v) for v in grid.transform(*p)) for p in POINTS]
    csv_path, xlsx_path = folder / "crimes.csv", folder / "crimes.xlsx"
    book = xlsxwriter.Workbook(str(xlsx_path), {"constant_memory": True})
    book.add_worksheet("Read me").write(0, 0, "Crimes recorded, one row per crime. Restricted.")
    sheet = book.add_worksheet("Crimes")
    day, moment = book.add_format({"num_format": "dd/mm/yyyy"}), book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    sheet.write_row(0, 0, WORKBOOK_HEADER)
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(HEADER)
        for i, recorded, occurred, code, knife, age, domestic, point in records(rows):
            easting, northing = grid_points[POINTS.index(point)]
            lon, lat = grid.transform(easting, northing, direction="INVERSE")
            out.writerow(
                [f"R{i:08d}", f"{recorded:%Y-%m-%d}", f"{occurred:%Y-%m-%dT%H:%M}" if occurred else "", code]
                + ["Y" if knife else "N", age, "Y" if domestic else "N", round(lon, 7), round(lat, 7)]
            )
            r = i + 1
            sheet.write_string(r, 0, f"R{i:08d}")
            sheet.write_datetime(r, 1, recorded, day)
            if occurred:
                sheet.write_datetime(r, 2, occurred, moment)
            sheet.write_string(r, 3, code)
            sheet.write_string(r, 4, "Knife used" if knife else "No knife")
            sheet.write_number(r, 5, age)
            sheet.write_string(r, 6, "Yes" if domestic else "No")
            sheet.write_number(r, 7, easting)
            sheet.write_number(r, 8, northing)
    book.close()
    return csv_path, xlsx_path


def load_seconds(path: Path, folder: Path, mapping) -> tuple[float, float, int]:
    from vrp import settings as settings_mod
    from vrp.data_access.engine import make_engine
    from vrp.pipeline.load import load_files
    from vrp.pipeline.warehouse import init_warehouse

    s = settings_mod.from_env()
    engine = make_engine(f"duckdb:///{folder / (path.suffix[1:] + '.duckdb')}")
    init_warehouse(engine, s)
    started, cpu = time.perf_counter(), time.process_time()
    result = load_files(engine, "police_records", [path], reference_dir=s.reference_dir, rebuild=False, mapping=mapping)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    engine.dispose()
    return seconds, cpu, result[0].rows_loaded


def reader_seconds(path: Path) -> dict[str, float]:
    import openpyxl
    from python_calamine import CalamineWorkbook

    started = time.perf_counter()
    for _ in CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Crimes").iter_rows():
        pass
    calamine = time.perf_counter() - started
    started = time.perf_counter()
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    for _ in book["Crimes"].iter_rows(values_only=True):
        pass
    return {"calamine_read_s": round(calamine, 2), "openpyxl_read_s": round(time.perf_counter() - started, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--readers", action="store_true", help="Also time calamine and openpyxl reading the cells.")
    parser.add_argument("--keep", type=Path, default=None, help="Keep the files and warehouses in this folder.")
    args = parser.parse_args()
    from vrp.pipeline.mapping import read_mapping

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        csv_path, xlsx_path = write_files(folder, args.rows)
        csv_s, csv_cpu, csv_rows = load_seconds(csv_path, folder, None)
        mapping = read_mapping(ROOT / "config" / "mappings" / "police-workbook.toml")
        xlsx_s, xlsx_cpu, xlsx_rows = load_seconds(xlsx_path, folder, mapping)
        out = {
            "rows": args.rows,
            "csv_load_s": round(csv_s, 2),
            "xlsx_load_s": round(xlsx_s, 2),
            "ratio": round(xlsx_s / csv_s, 2),
            # CPU seconds (all threads): steadier than wall time on a shared machine
            "csv_cpu_s": round(csv_cpu, 2),
            "xlsx_cpu_s": round(xlsx_cpu, 2),
            "cpu_ratio": round(xlsx_cpu / csv_cpu, 2),
            "rows_loaded": [csv_rows, xlsx_rows],
        }
        if args.readers:
            out |= reader_seconds(xlsx_path)
        print(json.dumps(out))


if __name__ == "__main__":
    main()
