"""The filter state in the URL: a link reproduces the view; anything unknown or malformed is reported and
replaced by the default, never an error."""

import pytest

from vrp.dashboards.filters import FilterState, apply_preset, from_query, matching_preset
from vrp.data_access.queries import Warehouse


@pytest.fixture(scope="module")
def wh(demo_warehouse):
    w = Warehouse(demo_warehouse)
    yield w
    w.dispose()


def test_defaults_are_all_of_hips_latest_twelve_months(wh):
    state = from_query(wh, "")
    assert state == FilterState((), "2025-10", "2026-09", "serious_violence", "all")
    assert state.problems == ()


def test_a_link_round_trips(wh):
    state = from_query(wh, "?district=E06000045,E06000044&from=2024-01&to=2024-12&measure=knife_enabled_sv&age=u25")
    assert state == FilterState(("E06000044", "E06000045"), "2024-01", "2024-12", "knife_enabled_sv", "u25")
    assert from_query(wh, state.query()) == state
    assert "district=E06000044,E06000045" in state.query()


@pytest.mark.parametrize(
    "query, expected, problem",
    [
        ("?district=E06000045,NOWHERE", FilterState(("E06000045",), "2025-10", "2026-09"), "Unknown district"),
        ("?measure=<script>alert(1)</script>", FilterState((), "2025-10", "2026-09"), "Unknown measure"),
        ("?from=2026-03&to=2025-01", FilterState((), "2025-10", "2026-09"), "started (2026-03) after it ended"),
        ("?from=13/2024", FilterState((), "2025-10", "2026-09"), "is not a month like"),
        ("?from=1850-01&to=1850-12", FilterState((), "2025-10", "2026-09"), "has data from 2021-04 to 2026-09"),
        ("?from=2019-01&to=2021-12", FilterState((), "2021-04", "2021-12"), "starts in 2021-04"),
        ("?age=elderly", FilterState((), "2025-10", "2026-09"), "Unknown age group"),
        (
            "?measure=police_uk_robbery&age=u25",
            FilterState((), "2022-02", "2022-02", "police_uk_robbery"),
            "has no victim ages",
        ),
        ("?district=E06000045'%3B DROP TABLE dim_area%3B--", FilterState((), "2025-10", "2026-09"), "Unknown district"),
        ("?colour=red", FilterState((), "2025-10", "2026-09"), "Unknown link parameter ignored: colour"),
    ],
)
def test_bad_values_are_reported_and_replaced(wh, query, expected, problem):
    state = from_query(wh, query)
    assert state == expected
    assert any(problem in p for p in state.problems), state.problems


def test_presets(wh):
    assert apply_preset(wh, "serious_violence", "12m") == ("2025-10", "2026-09")
    assert apply_preset(wh, "serious_violence", "36m") == ("2023-10", "2026-09")
    assert apply_preset(wh, "serious_violence", "fy") == ("2025-04", "2026-03")
    assert apply_preset(wh, "serious_violence", "all") == ("2021-04", "2026-09")


def test_the_preset_a_period_matches_is_named(wh):
    assert matching_preset(wh, "serious_violence", "2025-10", "2026-09") == "12m"
    assert matching_preset(wh, "serious_violence", "2025-04", "2026-03") == "fy"
    assert matching_preset(wh, "serious_violence", "2021-04", "2026-09") == "all"
    assert matching_preset(wh, "serious_violence", "2025-10", "2026-08") == "custom"
    assert matching_preset(wh, "serious_violence", "", "") == "custom"  # a measure with nothing loaded
