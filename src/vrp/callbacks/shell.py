"""The router and the filter state: URL query string <-> filter controls <-> the state store pages listen to."""

from __future__ import annotations

import json
import logging

import dash
from dash import Input, Output, ctx, html, no_update

from vrp.callbacks import failure_outputs, guarded, polite
from vrp.callbacks.inputs import sync_inputs
from vrp.dashboards import filters as f
from vrp.dashboards.pages import find, nav_pages, pages
from vrp.dashboards.shell import CONTENT, FILTERS, URL
from vrp.data_access import filter_state as fs
from vrp.data_access.context import warehouse
from vrp.data_access.validation import InvalidQuery

log = logging.getLogger(__name__)


def not_found(path: str) -> html.Div:
    return html.Div(
        [
            html.H1("Page not found", className="h2 mt-3"),
            html.P(f"There is no page at {path[:80]}. Use the navigation above."),
        ]
    )


def register(app: dash.Dash) -> None:
    @app.callback(
        output={
            "content": Output(CONTENT, "children"),
            "filters_hidden": Output(FILTERS, "hidden"),
            "measure_style": Output(f.MEASURE_COL, "style"),
        },
        inputs=[Input(URL, "pathname")],
    )
    @guarded(failure_outputs(content=polite, filters_hidden=False, measure_style=None))
    def route(pathname):
        page = find(pathname)
        if page is None:
            missing = not_found(pathname if isinstance(pathname, str) else "that address")
            return {"content": missing, "filters_hidden": True, "measure_style": None}
        # A page with a measure of its own, or one showing every measure, ignores the Measure box: hide it rather
        # than show a choice that does nothing (the page's title names what it shows).
        measure_style = {"display": "none"} if page.hides_measure else None
        return {"content": page.layout(), "filters_hidden": not page.uses_filters, "measure_style": measure_style}

    # Page titles for the browser tab, from the page registry (one place to add a page).
    titles = json.dumps({p.path: p.title for p in pages()})
    app.clientside_callback(
        "function(path){const t=" + titles + ";"
        "document.title=(t[path]||'Page not found')+' - HIPS serious violence dashboard';"
        # On the map page, start fetching the boundaries now, while the server computes the figure: the map
        # then finds them in the HTTP cache instead of asking only once the figure has arrived.
        # All of HIPS (no district in the link) draws the lighter overview layer (figures/hotspots.lsoa_geojson).
        "if(path==='/hotspots'&&!window.vrpGeo){window.vrpGeo=fetch(/[?&]district=E/.test(location.search)?"
        "'/geo/lsoa21.geojson':'/geo/lsoa21-overview.geojson');}"
        "return window.dash_clientside.no_update;}",
        Output(URL, "id"),
        Input(URL, "pathname"),
    )

    paths = [p.path for p in nav_pages()]

    @app.callback([Output(f"nav-{i}", "href") for i in range(len(paths))], Input(f.STATE, "data"))
    def carry_filters(state_data):
        """Navigation keeps the filters: each link carries the current query string."""
        try:
            query = fs.read_state(state_data).query() if state_data else ""
        except Exception:  # a state the shell did not write: links without filters
            query = ""
        return [path + query for path in paths]

    app.callback(output=SYNC_OUTPUTS, inputs=SYNC_INPUTS)(sync)


SYNC_OUTPUTS = {
    "district": Output(f.DISTRICT, "value"),
    "measure": Output(f.MEASURE, "value"),
    "age": Output(f.AGE, "value"),
    "from_options": Output(f.FROM, "options"),
    "from": Output(f.FROM, "value"),
    "to_options": Output(f.TO, "options"),
    "to": Output(f.TO, "value"),
    "preset_options": Output(f.PRESET, "options"),
    "preset": Output(f.PRESET, "value"),
    "state": Output(f.STATE, "data"),
    "search": Output(URL, "search"),
    "message": Output(f.MESSAGE, "children"),
    "legend": Output(f.DISTRICT_LEGEND, "children"),
}
SYNC_INPUTS = [
    Input(URL, "search"),
    Input(f.DISTRICT, "value"),
    Input(f.MEASURE, "value"),
    Input(f.AGE, "value"),
    Input(f.FROM, "value"),
    Input(f.TO, "value"),
    Input(f.PRESET, "value"),
    Input(URL, "pathname"),
]


def sync(search, districts, measure, age, start, end, preset, pathname):
    """The URL and the filter controls -> one checked filter state, written back to both (and to the store the
    pages listen to)."""
    try:
        sync_inputs(search, districts, measure, age, start, end, preset, pathname)
    except InvalidQuery as exc:  # not what the page sends: say so, change nothing, no traceback
        return _only(message=polite(str(exc)))
    try:
        wh = warehouse()
        page = find(pathname)
        scope = (page.measure if page is not None else None, page.period_level if page is not None else "hips")
        trigger = ctx.triggered_id
        state = _state(wh, trigger, scope, search, districts, measure, age, start, end, preset)
        months = fs.month_options(wh, state.measure)
        preset_options, shown_preset = _period_choice(wh, state, scope, trigger, preset)
    except Exception:  # logged with its context; the bar keeps what it shows and says the filters failed
        log.exception("filter sync failed (trigger %s, path %.80s, search %.200s)", ctx.triggered_id, pathname, search)
        failed = polite("The filters could not be applied just now; it has been logged. Please try again.")
        return _only(message=failed)
    query = state.query() + (f"&{fs.PRESENT}=1" if f.presenting(search) else "")
    message = polite(html.Ul([html.Li(p) for p in state.problems], className="mb-0")) if state.problems else None
    public = wh.audience == "public"
    return {
        "district": (state.districts[0] if state.districts else "") if public else list(state.districts),
        "measure": state.measure,
        "age": state.age,
        "from_options": months,
        "from": state.start,
        "to_options": months,
        "to": state.end,
        "preset_options": preset_options,
        "preset": shown_preset,
        "state": state.as_dict(),
        "search": query if query != search else no_update,
        "message": message,
        "legend": "District" if public else f.district_legend(state.districts),
    }


def _only(**values) -> dict:
    """The filter sync's outputs with only ``values`` changed (a refusal or a failure leaves the bar as it is)."""
    return {name: values.get(name, no_update) for name in SYNC_OUTPUTS}


def _state(wh, trigger, scope: tuple, search, districts, measure, age, start, end, preset) -> fs.FilterState:
    """From the link when it changed (or on first load), else from the controls; a preset sets the months."""
    period_measure, period_level = scope
    if trigger in (None, URL):
        return fs.from_query(wh, search, period_measure, period_level)
    if trigger == f.PRESET and preset in fs.PRESETS:
        start, end = fs.apply_preset(wh, measure or fs.DEFAULT_MEASURE, preset)
    elif trigger == f.PRESET and isinstance(preset, str) and "/" in preset:  # a published period
        start, end = preset.split("/", 1)
    return fs.resolve(
        wh,
        districts=districts,
        start=start,
        end=end,
        measure=measure,
        age=age,
        period_measure=period_measure,
        period_level=period_level,
    )


def _period_choice(wh, state: fs.FilterState, scope: tuple, trigger, preset) -> tuple[list, str]:
    """The Period box's options and value. Public: the published periods of the page's measure, the current one
    chosen. Partner: the presets, showing what the user just chose, else the preset the period matches (the
    default view is the latest 12 months, and says so)."""
    if wh.audience == "public":
        period_measure, period_level = scope
        options = fs.public_periods(wh, period_measure or state.measure, period_level)
        return [{"label": o["label"], "value": o["value"]} for o in options], f"{state.start}/{state.end}"
    if trigger == f.PRESET and (preset in fs.PRESETS or preset == "custom"):
        return f.PARTNER_PERIODS, preset
    return f.PARTNER_PERIODS, fs.matching_preset(wh, state.measure, state.start, state.end)
