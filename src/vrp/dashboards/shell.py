"""The frame every page shares: header, navigation, synthetic-data label, footer with attribution."""

from __future__ import annotations

import logging

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from vrp.dashboards.context import warehouse

log = logging.getLogger(__name__)

ATTRIBUTION = (
    "Contains OS data © Crown copyright and database right. Source: Office for National Statistics, licensed "
    "under the Open Government Licence v3.0. Contains public sector information licensed under the Open "
    "Government Licence v3.0 (data.police.uk)."
)
SYNTHETIC_ID = "synthetic-label"


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


def _data_status() -> tuple[set[str], str | None, str | None]:
    """Synthetic sources and last update, or a polite message when the warehouse cannot be read."""
    try:
        wh = warehouse()
        return wh.synthetic_sources(), wh.meta("updated_at"), None
    except Exception as exc:  # shown to the user as a sentence, logged in full for the operator
        log.exception("warehouse unavailable")
        return (
            set(),
            None,
            f"The data warehouse is not available just now ({type(exc).__name__}). "
            "Figures cannot be shown; please try again later.",
        )


def layout() -> html.Div:
    synthetic, updated, problem = _data_status()
    nav = [
        dbc.NavItem(dbc.NavLink(page["name"], href=page["relative_path"], active="exact"))
        for page in dash.page_registry.values()
    ]
    return html.Div(
        [
            html.A("Skip to main content", href="#main", className="skip-link"),
            dcc.Location(id="url", refresh="callback-nav"),
            html.Header(
                dbc.Container(
                    [
                        html.Div(
                            "Hampshire, Isle of Wight, Portsmouth and Southampton Violence Reduction Partnership",
                            className="fs-5 fw-bold",
                        ),
                        dbc.Nav(nav, className="mt-1", navbar=False),
                    ],
                    className="py-2",
                ),
                className="vrp-header",
            ),
            dbc.Container(
                [
                    synthetic_label(synthetic),
                    dbc.Alert(problem, color="warning", className="mt-3") if problem else None,
                    html.Main(dash.page_container, id="main", tabIndex="-1"),
                ]
            ),
            html.Footer(
                dbc.Container(
                    [
                        html.P(ATTRIBUTION, className="mb-1"),
                        html.P(
                            f"Data last updated: {updated[:10] if updated else 'unknown'}.", className="mb-0"
                        ),
                    ],
                    className="py-3",
                ),
                className="vrp-footer mt-4",
            ),
        ]
    )
