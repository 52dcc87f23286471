"""Benchmark for the published cube (docs/METHODS.md#the-published-cube): builds the cube of an existing warehouse
in a transaction that is rolled back, and prints the CPU time of each family's protection (families run side by
side in threads: pipeline/cube.py), its hidden cells and programmes, then the whole build's wall time. --threads 1
protects one family at a time. Not a test.

Usage: PYTHONPATH=src python benchmarks/bench_cube.py --warehouse duckdb:///build/warehouse.duckdb [--dump FILE]
--dump writes every family's hidden cells and audited intervals to an .npz file, so that two versions of the code
can be compared for identical output (--compare FILE). The machine is shared: compare runs back to back.
"""

from __future__ import annotations

import argparse

import numpy as np

from vrp.cli_common import settings_for, write_engine
from vrp.data_access.measures import load_registry
from vrp.pipeline import cube as cube_mod


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--dump", help="write hidden cells and intervals to this .npz file")
    parser.add_argument("--compare", help="compare hidden cells and intervals with this .npz file")
    parser.add_argument("--threads", type=int, help="families protected at once (default: pipeline.cube.MAX_THREADS)")
    args = parser.parse_args()
    s = settings_for(args.warehouse)
    registry = load_registry(s.measures_file)
    outputs: dict[str, np.ndarray] = {}
    timings: list[tuple[str, float]] = []
    original = cube_mod._publish_family

    def timed_family(conn, protected, version, summary):
        before = dict(summary)
        original(conn, protected, version, summary)
        name = str(protected.cube.meta["measure_id"].iloc[0])
        timings.append((name, protected.cpu_seconds))
        print(
            f"{name:40s} {protected.cpu_seconds:7.2f} s cpu"
            f"  hidden {summary['hidden'] - before['hidden']:6d}  solves {summary['solves'] - before['solves']:6d}"
        )

    cube_mod._publish_family = timed_family
    if args.threads:
        cube_mod.MAX_THREADS = args.threads
    engine = write_engine(s)
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            summary = cube_mod.build_cube(conn, registry, s.public_min_count)
            audit = conn.exec_driver_sql(
                "select measure_id, area_level, area_code, age, period_type, period_start, value, lower, upper"
                " from pub_cube_audit order by 1, 2, 3, 4, 5, 6"
            ).fetchall()
            outputs["audit"] = np.array([tuple(str(v) for v in row) for row in audit], dtype=str)
        finally:
            trans.rollback()
    print(
        f"cube: {summary['cells']:,} cells, {summary['hidden']:,} hidden, {summary['pinned']} pinned,"
        f" {summary['solves']:,} programmes; {summary['seconds']} s wall,"
        f" {sum(t[1] for t in timings):.2f} s cpu in the families"
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
