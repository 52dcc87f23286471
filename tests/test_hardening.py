"""HTTP hardening, health endpoints and rate limits, through Flask's test client (the browser side of the policy
is in tests/test_hardening_browser.py)."""

import json
import time

import pytest

from tests.conftest import REDIS_URL, need_service
from vrp.app import create_app
from vrp.dashboards.pages import pages
from vrp.hardening import HSTS


@pytest.fixture(scope="module")
def hardened(demo_warehouse):
    app = create_app(demo_warehouse.with_(cache_type="SimpleCache", rate_limits=False, max_content_length=10_000))
    yield app
    app.server.config["VRP_WAREHOUSE"].dispose()


@pytest.fixture
def client(hardened):
    return hardened.server.test_client()


def make(settings, **changes):
    app = create_app(settings.with_(**{"rate_limits": True, **changes}))
    return app, app.server.test_client()


def test_security_headers_on_pages_api_and_errors(client):
    for path in ("/", "/hotspots", "/api/v1/measures", "/no-such-page", "/api/nothing"):
        h = client.get(path).headers
        policy = h["Content-Security-Policy"]
        assert "unsafe-eval" not in policy and "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in h  # plain HTTP


def test_inline_scripts_are_all_hashed(hardened, client):
    html = client.get("/").get_data(as_text=True)
    policy = client.get("/").headers["Content-Security-Policy"]
    for script in hardened.csp_hashes():
        assert script in policy
    # Every executable inline script in the page is one of them (the config block is data, not script).
    assert html.count("<script>") + html.count('<script id="_dash-renderer"') == len(hardened.csp_hashes())


def test_hsts_only_behind_https_from_a_trusted_proxy(demo_warehouse, client):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    # Without proxy_fix the header is not believed: anyone could send it.
    assert "Strict-Transport-Security" not in client.get("/healthz", headers=forwarded).headers
    app, behind = make(demo_warehouse, rate_limits=False, proxy_fix=1)
    assert behind.get("/healthz", headers=forwarded).headers["Strict-Transport-Security"] == HSTS
    assert "Strict-Transport-Security" not in behind.get("/healthz").headers
    app.server.config["VRP_WAREHOUSE"].dispose()


def test_unknown_paths_are_404_with_the_friendly_page(client):
    for page in pages():
        assert client.get(page.path).status_code == 200, page.path
    assert client.get("/hotspots/").status_code == 200  # the router takes a trailing slash
    response = client.get("/no-such-page")
    assert response.status_code == 404
    # The app itself (its router draws "Page not found"), not a bare error.
    assert 'id="react-entry-point"' in response.get_data(as_text=True)
    assert client.get("/wp-login.php?x=1").status_code == 404
    assert client.get("/api/no-such-endpoint").status_code == 404


def test_request_bodies_over_the_limit_are_refused_unread(client):
    response = client.post("/_dash-update-component", data=b"x" * 20_000, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json() == {"error": "Request Entity Too Large"}


def test_no_version_details_in_responses(client):
    import dash
    import plotly

    html = client.get("/").get_data(as_text=True)
    config = json.loads(html.split('<script id="_dash-config" type="application/json">')[1].split("</script>")[0])
    for key in ("dash_version", "python_version", "plotly_version", "ddk_version", "dash_version_url"):
        assert key not in config
    assert "Python" not in json.dumps(config)
    assert dash.__version__ not in json.dumps(config) and plotly.__version__ not in json.dumps(config)
    import sys

    assert sys.version.split()[0] not in client.get("/_dash-config").get_data(as_text=True)
    for path in ("/", "/healthz", "/api/v1/measures"):
        assert "Server" not in client.get(path).headers  # the app adds none (gunicorn's carries no version)


def test_healthz_and_readyz(client, hardened):
    live = client.get("/healthz")
    assert live.status_code == 200 and live.get_data(as_text=True) == "ok\n"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.get_json()
    assert body["warehouse"] == "ok" and body["status"] == "ready" and body["cache"] == "ok"
    assert body["data_version"] == hardened.server.config["VRP_WAREHOUSE"].meta("data_version")


def test_readyz_is_503_when_the_warehouse_is_down_and_healthz_stays_up(settings, tmp_path):
    app, client = make(settings, warehouse_url=f"duckdb:///{tmp_path / 'missing.duckdb'}")
    ready = client.get("/readyz")
    assert ready.status_code == 503
    body = ready.get_json()
    assert body == {"warehouse": "unreachable", "data_version": None, "cache": "disabled", "status": "unavailable"}
    assert client.get("/healthz").status_code == 200


def test_readyz_reports_an_unreachable_cache_but_stays_ready(demo_warehouse):
    app, client = make(demo_warehouse, cache_type="RedisCache", cache_url="redis://127.0.0.1:1/0", rate_limits=False)
    body = client.get("/readyz").get_json()
    assert body["cache"] == "unreachable" and body["warehouse"] == "ok"
    app.server.config["VRP_WAREHOUSE"].dispose()


def test_rate_limits_per_client_tighter_on_the_api(demo_warehouse):
    app, client = make(
        demo_warehouse,
        cache_type="SimpleCache",
        rate_limit_api="3 per minute",
        rate_limit_callbacks="5 per minute",
        rate_limit_pages="4 per minute",
    )
    statuses = [client.get("/api/v1/measures").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/v1/measures")
    assert refused.get_json() == {"error": "Too Many Requests"} and int(refused.headers["Retry-After"]) > 0
    # Another client has its own budget.
    assert client.get("/api/v1/measures", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200
    # Callbacks have their own, larger budget (the API's spent budget does not touch it).
    posts = [client.post("/_dash-update-component", json={}).status_code for _ in range(6)]
    assert posts[:5] != [429] * 5 and posts[5] == 429
    # Pages: per route.
    assert [client.get("/data").status_code for _ in range(5)] == [200] * 4 + [429]
    # Health endpoints are never limited.
    assert {client.get("/healthz").status_code for _ in range(10)} == {200}
    app.server.config["VRP_WAREHOUSE"].dispose()


def test_behind_a_proxy_each_visitor_is_counted_not_the_proxy(demo_warehouse):
    app, client = make(demo_warehouse, proxy_fix=1, rate_limit_api="2 per minute")

    def get(ip):
        return client.get("/api/v1/measures", headers={"X-Forwarded-For": ip}).status_code

    assert [get("198.51.100.1") for _ in range(3)] == [200, 200, 429]
    assert get("198.51.100.2") == 200
    app.server.config["VRP_WAREHOUSE"].dispose()


@pytest.mark.redis
def test_limits_are_shared_in_redis_when_the_cache_is(demo_warehouse):
    need_service("Redis", 6379)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    shared = dict(cache_type="NullCache", cache_url=REDIS_URL, rate_limit_api="3 per minute")
    first, a = make(demo_warehouse, **shared)
    second, b = make(demo_warehouse, **shared)  # another worker or server
    assert [a.get("/api/v1/measures").status_code for _ in range(2)] == [200, 200]
    assert [b.get("/api/v1/measures").status_code for _ in range(2)] == [200, 429]
    assert any(k.startswith(b"LIMITS:vrp-limits") or b"vrp-limits" in k for k in redis.Redis.from_url(REDIS_URL).keys())
    for app in (first, second):
        app.server.config["VRP_WAREHOUSE"].dispose()


def test_rate_limit_settings_are_checked_at_start():
    from vrp.settings import from_env

    assert from_env({"VRP_RATE_LIMIT_API": "10 per second"}).rate_limit_api == "10 per second"
    assert from_env({"VRP_RATE_LIMITS": "off"}).rate_limits is False
    with pytest.raises(ValueError, match="VRP_RATE_LIMIT_API"):
        from_env({"VRP_RATE_LIMIT_API": "plenty"})
    with pytest.raises(ValueError, match="VRP_MAX_CONTENT_LENGTH"):
        from_env({"VRP_MAX_CONTENT_LENGTH": "0"})


def test_the_api_document_describes_the_rate_limit_answer(client):
    spec = client.get("/api/openapi.json").get_json()
    for path, item in spec["paths"].items():
        assert item["get"]["responses"]["429"]["content"]["application/json"], path


def test_limits_fall_back_to_each_process_when_redis_is_down(demo_warehouse):
    app, client = make(
        demo_warehouse, cache_type="NullCache", cache_url="redis://127.0.0.1:1/0", rate_limit_api="2/minute"
    )
    started = time.perf_counter()
    assert [client.get("/api/v1/measures").status_code for _ in range(3)] == [200, 200, 429]
    assert time.perf_counter() - started < 5  # no request waits on the dead server
    app.server.config["VRP_WAREHOUSE"].dispose()
