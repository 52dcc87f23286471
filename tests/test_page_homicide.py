"""The homicide page: rolling three-year counts and the method breakdown equal a direct count on the warehouse,
small counts are hidden for the public, only aggregates leave data_access, bad filter values are refused politely
(no 500), and the page works in the browser with an empty log and no serious accessibility violations."""

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from tests.a11y import serious_violations
from tests.helpers import drawn, filter_state, tick, wait_for
from vrp.app import create_app
from vrp.callbacks import homicide as cb
from vrp.callbacks.outcome_scope import open_page
from vrp.data_access import outcomes
from vrp.data_access.published import NotPublished
from vrp.data_access.validation import InvalidQuery

SOTON = "E06000045"
ROLLING = ("2025-10", "2026-09")  # a published rolling year


state = filter_state  # Southampton, the published rolling year ROLLING


def sql_victims(wh, start, end, district=None, extra="") -> int:
    where = f"month BETWEEN DATE '{start}-01' AND DATE '{end}-01'" + extra
    if district:
        where += f" AND district_code = '{district}'"
    return int(wh.read(f"SELECT COUNT(*) AS n FROM fact_homicides WHERE {where}")["n"][0])


def cube(wh, measure, area, period_type="rolling12", age="all") -> pd.DataFrame:
    """The independent reference for public pages: published cells straight from pub_cube by SQL, indexed by
    period end (YYYY-MM): start, count (None where hidden)."""
    level = "hips" if area == "HIPS" else "district"
    frame = wh.read(
        "SELECT period_start, period_end, count, suppressed FROM pub_cube "
        f"WHERE measure_id = '{measure}' AND area_level = '{level}' AND area_code = '{area}' AND age = '{age}' "
        f"AND period_type = '{period_type}' ORDER BY period_start"
    )
    counts = [None if h else int(n) for n, h in zip(frame["count"], frame["suppressed"], strict=True)]
    frame["count"] = pd.Series(counts, index=frame.index, dtype=object)
    frame["start"] = [f"{pd.Timestamp(d):%Y-%m}" for d in frame["period_start"]]
    frame.index = [f"{pd.Timestamp(d):%Y-%m}" for d in frame["period_end"]]
    return frame


def words(component) -> str:
    return pio.json.to_json(component)


# ---- public: published cells only ------------------------------------------------------------------------------


@pytest.mark.parametrize("districts", [(SOTON,), ()])
def test_public_headline_is_the_published_cells(app, wh, districts):
    area = districts[0] if districts else "HIPS"
    with app.server.test_request_context("/"):
        headline = cb.update_headline(state(districts))["headline"]
    text = words(headline)
    for measure, label in (("homicide", "All homicides"), ("homicide_u25_non_domestic", "non-domestic settings")):
        n = cube(wh, measure, area).loc[ROLLING[1], "count"]
        assert (f"{label}: {n:,} victims" if n is not None else f"{label}: a hidden number (*) of victims") in text
    assert "fewer than" not in text  # a cell hidden to protect another need not be small
    assert "published for" not in text  # the period asked is published: no note


def test_a_period_the_measure_lacks_gives_the_published_one_with_a_note(app, wh):
    """Homicides publish no quarters: a quarter gives the latest rolling year, and the page says so."""
    with app.server.test_request_context("/"):
        headline = cb.update_headline(state((), "2026-07", "2026-09"))["headline"]
    latest = cube(wh, "homicide", "HIPS").iloc[-1]
    text = words(headline)
    shown = f"{pd.Timestamp(latest['period_end']):%b %Y}"
    assert f"Homicide is published for financial years, rolling 12 months: showing 12 months to {shown}" in text
    n = latest["count"]
    assert f"All homicides: {n:,} victims" in text if n is not None else "a hidden number (*) of victims" in text


def test_public_rolling_totals_are_the_published_rolling_years(app, wh):
    with app.server.test_request_context("/"):
        scope = open_page(state(), cb.ids.ALL_ID)[1]
        frame = cb.rolling_frame(wh, scope, cb.PUBLIC_WINDOW)
        card = cb.update_rolling(state())
    frame.index = [f"{d:%Y-%m}" for d in frame["window_end"]]
    for col, measure in (("all", "homicide"), ("young", "homicide_u25_non_domestic")):
        ref = cube(wh, measure, SOTON)
        assert list(frame.index) == list(ref.index)
        assert [None if pd.isna(v) else int(v) for v in frame[col]] == list(ref["count"]), col
        assert [f"{pd.Timestamp(d):%Y-%m}" for d in frame["window_start"]] == list(ref["start"])
    assert all(v == 0 or v >= 3 for v in frame["all"].dropna())
    hidden = int(frame["all"].isna().sum() + frame["young"].isna().sum())
    assert hidden and f"{hidden} 12-month totals are hidden (*)" in card["summary"]
    assert "gaps in the lines" in card["summary"]
    drawn = card["figure"].data[0].y  # hidden points are gaps, never zeros
    assert sum(v is None or pd.isna(v) for v in drawn) == int(frame["all"].isna().sum())
    assert card["title"].startswith("In the 12 months to September 2026") and "Southampton" in card["title"]


def test_public_methods_are_shown_to_partners_only_and_say_why(app, wh):
    with pytest.raises(NotPublished):
        outcomes.homicide_methods(wh, "homicide", [SOTON], *ROLLING)
    with app.server.test_request_context("/"):
        card = cb.methods_callback(state())
    title, summary, table = card["title"], card["summary"], card["table"]
    assert "shown to partners only" in title and "could reveal small numbers" in summary
    assert type(summary).__name__ == "str" and table is None  # a normal state of the card, not an error
    # The chart says so too: it drew empty default axes before.
    figure = go.Figure(card["figure"])
    assert figure.data == () and [a.text for a in figure.layout.annotations] == ["Shown to partners only"]
    assert figure.layout.xaxis.visible is False and figure.layout.yaxis.visible is False
    assert "About this measure" in words(card["about"])


def test_several_districts_are_refused_politely_in_public(app):
    with app.server.test_request_context("/"):
        out = cb.rolling_callback(state((SOTON, "E06000044")))
    assert type(out["summary"]).__name__ == "Alert" and "one district at a time" in words(out["summary"])


# ---- partner: the marts, unchanged -----------------------------------------------------------------------------


def test_rolling_three_years_equal_a_direct_count(partner):
    rolling = outcomes.rolling_counts(partner, "homicide", [SOTON]).set_index("window_end")
    last = rolling.index.max()
    assert f"{last:%Y-%m}" == "2026-09" and f"{rolling.loc[last, 'window_start']:%Y-%m}" == "2023-10"
    assert int(rolling.loc[last, "count"]) == sql_victims(partner, "2023-10", "2026-09", SOTON)
    young = outcomes.rolling_counts(partner, "homicide_u25_non_domestic").set_index("window_end")
    assert int(young.loc[last, "count"]) == sql_victims(
        partner, "2023-10", "2026-09", extra=" AND victim_age <= 24 AND NOT domestic"
    )
    assert all(d.month % 3 == 0 for d in rolling.index)  # quarter ends only
    assert (rolling["population"] > 0).all()


def test_methods_equal_a_direct_count_and_are_aggregates_only(partner):
    methods = outcomes.homicide_methods(partner, "homicide", [], "2023-10", "2026-09")
    assert set(methods.columns) == {"method", "label", "count", "share", "suppressed"}  # no victim-level field
    assert int(methods["count"].sum()) == sql_victims(partner, "2023-10", "2026-09")
    sharp = methods.set_index("method").loc["sharp_instrument", "count"]
    assert sharp == sql_victims(partner, "2023-10", "2026-09", extra=" AND method = 'sharp_instrument'")
    with pytest.raises(InvalidQuery):
        outcomes.homicide_methods(partner, "sharp_object_admissions")


def test_titles_state_findings_and_every_card_has_its_parts(partner_app):
    three_years = state(start="2023-10")
    with partner_app.server.test_request_context("/"):
        shown = cb.update_headline(three_years)
        rolling = cb.update_rolling(three_years)
        methods = cb.update_methods(state(districts=(), start="2023-10"))
        hips_headline = words(cb.update_headline(state(districts=(), start="2023-10"))["headline"])
    assert shown["title"] == "Homicide: Southampton"
    assert "per million residents a year" in words(shown["headline"])
    assert rolling["title"].startswith("In the 3 years to September 2026") and "Southampton" in rolling["title"]
    assert "per million a year" in rolling["title"]
    assert "sharp instrument killed" in methods["title"] and "all of HIPS" in methods["title"]
    assert "95% confidence interval" in methods["summary"]
    assert '"All of HIPS, October 2023 to September 2026"' in hips_headline  # the place opens with a capital
    for card, traces in ((rolling, ["scatter", "scatter"]), (methods, ["bar"])):  # two rolling lines; method bars
        types, table, n_words = drawn(card)
        assert (types, table) == (traces, "Table") and n_words >= 6
        assert "SYNTHETIC" in "".join(card["footnote"])
        assert "About this measure" in words(card["about"])


@pytest.mark.browser
def test_homicide_page_in_the_browser(dash_duo, demo_warehouse):
    app = create_app(demo_warehouse.with_(cache_type="SimpleCache"))
    dash_duo.driver.set_script_timeout(30)
    dash_duo.start_server(app)
    dash_duo.driver.get(dash_duo.server_url + "/homicide?district=E06000045")
    wait_for(lambda: "Southampton" in dash_duo.find_element("#homicide-title").text)
    wait_for(lambda: dash_duo.driver.find_elements("css selector", "#homicide-rolling-graph .main-svg"))
    assert "Southampton" in dash_duo.find_element("#homicide-rolling-title").text
    tick(dash_duo, "Portsmouth")  # the public choose one district at a time
    wait_for(lambda: "Portsmouth" in dash_duo.find_element("#homicide-rolling-title").text)
    assert "shown to partners only" in dash_duo.find_element("#homicide-methods-title").text
    assert serious_violations(dash_duo.driver) == []
    assert dash_duo.get_logs() == []
    app.server.config["VRP_WAREHOUSE"].dispose()
