"""Issue 14, "Done when": on a 390 by 844 phone every chart fits inside its card and no page scrolls sideways.

The page is drawn at phone size from the start (device metrics set before it loads), as a phone would draw it."""

from __future__ import annotations

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from vrp.app import create_app

pytestmark = pytest.mark.browser

CHART_PAGES = ["/hotspots", "/knife-crime", "/hospital-admissions", "/homicide", "/national", "/profile"]

# Every drawn chart with its card: [graph id, chart left, chart right, card left, card right] in CSS pixels.
CHARTS = """
return Array.from(document.querySelectorAll('.js-plotly-plot')).filter(g => g.offsetParent !== null).map(g => {
  const chart = g.getBoundingClientRect(), card = (g.closest('.card') || g.parentElement).getBoundingClientRect();
  return [g.parentElement.id || g.id, chart.left, chart.right, card.left, card.right];
});
"""
DRAWN = "return document.querySelectorAll('.js-plotly-plot .main-svg').length"
SIDEWAYS = "return document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_every_chart_fits_its_card_on_a_phone(dash_duo, demo_warehouse):
    app = create_app(demo_warehouse.with_(cache_type="SimpleCache"))
    dash_duo.start_server(app)
    driver = dash_duo.driver
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
    )
    try:
        for path in CHART_PAGES:
            driver.get(dash_duo.server_url + path)
            WebDriverWait(driver, 40).until(lambda d: d.execute_script(DRAWN), f"no chart drawn on {path}")
            assert driver.execute_script("return window.innerWidth") == 390
            charts = driver.execute_script(CHARTS)
            too_wide = [c for c in charts if c[1] < c[3] - 0.5 or c[2] > c[4] + 0.5]
            assert charts and too_wide == [], f"charts wider than their cards on {path}: {too_wide}"
            assert driver.execute_script(SIDEWAYS) <= 0, f"{path} scrolls sideways on a phone"
    finally:
        app.server.config["VRP_WAREHOUSE"].dispose()
