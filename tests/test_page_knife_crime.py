"""The knife crime page and the overview tiles: numbers equal a direct count on the warehouse and `vrp summary`,
titles state findings, bad filter values are refused politely, and the pages pass in the browser."""

import csv
import io

import pandas as pd
import plotly.io as pio
import pytest

from tests.a11y import serious_violations
from tests.helpers import cube_cells
from tests.test_browser import wait_for
from vrp.app import create_app
from vrp.callbacks import home as home_cb
from vrp.callbacks import knife_crime as cb
from vrp.cli import main
from vrp.data_access import outcomes
from vrp.data_access.queries import Warehouse

KNIFE_CODES = (
    "'1','4.1','4.2','4.10','2','3B','5D','5E','8N','8P','8S','34A','34B','19C','19D','19E','19F','19G',"
    "'19H','17A','17B','20A','20B'"
)
SOTON = "E06000045"


def state(districts=(SOTON,), start="2025-04", end="2026-03", age="all"):
    return {"districts": list(districts), "start": start, "end": end, "measure": "serious_violence", "age": age}


@pytest.fixture(scope="module")
def partner_app(demo_warehouse, app):
    """The same app for the partner audience: the marts, true counts."""
    application = create_app(demo_warehouse.with_(cache_type="SimpleCache", audience="partner", insecure_no_auth=True))
    yield application
    application.server.config["VRP_WAREHOUSE"].dispose()


@pytest.fixture(scope="module")
def partner(partner_app) -> Warehouse:
    return partner_app.server.config["VRP_WAREHOUSE"]


def cube_cell(wh, area, period_type, end, age="all"):
    """One published count (None where hidden), straight from pub_cube."""
    cells = cube_cells(wh, "knife_enabled_sv", area, period_type, age).set_index("end")
    value = cells.loc[pd.Timestamp(end + "-01").date(), "count"]
    return None if pd.isna(value) else int(value)


def direct_count(wh, district, start, end) -> int:
    return int(
        wh.read(
            f"SELECT COUNT(*) AS n FROM fact_police_records WHERE knife_flag AND district_code = '{district}' "
            f"AND recorded_month BETWEEN DATE '{start}-01' AND DATE '{end}-01' AND ho_offence_code IN ({KNIFE_CODES})"
        )["n"][0]
    )


def test_page_numbers_equal_sql_and_vrp_summary(app, wh, partner_app, partner, capsys):
    """The consistency test: one district and financial year, three ways. Public: the cube's cells; partners: the
    records."""
    cell = cube_cell(wh, SOTON, "fy", "2026-03")
    with app.server.test_request_context("/"):
        out = cb.update(state())
    assert f"Southampton, 2025/26: {cell:,} offences" in str(out[1])
    spc_table = pio.json.to_json(out[5])  # the SPC card's table alternative, as the browser receives it
    months = cube_cells(wh, "knife_enabled_sv", SOTON, "month")
    months = months[months["start"].map(lambda d: f"{d:%Y-%m}").between("2025-04", "2026-03")]
    assert len(months) == 12
    for value in months["count"].dropna():
        assert f'"{int(value)}"' in spc_table or f'"{int(value):,}"' in spc_table
    rates = outcomes.district_rates(wh, "knife_enabled_sv", "2025-04", "2026-03")
    assert int(rates.set_index("district_code").loc[SOTON, "count"]) == cell
    main(["summary", "--warehouse", wh.settings.warehouse, "--district", SOTON, "--measure", "knife_enabled_sv"]
         + ["--format", "csv"])  # fmt: skip
    rows = {r["period"]: r["count"] for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert rows["2025-26"] == str(cell)

    sql = direct_count(partner, SOTON, "2025-04", "2026-03")
    with partner_app.server.test_request_context("/"):
        out = cb.update(state())
    spc_table = pio.json.to_json(out[5])
    monthly = partner.monthly_counts("knife_enabled_sv", [SOTON], "2025-04", "2026-03")
    assert int(monthly["count"].sum()) == sql
    for value in monthly["count"]:
        assert f'"{int(value)}"' in spc_table or f'"{int(value):,}"' in spc_table
    rates = outcomes.district_rates(partner, "knife_enabled_sv", "2025-04", "2026-03")
    assert int(rates.set_index("district_code").loc[SOTON, "count"]) == sql


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


def test_the_rolling_rate_has_a_point_for_each_month_of_the_period(partner_app, partner):
    """Partners: each point needs the 11 months before it: a 12-month period draws 12 points, the first being the
    12 months to the period's first month."""
    with partner_app.server.test_request_context("/"):
        out = cb.update(state())
    title, summary, figure = out[8], out[9], out[10]
    y = figure["data"][0]["y"]
    assert len(y) == 12 and "12 points from Apr 2025 to Mar 2026" in summary
    population = partner.monthly_counts("knife_enabled_sv", [SOTON], "2026-03", "2026-03")["population"].iloc[0]
    for end, start, value in (("2026-03", "2025-04", y[-1]), ("2025-04", "2024-05", y[0])):
        assert value == pytest.approx(direct_count(partner, SOTON, start, end) / population * 100_000)
    assert ("rose" in title or "fell" in title or "both ends" in title) and "per 100,000" in title
    with partner_app.server.test_request_context("/"):  # the data begin in April 2021: the first 11 have no point
        early = cb.update(state(start="2021-04", end="2022-06"))
    drawn = [v for v in early[10]["data"][0]["y"] if v == v]  # the months before have no point (gaps)
    assert len(drawn) == 4 and "4 points from Mar 2022 to Jun 2022" in early[9]


def test_the_public_rolling_rate_is_the_published_rolling_years(app, wh):
    """Public: one point a quarter, each a published rolling 12-month cell; a hidden cell is a gap, said so."""
    with app.server.test_request_context("/"):
        out = cb.update(state())
    summary, figure = out[9], out[10]
    population = wh.population((SOTON,), "all", wh.registry.get("knife_enabled_sv"))
    ends = ("2025-06", "2025-09", "2025-12", "2026-03")
    expected = [cube_cell(wh, SOTON, "rolling12", e) for e in ends]
    assert list(figure["data"][0]["y"]) == pytest.approx([v / population * 100_000 for v in expected])
    assert "4 points from Jun 2025 to Mar 2026" in summary
    with app.server.test_request_context("/"):  # a window the cube lacks: the latest rolling year, with a note
        moved = cb.update(state(start="2025-05", end="2026-03"))
    assert "showing 12 months to Sep 2026" in pio.json.to_json(moved[1])
    e06 = cube_cell(wh, "E06000046", "rolling12", "2026-09")
    with app.server.test_request_context("/"):
        iow = cb.update(state(districts=("E06000046",), start="2025-10", end="2026-09"))
    assert f"{e06:,} offences" in pio.json.to_json(iow[1])


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


def test_change_against_the_year_before_is_tested(wh, partner):
    comp = outcomes.comparisons(wh, "knife_enabled_sv", (SOTON,), "2026-09")  # public: two rolling-year cells
    cur, prev = comp["current"], comp["previous"]
    assert cur["count"] == cube_cell(wh, SOTON, "rolling12", "2026-09")
    assert prev["count"] == cube_cell(wh, SOTON, "rolling12", "2025-09")
    yoy = comp["year_on_year"]
    assert yoy.current == cur["count"] and yoy.previous == prev["count"] and 0 <= yoy.p_value <= 1
    assert cur["lower"] < cur["rate"] < cur["upper"]
    assert comp["baseline"]["start"] == "2022-04"
    assert comp["baseline"]["count"] == cube_cell(wh, SOTON, "fy", "2023-03")

    comp = outcomes.comparisons(partner, "knife_enabled_sv", (SOTON,), "2026-09")
    cur, prev = comp["current"], comp["previous"]
    assert cur["count"] == direct_count(partner, SOTON, "2025-10", "2026-09")
    assert prev["count"] == direct_count(partner, SOTON, "2024-10", "2025-09")
    assert comp["year_on_year"].current == cur["count"]


def test_a_change_needs_both_cells_published(wh):
    """A hidden cell, this year or the year before, means no change and no test."""
    cells = cube_cells(wh, "knife_enabled_sv", "E07000089", "fy")
    pairs = list(zip(cells.itertuples(), cells.iloc[1:].itertuples(), strict=False))
    cur = next(b for a, b in pairs if a.suppressed or b.suppressed)
    comp = outcomes.comparisons(wh, "knife_enabled_sv", ("E07000089",), f"{cur.end:%Y-%m}", start=f"{cur.start:%Y-%m}")
    assert comp["year_on_year"] is None


def test_breakdowns_are_for_partners_only_in_public(app, wh):
    with app.server.test_request_context("/"):
        out = cb.update(state())
    offences, ages = out[2 + 6 * 2 : 8 + 6 * 2], out[2 + 6 * 3 : 8 + 6 * 3]
    assert "partners only" in offences[0] and "could reveal small numbers" in offences[1]
    young, total = cube_cell(wh, SOTON, "fy", "2026-03", "u25"), cube_cell(wh, SOTON, "fy", "2026-03")
    assert f"{young:,} of {total:,}" in ages[1] and f"{young / total:.0%}" in ages[0]
    districts = out[2 + 6 * 4 : 8 + 6 * 4]
    rates = outcomes.district_rates(wh, "knife_enabled_sv", "2025-04", "2026-03")
    hidden = rates.loc[rates["suppressed"], "district_name"].tolist()
    assert hidden and all(name in districts[1] for name in hidden)
    plotted = {y for trace in districts[2].data for y in trace.y}
    assert not any(y.startswith(name + ":") for y in plotted for name in hidden)


@pytest.mark.parametrize(
    "bad", [{"districts": ["NOWHERE"]}, {"start": "2026-01", "end": "2020-01"}, {"age": "toddlers"}, {"districts": 7}]
)
def test_bad_filters_are_refused_politely(app, bad):
    with app.server.test_request_context("/"):
        out = cb.knife_callback({**state(), **bad})
        tiles = home_cb.guarded(home_cb.polite)(home_cb.update)({**state(), **bad})
    assert type(out[1]).__name__ == "Alert"
    assert type(tiles).__name__ in ("Alert", "Div")


def test_overview_tiles_for_a_district_against_hips(app, wh, partner_app, partner):
    with app.server.test_request_context("/"):
        page = pio.json.to_json(home_cb.update(state()))
    assert "Headline measures: Southampton" in page
    assert "12 months to September 2026" in page
    assert "HIPS:" in page and "Southampton is" in page
    assert "Within normal variation" in page or "special-cause" in page
    # The knife tile's figure is the published rolling-year cell.
    assert f'"{cube_cell(wh, SOTON, "rolling12", "2026-09"):,}"' in page
    with partner_app.server.test_request_context("/"):
        page = pio.json.to_json(home_cb.update(state()))
    # Partners: the latest 12 months of the records.
    assert f'"{direct_count(partner, SOTON, "2025-10", "2026-09"):,}"' in page


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
