"""Knife crime page callbacks: filter state -> data_access -> stats -> figures, each chart with its title,
summary, table, footnote and definition."""

from __future__ import annotations

import dash
import numpy as np
from dash import Input, Output, html, no_update

from vrp.callbacks import cached_view, guarded, inputs, polite
from vrp.callbacks.hotspots import opening, period_text, where
from vrp.dashboards import components as c
from vrp.dashboards import knife_crime as ids
from vrp.dashboards.context import warehouse
from vrp.dashboards.filters import STATE, read_state
from vrp.data_access import outcomes
from vrp.figures import admissions as fy_figs
from vrp.figures import outcomes as figs
from vrp.periods import add_months
from vrp.stats import funnel_limits, variation_icon, xmr

VARIATION_TEXT = {
    "common_cause": "within normal variation",
    "improving_low": "a statistically significant improvement (special cause)",
    "improving_high": "a statistically significant improvement (special cause)",
    "concerning_high": "a statistically significant rise (special cause, concerning)",
    "concerning_low": "a statistically significant fall (special cause, concerning)",
    "neither_high": "an unusually high point",
    "neither_low": "an unusually low point",
}
SPC_METHOD = (
    "XmR chart (NHS Making Data Count): mean ± 2.66 × mean moving range. Signals: a point outside the "
    "limits, 7 or more in a row on one side of the mean, 7 or more rising or falling, 2 of 3 beyond two "
    "sigma on one side. Fewer than 12 points: the limits are a trial."
)
RATE_METHOD = (
    "Rates per 100,000 residents (mid-2023 estimates) with 95% confidence intervals: Byar's method from "
    "10 events, exact Poisson below. 'Compared with HIPS' is similar when the HIPS rate lies inside the "
    "interval, else better or worse (lower is better)."
)


def _card(prefix):
    return [Output(i, p) for i, p in c.card_outputs(prefix)]


def _change_text(result, label: str) -> str:
    if result is None:
        return f"{label}: not available (too few months loaded, or the counts are small and hidden)."
    direction = "fewer" if result.absolute < 0 else "more"
    pct = "" if result.percent is None else f"{abs(result.percent):.0f}% {direction}"
    verdict = "a statistically significant change" if result.significant else "not a statistically significant change"
    return (
        f"{label}: {int(result.current):,} against {int(result.previous):,}, {pct} "
        f"(rate ratio {result.rate_ratio:.2f}, 95% CI {result.ratio_lower:.2f} to {result.ratio_upper:.2f}; "
        f"{verdict}, exact test p = {result.p_value:.3f})."
    )


class _Page:
    """What every part of the page needs from the filter state: the warehouse, the measure and the words."""

    def __init__(self, state_data):
        state = read_state(state_data)
        wh = warehouse()
        self.state, self.wh = state, wh
        self.measure = wh.registry.get(ids.MEASURE_ID)
        self.place = where(wh, state.districts)
        self.period = period_text(state.start, state.end)
        self.note = c.footnote(self.measure, self.period, self.measure.source in wh.synthetic_sources())
        self.args = (ids.MEASURE_ID, state.districts, state.start, state.end, state.age)
        self.age_words = " (victims under 25)" if state.age == "u25" else ""


def _unpack(p: _Page):
    return p.state, p.wh, p.measure, p.place, p.period, p.note, p.args, p.age_words


def update_trend(state_data):
    """The headline change, the SPC chart and the rolling rate."""
    if not state_data:
        return (no_update,) * (2 + 2 * 6)
    state, wh, measure, place, period, note, args, age_words = _unpack(_Page(state_data))

    # Change: latest 12 months against the year before and against the baseline year.
    comp = outcomes.comparisons(wh, ids.MEASURE_ID, state.districts, state.end, state.age)
    cur = comp["current"]
    headline = html.Div(
        [
            html.P(
                f"{opening(place)}{age_words}, 12 months to "
                f"{period_text(cur['end'], cur['end']) if cur else state.end}: "
                + (
                    f"{cur['count']:,} offences, {cur['rate']:.1f} per 100,000 (95% CI {cur['lower']:.1f} to "
                    f"{cur['upper']:.1f})."
                    if cur and cur["count"] is not None
                    else "a small number (hidden)."
                ),
                className="fs-5 fw-bold mb-1",
            ),
            html.P(_change_text(comp["year_on_year"], "Against the 12 months before"), className="mb-1"),
            html.P(
                _change_text(comp["against_baseline"], f"Against the baseline year {comp['baseline_fy']}"),
                className="mb-0",
            ),
        ],
        className="border-start border-4 border-primary ps-3",
    )

    # SPC chart of monthly counts.
    series = wh.monthly_counts(*args)
    chart = xmr(series["count"].astype(float), polarity=measure.polarity)
    icon = variation_icon(chart, measure.polarity)
    signals = chart[chart["special_cause"]]
    spc_title = (
        f"Monthly knife-enabled serious violence in {place}: {VARIATION_TEXT.get(icon, 'not assessed')} "
        f"in the latest month"
    )
    spc_summary = (
        f"{len(series)} months, mean {chart['mean'].iloc[-1]:.1f} a month; process limits "
        f"{max(chart['lcl'].iloc[-1], 0):.1f} to {chart['ucl'].iloc[-1]:.1f}. "
        + (
            f"{len(signals)} month{'s' if len(signals) != 1 else ''} show a special-cause signal."
            if len(signals)
            else "No month shows a special-cause signal."
        )
        + (" Limits are a trial (fewer than 12 points)." if bool(chart["trial"].iloc[-1]) else "")
    )
    spc_table = c.table(
        series.assign(
            month=series["month"].map(lambda d: f"{d:%b %Y}"),
            signal=chart["point_type"].str.replace("_", " ").to_numpy(),
        ),
        {"month": "Month", "count": "Offences", "signal": "Variation"},
        numeric=("count",),
    )
    spc = c.fill_card(
        spc_title,
        spc_summary,
        figs.spc_chart(chart, series["month"], "Offences a month", suppressed=series["suppressed"]),
        spc_table,
        note,
        c.about(measure, SPC_METHOD, "statistical-process-control"),
    )

    # Rolling 12-month rate per 100,000: one point for each month of the period, so the 11 months before it are read
    # too (as far as the data go back); a 12-month period then has 12 points, not one.
    loaded_from, lead_start = wh.month_range(ids.MEASURE_ID)[0], state.start
    if state.start and loaded_from is not None:
        lead_start = max(add_months(state.start, -11), f"{loaded_from:%Y-%m}")
    lead = wh.monthly_counts(ids.MEASURE_ID, state.districts, lead_start, state.end, state.age)
    # A month hidden in the chart above is hidden here too (the longer range may hide other months of its own).
    hidden = lead["month"].isin(series.loc[series["count"].isna(), "month"])
    rolling = lead.assign(total=lead["count"].astype(float).mask(hidden).rolling(12).sum())
    rolling["rate"] = rolling["total"] / rolling["population"] * measure.per
    in_period = rolling[rolling["month"].map(lambda d: f"{d:%Y-%m}" >= (state.start or ""))]
    shown = in_period.dropna(subset=["rate"])  # a window with a hidden month has no total
    if len(shown) > 1:
        first, last = shown.iloc[0], shown.iloc[-1]
        change = (
            f"was {last['rate']:.1f} per 100,000 at both ends of the period"
            if round(last["rate"], 1) == round(first["rate"], 1)
            else f"{'fell' if last['rate'] < first['rate'] else 'rose'} from {first['rate']:.1f} to "
            f"{last['rate']:.1f} per 100,000"
        )
        roll_title = f"The rolling 12-month rate {change} in {place}"
        roll_summary = (
            f"Each point is the 12 months to that month, so seasonal swings cancel out; "
            f"{len(shown)} points from {first['month']:%b %Y} to {last['month']:%b %Y}."
        )
    elif len(shown) == 1:
        only = shown.iloc[0]
        roll_title = f"The rolling 12-month rate was {only['rate']:.1f} per 100,000 in {place}"
        roll_summary = (
            f"One point, the 12 months to {only['month']:%b %Y}: a point needs 12 loaded months, none of them hidden."
        )
    else:
        roll_title = "Rolling 12-month rate"
        roll_summary = "Not available: fewer than 12 months are loaded, or small monthly counts are hidden."
    roll_fig = figs.line_chart(  # with its gaps, so the line does not join across a hidden stretch
        in_period.assign(m=in_period["month"].map(str)),
        "month",
        {"rate": "Rate per 100,000"},
        "Rate per 100,000 (12 months to)",
    )
    roll_table = c.table(
        shown.assign(month=shown["month"].map(lambda d: f"{d:%b %Y}"), rate=shown["rate"].round(1)),
        {"month": "12 months to", "total": "Offences", "rate": "Rate per 100,000"},
        numeric=("total", "rate"),
    )
    rolling_card = c.fill_card(
        roll_title,
        roll_summary,
        roll_fig,
        roll_table,
        note,
        c.about(measure, RATE_METHOD, "rates-and-confidence-intervals"),
    )

    title = f"Knife-enabled serious violence: {place}{age_words}"
    return (title, headline, *spc, *rolling_card)


def update_breakdowns(state_data):
    """Offence groups and victim ages."""
    if not state_data:
        return (no_update,) * 2 * 6
    state, wh, measure, place, period, note, args, age_words = _unpack(_Page(state_data))

    # Breakdowns by offence group and by victim age (under-25s emphasised).
    offences = outcomes.breakdown(wh, *args[:1], "offence_subgroup", *args[1:])
    top = offences.dropna(subset=["count"]).head(1)
    off_title = (
        f"{top['label'].iloc[0]} is the largest group ({top['share'].iloc[0]:.0%})" if len(top) else "Offence groups"
    )
    off_card = c.fill_card(
        off_title,
        f"Knife-enabled offences by Home Office offence group, {place}, {period}.",
        figs.bars(offences, "label", "count", "Offences"),
        c.table(offences, {"label": "Offence group", "count": "Offences", "share": "Share"}, numeric=("count",)),
        note,
        c.about(measure, RATE_METHOD, "small-number-suppression"),
    )
    ages = outcomes.breakdown(wh, *args[:1], "age_band", *args[1:])
    young = ages[ages["group"].isin(["u18", "18_24"])]["count"]
    known = ages[ages["group"] != "unknown"]["count"]
    u25_share = (young.sum() / known.sum()) if known.notna().all() and known.sum() else None
    age_title = (
        f"Under-25s were the victims in {u25_share:.0%} of offences where the age is known"
        if u25_share is not None
        else "Victims by age"
    )
    age_card = c.fill_card(
        age_title,
        "Victim age bands; under-25s are highlighted in pink (and named in the table).",
        figs.bars(ages, "label", "count", "Offences", emphasise={"Under 18", "18 to 24"}),
        c.table(ages, {"label": "Victim age", "count": "Offences", "share": "Share"}, numeric=("count",)),
        note,
        c.about(measure, RATE_METHOD, "small-number-suppression"),
    )

    return (*off_card, *age_card)


def update_districts(state_data):
    """The districts against HIPS: rates with intervals and the funnel plot."""
    if not state_data:
        return (no_update,) * 2 * 6
    state, wh, measure, place, period, note, args, age_words = _unpack(_Page(state_data))

    # District comparison: rates with intervals against HIPS, and the funnel plot.
    d = outcomes.district_rates(wh, ids.MEASURE_ID, state.start, state.end, state.age)
    hips = float(d["hips_rate"].iloc[0])
    worse = d[d["compared_with_hips"] == "worse"]["district_name"].tolist()
    better = d[d["compared_with_hips"] == "better"]["district_name"].tolist()
    dist_title = (
        f"{len(worse)} district{'s' if len(worse) != 1 else ''} above the HIPS rate, {len(better)} below"
        if len(worse) or len(better)
        else "Every district is similar to HIPS"
    )
    dist_summary = (
        f"HIPS: {hips:.1f} per 100,000 a year, {period}. Higher than HIPS: {', '.join(worse) or 'none'}. "
        f"Lower: {', '.join(better) or 'none'}."
    )
    dist_table = c.table(
        d,
        {
            "district_name": "District",
            "count": "Offences",
            "rate": "Rate per 100,000 a year",
            "lower": "Lower 95% CI",
            "upper": "Upper 95% CI",
            "compared_with_hips": "Compared with HIPS",
        },
        numeric=("count", "rate", "lower", "upper"),
    )
    dist_card = c.fill_card(
        dist_title,
        dist_summary,
        # Each row's verdict in its label, as on the other pages: a legend above the chart met the HIPS label.
        fy_figs.intervals_labelled(
            d, "district_name", hips, "per 100,000 a year", "HIPS", {"worse": "higher", "better": "lower"}
        ),
        dist_table,
        note,
        c.about(measure, RATE_METHOD, "comparison-with-a-benchmark"),
    )
    pops = np.linspace(max(d["population"].min() * 0.8, 1), d["population"].max() * 1.1, 60)
    # Limits for each population's exposure over the period (rates are annual), drawn against population.
    limits = funnel_limits(hips, pops * float(d["years"].iloc[0]), per=measure.per).assign(population=pops)
    outside = d[d["funnel"].str.contains("99.8")]["district_name"].tolist()
    fun_title = (
        f"{', '.join(outside)} {'lie' if len(outside) > 1 else 'lies'} outside the 99.8% limits"
        if outside
        else "No district lies outside the 99.8% limits"
    )
    fun_card = c.fill_card(
        fun_title,
        "A funnel plot allows for district size: small districts vary more by chance, so their limits are wider.",
        figs.funnel_plot(d, limits, "district_name", "per 100,000 a year"),
        c.table(
            d,
            {
                "district_name": "District",
                "population": "Population",
                "rate": "Rate",
                "funnel": "Position on the funnel",
            },
            numeric=("population", "rate"),
        ),
        note,
        c.about(measure, "Funnel limits: exact Poisson, 95% and 99.8%, around the HIPS rate.", "funnel-plots"),
    )
    return (*dist_card, *fun_card)


def update(state_data):
    """The whole page in one call (the tests compare it with SQL)."""
    return (*update_trend(state_data), *update_breakdowns(state_data), *update_districts(state_data))


def _fallbacks(n_cards: int, headline: bool = False):
    """What each output shows when the view cannot be drawn: the message, in every card."""
    first = [lambda _m: "Knife-enabled serious violence", polite] if headline else []
    return [*first, *[(lambda m, i=i: c.empty_card(m)[i % 6]) for i in range(6 * n_cards)]]


# Three callbacks, so the page's parts are computed side by side and each appears when it is ready.
trend_callback = guarded(*_fallbacks(2, headline=True))(cached_view(update_trend, inputs.PAGE_STATE))
breakdowns_callback = guarded(*_fallbacks(2))(cached_view(update_breakdowns, inputs.PAGE_STATE))
districts_callback = guarded(*_fallbacks(2))(cached_view(update_districts, inputs.PAGE_STATE))
knife_callback = guarded(*_fallbacks(6, headline=True))(update)


def register(app: dash.Dash) -> None:
    trend = [Output(ids.TITLE, "children"), Output(ids.CHANGE, "children"), *_card(ids.SPC), *_card(ids.ROLLING)]
    app.callback(*trend, Input(STATE, "data"))(trend_callback)
    app.callback(*_card(ids.OFFENCES), *_card(ids.AGES), Input(STATE, "data"))(breakdowns_callback)
    app.callback(*_card(ids.DISTRICTS), *_card(ids.FUNNEL), Input(STATE, "data"))(districts_callback)


__all__ = ["register", "update", "knife_callback"]
