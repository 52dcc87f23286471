"""Benchmark for the published cube (docs/METHODS.md#the-published-cube): builds the cube of an existing warehouse
family by family, in a transaction that is rolled back, and prints wall and CPU time per family with the cells,
hidden cells and pinned cells. Not a test.

Usage: PYTHONPATH=src python benchmarks/bench_cube.py --warehouse duckdb:///build/warehouse.duckdb [--dump FILE]
--dump writes every family's hidden cells and audited intervals to an .npz file, so that two versions of the code
can be compared for identical output (--compare FILE). The machine is shared: compare runs back to back.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from vrp.cli_common import settings_for, write_engine
from vrp.data_access.measures import load_registry
from vrp.pipeline import cube as cube_mod


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--dump", help="write hidden cells and intervals to this .npz file")
    parser.add_argument("--compare", help="compare hidden cells and intervals with this .npz file")
    args = parser.parse_args()
    s = settings_for(args.warehouse)
    registry = load_registry(s.measures_file)
    outputs: dict[str, np.ndarray] = {}
    timings: list[tuple[str, float, float]] = []
    original = cube_mod._publish_family

    def timed_family(conn, data, version, summary):
        wall, cpu = time.perf_counter(), time.process_time()
        before = dict(summary)
        original(conn, data, version, summary)
        name = data.measures[0].id
        timings.append((name, time.perf_counter() - wall, time.process_time() - cpu))
        print(
            f"{name:40s} {timings[-1][1]:7.2f} s wall {timings[-1][2]:7.2f} s cpu"
            f"  hidden {summary['hidden'] - before['hidden']:6d}  solves {summary['solves'] - before['solves']:6d}"
        )
        audit = conn.exec_driver_sql(
            "select measure_id, area_level, area_code, age, period_type, period_start, value, lower, upper"
            " from pub_cube_audit order by 1, 2, 3, 4, 5, 6"
        ).fetchall()
        outputs["audit"] = np.array([tuple(str(v) for v in row) for row in audit], dtype=str)

    cube_mod._publish_family = timed_family
    engine = write_engine(s)
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            summary = cube_mod.build_cube(conn, registry, s.public_min_count)
        finally:
            trans.rollback()
    print(
        f"cube: {summary['cells']:,} cells, {summary['hidden']:,} hidden, {summary['pinned']} pinned,"
        f" {summary['solves']:,} programmes; {summary['seconds']} s wall,"
        f" {sum(t[2] for t in timings):.2f} s cpu in the families"
    )
    if args.dump:
        np.savez_compressed(args.dump, audit=outputs.get("audit", np.zeros((0, 9), str)))
    if args.compare:
        other = np.load(args.compare)["audit"]
        mine = outputs.get("audit", np.zeros((0, 9), str))
        same = other.shape == mine.shape and (other == mine).all()
        print("audit identical to", args.compare if same else f"audit DIFFERS from {args.compare}")
        if not same:
            a, b = {tuple(r) for r in other}, {tuple(r) for r in mine}
            print(f"  only before: {len(a - b)}, only now: {len(b - a)}")


if __name__ == "__main__":
    main()
