"""Presentation mode (issue 13 point 5) in chromium at 1920x1080: no navigation, filters or footer, the full width,
chart text at least 20 px on screen, one card to a screen, the arrow keys step between cards, Esc leaves."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.helpers import open_page, screen, wait_for
from vrp.app import create_app

pytestmark = pytest.mark.browser

# Per chart: the smallest text on screen (computed font size times the CSS scale on the chart), in px.
SMALLEST_TEXT = """
return Array.from(document.querySelectorAll('main .js-plotly-plot')).filter(g => g.offsetParent).map(g => {
  const scale = g.getBoundingClientRect().width / g.offsetWidth;
  const sizes = Array.from(g.querySelectorAll('svg text')).filter(t => t.textContent.trim())
    .map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
  return [g.parentElement.id, Math.min(...sizes), g.getBoundingClientRect().width];
});
"""
CARD_TOPS = (
    "return Array.from(document.querySelectorAll('main .card')).filter(c => !c.parentElement.closest('main .card'))"
    ".map(c => [Math.round(c.getBoundingClientRect().top), Math.round(c.getBoundingClientRect().height)])"
)
SHOWN = "return getComputedStyle(document.querySelector(arguments[0])).display !== 'none'"


@pytest.fixture
def started(dash_duo, demo_warehouse):
    app = create_app(demo_warehouse.with_(cache_type="SimpleCache"))
    dash_duo.driver.set_script_timeout(30)
    dash_duo.start_server(app)
    screen(dash_duo, 1920, 1080)
    yield dash_duo
    app.server.config["VRP_WAREHOUSE"].dispose()


def press(duo, key) -> None:
    ActionChains(duo.driver).send_keys(key).perform()
    time.sleep(0.3)


def at_top(duo, card: int) -> None:
    """Wait for the card to reach the top of the screen (Bootstrap scrolls smoothly)."""
    wait_for(lambda: abs(duo.driver.execute_script(CARD_TOPS)[card][0]) <= 2, timeout=5)


def charts_scaled(duo, count: int):
    sizes = duo.driver.execute_script(SMALLEST_TEXT)
    return sizes if len(sizes) >= count and all(s[1] >= 19.9 for s in sizes) else None


def test_present_a_page_card_by_card(started):
    duo = started
    open_page(duo, "/knife-crime?present=1")
    wait_for(lambda: duo.driver.execute_script("return document.documentElement.classList.contains('vrp-present')"))
    for chrome in (".vrp-header", ".vrp-filters", ".vrp-footer"):
        assert not duo.driver.execute_script(SHOWN, chrome), chrome
    sizes = wait_for(lambda: charts_scaled(duo, 6), timeout=30)
    assert min(s[1] for s in sizes) >= 19.9
    assert min(s[2] for s in sizes) >= 1800  # the full width of a 1920 px screen, less the card's padding
    tops = duo.driver.execute_script(CARD_TOPS)
    assert len(tops) >= 6 and min(h for _, h in tops) >= 1080  # one card to a screen

    press(duo, Keys.ARROW_RIGHT)
    at_top(duo, 0)
    press(duo, Keys.ARROW_RIGHT)
    at_top(duo, 1)
    assert duo.driver.execute_script(CARD_TOPS)[0][0] < -1000
    heading = duo.driver.switch_to.active_element
    assert heading.tag_name == "h3" and heading.text  # a screen reader reads the card that came up
    press(duo, Keys.ARROW_LEFT)
    at_top(duo, 0)

    press(duo, Keys.ESCAPE)
    wait_for(lambda: not duo.driver.execute_script("return document.documentElement.classList.contains('vrp-present')"))
    assert "present" not in parse_qs(urlparse(duo.driver.current_url).query)
    assert duo.driver.execute_script(SHOWN, ".vrp-header") and duo.driver.execute_script(SHOWN, ".vrp-filters")
    transforms = duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('main .js-plotly-plot')).map(g => g.style.transform)"
    )
    assert set(transforms) == {""}
    assert duo.get_logs() == []


def test_the_present_button_and_the_filters_keep_the_mode(started):
    duo = started
    open_page(duo, "/knife-crime")
    duo.driver.find_element(By.CSS_SELECTOR, "[data-vrp-present='on']").click()
    wait_for(lambda: duo.driver.execute_script("return document.documentElement.classList.contains('vrp-present')"))
    # The filter sync writes the address back with the mode kept, and names no unknown parameter.
    wait_for(lambda: "present=1" in duo.driver.current_url and "from=" in duo.driver.current_url)
    time.sleep(1)
    assert "present=1" in duo.driver.current_url
    assert "Unknown link parameter" not in duo.driver.find_element(By.TAG_NAME, "body").text
    wait_for(lambda: charts_scaled(duo, 6), timeout=30)
    duo.driver.find_element(By.CSS_SELECTOR, "[data-vrp-present='off']").click()
    wait_for(lambda: duo.driver.execute_script(SHOWN, ".vrp-header"))
    assert "present" not in duo.driver.current_url
