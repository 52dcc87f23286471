"""The Knife crime page's trend: the headline, the SPC chart and the rolling rate. The charts show the period chosen
within at least 24 months of context; the SPC limits are fixed on the measure's baseline months and recalculated at
its documented changes (config/measures.toml), so a month reads the same whatever period is chosen around it."""

from __future__ import annotations

from datetime import date

import pandas as pd
from dash import html, no_update

from vrp.callbacks import cached_view, failure_outputs, guarded, inputs, polite
from vrp.callbacks.text import opening, period_text, where
from vrp.dashboards import components as c
from vrp.dashboards import knife_crime as ids
from vrp.data_access import outcomes, published
from vrp.data_access.context import warehouse
from vrp.data_access.filter_state import read_state
from vrp.figures import outcomes as figs
from vrp.periods import add_months
from vrp.stats import rate_ci, variation_icon
from vrp.stats.spc import monthly_xmr

#: The charts show at least this many months, ending with the period chosen (Making Data Count asks for 15 to 20
#: points or more before limits mean much; two years also hold every calendar month twice).
CONTEXT_MONTHS = 24

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
    "XmR chart (NHS Making Data Count): mean ± 2.66 × mean moving range, fixed on the first 24 months of the data "
    "(or since a documented change in how the data are recorded, where the limits start again). Signals: a point "
    "outside the limits, 7 or more in a row on one side of the mean, 7 or more rising or falling, 2 of 3 beyond "
    "two sigma on one side. Fewer than 12 months in the baseline: the limits are a trial."
)
RATE_METHOD = (
    "Rates per 100,000 residents (mid-2023 estimates) with 95% confidence intervals: Byar's method from "
    "10 events, exact Poisson below. 'Compared with HIPS' is similar when the HIPS rate lies inside the "
    "interval, else better or worse (lower is better)."
)


def _month(value) -> date:
    """A month as the date of its first day, from "YYYY-MM" or a date."""
    stamp = pd.Timestamp(str(value)[:7] + "-01")
    return date(stamp.year, stamp.month, 1)


def chosen_months(p) -> tuple[date, date]:
    """The first and last month of the period chosen: the published period for the public, else the filter's."""
    if p.public:
        return _month(p.shown.start), _month(p.shown.end)
    first, last = p.wh.month_range(ids.MEASURE_ID)
    return _month(p.state.start or first), _month(p.state.end or last)


def window_start(chosen: tuple[date, date]) -> date:
    """The chart's first month: the period chosen, or the CONTEXT_MONTHS to its end when that is longer."""
    return min(chosen[0], _month(add_months(chosen[1], -(CONTEXT_MONTHS - 1))))


def monthly_history(p) -> pd.DataFrame:
    """Every month the data hold (published month cells for the public): the SPC limits are fixed on the first
    months and the rules read the whole series, so a month reads the same whichever period is chosen around it."""
    return p.wh.monthly_counts(ids.MEASURE_ID, p.state.districts, None, None, p.state.age)


def spc_table(p, history: pd.DataFrame) -> pd.DataFrame:
    """The XmR chart over the whole history, with month, suppressed and chosen columns."""
    months = history["month"].map(_month)
    chart = monthly_xmr(
        months,
        history["count"].astype(float).to_numpy(),
        baseline_months=p.measure.spc_baseline_months,
        changes=[m for m, _ in p.measure.spc_recalculate],
        polarity=p.measure.polarity,
    )
    chart["month"] = months.to_numpy()
    chart["suppressed"] = history["suppressed"].to_numpy(dtype=bool)
    chart["chosen"] = ((months >= p.chosen[0]) & (months <= p.chosen[1])).to_numpy()
    return chart


def chart_note(p, first: date, last: date) -> list:
    """The source note for a chart of the months ``first`` to ``last``, naming the period chosen within them."""
    shown = period_text(f"{first:%Y-%m}", f"{last:%Y-%m}")
    if first < p.chosen[0]:
        shown += f" (shaded: the period chosen, {period_text(f'{p.chosen[0]:%Y-%m}', f'{p.chosen[1]:%Y-%m}')})"
    return c.footnote(p.measure, shown, p.measure.source in p.wh.synthetic_sources())


def _baseline_words(p, chart: pd.DataFrame, latest: pd.Series) -> str:
    """Which months the limits shown at the end were fixed on, and why they start where they do."""
    base = chart[(chart["segment"] == latest["segment"]) & chart["in_baseline"]]
    first, last = base["month"].iloc[0], base["month"].iloc[-1]
    span = period_text(f"{first:%Y-%m}", f"{last:%Y-%m}")
    reasons = [r for m, r in p.measure.spc_recalculate if _month(m) <= first]
    why = (
        f"since a documented change: {reasons[-1]}" if latest["segment"] > 0 and reasons else "the first the data hold"
    )
    return f"Limits fixed on the {len(base)} months {span}, {why}: "


def spc_card(p, history: pd.DataFrame) -> dict:
    chart = spc_table(p, history)
    window = chart[chart["month"].between(window_start(p.chosen), p.chosen[1])].reset_index(drop=True)
    latest = window.iloc[-1] if len(window) else None
    icon = variation_icon(window, p.measure.polarity)  # the last month shown, read over the whole series
    signals = int(window["special_cause"].sum())
    hidden = int(window["suppressed"].sum())
    when = f"{latest['month']:%B %Y}" if latest is not None else "the latest month"
    title = f"Monthly knife-enabled serious violence in {p.place}: {VARIATION_TEXT.get(icon, 'not assessed')} in {when}"
    if latest is None:
        return c.card_content(title, "No months are available.", figs.spc_chart(window, [], "Offences a month"),
                           None, p.note, c.about(p.measure, SPC_METHOD, "statistical-process-control"))  # fmt: skip
    shown = period_text(f"{window['month'].iloc[0]:%Y-%m}", f"{latest['month']:%Y-%m}")
    chosen_words = (
        "the period chosen, shaded" if len(window) > int(window["chosen"].sum()) else "the whole period chosen"
    )
    summary = (
        f"{len(window)} months, {shown} ({chosen_words}). "
        + _baseline_words(p, chart, latest)
        + f"mean {latest['mean']:.1f} a month, process limits {max(latest['lcl'], 0):.1f} to {latest['ucl']:.1f}. "
        + (
            f"{signals} of the months shown {'show' if signals != 1 else 'shows'} a special-cause signal."
            if signals
            else "No month shown has a special-cause signal."
        )
        + (" Limits are a trial (fewer than 12 months in the baseline)." if bool(latest["trial"]) else "")
        + (
            f" {hidden} month{'s are' if hidden != 1 else ' is'} hidden (small, or revealing one): a gap in the chart."
            if hidden
            else ""
        )
    )
    table = c.table(
        window.assign(
            month=window["month"].map(lambda d: f"{d:%b %Y}"),
            count=window["value"].round().astype("Int64"),  # whole numbers, "*" where hidden
            signal=window["point_type"].str.replace("_", " "),
            chosen=window["chosen"].map({True: "yes", False: ""}),
            base=window["in_baseline"].map({True: "yes", False: ""}),
        ),
        {"month": "Month", "count": "Offences", "signal": "Variation", "chosen": "Period chosen",
         "base": "Baseline month"},
        numeric=("count",),
    )  # fmt: skip
    changes = [
        (_month(m), f"Limits recalculated: {reason}")
        for m, reason in p.measure.spc_recalculate
        if window["month"].iloc[0] < _month(m) <= latest["month"]
    ]
    figure = figs.spc_chart(
        window, window["month"], "Offences a month", suppressed=window["suppressed"], chosen=p.chosen, changes=changes
    )
    note = chart_note(p, window["month"].iloc[0], latest["month"])
    return c.card_content(
        title, summary, figure, table, note, c.about(p.measure, SPC_METHOD, "statistical-process-control")
    )


def partner_rolling(p, history: pd.DataFrame) -> pd.DataFrame:
    """A rolling 12-month rate for each month of the chart's window, from true monthly counts (the 11 months
    before are read too, as far as the data go back)."""
    state, wh = p.state, p.wh
    first = window_start(p.chosen)
    loaded_from = wh.month_range(ids.MEASURE_ID)[0]
    lead_start = max(add_months(f"{first:%Y-%m}", -11), f"{loaded_from:%Y-%m}")
    lead = wh.monthly_counts(ids.MEASURE_ID, state.districts, lead_start, f"{p.chosen[1]:%Y-%m}", state.age)
    # A month hidden in the SPC chart is hidden here too (the other range may hide other months of its own).
    hidden = lead["month"].isin(history.loc[history["count"].isna(), "month"])
    rolling = lead.assign(total=lead["count"].astype(float).mask(hidden).rolling(12).sum())  # a hidden month: no total
    rolling["rate"] = rolling["total"] / rolling["population"] * p.measure.per
    rolling["month"] = rolling["month"].map(_month)
    complete = _month(add_months(f"{loaded_from:%Y-%m}", 11))  # the first month with 12 loaded months to it
    return rolling[rolling["month"] >= max(first, complete)].reset_index(drop=True)


def public_rolling(p) -> pd.DataFrame:
    """The published rolling 12-month cells ending in the chart's window: one a quarter. A hidden cell is a gap."""
    state, wh = p.state, p.wh
    first = window_start(p.chosen)
    cells = outcomes.rolling_counts(wh, ids.MEASURE_ID, state.districts, state.age, 12)
    ends = cells["window_end"].map(_month)
    cells = cells[(ends >= first) & (ends <= p.chosen[1])]
    total = cells["count"].astype(float).to_numpy()
    rolling = cells.assign(month=ends, total=total, rate=total / cells["population"] * p.measure.per)
    return rolling[["month", "total", "rate", "suppressed", "population"]].reset_index(drop=True)


def _rolling_words(p, shown: pd.DataFrame, in_chosen: pd.DataFrame, gaps: int) -> tuple[str, str]:
    step = "quarter" if p.public else "month"
    gap_words = (
        f" {gaps} point{'s are' if gaps != 1 else ' is'} hidden (small, or revealing one), shown as a gap."
        if gaps
        else ""
    )
    last = in_chosen.iloc[-1] if len(in_chosen) else None
    # Against the 12 months a year before, as the headline compares; else the first point of the period chosen.
    ago = pd.Timestamp(last["month"]) - pd.DateOffset(years=1) if last is not None else None
    year_before = shown[pd.to_datetime(shown["month"]) == ago] if ago is not None else shown[:0]
    first = year_before.iloc[0] if len(year_before) else in_chosen.iloc[0] if len(in_chosen) > 1 else None
    if first is not None:
        ends = f" (12 months to {first['month']:%b %Y} and to {last['month']:%b %Y})"
        change = (
            f"was {last['rate']:.1f} per 100,000 at both ends"
            if round(last["rate"], 1) == round(first["rate"], 1)
            else f"{'fell' if last['rate'] < first['rate'] else 'rose'} from {first['rate']:.1f} to "
            f"{last['rate']:.1f} per 100,000"
        )
        title = f"The rolling 12-month rate {change} in {p.place}{ends}"
    elif len(in_chosen) == 1:
        title = f"The rolling 12-month rate was {in_chosen.iloc[0]['rate']:.1f} per 100,000 in {p.place}"
    else:
        title = "Rolling 12-month rate"
    if shown.empty:
        return title, "Not available: fewer than 12 months are loaded, or small counts are hidden."
    summary = (
        f"Each point is the 12 months to that {step}, so seasonal swings cancel out; {len(shown)} "
        f"point{'s' if len(shown) != 1 else ''} from {shown.iloc[0]['month']:%b %Y} to {shown.iloc[-1]['month']:%b %Y}"
        + (", the period chosen shaded." if len(shown) > len(in_chosen) else ".")
        + (" The published figures hold rolling years ending at quarter ends." if p.public else "")
        + gap_words
    )
    return title, summary


def rolling_card(p, rolling: pd.DataFrame) -> dict:
    shown = rolling.dropna(subset=["rate"])  # a window with a hidden month (or a hidden cell) has no total
    in_chosen = shown[shown["month"] >= p.chosen[0]]
    title, summary = _rolling_words(p, shown, in_chosen, len(rolling) - len(shown))
    figure = figs.line_chart(  # with its gaps, so the line does not join across a hidden stretch
        rolling, "month", {"rate": "Rate per 100,000"}, "Rate per 100,000 (12 months to)"
    )
    if len(rolling) and rolling["month"].iloc[0] < p.chosen[0]:
        figs.highlight_period(figure, *p.chosen)
    figs.month_axis(figure)
    table = c.table(
        shown.assign(
            month=shown["month"].map(lambda d: f"{d:%b %Y}"),
            total=shown["total"].round().astype("Int64"),
            rate=shown["rate"].round(1),
            chosen=(shown["month"] >= p.chosen[0]).map({True: "yes", False: ""}),
        ),
        {"month": "12 months to", "total": "Offences", "rate": "Rate per 100,000", "chosen": "Period chosen"},
        numeric=("total", "rate"),
    )
    note = chart_note(p, rolling["month"].iloc[0], rolling["month"].iloc[-1]) if len(rolling) else p.note
    return c.card_content(
        title, summary, figure, table, note, c.about(p.measure, RATE_METHOD, "rates-and-confidence-intervals")
    )


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


def _figure_text(cur) -> str:
    if not cur or cur["count"] is None:
        return "hidden (a small number, or one that would reveal one)."
    return (
        f"{cur['count']:,} offences, {cur['rate']:.1f} per 100,000 a year (95% CI {cur['lower']:.1f} "
        f"to {cur['upper']:.1f})."
    )


def _whole_period(p, history: pd.DataFrame) -> str | None:
    """Partners: the total for the whole period chosen, when the headline's 12 months are not all of it."""
    months = history["month"].map(_month)
    rows = history[(months >= p.chosen[0]) & (months <= p.chosen[1])]
    span = period_text(f"{p.chosen[0]:%Y-%m}", f"{p.chosen[1]:%Y-%m}")
    if rows["count"].isna().any() or rows.empty:
        return f"The whole period chosen, {span}: hidden (a month in it is small, or would reveal one)."
    total, years = int(rows["count"].sum()), len(rows) / 12
    rate, lower, upper = rate_ci(total, float(rows["population"].iloc[-1]) * years, per=p.measure.per)
    return (
        f"The whole period chosen, {span} ({len(rows)} months): {total:,} offences, {rate:.1f} per 100,000 a year "
        f"(95% CI {lower:.1f} to {upper:.1f})."
    )


def headline(p, history: pd.DataFrame) -> html.Div:
    """The headline count and rate, tested against the year before and the baseline year, each figure naming the
    months it covers (the period chosen may be longer than the 12 months a year-on-year test compares)."""
    state, wh = p.state, p.wh
    if p.public:  # the published period's cell against the same period a year before, both cells
        comp = outcomes.comparisons(wh, ids.MEASURE_ID, state.districts, state.end, state.age, start=state.start)
        when = p.shown.label
    else:  # the latest 12 months of the period chosen, against the 12 before and the baseline year
        comp = outcomes.comparisons(wh, ids.MEASURE_ID, state.districts, f"{p.chosen[1]:%Y-%m}", state.age)
    cur = comp["current"]
    whole = None
    if not p.public:
        span = (cur["start"], cur["end"]) if cur else (add_months(f"{p.chosen[1]:%Y-%m}", -11), f"{p.chosen[1]:%Y-%m}")
        when = period_text(*span)
        if _month(span[0]) != p.chosen[0]:
            when += " (the latest 12 months of the period chosen)"
            whole = _whole_period(p, history)
    this = when.split(" (")[0]
    prev_start, prev_end = (add_months(cur["start"], -12), add_months(cur["end"], -12)) if cur else (None, None)
    before = f"{opening(this)} against the same months a year before" + (
        f" ({period_text(prev_start, prev_end)})" if prev_start else ""
    )
    b_start, b_end = outcomes.fy_months(comp["baseline_fy"])
    baseline = f"{opening(this)} against the baseline year {comp['baseline_fy']} ({period_text(b_start, b_end)})"
    return html.Div(
        [
            html.P(f"{opening(p.place)}{p.age_words}, {when}: {_figure_text(cur)}", className="fs-5 fw-bold mb-1"),
            html.P(whole, className="mb-1") if whole else None,
            html.P(_change_text(comp["year_on_year"], before), className="mb-1"),
            html.P(_change_text(comp["against_baseline"], baseline), className="mb-1"),
            html.P(p.period_note, className="small mb-0") if p.period_note else None,
        ],
        className="border-start border-4 border-primary ps-3",
    )


# ---- the page's filter state and the trend view (the Knife crime page's first callback; the profile shows its
# SPC card too, from the same cached view) ----------------------------------------------------------------------

#: The trend view's cards: the name of its output group -> the card's prefix on the page.
TREND_CARDS = {"spc": ids.SPC, "rolling": ids.ROLLING}


class KnifePage:
    """What every part of the page needs from the filter state: the warehouse, the measure and the words."""

    def __init__(self, state_data):
        state = read_state(state_data)
        wh = warehouse()
        self.state, self.wh = state, wh
        self.measure = wh.registry.get(ids.MEASURE_ID)
        self.place = where(wh, state.districts)
        self.period = period_text(state.start, state.end)
        # Public: one published area and one published period of the cube, with a note when it is not the one asked.
        self.public, self.shown, self.period_note = wh.audience == "public", None, None
        if self.public:
            published.area_of(wh, state.districts)
            self.shown, self.period_note = published.page_period(wh, ids.MEASURE_ID, state.start, state.end)
            self.period = self.shown.label
            self.note = c.footnote(self.measure, self.period, self.measure.source in wh.synthetic_sources())
        self.note = c.footnote(self.measure, self.period, self.measure.source in wh.synthetic_sources())
        self.args = (ids.MEASURE_ID, state.districts, state.start, state.end, state.age)
        self.age_words = " (victims under 25)" if state.age == "u25" else ""
        self.chosen = chosen_months(self)


def update_trend(state_data):
    """The headline change, the SPC chart and the rolling rate."""
    if not state_data:
        return no_update
    p = KnifePage(state_data)
    history = monthly_history(p)
    rolling = public_rolling(p) if p.public else partner_rolling(p, history)
    return {
        "title": f"Knife-enabled serious violence: {p.place}{p.age_words}",
        "change": headline(p, history),
        "spc": spc_card(p, history),
        "rolling": rolling_card(p, rolling),
    }


def failure(cards: dict, headline: bool = False):
    """What the outputs show when the view cannot be drawn: the message, in every card (and the headline)."""
    first = {"title": "Knife-enabled serious violence", "change": polite} if headline else {}
    return failure_outputs(**first, **dict.fromkeys(cards, c.card_message))


trend_callback = guarded(failure(TREND_CARDS, headline=True))(cached_view(update_trend, inputs.PAGE_STATE))
