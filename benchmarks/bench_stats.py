"""Benchmark for the statistics package: gi_star (999 permutations) on the 1,231 HIPS LSOAs,
queen neighbours, and xmr on 120 points. Prints a table to paste into docs. Not a test.

Usage: PYTHONPATH=src python benchmarks/bench_stats.py [--reference-dir DIR] [--repeat N]
The LSOA polygons are read from DIR/geography/lsoa21_hips_simplified.geojson, DIR defaulting to
$VRP_REFERENCE_DIR or ../shared/data beside the repository. Counts are synthetic (the geometry is real).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from shapely.geometry import shape

from vrp.geo.neighbours import queen_neighbours
from vrp.stats import concentration, gi_star, rate_ci, xmr

REPO = Path(__file__).resolve().parents[1]


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()  # warm-up
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), max(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_dir = os.environ.get("VRP_REFERENCE_DIR", str(REPO / ".." / "shared" / "data"))
    parser.add_argument("--reference-dir", default=default_dir)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    path = Path(args.reference_dir) / "geography" / "lsoa21_hips_simplified.geojson"
    geoms = [shape(f["geometry"]) for f in json.loads(path.read_text())["features"]]
    rng = np.random.default_rng(2024)
    counts = rng.poisson(rng.gamma(2.0, 3.0, len(geoms))).astype(float)
    neighbours = queen_neighbours(geoms)
    series = rng.poisson(300, 120).astype(float)

    rows = [
        (f"queen_neighbours, {len(geoms)} LSOA polygons", lambda: queen_neighbours(geoms)),
        (
            f"gi_star, {len(geoms)} LSOAs, 999 permutations",
            lambda: gi_star(counts, neighbours, 999, seed=1),
        ),
        (
            f"gi_star, {len(geoms)} LSOAs, 9,999 permutations",
            lambda: gi_star(counts, neighbours, 9999, seed=1),
        ),
        ("xmr, 120 points", lambda: xmr(series, polarity="lower_is_better", target=280)),
        (f"rate_ci, {len(geoms)} areas", lambda: rate_ci(counts, np.full(len(geoms), 1600.0))),
        (f"concentration, {len(geoms)} areas", lambda: concentration(counts)),
    ]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}; median of {args.repeat} runs after a warm-up"
    )
    print("| operation | median (s) | max (s) |")
    print("| --- | ---: | ---: |")
    for label, fn in rows:
        med, worst = timed(fn, args.repeat)
        print(f"| {label} | {med:.4f} | {worst:.4f} |")


if __name__ == "__main__":
    main()
