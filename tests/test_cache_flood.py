"""No cache flooding: the whole-view cache is keyed only on canonical, known values. 500 distinct junk inputs
posted as the browser posts them (junk map colourings, padded months, unknown districts, LSOAs and measures, junk
meta data and booleans) add no entry to a real cache (a FileSystemCache in a temporary folder, and Redis) and never
give a 500; an equal question spelled another way is served from the entry it already has."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REDIS_URL, need_service
from vrp.app import create_app, make_cache

SOTON, IOW = "E06000045", "E06000046"
LSOA = "E01035444"  # Southampton 023E
START, END = "2025-10", "2026-09"
PRIMED = {"districts": [IOW, SOTON], "start": START, "end": END, "measure": "serious_violence", "age": "all"}


class Browser:
    """Posts to /_dash-update-component as dash-renderer does, the dependency list read once."""

    def __init__(self, app):
        self.client = app.server.test_client()
        self.deps = self.client.get("/_dash-dependencies").get_json()

    def post(self, output: str, inputs: dict, state: dict | None = None):
        dep = next(d for d in self.deps if output in d["output"])
        outputs = [
            {"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in dep["output"].strip(".").split("...")
        ]

        def props(values: dict) -> list[dict]:
            return [{"id": k.rsplit(".", 1)[0], "property": k.rsplit(".", 1)[1], "value": v} for k, v in values.items()]

        body = {
            "output": dep["output"],
            "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": props(inputs),
            "state": props(state or {}),
            "changedPropIds": [next(iter(inputs))],
        }
        return self.client.post("/_dash-update-component", json=body)

    # The cached views, one method each.
    def map(self, state=PRIMED, mode="count", points=(), meta=None):
        return self.post(
            "hotspots-map.figure",
            {"filter-state.data": state, "hotspots-mode.value": mode, "hotspots-points.value": list(points)},
            {"hotspots-map-meta.data": meta},
        )

    def table(self, is_open=True, state=PRIMED):
        return self.post(
            "hotspots-map-table.children",
            {"hotspots-map-summary.n_clicks": 1 if is_open is True else is_open, "filter-state.data": state},
        )

    def panel(self, lsoa=LSOA, state=PRIMED):
        return self.post("hotspots-panel.children", {"hotspots-lsoa.data": lsoa, "filter-state.data": state})

    def lower(self, state=PRIMED):
        return self.post("hotspots-top.children", {"filter-state.data": state})

    def knife(self, state=PRIMED):
        return self.post("knife-title.children", {"filter-state.data": state})

    def overview(self, state=PRIMED):
        return self.post("home-heading.children", {"filter-state.data": state})

    def prime(self) -> list:
        return [self.map(), self.table(), self.panel(), self.lower(), self.knife(), self.overview()]


def junk_month(i: int) -> str:
    """Never a month: a day added, years outside 2000-2100, month 13 and beyond, words, a bare number."""
    return [f"2025-{i}-01", f" {i:04d}-01", f"2025-{i % 9 + 1} x", f"{2101 + i}-01", f"2025-{13 + i}", f"{i}"][i % 6]


def junk_requests(browser: Browser):
    """500 distinct junk inputs, a callable each: every one is refused, or is a known value spelled another way."""
    state_junk = [
        lambda i: {**PRIMED, "districts": [SOTON, f"E0{i:07d}"]},
        lambda i: {**PRIMED, "districts": f"{IOW},X{i}"},
        lambda i: {**PRIMED, "start": junk_month(i)},
        lambda i: {**PRIMED, "end": f"{END} junk {i}"},
        lambda i: {**PRIMED, "measure": f"measure_{i}"},
        lambda i: {**PRIMED, "age": f"age-{i}"},
        lambda i: {**PRIMED, "problems": [f"junk {i}"], f"extra{i}": "x" * 200},  # extra keys: dropped, not keyed
        lambda i: {**PRIMED, "start": [START, i]},
    ]
    kinds = [
        lambda i: browser.map(mode=f"mode-{i}"),
        lambda i: browser.map(mode=[i]),
        lambda i: browser.map(meta={"mode": "count", "districts": [f"junk{i}"], "points": False}),
        lambda i: browser.map(meta=f"meta {i}"),
        lambda i: browser.map(points=[f"points{i}"]),
        lambda i: browser.map(state=state_junk[i % len(state_junk)](i)),
        lambda i: browser.table(is_open=[f"true{i}", i + 2, [i], {"open": i}, f"{i}"][i % 5]),
        lambda i: browser.table(state=state_junk[i % len(state_junk)](i)),
        lambda i: browser.panel(lsoa=f"E99{i:06d}"),
        lambda i: browser.panel(lsoa=f" e01035444 {i}"),
        lambda i: browser.panel(lsoa={"code": i}),
        lambda i: browser.lower(state=state_junk[i % len(state_junk)](i)),
        lambda i: browser.knife(state=state_junk[i % len(state_junk)](i)),
        lambda i: browser.overview(state={**PRIMED, "districts": [f"junk-{i}"]}),
        # The Overview reads only the districts: whatever the other filters say, it is the entry it has.
        lambda i: browser.overview(state={**PRIMED, "start": junk_month(i), "measure": f"m{i}", "age": i}),
    ]
    return [(lambda i=i: kinds[i % len(kinds)](i)) for i in range(500)]


def equivalents(browser: Browser):
    """The primed questions spelled another way: districts reordered, lower case, padded; months unpadded."""
    reordered = {
        **PRIMED,
        "districts": [" e06000045", IOW.lower(), "HIPS", ""],
        "start": f" {START} ",
        "end": "2026-9",
        "measure": " Serious_Violence",
        "age": "ALL",
        "problems": ["ignored"],
    }
    return [
        (lambda: browser.map(state=reordered, mode=" Count", meta={"junk": True}), 0),
        (lambda: browser.table(state=reordered), 1),
        (lambda: browser.panel(lsoa=" e01035444", state=reordered), 2),
        (lambda: browser.lower(state=reordered), 3),
        (lambda: browser.knife(state={**reordered, "measure": "not read by this page"}), 4),
        (lambda: browser.overview(state={"districts": f"{SOTON},{IOW.lower()}"}), 5),
    ]


def check_no_flood(app, count_entries) -> None:
    browser = Browser(app)
    primed = browser.prime()
    assert [r.status_code for r in primed] == [200] * len(primed)
    before = count_entries()
    assert before > 0

    for request, i in equivalents(browser):
        again = request()
        assert again.status_code == 200 and again.get_data() == primed[i].get_data(), i
    assert count_entries() == before  # the same entries answered them

    statuses = []
    for request in junk_requests(browser):
        response = request()
        text = response.get_data(as_text=True)
        statuses.append(response.status_code)
        assert response.status_code != 500 and "Traceback" not in text
        assert "went wrong" not in text, text[:300]  # refused with a reason, not failed
    assert len(statuses) == 500 and set(statuses) <= {200, 204}
    assert count_entries() == before  # nothing junk was keyed
    # ... and nothing real was evicted: the primed views are still served, byte for byte.
    assert [r.get_data() for r in browser.prime()] == [r.get_data() for r in primed]
    assert count_entries() == before


def test_junk_never_reaches_a_file_cache(demo_warehouse, tmp_path):
    app = create_app(demo_warehouse.with_(cache_type="SimpleCache"))
    wh = app.server.config["VRP_WAREHOUSE"]
    # The app's own FileSystemCache configuration, in a folder of this test's own.
    wh.cache = make_cache(demo_warehouse.with_(cache_type="FileSystemCache", build_dir=tmp_path), app.server)
    folder = Path(tmp_path, "cache")

    def count_entries() -> int:
        return sum(1 for p in folder.iterdir() if not p.name.startswith("__wz_cache_count"))

    try:
        check_no_flood(app, count_entries)
    finally:
        wh.dispose()


@pytest.mark.redis
def test_junk_never_reaches_redis(demo_warehouse):
    need_service("Redis", 6379)
    app = create_app(demo_warehouse.with_(cache_type="RedisCache", cache_url=REDIS_URL))
    wh = app.server.config["VRP_WAREHOUSE"]
    backend = wh.cache.backend
    backend.clear()
    client = backend.cache._write_client

    def count_entries() -> int:
        return sum(1 for _ in client.scan_iter(match="vrp:*", count=1000))

    try:
        check_no_flood(app, count_entries)
    finally:
        backend.clear()
        wh.dispose()


@pytest.mark.parametrize("threshold, stored, kept", [(800, 700, 700), (50, 120, range(1, 100))])
def test_a_file_cache_keeps_as_many_entries_as_the_setting_says(demo_warehouse, tmp_path, threshold, stored, kept):
    """Flask-Caching's own default prunes a file cache past 500 entries; VRP_CACHE_THRESHOLD sets it."""
    app = create_app(demo_warehouse.with_(cache_type="SimpleCache"))
    settings = demo_warehouse.with_(cache_type="FileSystemCache", build_dir=tmp_path, cache_threshold=threshold)
    backend = make_cache(settings, app.server).backend
    for i in range(stored):
        backend.set(f"entry-{i}", i)
    served = sum(backend.get(f"entry-{i}") == i for i in range(stored))
    assert served in (kept if isinstance(kept, range) else [kept]), served
    app.server.config["VRP_WAREHOUSE"].dispose()
