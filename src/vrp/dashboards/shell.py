"""The frame every page shares: header, navigation, filter bar, synthetic-data label, footer with attribution."""

from __future__ import annotations

import logging

import dash_bootstrap_components as dbc
from dash import dcc, html

from vrp.dashboards import filters
from vrp.dashboards.account import account, markings
from vrp.dashboards.pages import nav_pages
from vrp.data_access.context import settings, warehouse
from vrp.data_access.filter_state import filter_choices

log = logging.getLogger(__name__)

ATTRIBUTION = (
    "Contains OS data © Crown copyright and database right. Source: Office for National Statistics, licensed "
    "under the Open Government Licence v3.0. Contains public sector information licensed under the Open "
    "Government Licence v3.0 (data.police.uk)."
)
SYNTHETIC_ID = "synthetic-label"
URL = "url"
CONTENT = "page-content"
FILTERS = "filter-bar"
ACCESSIBILITY_PATH = "/accessibility"
PRESENT_KEYS = "Left and right arrow keys: previous and next chart. Esc: leave."


def toggle(label: str, controls: str, class_name: str) -> html.Button:
    """A button that folds the element after it on a phone (assets/vrp-controls.js flips aria-expanded)."""
    return html.Button(
        [label, " ", html.Span("▾", className="vrp-chevron", **{"aria-hidden": "true"})],
        type="button",
        className=f"vrp-toggle {class_name}",
        **{"aria-expanded": "false", "aria-controls": controls},
    )


def present_button() -> html.Div:
    """Presentation mode (assets/vrp-present.js): for a big screen, no chrome, one chart at a time."""
    return html.Div(
        html.Button(
            "Presentation mode",
            type="button",
            className="btn btn-sm btn-outline-secondary vrp-present-button",
            title="Presentation mode: one chart to a screen. " + PRESENT_KEYS,
            **{"data-vrp-present": "on"},
        ),
        className="d-none d-lg-flex justify-content-end mt-2",
    )


def present_bar() -> html.Div:
    """Shown in presentation mode only: how to move, and a way out for a mouse."""
    return html.Div(
        [
            html.Span(PRESENT_KEYS, className="small"),
            html.Button(
                "Leave presentation", type="button", className="btn btn-sm btn-primary", **{"data-vrp-present": "off"}
            ),
        ],
        className="vrp-present-bar",
        role="region",
        **{"aria-label": "Presentation mode"},
    )


def synthetic_label(sources: set[str]) -> html.Div | None:
    if not sources:
        return None
    names = ", ".join(sorted(s.replace("_", " ") for s in sources))
    return html.Div(
        [
            html.Strong("Synthetic demonstration data. "),
            f"These sources are generated, not real records: {names}. Do not publish or quote these figures.",
        ],
        id=SYNTHETIC_ID,
        className="vrp-synthetic p-2 my-2",
        role="note",
    )


def _data_status():
    """Synthetic sources, last update and the filter bar, or a polite message when the warehouse cannot be read."""
    try:
        wh = warehouse()
        return wh.synthetic_sources(), wh.meta("updated_at"), filters.filter_bar(filter_choices(wh)), None
    except Exception as exc:  # shown to the user as a sentence, logged in full for the operator
        log.exception("warehouse unavailable")
        return (
            set(),
            None,
            filters.empty_filter_bar(),
            (
                f"The data warehouse is not available just now ({type(exc).__name__}). "
                "Figures cannot be shown; please try again later."
            ),
        )


def layout() -> html.Div:
    synthetic, updated, bar, problem = _data_status()
    config = settings()
    audience = warehouse().audience
    nav = [
        dbc.NavItem(dbc.NavLink(p.name, href=p.path, active="exact", id=f"nav-{i}")) for i, p in enumerate(nav_pages())
    ]
    return html.Div(
        [
            html.A("Skip to main content", href="#main", className="skip-link"),
            dcc.Location(id=URL, refresh=False),
            html.Header(
                dbc.Container(
                    [
                        html.Div(
                            [
                                html.Div(
                                    [
                                        html.Span(
                                            "Hampshire, Isle of Wight, Portsmouth and Southampton Violence "
                                            "Reduction Partnership",
                                            className="d-none d-md-inline",
                                        ),
                                        html.Span("HIPS Violence Reduction Partnership", className="d-md-none"),
                                    ],
                                    className="fs-5 fw-bold vrp-title",
                                ),
                                account(config),
                            ],
                            className="d-flex justify-content-between align-items-start gap-3",
                        ),
                        # On a phone the links fold behind "Menu" (assets/vrp.css, assets/vrp-controls.js).
                        toggle("Menu", "nav-pages", "btn btn-sm mt-1"),
                        html.Nav(
                            dbc.Nav(nav, className="mt-1"),
                            id="nav-pages",
                            className="vrp-collapsible",
                            **{"aria-label": "Pages"},
                        ),
                    ],
                    # As wide as the page below it: the fixed 1,140 px container wrapped the links to two lines
                    # at 1366 px and set the title off from the content.
                    fluid="xxl",
                    className="py-2",
                ),
                className="vrp-header",
            ),
            dbc.Container(
                [
                    *markings(config, audience),
                    synthetic_label(synthetic),
                    dbc.Alert(problem, color="warning", className="mt-3") if problem else None,
                    # Hidden with the filters on a page that has none (the statement, the data page).
                    html.Div([present_button(), bar], id=FILTERS),
                    html.Main(dcc.Loading(html.Div(id=CONTENT), delay_show=400), id="main", tabIndex="-1"),
                ],
                fluid="xxl",
            ),
            html.Footer(
                dbc.Container(
                    [
                        html.P(ATTRIBUTION, className="mb-1"),
                        html.P(f"Data last updated: {updated[:10] if updated else 'unknown'}.", className="mb-1"),
                        html.P(html.A("Accessibility statement", href=ACCESSIBILITY_PATH), className="mb-0"),
                    ],
                    fluid="xxl",
                    className="py-3",
                ),
                className="vrp-footer mt-4",
            ),
            present_bar(),
        ]
    )
