"""Caching in data_access: keyed on arguments and data version, shared through the real Redis, and a failing
backend degrades to uncached service with a warning. Every view here is a public one: it reads only the
published cube (pub_cube), as the public audience must."""

import logging

import pytest
from flask import Flask
from flask_caching import Cache

from tests.conftest import REDIS_URL, need_service
from tests.helpers import cube_area_year, cube_cells, post_callback
from vrp.data_access import published
from vrp.data_access.cache import QueryCache, cache_key
from vrp.data_access.queries import Warehouse

KNIFE_MONTHS = ("knife_enabled_sv", ("E06000045",), "month", "all", "2024-01", "2024-12")


# A published financial year (the public filter always carries one lattice period) and one district.
FY = {"start": "2024-04", "end": "2025-03", "age": "all"}
TREND_VIEW = "view:vrp.callbacks.knife_trend.update_trend"


def _count_views(monkeypatch, name: str) -> list:
    """Each time the whole view ``name`` is computed (not served from the cache), an entry in the list."""
    computed = []
    real = QueryCache.fetch

    def fetch(self, view, version, kwargs, compute):
        if view == name:
            return real(self, view, version, kwargs, lambda: computed.append(kwargs) or compute())
        return real(self, view, version, kwargs, compute)

    monkeypatch.setattr(QueryCache, "fetch", fetch)
    return computed


def test_key_ignores_the_order_of_a_set_but_not_the_data_version():
    a = cache_key("f", "v1", {"d": {"E06000045", "E06000044"}})
    b = cache_key("f", "v1", {"d": {"E06000044", "E06000045"}})
    assert a == b
    assert cache_key("f", "v2", {"d": {"E06000045", "E06000044"}}) != a


def _redis_cache(url=REDIS_URL):
    server = Flask("test")
    cache = Cache(config={"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url, "CACHE_KEY_PREFIX": "vrptest:"})
    cache.init_app(server)
    return cache


@pytest.mark.redis
def test_results_are_shared_through_redis(demo_warehouse):
    need_service("Redis", 6379)
    backend = _redis_cache()
    backend.clear()
    first = Warehouse(demo_warehouse, cache=QueryCache(backend))
    # The district list is read once per process: warm it first.
    assert first.district_codes
    calls = []
    real_read = first.read

    def counting_read(q):
        calls.append(q)
        return real_read(q)

    first.read = counting_read
    a = published.cells(first, *KNIFE_MONTHS)
    b = published.cells(first, *KNIFE_MONTHS)
    assert len(calls) == 1  # the second came from Redis
    assert a.equals(b)
    reference = cube_cells(first, "knife_enabled_sv", "E06000045", "month")
    reference = reference[(reference["start"] >= a["start"].min()) & (reference["end"] <= a["end"].max())]
    assert len(a) == 12 and a["count"].tolist() == reference["count"].tolist()
    # Another process (another Warehouse on the same Redis) gets the cached frame without querying.
    second = Warehouse(demo_warehouse, cache=QueryCache(_redis_cache()))
    assert second.district_codes  # per-process reference tables, as above
    second.read = lambda q: pytest.fail("should have been served from Redis")
    assert published.cells(second, *KNIFE_MONTHS).equals(a)
    first.dispose()
    second.dispose()
    backend.clear()


def test_a_down_cache_serves_uncached_and_warns(demo_warehouse, caplog):
    backend = _redis_cache("redis://127.0.0.1:1/0")  # nothing listens on port 1
    wh = Warehouse(demo_warehouse, cache=QueryCache(backend))
    with caplog.at_level(logging.WARNING):
        frame = published.cells(wh, *KNIFE_MONTHS)
    assert len(frame) == 12 and frame["count"].notna().all()
    assert "cache backend unavailable" in caplog.text
    # An outage is logged once a minute, not once a request (one line per request flooded the log).
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        for _ in range(20):
            published.cells(wh, *KNIFE_MONTHS)
    assert caplog.text.count("cache backend unavailable") == 0
    wh.cache._warned_at -= QueryCache.WARN_EVERY
    with caplog.at_level(logging.WARNING):
        published.cells(wh, *KNIFE_MONTHS)
    assert caplog.text.count("cache backend unavailable") == 1 and "more since the last warning" in caplog.text
    wh.dispose()


@pytest.mark.redis
def test_the_app_uses_redis_when_a_cache_url_is_set(demo_warehouse):
    from vrp.app import create_app

    need_service("Redis", 6379)
    app = create_app(demo_warehouse.with_(cache_type="RedisCache", cache_url=REDIS_URL))
    wh = app.server.config["VRP_WAREHOUSE"]
    assert type(wh.cache.backend.cache).__name__ == "RedisCache"
    wh.cache.backend.clear()
    published.cells(wh, "serious_violence", ("E06000046",), "month", "all", "2025-01", "2025-12")
    assert any(k.startswith(b"vrp:") for k in wh.cache.backend.cache._write_client.keys("vrp:*"))
    wh.dispose()


def test_the_app_still_serves_pages_when_redis_is_down(demo_warehouse, caplog):
    from vrp.app import create_app
    from vrp.callbacks import hotspots as cb

    app = create_app(demo_warehouse.with_(cache_type="RedisCache", cache_url="redis://127.0.0.1:1/0"))
    state = {"districts": ["E06000046"], "measure": "serious_violence", **FY}
    with caplog.at_level(logging.WARNING), app.server.test_request_context("/"):
        out = cb.map_callback(state, "count", [], None)
    assert "Isle of Wight" in out["title"]
    year = cube_area_year(app.server.config["VRP_WAREHOUSE"], "serious_violence", "E06000046", "2024-04-01")
    assert f"{year:,}" in str(out["summary"])  # the published district year, not an apology
    assert "cache backend unavailable" in caplog.text
    app.server.config["VRP_WAREHOUSE"].dispose()


def _knife_post(client, districts):
    state = {"districts": districts, "measure": "knife_enabled_sv", **FY}
    return post_callback(client, "knife-title.children", [{"id": "filter-state", "property": "data", "value": state}])


def _hotspots_patch_post(client):
    state = {"districts": ["E06000046"], "measure": "serious_violence", **FY}
    meta = {"mode": "count", "districts": ["E06000046"], "points": False}
    return post_callback(
        client,
        "hotspots-map.figure",
        [
            {"id": "filter-state", "property": "data", "value": state},
            {"id": "hotspots-mode", "property": "value", "value": "count"},
            {"id": "hotspots-points", "property": "value", "value": []},
        ],
        [{"id": "hotspots-map-meta", "property": "data", "value": meta}],
    )


@pytest.mark.redis
def test_whole_views_are_cached_shared_and_follow_the_data_version(demo_warehouse, monkeypatch):
    """A page callback's output is computed once, served again from Redis (to another app process too),
    byte for byte the same, and computed afresh when the warehouse's data version changes."""
    from vrp.app import create_app

    need_service("Redis", 6379)
    settings = demo_warehouse.with_(cache_type="RedisCache", cache_url=REDIS_URL)
    first = create_app(settings)
    first.server.config["VRP_WAREHOUSE"].cache.backend.clear()
    calls = _count_views(monkeypatch, TREND_VIEW)

    client = first.server.test_client()
    cold = _knife_post(client, ["E06000045"])
    warm = _knife_post(client, ["E06000045"])
    assert cold.status_code == warm.status_code == 200, cold.get_data(as_text=True)[:300]
    assert len(calls) == 1
    assert warm.get_data() == cold.get_data()
    assert "Southampton" in cold.get_data(as_text=True)
    year = cube_area_year(first.server.config["VRP_WAREHOUSE"], "knife_enabled_sv", "E06000045", "2024-04-01")
    assert f"{year:,}" in cold.get_data(as_text=True)  # the published cell, not a refusal
    # Another district is another view.
    _knife_post(client, ["E06000046"])
    assert len(calls) == 2

    second = create_app(settings)
    assert _knife_post(second.server.test_client(), ["E06000045"]).get_data() == cold.get_data()
    assert len(calls) == 2

    # A Patch (the Hotspots map when only values change) survives the round trip through the cache.
    patch_cold = _hotspots_patch_post(client)
    patch_warm = _hotspots_patch_post(client)
    assert patch_warm.get_data() == patch_cold.get_data()
    assert "__dash_patch_update" in patch_warm.get_data(as_text=True)

    wh = first.server.config["VRP_WAREHOUSE"]
    monkeypatch.setattr(wh, "data_version", lambda: "a later load")
    _knife_post(client, ["E06000045"])
    assert len(calls) == 3
    wh.cache.backend.clear()
    for a in (first, second):
        a.server.config["VRP_WAREHOUSE"].dispose()


def test_cached_results_belong_to_the_code_that_made_them(demo_warehouse, monkeypatch):
    """Results cached by other code (an upgrade, or an edit during development with a persistent cache) are
    not served: the code's digest is part of every key."""
    from flask_caching.backends import SimpleCache

    from vrp.data_access import queries

    wh = Warehouse(demo_warehouse, cache=QueryCache(SimpleCache()))
    calls = []
    wh.cached("probe", {}, lambda: calls.append(1) or 1)
    wh.cached("probe", {}, lambda: calls.append(1) or 1)
    assert len(calls) == 1
    monkeypatch.setattr(queries, "code_version", lambda: "0.1.0+edited")
    wh.cached("probe", {}, lambda: calls.append(1) or 1)
    assert len(calls) == 2
    wh.dispose()


def test_a_view_is_one_entry_whatever_the_browser_adds_to_the_state(demo_warehouse, monkeypatch):
    """The key is the five filters in canonical form: a district spelled another way, a month without its
    leading zero or extra keys in the posted state neither miss the cache nor add entries to it."""
    from vrp.app import create_app
    from vrp.callbacks import knife_crime

    app = create_app(demo_warehouse.with_(cache_type="SimpleCache"))
    calls = _count_views(monkeypatch, TREND_VIEW)
    state = {"districts": ["E06000045"], "measure": "knife_enabled_sv", **FY}
    same = {**state, "districts": [" e06000045", "E06000045"], "start": "2024-4", "junk": "x" * 500}
    with app.server.test_request_context("/"):
        first = knife_crime.trend_callback(state)
        again = knife_crime.trend_callback(same)
    assert len(calls) == 1  # one miss, so one entry: an entry is stored only on a miss
    assert first["title"] == again["title"] == "Knife-enabled serious violence: Southampton"
    app.server.config["VRP_WAREHOUSE"].dispose()


def test_settings_that_shape_a_page_are_in_every_key(demo_warehouse):
    a = Warehouse(demo_warehouse)
    b = Warehouse(demo_warehouse.with_(baseline_fy="2023-24"))
    assert a.rules_hash != b.rules_hash
