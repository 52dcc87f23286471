"""The Hotspots page's LSOA panel: one LSOA's headline, trend and offence mix, from data_access.places.lsoa_profile.

A chart whose every value is hidden would be a row of "*": the panel says so in a sentence instead (issue 14,
point 8), and draws the chart only when at least one value is shown.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import dcc, html

from vrp.figures import hotspots as figs

COMPARISON_TEXT = {
    "worse": "higher than",
    "better": "lower than",
    "similar": "similar to",
    "higher": "higher than",
    "lower": "lower than",
    "not compared": "not compared with",
}
HIDDEN_WHY = "small numbers, or numbers that would reveal one, are hidden to protect privacy"


def lsoa_headline(p: dict, district_name: str) -> str:
    """The LSOA's count and rate for the period against its district's; in public, the published year's cells."""
    when = f"in {p['period']}" if p.get("period") else "in the period"
    if p["count"] is None:
        return (
            f"{when[:1].upper()}{when[1:]}: a small number, or one that would reveal one (hidden to protect privacy)."
        )
    text = f"{p['count']:,} {when}: {p['rate']:.1f} per 1,000 residents (95% CI {p['lower']:.1f} to {p['upper']:.1f}), "
    if np.isnan(p["district_rate"]):
        return text + f"not compared with {district_name}, whose count is hidden to protect privacy."
    return text + f"{COMPARISON_TEXT.get(p['comparison'], p['comparison'])} {district_name} ({p['district_rate']:.1f})."


def all_hidden(counts: pd.Series) -> bool:
    """Whether there are values and every one of them is hidden: a chart of them would show only "*"."""
    return len(counts) > 0 and bool(counts.isna().all())


def trend_block(series: pd.DataFrame) -> html.Div | dcc.Graph:
    """The trend chart, or a sentence where every period of it is hidden."""
    if all_hidden(series["count"]):
        periods = "published financial year" if "label" in series else "month"
        return html.P(
            f"Every {periods} of this LSOA's counts is hidden ({HIDDEN_WHY}), so no trend is drawn.",
            className="small",
        )
    return dcc.Graph(figure=figs.lsoa_trend_figure(series), config={"displayModeBar": False})


def mix_block(p: dict) -> html.Ul | html.P:
    """The offence mix as a list, or a sentence where it is not shown or every group of it is hidden."""
    mix = p["mix"]
    if not len(mix):
        return html.P(p.get("mix_note") or "No offence breakdown for this source.")
    if all_hidden(mix["count"]):
        groups = ", ".join(str(g).lower() for g in mix["group"])
        return html.P(f"The count of every offence group ({groups}) is hidden ({HIDDEN_WHY}).", className="small")
    return html.Ul(
        [html.Li(f"{r.group}: {'*' if pd.isna(r.count) else int(r.count)}") for r in mix.itertuples()],
        className="mb-0",
    )


def lsoa_panel(p: dict, district_name: str, place: str | None = None) -> dbc.Card:
    """``place``: the LSOA's name for people (data_access.places.place_names), e.g. "Southampton 023E, around
    Pirelli Street"; the LSOA name when None."""
    street = place.partition(", around ")[2] if place else ""
    return dbc.Card(
        dbc.CardBody(
            [
                html.H3(f"{p['lsoa21_name']}", className="h5"),
                html.P(
                    f"{p['lsoa21_code']}, {district_name}"
                    + (f", around {street} (the street police.uk records most crimes near)" if street else "")
                    + f". Deprivation: IMD 2019 decile {p['imd_decile']} (1 = most deprived 10% of England)."
                ),
                html.P(lsoa_headline(p, district_name), className="fw-bold"),
                html.P(p["note"], className="small text-muted") if p.get("note") else None,
                html.H4(p.get("trend_title", "Monthly trend"), className="h6"),
                trend_block(p["series"]),
                html.H4("Offence mix", className="h6"),
                mix_block(p),
            ]
        ),
        className="shadow-sm",
    )
