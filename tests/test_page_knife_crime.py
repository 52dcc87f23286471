"""The knife crime page and the overview tiles: numbers equal a direct count on the warehouse and `vrp summary`,
titles state findings, bad filter values are refused politely, and the pages pass in the browser."""

import csv
import io

import plotly.io as pio
import pytest

from tests.a11y import serious_violations
from tests.test_browser import wait_for
from vrp.app import create_app
from vrp.callbacks import home as home_cb
from vrp.callbacks import knife_crime as cb
from vrp.cli import main
from vrp.data_access import outcomes

KNIFE_CODES = (
    "'1','4.1','4.2','4.10','2','3B','5D','5E','8N','8P','8S','34A','34B','19C','19D','19E','19F','19G',"
    "'19H','17A','17B','20A','20B'"
)
SOTON = "E06000045"


def state(districts=(SOTON,), start="2025-04", end="2026-03", age="all"):
    return {"districts": list(districts), "start": start, "end": end, "measure": "serious_violence", "age": age}


def direct_count(wh, district, start, end) -> int:
    return int(
        wh.read(
            f"SELECT COUNT(*) AS n FROM fact_police_records WHERE knife_flag AND district_code = '{district}' "
            f"AND recorded_month BETWEEN DATE '{start}-01' AND DATE '{end}-01' AND ho_offence_code IN ({KNIFE_CODES})"
        )["n"][0]
    )


def test_page_numbers_equal_sql_and_vrp_summary(app, wh, capsys):
    """The consistency test: one district and financial year, three ways."""
    sql = direct_count(wh, SOTON, "2025-04", "2026-03")
    with app.server.test_request_context("/"):
        out = cb.update(state())
    spc_table = pio.json.to_json(out[5])  # the SPC card's table alternative, as the browser receives it
    monthly = wh.monthly_counts("knife_enabled_sv", [SOTON], "2025-04", "2026-03")
    assert int(monthly["count"].sum()) == sql
    for value in monthly["count"]:
        assert f'"{int(value)}"' in spc_table or f'"{int(value):,}"' in spc_table
    rates = outcomes.district_rates(wh, "knife_enabled_sv", "2025-04", "2026-03")
    assert int(rates.set_index("district_code").loc[SOTON, "count"]) == sql
    main(
        [
            "summary",
            "--warehouse",
            wh.settings.warehouse,
            "--district",
            SOTON,
            "--measure",
            "knife_enabled_sv",
            "--format",
            "csv",
        ]
    )
    rows = {r["period"]: int(r["count"]) for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert rows["2025-26"] == sql


def test_titles_state_findings_and_every_chart_has_its_parts(app):
    with app.server.test_request_context("/"):
        out = cb.update(state())
    assert out[0] == "Knife-enabled serious violence: Southampton"
    cards = [out[2 + 6 * i : 8 + 6 * i] for i in range(6)]
    for title, summary, figure, table, footnote, about in cards:
        assert title and summary and figure and table is not None
        assert "SYNTHETIC" in "".join(footnote)
        assert "About this measure" in pio.json.to_json(about)
    assert "variation" in cards[0][0] or "special cause" in cards[0][0]
    assert "per 100,000" in cards[1][0]


def test_the_rolling_rate_has_a_point_for_each_month_of_the_period(app, wh):
    """Each point needs the 11 months before it: a 12-month period draws 12 points, the first being the 12 months
    to the period's first month."""
    with app.server.test_request_context("/"):
        out = cb.update(state())
    title, summary, figure = out[8], out[9], out[10]
    y = figure["data"][0]["y"]
    assert len(y) == 12 and "12 points from Apr 2025 to Mar 2026" in summary
    population = wh.monthly_counts("knife_enabled_sv", [SOTON], "2026-03", "2026-03")["population"].iloc[0]
    for end, start, value in (("2026-03", "2025-04", y[-1]), ("2025-04", "2024-05", y[0])):
        assert value == pytest.approx(direct_count(wh, SOTON, start, end) / population * 100_000)
    assert ("rose" in title or "fell" in title or "both ends" in title) and "per 100,000" in title
    with app.server.test_request_context("/"):  # the data begin in April 2021: the first 11 months have no point
        early = cb.update(state(start="2021-04", end="2022-06"))
    drawn = [v for v in early[10]["data"][0]["y"] if v == v]  # the months before have no point (gaps)
    assert len(drawn) == 4 and "4 points from Mar 2022 to Jun 2022" in early[9]


def test_the_funnel_names_only_the_districts_outside_its_outer_limits(app, wh):
    with app.server.test_request_context("/"):
        figure = cb.update(state())[4 + 6 * 5]
    points = figure.data[-1]
    rates = outcomes.district_rates(wh, "knife_enabled_sv", "2025-04", "2026-03").dropna(subset=["rate"])
    outside = set(rates.loc[rates["funnel"].str.startswith(("above 99.8", "below 99.8")), "district_name"])
    assert outside and len(outside) < len(rates)  # some named, not all
    assert {t for t in points.text if t} == outside
    assert sorted(points.customdata) == sorted(rates["district_name"])  # hover names every district


def test_the_district_chart_names_each_verdict_in_its_row(app, wh):
    with app.server.test_request_context("/"):
        figure = cb.update(state())[4 + 6 * 4]
    rates = outcomes.district_rates(wh, "knife_enabled_sv", "2025-04", "2026-03").dropna(subset=["rate"])
    words = {"worse": "higher", "better": "lower", "similar": "similar"}
    expected = {f"{r.district_name}: {words[r.compared_with_hips]}" for r in rates.itertuples()}
    assert {y for trace in figure.data for y in trace.y} == expected
    assert figure.layout.showlegend is False  # the words are in the rows, never colour alone


def test_change_against_the_year_before_is_tested(wh):
    comp = outcomes.comparisons(wh, "knife_enabled_sv", (SOTON,), "2026-09")
    cur, prev = comp["current"], comp["previous"]
    assert cur["count"] == direct_count(wh, SOTON, "2025-10", "2026-09")
    assert prev["count"] == direct_count(wh, SOTON, "2024-10", "2025-09")
    yoy = comp["year_on_year"]
    assert yoy.current == cur["count"] and 0 <= yoy.p_value <= 1
    assert cur["lower"] < cur["rate"] < cur["upper"]
    assert comp["baseline"]["start"] == "2022-04"


@pytest.mark.parametrize(
    "bad", [{"districts": ["NOWHERE"]}, {"start": "2026-01", "end": "2020-01"}, {"age": "toddlers"}, {"districts": 7}]
)
def test_bad_filters_are_refused_politely(app, bad):
    with app.server.test_request_context("/"):
        out = cb.knife_callback({**state(), **bad})
        tiles = home_cb.guarded(home_cb.polite)(home_cb.update)({**state(), **bad})
    assert type(out[1]).__name__ == "Alert"
    assert type(tiles).__name__ in ("Alert", "Div")


def test_overview_tiles_for_a_district_against_hips(app):
    with app.server.test_request_context("/"):
        page = pio.json.to_json(home_cb.update(state()))
    assert "Headline measures: Southampton" in page
    assert "12 months to September 2026" in page
    assert "HIPS:" in page and "Southampton is" in page
    assert "Within normal variation" in page or "special-cause" in page
    # Southampton's monthly sharp-object admissions are all small: the tile says so instead of an empty line.
    assert "Monthly counts are small and hidden" in page


@pytest.mark.browser
def test_knife_crime_page_in_the_browser(dash_duo, demo_warehouse):
    app = create_app(demo_warehouse.with_(cache_type="SimpleCache"))
    dash_duo.driver.set_script_timeout(30)
    dash_duo.start_server(app)
    dash_duo.driver.get(dash_duo.server_url + "/knife-crime?district=E06000044")
    wait_for(lambda: "Portsmouth" in dash_duo.find_element("#knife-title").text)
    # The page's three callbacks each fill their part.
    for graph in ("spc", "offences", "funnel"):
        wait_for(lambda graph=graph: dash_duo.driver.find_elements("css selector", f"#knife-{graph}-graph .main-svg"))
    assert "per 100,000" in dash_duo.find_element("#knife-change").text
    assert serious_violations(dash_duo.driver) == []
    assert dash_duo.get_logs() == []
    app.server.config["VRP_WAREHOUSE"].dispose()


def test_every_chart_image_carries_its_source_and_label(app):
    with app.server.test_request_context("/"):
        out = cb.update(state())
    for i in range(6):
        figure = out[4 + 6 * i]
        note = figure.layout.title
        assert "Source:" in note.text and "SYNTHETIC" in note.text
        assert (note.xref, note.x, note.yref, note.yanchor) == ("container", 0, "container", "top")  # bottom left
        assert 0 < note.y * figure.layout.height < figure.layout.margin.b  # inside the bottom margin
