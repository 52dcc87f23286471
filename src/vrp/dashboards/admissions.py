"""Hospital admissions for assault with a sharp object: is it going down, where, and for whom (under-25s)?"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from vrp.dashboards.components import chart_card

MEASURE_ID = "sharp_object_admissions"
TITLE = "admissions-title"
HEADLINE = "admissions-headline"
TREND = "admissions-trend"
AGES = "admissions-ages"
DISTRICTS = "admissions-districts"
PAGE_TITLE = "Hospital admissions for assault with a sharp object"


def layout() -> html.Div:
    return html.Div(
        [
            html.H1(PAGE_TITLE, id=TITLE, className="h2 mt-2"),
            html.P(
                [
                    "What this counts: emergency admissions to NHS hospitals of people injured in an assault with "
                    "a knife or other sharp object (ICD-10 X99), by where the patient lives. It captures injuries "
                    "treated in hospital, many of which are never reported to the police, so it complements "
                    "police figures; it misses injuries treated only in A&E or not treated at all. ",
                    html.Strong("Small numbers are hidden: "),
                    "under the NHS rule, counts of 1 to 7 are shown as * for the public, with further counts "
                    "hidden where a total would reveal them. Each chart says where this happens. The public see "
                    "the published figures only: one district or all of HIPS, for a published quarter, financial "
                    "year or rolling 12 months, all ages and under 25.",
                ],
                className="text-muted",
            ),
            html.P(
                "The district, period and age filters apply; the measure filter does not (this page always "
                "shows hospital admissions).",
                className="small text-muted",
            ),
            html.Div(id=HEADLINE, className="my-2", role="status", **{"aria-live": "polite"}),
            dbc.Row([dbc.Col(chart_card(TREND), lg=7), dbc.Col(chart_card(AGES), lg=5)]),
            chart_card(DISTRICTS),
        ]
    )
