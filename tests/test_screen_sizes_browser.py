"""Issue 14, "Done when": the pages as a user should see them at 390x844, 1366x900 and 1920x1080. On a phone every
chart fits inside its card and no page scrolls sideways; on a laptop the navigation keeps to one line.

Each page is drawn at its size from the start (device metrics set before it loads), as that screen would draw it."""

from __future__ import annotations

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from tests.helpers import screen
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
LINKS = "return Array.from(document.querySelectorAll('#nav-pages .nav-link')).map(a => a.getBoundingClientRect().top)"


@pytest.fixture
def served(dash_duo, demo_warehouse):
    """The public app on the demo warehouse, served to ``dash_duo``; its warehouse released afterwards."""
    app = create_app(demo_warehouse.with_(cache_type="SimpleCache"))
    dash_duo.start_server(app)
    yield app
    app.server.config["VRP_WAREHOUSE"].dispose()


def test_every_chart_fits_its_card_on_a_phone(dash_duo, served):
    driver = dash_duo.driver
    screen(dash_duo, 390, 844)
    for path in CHART_PAGES:
        driver.get(dash_duo.server_url + path)
        WebDriverWait(driver, 40).until(lambda d: d.execute_script(DRAWN), f"no chart drawn on {path}")
        assert driver.execute_script("return window.innerWidth") == 390
        charts = driver.execute_script(CHARTS)
        too_wide = [c for c in charts if c[1] < c[3] - 0.5 or c[2] > c[4] + 0.5]
        assert charts and too_wide == [], f"charts wider than their cards on {path}: {too_wide}"
        assert driver.execute_script(SIDEWAYS) <= 0, f"{path} scrolls sideways on a phone"


def test_the_navigation_keeps_to_one_line_on_a_laptop(dash_duo, served):
    """At 1366 px the nine links wrapped to a second line inside a 1,140 px header; the header now spans the page's
    own width, and its title lines up with the content."""
    driver = dash_duo.driver
    for width, height in ((1366, 900), (1920, 1080)):
        screen(dash_duo, width, height)
        driver.get(dash_duo.server_url + "/")
        WebDriverWait(driver, 30).until(lambda d: d.execute_script(LINKS))
        tops = {round(top) for top in driver.execute_script(LINKS)}
        assert len(tops) == 1, f"navigation on {len(tops)} lines at {width} px"
        left = (
            "return [document.querySelector('.vrp-title').getBoundingClientRect().left, "
            "document.querySelector('#page-content').getBoundingClientRect().left]"
        )
        title, content = driver.execute_script(left)
        assert abs(title - content) < 2, (title, content)


# Each stacked table's row: [table id, row height, the narrowest cell shown's width] in CSS pixels (an empty
# cell is not shown).
ROWS = """
return Array.from(document.querySelectorAll('table.vrp-stack tbody tr')).map(r => [
  r.closest('table').id, r.getBoundingClientRect().height,
  Math.min(...Array.from(r.children).filter(c => c.getClientRects().length).map(c => c.getBoundingClientRect().width)),
]);
"""


@pytest.mark.parametrize(
    ("path", "tables"),
    [("/data", {"data-measures", "data-sources"}), ("/", {"latest-figures", "latest-figures-other"})],
)
def test_wide_tables_read_down_a_phone(dash_duo, served, path, tables):
    """Seven columns of definitions squeezed into 390 px made each row of the measures table a screen tall with
    most of it off to the side, and the Overview's change and rate ran off the screen unseen; on a phone each row
    is a block, every cell the screen's width."""
    driver = dash_duo.driver
    screen(dash_duo, 390, 844)
    driver.get(dash_duo.server_url + path)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(ROWS), f"no tables on {path}")
    rows = driver.execute_script(ROWS)
    assert {r[0] for r in rows} >= tables
    assert all(r[2] > 300 for r in rows), [r for r in rows if r[2] <= 300][:3]
    assert max(r[1] for r in rows) < 600  # the longest definition, stacked, is well inside one screen
    labels = driver.execute_script(
        "return getComputedStyle(document.querySelector('table.vrp-stack td[data-label]'), '::before').content"
    )
    assert labels.startswith('"') and labels.endswith(': "')  # each value after its column's name
    assert driver.execute_script(SIDEWAYS) <= 0


# Every drawn chart with a legend: [graph id, legend bottom, plot area top] in CSS pixels.
LEGENDS = """
return Array.from(document.querySelectorAll('.js-plotly-plot')).filter(g => g.offsetParent !== null)
  .filter(g => g.querySelector('.legend') && g.querySelector('.nsewdrag')).map(g => [
    g.parentElement.id || g.id, g.querySelector('.legend').getBoundingClientRect().bottom,
    g.querySelector('.nsewdrag').getBoundingClientRect().top]);
"""


def test_legends_stay_above_the_plot_on_a_laptop(dash_duo, served):
    """A chart first drawn on a narrow card and then widened kept its legend's old bottom edge, so a one-row legend
    sat inside the plot over the England and Wales line (plotly.js places it from the figure's top now)."""
    driver = dash_duo.driver
    screen(dash_duo, 1366, 900)
    for path in ("/national", "/knife-crime", "/homicide"):
        driver.get(dash_duo.server_url + path)
        WebDriverWait(driver, 40).until(lambda d: d.execute_script(LEGENDS), f"no legend drawn on {path}")
        driver.execute_script("return new Promise(r => setTimeout(r, 1500))")  # let the cards settle
        legends = driver.execute_script(LEGENDS)
        inside = [g for g in legends if g[1] > g[2] + 0.5]
        assert inside == [], f"legends over the plot on {path}: {inside}"


# Each chart with downloads after it: [graph id, partner-only chart?, downloads shown?, chart tools shown?].
EXPORTS = """
return Array.from(document.querySelectorAll('.dash-graph')).filter(g => g.querySelector('.main-svg')).map(g => {
    let next = g.nextElementSibling;
    while (next && !next.classList.contains('vrp-export')) next = next.nextElementSibling;
    return [g, next];
  }).filter(([g, next]) => next).map(([g, next]) => {
    const shown = el => !!el && getComputedStyle(el).display !== 'none';
    const note = g.querySelector('text.annotation-text[data-unformatted="Shown to partners only"]');
    return [g.id, !!note, shown(next), shown(g.querySelector('.modebar-container'))];
  });
"""


@pytest.mark.parametrize("path", ["/hotspots", "/knife-crime", "/homicide", "/profile"])
def test_a_partner_only_chart_offers_nothing_to_download(dash_duo, served, path):
    """The public's empty "Shown to partners only" charts kept their camera and their CSV, PNG and SVG buttons,
    which gave an empty picture; every other card keeps its downloads."""
    from vrp.figures.theme import PARTNER_ONLY_NOTE

    assert PARTNER_ONLY_NOTE["text"] == "Shown to partners only"  # the text assets/vrp.css looks for
    driver = dash_duo.driver
    screen(dash_duo, 1366, 900)
    driver.get(dash_duo.server_url + path)
    wanted = "return !!document.querySelector('text.annotation-text[data-unformatted=\"Shown to partners only\"]')"
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(wanted), f"no partner-only chart on {path}")
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(DRAWN) >= 2)
    cards = driver.execute_script(EXPORTS)
    hidden = [c for c in cards if c[1]]
    others = [c for c in cards if not c[1]]
    assert hidden and all(not c[2] and not c[3] for c in hidden), hidden
    assert others and all(c[2] for c in others), others
