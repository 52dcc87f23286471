"""Downloads in the browser: the CSV button saves the card's CSV under its name, and the chart's modebar camera
saves the server's labelled PNG (assets/vrp-export.js), not plotly's unlabelled one."""

import csv
import io
import os

import pytest

from tests.helpers import wait_for
from vrp.app import create_app

pytestmark = pytest.mark.browser
STEM = "knife-enabled-sv_victim-ages_southampton_2025-10_2026-09"


def button(card: str, kind: str) -> str:
    return f"""[id='{{"card":"{card}","type":"{kind}"}}']"""


def test_csv_button_and_modebar_camera_save_labelled_files(dash_duo, demo_warehouse):
    app = create_app(demo_warehouse.with_(cache_type="SimpleCache"))
    dash_duo.start_server(app)
    try:
        dash_duo.driver.get(dash_duo.server_url + "/knife-crime?district=E06000045&from=2025-10&to=2026-09")
        dash_duo.wait_for_contains_text("#knife-ages-title", "Under-25s", timeout=30)
        folder = dash_duo.download_path
        csv_button = dash_duo.find_element(button("knife-ages", "vrp-export-csv"))
        dash_duo.driver.execute_script(
            "arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", csv_button
        )
        saved = wait_for(lambda: os.path.exists(os.path.join(folder, STEM + ".csv")) and STEM + ".csv", timeout=20)
        with open(os.path.join(folder, saved), encoding="utf-8") as f:
            records = list(csv.DictReader(io.StringIO(f.read())))
        assert [r["Victim age"] for r in records] == ["Under 25", "25 and over"]
        assert {r["place"] for r in records} == {"Southampton"} and records[0]["measure_id"] == "knife_enabled_sv"
        # The camera: captured before plotly's own handler, it asks the server for the labelled PNG.
        dash_duo.driver.execute_script(
            "document.querySelector('#knife-ages-graph .modebar-btn[data-title^=\"Download plot\"]').click();"
        )
        png = os.path.join(folder, STEM + ".png")
        wait_for(lambda: os.path.exists(png) and os.path.getsize(png) > 1000, timeout=40)
        with open(png, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
        assert not any(name.startswith("newplot") or name.startswith("knife-ages") for name in os.listdir(folder))
        assert [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"] == []
    finally:
        app.server.config["VRP_WAREHOUSE"].dispose()
