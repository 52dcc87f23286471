"""The Content-Security-Policy in a real browser: every page, the map included, draws in headless chromium under
the policy the server sends (no 'unsafe-eval', inline scripts by hash only), and the browser reports no
violation, neither in its log nor to a securitypolicyviolation listener installed before any page script runs."""

import time

import pytest

from tests.helpers import wait_for
from vrp.app import create_app
from vrp.dashboards.pages import pages

pytestmark = pytest.mark.browser

# Runs before the page's own scripts (DevTools protocol), so CSP does not apply to it and it sees every violation.
LISTEN = (
    "window.__csp = [];"
    "document.addEventListener('securitypolicyviolation', e =>"
    " window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)

MAP_DRAWN = (
    "const g = document.querySelector('#hotspots-map .js-plotly-plot');"
    "return !!(g && g.data && g.data.length && g.querySelector('canvas'));"
)


@pytest.fixture
def browser(dash_duo, demo_warehouse):
    # Production defaults for the HTTP settings (rate limits on), an in-process cache.
    app = create_app(demo_warehouse.with_(cache_type="SimpleCache", rate_limits=True))
    dash_duo.driver.set_script_timeout(30)
    dash_duo.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": LISTEN})
    dash_duo.start_server(app)
    yield dash_duo
    app.server.config["VRP_WAREHOUSE"].dispose()


def violations(duo) -> list[str]:
    return duo.driver.execute_script("return window.__csp || []")


def test_policy_forbids_eval_and_framing(browser):
    import urllib.request

    with urllib.request.urlopen(browser.server_url + "/") as response:
        policy = response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in policy and "frame-ancestors 'none'" in policy
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src")).split()
    assert "'unsafe-inline'" not in script_src and any(s.startswith("'sha256-") for s in script_src)


def test_every_page_draws_under_the_policy(browser):
    duo = browser
    for page in pages():
        duo.driver.get(duo.server_url + page.path)
        # The title is set by a clientside callback (an inline script, allowed only by its hash): the renderer
        # and the callbacks ran.
        wait_for(lambda page=page: duo.driver.title.startswith(page.title))
        wait_for(lambda: duo.driver.execute_script("return document.getElementById('page-content').innerText.length"))
        if page.path == "/hotspots":
            # The map: plotly.js and maplibre (its web worker starts from a blob: address) under the policy.
            wait_for(lambda: duo.driver.execute_script(MAP_DRAWN))
        time.sleep(0.5)  # late violations (workers, images) are reported asynchronously
        assert violations(duo) == [], page.path
    assert duo.get_logs() == []


def test_unknown_page_draws_the_friendly_page(browser):
    duo = browser
    duo.driver.get(duo.server_url + "/no-such-page")
    wait_for(lambda: "Page not found" in duo.driver.execute_script("return document.body.innerText"))
    assert violations(duo) == []
    # The browser logs the 404 of the document itself; nothing else.
    assert all("404" in entry["message"] for entry in duo.get_logs())
