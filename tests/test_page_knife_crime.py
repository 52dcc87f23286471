"""The knife crime page and the overview tiles: numbers equal a direct count on the warehouse and `vrp summary`,
titles state findings, bad filter values are refused politely, and the pages pass in the browser."""

import csv
import functools
import io
import shutil
from pathlib import Path

import pandas as pd
import plotly.io as pio
import pytest

from tests.a11y import serious_violations
from tests.helpers import cube_cells, drawn, filter_state, wait_for
from vrp.app import create_app
from vrp.callbacks import home as home_cb
from vrp.callbacks import knife_crime as cb
from vrp.cli import main
from vrp.data_access import outcomes
from vrp.data_access.measures import MeasureConfigError, load_registry
from vrp.stats import xmr

KNIFE_CODES = (
    "'1','4.1','4.2','4.10','2','3B','5D','5E','8N','8P','8S','34A','34B','19C','19D','19E','19F','19G',"
    "'19H','17A','17B','20A','20B'"
)
SOTON = "E06000045"


CARDS = (*cb.TREND_CARDS, *cb.BREAKDOWN_CARDS, *cb.DISTRICT_CARDS)  # the page's six cards, by output group


state = functools.partial(filter_state, start="2025-04", end="2026-03")  # Southampton, 2025/26


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
    assert f"Southampton, 2025/26: {cell:,} offences" in str(out["change"])
    spc_table = pio.json.to_json(out["spc"]["table"])  # the SPC card's table alternative, as the browser receives it
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
    spc_table = pio.json.to_json(out["spc"]["table"])
    monthly = partner.monthly_counts("knife_enabled_sv", [SOTON], "2025-04", "2026-03")
    assert int(monthly["count"].sum()) == sql
    for value in monthly["count"]:
        assert f'"{int(value)}"' in spc_table or f'"{int(value):,}"' in spc_table
    rates = outcomes.district_rates(partner, "knife_enabled_sv", "2025-04", "2026-03")
    assert int(rates.set_index("district_code").loc[SOTON, "count"]) == sql


def test_titles_state_findings_and_every_chart_has_its_parts(app):
    with app.server.test_request_context("/"):
        out = cb.update(state())
    assert out["title"] == "Knife-enabled serious violence: Southampton"
    # Public: offence groups are shown to partners only, a card with no traces that says why in a paragraph.
    expected = {
        "spc": (["scatter"] * 5, "Table"),  # the SPC chart: the months, their mean, limits and marked points
        "rolling": (["scatter"], "Table"),
        "offences": ([], "P"),
        "ages": (["bar"], "Table"),
        "districts": (["scatter"] * 3, "Table"),
        "funnel": (["scatter"] * 6, "Table"),
    }
    for name in CARDS:
        card = out[name]
        types, table, n_words = drawn(card)
        assert len(card["title"].split()) >= 3 and (types, table) == expected[name] and n_words >= 6, name
        assert "SYNTHETIC" in "".join(card["footnote"])
        assert "About this measure" in pio.json.to_json(card["about"])
    assert "variation" in out["spc"]["title"] or "special cause" in out["spc"]["title"]
    assert "per 100,000" in out["rolling"]["title"]


def test_the_rolling_rate_has_a_point_for_each_month_of_the_chart(partner_app, partner):
    """Partners: each point needs the 11 months before it: a 12-month period draws the 24 months to its end (the
    period chosen shaded), the first being the 12 months to April 2024."""
    with partner_app.server.test_request_context("/"):
        out = cb.update(state())
    title, summary, figure = (out["rolling"][part] for part in ("title", "summary", "figure"))
    y = figure["data"][0]["y"]
    assert len(y) == 24 and "24 points from Apr 2024 to Mar 2026, the period chosen shaded" in summary
    population = partner.monthly_counts("knife_enabled_sv", [SOTON], "2026-03", "2026-03")["population"].iloc[0]
    for end, start, value in (("2026-03", "2025-04", y[-1]), ("2024-04", "2023-05", y[0])):
        assert value == pytest.approx(direct_count(partner, SOTON, start, end) / population * 100_000)
    # The title compares the 12 months a year before, as the headline does: the two never disagree.
    year_before = direct_count(partner, SOTON, "2024-04", "2025-03") / population * 100_000
    assert f"from {year_before:.1f} to {y[-1]:.1f}" in title or "both ends" in title
    assert title.endswith("(12 months to Mar 2025 and to Mar 2026)")
    change = outcomes.comparisons(partner, "knife_enabled_sv", (SOTON,), "2026-03")["year_on_year"]
    assert ("fell" in title) == (change.absolute < 0) and ("rose" in title) == (change.absolute > 0)
    with partner_app.server.test_request_context("/"):  # the data begin in April 2021: the first 11 have no point
        early = cb.update(state(start="2021-04", end="2022-06"))
    drawn = [v for v in early["rolling"]["figure"]["data"][0]["y"] if v == v]
    assert len(drawn) == 4 and "4 points from Mar 2022 to Jun 2022" in early["rolling"]["summary"]


def test_the_public_rolling_rate_is_the_published_rolling_years(app, wh):
    """Public: one point a quarter for the 24 months to the period's end, each a published rolling 12-month cell; a
    hidden cell is a gap, said so."""
    with app.server.test_request_context("/"):
        out = cb.update(state())
    summary, figure = out["rolling"]["summary"], out["rolling"]["figure"]
    population = wh.population((SOTON,), "all", wh.registry.get("knife_enabled_sv"))
    ends = ("2024-06", "2024-09", "2024-12", "2025-03", "2025-06", "2025-09", "2025-12", "2026-03")
    expected = [cube_cell(wh, SOTON, "rolling12", e) for e in ends]
    assert list(figure["data"][0]["y"]) == pytest.approx([v / population * 100_000 for v in expected])
    assert "8 points from Jun 2024 to Mar 2026, the period chosen shaded" in summary
    shaded = [s for s in figure.layout.shapes if s.type == "rect"]
    assert len(shaded) == 1 and (str(shaded[0].x0)[:10], str(shaded[0].x1)[:10]) == ("2025-03-17", "2026-03-16")
    with app.server.test_request_context("/"):  # a window the cube lacks: the latest rolling year, with a note
        moved = cb.update(state(start="2025-05", end="2026-03"))
    assert "showing 12 months to Sep 2026" in pio.json.to_json(moved["change"])
    e06 = cube_cell(wh, "E06000046", "rolling12", "2026-09")
    with app.server.test_request_context("/"):
        iow = cb.update(state(districts=("E06000046",), start="2025-10", end="2026-09"))
    assert f"{e06:,} offences" in pio.json.to_json(iow["change"])


def test_the_funnel_names_only_the_districts_outside_its_outer_limits(app, wh):
    with app.server.test_request_context("/"):
        figure = cb.update(state())["funnel"]["figure"]
    points = figure.data[-1]
    rates = outcomes.district_rates(wh, "knife_enabled_sv", "2025-04", "2026-03").dropna(subset=["rate"])
    outside = set(rates.loc[rates["funnel"].str.startswith(("above 99.8", "below 99.8")), "district_name"])
    assert outside and len(outside) < len(rates)  # some named, not all
    labels = [a for a in figure.layout.annotations if a.name == "point label"]
    assert {a.text for a in labels} == outside
    for a in labels:  # each joined by a line to its own dot
        row = rates[rates["district_name"] == a.text].iloc[0]
        assert a.showarrow and (a.x, a.y) == pytest.approx((row["population"], row["rate"]))
    assert sorted(points.customdata) == sorted(rates["district_name"])  # hover names every district


def test_the_district_chart_names_each_verdict_in_its_row(app, wh):
    with app.server.test_request_context("/"):
        figure = cb.update(state())["districts"]["figure"]
    rates = outcomes.district_rates(wh, "knife_enabled_sv", "2025-04", "2026-03").dropna(subset=["rate"])
    words = {"worse": "higher", "better": "lower", "similar": "similar"}
    expected = {f"{r.district_name}: {words[r.compared_with_hips]}" for r in rates.itertuples()}
    labels = [y for trace in figure.data for y in trace.y]
    assert {y.replace("<br>", " ") for y in labels} == expected
    # A long name puts its verdict on a second line, so a phone's narrow chart keeps room for the points.
    assert max(len(line) for y in labels for line in y.split("<br>")) <= 24
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
    offences, ages = out["offences"], out["ages"]
    assert "partners only" in offences["title"] and "could reveal small numbers" in offences["summary"]
    young, total = cube_cell(wh, SOTON, "fy", "2026-03", "u25"), cube_cell(wh, SOTON, "fy", "2026-03")
    assert f"{young:,} of {total:,}" in ages["summary"] and f"{young / total:.0%}" in ages["title"]
    districts = out["districts"]
    rates = outcomes.district_rates(wh, "knife_enabled_sv", "2025-04", "2026-03")
    hidden = rates.loc[rates["suppressed"], "district_name"].tolist()
    assert hidden and all(name in districts["summary"] for name in hidden)
    plotted = {y for trace in districts["figure"].data for y in trace.y}
    assert not any(y.startswith(name + ":") for y in plotted for name in hidden)


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
    for name in CARDS:
        figure = out[name]["figure"]
        note = figure.layout.title
        assert "Source:" in note.text and "SYNTHETIC" in note.text
        assert (note.xref, note.x, note.yref, note.yanchor) == ("container", 0, "container", "top")  # bottom left
        assert 0 < note.y * figure.layout.height < figure.layout.margin.b  # inside the bottom margin


# ---- SPC on enough points: context, a baseline and recalculation (issue 14, point 4) ---------------------------


def _trace(figure, name):
    return next(t for t in figure.data if t.name == name)


def _months(trace) -> list[str]:
    return [f"{pd.Timestamp(x):%Y-%m}" for x in trace.x]


@pytest.mark.parametrize("audience", ["public", "partner"])
def test_the_spc_chart_shows_24_months_with_the_period_chosen_shaded(audience, app, partner_app):
    application = app if audience == "public" else partner_app
    with application.server.test_request_context("/"):
        out = cb.update(state())
    summary, figure, table = out["spc"]["summary"], out["spc"]["figure"], pio.json.to_json(out["spc"]["table"])
    months = _months(_trace(figure, "Monthly value"))
    assert len(months) == 24 and (months[0], months[-1]) == ("2024-04", "2026-03")
    assert "24 months, April 2024 to March 2026 (the period chosen, shaded)" in summary
    shaded = [s for s in figure.layout.shapes if s.type == "rect"]
    assert len(shaded) == 1 and (str(shaded[0].x0)[:10], str(shaded[0].x1)[:10]) == ("2025-03-17", "2026-03-16")
    assert "Period chosen" in [a.text for a in figure.layout.annotations]  # named, not colour alone
    # The label sits along the plot's top: the axis leaves room above the upper limit and the highest month.
    values = [v for v in _trace(figure, "Monthly value").y if v is not None and v == v]
    top = max([*values, *_trace(figure, "Process limits").y])
    assert figure.layout.yaxis.range[1] >= 1.2 * top
    assert table.count('"yes"') >= 12 and "Period chosen" in table
    # Both limits are one legend entry: a row less of legend over a phone's plot.
    shown = [t.name for t in figure.data if t.showlegend is not False]
    assert "Process limits" in shown and "Lower process limit" not in shown
    assert _trace(figure, "Lower process limit").legendgroup == _trace(figure, "Process limits").legendgroup
    footnote = out["spc"]["footnote"][0]
    assert "Period: April 2024 to March 2026 (shaded: the period chosen, April 2025 to March 2026)" in footnote


def test_spc_limits_are_fixed_on_the_first_24_published_months_by_hand(app, wh):
    """Public Southampton: the mean and limits are those of the first 24 published month cells (hidden ones skipped,
    moving ranges above 3.267 x their mean screened out), whatever the period chosen."""
    cells = cube_cells(wh, "knife_enabled_sv", SOTON, "month").head(24)
    values = cells["count"].dropna().to_numpy()
    mr = abs(values[1:] - values[:-1])
    amr = mr[mr < 3.267 * mr.mean()].mean()
    mean = values.mean()
    for chosen in (state(), state(start="2021-04", end="2022-03"), state(start="2026-09", end="2026-09")):
        with app.server.test_request_context("/"):
            figure = cb.update_trend(chosen)["spc"]["figure"]
        for name, expected in (("Mean", mean), ("Process limits", mean + 2.66 * amr)):  # the upper one
            y = list(_trace(figure, name).y)
            assert y == pytest.approx([expected] * len(y)) and len(y) >= 12
        assert _trace(figure, "Lower process limit").y[-1] == pytest.approx(mean - 2.66 * amr)


def test_all_months_no_longer_flags_2021_against_one_long_mean(partner_app, partner):
    """The issue's finding: over all months, one long mean put 2021 above it for seven months and more, read as
    concerning. With limits fixed on the first 24 months, 2021 is common cause; the later, lower level reads as an
    improvement against the baseline."""
    history = partner.monthly_counts("knife_enabled_sv", [], "2021-04", "2026-09")
    one_mean = xmr(history["count"].astype(float), polarity="lower_is_better")
    in_2021 = history["month"].map(lambda d: d.year == 2021).to_numpy()
    assert (one_mean.loc[in_2021, "point_type"] == "special_cause_concern").sum() >= 7  # the old reading
    with partner_app.server.test_request_context("/"):
        out = cb.update_trend(state(districts=(), start="2021-04", end="2026-09"))
    figure = out["spc"]["figure"]
    assert len(_trace(figure, "Monthly value").x) == 66
    assert not any(t.name == "Special cause: concerning" for t in figure.data)
    improving = _months(_trace(figure, "Special cause: improving"))
    assert improving and min(improving) >= "2023-04"  # all after the baseline
    assert "Limits fixed on the 24 months April 2021 to March 2023, the first the data hold" in out["spc"]["summary"]
    assert "(the whole period chosen)" in out["spc"]["summary"]
    assert not [s for s in figure.layout.shapes if s.type == "rect"]


@pytest.fixture(scope="module")
def recalculating_app(demo_warehouse, tmp_path_factory):
    """The public app with a documented change recorded for knife crime in April 2024 (the cube's disclosure rules
    are unchanged, so it still serves the same cube)."""
    config = tmp_path_factory.mktemp("config")
    shutil.copytree(demo_warehouse.config_dir, config, dirs_exist_ok=True)
    text = (config / "measures.toml").read_text()
    anchor = 'id = "knife_enabled_sv"\n'
    change = 'spc_recalculate = [{ month = "2024-04", reason = "the force\'s new crime recording system" }]\n'
    (config / "measures.toml").write_text(text.replace(anchor, anchor + change))
    application = create_app(demo_warehouse.with_(cache_type="SimpleCache", config_dir=config))
    yield application
    application.server.config["VRP_WAREHOUSE"].dispose()


def test_limits_are_recalculated_at_a_documented_change(recalculating_app, wh):
    """From April 2024 the limits are those of the 24 months April 2024 to March 2026, by hand, and the chart marks
    the change with its reason."""
    with recalculating_app.server.test_request_context("/"):
        out = cb.update_trend(state(start="2024-04", end="2025-03"))  # 2024/25: the chart starts April 2023
    summary, figure = out["spc"]["summary"], out["spc"]["figure"]
    cells = cube_cells(wh, "knife_enabled_sv", SOTON, "month")
    months = cells["start"].map(lambda d: f"{d:%Y-%m}")
    before = cells.loc[months < "2024-04", "count"].head(24).dropna().to_numpy()
    after = cells.loc[months.between("2024-04", "2026-03"), "count"].dropna().to_numpy()
    shown = dict(zip(_months(_trace(figure, "Mean")), _trace(figure, "Mean").y, strict=True))
    assert shown["2024-03"] == pytest.approx(before.mean()) and shown["2024-04"] == pytest.approx(after.mean())
    assert shown["2025-03"] == pytest.approx(after.mean())  # fixed on the baseline, beyond the chart's end
    labels = [a.text for a in figure.layout.annotations]
    assert "Limits recalculated: the force's new crime recording system" in labels
    assert [str(s.x0)[:7] for s in figure.layout.shapes if s.type == "line"] == ["2024-04"]
    assert "Limits fixed on the 24 months April 2024 to March 2026, since a documented change" in summary


def test_the_headline_names_the_period_each_figure_covers(partner_app, partner):
    """ "All months": the headline's 12 months, the whole period and each comparison say which months they cover."""
    with partner_app.server.test_request_context("/"):
        text = pio.json.to_json(cb.update_trend(state(start="2021-04", end="2026-09"))["change"])
    latest = direct_count(partner, SOTON, "2025-10", "2026-09")
    whole = direct_count(partner, SOTON, "2021-04", "2026-09")
    assert (
        f"Southampton, October 2025 to September 2026 (the latest 12 months of the period chosen): {latest:,}" in text
    )
    assert f"The whole period chosen, April 2021 to September 2026 (66 months): {whole:,} offences" in text
    assert (
        "October 2025 to September 2026 against the same months a year before (October 2024 to September 2025)" in text
    )
    assert "against the baseline year 2022-23 (April 2022 to March 2023)" in text
    assert "12 months to September 2026:" not in text


@pytest.mark.parametrize("card", ["spc", "rolling"])
def test_month_labels_leave_room_for_the_source_note(app, card):
    """The x-axis labels sit level on two lines ("Apr" over "2025") inside the bottom margin, above the strip the
    source note is written in: tilted labels on a narrow card used to grow into the note."""
    with app.server.test_request_context("/"):
        figure = cb.update_trend(state())[card]["figure"]
    axis, layout = figure.layout.xaxis, figure.layout
    assert (axis.tickangle, axis.tickformat, axis.automargin) == (0, "%b<br>%Y", False)
    note_top = layout.title.y * layout.height  # px above the figure's bottom edge
    labels = 2 * 1.3 * layout.font.size + axis.ticklabelstandoff + 5  # two lines, the stand-off and tick marks
    assert note_top + labels <= layout.margin.b


def test_overview_variation_icon_reads_the_same_baseline_as_the_spc_chart(app):
    """HIPS to September 2026: the knife page's chart and the Overview tile agree on the latest month."""
    with app.server.test_request_context("/"):
        title = cb.update_trend(state(districts=(), start="2025-10", end="2026-09"))["spc"]["title"]
        page = pio.json.to_json(home_cb.update(state(districts=())))
    assert "a statistically significant improvement" in title
    tile = page[page.index("tile-knife_enabled_sv") :]
    assert "Improving: special-cause fall" in tile[: tile.index("tile-", 10)]


@pytest.mark.parametrize(
    "bad",
    [
        "spc_baseline_months = 6\n",
        'spc_baseline_months = "24"\n',
        'spc_recalculate = [{ month = "2024-13", reason = "x" }]\n',
        'spc_recalculate = [{ month = "2024-04" }]\n',
    ],
)
def test_bad_spc_settings_are_refused_with_a_message(tmp_path, bad):
    text = (Path(__file__).parents[1] / "config" / "measures.toml").read_text()
    (tmp_path / "measures.toml").write_text(
        text.replace('id = "knife_enabled_sv"\n', 'id = "knife_enabled_sv"\n' + bad)
    )
    with pytest.raises(MeasureConfigError, match="knife_enabled_sv.*spc_"):
        load_registry(tmp_path / "measures.toml")
