"""ONS knife crime: Hampshire against England and Wales and its most similar forces, from the national series."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from vrp.dashboards.components import chart_card

MEASURE_ID = "ons_knife_crime"
TITLE = "national-title"
NOTE = "national-note"
TREND = "national-trend"
FORCES = "national-forces"
QUARTERS = "national-quarters"
PAGE_TITLE = "Knife crime: Hampshire against England and Wales"


def layout() -> html.Div:
    return html.Div(
        [
            html.H1(PAGE_TITLE, id=TITLE, className="h2 mt-2"),
            html.P(
                [
                    "Knife or sharp instrument offences recorded by the police, as published by the Office for "
                    "National Statistics for each police force area. ",
                    html.Strong("The district filter does not apply here: "),
                    "the national series covers the whole Hampshire force area (Hampshire, the Isle of Wight, "
                    "Portsmouth and Southampton). The period filter selects the financial years shown.",
                ],
                className="text-muted",
            ),
            html.Div(id=NOTE, role="status", **{"aria-live": "polite"}),
            dbc.Row([dbc.Col(chart_card(TREND), lg=7), dbc.Col(chart_card(FORCES), lg=5)]),
            chart_card(QUARTERS),
            html.P(
                "The series loaded covers 2008/09 to 2018/19; when newer years are loaded, the charts mark the "
                "series break from 2019/20.",
                className="small text-muted",
            ),
        ]
    )
