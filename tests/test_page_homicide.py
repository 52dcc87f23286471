"""The homicide page: rolling three-year counts and the method breakdown equal a direct count on the warehouse,
small counts are hidden for the public, only aggregates leave data_access, bad filter values are refused politely
(no 500), and the page works in the browser with an empty log and no serious accessibility violations."""

import plotly.io as pio
import pytest

from tests.a11y import serious_violations
from tests.test_browser import tick, wait_for
from tests.test_hotspots import _post
from vrp.app import create_app
from vrp.callbacks import homicide as cb
from vrp.data_access import outcomes
from vrp.data_access.queries import Warehouse
from vrp.data_access.validation import InvalidQuery

SOTON = "E06000045"


@pytest.fixture(scope="module")
def partner(wh) -> Warehouse:
    return Warehouse(wh.settings.with_(audience="partner"), engine=wh.engine)


def state(districts=(SOTON,), start="2023-10", end="2026-09", age="all"):
    return {"districts": list(districts), "start": start, "end": end, "measure": "serious_violence", "age": age}


def sql_victims(wh, start, end, district=None, extra="") -> int:
    where = f"month BETWEEN DATE '{start}-01' AND DATE '{end}-01'" + extra
    if district:
        where += f" AND district_code = '{district}'"
    return int(wh.read(f"SELECT COUNT(*) AS n FROM fact_homicides WHERE {where}")["n"][0])


def test_rolling_three_years_equal_a_direct_count(partner, wh):
    rolling = outcomes.rolling_counts(partner, "homicide", [SOTON]).set_index("window_end")
    last = rolling.index.max()
    assert f"{last:%Y-%m}" == "2026-09" and f"{rolling.loc[last, 'window_start']:%Y-%m}" == "2023-10"
    assert int(rolling.loc[last, "count"]) == sql_victims(wh, "2023-10", "2026-09", SOTON)
    young = outcomes.rolling_counts(partner, "homicide_u25_non_domestic").set_index("window_end")
    assert int(young.loc[last, "count"]) == sql_victims(
        wh, "2023-10", "2026-09", extra=" AND victim_age <= 24 AND NOT domestic"
    )
    assert all(d.month % 3 == 0 for d in rolling.index)  # quarter ends only
    assert (rolling["population"] > 0).all()


def test_methods_equal_a_direct_count_and_are_aggregates_only(partner, wh):
    methods = outcomes.homicide_methods(partner, "homicide", [], "2023-10", "2026-09")
    assert set(methods.columns) == {"method", "label", "count", "share", "suppressed"}  # no victim-level field
    assert int(methods["count"].sum()) == sql_victims(wh, "2023-10", "2026-09")
    sharp = methods.set_index("method").loc["sharp_instrument", "count"]
    assert sharp == sql_victims(wh, "2023-10", "2026-09", extra=" AND method = 'sharp_instrument'")
    with pytest.raises(InvalidQuery):
        outcomes.homicide_methods(wh, "sharp_object_admissions")


def test_public_view_hides_counts_of_1_and_2(app, wh):
    methods = outcomes.homicide_methods(wh, "homicide", [SOTON], "2023-10", "2026-09")
    rolling = outcomes.rolling_counts(wh, "homicide_u25_non_domestic", [SOTON])
    for frame in (methods, rolling):
        shown = [int(v) for v in frame["count"].dropna()]
        assert all(v == 0 or v >= 3 for v in shown)
    assert methods["suppressed"].any()
    with app.server.test_request_context("/"):
        card = cb.update_methods(state())
    assert "hidden (*)" in card[1] and "1 to 2" in card[1]


def test_titles_state_findings_and_every_card_has_its_parts(app, wh):
    with app.server.test_request_context("/"):
        title, headline = cb.update_headline(state())
        rolling = cb.update_rolling(state())
        methods = cb.update_methods(state(districts=()))
    assert title == "Homicide: Southampton"
    assert "per million residents a year" in pio.json.to_json(headline)
    assert rolling[0].startswith("In the 3 years to September 2026") and "Southampton" in rolling[0]
    assert "per million a year" in rolling[0]
    assert "sharp instrument killed" in methods[0] and "all of HIPS" in methods[0]
    assert "95% confidence interval" in methods[1]
    with app.server.test_request_context("/"):  # a sentence that opens with the place takes a capital
        hips_headline = pio.json.to_json(cb.update_headline(state(districts=()))[1])
    assert '"All of HIPS, October 2023 to September 2026"' in hips_headline
    for _, summary, figure, table, footnote, about in (rolling, methods):
        assert summary and figure and table is not None
        assert "SYNTHETIC" in "".join(footnote)
        assert "About this measure" in pio.json.to_json(about)


@pytest.mark.parametrize(
    "bad",
    [{"districts": ["NOWHERE"]}, {"start": "2026-01", "end": "2020-01"}, {"age": "toddlers"}, {"districts": 7}],
)
def test_bad_filters_are_refused_politely(app, bad):
    with app.server.test_request_context("/"):
        for callback in (cb.rolling_callback, cb.methods_callback):
            out = callback({**state(), **bad})
            assert type(out[1]).__name__ == "Alert" and out[2] == {}
        assert type(cb.headline_callback({**state(), **bad})[1]).__name__ == "Alert"


@pytest.mark.parametrize(
    "bad",
    [
        {"districts": ["E06000045", "'; DROP TABLE mart_counts; --"]},
        {"start": "9999-99", "end": "x"},
        {"age": ["u25"]},
        {"districts": [None, 5, {"a": 1}]},
    ],
)
def test_bad_posts_never_give_a_500(app, bad):
    client = app.server.test_client()
    for output in ("homicide-rolling-graph.figure", "homicide-methods-graph.figure"):
        response = _post(client, app, output, [{"id": "filter-state", "property": "data", "value": {**state(), **bad}}])
        text = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "Traceback" not in text and "sqlalchemy" not in text.lower()


@pytest.mark.browser
def test_homicide_page_in_the_browser(dash_duo, demo_warehouse):
    app = create_app(demo_warehouse.with_(cache_type="SimpleCache"))
    dash_duo.driver.set_script_timeout(30)
    dash_duo.start_server(app)
    dash_duo.driver.get(dash_duo.server_url + "/homicide?district=E06000045")
    wait_for(lambda: "Southampton" in dash_duo.find_element("#homicide-title").text)
    wait_for(lambda: dash_duo.driver.find_elements("css selector", "#homicide-rolling-graph .main-svg"))
    assert "Southampton" in dash_duo.find_element("#homicide-rolling-title").text
    tick(dash_duo, "Portsmouth")
    wait_for(lambda: "Portsmouth" in dash_duo.find_element("#homicide-rolling-title").text)
    assert serious_violations(dash_duo.driver) == []
    assert dash_duo.get_logs() == []
    app.server.config["VRP_WAREHOUSE"].dispose()
