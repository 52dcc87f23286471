"""Hospital admissions page callbacks: filter state -> data_access -> stats -> figures, one callback per card so a
refused value or a failure in one chart leaves the others drawn."""

from __future__ import annotations

import dash
import numpy as np
import pandas as pd
from dash import Input, Output, html, no_update

from vrp.callbacks import cached_view, failure_outputs, guarded, inputs, polite
from vrp.callbacks.outcome_scope import Scope, hidden_sentence, open_page, period_total
from vrp.callbacks.text import opening, period_text, where
from vrp.dashboards import admissions as ids
from vrp.dashboards import components as c
from vrp.dashboards.filters import STATE
from vrp.data_access import outcomes, published_outcomes
from vrp.data_access.filter_state import coverage
from vrp.figures import admissions as fy_figs
from vrp.figures import outcomes as figs
from vrp.periods import financial_year, fy_label, fy_months
from vrp.stats import change

YOUNG = ("u18", "18_24")
UNDER_25 = "Under 25 (total)"
RATE_METHOD = (
    "Rates per 100,000 residents a year (mid-year population estimates; under-25 rates use residents aged under "
    "25), with 95% confidence intervals: Byar's method from 10 admissions, exact Poisson below. A district is "
    "similar to HIPS when the HIPS rate lies inside its interval. A change between two years is tested with the "
    "exact conditional (binomial) test on the two counts."
)
SUPPRESSION_METHOD = (
    "For the public, counts of 1 to 7 are hidden (*) under the NHS rule, and further cells are hidden where a "
    "published total would let someone work a hidden count out (secondary suppression). Where the NHS supplier "
    "had already hidden cells, totals are lower bounds ('at least')."
)
COMPARED = {
    "worse": "higher than",
    "better": "lower than",
    "similar": "similar to",
    "not compared": "not compared with",
}


def _fmt(value, digits: int = 0) -> str:
    if value is None or pd.isna(value):
        return "*"
    return f"{value:,.{digits}f}"


# ---- headline ------------------------------------------------------------------------------------------------


def update_headline(state_data):
    if not state_data:
        return no_update
    wh, scope, measure = open_page(state_data, ids.MEASURE_ID)
    place = where(wh, scope.districts)
    total = period_total(wh, ids.MEASURE_ID, scope)
    groups = outcomes.age_groups(wh, ids.MEASURE_ID, scope.districts, scope.start, scope.end)
    period = scope.period
    who = " aged under 25" if scope.age == "u25" else ""
    if total["count"] is None:
        main = f"{opening(place)}, {period}: fewer than {wh.threshold(measure)} admissions{who} (hidden)."
        if wh.audience == "public":  # a cell may be hidden to protect another: not necessarily a small one
            main = f"{opening(place)}, {period}: the number of admissions{who} is hidden (*) to protect small numbers."
    else:
        years = scope.months / 12
        rate = total["count"] / (total["population"] * years) * measure.per if total["population"] else np.nan
        main = (
            f"{opening(place)}, {period}: {'at least ' if total['incomplete'] else ''}{total['count']:,} "
            f"admissions{who} for assault with a sharp object, {rate:,.1f} per 100,000 residents a year."
        )
    young = groups["under_25"]
    extra = ""
    exact = not (wh.audience == "public" and total["incomplete"])  # public: no share of a lower bound
    if scope.age == "all" and young is not None and total["count"] and exact:
        # The under-25 subtotal the age chart publishes, protected together with its bands.
        extra = f"{young:,} of them ({young / total['count']:.0%}) were under 25."
    children = [html.P(main, className="fs-5 fw-bold mb-1")]
    if extra:
        children.append(html.P(extra, className="mb-1"))
    if scope.note:
        children.append(html.P(scope.note, className="small mb-0"))
    title = f"{ids.PAGE_TITLE}: {place}"
    return {"title": title, "headline": html.Div(children, className="border-start border-4 border-primary ps-3")}


# ---- trend by financial year ---------------------------------------------------------------------------------


def yearly_table(wh, scope: Scope) -> pd.DataFrame:
    """One row per financial year loaded: months, all-ages and under-25 counts and rates, incomplete, hidden."""
    if wh.audience == "public":
        return public_yearly_table(wh, scope)
    measure = wh.registry.get(ids.MEASURE_ID)
    first, last = coverage(wh, ids.MEASURE_ID)
    totals = wh.counts_by_period(ids.MEASURE_ID, "fy", scope.districts, first, last, scope.age)
    monthly = wh.monthly_counts(ids.MEASURE_ID, scope.districts, first, last, scope.age)
    monthly = monthly.assign(fy=monthly["month"].map(financial_year))
    per_fy = monthly.groupby("fy").agg(months=("month", "size"), incomplete=("incomplete", "any")).reset_index()
    frame = per_fy.merge(totals.rename(columns={"period": "fy"}), on="fy", how="left")
    # The under-25 count comes from the same suppressed age table the age chart publishes for that year, so
    # the two never combine to reveal a hidden band.
    years = [(max(fy_months(fy)[0], first), min(fy_months(fy)[1], last)) for fy in frame["fy"]]
    young = [a["under_25"] for a in outcomes.age_groups_by_period(wh, ids.MEASURE_ID, scope.districts, years)]
    # With the under-25 filter the total is itself the under-25 count, published as such.
    frame["young"] = frame["count"] if scope.age == "u25" else pd.array(young, dtype="Int64")
    pop_all = wh.population(scope.districts, scope.age, measure)
    pop_young = wh.population(scope.districts, "u25", measure)
    whole = frame["months"] == 12
    frame["rate"] = np.where(whole, frame["count"].astype(float) / pop_all * measure.per, np.nan)
    frame["young_rate"] = np.where(whole, frame["young"].astype(float) / pop_young * measure.per, np.nan)
    frame["year"] = frame["fy"].map(fy_label) + np.where(whole, "", " (" + frame["months"].astype(str) + " months)")
    return frame


def public_yearly_table(wh, scope: Scope) -> pd.DataFrame:
    """Public: the published financial-year cells (all ages or under 25 as filtered, and under 25), hidden
    years as NA; rates only from published counts."""
    measure = wh.registry.get(ids.MEASURE_ID)
    frame = published_outcomes.yearly(wh, ids.MEASURE_ID, scope.districts, scope.age)
    if scope.age == "u25":
        frame["young"] = frame["count"]
    pop_all = wh.population(scope.districts, scope.age, measure)
    pop_young = wh.population(scope.districts, "u25", measure)
    frame["rate"] = frame["count"].astype(float) / pop_all * measure.per
    frame["young_rate"] = frame["young"].astype(float) / pop_young * measure.per
    frame["year"] = frame["fy"].map(fy_label)
    return frame


def trend_title(frame: pd.DataFrame, place: str, who: str) -> str:
    whole = frame[(frame["months"] == 12) & frame["count"].notna()]
    if len(whole) < 2:
        return f"Admissions{who} in {place} by financial year"
    a, b = whole.iloc[0], whole.iloc[-1]
    if a["incomplete"] or b["incomplete"]:
        return _lower_bound_title(a, b, place, who)
    verb = "rose" if b["count"] > a["count"] else "fell" if b["count"] < a["count"] else "were unchanged"
    test = change(float(b["count"]), float(a["count"]))
    real = "a statistically significant change" if test.significant else "not a statistically significant change"
    return (
        f"Admissions{who} in {place} {verb} from {int(a['count']):,} in {fy_label(a['fy'])} to "
        f"{int(b['count']):,} in {fy_label(b['fy'])} ({real})"
    )


def _lower_bound_title(a, b, place: str, who: str) -> str:
    """A count holding cells the supplier hid is a lower bound: the change is not tested, and its direction is
    given only when it is certain (a year's lower bound above the other year's exact count)."""
    first, last = (
        f"{'at least ' if r['incomplete'] else ''}{int(r['count']):,} in {fy_label(r['fy'])}" for r in (a, b)
    )
    one = bool(a["incomplete"]) != bool(b["incomplete"])
    if one and a["incomplete"] and a["count"] > b["count"]:
        return f"Admissions{who} in {place} fell from {first} to {last} (a lower bound, so the change is not tested)"
    if one and b["incomplete"] and b["count"] > a["count"]:
        return f"Admissions{who} in {place} rose from {first} to {last} (a lower bound, so the change is not tested)"
    bounds = "a lower bound" if one else "lower bounds"
    return f"Admissions{who} in {place}: {first} and {last} ({bounds}, so not compared)"


def update_trend(state_data):
    if not state_data:
        return no_update
    wh, scope, measure = open_page(state_data, ids.MEASURE_ID)
    place = where(wh, scope.districts)
    frame = yearly_table(wh, scope)
    who = " of under-25s" if scope.age == "u25" else ""
    # Two lines: on one, the legend entry ran off a phone's card.
    series = {"young_rate": "Under 25<br>(per 100,000 aged under 25)"}
    if scope.age == "all":
        series = {"rate": "All ages", **series}
    whole = frame[frame["months"] == 12]
    fig = fy_figs.yearly_lines(whole, series, "Admissions per 100,000 a year", period=(scope.start, scope.end))
    part = frame[frame["months"] < 12]
    hidden = int(frame["count"].isna().sum() + (frame["young"].isna() & frame["count"].notna()).sum())
    summary = (
        "Admission rates each financial year (April to March) loaded, all ages and under 25, with the chosen period "
        "shaded."
        + "".join(
            f" {fy_label(r.fy)} is not drawn: only {r.months} of its 12 months are loaded "
            f"({_fmt(r.count)} admissions so far)."
            for r in part.itertuples()
        )
        + hidden_sentence(hidden, wh.threshold(measure), "yearly value")
        + (
            " Some years had cells hidden by the NHS supplier: their counts are lower bounds."
            if frame["incomplete"].any()
            else ""
        )
    )
    table = c.table(
        frame.assign(
            rate=frame["rate"].round(1),
            young_rate=frame["young_rate"].round(1),
            count=frame["count"].astype(object),
            young=frame["young"].astype(object),
        ),
        {
            "year": "Financial year",
            "count": "Admissions",
            "rate": "Rate per 100,000",
            "young": "Under 25",
            "young_rate": "Under-25 rate per 100,000",
        },
        numeric=("count", "rate", "young", "young_rate"),
    )
    return c.measure_card(
        wh,
        measure,
        period_text(*coverage(wh, ids.MEASURE_ID)),
        trend_title(frame, place, who),
        summary,
        fig,
        table,
        RATE_METHOD,
        "change-between-two-periods",
    )


# ---- age bands in the period ---------------------------------------------------------------------------------


def update_ages(state_data):
    if not state_data:
        return no_update
    wh, scope, measure = open_page(state_data, ids.MEASURE_ID)
    place, period = where(wh, scope.districts), scope.period
    groups = outcomes.age_groups(wh, ids.MEASURE_ID, scope.districts, scope.start, scope.end)
    young, total = groups["under_25"], groups["total"]
    public = wh.audience == "public"
    ages, summary = (public_ages if public else partner_ages)(groups, scope, wh.threshold(measure))
    if young is not None and total and not groups.get("incomplete"):  # no share of a lower bound
        title = f"Under-25s were {young / total:.0%} of admissions ({young:,} of {total:,}) in {place}, {period}"
    else:
        title = f"Admissions by age in {place}, {period}"
    emphasise = {UNDER_25, "Under 25", "Under 25 (at least)", "Under 18", "18 to 24"}
    fig = fy_figs.bars_readable(figs.bars(ages, "label", "count", "Admissions", emphasise=emphasise))
    table = c.table(
        ages.assign(count=ages["count"].astype(object), share=(ages["share"] * 100).round(1)),
        {"label": "Age", "count": "Admissions", "share": "Share (%)"},
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
        SUPPRESSION_METHOD,
        "small-number-suppression",
    )


def partner_ages(groups: dict, scope: Scope, threshold: int) -> tuple[pd.DataFrame, str]:
    """The under-25 subtotal above every age band (only the under-25 bands with the under-25 filter)."""
    bands, young, total = groups["bands"], groups["under_25"], groups["total"]
    if scope.age == "u25":
        bands = bands[bands["group"].isin(YOUNG)].reset_index(drop=True)
    subtotal = pd.DataFrame(
        {
            "group": ["u25"],
            "label": [UNDER_25],
            "count": pd.array([young], dtype="Int64"),
            "share": [young / total if young is not None and total else np.nan],
            "suppressed": [young is None],
        }
    )
    n_hidden = int(bands["suppressed"].sum())
    summary = (
        "Admissions by the patient's age; the under-25 total and its bands are drawn in pink (and named in the "
        "table)."
        + hidden_sentence(n_hidden, threshold, "age band")
        + (f" The under-25 total is hidden too (fewer than {threshold})." if young is None else "")
        + (
            " Bands are hidden so that the under-25 total can be shown without revealing a small band."
            if young is not None and n_hidden
            else ""
        )
    )
    return pd.concat([subtotal, bands], ignore_index=True), summary


def public_ages(groups: dict, _scope: Scope, threshold: int) -> tuple[pd.DataFrame, str]:
    """Under 25 and 25 and over from the published cells, and why finer bands are not shown."""
    bands = groups["bands"]
    summary = (
        "Admissions of patients under 25 (in pink) and aged 25 and over, from the published figures for all ages "
        "and under 25; 25 and over is all ages less under 25."
        + hidden_sentence(int(bands["suppressed"].sum()), threshold, "age group")
        + _lower_bound_ages(groups)
        + " "
        + groups["partner_only"]
    )
    return bands, summary


def _lower_bound_ages(groups: dict) -> str:
    """Why an age group is "at least", or not given, when the supplier had hidden cells (no shares then)."""
    if not groups.get("incomplete") or groups["under_25"] is None or groups["total"] is None:
        return ""  # nothing drawn to qualify (a hidden group is said so already)
    if groups["bands"]["incomplete"].iloc[0]:
        return (
            " Under 25 is a lower bound (the NHS supplier withheld small numbers), so 25 and over is not known and "
            "no shares are given."
        )
    return (
        " All ages is a lower bound (the NHS supplier withheld small numbers), so 25 and over is at least all "
        "ages less under 25; no shares are given."
    )


# ---- districts against HIPS ----------------------------------------------------------------------------------


def hips_text(rate: float, unit: str = " per 100,000 a year") -> str:
    """The HIPS rate in words: hidden (*) where the published HIPS count is (public), and nothing compared."""
    return "hidden (*)" if pd.isna(rate) else f"{rate:.1f}{unit}"


def district_title(d: pd.DataFrame, chosen: tuple[str, ...], hips: float) -> str:
    if len(chosen) == 1:
        row = d[d["district_code"] == chosen[0]].iloc[0]
        if pd.isna(row["rate"]):
            return f"{row['district_name']}: too few admissions to compare with HIPS (hidden)"
        return (
            f"{row['district_name']}'s admission rate ({row['rate']:.1f} per 100,000 a year) is "
            f"{COMPARED[row['compared_with_hips']]} HIPS ({hips_text(hips, '')})"
        )
    worse, better = (d["compared_with_hips"] == v for v in ("worse", "better"))
    if not worse.any() and not better.any():
        return "Every district's admission rate is similar to HIPS, or too small to compare"
    n_up, n_down = int(worse.sum()), int(better.sum())
    return f"{n_up} district{'s' if n_up != 1 else ''} above the HIPS admission rate, {n_down} below"


def district_figure(d: pd.DataFrame, hips: float):
    # Hidden districts are in the table (as *), not on the chart, so the chart's height fits what it shows.
    shown = d[~d["suppressed"]].reset_index(drop=True)
    words = {"worse": "higher", "better": "lower", "similar": "similar"}
    return fy_figs.intervals_labelled(shown, "label", hips, "per 100,000 a year", "HIPS", words)


def longer_hides_fewer(wh, scope: Scope) -> str:
    if wh.audience == "public":
        return " A financial year or rolling 12 months hides fewer." if scope.months < 12 else ""
    return " A longer period (for example the latest 3 years) hides fewer." if scope.months < 36 else ""


def update_districts(state_data):
    if not state_data:
        return no_update
    wh, scope, measure = open_page(state_data, ids.MEASURE_ID)
    period = scope.period
    if wh.audience == "public":  # each district's published cell for the page's period
        d = published_outcomes.district_rates(wh, ids.MEASURE_ID, scope.published, scope.age)
    else:
        d = outcomes.district_rates(wh, ids.MEASURE_ID, scope.start, scope.end, scope.age)
    hips = float(d["hips_rate"].iloc[0])
    # Every district stays on the chart for context; the chosen ones are named as such, not by colour alone.
    d = d.assign(
        label=[
            f"{n} (chosen)" if code in scope.districts else n
            for n, code in zip(d["district_name"], d["district_code"], strict=True)
        ]
    )
    n_hidden = int(d["suppressed"].sum())
    higher = d[d["compared_with_hips"] == "worse"]["district_name"].tolist()
    lower = d[d["compared_with_hips"] == "better"]["district_name"].tolist()
    summary = (
        f"Rates with 95% confidence intervals, {period}; HIPS {hips_text(hips)}. Higher than HIPS: "
        f"{', '.join(higher) or 'none'}. Lower: {', '.join(lower) or 'none'}."
        + hidden_sentence(n_hidden, wh.threshold(measure), "district")
        + (longer_hides_fewer(wh, scope) if n_hidden else "")
    )
    table = c.table(
        d.assign(
            count=d["count"].astype(object),
            rate=d["rate"].round(1),
            lower=d["lower"].round(1),
            upper=d["upper"].round(1),
        ),
        {
            "label": "District",
            "count": "Admissions",
            "rate": "Rate per 100,000 a year",
            "lower": "Lower 95% CI",
            "upper": "Upper 95% CI",
            "compared_with_hips": "Compared with HIPS",
        },
        numeric=("count", "rate", "lower", "upper"),
    )
    return c.measure_card(
        wh,
        measure,
        period,
        district_title(d, scope.districts, hips),
        summary,
        district_figure(d, hips),
        table,
        RATE_METHOD,
        "comparison-with-a-benchmark",
    )


# What the app registers: each callback wrapped so a refused value becomes a message on the page.
headline_callback = guarded(failure_outputs(title=ids.PAGE_TITLE, headline=polite))(
    cached_view(update_headline, inputs.PAGE_STATE)
)
trend_callback = guarded(c.card_message)(cached_view(update_trend, inputs.PAGE_STATE))
ages_callback = guarded(c.card_message)(cached_view(update_ages, inputs.PAGE_STATE))
districts_callback = guarded(c.card_message)(cached_view(update_districts, inputs.PAGE_STATE))


def register(app: dash.Dash) -> None:
    headline = {"title": Output(ids.TITLE, "children"), "headline": Output(ids.HEADLINE, "children")}
    app.callback(output=headline, inputs=[Input(STATE, "data")])(headline_callback)
    app.callback(output=c.card_outputs(ids.TREND), inputs=[Input(STATE, "data")])(trend_callback)
    app.callback(output=c.card_outputs(ids.AGES), inputs=[Input(STATE, "data")])(ages_callback)
    app.callback(output=c.card_outputs(ids.DISTRICTS), inputs=[Input(STATE, "data")])(districts_callback)
