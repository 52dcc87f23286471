"""Homicide page callbacks: rolling three-year counts and rates per million for all homicides and for under-25s
killed in non-domestic settings, and the share by method. Counts only: no victim-level detail in any audience."""

from __future__ import annotations

import dash
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, html, no_update

from vrp.callbacks import cached_view, failure_outputs, guarded, inputs, polite
from vrp.callbacks.outcome_scope import hidden_sentence, open_page, period_total
from vrp.callbacks.text import opening, period_text, where
from vrp.dashboards import components as c
from vrp.dashboards import homicide as ids
from vrp.dashboards.filters import STATE
from vrp.data_access import outcomes, published_outcomes
from vrp.figures import admissions as fy_figs
from vrp.figures import outcomes as figs
from vrp.figures.theme import partner_only
from vrp.stats import change, proportion_ci

WINDOW = 36
PUBLIC_WINDOW = 12  # the cube publishes rolling 12 months only
PUBLIC_ROLLING_METHOD = (
    "Each point is the published total over the 12 months ending that quarter; the rate is per million residents "
    "a year. A change between the first and the latest 12 months is tested with the exact conditional (binomial) "
    "test on the two counts, only where both are published. Under-25 rates use residents aged under 25. Totals "
    "over three years, which even out chance more, are shown to partners only: one window less another could "
    "reveal a small number."
)
ROLLING_METHOD = (
    "Each point is the total over the 36 months (three years) ending that quarter, so the chance rise and fall of "
    "small numbers evens out; the rate is per million residents a year (the three-year total divided by three). "
    "A change between the first and the latest three years is tested with the exact conditional (binomial) test "
    "on the two counts. Under-25 rates use residents aged under 25."
)
METHOD_METHOD = (
    "Victims by the method of killing recorded by the police. The share for a sharp instrument has a 95% "
    "confidence interval by Wilson's method. Counts of 1 or 2 are hidden (*) for the public, with further counts "
    "hidden where the total would reveal them."
)


def _label(age: str) -> str:
    return "Homicides of under-25s" if age == "u25" else "All homicides"


def _count_words(value, threshold: int | None) -> str:
    """A count in words; a hidden one as "fewer than" the threshold, or (public, ``threshold`` None: a cell may be
    hidden to protect another, and which is which is not published) as hidden."""
    if value is None or pd.isna(value):
        return f"fewer than {threshold}" if threshold else "a hidden number (*) of"
    return f"{int(value):,}"


def _words_threshold(wh, measure) -> int | None:
    return None if wh.audience == "public" else wh.threshold(measure)


def _per_million(count, population: float, months: int) -> float:
    if count is None or pd.isna(count) or not population:
        return np.nan
    return float(count) / population * 1_000_000 * 12 / months


# ---- headline ------------------------------------------------------------------------------------------------


def update_headline(state_data):
    if not state_data:
        return no_update
    wh, scope, _ = open_page(state_data, ids.ALL_ID)
    place, period = where(wh, scope.districts), scope.period
    lines = []
    for measure_id, label in ((ids.ALL_ID, _label(scope.age)), (ids.YOUNG_ID, "Under-25s in non-domestic settings")):
        measure = wh.registry.get(measure_id)
        total = period_total(wh, measure_id, scope)
        rate = _per_million(total["count"], total["population"], scope.months)
        rate_text = "" if np.isnan(rate) else f", {rate:,.1f} per million residents a year"
        count = _count_words(total["count"], _words_threshold(wh, measure))
        lines.append(html.Li(f"{label}: {count} victims{rate_text}."))
    children = [html.P(f"{opening(place)}, {period}", className="fs-5 fw-bold mb-1"), html.Ul(lines, className="mb-1")]
    if scope.note:
        children.append(html.P(scope.note, className="small mb-0"))
    headline = html.Div(children, className="border-start border-4 border-primary ps-3")
    return {"title": f"{ids.PAGE_TITLE}: {place}", "headline": headline}


# ---- rolling three-year counts -------------------------------------------------------------------------------


def _span(window: int) -> str:
    return "12 months" if window == 12 else f"{window // 12} years"


def rolling_frame(wh, scope, window: int = WINDOW) -> pd.DataFrame:
    both = None
    for measure_id, col in ((ids.ALL_ID, "all"), (ids.YOUNG_ID, "young")):
        r = outcomes.rolling_counts(wh, measure_id, scope.districts, scope.age, window)
        r = r.assign(
            **{
                col: r["count"],
                f"{col}_rate": [_per_million(v, p, window) for v, p in zip(r["count"], r["population"], strict=True)],
            }
        )[["window_start", "window_end", col, f"{col}_rate"]]
        both = r if both is None else both.merge(r, on=["window_start", "window_end"])
    both["label"] = both["window_end"].map(lambda d: f"{_span(window)} to {d:%b %Y}")
    return both


def rolling_title(frame: pd.DataFrame, place: str, age: str, threshold: int | None, window: int = WINDOW) -> str:
    if frame.empty:
        return f"Fewer than {_span(window)} of homicide data are published for {place}"
    last = frame.iloc[-1]
    young = _count_words(last["young"], threshold).removesuffix(" of")
    head = (
        f"In the {_span(window)} to {last['window_end']:%B %Y}, {_count_words(last['all'], threshold)} "
        f"{'under-25 ' if age == 'u25' else ''}homicide victims in {place}"
    )
    if not pd.isna(last["all_rate"]):
        head += f" ({last['all_rate']:.1f} per million a year)"
    return head + f"; {young} were under 25 and killed outside a domestic setting"


def rolling_summary(frame: pd.DataFrame, window: int, threshold: int) -> str:
    """What the chart shows, the test of the change where two windows do not overlap, and what is hidden."""
    span = _span(window)
    summary = f"Totals over {span}, one point a quarter, with the chosen period shaded."
    shown = frame.dropna(subset=["all"])
    if len(shown) >= 2 and shown.iloc[0]["window_end"] < shown.iloc[-1]["window_end"]:
        a, b = shown.iloc[0], shown.iloc[-1]
        if b["window_start"] > a["window_end"]:
            test = change(float(b["all"]), float(a["all"]))
            summary += (
                f" Against the {span} to {a['window_end']:%B %Y} ({int(a['all']):,}), the change is "
                f"{'statistically significant' if test.significant else 'not statistically significant'}."
            )
        else:
            summary += (
                f" The {span} to {a['window_end']:%B %Y} had {int(a['all']):,}; these windows overlap, so "
                f"no test of the change is made until {2 * window // 12} years are loaded."
            )
    hidden = int(frame["all"].isna().sum() + frame["young"].isna().sum())
    summary += hidden_sentence(hidden, threshold, "three-year total" if window == 36 else f"{window}-month total")
    if hidden:
        summary += " Hidden totals are gaps in the lines, and * in the table."
    return summary


def update_rolling(state_data):
    if not state_data:
        return no_update
    wh, scope, measure = open_page(state_data, ids.ALL_ID)
    threshold = wh.threshold(measure)
    place = where(wh, scope.districts)
    public = wh.audience == "public"
    window = PUBLIC_WINDOW if public else WINDOW
    span = _span(window)
    frame = rolling_frame(wh, scope, window)
    # The window is named once, on the axis: in each legend entry it made the second wider than a phone.
    series = {"all": _label(scope.age), "young": "Under-25s, non-domestic"}
    fig = figs.line_chart(
        frame.assign(
            x=frame["window_end"].map(lambda d: d.isoformat()),
            all=frame["all"].astype(float),
            young=frame["young"].astype(float),
        ),
        "x",
        series,
        f"Victims in the {span} to each date",
        height=380,
    )
    fig.update_traces(
        connectgaps=False, hovertemplate=f"{span} to %{{x|%b %Y}}: %{{y:,}}<extra>%{{fullData.name}}</extra>"
    )
    fy_figs.legend_on_top(fig)
    fy_figs.shade_period(fig, scope.start, scope.end)
    table = c.table(
        frame.assign(
            all=frame["all"].astype(object),
            young=frame["young"].astype(object),
            all_rate=frame["all_rate"].round(1),
            young_rate=frame["young_rate"].round(1),
        ),
        {
            "label": "Period",
            "all": _label(scope.age),
            "all_rate": "Per million a year",
            "young": "Under 25, non-domestic",
            "young_rate": "Per million under-25s a year",
        },
        numeric=("all", "all_rate", "young", "young_rate"),
    )
    period = (
        f"{period_text(f'{frame.iloc[0].window_start:%Y-%m}', f'{frame.iloc[-1].window_end:%Y-%m}')}"
        if len(frame)
        else "none loaded"
    )
    return c.measure_card(
        wh,
        measure,
        period,
        rolling_title(frame, place, scope.age, _words_threshold(wh, measure), window),
        rolling_summary(frame, window, threshold),
        fig,
        table,
        PUBLIC_ROLLING_METHOD if public else ROLLING_METHOD,
        "change-between-two-periods",
    )


# ---- method ----------------------------------------------------------------------------------------------------


def update_methods(state_data):
    if not state_data:
        return no_update
    wh, scope, measure = open_page(state_data, ids.ALL_ID)
    threshold = wh.threshold(measure)
    place, period = where(wh, scope.districts), scope.period
    if wh.audience == "public":  # a normal state of the page, not an error: say why
        title = f"Homicide victims by method in {place}: shown to partners only"
        summary = published_outcomes.METHODS_PARTNER_ONLY
        return c.measure_card(
            wh, measure, period, title, summary, go.Figure(partner_only()), None, METHOD_METHOD, "proportions"
        )
    methods = outcomes.homicide_methods(wh, ids.ALL_ID, scope.districts, scope.start, scope.end, scope.age)
    total = wh.period_total(ids.ALL_ID, scope.districts, scope.start, scope.end, scope.age)["count"]
    sharp = methods.set_index("method").loc["sharp_instrument"]
    who = "under-25 " if scope.age == "u25" else ""
    if total and not pd.isna(sharp["count"]):
        p, lo, hi = proportion_ci(int(sharp["count"]), int(total))
        title = f"A knife or other sharp instrument killed {p:.0%} of {who}homicide victims in {place}, {period}"
        summary = f"{int(sharp['count']):,} of {int(total):,} victims (95% confidence interval {lo:.0%} to {hi:.0%})."
    elif not total:
        title = f"No {who}homicides recorded in {place}, {period}" if total == 0 else f"Homicide methods in {place}"
        summary = "Nothing to break down." if total == 0 else f"Fewer than {threshold} victims: the total is hidden."
    else:
        title = f"Homicide victims by method in {place}, {period}"
        summary = "The sharp-instrument count is too small to show."
    shown = methods[(methods["count"] != 0) | methods["suppressed"]].reset_index(drop=True)
    summary += hidden_sentence(int(methods["suppressed"].sum()), threshold, "method")
    if scope.months < 36 and methods["suppressed"].any():
        summary += " A longer period (for example the latest 3 years) hides fewer."
    fig = fy_figs.bars_readable(figs.bars(shown, "label", "count", "Victims", emphasise={"Sharp instrument"}))
    table = c.table(
        methods.assign(count=methods["count"].astype(object), share=(methods["share"] * 100).round(1)),
        {"label": "Method", "count": "Victims", "share": "Share (%)"},
        numeric=("count", "share"),
    )
    return c.measure_card(
        wh,
        measure,
        period,
        title,
        summary,
        fig,
        table,
        METHOD_METHOD,
        "proportions",
    )


headline_callback = guarded(failure_outputs(title=ids.PAGE_TITLE, headline=polite))(
    cached_view(update_headline, inputs.PAGE_STATE)
)
rolling_callback = guarded(c.card_message)(cached_view(update_rolling, inputs.PAGE_STATE))
methods_callback = guarded(c.card_message)(cached_view(update_methods, inputs.PAGE_STATE))


def register(app: dash.Dash) -> None:
    headline = {"title": Output(ids.TITLE, "children"), "headline": Output(ids.HEADLINE, "children")}
    app.callback(output=headline, inputs=[Input(STATE, "data")])(headline_callback)
    app.callback(output=c.card_outputs(ids.ROLLING), inputs=[Input(STATE, "data")])(rolling_callback)
    app.callback(output=c.card_outputs(ids.METHODS), inputs=[Input(STATE, "data")])(methods_callback)
