"""The shared filter bar: districts, period, measure, age group. What they hold, and how a link's values are
checked, is in data_access/filter_state.py; the shell's callback (callbacks/shell.py) keeps the two in step."""

from __future__ import annotations

from urllib.parse import parse_qs

import dash_bootstrap_components as dbc
from dash import dcc, html

from vrp.data_access.filter_state import AGES, PRESENT, PRESETS, FilterChoices

DISTRICT = "filter-district"
MEASURE = "filter-measure"
AGE = "filter-age"
FROM = "filter-from"
TO = "filter-to"
PRESET = "filter-preset"
STATE = "filter-state"
MESSAGE = "filter-message"
MEASURE_COL = "filter-measure-col"  # hidden on a page with a measure of its own
DISTRICT_LEGEND = "filter-district-legend"
PROFILE_LINK = "filter-profile-link"  # the chosen district's profile (callbacks/profile.py)
CONTROLS = "filter-controls"


def presenting(search: str | None) -> bool:
    """Whether the link asks for presentation mode."""
    return parse_qs((search or "").lstrip("?")).get(PRESENT, [""])[-1] == "1"


PARTNER_PERIODS = [{"label": "Custom (choose the months)", "value": "custom"}] + [
    {"label": v, "value": k} for k, v in PRESETS.items()
]


def district_control(options: list[dict], public: bool) -> list:
    """Partners tick any districts (their sum is shown); the public chooses one district or all of HIPS, the
    areas the cube publishes."""
    if public:
        return [
            html.Legend("District", id=DISTRICT_LEGEND, className="form-label fw-bold fs-6 mb-0"),
            dbc.RadioItems(
                id=DISTRICT,
                options=[{"label": "All of HIPS", "value": ""}, *options],
                value="",
                inline=True,
                className="vrp-districts",
            ),
        ]
    return [
        html.Legend(district_legend(()), id=DISTRICT_LEGEND, className="form-label fw-bold fs-6 mb-0"),
        dbc.Checklist(id=DISTRICT, options=options, value=[], inline=True, className="vrp-districts"),
    ]


def district_legend(districts) -> str:
    """The partner checklist's legend, saying what the ticks add up to."""
    n = len(districts)
    return "Districts (none ticked: all of HIPS)" if not n else f"Districts ({n} ticked: their sum is shown)"


def empty_filter_bar() -> html.Div:
    """The same controls with no options, so the page's callbacks still find them when the warehouse is down."""
    return filter_bar(None)


def _choices_row(measures: list[dict], public: bool) -> dbc.Row:
    """Measure, period (and, for partners, free months) and age group, side by side on a wide screen."""
    return dbc.Row(
        [
            dbc.Col(
                [
                    dbc.Label("Measure", html_for=MEASURE, className="fw-bold mb-0"),
                    dbc.Select(id=MEASURE, options=measures),
                ],
                lg=3,
                id=MEASURE_COL,
            ),
            dbc.Col(
                [
                    dbc.Label("Period", html_for=PRESET, className="fw-bold mb-0"),
                    dbc.Select(
                        id=PRESET,
                        options=PARTNER_PERIODS,
                        value="custom",
                    ),
                ],
                lg=4 if public else 2,
            ),
            # The public audience chooses a published period only: no free months (see public_state).
            dbc.Col(
                [dbc.Label("From", html_for=FROM, className="fw-bold mb-0"), dbc.Select(id=FROM)],
                lg=2,
                xs=6,
                className="vrp-month",
                style={"display": "none"} if public else None,
            ),
            dbc.Col(
                [dbc.Label("To", html_for=TO, className="fw-bold mb-0"), dbc.Select(id=TO)],
                lg=2,
                xs=6,
                className="vrp-month",
                style={"display": "none"} if public else None,
            ),
            dbc.Col(
                html.Fieldset(
                    [
                        html.Legend("Age group", className="form-label fw-bold fs-6 mb-0"),
                        dbc.RadioItems(
                            id=AGE,
                            options=[{"label": v, "value": k} for k, v in AGES.items()],
                            value="all",
                            inline=True,
                        ),
                    ]
                ),
                lg=3,
            ),
        ],
        className="g-2 align-items-end",
    )


def filter_bar(choices: FilterChoices | None) -> html.Div:
    """The controls; their values are filled from the URL by the shell's callback.

    Native controls (checkboxes, radios, selects) throughout: Dash 4's own dropdown puts keyboard focus on an
    aria-hidden element, which screen readers cannot announce (axe-core: aria-hidden-focus).
    """
    choices = choices or FilterChoices()
    public = choices.public
    controls = html.Div(
        [
            html.Fieldset(district_control(list(choices.districts), public), className="mb-2"),
            html.Div(id=PROFILE_LINK, className="small mb-1"),
            _choices_row(list(choices.measures), public),
        ],
        id=CONTROLS,
        className="vrp-collapsible",
    )
    return html.Section(
        [
            html.H2("Filters", className="visually-hidden"),
            # On a phone the controls fold behind this button (assets/vrp.css); what they refused stays in view.
            html.Button(
                ["Filters ", html.Span("▾", className="vrp-chevron", **{"aria-hidden": "true"})],
                type="button",
                className="vrp-toggle btn btn-outline-dark btn-sm",
                **{"aria-expanded": "false", "aria-controls": CONTROLS},
            ),
            controls,
            html.Div(id=MESSAGE, role="status", **{"aria-live": "polite"}),
            dcc.Store(id=STATE),
        ],
        className="vrp-filters border rounded p-2 my-2 bg-light",
        **{"aria-label": "Filters"},
    )
