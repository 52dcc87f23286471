"""Hotspots page callbacks: filter state -> data_access.places -> figures. Map updates use Patch when only the
values change, so a filter change sends ids and values, not a new figure."""

from __future__ import annotations

import re

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, Patch, State, html, no_update

from vrp.callbacks import cached_view, failure_outputs, guarded, inputs, polite
from vrp.callbacks.hotspots_panel import lsoa_panel
from vrp.callbacks.text import period_text, where
from vrp.dashboards import hotspots as ids
from vrp.dashboards.components import keep_data
from vrp.dashboards.filters import STATE
from vrp.dashboards.shell import ATTRIBUTION
from vrp.data_access import places, published_places
from vrp.data_access.context import warehouse
from vrp.data_access.filter_state import FilterState, read_state
from vrp.data_access.published import NotPublished
from vrp.figures import hotspots as figs
from vrp.figures.theme import partner_only, stamp, wrap
from vrp.geo.boundaries import lsoa_topology

UNIT = {"rate_per_100k": "per 100,000", "rate_per_million": "per million"}


def selection_bounds(wh, districts) -> tuple[float, float, float, float]:
    if not districts:
        return figs.HIPS_BOUNDS
    bounds = lsoa_topology(wh.settings.reference_dir, wh.settings.build_dir).district_bounds
    b = [bounds[d] for d in districts]
    return (min(x[0] for x in b), min(x[1] for x in b), max(x[2] for x in b), max(x[3] for x in b))


def lsoa_table(frame: pd.DataFrame, names: dict) -> dbc.Table:
    rows = frame.sort_values(["count", "lsoa21_code"], ascending=[False, True], na_position="last")
    head = html.Thead(
        html.Tr(
            [html.Th(c, scope="col") for c in ("LSOA", "Name", "District", "Count", "Rate per 1,000", "Hotspot class")]
        )
    )
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(r.lsoa21_code),
                    html.Th(r.lsoa21_name, scope="row"),
                    html.Td(names.get(r.district_code, "")),
                    html.Td("*" if pd.isna(r.count) else f"{int(r.count):,}", className="text-end"),
                    html.Td("*" if pd.isna(r.rate) else f"{r.rate:,.1f}", className="text-end"),
                    html.Td(r.hotspot),
                ]
            )
            for r in rows.itertuples()
        ]
    )
    shown = rows.assign(district=rows["district_code"].map(names).fillna(""))  # the CSV download's values
    return keep_data(dbc.Table([head, body], size="sm", striped=True, className="small"), shown, LSOA_COLUMNS)


LSOA_COLUMNS = {
    "lsoa21_code": "LSOA",
    "lsoa21_name": "Name",
    "district": "District",
    "count": "Count",
    "rate": "Rate per 1,000",
    "hotspot": "Hotspot class",
}


def shown_period(wh, state: FilterState) -> tuple[str, str | None]:
    """The period the page shows, in words, and a note when it is not the filter's: partners see the filter's
    months; the public map shows a published financial year (data_access/published_places.py)."""
    if wh.audience != "public":
        return period_text(state.start, state.end), None
    period, note = published_places.lsoa_period(wh, state.measure, state.start, state.end, state.age)
    return f"financial year {period.label}", note


def summary_sentence(
    label: str,
    frame: pd.DataFrame,
    conc: dict,
    state: FilterState,
    place: str,
    period: str | None = None,
    hot_places: list[str] | None = None,
) -> str:
    """The page's lead: the total, how concentrated it is, and the hot spots by name (``hot_places``, strongest
    first; the first five named, the rest counted)."""
    total = conc["total"]
    count = "hidden (a small number, or one that would reveal one)" if total is None else f"{total:,}"
    text = f"{label}: {count} in {place}, {period or period_text(state.start, state.end)}."
    if conc.get("top_5") is not None and total:
        n5 = max(1, round(len(frame) * 0.05))
        about = "about " if conc.get("approximate") else ""
        text += f" The top 5% of LSOAs ({n5:,} of {len(frame):,}) hold {about}{conc['top_5']:.0%} of it."
    return text + hot_spot_words(hot_places or [])


def hot_spot_words(names: list[str], shown: int = 5) -> str:
    if not names:
        return " No LSOA is a statistically significant hotspot."
    listed = "; ".join(names[:shown]) + (f"; and {len(names) - shown:,} more" if len(names) > shown else "")
    are = "s are statistically significant hotspots" if len(names) != 1 else " is a statistically significant hotspot"
    return f" {len(names):,} LSOA{are}: {listed} (marked in Top places)."


def export_note(wh, measure, state: FilterState, width: int = 120, period: str | None = None) -> str:
    """Attribution, source and labels written into exported images of this page's figures, wrapped at ``width``
    characters (about 5 px each): the half-width curve needs a narrower note than the map."""
    parts = [f"{measure.label}, {period or period_text(state.start, state.end)}."]
    if measure.source in wh.synthetic_sources():
        parts.append("SYNTHETIC demonstration data: not real records.")
    if wh.audience == "partner":
        parts.append("OFFICIAL-SENSITIVE.")
    parts.append(ATTRIBUTION)
    return wrap(" ".join(parts), width)


def update_map(state_data, mode, points, meta):
    """Filter state and colouring -> the map (a Patch when only values change), its meta, title, summary and
    a note when the period shown is not the one asked."""
    if not state_data:
        return no_update
    state = read_state(state_data)
    mode = mode if mode in figs.MODES else "count"
    wh = warehouse()
    frame = places.hotspot_map(wh, state.measure, state.districts, state.start, state.end, state.age)
    measure = wh.registry.get(state.measure)
    conc = places.concentration_of_harm(wh, state.measure, state.districts, state.start, state.end, state.age)
    place = where(wh, state.districts)
    period, note = shown_period(wh, state)
    show_points = bool(points) and "points" in points
    new_meta = {"mode": mode, "districts": list(state.districts), "points": show_points}
    if meta == new_meta and not show_points:
        # Same LSOAs and colouring: send only the new values.
        fig = Patch()
        for i, trace in enumerate(figs.value_traces(frame, mode)):
            for key in ("locations", "z", "customdata", "text"):
                fig["data"][i][key] = trace[key]
        # The note written into the map (measure, period, source) follows too, or an image downloaded after a
        # change of measure would name the old one. It is the map's only annotation (see stamp).
        fig["layout"]["annotations"][0]["text"] = export_note(wh, measure, state, period=period)
    else:
        fig = figs.hotspot_map(frame, mode, selection_bounds(wh, state.districts))
        if show_points:  # data_access refuses this outside the partner audience
            incidents = wh.incidents(state.measure, state.districts, state.start, state.end, state.age)
            fig["data"].append(figs.density_trace(incidents))
        stamp(fig, export_note(wh, measure, state, period=period), inside=True)
    title = f"Where {measure.label.lower()} is concentrated: {place}"
    message = dbc.Alert(note, color="info", className="my-2") if note else None
    hot = places.hot_spots(wh, state.measure, state.districts, state.start, state.end, state.age)["place"].tolist()
    summary = summary_sentence(measure.label, frame, conc, state, place, period, hot)
    return {"figure": fig, "meta": new_meta, "title": title, "summary": summary, "message": message}


def update_table(is_open, state_data):
    """The table alternative of the map, built only while it is open: for all of HIPS it is 1,231 rows, too
    much to resend with every filter change nobody is reading it for."""
    if not is_open or not state_data:
        return None
    state = read_state(state_data)
    wh = warehouse()
    frame = places.hotspot_map(wh, state.measure, state.districts, state.start, state.end, state.age)
    return lsoa_table(frame, wh.districts().set_index("district_code")["district_name"].to_dict())


def update_lsoa_list(state_data, last_districts):
    """Search suggestions: the LSOAs of the selected districts, sent again only when the districts change."""
    if not state_data:
        return no_update
    state = read_state(state_data)
    if last_districts is not None and list(state.districts) == last_districts:
        return no_update
    names = [
        f"{r.lsoa21_name} ({r.lsoa21_code})" for r in places.lsoa_options(warehouse(), state.districts).itertuples()
    ]
    return {"names": names, "districts": list(state.districts)}


def concentration_text(conc: dict, measure, place: str) -> str:
    if conc["total"] == 0:
        return "No incidents in this selection."
    if conc["hidden"]:
        return "Too few incidents in this selection to show how they are spread without identifying anyone."
    text = (
        f"The top 1% of LSOAs hold {conc['top_1']:.0%}, the top 5% hold {conc['top_5']:.0%} and the top 10% "
        f"hold {conc['top_10']:.0%} of {measure.label.lower()} in {place} (Gini coefficient {conc['gini']:.2f})."
    )
    if conc.get("approximate"):
        text = (
            "Approximately: "
            + text[:1].lower()
            + text[1:]
            + f" {conc['hidden_areas']:,} LSOAs with hidden counts are each counted at {conc['imputed']:.1f}, "
            "the published total less the published LSOAs, shared equally among them."
        )
    return text


def update_lower(state_data):
    """Top places, the concentration curve and the hour-by-day heat map."""
    if not state_data:
        return no_update
    state = read_state(state_data)
    wh = warehouse()
    args = (state.measure, state.districts, state.start, state.end, state.age)
    measure = wh.registry.get(state.measure)
    top = places.top_places(wh, *args)
    conc = places.concentration_of_harm(wh, *args)
    table = top_table(top, places.hot_spots(wh, *args))
    text = concentration_text(conc, measure, where(wh, state.districts))
    period, _ = shown_period(wh, state)
    note = export_note(wh, measure, state, width=85, period=period)  # 5/12
    curve = stamp(figs.concentration_figure(conc, measure.label), note)
    shown = {"top": table, "concentration": curve, "concentration_text": text}
    try:
        grid = places.hour_by_weekday(wh, *args)
    except NotPublished as refused:
        heat = partner_only()
        return shown | {"heatmap": heat, "heatmap_text": str(refused), "heatmap_hidden": False}
    if grid is None:
        return shown | {"heatmap": {}, "heatmap_text": "", "heatmap_hidden": True}
    busiest = grid.dropna(subset=["count"]).sort_values("count", ascending=False).head(1)
    heat_text = "Hour of the day and day of the week when the offences happened (where the record says). " + (
        f"The busiest hour was {places.WEEKDAYS[int(busiest.weekday.iloc[0])]} "
        f"{int(busiest.hour.iloc[0]):02d}:00-{int(busiest.hour.iloc[0]):02d}:59."
        if len(busiest) and busiest["count"].iloc[0]
        else ""
    )
    days, hours = places.day_and_hour_totals(wh, *args)
    heat_text += totals_text(days, hours)
    if grid["count"].isna().any():
        heat_text += " Grey cells are hidden to protect privacy (small numbers, and cells that would reveal them)."
    heat = stamp(figs.with_totals(figs.hour_weekday_figure(grid), grid, days, hours), export_note(wh, measure, state))
    return shown | {"heatmap": heat, "heatmap_text": heat_text, "heatmap_hidden": False}


def totals_text(days: pd.DataFrame, hours: pd.DataFrame) -> str:
    """The busiest day and hour in words, from the totals beside the grid (which hide less than its cells)."""
    text = ""
    day, hour = days.dropna(subset=["count"]), hours.dropna(subset=["count"])
    if len(day) and day["count"].max() > 0:
        d = day.sort_values(["count", "weekday"], ascending=[False, True]).iloc[0]
        text += f" Of the days, {places.WEEKDAYS[int(d.weekday)]} had the most ({int(d['count']):,} in all)"
    if len(hour) and hour["count"].max() > 0:
        h = hour.sort_values(["count", "hour"], ascending=[False, True]).iloc[0]
        span = f"{int(h.hour):02d}:00-{int(h.hour):02d}:59"
        text += f"{'; of' if text else ' Of'} the hours, {span} ({int(h['count']):,} in all)"
    hidden = int(days["count"].isna().sum() + hours["count"].isna().sum())
    return (text + "." if text else "") + (f" {hidden} of the totals are hidden too." if hidden else "")


def pick_from_map(click):
    """A click on the map chooses that LSOA and shows its name in the search box."""
    try:
        code = str(click["points"][0]["location"])
    except (TypeError, KeyError, IndexError):
        return no_update
    names = places.lsoa_options(warehouse()).set_index("lsoa21_code")["lsoa21_name"]
    return {"lsoa": code, "search": f"{names[code]} ({code})"} if code in names.index else no_update


def pick_from_search(_submitted, _left, text):
    """Typed text (on Enter or leaving the box) -> an LSOA code: the code itself, "Name (code)" from the list,
    or an exact name."""
    if not text or not isinstance(text, str):
        return None
    text = text.strip()[:80]
    options = places.lsoa_options(warehouse())
    codes = set(options["lsoa21_code"])
    match = re.search(r"E0\d{7}", text.upper())
    if match and match.group(0) in codes:
        return match.group(0)
    by_name = options[options["lsoa21_name"].str.lower() == text.lower()]
    return by_name["lsoa21_code"].iloc[0] if len(by_name) else "not-found:" + text


def update_panel(lsoa, state_data):
    if isinstance(lsoa, str) and lsoa.startswith("not-found:"):
        return polite(f"No LSOA called “{lsoa[10:90]}”. Pick a name from the list as you type, or click the map.")
    if not lsoa or not state_data:
        return html.P(
            "Choose an LSOA on the map or in the list to see its trend, offence mix and deprivation.",
            className="text-muted",
        )
    state = read_state(state_data)
    wh = warehouse()
    p = places.lsoa_profile(wh, lsoa, state.measure, state.start, state.end, state.age)
    return lsoa_panel(p, where(wh, [p["district_code"]]), places.place_names(wh, [lsoa]).get(lsoa))


# What the app registers: each callback wrapped so a refused value becomes a message on the page, and each cached
# one keyed only on its inputs checked and written one way (callbacks/inputs.py), so junk cannot fill the cache.
MAP_STATE = inputs.filter_state()
MAP_MODE = inputs.one_of(figs.MODES, "map colouring", default="count")
MAP_POINTS = inputs.chosen(["points"], "incident density")


def map_meta(state: dict | None, mode: str) -> dict | None:
    """What update_map writes into the map's meta store for a fresh figure of this selection."""
    return None if state is None else {"mode": mode, "districts": state["districts"], "points": False}


def cached_map(state_data, mode, same_selection: bool):
    """The map of canonical inputs; the browser's meta store reaches the key only as one fact: whether it
    already holds this selection's figure (then only the values are sent)."""
    return update_map(state_data, mode, [], map_meta(state_data, mode) if same_selection else None)


_cached_map = cached_view(cached_map, MAP_STATE, MAP_MODE, inputs.flag)


def map_view(state_data, mode, points, meta):
    """Record-level points (partner audience only) never go into the shared cache: only the area counts do."""
    state, mode, points = MAP_STATE(state_data), MAP_MODE(mode), MAP_POINTS(points)
    if "points" in points:
        return update_map(state, mode, points, meta)
    return _cached_map(state, mode, state is not None and meta == map_meta(state, mode))


def panel_view(lsoa, state_data):
    """The prompt and the search box's "not found" (which repeats what was typed) are never keyed."""
    if lsoa is None or lsoa == "" or (isinstance(lsoa, str) and lsoa.startswith("not-found:")):
        return update_panel(lsoa, state_data)
    return _cached_panel(lsoa, state_data)


_cached_panel = cached_view(update_panel, inputs.lsoa_code, inputs.filter_state())
MAP_FAILED = failure_outputs(figure=no_update, meta=no_update, title="Hotspots", summary="", message=polite)
map_callback = guarded(MAP_FAILED)(map_view)
_cached_table = cached_view(update_table, inputs.flag, inputs.filter_state())


def table_view(n_clicks, state_data):
    """The closed table is nothing: never keyed, so only the open table of a selection is ever cached."""
    return _cached_table(True, state_data) if inputs.opened(n_clicks) else None


table_callback = guarded(polite)(table_view)
lsoa_list_callback = guarded(failure_outputs(names=no_update, districts=no_update))(update_lsoa_list)
LOWER_FAILED = failure_outputs(
    top=polite, concentration={}, concentration_text="", heatmap={}, heatmap_text="", heatmap_hidden=True
)
lower_callback = guarded(LOWER_FAILED)(cached_view(update_lower))
panel_callback = guarded(polite)(panel_view)


FILL_DATALIST = """function(names) {
    const list = document.getElementById('LIST_ID');
    if (!list || !Array.isArray(names)) { return window.dash_clientside.no_update; }
    const options = names.map(function(name) {
        const option = document.createElement('option');
        option.value = name;
        return option;
    });
    list.replaceChildren.apply(list, options);
    return names.length.toLocaleString('en-GB') + ' places in the list.';
}"""


def register(app: dash.Dash) -> None:
    app.callback(
        output={
            "figure": Output(ids.MAP, "figure"),
            "meta": Output(ids.MAP_META, "data"),
            "title": Output(ids.TITLE, "children"),
            "summary": Output(ids.SUMMARY, "children"),
            "message": Output(ids.MAP_MESSAGE, "children"),
        },
        inputs=[Input(STATE, "data"), Input(ids.MODE, "value"), Input(ids.POINTS, "value")],
        state=[State(ids.MAP_META, "data")],
    )(map_callback)
    app.callback(Output(ids.MAP_TABLE, "children"), Input(ids.MAP_SUMMARY, "n_clicks"), Input(STATE, "data"))(
        table_callback
    )
    app.callback(
        output={"names": Output(ids.LSOA_NAMES, "data"), "districts": Output(ids.LSOA_LIST_META, "data")},
        inputs=[Input(STATE, "data")],
        state=[State(ids.LSOA_LIST_META, "data")],
    )(lsoa_list_callback)
    # The search suggestions, written straight into the datalist (see dashboards/hotspots.py).
    app.clientside_callback(
        FILL_DATALIST.replace("LIST_ID", ids.LSOA_LIST),
        Output(ids.LSOA_LIST + "-count", "children"),
        Input(ids.LSOA_NAMES, "data"),
    )
    app.callback(
        output={
            "top": Output(ids.TOP, "children"),
            "concentration": Output(ids.CONCENTRATION, "figure"),
            "concentration_text": Output(ids.CONCENTRATION_TEXT, "children"),
            "heatmap": Output(ids.HEATMAP, "figure"),
            "heatmap_text": Output(ids.HEATMAP_TEXT, "children"),
            "heatmap_hidden": Output(ids.HEATMAP_SECTION, "hidden"),
        },
        inputs=[Input(STATE, "data")],
    )(lower_callback)
    app.callback(
        output={"lsoa": Output(ids.LSOA, "data", allow_duplicate=True), "search": Output(ids.LSOA_SEARCH, "value")},
        inputs=[Input(ids.MAP, "clickData")],
        prevent_initial_call=True,
    )(pick_from_map)
    app.callback(
        Output(ids.LSOA, "data"),
        Input(ids.LSOA_SEARCH, "n_submit"),
        Input(ids.LSOA_SEARCH, "n_blur"),
        State(ids.LSOA_SEARCH, "value"),
        prevent_initial_call=True,
    )(pick_from_search)
    app.callback(Output(ids.PANEL, "children"), Input(ids.LSOA, "data"), Input(STATE, "data"))(panel_callback)


def rank_text(rank, tied: bool) -> str:
    """A rank as league tables print it: "=3" where another LSOA has the same count."""
    return "*" if pd.isna(rank) else f"{'=' if tied else ''}{int(rank)}"


def gi_class(hotspot: str) -> html.Span | str:
    """A hot spot in words and in bold (never by colour alone): "Hot spot (99%)"."""
    if str(hotspot).startswith("hot"):
        return html.Strong(f"▲ Hot spot ({str(hotspot).split()[-1]})")
    return str(hotspot)


# The place's name begins with its district's, so a phone drops the District column to leave the name room.
WIDE_ONLY = "d-none d-md-table-cell"


def _top_row(r) -> html.Tr:
    return html.Tr(
        [
            html.Td(rank_text(r.rank, r.tied)),
            html.Th([r.place, html.Span(f" ({r.lsoa21_code})", className="text-muted small")], scope="row"),
            html.Td(r.district_name, className=WIDE_ONLY),
            html.Td("*" if pd.isna(r.count) else f"{int(r.count):,}", className="text-end"),
            html.Td("*" if pd.isna(r.share) else f"{r.share:.1%}", className="text-end"),
            html.Td("–" if pd.isna(r.cumulative_share) else f"{r.cumulative_share:.1%}", className="text-end"),
            html.Td(gi_class(r.hotspot)),
        ]
    )


def top_table(top: pd.DataFrame, hot: pd.DataFrame | None = None) -> html.Div:
    """The places with the most harm, ranked by count ("=3" for a shared rank), then every hot spot that is not
    among them: the hot spots are found on rates and neighbours, so the busiest places are often not hot spots."""
    hot = hot if hot is not None else top.iloc[:0]
    outside = hot[~hot["lsoa21_code"].isin(top["lsoa21_code"])]
    if top.empty and outside.empty:
        return html.P("No incidents in this selection.")
    head = html.Thead(
        html.Tr(
            [
                html.Th(c, scope="col", className=WIDE_ONLY if c == "District" else None)
                for c in ("Rank", "Place", "District", "Count", "Share", "Cumulative share", "Gi* class")
            ]
        )
    )
    rows = [_top_row(r) for r in top.itertuples()]
    if len(outside):
        note = f"Hotspots outside the top {len(top)}, strongest first"
        # A hot spot with a count of 0 looked like an error (a reviewer's first question).
        why = (
            "Gi* judges each place together with its neighbours: a place with few offences of its own is a hot "
            "spot when those around it have many."
        )
        rows.append(
            html.Tr(
                html.Th(
                    [note, html.Span(f". {why}", className="fw-normal small")],
                    colSpan=7,
                    scope="rowgroup",
                    className="pt-3",
                )
            )
        )
        rows += [_top_row(r) for r in outside.itertuples()]
    body = html.Tbody(rows)
    table = dbc.Table([head, body], id=ids.TOP + "-table", size="sm", striped=True, hover=True, responsive=True)
    # For the CSV download (shares as fractions): every row the table shows, the hot spots outside the top too.
    return keep_data(table, pd.concat([top, outside], ignore_index=True), TOP_COLUMNS)


TOP_COLUMNS = {
    "rank": "Rank",
    "tied": "Rank shared",  # the table's "=2"
    "place": "Place name",  # "place" is the area of the whole download (a metadata column)
    "lsoa21_code": "LSOA",
    "lsoa21_name": "Name",
    "district_name": "District",
    "count": "Count",
    "share": "Share",
    "cumulative_share": "Cumulative share",
    "hotspot": "Gi* class",
}
