"""District profile: the strategic needs assessment's district chapter on one page, ready to print.

``/profile?district=CODE`` (or no district, or ``district=HIPS``, for all of HIPS): every headline measure against
HIPS, then where, when, who, deprivation and similar districts, then definitions, sources and what is hidden and
why. Printed (assets/print.css), it is A4 with a cover and without navigation or filters, one card per block.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from vrp.dashboards.briefing import pack_controls
from vrp.dashboards.components import chart_card

PAGE_TITLE = "District profile"
TITLE = "profile-title"
PERIOD = "profile-period"
COVER_NOTE = "profile-cover-note"
PRINT = "profile-print"
HEADLINE = "profile-headline"
RATIOS = "profile-ratios"
TREND = "profile-trend"
PLACES = "profile-places"
GRID = "profile-grid"
AGES = "profile-ages"
DEPRIVATION = "profile-deprivation"
FUNNEL = "profile-funnel"
ABOUT = "profile-about"
# The measure of the where, when, who, deprivation and similar-districts sections: the partnership's serious
# violence, the broadest police measure, so fewer of its small numbers are hidden than of knife crime alone.
FOCUS = "serious_violence"
TREND_MEASURE = "knife_enabled_sv"


def section(heading: str, anchor: str, *children, intro: str | None = None, keep: bool = True) -> html.Section:
    """A heading and its cards; ``keep`` prints them on one page (a heading never ends a page alone)."""
    return html.Section(
        [html.H2(heading, id=anchor, className="h4 mt-4"), html.P(intro, className="text-muted") if intro else None]
        + list(children),
        className="vrp-profile-section" + (" vrp-keep" if keep else ""),
        **{"aria-labelledby": anchor},
    )


def layout() -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.P(
                        "HIPS Violence Reduction Partnership", className="vrp-cover-kicker mb-1 d-none d-print-block"
                    ),
                    html.H1(PAGE_TITLE, id=TITLE, className="h2 mt-2"),
                    html.P(id=PERIOD, className="fs-5 mb-1"),
                    html.Div(id=COVER_NOTE, className="small"),
                    html.Div(
                        [
                            dbc.Button("Print or save as PDF", id=PRINT, color="primary", className="me-2"),
                            html.Span(
                                "Prints on A4 with a cover, without the navigation and filters; choose “Save as "
                                "PDF” as the printer for a PDF. The profile covers all ages (the Age group filter "
                                "does not apply here: Who shows the ages).",
                                className="small text-muted",
                            ),
                        ],
                        className="vrp-no-print my-2",
                    ),
                    pack_controls("profile"),
                ],
                className="vrp-cover",
            ),
            section(
                "Headline measures",
                "profile-h-headline",
                html.Div(id=HEADLINE),
                chart_card(RATIOS),
                chart_card(TREND),
                intro="The Outcomes Based Performance Framework's measures for this area: count, rate with its 95% "
                "interval, against HIPS (for a district), against the year before and the baseline year, and the NHS "
                "Making Data Count variation icon.",
                keep=False,
            ),
            section(
                "Where",
                "profile-h-where",
                chart_card(PLACES),
                intro="Serious violence from here on: the partnership's definition, the broadest police measure.",
            ),
            section("When", "profile-h-when", chart_card(GRID)),
            section("Who", "profile-h-who", chart_card(AGES)),
            section("Deprivation", "profile-h-deprivation", chart_card(DEPRIVATION)),
            section("Similar districts", "profile-h-similar", chart_card(FUNNEL)),
            section(
                "Definitions, sources and what is hidden",
                "profile-h-about",
                html.Div(id=ABOUT),
                keep=False,
            ),
        ],
        className="vrp-profile",
    )
