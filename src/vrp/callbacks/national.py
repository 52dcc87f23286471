"""National comparison callbacks: the ONS force-level knife crime series for Hampshire against England and Wales
and its most similar forces, by financial year, with the April 2019 series break marked wherever it is crossed."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import Input, Output, html, no_update

from vrp.callbacks import cached_view, failure_outputs, guarded, inputs, polite
from vrp.callbacks.text import where
from vrp.dashboards import components as c
from vrp.dashboards import national as ids
from vrp.dashboards.filters import STATE
from vrp.data_access.context import warehouse
from vrp.data_access.counts import FORCE_NAME
from vrp.data_access.filter_state import read_state
from vrp.data_access.validation import AGE_GROUPS, InvalidQuery
from vrp.figures import admissions as fy_figs
from vrp.figures import outcomes as figs
from vrp.figures.national import breaks_for, gap_at_break
from vrp.periods import fy_label, fy_mid, fy_start
from vrp.stats import compare, rate_ci

# An approximation of the Home Office "most similar group" for Hampshire (the official group is recalculated from
# time to time and is not in the data); names as the ONS file spells them.
MOST_SIMILAR = ("Avon and Somerset", "Devon and Cornwall", "Essex", "Kent", "Staffordshire", "Sussex", "Thames Valley")
EW, MSG = "England and Wales", "Most similar forces (combined)"
METHOD = (
    "Rates per 100,000 residents a year: the year's four quarters over the fixed population in the source file. "
    "95% confidence intervals by Byar's method (exact Poisson below 10). A force is similar to England and Wales "
    "when the England and Wales rate lies inside its interval. England and Wales is the sum of the 42 forces in "
    "the file; the City of London force is not in it. Most similar forces: a fixed list approximating the Home "
    f"Office most similar group for Hampshire ({', '.join(MOST_SIMILAR)}), combined as one rate. Counts before "
    "and after April 2019 are not like for like: forces then moved to computer-assisted knife flagging (NDQIS)."
)
PROVENANCE = (
    " England and Wales: the 42 forces in the file (City of London is not in it). The file is a secondary copy of "
    "the ONS series."
)
COMPARED = {"better": "below", "worse": "above", "similar": "similar to"}


def national_scope(wh, state) -> tuple[pd.DataFrame, list[str]]:
    """The quarters of the financial years that overlap the chosen period (all years when none do), and notes."""
    age = state.age
    f = wh.check(ids.MEASURE_ID, state.districts, state.start, state.end)  # refuses unknown districts and months
    notes = []
    if f.districts:
        notes.append(
            f"The district filter ({where(wh, f.districts)}) does not apply here: the national series covers the "
            "whole force area."
        )
    if age == "u25":
        notes.append("The national series has no victim ages: all ages are shown.")
    elif age not in AGE_GROUPS:
        raise InvalidQuery(f"age must be one of {', '.join(AGE_GROUPS)}, not {str(age)[:20]!r}")
    quarters = wh.force_quarterly(ids.MEASURE_ID)
    if quarters.empty:
        raise InvalidQuery("The national knife crime series is not loaded yet.")
    years = sorted(quarters["financial_year"].unique())
    chosen = [
        fy
        for fy in years
        if (f.end is None or fy_start(fy) <= f.end)
        and (f.start is None or fy_start(fy).replace(year=fy_start(fy).year + 1) > f.start)
    ]
    if not chosen:
        notes.append(
            f"The national series covers {fy_label(years[0])} to {fy_label(years[-1])}; the chosen "
            "period is outside it, so every year is shown."
        )
        chosen = years
    return quarters[quarters["financial_year"].isin(chosen)].reset_index(drop=True), notes


def annual_rates(quarters: pd.DataFrame) -> pd.DataFrame:
    """fy, group (Hampshire, England and Wales, most similar), count, population, whole (all four quarters), rate."""
    per_force = (
        quarters.groupby(["financial_year", "force_name"])
        .agg(count=("count", "sum"), population=("population", "first"), quarters=("count", "size"))
        .reset_index()
    )
    groups = {
        FORCE_NAME: per_force[per_force["force_name"] == FORCE_NAME],
        EW: per_force,
        MSG: per_force[per_force["force_name"].isin(MOST_SIMILAR)],
    }
    rows = []
    for name, part in groups.items():
        agg = part.groupby("financial_year").agg(
            count=("count", "sum"), population=("population", "sum"), quarters=("quarters", "min")
        )
        rows.append(agg.reset_index().assign(group=name))
    out = pd.concat(rows, ignore_index=True).rename(columns={"financial_year": "fy"})
    out["whole"] = out["quarters"] == 4
    out["rate"] = np.where(out["whole"], out["count"] / out["population"] * 100_000, np.nan)
    return out


def _footnote(wh, measure, years: list[str]) -> list:
    period = fy_label(years[0]) + ("" if len(years) == 1 else f" to {fy_label(years[-1])}")
    return [*c.footnote(measure, period, measure.source in wh.synthetic_sources()), PROVENANCE]


def update(state_data):
    if not state_data:
        return no_update
    wh = warehouse()
    measure = wh.registry.get(ids.MEASURE_ID)
    quarters, notes = national_scope(wh, read_state(state_data))
    annual = annual_rates(quarters)
    years = sorted(annual["fy"].unique())
    note = dbc.Alert([html.P(n, className="mb-0") for n in notes], color="info", className="my-2") if notes else None
    return {
        "note": note,
        "trend": trend_card(wh, measure, annual, years),
        "forces": forces_card(wh, measure, quarters, annual),
        "quarters": quarters_card(wh, measure, quarters, years),
    }


def trend_card(wh, measure, annual: pd.DataFrame, years: list[str]) -> dict:
    wide = annual.pivot(index="fy", columns="group", values="rate").reset_index()
    counts = annual.pivot(index="fy", columns="group", values="count").reset_index()
    breaks = breaks_for([fy_mid(fy) for fy in years])
    fig = fy_figs.yearly_lines(
        wide, {FORCE_NAME: "Hampshire", EW: EW, MSG: MSG}, "Offences per 100,000 a year", breaks=breaks
    )
    shown = wide.dropna(subset=[FORCE_NAME])
    if len(shown) >= 2:
        a, b = shown.iloc[0], shown.iloc[-1]
        verb = (
            "rose"
            if round(b[FORCE_NAME]) > round(a[FORCE_NAME])
            else "fell"
            if round(b[FORCE_NAME]) < round(a[FORCE_NAME])
            else "stayed at"
        )
        n = int(counts.set_index("fy").loc[b["fy"], FORCE_NAME])
        pop = float(annual[(annual["group"] == FORCE_NAME) & (annual["fy"] == b["fy"])]["population"].iloc[0])
        _, lo, hi = rate_ci(n, pop, per=100_000)
        versus = COMPARED[str(compare(lo, hi, b[EW], measure.polarity))]
        change_words = (
            f"{verb} from {a[FORCE_NAME]:.0f} to {b[FORCE_NAME]:.0f}"
            if verb != "stayed at"
            else f"stayed at {b[FORCE_NAME]:.0f}"
        )
        title = (
            f"Hampshire's knife crime rate {change_words} per 100,000 between {fy_label(a['fy'])} and "
            f"{fy_label(b['fy'])}, {versus} England and Wales ({b[EW]:.0f})"
        )
    elif len(shown) == 1:
        b = shown.iloc[0]
        title = (
            f"Hampshire's knife crime rate was {b[FORCE_NAME]:.0f} per 100,000 in {fy_label(b['fy'])}; "
            f"England and Wales {b[EW]:.0f}"
        )
    else:
        title = "Knife crime rates: no whole financial year in the chosen period"
    summary = (
        "Offences involving a knife or sharp instrument per 100,000 residents each financial year: Hampshire, "
        "England and Wales, and Hampshire's most similar forces combined (an approximation of the Home Office group)."
    )
    if breaks:
        summary += (
            " The dotted line marks April 2019, when forces moved to computer-assisted knife flagging: "
            "years either side are not like for like, so the lines are not joined across it."
        )
    part = annual[~annual["whole"] & (annual["group"] == FORCE_NAME)]["fy"].tolist()
    if part:
        summary += f" Not drawn (fewer than four quarters loaded): {', '.join(fy_label(p) for p in part)}."
    table = c.table(
        wide.assign(year=wide["fy"].map(fy_label), **{k: wide[k].round(1) for k in (FORCE_NAME, EW, MSG)}),
        {"year": "Financial year", FORCE_NAME: "Hampshire", EW: EW, MSG: "Most similar forces"},
        numeric=(FORCE_NAME, EW, MSG),
    )
    return c.card_content(
        title,
        summary,
        fig,
        table,
        _footnote(wh, measure, years),
        c.about(measure, METHOD, "comparison-with-a-benchmark"),
    )


def forces_card(wh, measure, quarters: pd.DataFrame, annual: pd.DataFrame) -> dict:
    whole = annual[(annual["group"] == EW) & annual["whole"]]
    if whole.empty:
        return c.card_message("No whole financial year of the national series in the chosen period.")
    fy = whole["fy"].max()
    ew = float(whole[whole["fy"] == fy]["rate"].iloc[0])
    forces = (
        quarters[(quarters["financial_year"] == fy) & quarters["force_name"].isin((FORCE_NAME, *MOST_SIMILAR))]
        .groupby("force_name")
        .agg(count=("count", "sum"), population=("population", "first"))
        .reset_index()
    )
    forces["rate"], forces["lower"], forces["upper"] = rate_ci(
        forces["count"].to_numpy(), forces["population"].to_numpy(), per=100_000
    )
    forces["compared_with_hips"] = compare(forces["lower"].to_numpy(), forces["upper"].to_numpy(), ew, measure.polarity)
    forces = forces.sort_values("rate", ascending=False).reset_index(drop=True)
    forces["label"] = forces["force_name"].map(lambda n: f"{n} (HIPS)" if n == FORCE_NAME else n)
    forces["verdict"] = forces["compared_with_hips"].map(lambda v: f"{COMPARED.get(v, v)} England and Wales")
    rank = int(forces.index[forces["force_name"] == FORCE_NAME][0]) + 1
    hants = forces[forces["force_name"] == FORCE_NAME].iloc[0]
    ordinal = {1: "highest", 2: "2nd highest", 3: "3rd highest"}.get(rank, f"{rank}th highest")
    title = (
        f"In {fy_label(fy)} Hampshire's rate ({hants['rate']:.0f} per 100,000) was "
        f"{COMPARED[hants['compared_with_hips']]} England and Wales ({ew:.0f}), the {ordinal} of the {len(forces)} "
        "forces in its similar-force group"
    )
    above = forces[forces["compared_with_hips"] == "worse"]["force_name"].tolist()
    summary = (
        f"Rates with 95% confidence intervals, {fy_label(fy)}, against England and Wales "
        f"({ew:.1f} per 100,000). Above England and Wales: {', '.join(above) or 'none'}."
    )
    table = c.table(
        forces.assign(count=forces["count"].astype(int), **{k: forces[k].round(1) for k in ("rate", "lower", "upper")}),
        {
            "label": "Force",
            "count": "Offences",
            "rate": "Rate per 100,000",
            "lower": "Lower 95% CI",
            "upper": "Upper 95% CI",
            "verdict": "Compared with England and Wales",
        },
        numeric=("count", "rate", "lower", "upper"),
    )
    words = {"worse": "above", "better": "below", "similar": "similar"}
    fig = fy_figs.intervals_labelled(forces, "label", ew, "per 100,000", EW, words)
    return c.card_content(
        title,
        summary,
        fig,
        table,
        _footnote(wh, measure, [fy]),
        c.about(measure, METHOD, "comparison-with-a-benchmark"),
    )


def quarters_card(wh, measure, quarters: pd.DataFrame, years: list[str]) -> dict:
    h = quarters[quarters["force_name"] == FORCE_NAME].sort_values("quarter_start").reset_index(drop=True)
    if h.empty:
        return c.card_message("Hampshire is not in the national series loaded.")
    h["x"] = h["quarter_start"].map(lambda d: d.isoformat())
    h["quarter"] = [f"Q{q} {fy_label(fy)}" for q, fy in zip(h["fy_quarter"], h["financial_year"], strict=True)]
    breaks = breaks_for(h["quarter_start"])
    fig = figs.line_chart(
        gap_at_break(h[["x", "count"]], "x"), "x", {"count": "Hampshire"}, "Offences a quarter", breaks=breaks
    )
    fig.update_traces(connectgaps=False, hovertemplate="Quarter from %{x|%b %Y}: %{y:,}<extra></extra>")
    fy_figs.legend_on_top(fig)
    last = h.iloc[-1]
    year_before = h[h["quarter_start"] == last["quarter_start"].replace(year=last["quarter_start"].year - 1)]
    title = f"Hampshire recorded {int(last['count']):,} knife or sharp instrument offences in {last['quarter']}"
    if len(year_before):
        title += f", against {int(year_before['count'].iloc[0]):,} a year earlier"
    summary = "Offences each quarter (Q1 is April to June), before any rate is worked out."
    if breaks:
        summary += " The dotted line marks the April 2019 series break."
    table = c.table(h, {"quarter": "Quarter", "count": "Offences"}, numeric=("count",))
    return c.card_content(
        title,
        summary,
        fig,
        table,
        _footnote(wh, measure, years),
        c.about(measure, METHOD, "rates-and-confidence-intervals"),
    )


CARDS = {"trend": ids.TREND, "forces": ids.FORCES, "quarters": ids.QUARTERS}  # output group -> card prefix
national_callback = guarded(failure_outputs(note=polite, **dict.fromkeys(CARDS, c.card_message)))(
    cached_view(update, inputs.PAGE_STATE)
)


def register(app: dash.Dash) -> None:
    outputs = {"note": Output(ids.NOTE, "children")} | {name: c.card_outputs(prefix) for name, prefix in CARDS.items()}
    app.callback(output=outputs, inputs=[Input(STATE, "data")])(national_callback)
