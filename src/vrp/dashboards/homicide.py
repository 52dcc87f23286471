"""Homicide: all victims and under-25s killed in non-domestic settings, per million, over rolling three years."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from vrp.dashboards.components import chart_card

ALL_ID = "homicide"
YOUNG_ID = "homicide_u25_non_domestic"
TITLE = "homicide-title"
HEADLINE = "homicide-headline"
ROLLING = "homicide-rolling"
METHODS = "homicide-methods"
PAGE_TITLE = "Homicide"


def layout() -> html.Div:
    return html.Div(
        [
            html.H1(PAGE_TITLE, id=TITLE, className="h2 mt-2"),
            html.P(
                "Homicides are rare, so a single year's count in one district rises and falls by chance. This page "
                "uses totals over rolling periods (three years for signed-in partners; the published 12-month "
                "totals for the public) and rates per million residents a year. It shows counts only, never "
                "details of a victim; for the public, counts of 1 or 2 are hidden (*), as are further counts where "
                "they would reveal one.",
                className="text-muted",
            ),
            html.P(
                "The district, period and age filters apply; the measure filter does not.",
                className="small text-muted",
            ),
            html.Div(id=HEADLINE, className="my-2", role="status", **{"aria-live": "polite"}),
            dbc.Row([dbc.Col(chart_card(ROLLING), lg=7), dbc.Col(chart_card(METHODS), lg=5)]),
        ]
    )
