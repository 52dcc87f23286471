"""The filter state in the URL: a link reproduces the view; anything unknown or malformed is reported and
replaced by the default, never an error."""

import pytest

from vrp.data_access.filter_state import (
    PUBLIC_KINDS,
    FilterState,
    apply_preset,
    from_query,
    matching_preset,
    public_periods,
)
from vrp.data_access.queries import Warehouse


@pytest.fixture(scope="module")
def wh(demo_warehouse):
    """The partner audience: free month windows and any districts."""
    w = Warehouse(demo_warehouse.with_(audience="partner"))
    yield w
    w.dispose()


@pytest.fixture(scope="module")
def public(demo_warehouse):
    w = Warehouse(demo_warehouse.with_(audience="public"))
    yield w
    w.dispose()


def published_spans(wh, measure_id: str) -> set[tuple[str, str]]:
    """The periods pub_cube holds for the measure at HIPS level, read directly."""
    frame = wh.read(
        "SELECT DISTINCT strftime(period_start, '%Y-%m') AS s, strftime(period_end, '%Y-%m') AS e "
        f"FROM pub_cube WHERE measure_id = '{measure_id}' AND area_level = 'hips'"
    )
    return set(zip(frame["s"], frame["e"], strict=True))


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


def test_public_periods_are_the_published_cells_latest_rolling_year_first(public):
    options = public_periods(public, "knife_enabled_sv")
    spans = {tuple(o["value"].split("/")) for o in options}
    assert spans == published_spans(public, "knife_enabled_sv")  # every published span, once
    assert len(options) == len(spans)  # a rolling year ending in March is listed once, as its financial year
    assert options[0] == {"label": "12 months to Sep 2026", "value": "2025-10/2026-09", "kind": "rolling12"}
    assert {"label": "Financial year 2025/26", "value": "2025-04/2026-03", "kind": "fy"} in options
    assert [o["kind"] for o in options] == sorted((o["kind"] for o in options), key=list(PUBLIC_KINDS).index)


def test_public_default_is_the_latest_published_rolling_year(public):
    state = from_query(public, "")
    assert (state.start, state.end, state.problems) == ("2025-10", "2026-09", ())


@pytest.mark.parametrize(
    "query, expected, problem",
    [
        # A free window of months could be subtracted from a published one: replaced, and the page says why.
        ("?from=2024-02&to=2024-11", ((), "2025-10", "2026-09"), "published for fixed periods"),
        ("?from=2024-04&to=2025-03", ((), "2024-04", "2025-03"), None),  # a financial year is published
        ("?from=2024-07&to=2024-09", ((), "2024-07", "2024-09"), None),  # a quarter
        ("?from=2024-07&to=2024-07", ((), "2024-07", "2024-07"), None),  # a month (this measure has months)
        ("?district=E06000045,E06000044", (("E06000044",), "2025-10", "2026-09"), "one district at a time"),
    ],
)
def test_public_links_keep_only_published_cells(public, query, expected, problem):
    state = from_query(public, query)
    assert (state.districts, state.start, state.end) == expected
    if problem:
        assert any(problem in p for p in state.problems), state.problems
    else:
        assert state.problems == ()
    assert (state.start, state.end) in published_spans(public, state.measure)


def test_a_page_measure_chooses_the_public_periods(public):
    """The admissions page's measure has no months: a month in the link gives its latest rolling year."""
    month = from_query(public, "?from=2024-07&to=2024-07", period_measure="sharp_object_admissions")
    assert (month.start, month.end) == ("2025-10", "2026-09")
    assert any("sharp object is published for fixed periods" in p for p in month.problems), month.problems
    quarter = from_query(public, "?from=2024-07&to=2024-09", period_measure="sharp_object_admissions")
    assert (quarter.start, quarter.end, quarter.problems) == ("2024-07", "2024-09", ())


def test_the_hotspots_map_offers_the_published_lsoa_years(public):
    years = public_periods(public, "serious_violence", "lsoa")
    assert {o["kind"] for o in years} == {"fy"} and years[0]["value"] == "2025-04/2026-03"
    state = from_query(public, "?from=2024-07&to=2024-09", period_level="lsoa")
    assert (state.start, state.end) == ("2025-04", "2026-03")
    assert any("published on the map for fixed periods (financial years)" in p for p in state.problems)
    # A measure the map does not publish by LSOA keeps its area periods (the page says it is not mapped).
    assert public_periods(public, "police_uk_robbery", "lsoa") == public_periods(public, "police_uk_robbery")
