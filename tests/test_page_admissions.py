"""The hospital admissions page: numbers equal a direct count on the warehouse, the NHS rule hides 1-7 (and says
so on the page), titles state findings, bad filter values are refused politely (no 500), and the page works in
the browser with an empty log and no serious accessibility violations."""

import json

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest

from tests.a11y import serious_violations
from tests.helpers import drawn, filter_state, tick, wait_for
from vrp.app import create_app
from vrp.callbacks import admissions as cb
from vrp.callbacks.outcome_scope import page_scope as scope_of
from vrp.data_access import outcomes
from vrp.data_access.filter_state import read_state
from vrp.data_access.queries import Warehouse

SOTON = "E06000045"
MEASURE = "sharp_object_admissions"
ROLLING = ("2025-10", "2026-09")  # a published rolling year of the measure


state = filter_state  # Southampton, the published rolling year ROLLING


def sql_admissions(wh, district, start, end, bands=None) -> int:
    where = f"district_code = '{district}' AND month BETWEEN DATE '{start}-01' AND DATE '{end}-01'"
    if bands:
        where += " AND age_band IN (" + ",".join(f"'{b}'" for b in bands) + ")"
    return int(wh.read(f"SELECT COALESCE(SUM(admissions), 0) AS n FROM fact_admissions WHERE {where}")["n"][0])


def cube(wh, area, period_type, age="all", measure=MEASURE) -> pd.DataFrame:
    """The independent reference for public pages: published cells read straight from pub_cube by SQL, indexed
    by period start: end, count (None where hidden), suppressed, incomplete."""
    level = "hips" if area == "HIPS" else "district"
    frame = wh.read(
        "SELECT period_start, period_end, count, suppressed, incomplete FROM pub_cube "
        f"WHERE measure_id = '{measure}' AND area_level = '{level}' AND area_code = '{area}' AND age = '{age}' "
        f"AND period_type = '{period_type}' ORDER BY period_start"
    )
    frame["start"] = [f"{pd.Timestamp(d):%Y-%m}" for d in frame["period_start"]]
    frame["end"] = [f"{pd.Timestamp(d):%Y-%m}" for d in frame["period_end"]]
    frame["suppressed"] = frame["suppressed"].astype(bool)
    counts = [None if h else int(n) for n, h in zip(frame["count"], frame["suppressed"], strict=True)]
    frame["count"] = pd.Series(counts, index=frame.index, dtype=object)
    return frame.set_index("start")


def visible_counts(frame, col="count") -> list[int]:
    return [int(v) for v in frame[col].dropna()]


def text(component) -> str:
    return pio.json.to_json(component)


# ---- public: every number is a published cell ------------------------------------------------------------------


def test_public_headline_is_the_published_cell(app, wh):
    want = cube(wh, SOTON, "rolling12").loc[ROLLING[0]]
    assert want["end"] == ROLLING[1] and want["count"] is not None
    young = cube(wh, SOTON, "rolling12", "u25").loc[ROLLING[0], "count"]
    with app.server.test_request_context("/"):
        shown = cb.update_headline(state())
    words = text(shown["headline"])
    assert shown["title"].endswith("Southampton")
    assert f"{'at least ' if want['incomplete'] else ''}{want['count']:,} admissions" in words
    assert "per 100,000 residents a year" in words and "published for" not in words  # the period asked: no note
    if young is not None and not want["incomplete"]:
        assert f"{young:,} of them" in words
    else:
        assert "of them" not in words


@pytest.mark.parametrize("asked", [("2026-09", "2026-09"), ("2019-01", "2019-12")])
def test_a_period_the_measure_lacks_gives_the_published_one_with_a_note(app, wh, asked):
    """Admissions publish no months and nothing before April 2021: the page shows the latest rolling year (the
    nearest of the same kind ending no later, else the latest) and says so."""
    with app.server.test_request_context("/"):
        headline = cb.update_headline(state(districts=(), start=asked[0], end=asked[1]))["headline"]
        trend = cb.update_trend(state(districts=(), start=asked[0], end=asked[1]))
    latest = cube(wh, "HIPS", "rolling12").iloc[-1]
    words = text(headline)
    assert f"showing 12 months to {pd.Timestamp(latest['period_end']):%b %Y}" in words
    assert "is published for calendar quarters, financial years, rolling 12 months" in words
    assert f"{latest['count']:,} admissions" in words
    assert "Period:" in trend["footnote"][0]  # the cards draw as usual


def test_a_published_quarter_is_shown_as_asked(app, wh):
    quarter = cube(wh, SOTON, "quarter").iloc[-1]
    with app.server.test_request_context("/"):
        headline = cb.update_headline(state(start=quarter.name, end=quarter["end"]))["headline"]
    words = text(headline)
    assert "published for" not in words
    if quarter["count"] is None:
        assert "hidden (*)" in words
    else:
        assert f"{quarter['count']:,} admissions" in words


def test_public_trend_is_the_published_financial_years(app, wh):
    all_ages, young = cube(wh, SOTON, "fy"), cube(wh, SOTON, "fy", "u25")
    with app.server.test_request_context("/"):
        scope = scope_of(wh, MEASURE, read_state(state()))
        frame = cb.yearly_table(wh, scope).set_index("start")
        card = cb.update_trend(state())
    frame.index = [f"{d:%Y-%m}" for d in frame.index]
    assert list(frame.index) == list(all_ages.index)
    for col, ref in (("count", all_ages), ("young", young)):
        got = [None if pd.isna(v) else int(v) for v in frame[col]]
        assert got == list(ref["count"]), col
    assert all_ages["suppressed"].any()  # the demo has hidden years: they are hidden here too
    table = _cells(json.loads(text(card["table"])))
    assert table.count("*") >= int(all_ages["suppressed"].sum() + young["suppressed"].sum())
    for n in all_ages["count"].dropna():
        assert f"{int(n):,}" in table
    assert "hidden (*)" in card["summary"]


def test_public_ages_are_under_25_and_the_rest_only(app, wh):
    """25 and over is all ages less under 25: exact from exact counts, "at least" when only all ages is a lower
    bound (the supplier's hidden cells), not given when under 25 is one; never a share of a lower bound."""
    all_ages = cube(wh, "HIPS", "rolling12").loc[ROLLING[0]]
    young = cube(wh, "HIPS", "rolling12", "u25").loc[ROLLING[0]]
    groups = outcomes.age_groups(wh, MEASURE, (), *ROLLING)
    bands = groups["bands"].set_index("group")
    assert groups["period"].type == "rolling12"
    assert groups["under_25"] == young["count"] and groups["total"] == all_ages["count"]
    published = all_ages["count"] is not None and young["count"] is not None
    with app.server.test_request_context("/"):
        card = cb.update_ages(state(districts=()))
    if published and young["incomplete"]:  # the demo's case: under 25 is itself a lower bound
        assert list(bands.index) == ["u25"] and bands.loc["u25", "label"] == "Under 25 (at least)"
        assert "Under 25 is a lower bound" in card["summary"] and "25 and over is not known" in card["summary"]
    elif published:
        assert bands.loc["25plus", "count"] == all_ages["count"] - young["count"]
        assert (bands.loc["25plus", "label"] == "25 and over (at least)") == bool(all_ages["incomplete"])
    else:
        assert pd.isna(bands.loc["25plus", "count"]) and bands.loc["25plus", "suppressed"]
    if groups["incomplete"]:
        assert bands["share"].isna().all() and "%" not in card["title"]
    assert "Shown to partners only" in card["summary"] and "Under 18" not in text(card["table"])
    assert "Under 25" in text(card["table"])


@pytest.mark.parametrize(
    ("young", "total", "labels", "counts"),
    [
        ((31, False), (74, False), ["Under 25", "25 and over"], [31, 43]),
        ((31, False), (74, True), ["Under 25", "25 and over (at least)"], [31, 43]),
        ((31, True), (74, True), ["Under 25 (at least)"], [31]),
        ((None, False), (74, False), ["Under 25", "25 and over"], [None, None]),
    ],
)
def test_public_ages_from_exact_and_lower_bound_cells(monkeypatch, young, total, labels, counts):
    from vrp.data_access import published_outcomes

    cells = {
        "u25": {"count": young[0], "incomplete": young[1], "suppressed": young[0] is None},
        "all": {"count": total[0], "incomplete": total[1], "suppressed": total[0] is None},
    }
    monkeypatch.setattr(published_outcomes, "period_cell", lambda wh, m, area, period, age: cells[age])
    groups = published_outcomes._ages(None, MEASURE, "HIPS", None)
    bands = groups["bands"]
    assert bands["label"].tolist() == labels
    assert [None if pd.isna(v) else int(v) for v in bands["count"]] == counts
    exact = not (young[1] or total[1]) and young[0] is not None
    assert bands["share"].notna().all() == exact
    summary = cb.public_ages(groups, None, 8)[1]
    assert ("All ages is a lower bound" in summary) == (young[0] is not None and total[1] and not young[1])


def test_public_district_rates_are_each_districts_published_cell(app, wh):
    with app.server.test_request_context("/"):
        card = cb.update_districts(state())
    table = json.loads(text(card["table"]))
    rows = _rows(table)
    names = wh.districts().set_index("district_code")["district_name"]
    hidden = 0
    for code, name in names.items():
        want = cube(wh, code, "rolling12").loc[ROLLING[0], "count"]
        label = f"{name} (chosen)" if code == SOTON else name
        got = rows[label][0]
        assert got == ("*" if want is None else f"{want:,}"), name
        hidden += want is None
    hips = cube(wh, "HIPS", "rolling12").loc[ROLLING[0], "count"]
    population = wh.population((), "all", wh.registry.get(MEASURE))
    assert f"HIPS {hips / population * 100_000:.1f} per 100,000" in card["summary"]
    assert f"{hidden} districts are hidden (*)" in card["summary"] and "1 to 7" in card["summary"]


def _rows(table) -> dict[str, list[str]]:
    """A serialised table's body as {first cell: the other cells}."""
    found: dict[str, list[str]] = {}

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "Tr":
                cells = [c["props"].get("children") for c in node["props"]["children"]]
                if node["props"]["children"][0].get("type") == "Th" and cells[0] and len(cells) > 1:
                    found[cells[0]] = cells[1:]
            for v in node.get("props", {}).values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(table)
    return found


def test_public_view_hides_1_to_7_and_says_so(app):
    with app.server.test_request_context("/"):
        ages = cb.update_ages(state())
        districts = cb.update_districts(state())
        trend = cb.update_trend(state())
    for card in (ages, districts):
        assert "hidden (*)" in card["summary"] and "1 to 7" in card["summary"]  # said in words beside the chart
        assert '"*"' in text(card["table"])
    shown = []
    for out in (ages, districts, trend):
        table = json.loads(text(out["table"]))
        shown += [int(t.replace(",", "")) for t in _cells(table) if t.replace(",", "").isdigit()]
    # Every whole number in a public table is 0 or at least 8 (years and percentages aside).
    assert not [v for v in shown if 1 <= v <= 7]


def test_several_districts_are_refused_politely_in_public(app):
    with app.server.test_request_context("/"):
        out = cb.districts_callback(state(districts=(SOTON, "E06000044")))
        headline = cb.headline_callback(state(districts=(SOTON, "E06000044")))["headline"]
    assert type(out["summary"]).__name__ == "Alert" and "one district at a time" in text(out["summary"])
    assert type(headline).__name__ == "Alert"


# ---- partner: the marts, unchanged -----------------------------------------------------------------------------


def test_yearly_counts_equal_a_direct_count(partner_app, partner):
    sql = sql_admissions(partner, SOTON, "2024-04", "2025-03")
    by_fy = partner.counts_by_period(MEASURE, "fy", [SOTON]).set_index("period")
    assert int(by_fy.loc["2024-25", "count"]) == sql
    with partner_app.server.test_request_context("/"):
        scope = scope_of(partner, MEASURE, read_state(state()))
        frame = cb.yearly_table(partner, scope).set_index("fy")
        card = cb.update_trend(state())
    assert int(frame.loc["2024-25", "count"]) == sql and frame.loc["2024-25", "months"] == 12
    assert f'"{sql}"' in text(card["table"])  # the table alternative carries the same number
    # The under-25 count, where shown, is the sum of the two published under-25 bands.
    young = sql_admissions(partner, SOTON, "2024-04", "2025-03", ("u18", "18_24"))
    assert pd_na_or_equal(frame.loc["2024-25", "young"], young)


def pd_na_or_equal(value, expected) -> bool:
    return value is None or str(value) == "<NA>" or int(value) == expected


def test_district_rates_and_age_bands_add_up(partner):
    ages = outcomes.breakdown(partner, MEASURE, "age_band", [SOTON], "2023-10", "2026-09")
    assert int(ages["count"].sum()) == sql_admissions(partner, SOTON, "2023-10", "2026-09")
    rates = outcomes.district_rates(partner, MEASURE, "2023-10", "2026-09").set_index("district_code")
    assert int(rates.loc[SOTON, "count"]) == sql_admissions(partner, SOTON, "2023-10", "2026-09")


def test_partner_ages_show_every_band(partner_app):
    with partner_app.server.test_request_context("/"):
        card = cb.update_ages(state(start="2023-10"))
    words = text(card["table"])
    assert all(band in words for band in ("Under 25 (total)", "Under 18", "18 to 24", "25 and over"))
    assert "Shown to partners only" not in card["summary"]


def _cells(node) -> list[str]:
    """Text of every cell of a serialised table."""
    out = []
    if isinstance(node, dict):
        if node.get("type") in ("Td", "Th") and isinstance(node["props"].get("children"), str):
            out.append(node["props"]["children"])
        for v in node.get("props", {}).values():
            out += _cells(v)
    elif isinstance(node, list):
        for v in node:
            out += _cells(v)
    return out


def test_titles_state_findings_and_every_card_has_its_parts(app):
    with app.server.test_request_context("/"):
        shown = cb.update_headline(state())
        cards = [cb.update_trend(state()), cb.update_ages(state()), cb.update_districts(state())]
        hips = cb.update_trend(state(districts=()))
    assert shown["title"].endswith("Southampton")
    assert "per 100,000 residents a year" in pio.json.to_json(shown["headline"])
    # Year lines (all ages, under 25); age bars with the hidden bands marked; district intervals.
    expected = {"trend": ["scatter", "scatter"], "ages": ["bar", "scatter"], "districts": ["scatter"]}
    for card, traces in zip(cards, expected.values(), strict=True):
        assert "Southampton" in card["title"]
        types, table, n_words = drawn(card)
        assert (types, table) == (traces, "Table") and n_words >= 6
        assert "SYNTHETIC" in "".join(card["footnote"]) and "Period:" in card["footnote"][0]
        about = pio.json.to_json(card["about"])
        assert "About this measure" in about and "ICD-10 X99" in about
    # Both HIPS years hold cells the NHS supplier hid: lower bounds, not compared (69 against 75 may be 80 against 75).
    assert (
        hips["title"] == "Admissions in all of HIPS: at least 69 in 2021/22 and at least 75 in 2025/26 "
        "(lower bounds, so not compared)"
    )
    assert "Under-25" in cards[1]["title"] or "by age" in cards[1]["title"]


def _years(*rows) -> pd.DataFrame:
    return pd.DataFrame(
        [{"fy": fy, "months": 12, "count": n, "incomplete": hidden} for fy, n, hidden in rows],
        columns=["fy", "months", "count", "incomplete"],
    )


def test_a_trend_title_tests_exact_counts_and_never_lower_bounds():
    exact = cb.trend_title(_years(("2021-22", 40, False), ("2025-26", 80, False)), "Hart", "")
    assert exact == "Admissions in Hart rose from 40 in 2021/22 to 80 in 2025/26 (a statistically significant change)"
    # A lower bound above the other year's exact count: the direction is certain, the size is not.
    fell = cb.trend_title(_years(("2021-22", 16, True), ("2025-26", 9, False)), "Hart", "")
    assert (
        fell == "Admissions in Hart fell from at least 16 in 2021/22 to 9 in 2025/26 "
        "(a lower bound, so the change is not tested)"
    )
    rose = cb.trend_title(_years(("2021-22", 9, False), ("2025-26", 16, True)), "Hart", "")
    assert rose.startswith("Admissions in Hart rose from 9 in 2021/22 to at least 16 in 2025/26 (a lower bound")
    # A lower bound below the other year's count could be either side of it: no direction.
    unknown = cb.trend_title(_years(("2021-22", 20, False), ("2025-26", 16, True)), "Hart", " of under-25s")
    assert (
        unknown
        == "Admissions of under-25s in Hart: 20 in 2021/22 and at least 16 in 2025/26 (a lower bound, so not compared)"
    )


def test_period_outside_the_source_is_corrected_with_a_message(partner_app):
    with partner_app.server.test_request_context("/"):
        headline = cb.update_headline(state(start="2018-04", end="2019-03", measure="ons_knife_crime"))["headline"]
    assert "latest 12 months" in pio.json.to_json(headline)


@pytest.mark.browser
def test_admissions_page_in_the_browser(dash_duo, demo_warehouse):
    app = create_app(demo_warehouse.with_(cache_type="SimpleCache"))
    dash_duo.driver.set_script_timeout(30)
    dash_duo.start_server(app)
    dash_duo.driver.get(dash_duo.server_url + "/hospital-admissions?district=E06000045")
    wait_for(lambda: "Southampton" in dash_duo.find_element("#admissions-title").text)
    wait_for(lambda: dash_duo.driver.find_elements("css selector", "#admissions-trend-graph .main-svg"))
    assert "Southampton" in dash_duo.find_element("#admissions-trend-title").text
    tick(dash_duo, "Portsmouth")  # the public choose one district at a time
    wait_for(lambda: dash_duo.find_element("#admissions-title").text.endswith(": Portsmouth"))
    wait_for(lambda: "Portsmouth" in dash_duo.find_element("#admissions-trend-title").text)
    assert "Shown to partners only" in dash_duo.find_element("#admissions-ages-summary").text
    assert "Hospital admissions" in dash_duo.driver.title
    assert serious_violations(dash_duo.driver) == []
    assert dash_duo.get_logs() == []
    app.server.config["VRP_WAREHOUSE"].dispose()


@pytest.mark.parametrize("districts", [(SOTON,), ("E07000088",), ()])
def test_age_tables_for_several_years_equal_one_year_at_a_time(demo_warehouse, districts):
    """The trend chart asks for every year's age table in one query; each must be exactly the table the age chart
    publishes for that year alone (else the two could be combined to reveal a hidden band)."""
    years = [("2021-04", "2022-03"), ("2023-04", "2024-03"), ("2026-04", "2026-09")]
    partner = demo_warehouse.with_(audience="partner")
    batch = outcomes.age_groups_by_period(Warehouse(partner), MEASURE, districts, years)
    alone = Warehouse(partner)  # no cache: nothing is shared between the two ways
    for (s, e), got in zip(years, batch, strict=True):
        want = outcomes.age_groups(alone, MEASURE, districts, s, e)
        assert got["under_25"] == want["under_25"] and got["total"] == want["total"]
        assert got["bands"].equals(want["bands"])


def test_age_tables_for_overlapping_periods_are_refused(partner):
    with pytest.raises(ValueError):
        outcomes.age_groups_by_period(partner, MEASURE, (SOTON,), [("2023-04", "2024-03"), ("2024-01", "2024-12")])


def test_hidden_values_are_marked_on_the_charts_not_left_blank():
    import numpy as np
    import pandas as pd

    from vrp.figures import admissions as fy_figs
    from vrp.figures import outcomes as figs

    ages = pd.DataFrame({"band": ["Under 18", "18 to 24", "25 and over"], "n": [np.nan, 4.0, 9.0]})
    fig = figs.bars(ages, "band", "n", "Admissions")
    marks = fig.data[-1]
    assert (marks.mode, list(marks.y), list(marks.text), list(marks.x)) == ("text", ["Under 18"], ["*"], [0])
    assert not any(t.showlegend is not False for t in fig.data)  # no legend (plotly names an unnamed trace "trace 0")
    assert len(figs.bars(ages.fillna(1.0), "band", "n", "Admissions").data) == 1  # nothing hidden, no marks
    years = pd.DataFrame({"fy": ["2023-24", "2024-25"], "rate": [3.1, 3.4], "young_rate": [np.nan, np.nan]})
    lines = fy_figs.yearly_lines(years, {"rate": "All ages", "young_rate": "Under 25"}, "per 100,000")
    assert [t.name for t in lines.data] == ["All ages", "Under 25: hidden (small numbers)"]


def test_year_labels_and_two_line_names_keep_apart_on_a_narrow_card():
    """On a phone four "2009/10" labels touched, and names over two lines ran into the next row's."""
    from vrp.figures import admissions as fy_figs

    years = [f"{y}-{(y + 1) % 100:02d}" for y in range(2008, 2019)]
    frame = pd.DataFrame({"fy": years, "rate": np.linspace(30, 41, len(years))})
    xaxis = fy_figs.yearly_lines(frame, {"rate": "Hampshire"}, "per 100,000").layout.xaxis
    assert list(xaxis.ticktext) == ["2010/11", "2014/15", "2018/19"]  # three, counted back from the latest
    forces = pd.DataFrame(
        {
            "label": ["Kent", "Avon and Somerset", "Devon and Cornwall"],
            "rate": [50.0, 45.0, 30.0],
            "lower": [45.0, 40.0, 26.0],
            "upper": [55.0, 50.0, 34.0],
            "compared_with_hips": ["better"] * 3,
        }
    )
    words = {"better": "below"}
    short = fy_figs.intervals_labelled(
        forces.assign(label=["Kent", "Essex", "Sussex"]), "label", 79, "per", "EW", words
    )
    long = fy_figs.intervals_labelled(forces, "label", 79, "per 100,000", "EW", words)
    assert "<br>" in long.data[0].y[-1] and "<br>" not in short.data[0].y[-1]
    assert long.layout.height == short.layout.height + 2 * 16  # two names over two lines: a line's room each
