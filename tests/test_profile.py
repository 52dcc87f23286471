"""The district profile (issue 13, point 3): its numbers equal the published cells (public) and the records
(partners), each section says what it shows and why something is hidden, the public profile needs nothing but the
published tables, and bad input is refused politely."""

from __future__ import annotations

import functools
import json
import shutil

import duckdb
import pandas as pd
import plotly.io as pio
import pytest
from plotly.utils import PlotlyJSONEncoder

from tests.helpers import UNPUBLISHED_TABLES, cube_cells, filter_state
from vrp.app import create_app
from vrp.callbacks import profile as cb
from vrp.callbacks import profile_about as about_cb
from vrp.callbacks import profile_sections as sections
from vrp.dashboards import components as c
from vrp.dashboards import profile as ids
from vrp.data_access import published
from vrp.stats.deprivation import by_decile, deprived_fifth_share

SOTON = "E06000045"


state = functools.partial(filter_state, start="", end="")  # Southampton, the default period


@pytest.fixture(scope="module")
def latest(wh):
    """The latest published rolling year, as the filter writes it (the default public period)."""
    period = published.latest(wh, ids.FOCUS)
    return f"{period.start:%Y-%m}", f"{period.end:%Y-%m}"


def _headline_rows(out) -> dict[str, list[str]]:
    """The headline table as the browser gets it: measure -> its cells' text."""
    table = out["headline"].children[0]
    rows = table.children[1].children
    return {r.children[0].children: [cell.children for cell in r.children[1:]] for r in rows}


def test_public_headline_figures_are_the_published_cells(app, wh, latest):
    with app.server.test_request_context("/"):
        out = cb.update_headline(state(start=latest[0], end=latest[1]))
    assert out["title"] == "District profile: Southampton"
    rows = _headline_rows(out)
    # Every headline measure counted by district, and not the force-level ONS series.
    assert set(rows) == {m.label for m in wh.registry if m.headline and "district" in m.geography_levels}
    for measure in wh.registry:
        if measure.label not in rows:
            continue
        cells = cube_cells(wh, measure.id, SOTON, "rolling12").set_index("end")
        value = cells.loc[pd.Timestamp(latest[1] + "-01").date(), "count"]
        expected = "* (hidden)" if pd.isna(value) else f"{int(value):,}"
        assert rows[measure.label][1] == expected, measure.id
        hips = cube_cells(wh, measure.id, "HIPS", "rolling12").set_index("end")
        if not pd.isna(value) and measure.id == "knife_enabled_sv":
            hips_count = hips.loc[pd.Timestamp(latest[1] + "-01").date(), "count"]
            population = wh.population((), "all", measure)
            assert f"HIPS {hips_count / population * measure.per:,.1f}" in rows[measure.label][3]


def test_partner_headline_counts_equal_the_months_added_up(partner_app, latest):
    partner = partner_app.server.config["VRP_WAREHOUSE"]
    with partner_app.server.test_request_context("/"):
        out = cb.update_headline(state(start=latest[0], end=latest[1]))
    months = partner.monthly_counts("knife_enabled_sv", (SOTON,), latest[0], latest[1])
    assert _headline_rows(out)["Knife-enabled serious violence"][1] == f"{int(months['count'].sum()):,}"
    assert "OFFICIAL-SENSITIVE" in str(out["cover"])


def test_hips_has_its_own_title_and_compares_with_the_year_before(app, latest):
    with app.server.test_request_context("/"):
        out = cb.update_headline(state((), start=latest[0], end=latest[1]))
    assert out["title"] == "Profile: all of HIPS"
    assert "Against HIPS" not in str(out["headline"].children[0].children[0])  # no column comparing HIPS with itself
    ratio_title = out["ratios"]["title"]
    assert "than the year before" in ratio_title


def test_the_trend_is_24_published_months_with_an_spc_verdict(app, wh, latest):
    with app.server.test_request_context("/"):
        out = cb.update_headline(state(start=latest[0], end=latest[1]))
    trend = out["trend"]
    assert trend["title"].startswith("Monthly knife-enabled serious violence in Southampton:")  # the Knife crime card
    months = cube_cells(wh, "knife_enabled_sv", SOTON, "month")
    last = months[months["end"] <= pd.Timestamp(latest[1] + "-01").date()].tail(24)
    table = pio.json.to_json(trend["table"])
    for value in last["count"].dropna():
        assert f'"{int(value)}"' in table


def test_where_names_places_and_when_is_for_partners_only_in_public(app, partner_app, latest):
    from vrp.data_access import places

    with app.server.test_request_context("/"):
        public = sections.update_where_when(state(start=latest[0], end=latest[1]))
    where, when = public["places"], public["grid"]
    assert "had the most serious violence in Southampton" in where["title"]
    assert "financial year" in where["summary"]  # the public places are a published LSOA year, and it says so
    assert when["title"].endswith("shown to partners only")
    assert "hour and day of the week" in when["summary"]
    with partner_app.server.test_request_context("/"):
        s = sections.Section(state(start=latest[0], end=latest[1]))
        out = sections.grid_card(s)
        cells = places.hour_by_weekday(s.wh, *s.args)
        days, hours = places.day_and_hour_totals(s.wh, *s.args)
    assert int(days["count"].sum()) == int(hours["count"].sum()) == int(cells["count"].sum())
    busiest = days.sort_values("count").iloc[-1]
    assert f"({int(busiest['count']):,})" in out["summary"]
    totals = pio.json.to_json(out["table"])  # the table: 7 days and 24 hours
    assert totals.count('"Day"') == 7 and totals.count('"Hour"') == 24
    assert out["title"].startswith("When serious violence happened in Southampton: busiest on")


def test_who_and_deprivation_and_the_funnel(app, wh, latest):
    with app.server.test_request_context("/"):
        out = sections.update_who(state(start=latest[0], end=latest[1]))
    ages, deprivation, funnel = out["ages"], out["deprivation"], out["funnel"]
    young = cube_cells(wh, ids.FOCUS, SOTON, "rolling12", "u25").set_index("end")
    total = cube_cells(wh, ids.FOCUS, SOTON, "rolling12").set_index("end")
    at = pd.Timestamp(latest[1] + "-01").date()
    y, t = int(young.loc[at, "count"]), int(total.loc[at, "count"])
    assert ages["title"] == f"Under-25s were the victims in {y / t:.0%} of serious violence in Southampton"
    assert "Shown to partners only: finer age bands" in ages["summary"]
    assert "most deprived fifth" in deprivation["title"] and "between" in deprivation["title"].lower()
    marked = [t for t in json.loads(pio.to_json(funnel["figure"]))["data"] if t.get("name") == "This profile"]
    assert marked and list(marked[0]["customdata"]) == ["Southampton"]
    assert funnel["title"].startswith("Southampton is ")


def test_deprivation_figures_exact_and_with_hidden_lsoas():
    lsoas = pd.DataFrame(
        {
            "imd_decile": [1, 1, 2, 5, 10],
            "count": [10.0, 5.0, 5.0, 20.0, 0.0],
            "population": [1000, 1000, 2000, 4000, 2000],
        }
    )
    deciles = by_decile(lsoas, per=1000)
    assert list(deciles["count"].head(2)) == [15, 5] and deciles["complete"].all()
    assert deciles.loc[0, "rate"] == pytest.approx(7.5)
    exact = deprived_fifth_share(deciles, 40)
    assert exact["share"] == pytest.approx(0.5) and exact["lower"] < 0.5 < exact["upper"]
    assert exact["population_share"] == pytest.approx(0.4)
    hidden = lsoas.assign(count=[10.0, None, 5.0, 20.0, 0.0])
    bounds = deprived_fifth_share(by_decile(hidden, per=1000), 40)
    assert bounds["share"] is None
    assert (bounds["low"], bounds["high"]) == (pytest.approx(15 / 40), pytest.approx(20 / 40))
    assert deprived_fifth_share(by_decile(hidden), None)["low"] is None


def test_definitions_sources_and_what_is_hidden(app, partner_app):
    with app.server.test_request_context("/"):
        public = str(about_cb.update_about(state()))
    assert "Small numbers are hidden" in public and "Shown to partners only" in public
    assert "SYNTHETIC" in public and "Knife-enabled serious violence" in public
    with partner_app.server.test_request_context("/"):
        partner = str(about_cb.update_about(state()))
    assert "Nothing is hidden from partners" in partner


def test_the_public_profile_needs_only_the_published_tables(demo_warehouse, tmp_path, latest):
    """The cut-off check of tests/test_public_release.py for the profile: the same answers without any table the
    public may not read."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_warehouse.warehouse_url.removeprefix("duckdb:///"), path)
    with duckdb.connect(str(path)) as conn:
        for table in UNPUBLISHED_TABLES:
            conn.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    settings = dict(cache_type="NullCache", audience="public")
    whole = create_app(demo_warehouse.with_(**settings))
    reduced = create_app(demo_warehouse.with_(build_dir=tmp_path, warehouse_url=f"duckdb:///{path}", **settings))
    callbacks = (cb.headline_callback, sections.where_callback, sections.who_callback, about_cb.about_callback)
    try:
        for chosen in (state(start=latest[0], end=latest[1]), state((), start=latest[0], end=latest[1])):
            for callback in callbacks:
                with reduced.server.test_request_context("/"):
                    got = json.dumps(callback(chosen), cls=PlotlyJSONEncoder)
                with whole.server.test_request_context("/"):
                    expected = json.dumps(callback(chosen), cls=PlotlyJSONEncoder)
                assert "Something went wrong" not in got and "public release does not hold" not in got
                assert got == expected, callback.__name__
    finally:
        for application in (whole, reduced):
            application.server.config["VRP_WAREHOUSE"].dispose()


def test_the_page_is_routed_and_hips_is_a_district_value(app):
    from vrp.dashboards.pages import find
    from vrp.data_access.filter_state import from_query

    page = find("/profile")
    assert page is not None and page.measure == ids.FOCUS
    wh = app.server.config["VRP_WAREHOUSE"]
    with app.server.test_request_context("/"):
        assert from_query(wh, "?district=HIPS").districts == ()
        assert from_query(wh, f"?district={SOTON}").districts == (SOTON,)
    assert app.server.test_client().get(f"/profile?district={SOTON}").status_code == 200


def test_the_overview_and_the_chosen_district_link_to_the_profile(app):
    chosen = {"districts": [SOTON], "start": "2025-10", "end": "2026-09", "measure": "serious_violence", "age": "all"}
    assert cb.profile_href((SOTON,), "2025-10", "2026-09") == f"/profile?district={SOTON}&from=2025-10&to=2026-09"
    assert cb.profile_href(()) == "/profile"
    with app.server.test_request_context("/"):
        link = cb.filter_link(chosen, "/knife-crime")
        assert (link.href, link.children) == (
            cb.profile_href((SOTON,), "2025-10", "2026-09"),
            "Profile of Southampton (printable)",
        )
        assert cb.filter_link({**chosen, "districts": []}, "/") is None  # no district chosen: the nav link serves
        assert cb.filter_link(chosen, "/profile") is None  # not to the page itself
        home_link = cb.home_link(chosen)[0]
        assert (home_link.href, home_link.children) == (f"/profile?district={SOTON}", "Profile of Southampton")


def test_every_card_is_offered_to_the_downloads(app, latest):
    """callbacks/exports.py reads each card from the very view it was drawn from: its output group must find it."""
    chosen = {**state(start=latest[0], end=latest[1]), "measure": "serious_violence", "age": "all"}
    assert {card for card, *_ in cb.EXPORT_CARDS} == {
        ids.RATIOS, ids.TREND, ids.PLACES, ids.GRID, ids.AGES, ids.DEPRIVATION, ids.FUNNEL
    }  # fmt: skip
    with app.server.test_request_context("/"):
        for card, name, view, group, measure in cb.EXPORT_CARDS:
            shown = view(chosen)[group]
            assert name.startswith("profile-") and measure in app.server.config["VRP_WAREHOUSE"].registry
            assert isinstance(shown["title"], str) and shown["title"], card
            assert isinstance(shown["figure"], dict) and "data" in shown["figure"], card  # the chart
            assert "Source" in str(shown["footnote"]), card
            if card in (ids.PLACES, ids.AGES):  # shares print as percentages, and download as fractions
                shares = c.kept_data(shown["table"])["Share"].dropna()
                assert len(shares) and shares.between(0, 1).all() and shares.dtype.kind == "f", card


def test_a_release_without_lsoa_cells_says_so_in_the_lsoa_sections(app, latest, monkeypatch):
    """Top places and deprivation read LSOA cells: a release without them gets the reason, not an error."""
    from vrp.data_access import published_places

    def no_lsoas(*_args, **_kwargs):
        raise published.NotPublished("The public release holds serious violence by district only.")

    monkeypatch.setattr(published_places, "lsoa_period", no_lsoas)
    with app.server.test_request_context("/"):
        s = sections.Section(state(start=latest[0], end=latest[1]))
        where, deprivation = sections.places_card(s), sections.deprivation_card(s)
    assert where["title"] == "Top places in Southampton: shown to partners only"
    assert deprivation["title"].endswith("shown to partners only") and "by district only" in deprivation["summary"]


def test_a_partners_hour_weekday_csv_is_the_grid_the_chart_draws(partner_app, latest):
    """The card's table holds only the day and hour totals; its CSV is the 7 x 24 cells, which add up to them."""
    from vrp.callbacks.exports import card_export

    chosen = {**state(start=latest[0], end=latest[1]), "measure": "serious_violence", "age": "all"}
    with partner_app.server.test_request_context("/"):
        cells = card_export(chosen, ids.GRID).frame
        totals = c.kept_data(sections.update_where_when(chosen)["grid"]["table"])
    assert len(cells) == 7 * 24 and cells["Offences"].notna().all()
    days = totals[totals["Totals by"] == "Day"].set_index("Day or hour")["Offences"].astype(int)
    assert cells.groupby("Day")["Offences"].sum().astype(int).reindex(days.index).tolist() == days.tolist()
    assert set(cells["audience"]) == {"partner"}
