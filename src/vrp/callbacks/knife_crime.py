"""Knife crime page callbacks: filter state -> data_access -> stats -> figures, each chart with its title,
summary, table, footnote and definition."""

from __future__ import annotations

import dash
import numpy as np
import plotly.graph_objects as go
from dash import Input, Output, html, no_update

from vrp.callbacks import cached_view, guarded, inputs
from vrp.callbacks.knife_trend import RATE_METHOD, TREND_CARDS, KnifePage, failure, trend_callback, update_trend
from vrp.dashboards import components as c
from vrp.dashboards import knife_crime as ids
from vrp.dashboards.filters import STATE
from vrp.data_access import outcomes
from vrp.data_access.published_counts import OFFENCES_PARTNER_ONLY
from vrp.figures import admissions as fy_figs
from vrp.figures import outcomes as figs
from vrp.figures.theme import partner_only
from vrp.stats import funnel_limits

# Each callback's cards: the name of its output group -> the card's prefix on the page.
BREAKDOWN_CARDS = {"offences": ids.OFFENCES, "ages": ids.AGES}
DISTRICT_CARDS = {"districts": ids.DISTRICTS, "funnel": ids.FUNNEL}


def _unpack(p: KnifePage):
    return p.state, p.wh, p.measure, p.place, p.period, p.note, p.args, p.age_words


def _partner_only_card(p: KnifePage, title: str, message: str) -> dict:
    """A card the public release cannot fill: it says why, as a normal state of the page."""
    figure = go.Figure(partner_only(160))
    return c.card_content(
        title, message, figure, html.P(message), p.note, c.about(p.measure, RATE_METHOD, "small-number-suppression")
    )


def _public_ages(p: KnifePage) -> dict:
    """Under 25 against 25 and over, from the published under-25 and all-ages cells of the period."""
    state, wh = p.state, p.wh
    groups = outcomes.age_groups(wh, ids.MEASURE_ID, state.districts, state.start, state.end)
    bands, young, total = groups["bands"], groups["under_25"], groups["total"]
    title = (
        f"Under-25s were the victims in {young / total:.0%} of offences, {p.period}"
        if young is not None and total
        else "Victims under 25 and 25 and over"
    )
    summary = (
        f"Victims under 25 against all ages, {p.place}, {p.period}"
        + (f": {young:,} of {total:,}." if young is not None and total is not None else " (a count is hidden).")
        + " "
        + groups["partner_only"]
    )
    return c.card_content(
        title,
        summary,
        figs.bars(bands, "label", "count", "Offences", emphasise={"Under 25"}),
        c.table(bands, {"label": "Victim age", "count": "Offences", "share": "Share"}, numeric=("count",)),
        p.note,
        c.about(p.measure, RATE_METHOD, "small-number-suppression"),
    )


def update_breakdowns(state_data):
    """Offence groups and victim ages (in public: partner-only offences, and under 25 against all ages)."""
    if not state_data:
        return no_update
    p = KnifePage(state_data)
    if p.public:
        offences = _partner_only_card(p, f"Offence groups in {p.place}: shown to partners only", OFFENCES_PARTNER_ONLY)
        return {"offences": offences, "ages": _public_ages(p)}
    state, wh, measure, place, period, note, args, age_words = _unpack(p)

    # Breakdowns by offence group and by victim age (under-25s emphasised).
    offences = outcomes.breakdown(wh, *args[:1], "offence_subgroup", *args[1:])
    top = offences.dropna(subset=["count"]).head(1)
    off_title = (
        f"{top['label'].iloc[0]} is the largest group ({top['share'].iloc[0]:.0%})" if len(top) else "Offence groups"
    )
    off_card = c.card_content(
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
    age_card = c.card_content(
        age_title,
        "Victim age bands; under-25s are highlighted in pink (and named in the table).",
        figs.bars(ages, "label", "count", "Offences", emphasise={"Under 18", "18 to 24"}),
        c.table(ages, {"label": "Victim age", "count": "Offences", "share": "Share"}, numeric=("count",)),
        note,
        c.about(measure, RATE_METHOD, "small-number-suppression"),
    )

    return {"offences": off_card, "ages": age_card}


def update_districts(state_data):
    """The districts against HIPS: rates with intervals and the funnel plot. A district whose count is hidden is
    named as hidden and not plotted."""
    if not state_data:
        return no_update
    state, wh, measure, place, period, note, args, age_words = _unpack(KnifePage(state_data))

    # District comparison: rates with intervals against HIPS, and the funnel plot.
    table = outcomes.district_rates(wh, ids.MEASURE_ID, state.start, state.end, state.age)
    d = table[~table["suppressed"].astype(bool)].reset_index(drop=True)
    hidden = table.loc[table["suppressed"].astype(bool), "district_name"].tolist()
    # A count is hidden when small, or when it would let a small one be worked out: not necessarily small itself.
    hidden_words = (f" Hidden to protect small numbers, so not plotted: {', '.join(hidden)}." if hidden else "") + (
        f" {table.attrs['note']}" if table.attrs.get("note") else ""
    )
    hips = float(table["hips_rate"].iloc[0])
    worse = d[d["compared_with_hips"] == "worse"]["district_name"].tolist()
    better = d[d["compared_with_hips"] == "better"]["district_name"].tolist()
    dist_title = (
        f"{len(worse)} district{'s' if len(worse) != 1 else ''} above the HIPS rate, {len(better)} below"
        if len(worse) or len(better)
        else "Every district shown is similar to HIPS"
    )
    dist_summary = (
        f"HIPS: {hips:.1f} per 100,000 a year, {period}. Higher than HIPS: {', '.join(worse) or 'none'}. "
        f"Lower: {', '.join(better) or 'none'}." + hidden_words
    )
    dist_table = c.table(
        table,
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
    dist_card = c.card_content(
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
    pops = np.linspace(max(table["population"].min() * 0.8, 1), table["population"].max() * 1.1, 60)
    # Limits for each population's exposure over the period (rates are annual), drawn against population.
    limits = funnel_limits(hips, pops * float(table["years"].iloc[0]), per=measure.per).assign(population=pops)
    outside = d[d["funnel"].str.contains("99.8")]["district_name"].tolist()
    fun_title = (
        f"{', '.join(outside)} {'lie' if len(outside) > 1 else 'lies'} outside the 99.8% limits"
        if outside
        else "No district lies outside the 99.8% limits"
    )
    fun_card = c.card_content(
        fun_title,
        "A funnel plot allows for district size: small districts vary more by chance, so their limits are wider."
        + hidden_words,
        figs.funnel_plot(d, limits, "district_name", "per 100,000 a year"),
        c.table(
            table,
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
    return {"districts": dist_card, "funnel": fun_card}


def update(state_data):
    """The whole page in one call (the tests compare it with SQL)."""
    if not state_data:
        return no_update
    return {**update_trend(state_data), **update_breakdowns(state_data), **update_districts(state_data)}


# Three callbacks, so the page's parts are computed side by side and each appears when it is ready.
breakdowns_callback = guarded(failure(BREAKDOWN_CARDS))(cached_view(update_breakdowns, inputs.PAGE_STATE))
districts_callback = guarded(failure(DISTRICT_CARDS))(cached_view(update_districts, inputs.PAGE_STATE))
knife_callback = guarded(failure(TREND_CARDS | BREAKDOWN_CARDS | DISTRICT_CARDS, headline=True))(update)


def _card_outputs(cards: dict) -> dict:
    return {name: c.card_outputs(prefix) for name, prefix in cards.items()}


def register(app: dash.Dash) -> None:
    headline = {"title": Output(ids.TITLE, "children"), "change": Output(ids.CHANGE, "children")}
    state = [Input(STATE, "data")]
    app.callback(output=headline | _card_outputs(TREND_CARDS), inputs=state)(trend_callback)
    app.callback(output=_card_outputs(BREAKDOWN_CARDS), inputs=state)(breakdowns_callback)
    app.callback(output=_card_outputs(DISTRICT_CARDS), inputs=state)(districts_callback)


__all__ = ["register", "update", "knife_callback"]
