"""Benchmark for `vrp ingest`: peak memory and time to load a large generated file. Not a test.

Usage: PYTHONPATH=src python benchmarks/bench_ingest.py [--rows N] [--kind good|junk] [--chunk-rows N]
                                                      [--warehouse URL] [--keep DIR]

Writes a police recorded crime extract of N rows (good: valid rows in HIPS; junk: a valid header and rows that
all fail their checks, the file a supplier's broken export gives), creates an empty warehouse in a child process,
then loads the file in another child process and prints that child's peak resident memory and wall time as JSON.
The warehouse defaults to a DuckDB file in a temporary folder (--keep DIR keeps it and the file in DIR).
tests/test_ingest_calm.py runs it small to check that memory does not grow with the rows.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = [
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
# Points inside HIPS LSOAs (Southampton, Portsmouth, Isle of Wight).
POINTS = [(-1.4044, 50.9097), (-1.0913, 50.7989), (-1.2939, 50.6998)]
CODES = ["8N", "5D", "34B", "105A", "8P"]


def write_extract(path: Path, rows: int, kind: str = "good") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(HEADER)
        for i in range(rows):
            if kind == "junk":
                out.writerow([f"J{i:08d}", "not a date", "", "??", "maybe", "old", "?", "east", "north"])
                continue
            lon, lat = POINTS[i % len(POINTS)]
            month = 1 + i % 12
            out.writerow(
                [
                    f"R{i:08d}",
                    f"2024-{month:02d}-{1 + i % 28:02d}",
                    "",
                    CODES[i % len(CODES)],
                    "Y" if i % 3 == 0 else "N",
                    str(10 + i % 70),
                    "N",
                    f"{lon + (i % 7) * 1e-5:.5f}",
                    f"{lat:.5f}",
                ]
            )
    return path


def _child(args: list[str], env: dict) -> dict:
    """Run this script's --child mode; it prints one JSON line with its own figures."""
    done = subprocess.run(
        [sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False, timeout=3600
    )
    if done.returncode != 0:
        raise SystemExit(f"child failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(mode: str, url: str, path: str | None, chunk_rows: int) -> None:
    from vrp import settings as settings_mod
    from vrp.data_access.engine import make_engine
    from vrp.pipeline.csvfile import FileRefused
    from vrp.pipeline.load import load_files

    s = settings_mod.from_env()
    engine = make_engine(url)
    started = time.perf_counter()
    status = "ok"
    if mode == "init":
        from vrp.pipeline.warehouse import init_warehouse  # the marts and cube: not what `vrp ingest` loads

        init_warehouse(engine, s)
    else:
        try:
            [r] = load_files(
                engine,
                "police_records",
                [Path(path)],
                reference_dir=s.reference_dir,
                rebuild=False,
                chunk_rows=chunk_rows,
            )
            status = r.summary()
        except FileRefused as exc:
            status = f"refused: {str(exc)[:160]}"
    engine.dispose()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    print(
        json.dumps(
            {"seconds": round(time.perf_counter() - started, 2), "peak_mb": round(peak_kb / 1024), "status": status}
        )
    )


def measure(rows: int, kind: str, chunk_rows: int, folder: Path, url: str | None = None) -> dict:
    """Peak memory (MB) and seconds of one load of a generated ``rows``-row file, in a fresh process."""
    path = write_extract(folder / f"extract-{kind}-{rows}.csv", rows, kind)
    url = url or f"duckdb:///{folder / f'warehouse-{kind}-{rows}.duckdb'}"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    _child(["--child", "init", "--warehouse", url], env)
    figures = _child(["--child", "load", "--warehouse", url, "--file", str(path), "--chunk-rows", str(chunk_rows)], env)
    return {
        "rows": rows,
        "kind": kind,
        "chunk_rows": chunk_rows,
        "file_mb": round(path.stat().st_size / 2**20),
    } | figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--kind", choices=["good", "junk"], default="good")
    parser.add_argument("--chunk-rows", type=int, default=20_000)  # vrp.pipeline.load.DEFAULT_CHUNK_ROWS
    parser.add_argument("--warehouse", default=None)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--child", choices=["init", "load"], default=None)
    parser.add_argument("--file", default=None)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.warehouse, args.file, args.chunk_rows)
        return
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        print(json.dumps(measure(args.rows, args.kind, args.chunk_rows, args.keep, args.warehouse)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(measure(args.rows, args.kind, args.chunk_rows, Path(tmp), args.warehouse)))


if __name__ == "__main__":
    main()
