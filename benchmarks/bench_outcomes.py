"""Benchmark the outcome pages' callbacks (Overview, knife crime, hospital admissions, homicide, national).

Every callback that takes only the filter state is called the way the browser calls it (a POST to
/_dash-update-component), for each of the 14 districts and all of HIPS: cold (the cache cleared before each
request: query results and whole views) and warm (the same request again). Prints p50/p95 in ms and response sizes.
By default in-process through Flask's test client (Dash's JSON encoding included, no HTTP); with --serve under
gunicorn with 2 workers and the FileSystemCache, over HTTP on 127.0.0.1, as `make run` serves the app.

    python benchmarks/bench_outcomes.py --warehouse duckdb:///path/warehouse.duckdb [--serve] [--repeat 3] [--out F]

The Hotspots page has its own, fuller benchmark with a browser (bench_pages.py).
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import requests
from calibrate import cpu_yardstick

from vrp.app import create_app
from vrp.data_access.queries import Warehouse
from vrp.settings import from_env

REPO = Path(__file__).resolve().parents[1]

DISTRICTS = [
    "E06000044",
    "E06000045",
    "E06000046",
    "E07000084",
    "E07000085",
    "E07000086",
    "E07000087",
    "E07000088",
    "E07000089",
    "E07000090",
    "E07000091",
    "E07000092",
    "E07000093",
    "E07000094",
]
PAGES = {
    "home-": "Overview",
    "tile-slot-": "Overview",
    "knife-": "Knife crime",
    "admissions-": "Hospital admissions",
    "homicide-": "Homicide",
    "national-": "National",
}


def page_of(output: str) -> str | None:
    first = output.strip(".").split("...")[0]
    return next((name for prefix, name in PAGES.items() if first.startswith(prefix)), None)


def bodies(dependencies: list[dict]) -> list[tuple[str, str, dict]]:
    """(page, first output, request template) for every callback driven by the filter state alone."""
    out = []
    for dep in dependencies:
        ids = [i["id"] + "." + i["property"] for i in dep["inputs"]]
        page = page_of(dep["output"])
        if ids != ["filter-state.data"] or page is None or dep.get("state"):
            continue
        outputs = [
            {"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in dep["output"].strip(".").split("...")
        ]
        body = {
            "output": dep["output"],
            "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": [{"id": "filter-state", "property": "data", "value": None}],
            "changedPropIds": ["filter-state.data"],
            "state": [],
        }
        out.append((page, dep["output"].strip(".").split("...")[0], body))
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


class InProcess:
    """The app in this process, called through Flask's test client (no HTTP server), with an in-process cache."""

    def __init__(self, url: str):
        self.app = create_app(from_env().with_(warehouse_url=url, cache_type="SimpleCache", rate_limits=False))
        self.client = self.app.server.test_client()
        self.wh = self.app.server.config["VRP_WAREHOUSE"]
        self.note = "in-process (Flask test client, SimpleCache)"

    def dependencies(self) -> list[dict]:
        return self.client.get("/_dash-dependencies").get_json()

    def post(self, body: dict) -> tuple[int, bytes]:
        response = self.client.post("/_dash-update-component", json=body)
        return response.status_code, response.get_data()

    def clear(self) -> None:
        self.wh.cache.backend.clear()

    def close(self) -> None:
        self.wh.dispose()


class Served:
    """The app as `make run` serves it: gunicorn with 2 workers and the FileSystemCache, over HTTP on 127.0.0.1."""

    def __init__(self, url: str):
        from bench_pages import clear_cache, free_port, gunicorn

        self.build_dir = Path(tempfile.mkdtemp(prefix="outcomes-", dir=REPO / "build"))
        self._server = gunicorn(url, self.build_dir, free_port())
        self.base = self._server.__enter__()
        self._clear = clear_cache
        self.session = requests.Session()
        self.wh = Warehouse(from_env().with_(warehouse_url=url, build_dir=self.build_dir))
        self.note = "gunicorn, 2 workers, FileSystemCache, HTTP on 127.0.0.1 (client wall time)"

    def dependencies(self) -> list[dict]:
        return self.session.get(self.base + "/_dash-dependencies", timeout=30).json()

    def post(self, body: dict) -> tuple[int, bytes]:
        response = self.session.post(self.base + "/_dash-update-component", json=body, timeout=120)
        return response.status_code, response.content

    def clear(self) -> None:
        self._clear(self.build_dir / "cache")

    def close(self) -> None:
        self.wh.dispose()
        self._server.__exit__(None, None, None)
        shutil.rmtree(self.build_dir, ignore_errors=True)


def run(url: str, repeat: int, served: bool = False) -> str:
    target = Served(url) if served else InProcess(url)
    try:
        return _measure(target, url, repeat)
    finally:
        target.close()


def _measure(target, url: str, repeat: int) -> str:
    wh = target.wh
    end = f"{wh.source_coverage()['police_records'][1]:%Y-%m}"
    y, m = int(end[:4]), int(end[5:7])
    start = f"{y - 1 if m < 12 else y}-{(m % 12) + 1:02d}"
    selections = [[d] for d in DISTRICTS] + [[]]
    rows = []
    templates = bodies(target.dependencies())
    # Warm-up: boundaries, neighbours and first queries, not counted as cold.
    for _, _, body in templates:
        body["inputs"][0]["value"] = {
            "districts": [],
            "start": start,
            "end": end,
            "measure": "serious_violence",
            "age": "all",
        }
        target.post(body)
    for page, output, body in templates:
        samples = {"cold": [], "warm": [], "bytes": [], "gzip": []}
        hips = {"cold": [], "warm": []}
        for sel in selections:
            body["inputs"][0]["value"] = {
                "districts": sel,
                "start": start,
                "end": end,
                "measure": "serious_violence",
                "age": "all",
            }
            for _ in range(repeat):
                target.clear()
                for temperature in ("cold", "warm"):
                    t = time.perf_counter()
                    status, _ = target.post(body)
                    elapsed = (time.perf_counter() - t) * 1000
                    assert status in (200, 204), (output, status)
                    (hips if not sel else samples)[temperature].append(elapsed)
            _, raw = target.post(body)
            samples["bytes"].append(len(raw))
            samples["gzip"].append(len(gzip.compress(raw)))
        rows.append(
            f"| {page} | {output} | {statistics.median(samples['cold']):.0f} / {pct(samples['cold'], 0.95):.0f}"
            f" | {statistics.median(samples['warm']):.0f} / {pct(samples['warm'], 0.95):.0f}"
            f" | {statistics.median(hips['cold']):.0f} | {statistics.median(hips['warm']):.0f}"
            f" | {max(samples['bytes']) / 1000:.1f} ({max(samples['gzip']) / 1000:.1f}) |"
        )
    head = (
        "| page | callback (first output) | districts cold p50 / p95 | districts warm p50 / p95 | HIPS cold | "
        "HIPS warm | KB max (gzip) |\n|---|---|---:|---:|---:|---:|---:|"
    )
    return (
        f"Warehouse {url.split('?')[0].rsplit('/', 1)[-1]}, {target.note}; period {start} to {end}, {repeat} "
        f"samples a selection; {cpu_yardstick()}.\n\n{head}\n" + "\n".join(rows) + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True, help="warehouse URL (a built demo warehouse)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--serve", action="store_true", help="under gunicorn over HTTP, as make run serves it")
    args = parser.parse_args()
    text = run(args.warehouse, args.repeat, served=args.serve)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
