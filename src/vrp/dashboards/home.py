"""Overview (home): every measure in the registry with its latest figures."""

from __future__ import annotations

import logging

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from vrp.dashboards.briefing import pack_controls
from vrp.dashboards.components import export_controls, keep_data, stacked_table

log = logging.getLogger(__name__)
TABLE_ID = "latest-figures"
UNIT_LABEL = {"rate_per_100k": "per 100,000 a year", "rate_per_million": "per million a year", "count": ""}


def _fmt_count(value, hidden: bool, incomplete: bool = False) -> str:
    if value is None or pd.isna(value):
        return "* (hidden: small number)" if hidden else "no data"
    # Some cells were withheld by the supplier (NHS rule): the true figure is higher.
    return f"at least {int(value):,}" if incomplete else f"{int(value):,}"


def _change(current, previous, lower_bound: bool = False) -> str:
    if current is None or previous is None or pd.isna(current) or pd.isna(previous) or not previous:
        return "not available"
    if lower_bound:  # a change between lower bounds is not known (data_access.outcomes.comparable)
        return "not compared (lower bounds)"
    pct = (current - previous) / previous * 100
    word = "higher" if pct > 0 else "lower"
    return "no change" if round(pct) == 0 else f"{abs(pct):.0f}% {word}"


def figures_table(frame: pd.DataFrame, synthetic: set[str], table_id: str) -> html.Div:
    """One row a measure; on a phone each row stacks (components.stacked_table): seven columns ran off a 390 px
    screen, the change and the rate out of sight."""
    rows = []
    for _, r in frame.iterrows():
        unit = UNIT_LABEL.get(r["unit"], "")
        rate = "" if pd.isna(r["rate"]) else f"{r['rate']:,.1f} {unit}"
        data = "Synthetic" if r["source"] in synthetic else "Real"
        badge = dbc.Badge(
            data,
            color="warning" if data == "Synthetic" else "secondary",
            text_color="dark" if data == "Synthetic" else None,
        )
        rows.append(
            [
                r["label"],
                r["period"],
                (_fmt_count(r["count"], bool(r["hidden"]), bool(r["incomplete"])), "vrp-figure text-end"),
                (
                    _fmt_count(r["previous"], bool(r["previous_hidden"]), bool(r["previous_incomplete"])),
                    "vrp-figure text-end",
                ),
                _change(r["count"], r["previous"], bool(r["incomplete"] or r["previous_incomplete"])),
                (rate, "vrp-figure text-end"),
                badge,
            ]
        )
    columns = ["Measure", "Period", "Count", "Previous period", "Change", "Rate", "Data"]
    return html.Div(stacked_table(columns, rows, table_id, "table-hover"), className="mt-2")


FIGURES = "home-figures"


def figures_for(wh, districts=()) -> html.Div:
    frame = wh.latest_figures(districts)
    synthetic = wh.synthetic_sources()
    headline = frame[frame["headline"]]
    other = frame[~frame["headline"]]
    shown = html.Div(
        [
            html.H2("Headline measures", className="h4 mt-4"),
            figures_table(headline, synthetic, TABLE_ID),
            html.H2("Other measures", className="h4 mt-4"),
            figures_table(other, synthetic, TABLE_ID + "-other"),
            export_controls(FIGURES, image=False),
        ]
    )
    # Both tables' values for the CSV download, in the order shown (a hidden count is missing, not "*").
    rows = pd.concat([headline, other], ignore_index=True)
    rows = rows.assign(
        unit=rows["unit"].map(lambda u: UNIT_LABEL.get(u, "")),
        incomplete=rows["incomplete"].astype(bool),
        previous_incomplete=rows["previous_incomplete"].astype(bool),
        data=rows["source"].map(lambda s: "Synthetic" if s in synthetic else "Real"),
    )
    return keep_data(shown, rows, EXPORT_COLUMNS)


EXPORT_COLUMNS = {
    "measure_id": "measure_id",
    "label": "Measure",
    "period": "Period",
    "count": "Count",
    "incomplete": "Count is a lower bound",
    "previous": "Previous period",
    "previous_incomplete": "Previous is a lower bound",
    "rate": "Rate",
    "unit": "Rate unit",
    "data": "Data",
}


HEADING = "home-heading"
PROFILE_LINK = "home-profile-link"  # to the district profile (callbacks/profile.py)
HEADLINES = ("knife_enabled_sv", "serious_violence", "sharp_object_admissions", "homicide_u25_non_domestic")
ONS_SLOT = "tile-slot-ons_knife_crime"


def tile_slot(measure_id: str) -> str:
    return f"tile-slot-{measure_id}"


def layout() -> html.Div:
    # One slot per tile, each filled by its own callback: the tiles are computed side by side and each appears
    # when it is ready.
    slots = [tile_slot(m) for m in HEADLINES] + [ONS_SLOT]
    return html.Div(
        [
            html.H1("Serious violence: latest figures", className="h2 mt-3"),
            html.P(
                "The partnership's headline measures, then every other measure in the registry, for the districts "
                "chosen above. Each row compares the latest 12 months (4 quarters for the national series; for a "
                "source with less loaded, what there is) with the 12 months before. Counts of small numbers are "
                "hidden where publishing them could identify someone. "
                "“At least” marks a count the supplier had already withheld small numbers from (NHS "
                "data): its true value is higher, so it is not compared with another period."
            ),
            html.P(id=PROFILE_LINK, className="mb-2"),
            pack_controls("home"),
            html.H2("Headline measures", id=HEADING, className="h4 mt-3"),
            dbc.Row(
                [dbc.Col(html.Div(id=slot, className="h-100"), md=6, xl=3, className="mb-3") for slot in slots],
                className="g-3",
            ),
            html.P(
                "Tiles compare the latest 12 months with the 12 before and with the baseline year, as counts and rates "
                "with 95% confidence intervals (exact test for the change); the badge is the NHS Making Data Count "
                "variation icon for the latest month, against XmR limits fixed on a 24-month baseline (as on the"
                " Knife crime page): a different question from the change, so the two can differ.",
                className="small text-muted",
            ),
            html.Div(id=FIGURES),
        ]
    )
