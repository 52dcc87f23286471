"""Evaluate page callbacks: the link's fragment -> the controls; the controls -> data_access.evaluation (checked
there) -> figures -> the page, and back into the fragment so a link reproduces the evaluation."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, ctx, html, no_update

from vrp.callbacks import failure_outputs, guarded, inputs, polite
from vrp.callbacks.text import period_text
from vrp.dashboards import components as c
from vrp.dashboards import evaluate as ids
from vrp.dashboards.shell import URL
from vrp.data_access import evaluation as ev
from vrp.data_access.context import warehouse
from vrp.data_access.validation import InvalidQuery
from vrp.figures import evaluate as figs
from vrp.periods import add_months

METHOD = (
    "Interrupted time series: a Poisson regression of the monthly counts on time, a step and a change of slope at "
    "the start, and the month of the year (January the reference), with the quasi-Poisson scale (Pearson "
    "chi-squared over the residual degrees of freedom) widening the 95% intervals for overdispersion. Level "
    "change = exp(step); trend change per year = exp(12 x slope change). Phase-in months are left out of the fit. "
    "The expected line continues the months before; its band is the model's 95% interval."
)
PLAN_METHOD = (
    "Simulated: the months before the start are fitted (trend and season, with their overdispersion), continued "
    "for the months of follow-up, and 200 series drawn for each size of drop; each is evaluated with the default "
    "model, and the power is the share whose 95% interval lies wholly below no change."
)
HASH_KEYS = ("measure", "area", "lsoa", "start", "from", "to", "comparison", "phase_in", "errors", "family", "age")


# The controls the link's fragment sets, by name.
LOAD_OUTPUTS = {
    "measure": Output(ids.MEASURE, "value"),
    "area": Output(ids.AREA, "value"),
    "lsoas": Output(ids.LSOAS, "value"),
    "start_options": Output(ids.START, "options"),
    "start": Output(ids.START, "value"),
    "from_options": Output(ids.FROM, "options"),
    "from": Output(ids.FROM, "value"),
    "to_options": Output(ids.TO, "options"),
    "to": Output(ids.TO, "value"),
    "phase_in": Output(ids.PHASE_IN, "value"),
    "comparison": Output(ids.COMPARISON, "value"),
    "errors": Output(ids.ERRORS_ID, "value"),
    "family": Output(ids.FAMILY, "value"),
    "age": Output(ids.AGE, "value"),
    "loaded": Output(ids.LOADED, "data"),
}


def _months(wh, measure_id: str) -> list[dict]:
    first, last = wh.month_range(measure_id)
    if first is None:
        return []
    out, m = [], first
    while m <= last:
        out.append({"label": f"{m:%b %Y}", "value": f"{m:%Y-%m}"})
        m = add_months(m, 1)
    return out


def _pick(value, options: list[dict], default: str) -> str:
    return value if isinstance(value, str) and value in {o["value"] for o in options} else default


def _defaults(options: list[dict]) -> tuple[str, str, str]:
    """The whole period, and a start 18 months before its end (a year and a half of follow-up)."""
    if not options:
        return "", "", ""
    first, last = options[0]["value"], options[-1]["value"]
    start = options[max(0, len(options) - 18)]["value"]
    return first, last, start


def load(fragment, measure, loaded, start, first, last):
    """First: the controls from the link's fragment (unknown values fall back to the defaults). Later: a change of
    measure refreshes the months, keeping the chosen ones where the measure has them."""
    inputs.strings(fragment, measure, start, first, last)
    wh = warehouse()
    if loaded and ctx.triggered_id != ids.MEASURE:
        return no_update
    params = {} if loaded else {k: v[-1] for k, v in parse_qs((fragment or "").lstrip("#")).items() if k in HASH_KEYS}
    choices = {o["value"] for o in ids.evaluable_measures(wh)}
    chosen = params.get("measure") if params.get("measure") in choices else None
    measure = chosen or (measure if measure in choices else ids.DEFAULT_MEASURE)
    options = _months(wh, measure)
    d_first, d_last, d_start = _defaults(options)
    first = _pick(params.get("from", first), options, d_first)
    last = _pick(params.get("to", last), options, d_last)
    start = _pick(params.get("start", start), options, d_start)
    months = {"start_options": options, "start": start, "from_options": options, "from": first}
    months |= {"to_options": options, "to": last}
    if loaded:  # a new measure: its months, everything else as chosen
        return dict.fromkeys(LOAD_OUTPUTS, no_update) | months
    area = [a for a in params.get("area", "").split(",") if a in wh.district_codes]
    phase = params.get("phase_in", "0")
    return months | {
        "measure": measure,
        "area": (area[0] if area else "") if wh.audience == "public" else area,
        "lsoas": params.get("lsoa", "") if wh.audience == "partner" else "",
        "phase_in": phase if phase.isdigit() and int(phase) <= ev.MAX_PHASE_IN else "0",
        "comparison": params.get("comparison") if params.get("comparison") in {"HIPS", *wh.district_codes} else "none",
        "errors": params.get("errors") if params.get("errors") in ev.ERRORS else "quasi",
        "family": params.get("family") if params.get("family") in ev.FAMILIES else "poisson",
        "age": params.get("age") if params.get("age") in ("all", "u25") else "all",
        "loaded": True,
    }


def _areas(value) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    return [v for v in (value or []) if isinstance(v, str)]


def _word(value, default: str) -> str:
    """A choice as text: a list or number from a forged store becomes text the checks refuse, never a TypeError."""
    return default if value in (None, "") else str(value)


def _question(wh, measure, area, lsoas, start, phase_in, first, last, comparison, errors, family, age, offset):
    phase = int(phase_in) if isinstance(phase_in, (int, str)) and str(phase_in).isdigit() else phase_in
    versus = None if comparison in (None, "", "none") else comparison
    return ev.question(
        wh, measure, _areas(area), start, first, last, lsoas=lsoas or None, phase_in=phase, comparison=versus,
        age=_word(age, "all"), errors=_word(errors, "quasi"), family=_word(family, "poisson"), offset=bool(offset),
    )  # fmt: skip


def _fragment(q: ev.Question) -> str:
    params = {"measure": q.measure_id, "start": f"{q.start:%Y-%m}", "from": f"{q.first:%Y-%m}", "to": f"{q.last:%Y-%m}"}
    if q.districts:
        params["area"] = ",".join(q.districts)
    if q.lsoas:
        params["lsoa"] = ",".join(q.lsoas)
    if q.comparison is not None:
        params["comparison"] = ",".join(q.comparison) or "HIPS"
    params.update({k: v for k, v in (("phase_in", q.phase_in), ("errors", q.errors), ("family", q.family)) if v})
    return "#" + urlencode(params, safe=",")


def _api_link(q: ev.Question) -> str:
    params = {"measure": q.measure_id, "area": ",".join(q.districts) or "HIPS", "start": f"{q.start:%Y-%m}"}
    params.update({"from": f"{q.first:%Y-%m}", "to": f"{q.last:%Y-%m}"})
    if q.comparison is not None:
        params["comparison"] = ",".join(q.comparison) or "HIPS"
    if q.lsoas:
        params["lsoa"] = ",".join(q.lsoas)
    params.update({k: v for k, v in (("phase_in", q.phase_in), ("errors", q.errors), ("family", q.family)) if v})
    params.update({"offset": "true"} if q.offset else {})
    params.update({"age": q.age} if q.age != "all" else {})
    return "/api/v1/evaluate?" + urlencode(params, safe=",")


def _result(r: dict) -> html.Div:
    level = r["level"]
    clear = level["upper"] < 1 or level["lower"] > 1
    return html.Div(
        [
            html.P(r["sentences"][0], className="fs-5 fw-bold mb-1"),
            *[html.P(s, className="mb-1") for s in r["sentences"][1:]],
            html.P(
                f"Level change ratio {level['ratio']:.2f} (95% CI {level['lower']:.2f} to {level['upper']:.2f}); "
                f"trend change {r['trend']['ratio_per_year']:.2f} a year (95% CI {r['trend']['lower']:.2f} to "
                f"{r['trend']['upper']:.2f}). "
                + ("The interval excludes no change." if clear else "The interval includes no change."),
                className="small mb-0",
            ),
        ],
        className="border-start border-4 border-primary ps-3",
    )


def _diagnostics(r: dict) -> html.Details:
    d, m = r["diagnostics"], r["model"]
    ac = "not computed" if d["autocorrelation_lag1"] is None else (
        f"{d['autocorrelation_lag1']:.2f} (Breusch-Godfrey p = {d['autocorrelation_p']:.3f})"
    )  # fmt: skip
    items = [
        f"Model: {ev.FAMILIES[m['family']]}, {ev.ERRORS[m['errors']]} errors"
        + (", population offset" if m["offset"] else "")
        + f"; {m['months_before']} months before the start, {m['months_after']} after"
        + (f", {m['phase_in_months']} of phase-in left out" if m["phase_in_months"] else "")
        + ".",
        f"Overdispersion (Pearson chi-squared / df): {d['dispersion']:.2f} (1 is Poisson).",
        f"Residual autocorrelation at lag 1: {ac}.",
        *d["notes"],
    ]
    return html.Details(
        [html.Summary("Diagnostics"), html.Ul([html.Li(i) for i in items], className="small mt-2 mb-0")],
        open=bool(d["notes"]),
    )


def _card(wh, q: ev.Question, r: dict) -> dict:
    measure = wh.registry.get(q.measure_id)
    series = pd.DataFrame(r["series"])
    comparison = r["comparison"]["name"] if r["comparison"] else None
    figure = figs.its_chart(series, f"{q.start:%Y-%m}", q.phase_in, "Count a month", comparison)
    before = series["phase"] == "before"
    shown = series.assign(
        month=pd.to_datetime(series["month"]).dt.strftime("%b %Y"),
        observed=series["observed"].round().astype("Int64"),
        fitted=series["fitted"].round(1),
        counterfactual=series["counterfactual"].mask(before).round(1),
        cf_lower=series["cf_lower"].mask(before).round(1),
        cf_upper=series["cf_upper"].mask(before).round(1),
    )
    # Every line and the band the chart draws is a column, so the table (and so the CSV) is the chart's data.
    columns = {"month": "Month", "observed": "Recorded", "phase": "Phase", "fitted": "Fitted"}
    columns |= {
        "counterfactual": "Expected, no intervention",
        "cf_lower": "Expected: 95% low",
        "cf_upper": "Expected: 95% high",
    }
    if comparison and "comparison" in series:
        columns["comparison"] = f"{comparison} (comparison)"
    numeric = tuple(k for k in columns if k not in ("month", "phase"))
    table = c.keep_data(c.table(shown, columns, numeric=numeric), shown, columns)
    title = f"{measure.label} in {r['area']['name']}: recorded, fitted, and expected with no intervention"
    summary = (
        f"{len(series)} months. The dashed line continues the months before the start (their trend and season); "
        "the gap between it and the fitted line after the start is the estimated effect."
    )
    footnote = c.footnote(measure, period_text(r["from"], r["to"]), r["synthetic"])
    return c.card_content(title, summary, figure, table, footnote, c.about(measure, METHOD, "interrupted-time-series"))


def run(measure, area, lsoas, start, phase_in, first, last, comparison, errors, family, age, offset, loaded):
    if not loaded or not start:
        return no_update
    wh = warehouse()
    q = _question(wh, measure, area, lsoas, start, phase_in, first, last, comparison, errors, family, age, offset)
    r = ev.evaluate(wh, q)
    caveats = [dbc.Alert(cv["message"], color="warning", className="my-1 py-2") for cv in r["caveats"]]
    link = ["The same evaluation from the API: ", html.Code(_api_link(q))]
    asked = dict(zip(CHART_ASKED, (measure, area, lsoas, start, phase_in, first, last, comparison, errors, family,
                                   age, offset), strict=True))  # fmt: skip
    return {
        "result": _result(r),
        "caveats": html.Div(caveats),
        "chart": _card(wh, q, r),
        "diagnostics": _diagnostics(r),
        "api_link": link,
        "hash": _fragment(q),
        "asked": asked,
    }


# What the page asked, kept in each card's export store so its downloads ask the same again (checked again there:
# the store comes back from the browser).
CHART_ASKED = (
    "measure", "area", "lsoas", "start", "phase_in", "first", "last", "comparison", "errors", "family", "age", "offset"
)  # fmt: skip
PLAN_ASKED = ("measure", "area", "lsoas", "start", "first", "age", "months_after")


def _asked(options, keys: tuple[str, ...]) -> list:
    if not isinstance(options, dict) or not options.get("measure"):
        raise InvalidQuery("Choose an evaluation on the page first, then download it.")
    return [options.get(k) for k in keys]


def chart_view(options) -> dict:
    """The evaluation card's outputs for what the page asked (its downloads: callbacks/exports.py)."""
    wh = warehouse()
    q = _question(wh, *_asked(options, CHART_ASKED))
    return _card(wh, q, ev.evaluate(wh, q))


def plan_view(options) -> dict:
    """The plan card's outputs for what the page asked (its downloads)."""
    return plan(*_asked(options, PLAN_ASKED), True)["plan"]


def export_context(options) -> dict:
    """The place and age group a download of either card is about, from what the page asked."""
    wh = warehouse()
    measure, area, lsoas, start, _phase, first, *_rest = _asked(options, CHART_ASKED)
    age = options.get("age") or "all"
    q = _question(wh, measure, area, lsoas, start, 0, first, None, None, "quasi", "poisson", age, False)
    return {"place": ev.area_name(wh, q.districts, q.lsoas), "age": q.age}


def plan(measure, area, lsoas, start, first, age, months_after, loaded):
    if not loaded or not start:
        return no_update
    wh = warehouse()
    q = _question(wh, measure, area, lsoas, start, 0, first, None, None, "quasi", "poisson", age, False)
    after = int(months_after) if str(months_after).isdigit() else 12
    p = ev.plan(wh, q, after)
    measure_def = wh.registry.get(q.measure_id)
    curve = pd.DataFrame(p["curve"])
    mde = p["mde_drop"]
    title = (
        f"Smallest drop an evaluation could detect: {mde:.0%}"
        if mde is not None
        else "Not even an 80% drop would be detected reliably"
    )
    summary = (
        f"With {p['months_before']} months before the start and {p['months_after']} after, a fall in level of "
        + (f"{mde:.0%} or more" if mde is not None else "any size up to 80%")
        + f" would be detected {p['power']:.0%} of the time"
        + ("." if mde is not None else " (it would not).")
    )
    shown = curve.assign(drop=(curve["drop"] * 100).round(1), power=(curve["power"] * 100).round(1))
    columns = {"drop": "Drop in level (%)", "power": "Power (%)"}
    table = c.keep_data(c.table(shown, columns, numeric=("drop", "power")), shown, columns)
    footnote = c.footnote(
        measure_def,
        period_text(f"{q.first:%Y-%m}", f"{add_months(q.start, -1):%Y-%m}"),
        measure_def.source in wh.synthetic_sources(),
    )
    figure = figs.power_chart(curve, p["power"], mde)
    about = c.about(measure_def, PLAN_METHOD, "interrupted-time-series")
    return {
        "plan": c.card_content(title, summary, figure, table, footnote, about),
        "asked": dict(zip(PLAN_ASKED, (measure, area, lsoas, start, first, age, months_after), strict=True)),
    }


def hotspots_link(state_data, lsoa) -> str:
    """The Hotspots page's link to /evaluate, carrying its selection: the measure (where it can be evaluated),
    the districts and, for partners, the LSOA chosen on the map."""
    if not isinstance(state_data, dict):
        return "/evaluate"
    wh = warehouse()
    params = {}
    if state_data.get("measure") in {o["value"] for o in ids.evaluable_measures(wh)}:
        params["measure"] = state_data["measure"]
    districts = [d for d in state_data.get("districts") or [] if isinstance(d, str) and d in wh.district_codes]
    if districts:
        params["area"] = ",".join(sorted(districts))
    if wh.audience == "partner" and isinstance(lsoa, str) and len(lsoa) == 9 and lsoa[:3] in ("E01", "W01"):
        params["lsoa"] = lsoa
    return "/evaluate" + ("#" + urlencode(params, safe=",") if params else "")


# A failed evaluation says why once, in the result; its card is left blank (the link keeps what it holds).
RUN_FAILED = failure_outputs(
    result=polite,
    caveats=None,
    chart=c.card_content("", None, {}, None, "", None),
    diagnostics=None,
    api_link=None,
    hash=no_update,
    asked=None,
)
run_callback = guarded(RUN_FAILED)(run)
plan_callback = guarded(failure_outputs(plan=c.card_message, asked=None))(plan)


def register(app: dash.Dash) -> None:
    from vrp.dashboards import hotspots
    from vrp.dashboards.filters import STATE

    app.callback(Output(hotspots.EVALUATE_LINK, "href"), Input(STATE, "data"), Input(hotspots.LSOA, "data"))(
        guarded(lambda _m: "/evaluate")(hotspots_link)
    )
    app.callback(
        output=LOAD_OUTPUTS,
        inputs=[Input(URL, "hash"), Input(ids.MEASURE, "value")],
        state=[State(ids.LOADED, "data"), State(ids.START, "value"), State(ids.FROM, "value"), State(ids.TO, "value")],
    )(guarded(failure_outputs(**dict.fromkeys(LOAD_OUTPUTS, no_update)))(load))
    controls = [
        Input(ids.MEASURE, "value"),
        Input(ids.AREA, "value"),
        Input(ids.LSOAS, "value"),
        Input(ids.START, "value"),
    ]
    app.callback(
        output={
            "result": Output(ids.RESULT, "children"),
            "caveats": Output(ids.CAVEATS, "children"),
            "chart": c.card_outputs(ids.CHART),
            "diagnostics": Output(ids.DIAGNOSTICS, "children"),
            "api_link": Output(ids.API_LINK, "children"),
            "hash": Output(URL, "hash"),
            "asked": Output({"type": c.EXPORT_VIEW, "card": ids.CHART}, "data"),
        },
        inputs=[
            *controls,
            Input(ids.PHASE_IN, "value"),
            Input(ids.FROM, "value"),
            Input(ids.TO, "value"),
            Input(ids.COMPARISON, "value"),
            Input(ids.ERRORS_ID, "value"),
            Input(ids.FAMILY, "value"),
            Input(ids.AGE, "value"),
            Input(ids.OFFSET, "value"),
            Input(ids.LOADED, "data"),
        ],
    )(run_callback)
    app.callback(
        output={"plan": c.card_outputs(ids.PLAN), "asked": Output({"type": c.EXPORT_VIEW, "card": ids.PLAN}, "data")},
        inputs=[
            *controls,
            Input(ids.FROM, "value"),
            Input(ids.AGE, "value"),
            Input(ids.PLAN_AFTER, "value"),
            Input(ids.LOADED, "data"),
        ],
    )(plan_callback)
