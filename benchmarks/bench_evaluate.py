"""Benchmark for the evaluation of an intervention (issue #15): one evaluation cold (no cache: the query, the
caveats' queries and the fit), the minimum detectable effect, and the planted-effect simulation at full size.
Prints lines to paste into docs/PERFORMANCE.md. Not a test.

Usage: VRP_WAREHOUSE_URL=duckdb:///$PWD/build/warehouse.duckdb python benchmarks/bench_evaluate.py [--repeat N]
       [--series N]
Targets: an evaluation within 300 ms cold, the minimum detectable effect within 2 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import pandas as pd

from vrp import settings as settings_mod
from vrp.data_access import evaluation as ev
from vrp.data_access.queries import Warehouse
from vrp.stats.its import evaluate as fit


def timed(fn, repeat: int) -> tuple[float, float, float]:
    """First call (a cold process: imports, connection), then the median and worst of ``repeat`` more."""
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return first, statistics.median(runs), max(runs)


def planted(rng, drop: float, n: int = 72, t0: int = 48, base: float = 30.0, shape: float = 50.0) -> np.ndarray:
    """The tests' series (tests/stats/test_its.py): trend, season, mild overdispersion, a step of ``drop``."""
    t = np.arange(n)
    mu = base * np.exp(0.004 * t + 0.2 * np.sin(2 * np.pi * (t + 3) / 12)) * np.where(t >= t0, 1 - drop, 1.0)
    return rng.poisson(mu * rng.gamma(shape, 1 / shape, n)).astype(float)


def simulation(series: int, seed: int = 20241201) -> tuple[float, float, float]:
    """Coverage of a 25% drop by the 95% interval, and false positives at placebo starts 36, 42, 48."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2020-04-01", periods=72, freq="MS")
    covered = placebo = 0
    start = time.perf_counter()
    for _ in range(series):
        r = fit(planted(rng, 0.25), months, 48)
        covered += r.level.lower <= 0.75 <= r.level.upper
        quiet = planted(rng, 0.0)
        for s in (36, 42, 48):
            f = fit(quiet, months, s)
            placebo += not (f.level.lower <= 1 <= f.level.upper)
    return covered / series, placebo / (3 * series), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--series", type=int, default=1000, help="series in the planted-effect simulation")
    args = parser.parse_args()
    s = settings_mod.from_env().with_(cache_type="NullCache")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for audience in ("public", "partner"):
        wh = Warehouse(s.with_(audience=audience))
        q = ev.question(wh, "knife_enabled_sv", "E06000045", "2024-04", comparison="E06000044")
        first, median, worst = timed(lambda wh=wh, q=q: ev.evaluate(wh, q), args.repeat)
        print(
            f"evaluation ({audience}, Southampton against Portsmouth, 66 months, no cache): first {first * 1000:.0f} "
            f"ms, then median {median * 1000:.0f} ms, worst {worst * 1000:.0f} ms (target 300 ms)"
        )
        single = ev.question(wh, "knife_enabled_sv", "E06000045", "2024-04")
        first, median, worst = timed(lambda wh=wh, q=single: ev.plan(wh, q, 12), args.repeat)
        print(
            f"minimum detectable effect ({audience}, 36 months before, 12 after, 5,000 simulated series): first "
            f"{first:.2f} s, then median {median:.2f} s, worst {worst:.2f} s (target 2 s)"
        )
        wh.dispose()
    coverage, false_pos, took = simulation(args.series)
    print(
        f"planted effect, {args.series} series of 72 months: a 25% drop inside the 95% CI in {coverage:.1%}; "
        f"placebo starts (3 a series) significant in {false_pos:.1%}; {took:.1f} s"
    )
    coverage, false_pos, took = simulation(200, seed=7)
    print(f"the test's 200 series (seed 7): coverage {coverage:.1%}, placebo false positives {false_pos:.1%}")


if __name__ == "__main__":
    main()
