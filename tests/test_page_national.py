"""The national comparison page: Hampshire's figures equal the ONS file, England and Wales is the sum of the
forces, the April 2019 series break is marked on every chart that crosses it (tested with a small synthetic
frame, since the loaded file ends in 2018/19), districts are ignored and said to be, and the page works in the
browser. Bad filter values: tests/test_bad_filters.py."""

import functools
from datetime import date

import pandas as pd
import plotly.io as pio
import pytest

from tests.a11y import serious_violations
from tests.helpers import drawn, filter_state, wait_for
from vrp.app import create_app
from vrp.callbacks import national as cb
from vrp.figures.national import BREAK_LABEL, SERIES_BREAK, breaks_for, crosses_break, gap_at_break
from vrp.periods import fy_mid

SOTON = "E06000045"


state = functools.partial(filter_state, districts=(), start="2012-04", end="2019-03", measure="ons_knife_crime")


def test_most_similar_forces_are_spelled_as_in_the_data(wh):
    forces = set(wh.force_quarterly("ons_knife_crime")["force_name"])
    assert set(cb.MOST_SIMILAR) <= forces and "Hampshire" in forces
    assert "City of London" not in forces  # so England and Wales here excludes it, as the page says


def test_rates_equal_the_file(wh):
    annual = cb.annual_rates(wh.force_quarterly("ons_knife_crime")).set_index(["group", "fy"])
    assert annual.loc[("Hampshire", "2012-13"), "count"] == 365  # the published ONS figure
    assert round(annual.loc[("Hampshire", "2012-13"), "rate"]) == 19
    # The ONS series is open data: its mart stays readable in public (the records table does not).
    sql = wh.read(
        "SELECT SUM(count) AS n, SUM(population) / 4 AS pop FROM mart_force_counts "
        "WHERE measure_id = 'ons_knife_crime' AND financial_year = '2018-19'"
    )
    assert annual.loc[("England and Wales", "2018-19"), "count"] == int(sql["n"][0])
    expected = int(sql["n"][0]) / float(sql["pop"][0]) * 100_000
    assert annual.loc[("England and Wales", "2018-19"), "rate"] == pytest.approx(expected, rel=1e-6)


def test_title_states_the_finding_and_districts_are_ignored(app):
    with app.server.test_request_context("/"):
        out = cb.update(state())
        with_district = cb.update(state(districts=(SOTON,)))
    title = out["trend"]["title"]
    assert title.startswith("Hampshire's knife crime rate rose from 19 to 41 per 100,000 between 2012/13 and 2018/19")
    assert "England and Wales" in title
    cards = [out[name] for name in cb.CARDS]
    assert pio.json.to_json_plotly(cards) == pio.json.to_json_plotly([with_district[name] for name in cb.CARDS])
    assert "does not apply" in pio.json.to_json(with_district["note"])
    assert "Southampton" in pio.json.to_json(with_district["note"])
    # Three lines (Hampshire, England and Wales, similar forces); the forces' intervals; Hampshire by quarter.
    for card, traces in zip(cards, (["scatter"] * 3, ["scatter"], ["scatter"]), strict=True):
        figure, footnote, about = card["figure"], card["footnote"], card["about"]
        types, table, n_words = drawn(card)
        assert (types, table) == (traces, "Table") and n_words >= 6
        assert "City of London" in "".join(footnote) and "SYNTHETIC" not in "".join(footnote)
        assert "About this measure" in pio.json.to_json(about)
        # The loaded data end in 2018/19: no chart crosses the break, so none is marked.
        assert BREAK_LABEL not in pio.json.to_json(figure)


def test_period_outside_the_series_shows_every_year_and_says_so(app):
    with app.server.test_request_context("/"):
        out = cb.update(state(start="2025-10", end="2026-09", age="u25"))
    note = pio.json.to_json(out["note"])
    assert "every year is shown" in note and "no victim ages" in note
    assert "2008/09 and 2018/19" in out["trend"]["title"]


def test_break_logic_on_a_small_synthetic_frame():
    assert crosses_break([date(2018, 10, 1), date(2019, 10, 1)])
    assert crosses_break(["2019-01-01", "2019-04-01"])
    assert not crosses_break([date(2017, 10, 1), date(2018, 10, 1)])
    assert not crosses_break([date(2019, 4, 1), date(2020, 1, 1)])  # starts on the break: nothing to compare across
    assert breaks_for([]) == []
    frame = pd.DataFrame({"x": ["2018-10-01", "2019-10-01"], "v": [1.0, 2.0]})
    gapped = gap_at_break(frame, "x")
    assert len(gapped) == 3 and pd.isna(gapped["v"].iloc[1]) and gapped["x"].iloc[1] == SERIES_BREAK.isoformat()


def synthetic_quarters(wh) -> pd.DataFrame:
    """The loaded 2017/18-2018/19 quarters plus a made-up 2019/20 (the 2018/19 counts, a year later)."""
    q = wh.force_quarterly("ons_knife_crime")
    q = q[q["financial_year"].isin(["2017-18", "2018-19"])]
    later = q[q["financial_year"] == "2018-19"].copy()
    later["financial_year"] = "2019-20"
    later["quarter_start"] = later["quarter_start"].map(lambda d: d.replace(year=d.year + 1))
    later["count"] = later["count"] * 2
    return pd.concat([q, later], ignore_index=True)


def test_every_chart_that_crosses_april_2019_marks_the_break(app, wh):
    quarters = synthetic_quarters(wh)
    annual = cb.annual_rates(quarters)
    years = sorted(annual["fy"].unique())
    measure = wh.registry.get("ons_knife_crime")
    with app.server.test_request_context("/"):
        trend = cb.trend_card(wh, measure, annual, years)
        by_quarter = cb.quarters_card(wh, measure, quarters, years)
        forces = cb.forces_card(wh, measure, quarters, annual)
    for card in (trend, by_quarter):
        fig = card["figure"]
        assert [s.x0 for s in fig.layout.shapes if s.type == "line"] == [SERIES_BREAK.isoformat()]
        assert BREAK_LABEL in [a.text for a in fig.layout.annotations]
        assert any(pd.isna(y) for y in fig.data[0].y)  # the line is not joined across the break
        assert "April 2019" in card["summary"]
    assert "2019/20" in forces["title"]  # a single year crosses nothing
    assert BREAK_LABEL not in pio.json.to_json(forces["figure"])
    # The yearly axis itself: the break falls between 2018/19 and 2019/20.
    assert fy_mid("2018-19") < SERIES_BREAK < fy_mid("2019-20")


@pytest.mark.browser
def test_national_page_in_the_browser(dash_duo, demo_warehouse):
    app = create_app(demo_warehouse.with_(cache_type="SimpleCache"))
    dash_duo.driver.set_script_timeout(30)
    dash_duo.start_server(app)
    dash_duo.driver.get(dash_duo.server_url + "/national?district=E06000045&measure=ons_knife_crime")
    wait_for(lambda: dash_duo.driver.find_elements("css selector", "#national-trend-graph .main-svg"))
    wait_for(lambda: "Southampton" in dash_duo.find_element("#national-note").text)
    assert "does not apply" in dash_duo.find_element("#national-note").text
    assert "Hampshire" in dash_duo.find_element("#national-trend-title").text
    assert serious_violations(dash_duo.driver) == []
    assert dash_duo.get_logs() == []
    app.server.config["VRP_WAREHOUSE"].dispose()
