"""Issue 14 point 9: focus rings and control borders at 3:1 or more, arrow keys in a select apply once the choice
settles, the filters and navigation fold on a phone, and the accessibility statement, linked from every footer."""

from __future__ import annotations

import json
import re
import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.a11y import serious_violations
from tests.helpers import open_page, screen, wait_for
from vrp.app import create_app
from vrp.dashboards import accessibility, filters
from vrp.dashboards.home import TABLE_ID
from vrp.dashboards.pages import find, nav_pages

browser = pytest.mark.browser

# Each focus ring the page draws, as the browser computed it: [colour, width px] for the outline and each
# box-shadow, and the colour behind the element (the first opaque background of its ancestors).
RINGS = """
const el = document.activeElement, cs = getComputedStyle(el), rings = [];
if (cs.outlineStyle !== 'none') rings.push([cs.outlineColor, parseFloat(cs.outlineWidth)]);
const shadow = /(rgba?\\([^)]*\\))\\s+(-?[\\d.]+)px\\s+(-?[\\d.]+)px\\s+([\\d.]+)px\\s+([\\d.]+)px/g;
for (const m of cs.boxShadow.matchAll(shadow)) rings.push([m[1], parseFloat(m[5])]);
let p = el.parentElement, behind = 'rgb(255, 255, 255)';
while (p) {
  const b = getComputedStyle(p).backgroundColor;
  if (!/rgba\\(.*, 0\\)$|transparent/.test(b)) { behind = b; break; }
  p = p.parentElement;
}
return {tag: el.tagName, cls: String(el.className).slice(0, 60), text: (el.innerText || el.value || '').slice(0, 30),
        rings: rings, behind: behind};
"""
# The requests Dash sends, by the property that changed (installed in the page, wrapping window.fetch).
COUNT_POSTS = """
window.vrpPosts = [];
const fetch0 = window.fetch;
window.fetch = function (url, options) {
  if (String(url).includes('_dash-update-component')) window.vrpPosts.push(JSON.parse(options.body).changedPropIds);
  return fetch0.apply(this, arguments);
};
"""


def _rgb(text: str) -> tuple[float, float, float, float]:
    parts = [float(x) for x in re.findall(r"[\d.]+", text)]
    return (*parts[:3], parts[3] if len(parts) > 3 else 1.0)


def luminance(rgb) -> float:
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_helper_matches_wcag():
    assert contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast(_rgb("rgb(255, 221, 0)"), _rgb("rgb(18, 67, 109)")) == pytest.approx(7.6, abs=0.1)


@pytest.fixture
def started(dash_duo, demo_warehouse):
    app = create_app(demo_warehouse.with_(cache_type="SimpleCache"))
    dash_duo.driver.set_script_timeout(30)
    dash_duo.start_server(app)
    yield dash_duo
    app.server.config["VRP_WAREHOUSE"].dispose()


@browser
def test_every_focus_ring_reaches_3_to_1(started):
    """Tab through the Overview: each element that takes focus draws a ring at least 2 px wide with 3:1 or more
    against what is behind it (the header's links on dark blue, the filters on grey, the page on white)."""
    duo = started
    screen(duo, 1366, 900)
    open_page(duo, "/")
    rows = f"return document.querySelectorAll('#{TABLE_ID} tr').length > 2"
    wait_for(lambda: duo.driver.execute_script(rows))
    seen, weak = [], []
    for _ in range(40):
        ActionChains(duo.driver).send_keys(Keys.TAB).perform()
        focus = duo.driver.execute_script(RINGS)
        if focus["tag"] == "BODY":
            continue
        behind = _rgb(focus["behind"])
        best = max((contrast(_rgb(c), behind) for c, w in focus["rings"] if w >= 2 and _rgb(c)[3] == 1), default=0)
        seen.append((focus["tag"], focus["cls"][:20]))
        if best < 3:
            weak.append((focus, round(best, 2)))
    kinds = {tag for tag, _ in seen}
    assert {"A", "INPUT", "SELECT"} <= kinds, seen  # nav links, radios, the Period box
    assert weak == []


@browser
def test_control_borders_reach_3_to_1(started):
    duo = started
    open_page(duo, "/")
    borders = duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.form-check-input:not(:checked), .form-select'))"
        ".filter(e => e.offsetParent).map(e => [getComputedStyle(e).borderTopColor,"
        " parseFloat(getComputedStyle(e).borderTopWidth)])"
    )
    assert len(borders) >= 10
    # The filter bar's background (bg-light) is the lightest grey: the least contrast any border meets.
    behind = _rgb(
        duo.driver.execute_script("return getComputedStyle(document.querySelector('.vrp-filters')).backgroundColor")
    )
    assert min(contrast(_rgb(c), behind) for c, _ in borders) >= 3
    assert min(w for _, w in borders) >= 1


@browser
def test_arrow_keys_in_a_select_update_the_page_once(started):
    """Stepping through the public Period box with the arrow keys sends one update, for the box's last choice,
    once the keys stop; a mouse choice would apply at once (the change event is not held)."""
    duo = started
    open_page(duo, "/knife-crime")
    box = duo.find_element(f"#{filters.PRESET}")
    wait_for(lambda: len(box.find_elements(By.TAG_NAME, "option")) > 4)
    duo.driver.execute_script(COUNT_POSTS)
    values = [o.get_attribute("value") for o in box.find_elements(By.TAG_NAME, "option") if o.get_attribute("value")]
    start = values.index(box.get_attribute("value"))
    duo.driver.execute_script("arguments[0].focus()", box)
    for _ in range(3):
        box.send_keys(Keys.DOWN)
        time.sleep(0.1)
    assert box.get_attribute("value") == values[start + 3]
    assert duo.driver.execute_script("return window.vrpPosts") == []  # nothing sent while the keys move
    wait_for(lambda: duo.driver.execute_script("return window.vrpPosts.length"))
    time.sleep(1.5)
    posts = duo.driver.execute_script("return window.vrpPosts")
    assert [p for p in posts if f"{filters.PRESET}.value" in p] == [[f"{filters.PRESET}.value"]]
    start_month, end_month = values[start + 3].split("/")
    wait_for(lambda: f"from={start_month}&to={end_month}" in duo.driver.current_url)


@browser
def test_arrow_keys_in_the_partner_from_box_update_the_page_once(dash_duo, demo_warehouse):
    """The partner From box (free months): four steps back with the arrow keys, one update, for the last."""
    app = create_app(demo_warehouse.with_(cache_type="SimpleCache", audience="partner", insecure_no_auth=True))
    duo = dash_duo
    duo.start_server(app)
    try:
        open_page(duo, "/")
        box = duo.find_element(f"#{filters.FROM}")
        wait_for(lambda: len(box.find_elements(By.TAG_NAME, "option")) > 12 and box.get_attribute("value"))
        duo.driver.execute_script(COUNT_POSTS)
        values = [o.get_attribute("value") for o in box.find_elements(By.TAG_NAME, "option")]
        start = values.index(box.get_attribute("value"))
        duo.driver.execute_script("arguments[0].focus()", box)
        for _ in range(4):
            box.send_keys(Keys.UP)
            time.sleep(0.1)
        assert duo.driver.execute_script("return window.vrpPosts") == []
        box.send_keys(Keys.TAB)  # leaving the box applies the choice at once
        wait_for(lambda: duo.driver.execute_script("return window.vrpPosts.length"))
        time.sleep(1.5)
        posts = duo.driver.execute_script("return window.vrpPosts")
        assert [p for p in posts if f"{filters.FROM}.value" in p] == [[f"{filters.FROM}.value"]]
        wait_for(lambda: f"from={values[start - 4]}" in duo.driver.current_url)
    finally:
        app.server.config["VRP_WAREHOUSE"].dispose()


@browser
def test_a_phone_folds_the_navigation_and_filters(started):
    duo = started
    screen(duo, 390, 844)
    open_page(duo, "/")
    shown = "return getComputedStyle(document.getElementById(arguments[0])).display !== 'none'"
    assert not duo.driver.execute_script(shown, filters.CONTROLS)
    assert not duo.driver.execute_script(shown, "nav-pages")
    # The page's own heading is on the first screen.
    top = duo.driver.execute_script("return document.querySelector('#page-content h1').getBoundingClientRect().top")
    assert top < 420
    toggle = duo.driver.find_element(By.CSS_SELECTOR, ".vrp-filters .vrp-toggle")
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true" and duo.driver.execute_script(shown, filters.CONTROLS)
    menu = duo.driver.find_element(By.CSS_SELECTOR, ".vrp-header .vrp-toggle")
    duo.driver.execute_script("arguments[0].focus()", menu)
    menu.send_keys(Keys.ENTER)
    assert duo.driver.execute_script(shown, "nav-pages")
    time.sleep(0.5)  # the wide tables take focus (assets/vrp-controls.js)
    assert serious_violations(duo.driver) == []
    # On a desktop the buttons are not there and everything shows.
    screen(duo, 1366, 900)
    assert duo.driver.execute_script(shown, filters.CONTROLS) and not menu.is_displayed()


@browser
def test_the_statement_is_one_footer_link_away_and_axe_clean(started):
    duo = started
    open_page(duo, "/hotspots")
    link = duo.driver.find_element(By.CSS_SELECTOR, "footer a[href='/accessibility']")
    duo.driver.execute_script("arguments[0].scrollIntoView(); arguments[0].click()", link)
    wait_for(lambda: "Compliance status" in duo.driver.find_element(By.ID, "page-content").text)
    assert duo.driver.title.startswith(accessibility.PAGE_TITLE)
    assert serious_violations(duo.driver) == []


def test_the_statement_says_what_the_regulations_ask(app):
    text = json.dumps(accessibility.layout().to_plotly_json(), default=str)
    for words in (
        "partially compliant",
        "Web Content Accessibility Guidelines version 2.2",
        "Non-compliance with the accessibility regulations",
        "Disproportionate burden",
        "Enforcement procedure",
        "Equality Advisory and Support Service",
        "axe-core",
        "keyboard",
        "390 by 844",
        "Getting the data another way",
        accessibility.PREPARED,
    ):
        assert words in text, words
    assert all(criteria in text for _, _, criteria, _ in accessibility.KNOWN_PROBLEMS)


def test_the_statement_is_a_page_but_not_in_the_navigation(app):
    page = find("/accessibility")
    assert page is not None and not page.uses_filters and page not in nav_pages()
    client = app.server.test_client()
    assert client.get("/accessibility").status_code == 200
    from vrp.dashboards import shell

    with app.server.test_request_context("/"):
        layout = repr(shell.layout())
    assert layout.count("href='/accessibility'") == 1  # the footer, which every page shares
