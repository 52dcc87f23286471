"""End to end in headless chromium: the overview draws from the warehouse with an empty browser log."""

import pytest

from vrp.app import create_app
from vrp.dashboards.home import TABLE_ID
from vrp.dashboards.shell import SYNTHETIC_ID

pytestmark = pytest.mark.browser


def test_overview_in_the_browser(dash_duo, demo_warehouse):
    app = create_app(demo_warehouse.with_(cache_type="SimpleCache"))
    dash_duo.start_server(app)
    dash_duo.wait_for_element(f"#{TABLE_ID}", timeout=20)
    assert "Knife-enabled serious violence" in dash_duo.find_element(f"#{TABLE_ID}").text
    assert "Synthetic demonstration data" in dash_duo.find_element(f"#{SYNTHETIC_ID}").text
    assert dash_duo.driver.find_element("tag name", "html").get_attribute("lang") == "en"
    assert dash_duo.get_logs() == []
    app.server.config["VRP_WAREHOUSE"].dispose()
