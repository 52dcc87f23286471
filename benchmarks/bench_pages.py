"""Page benchmark for the Hotspots page: the app under gunicorn (2 workers), its two main callbacks timed from a
client on localhost, cold and warm, per district and for all of HIPS; a naive pandas baseline; headless chromium.
Prints markdown tables to paste into docs/PERFORMANCE.md. Not a test.

Usage:
  python benchmarks/bench_pages.py --scale 1 --backend duckdb
  python benchmarks/bench_pages.py --all --out build/bench/pages.md
Options: --repeat N (cold and warm samples per selection and callback, default 5), --browser-repeat N (default 3),
--no-browser, --no-naive, --rebuild (DuckDB warehouses are reused from --work-dir otherwise), --pg-url URL
(default $VRP_TEST_PG_URL or postgresql+psycopg://postgres@127.0.0.1:5432/test: a schema is created there for the
run and dropped after it), --pg-analyze (ANALYZE that schema after the build), --work-dir DIR (default build/bench,
never committed), --out FILE (also write the markdown there).

What is measured:
- update_map (map figure, summary, LSOA table, LSOA options) with meta state null: a full figure; with the previous
  meta (same mode and districts): the Patch path, i.e. what a filter change within the same districts sends.
- update_lower (top places, concentration curve, hour-by-weekday heat map).
- cold: the FileSystemCache directory emptied (every file deleted) before each request; warm: the same request again
  with the cache filled. Before any of it, each worker answers a few requests, so process start-up (boundaries,
  first connection) is reported on its own and not counted as cold.
- time: wall time of the POST to /_dash-update-component seen by a client on 127.0.0.1 (includes HTTP and JSON
  encoding; the app runs on the same 2 cores as the client). bytes: the response body; gzip: the body compressed by
  the client at level 6 (the app does not compress callback responses itself).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import requests
import sqlalchemy as sa
from calibrate import cpu_yardstick

from vrp.data_access import places
from vrp.data_access.engine import make_engine
from vrp.data_access.filter_state import resolve
from vrp.data_access.queries import Warehouse
from vrp.settings import from_env

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
MEASURE = "serious_violence"
MAP_OUTPUT = "..hotspots-map.figure..."
LOWER_OUTPUT = "..hotspots-top.children..."
KINDS = ("map, full figure", "map, Patch", "lower")
HIPS = "all of HIPS"
BROWSER_DISTRICT = "E06000045"  # Southampton
REQUEST_TIMEOUT = 120
TARGET_WARM_P50 = 0.020
TARGET_COLD_P95 = {1: 0.250, 10: 0.500}
TARGET_PATCH_BYTES = 100_000
TARGET_BROWSER = 3.0
CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--window-size=1400,1000",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


# ---- small helpers ----------------------------------------------------------------------------------------------


def pct(values, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def ms(seconds: float) -> str:
    return "-" if seconds != seconds else f"{seconds * 1000:,.0f}" if seconds >= 0.1 else f"{seconds * 1000:,.1f}"


def kb(n: float) -> str:
    return "-" if n != n else f"{n / 1000:,.1f}"


def loads(seconds: list[float]) -> str:
    """Median (max) of browser loads in seconds; loads that never finished are counted, not averaged."""
    done = [x for x in seconds if x == x]
    text = f"{statistics.median(done):.2f} (max {max(done):.2f})" if done else "-"
    return text + (f", {len(seconds) - len(done)} not in 30 s" if len(done) < len(seconds) else "")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def local_only(url: str) -> None:
    host = sa.engine.make_url(url).host
    if host not in (HOST, "localhost"):
        sys.exit(f"refusing a non-local database host {host!r}: this benchmark only talks to {HOST}")


def vrp_command() -> str:
    exe = Path(sys.executable).parent / "vrp"
    return str(exe) if exe.exists() else "vrp"


@dataclass
class Combo:
    backend: str  # duckdb | postgres
    scale: int

    @property
    def name(self) -> str:
        return f"{'DuckDB' if self.backend == 'duckdb' else 'PostgreSQL'}, scale {self.scale}"


# ---- warehouses -------------------------------------------------------------------------------------------------


def build_demo(url: str, scale: int, build_dir: Path) -> float:
    build_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "VRP_BUILD_DIR": str(build_dir)}
    start = time.perf_counter()
    with open(build_dir / "build-demo.log", "w") as log:
        subprocess.run(
            [vrp_command(), "build-demo", "--quiet", "--scale", str(scale), "--warehouse", url],
            env=env,
            check=True,
            timeout=1800,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return time.perf_counter() - start


@contextlib.contextmanager
def warehouse_for(combo: Combo, work_dir: Path, pg_url: str, rebuild: bool, analyze: bool = False):
    """Yields (url, note): a DuckDB file kept under work_dir, or a fresh PostgreSQL schema dropped afterwards."""
    if combo.backend == "duckdb":
        folder = work_dir / f"duckdb-s{combo.scale}"
        path = folder / "warehouse.duckdb"
        url = f"duckdb:///{path.resolve()}"
        if rebuild or not path.exists():
            path.unlink(missing_ok=True)
            seconds = build_demo(url, combo.scale, folder)
            yield url, f"built in {seconds:.1f} s"
        else:
            yield url, "reused from an earlier run"
        return
    local_only(pg_url)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in pg_url else "?"
        url = f"{pg_url}{sep}options=-csearch_path%3D{schema}"
        seconds = build_demo(url, combo.scale, work_dir / f"postgres-s{combo.scale}")
        note = f"built in {seconds:.1f} s (schema {schema}, dropped afterwards)"
        if analyze:
            # `vrp build-demo` leaves the planner without statistics where autovacuum is off or has not run yet.
            engine = sa.create_engine(url)
            with engine.begin() as conn:
                conn.execute(sa.text("ANALYZE"))
            engine.dispose()
            note += ", then ANALYZE"
        yield url, note
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


# ---- the server -------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def gunicorn(url: str, build_dir: Path, port: int):
    """The app as `make run` serves it, in its own process group, killed on the way out whatever happens."""
    build_dir.mkdir(parents=True, exist_ok=True)
    # Rate limits off: the benchmark is one client sending far more than any visitor would.
    env = {
        **os.environ,
        "VRP_WAREHOUSE_URL": url,
        "VRP_BUILD_DIR": str(build_dir),
        "VRP_CACHE_TYPE": "FileSystemCache",
        "VRP_RATE_LIMITS": "off",
    }
    env.pop("VRP_CACHE_URL", None)
    cmd = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--config",
        "gunicorn.conf.py",
        "--no-control-socket",
        "--workers",
        "2",
        "--bind",
        f"{HOST}:{port}",
        "--timeout",
        "120",
        "app:server",
    ]
    with open(build_dir / "gunicorn.log", "w") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {proc.returncode}: see {build_dir / 'gunicorn.log'}")
            try:
                if requests.get(f"http://{HOST}:{port}/_dash-dependencies", timeout=5).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer within 90 s")
            time.sleep(0.2)
        yield f"http://{HOST}:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def clear_cache(cache_dir: Path) -> None:
    """Cold: delete every file of the FileSystemCache (entries and its count file), shared by both workers."""
    if cache_dir.exists():
        for f in cache_dir.iterdir():
            if f.is_file():
                f.unlink(missing_ok=True)


@dataclass
class Sample:
    seconds: float
    size: int
    gz: int
    parts: dict = field(default_factory=dict)  # output id -> bytes of its JSON, when asked for


@dataclass
class Bodies:
    """POST bodies built from the running app's /_dash-dependencies."""

    map_dep: dict
    lower_dep: dict

    @classmethod
    def fetch(cls, base: str) -> Bodies:
        deps = requests.get(base + "/_dash-dependencies", timeout=30).json()
        find = {d["output"]: d for d in deps}
        map_dep = next(d for o, d in find.items() if o.startswith(MAP_OUTPUT))
        lower_dep = next(d for o, d in find.items() if o.startswith(LOWER_OUTPUT))
        return cls(map_dep, lower_dep)

    @staticmethod
    def _body(dep: dict, values: dict) -> dict:
        outputs = [
            dict(zip(("id", "property"), o.split("."), strict=True)) for o in dep["output"].strip(".").split("...")
        ]

        def items(kind):
            unknown = [f"{i['id']}.{i['property']}" for i in dep[kind]] - values.keys()
            if unknown:
                raise SystemExit(f"the callback has {kind} this benchmark does not know: {sorted(unknown)}")
            return [{**i, "value": values[f"{i['id']}.{i['property']}"]} for i in dep[kind]]

        return {
            "output": dep["output"],
            "outputs": outputs,
            "inputs": items("inputs"),
            "state": items("state"),
            "changedPropIds": ["filter-state.data"],
        }

    def request(self, kind: str, state: dict, meta: dict | None = None) -> dict:
        """meta: the hotspots-map-meta the previous full figure returned (the Patch path), else None."""
        values = {
            "filter-state.data": state,
            "hotspots-mode.value": "count",
            "hotspots-points.value": [],
            "hotspots-map-meta.data": meta if kind == "map, Patch" else None,
        }
        return self._body(self.lower_dep if kind == "lower" else self.map_dep, values)


class Client:
    def __init__(self, base: str):
        self.base = base
        self.session = requests.Session()
        self.errors: list[str] = []

    def response(self, body: dict) -> dict:
        r = self.session.post(self.base + "/_dash-update-component", json=body, timeout=REQUEST_TIMEOUT)
        r.raise_for_status()
        return r.json()["response"]

    def post(self, body: dict, session: requests.Session | None = None, parts: bool = False) -> Sample:
        start = time.perf_counter()
        r = (session or self.session).post(
            self.base + "/_dash-update-component",
            json=body,
            headers={"Accept-Encoding": "identity"},
            timeout=REQUEST_TIMEOUT,
        )
        seconds = time.perf_counter() - start
        content = r.content
        # A refused or failed callback answers 200 with a polite Alert in place of the figure: count it as an error.
        if r.status_code != 200 or b'"type":"Alert"' in content:
            self.errors.append(f"{r.status_code}: {content[:300]!r}")
        sample = Sample(seconds, len(content), len(gzip.compress(content, 6)))
        if parts and r.status_code == 200:
            sample.parts = {
                k: len(json.dumps(v, separators=(",", ":"))) for k, v in r.json().get("response", {}).items()
            }
        return sample


# ---- phases -----------------------------------------------------------------------------------------------------


@dataclass
class Results:
    combo: Combo
    warehouse_note: str = ""
    rows: int = 0
    period: str = ""
    samples: dict = field(default_factory=lambda: defaultdict(list))  # (kind, selection, cold|warm) -> [Sample]
    startup: list = field(default_factory=list)  # (label, seconds)
    geo: list = field(default_factory=list)  # (layer, first seconds, bytes, gzip bytes)
    plotlyjs: str = ""  # which plotly.js the pages loaded, and its size
    naive: dict = field(default_factory=dict)
    browser: dict = field(default_factory=lambda: defaultdict(list))  # (selection, cold|warm) -> [(drawn, idle)]
    errors: list = field(default_factory=list)
    repeat: int = 0
    load: list = field(default_factory=list)  # 1-minute load average before and after the requests


def warm_up(client: Client, bodies: Bodies, hips_state: dict, results: Results) -> None:
    """Both workers answer the map and lower callbacks a few times; the first round is start-up plus a cold
    cache, reported on its own. Two requests at once reach both sync workers, since a busy worker does not accept."""
    for round_no in range(1, 4):
        for kind in ("map, full figure", "lower"):
            body = bodies.request(kind, hips_state)
            out: list[Sample] = []

            def go(body=body, out=out):
                with requests.Session() as s:
                    out.append(client.post(body, s))

            threads = [threading.Thread(target=go) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(REQUEST_TIMEOUT)
            if round_no in (1, 3):
                results.startup.append((f"round {round_no}, {kind}, 2 requests at once", max(s.seconds for s in out)))


def fetch_geo(base: str, results: Results) -> None:
    for layer in ("lsoa21", "districts"):
        start = time.perf_counter()
        plain = requests.get(f"{base}/geo/{layer}.geojson", headers={"Accept-Encoding": "identity"}, timeout=120)
        seconds = time.perf_counter() - start
        gz = requests.get(f"{base}/geo/{layer}.geojson", headers={"Accept-Encoding": "gzip"}, timeout=120, stream=True)
        gz_size = len(gz.raw.read(decode_content=False))
        results.geo.append((layer, seconds, len(plain.content), gz_size))
    # Which plotly.js the pages load: the partial bundle (plotlyjs/) or, without it, Dash's full one.
    js = requests.get(
        f"{base}/_dash-component-suites/plotly/package_data/plotly.min.js",
        timeout=120,
        headers={"Accept-Encoding": "gzip"},
        stream=True,
    )
    sent = len(js.raw.read(decode_content=False))
    js = requests.get(f"{base}/_dash-component-suites/plotly/package_data/plotly.min.js", timeout=120)
    kind = "the partial bundle" if b"partial bundle for the VRP dashboard" in js.content[:300] else "Dash's full bundle"
    results.plotlyjs = f"{kind}, {kb(len(js.content))} KB ({kb(sent)} KB as sent)"


def measure_callbacks(
    client: Client, bodies: Bodies, states: dict, cache_dir: Path, results: Results, repeat: int
) -> None:
    """repeat x (15 selections x 3 callbacks x (1 cold + 1 warm)) requests, interleaved so drift spreads evenly.
    The Patch requests carry the meta that the full figure for the same selection returned."""
    metas = {
        sel: client.response(bodies.request("map, full figure", state))["hotspots-map-meta"]["data"]
        for sel, state in states.items()
    }
    for _ in range(repeat):
        for selection, state in states.items():
            for kind in KINDS:
                body = bodies.request(kind, state, metas[selection])
                clear_cache(cache_dir)
                results.samples[(kind, selection, "cold")].append(client.post(body))
                results.samples[(kind, selection, "warm")].append(client.post(body, parts=True))


def lsoa_counts_naive(frame: pd.DataFrame, codes_by_clause: list[dict], districts, start, end) -> pd.Series:
    """The naive way: filter the whole fact table in pandas, then count per LSOA."""
    rows = frame["recorded_month"].between(pd.Timestamp(start), pd.Timestamp(end))
    if districts:
        rows &= frame["district_code"].isin(districts)
    wanted = np.zeros(len(frame), dtype=bool)
    for clause in codes_by_clause:
        part = frame["ho_offence_code"].isin(clause["codes"]).to_numpy()
        if clause.get("knife") is not None:
            part = part & (frame["knife_flag"] == clause["knife"]).to_numpy()
        wanted |= part
    return frame.loc[rows.to_numpy() & wanted].groupby("lsoa21_code").size()


def naive_baseline(url: str, states: dict, wh: Warehouse, repeat: int, results: Results) -> None:
    measure = wh.registry.get(MEASURE)
    clauses = []
    for clause in measure.include:
        unknown = set(clause) - {"offence_codes", "knife"}
        if unknown:
            raise SystemExit(f"the naive baseline does not know the clause keys {unknown}")
        clauses.append({"codes": [str(c) for c in clause["offence_codes"]], "knife": clause.get("knife")})
    engine = make_engine(url, read_only=True)
    proc = psutil.Process()
    rss_before = proc.memory_info().rss
    start = time.perf_counter()
    with engine.connect() as conn:
        frame = pd.read_sql(sa.text("SELECT * FROM fact_police_records"), conn)
    frame["recorded_month"] = pd.to_datetime(frame["recorded_month"])
    load = time.perf_counter() - start
    rss_after = proc.memory_info().rss
    engine.dispose()

    naive, mart, agree = [], [], True
    for _ in range(repeat):
        for state in states.values():
            f = wh.check(MEASURE, state["districts"], state["start"], state["end"], state["age"])
            t0 = time.perf_counter()
            counts = lsoa_counts_naive(frame, clauses, f.districts, f.start, f.end)
            naive.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            raw = places._lsoa_raw(wh, f)  # the app's own query on the marts, uncached
            mart.append(time.perf_counter() - t0)
            agree &= int(counts.sum()) == int(raw["count"].sum())
    results.naive = {
        "rows": len(frame),
        "load": load,
        "frame_bytes": int(frame.memory_usage(deep=True).sum()),
        "rss": rss_after - rss_before,
        "naive": naive,
        "mart": mart,
        "agree": agree,
    }


BROWSER_WAIT = """
const done = arguments[arguments.length - 1];
const deadline = performance.now() + arguments[0];
let drawn = null;
let lastError = null;
function poll() {
  try {
    const gd = document.querySelector('#hotspots-map .js-plotly-plot');
    const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
    const map = sub && sub.map;
    const style = map && map.isStyleLoaded() && map.getStyle();
    if (style && document.querySelector('#hotspots-map .maplibregl-canvas')) {
      const fills = style.layers.map(l => l.id)
        .filter(id => id.startsWith('plotly-trace-layer') && id.endsWith('-fill'));
      if (drawn === null && fills.length && map.queryRenderedFeatures({layers: fills}).length > 0) {
        drawn = performance.now();
      }
      if (drawn !== null && map.loaded() && map.areTilesLoaded()) {
        return done({drawn: drawn, idle: performance.now(), error: null});
      }
    }
  } catch (e) {
    lastError = String(e);  // the map is being built or replaced: look again
  }
  if (performance.now() > deadline) return done({drawn: drawn, idle: null, error: lastError});
  setTimeout(poll, 10);
}
poll();
"""


@contextlib.contextmanager
def chrome():
    """A fresh headless chromium (new profile, so no HTTP cache); it and its children are gone afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("VRP_CHROMIUM", "/usr/bin/chromium")
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(
        service=Service(os.environ.get("VRP_CHROMEDRIVER", "/usr/bin/chromedriver")), options=options
    )
    started = psutil.Process(driver.service.process.pid)
    try:
        driver.set_page_load_timeout(60)
        driver.set_script_timeout(60)
        yield driver
    finally:
        ours = [started, *started.children(recursive=True)]
        with contextlib.suppress(Exception):
            driver.quit()
        for proc in ours:  # only what this driver started, by pid
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()


def measure_browser(base: str, cache_dir: Path, districts: list[str], repeat: int, results: Results) -> None:
    """Time from navigation start (performance.now()) until the map's LSOA polygons are rendered ("drawn") and
    until maplibre has finished loading ("idle"). Cold: server cache emptied and a new browser profile (no HTTP
    cache); warm: the same page opened again in the same browser."""
    from selenium.common.exceptions import WebDriverException

    one = BROWSER_DISTRICT if BROWSER_DISTRICT in districts else districts[0]
    pages = {one: f"/hotspots?district={one}", HIPS: "/hotspots"}
    for _ in range(repeat):
        for selection, path in pages.items():
            clear_cache(cache_dir)
            with chrome() as driver:
                for temperature in ("cold", "warm"):
                    driver.get(base + path)
                    try:
                        got = driver.execute_async_script(BROWSER_WAIT, 30000)
                    except WebDriverException as exc:
                        got = {"drawn": None, "idle": None, "error": exc.msg}
                    if got["idle"] is None:
                        results.errors.append(f"browser, {path}, {temperature}: not drawn in 30 s ({got['error']})")
                    drawn = got["drawn"] / 1000 if got["drawn"] is not None else float("nan")
                    idle = got["idle"] / 1000 if got["idle"] is not None else float("nan")
                    results.browser[(selection, temperature)].append((drawn, idle))


# ---- one combination --------------------------------------------------------------------------------------------


def run_combo(combo: Combo, args) -> Results:
    results = Results(combo, repeat=args.repeat)
    work_dir = Path(args.work_dir).resolve()
    with warehouse_for(combo, work_dir, args.pg_url, args.rebuild, args.pg_analyze) as (url, note):
        results.warehouse_note = note
        run_dir = Path(tempfile.mkdtemp(prefix=f"run-{combo.backend}-s{combo.scale}-", dir=work_dir))
        wh = Warehouse(from_env().with_(warehouse_url=url, build_dir=run_dir))
        try:
            districts = sorted(wh.district_codes)
            states = {d: resolve(wh, districts=[d], measure=MEASURE, period_level="lsoa").as_dict() for d in districts}
            states[HIPS] = resolve(wh, measure=MEASURE, period_level="lsoa").as_dict()
            results.period = f"{states[HIPS]['start']} to {states[HIPS]['end']}"
            raw = make_engine(url, read_only=True)  # the public warehouse may not count records
            try:
                with raw.connect() as conn:
                    results.rows = conn.execute(sa.text("SELECT count(*) FROM fact_police_records")).scalar_one()
            finally:
                raw.dispose()
            if not args.no_naive:
                print(f"[{combo.name}] naive baseline", file=sys.stderr)
                naive_baseline(url, states, wh, args.repeat, results)
        finally:
            wh.dispose()

        cache_dir = run_dir / "cache"
        with gunicorn(url, run_dir, free_port()) as base:
            client = Client(base)
            bodies = Bodies.fetch(base)
            print(f"[{combo.name}] warm-up and geometry", file=sys.stderr)
            fetch_geo(base, results)
            warm_up(client, bodies, states[HIPS], results)
            client.errors.clear()
            print(f"[{combo.name}] callbacks: {args.repeat * len(states) * len(KINDS) * 2} requests", file=sys.stderr)
            results.load.append(os.getloadavg()[0])
            measure_callbacks(client, bodies, states, cache_dir, results, args.repeat)
            results.load.append(os.getloadavg()[0])
            if not args.no_browser:
                print(f"[{combo.name}] browser", file=sys.stderr)
                measure_browser(base, cache_dir, districts, args.browser_repeat, results)
            results.errors += client.errors
    return results


# ---- reporting --------------------------------------------------------------------------------------------------


def pooled(results: Results, kind: str, temperature: str, hips: bool) -> list[Sample]:
    return [
        s
        for (k, sel, t), v in results.samples.items()
        if k == kind and t == temperature and (sel == HIPS) == hips
        for s in v
    ]


def patch_parts(r: Results) -> list[tuple[str, dict, int]]:
    district = [
        s for (k, sel, t), v in r.samples.items() if k == "map, Patch" and t == "warm" and sel != HIPS for s in v
    ]
    biggest = max(district, key=lambda s: s.size)
    chosen = [next(sel for (k, sel, t), v in r.samples.items() if k == "map, Patch" and biggest in v), HIPS]
    return [
        (sel, r.samples[("map, Patch", sel, "warm")][0].parts, r.samples[("map, Patch", sel, "warm")][0].size)
        for sel in chosen
    ]


def verdicts(r: Results) -> list[tuple[str, bool | None, str]]:
    out = []
    warm = [s.seconds for k in KINDS[:2] for h in (False, True) for s in pooled(r, k, "warm", h)]
    worst_warm_p50 = max(
        statistics.median([s.seconds for s in pooled(r, k, "warm", h)]) for k in KINDS[:2] for h in (False, True)
    )
    out.append(
        (
            f"warm p50 < {TARGET_WARM_P50 * 1000:.0f} ms (update_map)",
            worst_warm_p50 < TARGET_WARM_P50,
            f"worst p50 {ms(worst_warm_p50)} ms (districts or HIPS, full or Patch); p50 of all "
            f"{ms(statistics.median(warm))} ms",
        )
    )
    target = TARGET_COLD_P95.get(r.combo.scale)
    cold = [s.seconds for k in KINDS[:2] for h in (False, True) for s in pooled(r, k, "cold", h)]
    hips_cold = [s.seconds for k in KINDS[:2] for s in pooled(r, k, "cold", True)]
    if target:
        out.append(
            (
                f"cold p95 < {target * 1000:.0f} ms (update_map)",
                pct(cold, 95) < target,
                f"p95 {ms(pct(cold, 95))} ms over districts and HIPS; HIPS alone max {ms(max(hips_cold))} ms",
            )
        )
    patch = [s.size for h in (False, True) for s in pooled(r, "map, Patch", "warm", h)]
    out.append(
        (
            f"filter change < {TARGET_PATCH_BYTES // 1000} KB",
            max(patch) < TARGET_PATCH_BYTES,
            f"Patch response max {kb(max(patch))} KB raw, "
            f"{kb(max(s.gz for h in (False, True) for s in pooled(r, 'map, Patch', 'warm', h)))} KB gzip",
        )
    )
    if r.browser:
        drawn = [d for (_, t), v in r.browser.items() if t == "cold" for d, _ in v]
        finite = [d for d in drawn if d == d]
        missing = len(drawn) - len(finite)
        slowest = f"slowest cold load {max(finite):.2f} s" if finite else "no cold load drew the map"
        out.append(
            (
                f"map drawn in the browser < {TARGET_BROWSER:.0f} s",
                not missing and max(finite) < TARGET_BROWSER,
                slowest + (f"; {missing} cold loads not drawn within 30 s" if missing else ""),
            )
        )
    return out


def report(r: Results) -> str:
    lines = [
        f"### {r.combo.name}",
        "",
        f"Warehouse {r.warehouse_note}; {r.rows:,} police records; measure {MEASURE}, {r.period} (the page's "
        f"default period); {r.repeat} cold and {r.repeat} warm samples per selection and callback; 1-minute load "
        f"average {' then '.join(f'{x:.1f}' for x in r.load)} around the callback requests.",
        "",
    ]
    lines += [
        "| callback | selection | cold p50 | cold p95 | warm p50 | warm p95 | bytes | gzip |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in KINDS:
        for hips in (False, True):
            cold, warm = pooled(r, kind, "cold", hips), pooled(r, kind, "warm", hips)
            ct, wt = [s.seconds for s in cold], [s.seconds for s in warm]
            sizes = [s.size for s in warm]
            gz = [s.gz for s in warm]
            size = kb(statistics.median(sizes)) if hips else f"{kb(min(sizes))}-{kb(max(sizes))}"
            gzs = kb(statistics.median(gz)) if hips else f"{kb(min(gz))}-{kb(max(gz))}"
            label = HIPS if hips else f"each district ({len(ct)} samples)"
            lines.append(
                f"| {kind} | {label} | {ms(statistics.median(ct))} | {ms(pct(ct, 95))} | "
                f"{ms(statistics.median(wt))} | {ms(pct(wt, 95))} | {size} | {gzs} |"
            )
    lines += ["", "Times in ms (client wall time on 127.0.0.1), sizes in KB (1,000 bytes) of the response body.", ""]

    lines += [
        "Per selection, p50 in ms and response KB:",
        "",
        "| selection | map cold | map warm | map KB | Patch cold | Patch warm | Patch KB | lower cold | "
        "lower warm | lower KB |",
        "|---|" + "---:|" * 9,
    ]
    selections = sorted({sel for (_, sel, _) in r.samples}, key=lambda s: (s == HIPS, s))
    for sel in selections:
        cells = []
        for kind in KINDS:
            cold, warm = r.samples[(kind, sel, "cold")], r.samples[(kind, sel, "warm")]
            cells += [
                ms(statistics.median(s.seconds for s in cold)),
                ms(statistics.median(s.seconds for s in warm)),
                kb(statistics.median(s.size for s in warm)),
            ]
        lines.append(f"| {sel} | " + " | ".join(cells) + " |")
    lines.append("")
    breakdown = "; ".join(
        f"{sel}: "
        + ", ".join(f"{k.removeprefix('hotspots-')} {kb(v)}" for k, v in parts.items() if v >= 1000)
        + f" (total {kb(total)})"
        for sel, parts, total in patch_parts(r)
    )
    lines += [
        f"What a filter change (the Patch path) sends, KB per output of 1 KB or more, for the largest district "
        f"and all of HIPS: {breakdown}.",
        "",
    ]

    lines += [
        "Start-up (not counted as cold): "
        + "; ".join(f"{label}: {ms(s)} ms" for label, s in r.startup)
        + ". Geometry, first request (built then): "
        + "; ".join(f"/geo/{n}.geojson {ms(s)} ms, {kb(b)} KB ({kb(g)} KB gzip)" for n, s, b, g in r.geo)
        + f". plotly.js: {r.plotlyjs}.",
        "",
    ]
    if r.naive:
        n = r.naive
        lines += [
            f"Naive baseline (in-process): `SELECT *` of fact_police_records ({n['rows']:,} rows) into pandas "
            f"took {n['load']:.2f} s and {n['frame_bytes'] / 1e6:,.0f} MB as a DataFrame (process RSS "
            f"+{n['rss'] / 1e6:,.0f} MB, once per worker); filtering it and counting per LSOA per request: "
            f"p50 {ms(statistics.median(n['naive']))} ms, p95 {ms(pct(n['naive'], 95))} ms. The app's query on "
            f"the marts for the same counts (uncached, in-process): p50 {ms(statistics.median(n['mart']))} ms, "
            f"p95 {ms(pct(n['mart'], 95))} ms. Totals agree: {'yes' if n['agree'] else 'NO'}.",
            "",
        ]
    if r.browser:
        lines += [
            "| browser, page | cold: drawn | cold: idle | warm: drawn | warm: idle |",
            "|---|---:|---:|---:|---:|",
        ]
        for sel in sorted({s for (s, _) in r.browser}, key=lambda s: s == HIPS):
            cells = []
            for t in ("cold", "warm"):
                v = r.browser[(sel, t)]
                for i in (0, 1):
                    cells.append(loads([x[i] for x in v]))
            lines.append(
                f"| {'/hotspots?district=' + sel if sel != HIPS else '/hotspots (all of HIPS)'} | "
                + " | ".join(cells)
                + " |"
            )
        lines += ["", "Seconds from navigation start, median (max) of the loads.", ""]
    lines += ["Targets:", ""]
    for label, ok, detail in verdicts(r):
        lines.append(f"- {label}: {'met' if ok else 'NOT met'} ({detail})")
    if r.errors:
        lines += ["", f"**{len(r.errors)} responses were errors or polite refusals**, first: `{r.errors[0][:200]}`"]
    return "\n".join(lines) + "\n"


def machine() -> str:
    cpu = ""
    with contextlib.suppress(OSError):
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    import duckdb

    return (
        f"{platform.machine()}, {os.cpu_count()} cores ({cpu or 'unknown CPU'}), "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}, pandas {pd.__version__}; {cpu_yardstick()}; {datetime.now():%Y-%m-%d %H:%M}"
    )


def code_version() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src", "app.py"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head or 'unknown'}" + (f" with {len(dirty)} files of src changed" if dirty else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("duckdb", "postgres"), default="duckdb")
    parser.add_argument("--scale", type=int, choices=(1, 10), default=1)
    parser.add_argument("--all", action="store_true", help="DuckDB and PostgreSQL, scale 1 and 10")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--browser-repeat", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--pg-analyze", action="store_true", help="ANALYZE the PostgreSQL schema after the build")
    parser.add_argument(
        "--pg-url", default=os.environ.get("VRP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument("--work-dir", default=str(REPO / "build" / "bench"))
    parser.add_argument("--out", help="also write the markdown here")
    args = parser.parse_args()
    if not 1 <= args.repeat <= 50 or not 0 <= args.browser_repeat <= 10:
        parser.error("--repeat is 1 to 50, --browser-repeat 0 to 10")
    args.no_browser = args.no_browser or args.browser_repeat == 0
    Path(args.work_dir).mkdir(parents=True, exist_ok=True)

    combos = (
        [Combo(b, s) for b in ("duckdb", "postgres") for s in (1, 10)]
        if args.all
        else [Combo(args.backend, args.scale)]
    )
    text = f"Machine: {machine()}. Code: {code_version()}.\n\n"
    for combo in combos:
        started = time.perf_counter()
        text += report(run_combo(combo, args)) + "\n"
        print(f"[{combo.name}] done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
