"""Downloads of what a card shows: its data as CSV and its chart as a labelled PNG or SVG.

Each card is named by its prefix (``knife-spc``) in a small explicit registry: the page's own cached view, and
which of the view's named outputs hold the card's title, chart, table, footnote and "about". A download calls that view
in-process with the filter state (checked by the same normalisers, so the same cache entry the card was drawn
from), so the CSV is the very table the card shows (``components.keep_data``), from the same published data for
the public, and nothing else: never the columns a table does not show, never a record-level layer.

In-process use (the briefing pack, the district profile): ``card_export(state, card)`` in a request context
(the audience comes from ``data_access.context.warehouse()``) gives a ``CardExport`` with ``.frame`` (the table with
its metadata columns), ``.csv()``, ``.figure`` (the labelled go.Figure) and ``.image(fmt)`` (PNG or SVG bytes).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import dash
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import MATCH, Input, Output, State, ctx, dcc, no_update

from vrp.api import to_csv
from vrp.callbacks import admissions as admissions_cb
from vrp.callbacks import cached_view, failure_outputs, guarded, inputs, polite
from vrp.callbacks import evaluate as evaluate_cb
from vrp.callbacks import home as home_cb
from vrp.callbacks import homicide as homicide_cb
from vrp.callbacks import hotspots as hotspots_cb
from vrp.callbacks import knife_crime as knife_cb
from vrp.callbacks import national as national_cb
from vrp.callbacks import profile as profile_cb
from vrp.callbacks.text import period_text, where
from vrp.dashboards import admissions, homicide, hotspots, knife_crime, national
from vrp.dashboards import components as c
from vrp.dashboards import evaluate as evaluate_page
from vrp.dashboards import home as home_page
from vrp.dashboards import profile as profile_page
from vrp.dashboards.filters import STATE
from vrp.data_access.context import warehouse
from vrp.data_access.cube import CubeReader
from vrp.data_access.filter_state import read_state
from vrp.data_access.validation import InvalidQuery
from vrp.figures import export as fx
from vrp.geo import serve as geo_serve

META_COLUMNS = (
    "measure",
    "measure_id",
    "place",
    "period",
    "age",
    "source",
    "definition",
    "extract_date",
    "licence",
    "synthetic",
    "audience",
)
_PERIOD = re.compile(r"Period: (.+?)\.(?: |$)")
_MEASURE_ID = re.compile(r"Measure id: ([a-z0-9_]+)\.")
NO_IMAGES = (
    "Labelled images cannot be made on this server just now (its chart renderer is not available); the CSV "
    "download works as usual, and the chart's table shows the same figures."
)


@dataclass(frozen=True)
class Card:
    """Where one card's parts sit in its page's view output. ``view(state, options)`` returns that output, a dict
    of named outputs; ``group`` names the card's own outputs in it (None: the whole output is the card's); each
    part names the output it is read from (None: the card has no such part)."""

    page: str
    name: str  # the card in file names: a page has several cards of one measure
    view: Callable
    group: str | None = None
    title: str = "title"
    figure: str | None = "figure"
    table: str | None = "table"
    footnote: str | None = "footnote"
    about: str | None = "about"
    summary: str | None = "summary"  # the card's plain-language summary (the briefing pack's slide text)
    fixed_title: str | None = None  # a card whose title is not among its outputs
    measure: str | None = None  # the page's own measure; None: the filter's
    is_map: bool = False
    frame_from_figure: Callable | None = None  # a chart with no table: its data read from its traces
    period: Callable | None = None  # (wh, state) -> the period in words, when the card has no footnote
    context: Callable | None = None  # (options) -> {"place", "age"}: a card whose area is not the filter's

    def parts(self, outputs: dict) -> dict:
        """The card's named values in its view's output."""
        return outputs[self.group] if self.group is not None else outputs


def _chart_card(page: str, name: str, view, group: str | None, measure: str | None) -> Card:
    """A ``components.chart_card``: its six outputs (components.CARD_PARTS) are the view's ``group``."""
    return Card(page, name, view, group, measure=measure)


def _state_view(fn, normaliser=inputs.PAGE_STATE):
    """The page's cached view, keyed exactly as the page's callback keys it (same name, same normalised state)."""
    view = cached_view(fn, normaliser)
    return lambda state, _options: view(state)


def _hotspots_period(wh, state) -> str:
    return hotspots_cb.shown_period(wh, read_state(state))[0]


def _curve_frame(figure: dict) -> pd.DataFrame:
    trace = figure["data"][0]
    return pd.DataFrame({"Share of LSOAs, highest first (%)": trace["x"], "Share of the total (%)": trace["y"]})


def _heatmap_frame(figure: dict) -> pd.DataFrame:
    """The hour-by-weekday grid as rows: the first trace holds the counts (None where hidden)."""
    trace = figure["data"][0]
    rows = [
        {"Day": day, "Hour": hour, "Offences": value}
        for day, values in zip(trace["y"], trace["z"], strict=True)
        for hour, value in zip(trace["x"], values, strict=True)
    ]
    return pd.DataFrame(rows)


def _map_view():
    the_map = cached_view(hotspots_cb.cached_map, hotspots_cb.MAP_STATE, hotspots_cb.MAP_MODE, inputs.flag)
    table = cached_view(hotspots_cb.update_table, inputs.flag, inputs.filter_state())
    return lambda state, options: the_map(state, (options or {}).get("mode"), False) | {"table": table(True, state)}


def _registry() -> dict[str, Card]:
    knife_trend = _state_view(knife_cb.update_trend)
    knife_breakdowns = _state_view(knife_cb.update_breakdowns)
    knife_districts = _state_view(knife_cb.update_districts)
    national_view = _state_view(national_cb.update)
    lower = _state_view(hotspots_cb.update_lower, inputs.filter_state())
    the_map = _map_view()
    knife, adm, hom, nat = knife_crime.MEASURE_ID, admissions.MEASURE_ID, homicide.ALL_ID, national.MEASURE_ID
    lower_card = functools.partial(
        Card, "hotspots", view=lower, footnote=None, about=None, summary=None, period=_hotspots_period
    )
    home_view = _state_view(home_cb.update_tables, home_cb.PLACE)
    registry = {
        knife_crime.SPC: _chart_card("knife_crime", "monthly-spc", knife_trend, "spc", knife),
        knife_crime.ROLLING: _chart_card("knife_crime", "rolling-rate", knife_trend, "rolling", knife),
        knife_crime.OFFENCES: _chart_card("knife_crime", "offence-groups", knife_breakdowns, "offences", knife),
        knife_crime.AGES: _chart_card("knife_crime", "victim-ages", knife_breakdowns, "ages", knife),
        knife_crime.DISTRICTS: _chart_card("knife_crime", "districts", knife_districts, "districts", knife),
        knife_crime.FUNNEL: _chart_card("knife_crime", "funnel", knife_districts, "funnel", knife),
        admissions.TREND: _chart_card("admissions", "trend", _state_view(admissions_cb.update_trend), None, adm),
        admissions.AGES: _chart_card("admissions", "ages", _state_view(admissions_cb.update_ages), None, adm),
        admissions.DISTRICTS: _chart_card(
            "admissions", "districts", _state_view(admissions_cb.update_districts), None, adm
        ),
        homicide.ROLLING: _chart_card("homicide", "rolling", _state_view(homicide_cb.update_rolling), None, hom),
        homicide.METHODS: _chart_card("homicide", "methods", _state_view(homicide_cb.update_methods), None, hom),
        national.TREND: _chart_card("national", "trend", national_view, "trend", nat),
        national.FORCES: _chart_card("national", "forces", national_view, "forces", nat),
        national.QUARTERS: _chart_card("national", "quarters", national_view, "quarters", nat),
        hotspots.MAP: Card("hotspots", "map", the_map, footnote=None, about=None, is_map=True, period=_hotspots_period),
        hotspots.TOP: lower_card("top-places", fixed_title="Top places", figure=None, table="top"),
        hotspots.CONCENTRATION: lower_card(
            "concentration",
            title="concentration_text",
            figure="concentration",
            table=None,
            frame_from_figure=_curve_frame,
        ),
        hotspots.HEATMAP: lower_card(
            "hour-weekday", title="heatmap_text", figure="heatmap", table=None, frame_from_figure=_heatmap_frame
        ),
        home_page.FIGURES: Card(
            "home",
            "latest-figures",
            home_view,
            title="heading",
            figure=None,
            table="figures",
            footnote=None,
            about=None,
            summary=None,
        ),
    }
    for card, name, view in ((evaluate_page.CHART, "evaluation", evaluate_cb.chart_view),
                             (evaluate_page.PLAN, "plan", evaluate_cb.plan_view)):  # fmt: skip
        # The evaluate page's question is its own (kept in the card's export store), not the filter's.
        registry[card] = dataclasses.replace(
            _chart_card("evaluate", name, lambda _state, options, view=view: view(options), None, None),
            context=evaluate_cb.export_context,
        )
    for card, name, view, group, measure in profile_cb.EXPORT_CARDS:  # the district profile lists its own
        registry[card] = _chart_card("profile", name, lambda state, _o, view=view: view(state), group, measure)
    # The profile's hour-by-weekday table holds only the day and hour totals: its CSV is the grid the chart draws,
    # cell by cell, as the Hotspots page's is.
    registry[profile_page.GRID] = dataclasses.replace(
        registry[profile_page.GRID], table=None, frame_from_figure=_heatmap_frame
    )
    return registry


@dataclass
class CardExport:
    """What one card shows, ready to download: its table with metadata, and its labelled chart."""

    card: str
    frame: pd.DataFrame  # the table's columns as shown (hidden values missing), then META_COLUMNS
    meta: dict
    labels: fx.Labels
    stem: str  # the file name without its extension
    figure: go.Figure | None = None
    is_map: bool = field(default=False, repr=False)
    summary: str = ""  # the card's summary sentence(s), as the page shows them

    def csv(self) -> str:
        rows = [{k: _cell(v) for k, v in row.items()} for row in self.frame.to_dict("records")]
        return to_csv(rows, fields=list(self.frame.columns))

    def image(self, fmt: str) -> bytes:
        if self.figure is None:
            raise InvalidQuery("This card has no chart to download as an image.")
        return fx.render(self.figure, fmt)


def _cell(value):
    """Numbers as numbers (no separators, at most 4 decimals, as the API writes rates), a hidden value empty."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else (int(value) if value.is_integer() else round(value, 4))
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    return value


def words_of(value) -> str:
    """The words of a component or list of strings (a footnote, a title)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return "".join(words_of(v) for v in value)
    return words_of(getattr(value, "children", None))


def cards(page: str | None = None) -> list[str]:
    """The card ids with downloads, in page order (all pages, or one)."""
    return [k for k, v in CARDS.items() if page is None or v.page == page]


def _source_meta(wh, measure_id: str) -> dict:
    meta = CubeReader(wh).meta(measure_id)
    return {
        "measure": meta["name"],
        "measure_id": meta["measure"],
        "source": meta["source_name"] or meta["source"],
        "definition": meta["definition"],
        "extract_date": meta["extract_date"],
        "licence": meta["licence"],
        "synthetic": bool(meta["synthetic"]),
        "audience": wh.audience,
    }


def _with_meta(frame: pd.DataFrame, wh, measure_id: str, place: str, period: str, age: str) -> pd.DataFrame:
    """The table's columns as shown, then the metadata on every row (tidy, like the API's CSV), always under the
    same lower-case names (META_COLUMNS), so one file loads anywhere and still says what it is. The Overview's
    table has one measure a row: each row carries its own measure's source."""
    meta = {**_source_meta(wh, measure_id), "place": place, "period": period, "age": age}
    out = frame.reset_index(drop=True).copy()
    per_row = pd.DataFrame([_source_meta(wh, m) for m in frame["measure_id"]]) if "measure_id" in frame else None
    if per_row is not None:
        out = out.drop(columns="measure_id")
    for col in META_COLUMNS:
        out[col] = per_row[col].to_numpy() if per_row is not None and col in per_row else meta[col]
    return out


_GEO_URL = re.compile(r"^/geo/([a-z0-9-]+)\.geojson$")


def _inline_geometry(figure: dict, wh) -> dict:
    """The map's boundaries written into the figure: the page's map fetches them from /geo/, but the image is
    drawn where there is no server to ask. Only the areas the map colours, so the renderer gets no more."""
    figure = {**figure, "data": [dict(t) for t in figure.get("data", [])]}

    def layer(url: str, ids=None):
        found = _GEO_URL.match(url) if isinstance(url, str) else None
        if found is None or found.group(1) not in geo_serve.LAYERS:
            return url
        path = geo_serve.build_layer(wh.settings.reference_dir, wh.settings.build_dir, found.group(1))
        collection = json.loads(path.read_text())
        if ids is not None:
            collection["features"] = [f for f in collection["features"] if f["id"] in ids]
        return collection

    for trace in figure["data"]:
        if isinstance(trace.get("geojson"), str):
            trace["geojson"] = layer(trace["geojson"], {str(x) for x in go.Figure(trace).data[0].locations or ()})
    layout = copy.deepcopy(figure.get("layout", {}))
    for item in layout.get("map", {}).get("layers", []):
        item["source"] = layer(item.get("source"))
    return {**figure, "layout": layout}


def card_export(state_data, card: str, options: dict | None = None, size: tuple[int, int] | None = None) -> CardExport:
    """The CSV frame, labels and labelled figure of ``card`` for the filter state (as the URL and the page's store
    carry it); ``size`` fixes the image's width and height (the briefing pack's 16:9). A card that is not in the
    registry, a malformed state, or a card with nothing to download is refused with InvalidQuery (a polite message
    on the page)."""
    spec = CARDS.get(card) if isinstance(card, str) else None
    if spec is None:
        raise InvalidQuery("There is no download of that name on this dashboard.")
    if not state_data:
        raise InvalidQuery("The filters were not understood: please choose them again.")
    state = read_state(state_data)  # the shape; the cached view's normalisers check every value
    if spec.is_map:
        options = {"mode": hotspots_cb.MAP_MODE((options or {}).get("mode"))}
    parts = spec.parts(spec.view(state_data, options))

    def part(name: str | None):
        return parts[name] if name is not None else None

    wh = warehouse()
    figure = part(spec.figure)
    figure = figure.to_plotly_json() if isinstance(figure, go.Figure) else figure
    table = part(spec.table)
    frame = c.kept_data(table)
    if frame is None and spec.frame_from_figure is not None and figure and figure.get("data"):
        frame = spec.frame_from_figure(figure)
    if frame is None:
        raise InvalidQuery("This card has no data to download for the filters chosen.")
    about = words_of(part(spec.about))
    found = _MEASURE_ID.search(about)
    measure_id = found.group(1) if found else spec.measure or read_state(state_data).measure
    footnote = words_of(part(spec.footnote))
    found = _PERIOD.search(footnote)
    period = (
        found.group(1)
        if found
        else spec.period(wh, state_data)
        if spec.period
        else (period_text(state.start, state.end) if state.start and state.end else "the latest figures")
    )
    place = "Hampshire" if spec.page == "national" else where(wh, state.districts)
    age = "all" if spec.page in ("home", "national") else state.age
    if spec.context is not None:
        about_area = spec.context(options)
        place, age = about_area["place"], about_area["age"]
    data = _with_meta(frame, wh, measure_id, place, period, age)
    meta = _source_meta(wh, measure_id) | {"place": place, "period": period, "age": age}
    title = spec.fixed_title or words_of(part(spec.title))
    labels = fx.Labels(
        title=title or meta["measure"],
        measure=meta["measure"] + (" (victims under 25)" if age == "u25" else ""),
        place=place[:1].upper() + place[1:],
        period=period,
        source=meta["source"],
        extract_date=meta["extract_date"],
        licence=meta["licence"],
        synthetic=meta["synthetic"],
        classification="OFFICIAL-SENSITIVE" if wh.audience == "partner" else None,
    )
    stem = (
        fx.file_stem("latest-figures", None, place, period)
        if spec.page == "home"
        else fx.file_stem(measure_id, spec.name, place, period, age)
    )
    has_chart = bool(figure and figure.get("data"))
    if has_chart and spec.is_map:
        figure = _inline_geometry(figure, wh)
    labelled = fx.labelled(figure, labels, is_map=spec.is_map, size=size) if has_chart else None
    summary = words_of(part(spec.summary))
    return CardExport(card, data, meta, labels, stem, labelled, spec.is_map, summary)


def card_image(state_data, card: str, fmt: str, options: dict | None = None) -> tuple[bytes, str]:
    """The labelled chart of ``card`` as PNG or SVG bytes, and its file name."""
    if fmt not in fx.FORMATS:
        raise InvalidQuery("The image format must be PNG or SVG.")
    export = card_export(state_data, card, options)
    return export.image(fmt), f"{export.stem}.{fmt}"


CARDS = _registry()


# ---- the browser's downloads: one MATCH callback per kind of control ---------------------------------------------


def _card_id(triggered) -> str:
    if not isinstance(triggered, dict) or not isinstance(triggered.get("card"), str):
        raise InvalidQuery("There is no download of that name on this dashboard.")
    return triggered["card"]


def download_csv(n_clicks, state_data, view_options):
    if not n_clicks:
        return no_update
    export = card_export(state_data, _card_id(ctx.triggered_id), view_options)
    return {"download": dcc.send_string(export.csv(), f"{export.stem}.csv", type="text/csv"), "message": None}


def download_image(_png, _svg, state_data, view_options):
    triggered = ctx.triggered_id
    if not triggered or not (ctx.triggered and ctx.triggered[0].get("value")):
        return no_update
    fmt = {c.EXPORT_PNG: "png", c.EXPORT_SVG: "svg"}.get(triggered.get("type"))
    try:
        data, name = card_image(state_data, _card_id(triggered), fmt or "", view_options)
    except fx.ImagesUnavailable:
        return {"download": no_update, "message": polite(NO_IMAGES)}
    return {"download": dcc.send_bytes(data, name, type=fx.FORMATS[fmt]), "message": None}


DOWNLOAD_FAILED = failure_outputs(download=no_update, message=polite)
csv_callback = guarded(DOWNLOAD_FAILED)(download_csv)
image_callback = guarded(DOWNLOAD_FAILED)(download_image)

# The hotspot map's colouring reaches its image download through the card's view store.
MAP_MODE_TO_VIEW = "function(mode) { return {mode: mode}; }"


def register(app: dash.Dash) -> None:
    def card(kind: str):
        return {"type": kind, "card": MATCH}

    asked = [State(STATE, "data"), State(card(c.EXPORT_VIEW), "data")]
    app.callback(
        output={
            "download": Output(card(c.DOWNLOAD_CSV), "data"),
            "message": Output(card(c.EXPORT_MESSAGE), "children"),
        },
        inputs=[Input(card(c.EXPORT_CSV), "n_clicks")],
        state=asked,
        prevent_initial_call=True,
    )(csv_callback)
    app.callback(
        output={
            "download": Output(card(c.DOWNLOAD_IMAGE), "data"),
            "message": Output(card(c.EXPORT_MESSAGE), "children", allow_duplicate=True),
        },
        inputs=[Input(card(c.EXPORT_PNG), "n_clicks"), Input(card(c.EXPORT_SVG), "n_clicks")],
        state=asked,
        prevent_initial_call=True,
    )(image_callback)
    app.clientside_callback(
        MAP_MODE_TO_VIEW,
        Output({"type": c.EXPORT_VIEW, "card": hotspots.MAP}, "data"),
        Input(hotspots.MODE, "value"),
    )


__all__ = ["CARDS", "CardExport", "card_export", "card_image", "cards", "register", "words_of"]
