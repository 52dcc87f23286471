"""Hotspots: where is harm concentrated in the selection, and is it a real cluster or noise?"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from vrp.dashboards.components import export_controls, graph_config
from vrp.data_access.context import warehouse
from vrp.figures.hotspots import MODES

TITLE = "hotspots-title"
SUMMARY = "hotspots-summary"
MODE = "hotspots-mode"
MAP = "hotspots-map"
MAP_META = "hotspots-map-meta"
MAP_TABLE = "hotspots-map-table"
MAP_DETAILS = "hotspots-map-details"
MAP_SUMMARY = "hotspots-map-summary"  # its clicks open and close the table (Dash never sends a details' open)
LSOA_LIST_META = "hotspots-lsoa-list-districts"
MAP_MESSAGE = "hotspots-map-message"
LSOA = "hotspots-lsoa"  # the chosen LSOA code (a store: set by the search box or a map click)
LSOA_SEARCH = "hotspots-lsoa-search"
LSOA_LIST = "hotspots-lsoa-list"
LSOA_NAMES = "hotspots-lsoa-names"
PANEL = "hotspots-panel"
EVALUATE_LINK = "hotspots-evaluate-link"  # to /evaluate with the measure, district and chosen LSOA
TOP = "hotspots-top"
CONCENTRATION = "hotspots-concentration"
CONCENTRATION_TEXT = "hotspots-concentration-text"
HEATMAP_SECTION = "hotspots-heatmap-section"
HEATMAP = "hotspots-heatmap"
HEATMAP_TEXT = "hotspots-heatmap-text"
POINTS = "hotspots-points"

METHOD = (
    "Hotspot classes use the Getis-Ord Gi* statistic on rates per 1,000 residents: each LSOA together with "
    "the LSOAs that touch it, against the whole selection. A class is shown only when it survives "
    "false-discovery-rate control (Benjamini-Hochberg) at 5% (95%) or 1% (99%), so a few busy streets do "
    "not make a hotspot by chance. Counts from 1 to the measure's threshold are hidden for the public, and "
    "further cells where a total would reveal them."
)
PUBLIC_METHOD = (
    "The public map shows the published figures only: LSOAs by financial year, all ages, for knife-enabled "
    'serious violence and serious violence. Counts from 1 to the measure\'s threshold are hidden (grey, "*"), '
    "as are further LSOAs where their district's total would reveal them. Hotspot classes use the Getis-Ord Gi* "
    "statistic on rates per 1,000 residents of the published LSOAs only (hidden LSOAs are left out), each with "
    "the published LSOAs that touch it, kept only when they survive false-discovery-rate control "
    "(Benjamini-Hochberg) at 5% (95%) or 1% (99%). Shares use the published total of the area; the "
    "concentration curve and Gini coefficient count each hidden LSOA at an equal part of what the published total "
    "leaves, so they are approximate. Ranks are among the published LSOAs."
)


def method_text() -> str:
    return PUBLIC_METHOD if warehouse().audience == "public" else METHOD


def incident_toggle() -> dbc.Checklist:
    """Partner audience only: the incidents themselves as a density layer. The public never gets the control,
    and data_access refuses record-level rows to the public whatever a callback is asked."""
    if warehouse().audience != "partner":
        return dbc.Checklist(id=POINTS, options=[], value=[], style={"display": "none"})
    return dbc.Checklist(
        id=POINTS,
        options=[{"label": "Show incident density (OFFICIAL-SENSITIVE)", "value": "points"}],
        value=[],
        switch=True,
        className="mb-1",
    )


def _map_column() -> dbc.Col:
    """The map, its mode, its downloads and its table alternative."""
    return dbc.Col(
        [
            html.Fieldset(
                [
                    html.Legend("Colour the map by", className="form-label fw-bold fs-6 mb-1"),
                    dbc.RadioItems(
                        id=MODE,
                        options=[{"label": v, "value": k} for k, v in MODES.items()],
                        value="count",
                        inline=True,
                    ),
                ],
                className="mb-1",
            ),
            incident_toggle(),
            html.Div(id=MAP_MESSAGE),
            dcc.Graph(
                id=MAP,
                config=graph_config(MAP, scrollZoom=True),
                style={"height": "560px"},
                className="border rounded",
            ),
            export_controls(MAP, graph_id=MAP),
            dcc.Store(id=MAP_META),
            html.Details(
                id=MAP_DETAILS,
                open=False,
                children=[
                    html.Summary("Table of every LSOA on the map (an alternative to the map)", id=MAP_SUMMARY),
                    html.Div(
                        id=MAP_TABLE,
                        className="mt-2",
                        style={"maxHeight": "420px", "overflowY": "auto"},
                    ),
                ],
                className="mt-2",
            ),
            html.P(method_text(), className="small text-muted mt-2"),
        ],
        lg=8,
    )


def _search_column() -> dbc.Col:
    """Finding an LSOA by name or code, and the panel about the one chosen."""
    return dbc.Col(
        [
            dbc.Label("Find an LSOA", html_for=LSOA_SEARCH, className="fw-bold mb-0"),
            html.P(
                "Type a name or code (e.g. Southampton 023E) and press Enter, or click the map.",
                id=LSOA_SEARCH + "-hint",
                className="small text-muted mb-1",
            ),
            dbc.Input(
                id=LSOA_SEARCH,
                type="search",
                list=LSOA_LIST,
                autocomplete="off",
            ),
            # Filled in the browser from LSOA_NAMES: 1,231 options as Dash components
            # cost the renderer about a second on a slow machine; as data they cost nothing.
            html.Datalist(id=LSOA_LIST),
            dcc.Store(id=LSOA_NAMES),
            html.Span(id=LSOA_LIST + "-count", className="visually-hidden", **{"aria-live": "polite"}),
            dcc.Store(id=LSOA_LIST_META),
            dcc.Store(id=LSOA),
            html.Div(
                id=PANEL,
                className="mt-2",
                role="region",
                **{"aria-live": "polite", "aria-label": "Selected LSOA"},
            ),
            # Its address carries the selection (callbacks/evaluate.py writes it).
            html.A(
                "Evaluate an intervention here",
                id=EVALUATE_LINK,
                href="/evaluate",
                className="d-inline-block mt-2",
            ),
        ],
        lg=4,
    )


def _lower_sections() -> list:
    """Top places with the concentration curve, and when it happens."""
    return [
        html.H2("Top places", className="h4 mt-4"),
        dbc.Row(
            [
                dbc.Col([html.Div(id=TOP), export_controls(TOP, image=False)], lg=7),
                dbc.Col(
                    [
                        html.P(id=CONCENTRATION_TEXT, className="fw-bold"),
                        dcc.Graph(id=CONCENTRATION, config=graph_config(CONCENTRATION)),
                        export_controls(CONCENTRATION, graph_id=CONCENTRATION),
                    ],
                    lg=5,
                ),
            ]
        ),
        html.Section(
            [
                html.H2("When it happens", className="h4 mt-4"),
                html.P(id=HEATMAP_TEXT),
                dcc.Graph(id=HEATMAP, config=graph_config(HEATMAP)),
                export_controls(HEATMAP, graph_id=HEATMAP),
            ],
            id=HEATMAP_SECTION,
        ),
    ]


def layout() -> html.Div:
    return html.Div(
        [
            html.H1("Hotspots", id=TITLE, className="h2 mt-2"),
            html.P(id=SUMMARY, className="lead", role="status", **{"aria-live": "polite"}),
            dbc.Row([_map_column(), _search_column()], className="g-3"),
            *_lower_sections(),
        ]
    )
