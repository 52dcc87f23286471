"""Bad filter states, on every page: each callback the filter state drives refuses them in words, the one polite
message in every output (a card's summary, the headline), never an apology, a traceback or a 500, called
in-process and posted as the browser posts it. One test per way of asking, parametrised over the pages."""

from __future__ import annotations

import json

import pytest
from dash.development.base_component import Component

from tests.helpers import filter_state, post_callback
from vrp.callbacks import admissions, home, homicide, knife_crime, national, profile, profile_sections
from vrp.dashboards.components import CARD_PARTS

PAGE_FIELDS = {"districts", "start", "end", "age"}  # what the outcome pages read (callbacks/inputs.PAGE_STATE)
# Each page: its filter state when nothing is wrong, the filter fields it reads (a bad value in a field it does
# not read is not its to refuse), its callbacks, and outputs to post over HTTP.
PAGES = {
    "knife_crime": (
        filter_state(start="2025-04", end="2026-03"),
        PAGE_FIELDS,
        [knife_crime.trend_callback, knife_crime.breakdowns_callback, knife_crime.districts_callback],
        ["knife-title.children", "knife-funnel-graph.figure"],
    ),
    "admissions": (
        filter_state(),
        PAGE_FIELDS,
        [admissions.headline_callback, admissions.trend_callback, admissions.ages_callback]
        + [admissions.districts_callback],
        ["admissions-trend-graph.figure", "admissions-headline.children"],
    ),
    "homicide": (
        filter_state(),
        PAGE_FIELDS,
        [homicide.headline_callback, homicide.rolling_callback, homicide.methods_callback],
        ["homicide-rolling-graph.figure", "homicide-methods-graph.figure"],
    ),
    "national": (
        filter_state(districts=(), start="2012-04", end="2019-03", measure="ons_knife_crime"),
        PAGE_FIELDS,
        [national.national_callback],
        ["national-trend-graph.figure"],
    ),
    "profile": (
        filter_state(),
        {"districts", "start", "end"},
        [profile.headline_callback, profile_sections.where_callback, profile_sections.who_callback],
        ["profile-title.children"],
    ),
    "overview": (
        filter_state(),
        {"districts"},
        [home.tables_callback, home.ons_callback, lambda state: home.tile_callback("knife_enabled_sv", state)],
        ["home-heading.children"],
    ),
}
NOT_A_STATE = "not a state at all"
BAD_FILTERS = [
    {"districts": ["NOWHERE"]},
    {"districts": ["E0600XXXX"], "start": "", "end": ""},
    {"districts": ["E06000045", "'; DROP TABLE mart_counts; --"]},
    {"districts": 7},
    {"districts": ["'; DROP TABLE mart_force_counts; --"]},
    {"districts": [None, 5, {"a": 1}]},
    {"districts": [None, {"a": 1}]},
    {"start": "2026-01", "end": "2020-01"},
    {"start": "9999-99", "end": "x"},
    {"start": "9999-99"},
    {"start": 202401},
    {"age": "toddlers"},
    {"age": ["u25"]},
    {"measure": {"$ne": 1}},
    NOT_A_STATE,
]


def _bad_state(page: str, bad):
    return bad if bad is NOT_A_STATE else {**PAGES[page][0], **bad}


def _read_by(page: str, bad) -> bool:
    """Whether the page reads what is wrong (a state that is not one is every page's to refuse); the bad states
    here name only bad fields, but for an empty period beside an unknown district."""
    return bad is NOT_A_STATE or bool(set(bad) & PAGES[page][1])


def _alerts(value) -> list:
    if isinstance(value, dict):
        return [a for v in value.values() for a in _alerts(v)]
    return [value] if isinstance(value, Component) and type(value).__name__ == "Alert" else []


REFUSED = [(page, bad) for page in PAGES for bad in BAD_FILTERS if _read_by(page, bad)]


@pytest.mark.parametrize(("page", "bad"), REFUSED, ids=[f"{p}-{json.dumps(b)[:40]}" for p, b in REFUSED])
def test_a_bad_filter_is_refused_in_words_in_every_output(app, page, bad):
    with app.server.test_request_context("/"):
        answers = [callback(_bad_state(page, bad)) for callback in PAGES[page][2]]
    for out in answers:
        alerts = _alerts(out)
        messages = {str(alert.children) for alert in alerts}
        assert len(alerts) >= 1 and len(messages) == 1, out  # one message, wherever the page shows one
        assert "went wrong" not in messages.pop()  # a refusal in words, not the apology for a failure
        groups = out.values() if isinstance(out, dict) else []
        cards = [v for v in groups if isinstance(v, dict) and set(v) == set(CARD_PARTS)]
        for card in cards:  # every card empty but for the message in its summary
            assert (card["title"], card["figure"], card["table"]) == ("", {}, None)
            assert type(card["summary"]).__name__ == "Alert"


POSTED = [(page, output, bad) for page in PAGES for output in PAGES[page][3] for bad in BAD_FILTERS]


@pytest.mark.parametrize(("page", "output", "bad"), POSTED)
def test_a_bad_filter_posted_never_gives_a_500(app, page, output, bad):
    client = app.server.test_client()
    inputs = [{"id": "filter-state", "property": "data", "value": _bad_state(page, bad)}]
    response = post_callback(client, output, inputs)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Traceback" not in text and "sqlalchemy" not in text.lower()
    assert ('"Alert"' in text) == _read_by(page, bad)  # refused in words exactly when the page reads it
