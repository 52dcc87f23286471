"""Overview tiles: one per headline measure, built from data_access results (no queries here)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from vrp.figures.theme import DARK_BLUE, ORANGE, TURQUOISE

ICONS = {
    # variation icon -> (symbol, words, colour): a symbol and words as well as a colour.
    "common_cause": ("●", "Within normal variation", "secondary"),
    "improving_low": ("▼", "Improving: special-cause fall", "success"),
    "improving_high": ("▲", "Improving: special-cause rise", "success"),
    "concerning_high": ("▲", "Concerning: special-cause rise", "danger"),
    "concerning_low": ("▼", "Concerning: special-cause fall", "danger"),
    "neither_high": ("▲", "Unusually high", "info"),
    "neither_low": ("▼", "Unusually low", "info"),
}
UNIT_WORDS = {"rate_per_100k": "per 100,000", "rate_per_million": "per million"}
#: Why two periods are not compared when a count holds cells the supplier hid (data_access.outcomes.comparable).
LOWER_BOUNDS = "the counts are lower bounds (the supplier hid small numbers)"


def lower_bound(*periods: dict | None) -> bool:
    """Whether any of the periods' counts is a lower bound (it holds cells the supplier hid)."""
    return any(bool((p or {}).get("incomplete")) for p in periods)


def sparkline(series: pd.DataFrame, colour: str = DARK_BLUE) -> dict:
    """A bare line (no axes, no template) as a plain figure dict: four per Overview, and building them through
    go.Figure cost more than the queries behind them."""
    return {
        "data": [
            {
                "type": "scatter",
                "x": [f"{m:%Y-%m-%d}" for m in series["month"]],
                "y": [None if pd.isna(v) else float(v) for v in series["count"]],  # hidden months: gaps
                "mode": "lines",
                "line": {"color": colour, "width": 2},
                "hovertemplate": "%{x|%b %Y}: %{y}<extra></extra>",
            }
        ],
        "layout": {
            "height": 70,
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "showlegend": False,
            "xaxis": {"visible": False},
            "yaxis": {"visible": False, "rangemode": "tozero"},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


def change_words(change, noun: str) -> str:
    if change is None or change.percent is None:
        return ""
    pct = abs(change.percent)
    if round(pct) == 0:
        return "about the same as"
    return f"{pct:.0f}% {'fewer' if change.absolute < 0 else 'more'} {noun} than"


def sentence(label: str, cur: dict, yoy, variation: str | None, end_label: str, previous: dict | None = None) -> str:
    """The tile's finding in one plain sentence, e.g. "936 offences in the 12 months to September 2026, 7% fewer
    than the year before; within normal variation". ``previous``: the year before's figures, to say why a change
    is not given."""
    if cur is None:
        return f"{label}: no data for the latest 12 months."
    if cur["count"] is None:
        return f"{label}: hidden in the 12 months to {end_label} (a small number, or one that would reveal one)."
    count = f"{'at least ' if cur.get('incomplete') else ''}{cur['count']:,}"
    text = f"{count} in the 12 months to {end_label}"
    words = change_words(yoy, "")
    if words:
        text += f", {words.replace('  ', ' ').strip()} the year before"
        text += " (a statistically significant change)" if yoy.significant else " (not a significant change)"
    elif yoy is None and previous and previous.get("count") is not None and lower_bound(cur, previous):
        text += f"; not compared with the year before: {LOWER_BOUNDS}"
    if variation:
        text += f"; {ICONS.get(variation, ('', variation, ''))[1].lower()}"
    return text + "."


def tile(
    tile_id: str,
    label: str,
    unit: str,
    comp: dict,
    series: pd.DataFrame | None,
    variation: str | None,
    benchmark: str | None,
    synthetic: bool,
) -> dbc.Card:
    cur = comp.get("current")
    end_label = pd.Timestamp(cur["end"] + "-01").strftime("%B %Y") if cur else ""
    unit_words = UNIT_WORDS.get(unit, "")
    big = "*" if cur and cur["count"] is None else (f"{cur['count']:,}" if cur else "–")
    at_least = (
        html.Span("at least ", className="fs-6 fw-normal") if lower_bound(cur) and cur["count"] is not None else None
    )
    rate = (
        f"{cur['rate']:.1f} {unit_words} (95% CI {cur['lower']:.1f} to {cur['upper']:.1f})"
        if cur and cur["rate"] is not None
        else ""
    )
    symbol, words, colour = ICONS.get(variation, ("", "", "light"))
    base = comp.get("against_baseline")
    base_text = (
        f"Against {comp['baseline_fy']}: {change_words(base, '').replace('  ', ' ').strip()} then"
        f"{' (significant)' if base.significant else ' (not significant)'}."
        if base is not None and base.percent is not None
        else ""
    )
    baseline = comp.get("baseline")
    if base is None and baseline and baseline.get("count") is not None and lower_bound(cur, baseline):
        base_text = f"Against {comp['baseline_fy']}: not compared, {LOWER_BOUNDS}."
    return dbc.Card(
        dbc.CardBody(
            [
                html.H3(label, className="h6 text-uppercase text-muted mb-1"),
                html.P([at_least, big], className="display-6 fw-bold mb-0 vrp-figure"),
                html.P(rate, className="mb-1 small"),
                # The sparkline is decoration: the sentence below says what it shows.
                html.Div(
                    dcc.Graph(
                        figure=sparkline(
                            series,
                            TURQUOISE
                            if variation and "improving" in variation
                            else ORANGE
                            if variation and "concerning" in variation
                            else DARK_BLUE,
                        ),
                        config={"staticPlot": True},
                        style={"height": "70px"},
                    ),
                    **{"aria-hidden": "true"},
                )
                if series is not None and len(series) and series["count"].notna().any()
                else html.P(
                    "Monthly counts are small and hidden, so no monthly trend is shown.",
                    className="small text-muted mb-1",
                )
                if series is not None and len(series)
                else None,
                dbc.Badge(f"{symbol} {words}", color=colour, className="mb-2") if variation else None,
                html.P(
                    sentence(label, cur, comp.get("year_on_year"), variation, end_label, comp.get("previous")),
                    className="mb-1",
                ),
                html.P(base_text, className="small mb-1") if base_text else None,
                html.P(benchmark, className="small mb-1") if benchmark else None,
                dbc.Badge("Synthetic data", color="warning", text_color="dark") if synthetic else None,
            ]
        ),
        id=tile_id,
        className="h-100 shadow-sm",
    )
