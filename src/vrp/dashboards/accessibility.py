"""The accessibility statement, in the form UK public-sector websites publish (the GOV.UK sample statement under
the Public Sector Bodies (Websites and Mobile Applications) (No. 2) Accessibility Regulations 2018). Linked from
every footer. Say only what has been tested; update the dates and the list of problems when either changes."""

from __future__ import annotations

from dash import html

PAGE_TITLE = "Accessibility statement"
PREPARED = "1 December 2026"
LAST_TESTED = "1 December 2026"
SERVICE = "the HIPS serious violence dashboard"
# Who answers requests and complaints: the partnership confirms this route before the site is published.
CONTACT = (
    "the Hampshire, Isle of Wight, Portsmouth and Southampton Violence Reduction Partnership, through the Office of "
    "the Police and Crime Commissioner for Hampshire and the Isle of Wight"
)
EASS = "https://www.equalityadvisoryservice.com/"
WCAG = "https://www.w3.org/TR/WCAG22/"

# (what is not accessible, why, the WCAG 2.2 success criteria, what to use instead)
KNOWN_PROBLEMS = [
    (
        "The details that appear when you point at a chart (hover) need a mouse or a touch screen.",
        "They come from the charting library, plotly.js.",
        "2.1.1 Keyboard, 1.4.13 Content on hover or focus",
        "Every chart has a sentence that states its finding and a “Show the data as a table” section with the "
        "same numbers.",
    ),
    (
        "The hotspot map cannot be read by a screen reader, and choosing an area by clicking it needs a mouse.",
        "The map is drawn as a picture (WebGL) by the mapping library.",
        "1.1.1 Non-text content, 2.1.1 Keyboard",
        "The Hotspots page has an area picker you can use with a keyboard, a table of the top places and a table "
        "of every area on the map.",
    ),
    (
        "Some chart colours, such as the light grey of areas that are “not significant” on the map, have less "
        "than 3:1 contrast with the white background.",
        "Colours follow the Analysis Function palette; light colours mark the least important values.",
        "1.4.11 Non-text contrast",
        "Legends name every colour, and the tables hold the same values as text.",
    ),
    (
        "At 400% zoom, or on a screen 320 pixels wide, some charts are crowded and their labels can overlap.",
        "Charts are drawn to the width of the screen and keep their text size.",
        "1.4.10 Reflow",
        "The tables under each chart reflow and can be read at any zoom.",
    ),
    (
        "The chart toolbar (download, zoom, reset) is labelled only by tooltips that appear on hover.",
        "The toolbar comes from plotly.js.",
        "4.1.2 Name, role, value",
        "Downloads of the data are offered as links beside the charts where the page has them.",
    ),
    (
        "Downloaded documents (images, PowerPoint and PDF briefing packs) have not yet been checked for accessibility.",
        "They are made for briefings and are new.",
        "1.1.1 Non-text content, 1.3.1 Info and relationships",
        "The same figures are on the web pages, with text summaries and tables.",
    ),
]

TESTING = [
    "automated checks with axe-core in the Chromium browser, against the WCAG 2.0, 2.1 and 2.2 level A and AA "
    "rules, on every page, each time the software changes;",
    "using every page with a keyboard alone: navigation, the filters, the tables and presentation mode, with the "
    "contrast of the keyboard focus indicator measured (at least 3:1);",
    "screen sizes of 1366 by 900 and 1920 by 1080 pixels (desktop and projector) and 390 by 844 pixels (a phone).",
]


def _problem(what: str, why: str, criteria: str, instead: str) -> html.Li:
    return html.Li(
        [
            html.P(f"{what} {why}", className="mb-1"),
            html.P(f"Instead: {instead}", className="mb-1"),
            html.P(f"WCAG 2.2: {criteria}.", className="small text-muted"),
        ]
    )


def _what_you_can_do() -> list:
    return [
        html.H1(f"{PAGE_TITLE} for {SERVICE}", className="h2 mt-3"),
        html.P(
            f"This statement applies to {SERVICE}, run by the Hampshire, Isle of Wight, Portsmouth and "
            "Southampton Violence Reduction Partnership. We want as many people as possible to be able to use "
            "it. You should be able to:"
        ),
        html.Ul(
            [
                html.Li("change colours, contrast levels and fonts using your browser or device settings;"),
                html.Li("zoom in up to 400% with the text staying on the screen;"),
                html.Li("move around every page using just a keyboard;"),
                html.Li("use every page with a screen reader, except for the map and chart hover details;"),
                html.Li("read every chart's numbers as a table and its finding as a sentence."),
            ]
        ),
        html.H2("How accessible this website is", className="h4 mt-4"),
        html.P("We know some parts are not fully accessible:"),
        html.Ul([html.Li(what) for what, *_ in KNOWN_PROBLEMS]),
    ]


def _other_ways_and_contact() -> list:
    return [
        html.H2("Getting the data another way", className="h4 mt-4", id="another-way"),
        html.Ul(
            [
                html.Li("Each chart has a “Show the data as a table” section with the numbers it shows."),
                html.Li(
                    [
                        "The ",
                        html.A("Data and definitions", href="/data"),
                        " page defines every measure and lists the sources.",
                    ]
                ),
                html.Li(
                    [
                        "The published figures are available as data from the ",
                        html.A("API", href="/api"),
                        " (JSON), to use in a spreadsheet or your own software.",
                    ]
                ),
                html.Li(f"For any other format (large print, easy read, audio or braille), contact {CONTACT}."),
            ]
        ),
        html.H2("Feedback and contact information", className="h4 mt-4"),
        html.P(
            f"If you find a problem not listed on this page, or think we are not meeting the accessibility "
            f"requirements, contact {CONTACT}. Tell us the address of the page and what went wrong."
        ),
        html.H2("Enforcement procedure", className="h4 mt-4"),
        html.P(
            [
                "The Equality and Human Rights Commission (EHRC) is responsible for enforcing the Public Sector "
                "Bodies (Websites and Mobile Applications) (No. 2) Accessibility Regulations 2018 (the "
                "“accessibility regulations”). If you are not happy with how we respond to your complaint, "
                "contact the ",
                html.A("Equality Advisory and Support Service (EASS)", href=EASS),
                ".",
            ]
        ),
    ]


def _technical() -> list:
    return [
        html.H2("Technical information about this website’s accessibility", className="h4 mt-4"),
        html.P(
            "The partnership is committed to making its website accessible, in accordance with the "
            "accessibility regulations."
        ),
        html.H3("Compliance status", className="h5"),
        html.P(
            [
                "This website is partially compliant with the ",
                html.A("Web Content Accessibility Guidelines version 2.2", href=WCAG),
                " AA standard, due to the non-compliances listed below.",
            ],
            id="compliance-status",
        ),
        html.H2("Non-accessible content", className="h4 mt-4"),
        html.H3("Non-compliance with the accessibility regulations", className="h5"),
        html.Ul([_problem(*p) for p in KNOWN_PROBLEMS], id="known-problems"),
        html.H3("Disproportionate burden", className="h5"),
        html.P("We do not claim disproportionate burden for any content."),
        html.H2("What we are doing to improve accessibility", className="h4 mt-4"),
        html.P(
            "The automated checks run on every change, so a new problem is caught before release. We plan to "
            "test the pages with screen readers (NVDA, JAWS and VoiceOver) and with disabled users, which has "
            "not been done yet."
        ),
        html.H2("Preparation of this accessibility statement", className="h4 mt-4"),
        html.P(f"This statement was prepared on {PREPARED}. The website was last tested on {LAST_TESTED}."),
        html.P("The pages were tested by the team that builds them, using:"),
        html.Ul([html.Li(t) for t in TESTING], id="how-tested"),
    ]


def layout() -> html.Div:
    """The statement in the form the accessibility regulations' model statement takes."""
    return html.Div([*_what_you_can_do(), *_other_ways_and_contact(), *_technical()], className="vrp-statement")
