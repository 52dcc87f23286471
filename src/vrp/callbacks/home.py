"""Overview callbacks: headline tiles (latest 12 months against the year before and the baseline year, SPC
variation, the selection against HIPS) and the latest figures for every measure."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, html, no_update

from vrp.callbacks import cached_view, failure_outputs, guarded, inputs, polite
from vrp.callbacks.text import where
from vrp.dashboards import home, tiles
from vrp.dashboards.filters import STATE
from vrp.data_access import outcomes, published
from vrp.data_access.context import warehouse
from vrp.data_access.counts import FORCE_NAME
from vrp.data_access.filter_state import read_state
from vrp.periods import add_months
from vrp.stats import compare, rate_ci, variation_icon
from vrp.stats.spc import monthly_xmr

COMPARE_WORDS = {
    "worse": "higher than",
    "better": "lower than",
    "similar": "similar to",
    "higher": "higher than",
    "lower": "lower than",
}


def measure_tile(wh, measure_id: str, districts: tuple, synthetic: set[str]):
    measure = wh.registry.get(measure_id)
    comp = outcomes.comparisons(wh, measure_id, districts)
    cur = comp.get("current")
    series = variation = None
    # Public: the tile compares two published rolling-year cells, and draws months only for a measure the cube
    # publishes by month (the others are published by quarter or year: no monthly trend).
    monthly = wh.audience != "public" or any(p.type == "month" for p in published.periods(wh, measure_id))
    if cur and monthly:
        # The icon reads the latest month against limits fixed on the measure's baseline months, as the Knife crime
        # page's SPC chart does (stats.monthly_xmr); the sparkline draws the last 24 months.
        history = wh.monthly_counts(measure_id, districts, None, cur["end"])
        chart = monthly_xmr(
            history["month"],
            history["count"].astype(float).to_numpy(),
            baseline_months=measure.spc_baseline_months,
            changes=[m for m, _ in measure.spc_recalculate],
            polarity=measure.polarity,
        )
        variation = variation_icon(chart, measure.polarity)
        recent = history["month"].map(lambda d: f"{d:%Y-%m}") >= add_months(cur["end"], -23)
        series = history[recent].reset_index(drop=True)
    benchmark = None
    if districts and cur and cur["rate"] is not None:
        hips = outcomes.comparisons(wh, measure_id, (), cur["end"])["current"]
        if hips and hips["rate"] is not None:
            verdict = compare(cur["lower"], cur["upper"], hips["rate"], measure.polarity)
            benchmark = (
                f"HIPS: {hips['rate']:.1f} {tiles.UNIT_WORDS.get(measure.unit, '')}; "
                f"{where(wh, districts)} is {COMPARE_WORDS.get(verdict, 'not compared with')} HIPS."
            )
    return tiles.tile(
        f"tile-{measure_id}",
        measure.label,
        measure.unit,
        comp,
        series,
        variation,
        benchmark,
        measure.source in synthetic,
    )


def ons_tile(wh):
    """The national series: Hampshire's latest four quarters against England and Wales."""
    measure = wh.registry.get("ons_knife_crime")
    frame = wh.force_quarterly(measure.id)
    if frame.empty:
        return None
    last = frame["quarter_start"].max()
    latest = frame[frame["quarter_start"] > last.replace(year=last.year - 1)]
    hants = latest[latest["force_name"] == FORCE_NAME]
    count, pop = int(hants["count"].sum()), float(hants["population"].iloc[-1])
    rate, lo, hi = rate_ci(count, pop, per=measure.per)
    ew_pop = latest.groupby("force_name")["population"].last().sum()
    ew_rate = latest["count"].sum() / ew_pop * measure.per
    verdict = compare(lo, hi, ew_rate, measure.polarity)
    fy = hants["financial_year"].iloc[-1]
    return dbc.Card(
        dbc.CardBody(
            [
                html.H3(measure.label, className="h6 text-uppercase text-muted mb-1"),
                html.P(f"{count:,}", className="display-6 fw-bold mb-0 vrp-figure"),
                html.P(f"{rate:.1f} per 100,000 (95% CI {lo:.1f} to {hi:.1f})", className="mb-1 small"),
                html.P(
                    f"Hampshire, {fy}: {COMPARE_WORDS.get(verdict, 'not compared with')} England and Wales "
                    f"({ew_rate:.1f} per 100,000), the latest year loaded.",
                    className="mb-1",
                ),
                dbc.Badge("Real data (ONS)", color="secondary"),
            ]
        ),
        id="tile-ons_knife_crime",
        className="h-100 shadow-sm",
    )


def update_tile(measure_id: str, state_data):
    """One headline tile (nothing when the measure is not in the registry)."""
    if not state_data:
        return no_update
    state = read_state(state_data)
    wh = warehouse()
    if measure_id not in wh.registry:
        return None
    return measure_tile(wh, measure_id, state.districts, wh.synthetic_sources())


def update_ons_tile(state_data):
    """The national tile, for all of HIPS only (the series is force-level)."""
    if not state_data:
        return no_update
    state = read_state(state_data)
    wh = warehouse()
    if "ons_knife_crime" not in wh.registry or state.districts:
        return None
    return ons_tile(wh)


def update_tables(state_data):
    """The heading and every measure's latest figures."""
    if not state_data:
        return no_update
    state = read_state(state_data)
    wh = warehouse()
    return {
        "heading": f"Headline measures: {where(wh, state.districts)}",
        "figures": home.figures_for(wh, state.districts),
    }


def update(state_data):
    """The whole Overview in one call (the tests read it as the browser would see it)."""
    if not state_data:
        return no_update
    tables = update_tables(state_data)
    tiles = [update_tile(m, state_data) for m in home.HEADLINES] + [update_ons_tile(state_data)]
    return html.Div([html.H2(tables["heading"]), *[t for t in tiles if t is not None], tables["figures"]])


# The Overview reads only the district filter: the other four make no new cache entries.
PLACE = inputs.filter_state("districts")
tile_callback = guarded(polite)(cached_view(update_tile, inputs.one_of(home.HEADLINES, "measure"), PLACE))
ons_callback = guarded(polite)(cached_view(update_ons_tile, PLACE))
tables_callback = guarded(failure_outputs(heading="Headline measures", figures=polite))(
    cached_view(update_tables, PLACE)
)


def register(app: dash.Dash) -> None:
    for measure_id in home.HEADLINES:
        app.callback(Output(home.tile_slot(measure_id), "children"), Input(STATE, "data"))(
            lambda state_data, m=measure_id: tile_callback(m, state_data)
        )
    app.callback(Output(home.ONS_SLOT, "children"), Input(STATE, "data"))(ons_callback)
    tables = {"heading": Output(home.HEADING, "children"), "figures": Output(home.FIGURES, "children")}
    app.callback(output=tables, inputs=[Input(STATE, "data")])(tables_callback)
