"""The district profile in chromium: every card drawn, an empty browser log, axe-core clean; and printed by chromium
to PDF: A4, a cover page with the district and period, no navigation or filters, and each chart on the same page
as its card's title (the cards are kept whole by assets/print.css)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.a11y import serious_violations
from tests.helpers import wait_for
from vrp.app import create_app
from vrp.dashboards import profile as ids

pytestmark = pytest.mark.browser
CARDS = (ids.RATIOS, ids.TREND, ids.PLACES, ids.GRID, ids.AGES, ids.DEPRIVATION, ids.FUNNEL)
# Text drawn inside each chart (an axis title), to find the chart's page in the PDF.
IN_CHART = {
    ids.RATIOS: "Multiple of HIPS",
    ids.TREND: "Offences a month",
    ids.PLACES: "Offences",
    ids.AGES: "Victims",
    ids.DEPRIVATION: "IMD 2019 decile of the LSOA",
    ids.FUNNEL: "Population",
}


@pytest.fixture
def profile(dash_duo, demo_warehouse):
    app = create_app(demo_warehouse.with_(cache_type="SimpleCache"))
    dash_duo.driver.set_script_timeout(30)
    dash_duo.start_server(app)
    dash_duo.driver.get(dash_duo.server_url + "/profile?district=E06000045")
    wait_for(lambda: "Southampton" in dash_duo.find_element(f"#{ids.TITLE}").text, timeout=40)
    for card in CARDS:
        wait_for(lambda card=card: dash_duo.find_element(f"#{card}-title").text, timeout=40)
    wait_for(lambda: "What is hidden" in dash_duo.find_element(f"#{ids.ABOUT}").text, timeout=40)
    yield dash_duo
    app.server.config["VRP_WAREHOUSE"].dispose()


def test_the_profile_draws_every_card_and_passes_axe(profile):
    for card in CARDS:
        if card != ids.GRID:  # the public grid is a card that says "shown to partners only"
            wait_for(lambda card=card: profile.driver.find_elements("css selector", f"#{card}-graph .main-svg"))
    assert "shown to partners only" in profile.find_element(f"#{ids.GRID}-title").text
    assert profile.find_element("#profile-headline-table").text.count("12 months to") >= 3
    assert serious_violations(profile.driver) == []
    # Printing redraws the charts at the paper's width (assets/vrp-print.js), and back afterwards.
    widths = "return [...document.querySelectorAll('.js-plotly-plot')].map(g => g._fullLayout.width);"
    profile.driver.execute_script("window.dispatchEvent(new Event('beforeprint'));")
    wait_for(lambda: set(profile.driver.execute_script(widths)) == {660})
    profile.driver.execute_script("window.dispatchEvent(new Event('afterprint'));")
    wait_for(lambda: min(profile.driver.execute_script(widths)) > 660)
    assert profile.get_logs() == []


def _pages(pdf) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [re.sub(r"\s+", " ", page) for page in text.split("\f")]


def test_the_profile_prints_to_a4_with_a_cover_and_whole_cards(profile, tmp_path):
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext is missing: make pdftotext (poppler-utils)")
    titles = {card: profile.find_element(f"#{card}-title").text for card in CARDS}
    pdf = tmp_path / "profile.pdf"
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            "--virtual-time-budget=30000",
            f"--print-to-pdf={pdf}",
            profile.server_url + "/profile?district=E06000045",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+59[45]\.\d+ x 841\.\d+ pts \(A4\)", info), info
    pages = [p for p in _pages(pdf) if p.strip()]
    assert 4 <= len(pages) <= 16, len(pages)
    cover = pages[0]
    assert "District profile: Southampton" in cover and "2026" in cover
    assert "Headline measures" not in cover  # the cover is a page of its own
    text = " ".join(pages)
    for chrome in ("Skip to main content", "Age group", "Print or save as PDF", "Download data (CSV)"):
        assert chrome not in text, chrome
    for card, words in IN_CHART.items():
        start = re.sub(r"\s+", " ", titles[card])[:40]
        on = [i for i, page in enumerate(pages) if start in page]
        assert on, (card, start)
        assert words in pages[on[0]], (card, "chart not on its title's page")
