"""Benchmark the read-only API under gunicorn, as `make run` serves it (2 workers, FileSystemCache, HTTP on 127.0.0.1).

For every measure the cube publishes, each of its period types, and each area (all of HIPS, then each district):
GET /api/v1/data cold (the cache cleared before the request) and warm (the same request again). Prints p50/p95 in ms.

    python benchmarks/bench_api.py --warehouse duckdb:///path/warehouse.duckdb [--limit N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import requests
from bench_outcomes import DISTRICTS
from bench_pages import clear_cache, free_port, gunicorn
from calibrate import cpu_yardstick

REPO = Path(__file__).resolve().parents[1]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def requests_to_time(base: str, session: requests.Session) -> list[str]:
    """One query per measure, period type and area: from what /api/v1/measures says is published."""
    queries = []
    for measure in session.get(base + "/api/v1/measures", timeout=30).json():
        areas = ["HIPS"] if measure["source"] == "ons_knife" else ["HIPS", *DISTRICTS]
        for period in (p for p in measure.get("periods", []) if p != "range"):
            queries += [f"/api/v1/data?measure={measure['id']}&area={area}&period={period}" for area in areas]
    return queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--limit", type=int, default=0, help="time only the first N queries")
    args = parser.parse_args()
    build_dir = Path(tempfile.mkdtemp(prefix="api-", dir=REPO / "build"))
    yardstick = cpu_yardstick()
    with gunicorn(args.warehouse, build_dir, free_port()) as base:
        session = requests.Session()
        queries = requests_to_time(base, session)
        if args.limit:
            queries = queries[: args.limit]
        cold, warm, statuses = [], [], set()
        for query in queries:
            clear_cache(build_dir / "cache")
            started = time.perf_counter()
            response = session.get(base + query, timeout=60)
            cold.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            session.get(base + query, timeout=60)
            warm.append((time.perf_counter() - started) * 1000)
            statuses.add(response.status_code)
    print(f"{yardstick}; {len(queries)} queries; statuses {sorted(statuses)}")
    for name, values in (("cold", cold), ("warm", warm)):
        print(f"{name}: p50 {statistics.median(values):.1f} ms, p95 {p95(values):.1f} ms, max {max(values):.1f} ms")


if __name__ == "__main__":
    main()
