"""The pages' "Download briefing pack" in chromium: the progress line while the pack is made, the buttons off
until it is done, the file saved and readable, and a request the pack cannot answer refused on the page."""

import glob
import io
import os

import pytest
from pptx import Presentation

from tests.a11y import serious_violations
from tests.helpers import wait_for
from vrp.app import create_app
from vrp.callbacks.briefing import MAKING

pytestmark = pytest.mark.browser


@pytest.fixture
def duo(dash_duo, demo_warehouse):
    app = create_app(demo_warehouse.with_(cache_type="SimpleCache"))
    dash_duo.start_server(app)
    yield dash_duo
    app.server.config["VRP_WAREHOUSE"].dispose()


def click(duo, selector: str) -> None:
    element = duo.find_element(selector)
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", element)


def test_the_profile_downloads_a_powerpoint_pack_with_progress(duo):
    duo.driver.get(duo.server_url + "/profile?district=E06000045")
    duo.wait_for_contains_text("#profile-title", "Southampton", timeout=30)
    click(duo, "#profile-pack-pptx")
    # While the pack is made: the progress line says so and the buttons wait.
    wait_for(lambda: MAKING in duo.find_element("#profile-pack-progress").text, timeout=10)
    assert duo.find_element("#profile-pack-pptx").get_attribute("disabled") is not None
    assert duo.find_element("#profile-pack-pdf").get_attribute("disabled") is not None
    found = wait_for(lambda: glob.glob(os.path.join(duo.download_path, "briefing_southampton*.pptx")), timeout=90)
    wait_for(lambda: duo.find_element("#profile-pack-progress").text == "", timeout=10)
    assert duo.find_element("#profile-pack-pptx").get_attribute("disabled") is None
    with open(found[0], "rb") as f:
        deck = Presentation(io.BytesIO(f.read()))
    assert deck.slides[0].shapes.title.text == "Serious violence briefing: Southampton"
    assert len(deck.slides) == 9
    assert serious_violations(duo.driver) == []
