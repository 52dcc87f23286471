"""Knife-enabled serious violence: is it going down, where, for whom, and is the change real?"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from vrp.dashboards.components import chart_card

MEASURE_ID = "knife_enabled_sv"
TITLE = "knife-title"
CHANGE = "knife-change"
SPC = "knife-spc"
ROLLING = "knife-rolling"
OFFENCES = "knife-offences"
AGES = "knife-ages"
DISTRICTS = "knife-districts"
FUNNEL = "knife-funnel"


def layout() -> html.Div:
    return html.Div(
        [
            html.H1("Knife-enabled serious violence", id=TITLE, className="h2 mt-2"),
            html.P(
                "This page always shows knife-enabled serious violence; the district, period and age filters apply. "
                "Statistical process control separates a real change from the month-to-month noise every count has.",
                className="text-muted",
            ),
            html.Div(id=CHANGE, className="my-2", role="status", **{"aria-live": "polite"}),
            dbc.Row([dbc.Col(chart_card(SPC), lg=7), dbc.Col(chart_card(ROLLING), lg=5)]),
            dbc.Row([dbc.Col(chart_card(OFFENCES), lg=6), dbc.Col(chart_card(AGES), lg=6)]),
            dbc.Row([dbc.Col(chart_card(DISTRICTS), lg=6), dbc.Col(chart_card(FUNNEL), lg=6)]),
        ]
    )
