"""End to end in headless chromium: pages draw from the warehouse with an empty browser log, the filters live in
the URL, the map follows the district, an LSOA can be picked, and axe-core finds nothing serious."""

from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.a11y import serious_violations
from tests.conftest import REQUIRE_SERVICES
from tests.helpers import built_bundle, tick, wait_for
from vrp.app import create_app
from vrp.dashboards.home import TABLE_ID
from vrp.dashboards.shell import SYNTHETIC_ID

pytestmark = pytest.mark.browser
MAP_LOCATIONS = (
    "const g = document.querySelector('#hotspots-map .js-plotly-plot');"
    "return g && g.data ? g.data.map(t => Array.from(t.locations || [])).flat() : null;"
)


@pytest.fixture
def started(dash_duo, demo_warehouse):
    app = create_app(demo_warehouse.with_(cache_type="SimpleCache"))
    dash_duo.driver.set_script_timeout(30)
    dash_duo.start_server(app)
    yield dash_duo, app
    app.server.config["VRP_WAREHOUSE"].dispose()


def query(duo) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlparse(duo.driver.current_url).query).items()}


def lsoas_of(app, district) -> set[str]:
    wh = app.server.config["VRP_WAREHOUSE"]
    return set(wh.read(f"SELECT lsoa21_code FROM dim_area WHERE district_code = '{district}'")["lsoa21_code"])


def type_and_enter(duo, selector, text):
    box = duo.find_element(selector)
    box.clear()
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def test_overview_in_the_browser(started):
    duo, _ = started
    duo.wait_for_element(f"#{TABLE_ID}", timeout=20)
    assert "Knife-enabled serious violence" in duo.find_element(f"#{TABLE_ID}").text
    # Each tile has its own callback: all five arrive (the national one for all of HIPS only).
    for measure in (
        "knife_enabled_sv",
        "serious_violence",
        "sharp_object_admissions",
        "homicide_u25_non_domestic",
        "ons_knife_crime",
    ):
        duo.wait_for_element(f"#tile-{measure}", timeout=20)
    assert "in the 12 months to" in duo.find_element("#tile-knife_enabled_sv").text
    assert "Synthetic demonstration data" in duo.find_element(f"#{SYNTHETIC_ID}").text
    assert duo.driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert serious_violations(duo.driver) == []
    assert duo.get_logs() == []


def test_hotspots_follow_the_district_and_the_url(started):
    duo, app = started
    duo.driver.get(duo.server_url + "/hotspots")
    first = wait_for(lambda: duo.driver.execute_script(MAP_LOCATIONS))
    assert len(first) == 1231  # all of HIPS by default
    # The page drew with the partial plotly.js bundle, not Dash's full one (checked wherever the bundle is built,
    # and always in CI, where built_bundle fails without it).
    settings = app.server.config["VRP_SETTINGS"]
    if REQUIRE_SERVICES or (settings.plotlyjs_dir / "plotly-vrp.json").exists():
        assert duo.driver.execute_script("return window.Plotly.vrpBundle") == built_bundle(settings)
    assert query(duo)["measure"] == "serious_violence"

    tick(duo, "Portsmouth")
    wait_for(lambda: query(duo).get("district") == "E06000044")
    portsmouth = lsoas_of(app, "E06000044")
    wait_for(lambda: set(duo.driver.execute_script(MAP_LOCATIONS) or []) == portsmouth)
    wait_for(
        lambda: (
            "Portsmouth" in duo.driver.execute_script("return document.getElementById('hotspots-title').textContent")
        )
    )

    # The link reproduces the view.
    link = duo.driver.current_url
    duo.driver.get(link)
    wait_for(lambda: set(duo.driver.execute_script(MAP_LOCATIONS) or []) == portsmouth)
    ticked = duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('#filter-district input:checked')).map(e => e.value)"
    )
    assert ticked == ["E06000044"]

    # Back to all of HIPS with the browser's back button.
    duo.driver.back()
    wait_for(lambda: "district" not in query(duo) and len(duo.driver.execute_script(MAP_LOCATIONS) or []) == 1231)
    assert duo.get_logs() == []


def test_pick_an_lsoa_and_see_its_panel(started):
    duo, _ = started
    duo.driver.get(duo.server_url + "/hotspots?district=E06000045")
    wait_for(lambda: duo.driver.execute_script(MAP_LOCATIONS))
    # The suggestions list holds the district's LSOAs (written into the datalist in the browser).
    wait_for(
        lambda: (
            duo.driver.execute_script("return document.querySelectorAll('#hotspots-lsoa-list option').length") == 152
        )
    )
    type_and_enter(duo, "#hotspots-lsoa-search", "Southampton 023E")
    panel = wait_for(
        lambda: "Southampton 023E" in duo.find_element("#hotspots-panel").text and duo.find_element("#hotspots-panel")
    )
    assert "IMD 2019 decile" in panel.text and "per 1,000 residents" in panel.text
    assert serious_violations(duo.driver) == []
    assert duo.get_logs() == []


def test_bad_link_is_reported_not_fatal(started):
    duo, _ = started
    duo.driver.get(duo.server_url + "/hotspots?district=NOWHERE&from=2030-01&measure=nonsense")
    message = wait_for(lambda: duo.find_element("#filter-message").text)
    assert "Unknown district" in message and "Unknown measure" in message
    wait_for(lambda: query(duo).get("measure") == "serious_violence")
    assert duo.get_logs() == []


def test_data_page(started):
    duo, _ = started
    duo.driver.get(duo.server_url + "/data")
    duo.wait_for_element("#data-measures", timeout=20)
    assert "Knife-enabled serious violence" in duo.find_element("#data-measures").text
    assert "synthetic" in duo.find_element("#data-sources").text
    assert serious_violations(duo.driver) == []
    assert duo.get_logs() == []


def test_the_table_of_every_lsoa_opens_by_keyboard(started):
    """The map's table alternative loads when its summary is opened (Dash never sends a details' open state, so
    the table used to stay empty)."""
    duo, app = started
    duo.driver.get(duo.server_url + "/hotspots?district=E06000045")
    wait_for(lambda: duo.driver.execute_script(MAP_LOCATIONS))
    summary = duo.find_element("#hotspots-map-summary")
    duo.driver.execute_script("arguments[0].focus()", summary)
    summary.send_keys(Keys.ENTER)
    rows = wait_for(lambda: duo.driver.find_elements(By.CSS_SELECTOR, "#hotspots-map-table tbody tr"))
    assert len(rows) == len(lsoas_of(app, "E06000045"))
    summary.send_keys(Keys.ENTER)  # closed again: the table is dropped
    wait_for(lambda: not duo.driver.find_elements(By.CSS_SELECTOR, "#hotspots-map-table tbody tr"))
    assert duo.get_logs() == []
