"""Evaluate: did an intervention in a place change the level or trend of harm, and could an evaluation tell?

The page has its own inputs (the shared filter bar's published periods suit reports, not a model that needs every
month): measure, area (districts or HIPS; for partners also LSOAs chosen on the Hotspots map), the start with an
optional phase-in, an optional comparison area and the period. Its state lives in the link's fragment
(``#measure=...&area=...&start=YYYY-MM``), which the shell's filter sync leaves alone, so a link reproduces it.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from vrp.dashboards.components import chart_card
from vrp.data_access.context import warehouse
from vrp.data_access.evaluation import ERRORS, FAMILIES, MAX_PHASE_IN

TITLE = "evaluate-title"
MEASURE = "evaluate-measure"
AREA = "evaluate-area"
LSOAS = "evaluate-lsoas"
START = "evaluate-start"
PHASE_IN = "evaluate-phase-in"
FROM = "evaluate-from"
TO = "evaluate-to"
COMPARISON = "evaluate-comparison"
ERRORS_ID = "evaluate-errors"
FAMILY = "evaluate-family"
OFFSET = "evaluate-offset"
AGE = "evaluate-age"
LOADED = "evaluate-loaded"  # set once the link's fragment has been read into the controls
RESULT = "evaluate-result"
CAVEATS = "evaluate-caveats"
DIAGNOSTICS = "evaluate-diagnostics"
API_LINK = "evaluate-api-link"
CHART = "evaluate-its"  # a chart card: evaluate-its-title, -graph, -summary, -table, -footnote, -about
PLAN_AFTER = "evaluate-plan-after"
PLAN = "evaluate-plan"  # a chart card too
DEFAULT_MEASURE = "knife_enabled_sv"

INTRO = (
    "Did an intervention change the level or trend of harm in a place? The model compares the months after the "
    "start with what the months before predict (an interrupted time series), allowing for the trend and the "
    "season. It cannot prove a cause: something else that changed at the same time would show the same way. "
    "A comparison area that had no intervention helps."
)
PUBLIC_NOTE = (
    "Public view: one district or all of HIPS, and only where every month of the period is published (small "
    "numbers are hidden, and a model needs every month). Signed-in partners can evaluate any districts or a set "
    "of LSOAs chosen on the Hotspots map."
)


def evaluable_measures(wh) -> list[dict]:
    return [
        {"label": m.label, "value": m.id} for m in wh.registry if m.time_grain == "month" and m.source != "ons_knife"
    ]


def _field(label: str, control, control_id: str, width: int, hint: str | None = None) -> dbc.Col:
    parts = [dbc.Label(label, html_for=control_id, className="fw-bold mb-0")]
    if hint:
        parts.append(html.Div(hint, id=f"{control_id}-hint", className="small text-muted"))
    return dbc.Col([*parts, control], lg=width, md=6, xs=12)


def _area_controls(wh, districts: list[dict]) -> list:
    """The public chooses one district or all of HIPS; partners tick any districts, or give LSOAs."""
    if wh.audience == "public":
        return [
            html.Legend("Area", className="form-label fw-bold fs-6 mb-0"),
            dbc.RadioItems(id=AREA, options=[{"label": "All of HIPS", "value": ""}, *districts], value="", inline=True),
            dbc.Input(id=LSOAS, type="hidden", value=""),
        ]
    return [
        html.Legend("Area: districts (none ticked: all of HIPS), or LSOAs", className="form-label fw-bold fs-6 mb-0"),
        dbc.Checklist(id=AREA, options=districts, value=[], inline=True),
        dbc.Label(
            "LSOA codes (in place of districts; the Hotspots map fills this in)", html_for=LSOAS, className="mb-0"
        ),
        dbc.Input(
            id=LSOAS, type="text", value="", placeholder="E01017027, E01017032", autocomplete="off", debounce=True
        ),
    ]


def controls(wh) -> html.Section:
    frame = wh.districts()
    districts = [{"label": r.district_name, "value": r.district_code} for r in frame.itertuples()]
    comparison = [{"label": "None", "value": "none"}, {"label": "All of HIPS", "value": "HIPS"}, *districts]
    phase = [{"label": "None" if n == 0 else f"{n} month{'s' if n > 1 else ''}", "value": str(n)} for n in range(13)]
    phase = phase[: MAX_PHASE_IN + 1]
    return html.Section(
        [
            html.H2("What to evaluate", className="h5"),
            html.Fieldset(_area_controls(wh, districts), className="mb-2 vrp-districts"),
            dbc.Row(
                [
                    _field("Measure", dbc.Select(id=MEASURE, options=evaluable_measures(wh)), MEASURE, 4),
                    _field("Intervention started", dbc.Select(id=START), START, 2),
                    _field("Phase-in (left out)", dbc.Select(id=PHASE_IN, options=phase, value="0"), PHASE_IN, 2),
                    _field("Period from", dbc.Select(id=FROM), FROM, 2),
                    _field("Period to", dbc.Select(id=TO), TO, 2),
                ],
                className="g-2 mb-2",
            ),
            dbc.Row(
                [
                    _field(
                        "Comparison area", dbc.Select(id=COMPARISON, options=comparison, value="none"), COMPARISON, 4
                    ),
                    _field(
                        "Standard errors",
                        dbc.Select(id=ERRORS_ID, options=[{"label": v, "value": k} for k, v in ERRORS.items()]),
                        ERRORS_ID,
                        2,
                    ),
                    _field(
                        "Model",
                        dbc.Select(id=FAMILY, options=[{"label": v, "value": k} for k, v in FAMILIES.items()]),
                        FAMILY,
                        2,
                    ),  # fmt: skip
                    _field(
                        "Age group",
                        dbc.Select(
                            id=AGE,
                            options=[{"label": "All ages", "value": "all"}, {"label": "Under 25", "value": "u25"}],
                        ),
                        AGE,
                        2,
                    ),
                    dbc.Col(
                        dbc.Checklist(
                            id=OFFSET,
                            options=[{"label": "Population offset", "value": "offset"}],
                            value=[],
                            switch=True,
                        ),
                        lg=2,
                        md=6,
                        xs=12,
                        className="align-self-end",
                    ),  # fmt: skip
                ],
                className="g-2",
            ),
        ],
        className="border rounded p-2 my-2 bg-light",
        **{"aria-label": "What to evaluate"},
    )


def layout() -> html.Div:
    wh = warehouse()
    public = wh.audience == "public"
    return html.Div(
        [
            html.H1("Evaluate an intervention", id=TITLE, className="h2 mt-2"),
            html.P(INTRO, className="text-muted mb-1"),
            html.P(PUBLIC_NOTE, className="small text-muted") if public else None,
            controls(wh),
            dcc.Store(id=LOADED),
            html.Div(id=RESULT, className="my-2", role="status", **{"aria-live": "polite"}),
            html.Div(id=CAVEATS),
            chart_card(CHART, height=None),
            html.Div(id=DIAGNOSTICS, className="mb-3"),
            html.H2("Plan ahead: could an evaluation tell?", className="h4 mt-3"),
            html.P(
                "The smallest drop in level an evaluation would detect (80% power, 5% two-sided), simulated from "
                "the months before the start. If it is larger than the intervention could plausibly achieve, the "
                "evaluation cannot show whether it worked: choose a larger area, a longer follow-up or a broader "
                "measure.",
                className="text-muted",
            ),
            dbc.Row(
                _field(
                    "Months of follow-up to plan for",
                    dbc.Select(
                        id=PLAN_AFTER,
                        options=[{"label": f"{n} months", "value": str(n)} for n in (6, 12, 18, 24, 36)],
                        value="12",
                    ),
                    PLAN_AFTER,
                    3,
                ),
                className="mb-2",
            ),
            chart_card(PLAN),
            html.P(id=API_LINK, className="small text-muted"),
        ]
    )
