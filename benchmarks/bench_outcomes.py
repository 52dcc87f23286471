"""Benchmark the outcome pages' callbacks (Overview, knife crime, hospital admissions, homicide, national).

Every callback that takes only the filter state is called the way the browser calls it (a POST to
/_dash-update-component through Flask's test client, so Dash's JSON encoding and gzip are included), for each of
the 14 districts and all of HIPS: cold (query cache cleared before each request) and warm (the same request
again). Prints p50/p95 in ms and response sizes; in-process, so no HTTP server or network time.

    python benchmarks/bench_outcomes.py --warehouse duckdb:///path/warehouse.duckdb [--repeat 3] [--out FILE]

The Hotspots page has its own, fuller benchmark with gunicorn and a browser (bench_pages.py).
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import time
from pathlib import Path

from calibrate import cpu_yardstick

from vrp.app import create_app
from vrp.settings import from_env

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


def bodies(client) -> list[tuple[str, str, dict]]:
    """(page, first output, request template) for every callback driven by the filter state alone."""
    out = []
    for dep in client.get("/_dash-dependencies").get_json():
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


def run(url: str, repeat: int) -> str:
    settings = from_env().with_(warehouse_url=url, cache_type="SimpleCache")
    app = create_app(settings)
    client = app.server.test_client()
    wh = app.server.config["VRP_WAREHOUSE"]
    cache = wh.cache.backend
    end = f"{wh.source_coverage()['police_records'][1]:%Y-%m}"
    y, m = int(end[:4]), int(end[5:7])
    start = f"{y - 1 if m < 12 else y}-{(m % 12) + 1:02d}"
    selections = [[d] for d in DISTRICTS] + [[]]
    rows = []
    templates = bodies(client)
    # Warm-up: boundaries, neighbours and first queries, not counted as cold.
    for _, _, body in templates:
        body["inputs"][0]["value"] = {
            "districts": [],
            "start": start,
            "end": end,
            "measure": "serious_violence",
            "age": "all",
        }
        client.post("/_dash-update-component", json=body, headers={"Accept-Encoding": "gzip"})
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
                cache.clear()
                for temperature in ("cold", "warm"):
                    t = time.perf_counter()
                    response = client.post("/_dash-update-component", json=body)
                    elapsed = (time.perf_counter() - t) * 1000
                    assert response.status_code in (200, 204), (output, response.status_code)
                    (hips if not sel else samples)[temperature].append(elapsed)
            raw = client.post("/_dash-update-component", json=body).get_data()
            samples["bytes"].append(len(raw))
            samples["gzip"].append(len(gzip.compress(raw)))
        rows.append(
            f"| {page} | {output} | {statistics.median(samples['cold']):.0f} / {pct(samples['cold'], 0.95):.0f}"
            f" | {statistics.median(samples['warm']):.0f} / {pct(samples['warm'], 0.95):.0f}"
            f" | {statistics.median(hips['cold']):.0f} | {statistics.median(hips['warm']):.0f}"
            f" | {max(samples['bytes']) / 1000:.1f} ({max(samples['gzip']) / 1000:.1f}) |"
        )
    wh.dispose()
    head = (
        "| page | callback (first output) | districts cold p50 / p95 | districts warm p50 / p95 | HIPS cold | "
        "HIPS warm | KB max (gzip) |\n|---|---|---:|---:|---:|---:|---:|"
    )
    return (
        f"Warehouse {url.split('?')[0].rsplit('/', 1)[-1]}, period {start} to {end}, {repeat} samples a "
        f"selection; {cpu_yardstick()}.\n\n{head}\n" + "\n".join(rows) + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True, help="warehouse URL (a built demo warehouse)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    text = run(args.warehouse, args.repeat)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
