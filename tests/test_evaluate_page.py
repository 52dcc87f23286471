"""The /evaluate page in headless chromium: a link's fragment fills the controls and draws the evaluation the API
gives, a change of inputs updates it and the link, a refusal is shown politely, and axe-core finds nothing
serious."""

from __future__ import annotations

import csv
import glob
import os
from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.a11y import serious_violations
from tests.helpers import wait_for
from vrp.app import create_app

pytestmark = pytest.mark.browser
SOUTHAMPTON, PORTSMOUTH = "E06000045", "E06000044"


@pytest.fixture
def started(dash_duo, demo_warehouse):
    app = create_app(demo_warehouse.with_(cache_type="SimpleCache"))
    dash_duo.driver.set_script_timeout(30)
    dash_duo.start_server(app)
    yield dash_duo, app
    app.server.config["VRP_WAREHOUSE"].dispose()


def fragment(duo) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlparse(duo.driver.current_url).fragment).items()}


def test_evaluate_from_a_link_in_the_browser(started):
    duo, app = started
    link = f"/evaluate#measure=knife_enabled_sv&area={SOUTHAMPTON}&start=2024-04&comparison={PORTSMOUTH}"
    duo.driver.get(duo.server_url + link)
    result = wait_for(lambda: duo.find_element("#evaluate-result").text, timeout=30)
    api = app.server.test_client().get(
        f"/api/v1/evaluate?measure=knife_enabled_sv&area={SOUTHAMPTON}&start=2024-04&comparison={PORTSMOUTH}"
    )
    sentences = api.get_json()["sentences"]
    assert sentences[0] in result and sentences[2] in result
    assert "regression to the mean" in duo.find_element("#evaluate-caveats").text
    traces = wait_for(
        lambda: duo.driver.execute_script(
            "const g = document.querySelector('#evaluate-its-graph .js-plotly-plot');"
            "return g && g.data ? g.data.map(t => t.name) : null;"
        )
    )
    assert traces == [
        "95% interval",
        "Expected, no intervention",
        "Model fit",
        "Recorded",
        "Portsmouth (right axis)",
    ]
    wait_for(lambda: "Smallest drop" in duo.find_element("#evaluate-plan-title").text, timeout=40)
    assert serious_violations(duo.driver) == []
    # The chart's CSV is the evaluation the page shows (its question comes from the page, not the filters).
    csv_button = duo.find_element("""[id='{"card":"evaluate-its","type":"vrp-export-csv"}']""")
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", csv_button)
    saved = wait_for(lambda: glob.glob(os.path.join(duo.download_path, "knife-enabled-sv_evaluation_southampton*.csv")))
    with open(saved[0], encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["place"] for r in rows} == {"Southampton"} and {r["Phase"] for r in rows} >= {"before", "after"}

    Select(duo.find_element("#evaluate-phase-in")).select_by_value("3")
    wait_for(lambda: fragment(duo).get("phase_in") == "3")
    wait_for(lambda: duo.find_element("#evaluate-result").text.startswith("After July 2024"))
    assert fragment(duo)["comparison"] == PORTSMOUTH and fragment(duo)["area"] == SOUTHAMPTON

    # A district whose months are partly hidden: refused, saying why, for the public.
    duo.driver.find_element(
        By.XPATH, "//section[@aria-label='What to evaluate']//label[normalize-space()='Hart']"
    ).click()

    def refusal():
        text = duo.find_element("#evaluate-result").text
        return "needs every month" in text and text

    message = wait_for(refusal)
    assert "signed-in partners" in message
    assert duo.get_logs() == []


def test_both_cards_download_what_the_page_asked(demo_warehouse):
    """In-process: the evaluation's CSV is its table, month by month; the plan's is its power curve; a forged or
    missing question is refused in a sentence."""
    from vrp.callbacks import evaluate as cb
    from vrp.callbacks.exports import card_export
    from vrp.data_access.validation import InvalidQuery

    app = create_app(demo_warehouse.with_(cache_type="SimpleCache"))
    state = {"districts": [], "start": "2025-10", "end": "2026-09", "measure": "knife_enabled_sv", "age": "all"}
    asked = {"measure": "knife_enabled_sv", "area": [SOUTHAMPTON], "start": "2024-04", "phase_in": "0"}
    try:
        with app.server.test_request_context("/"):
            chart = card_export(state, "evaluate-its", asked)
            shown = cb.chart_view(asked)
            plan = card_export(state, "evaluate-plan", {**asked, "months_after": "12"})
            with pytest.raises(InvalidQuery, match="Choose an evaluation"):
                card_export(state, "evaluate-its", None)
            with pytest.raises(InvalidQuery):
                card_export(state, "evaluate-its", {**asked, "measure": "no_such_measure"})
    finally:
        app.server.config["VRP_WAREHOUSE"].dispose()
    table = shown["table"]
    assert len(chart.frame) == len(table.children[1].children)  # a row a month, as the card's table
    assert chart.stem.startswith("knife-enabled-sv_evaluation_southampton") and chart.figure is not None
    assert set(chart.frame["place"]) == {"Southampton"}
    assert list(plan.frame.columns[:2]) == ["Drop in level (%)", "Power (%)"] and plan.stem.count("_plan_") == 1
