"""Benchmark for the briefing pack (issue #13.4): one pack cold (a fresh process: the app, the page views, the
kaleido render server's start and every chart drawn), then warm packs (views cached, the renderer running), for
PowerPoint and PDF. Prints lines to paste into docs/PERFORMANCE.md. Not a test.

Usage: VRP_WAREHOUSE_URL=duckdb:///$PWD/build/warehouse.duckdb python benchmarks/bench_briefing.py [--repeat N]
       [--district CODE|HIPS] [--audience public|partner]
Target: a pack within 15 s cold on this machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

from vrp import settings as settings_mod


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--district", default="E06000045")
    parser.add_argument("--audience", choices=["public", "partner"], default="public")
    args = parser.parse_args()

    start = time.perf_counter()
    from vrp.app import create_app
    from vrp.briefing import make

    settings = settings_mod.from_env().with_(cache_type="SimpleCache", audience=args.audience)
    app = create_app(settings)
    started = time.perf_counter() - start
    rows = []
    with app.server.test_request_context("/"):
        for fmt in ("pptx", "pdf"):
            runs = []
            for _ in range(1 + args.repeat):
                t0 = time.perf_counter()
                pack, body = make.build(args.district, None, None, fmt)
                runs.append(time.perf_counter() - t0)
            rows.append((fmt, runs, len(body), len(pack.slides) + 1))
    cold = started + rows[0][1][0]
    print(f"briefing pack, {args.district}, {args.audience} audience; {platform.node()}, {os.cpu_count()} cores")
    print(f"- app start {started:.1f} s; cold pack (app start + first PowerPoint) {cold:.1f} s (target 15 s)")
    for fmt, runs, size, slides in rows:
        warm = runs[1:] or runs
        print(
            f"- {fmt}: first {runs[0]:.1f} s, warm median {statistics.median(warm):.1f} s, worst {max(warm):.1f} s; "
            f"{slides} slides, {size / 1e6:.1f} MB"
        )


if __name__ == "__main__":
    main()
