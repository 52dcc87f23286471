"""Figures of the district profile that the other pages do not draw: each headline measure against a benchmark as
a ratio (one axis for rates per 100,000 and per million alike), rates by deprivation decile, and the chosen
district marked on the shared funnel plot. DataFrame in, go.Figure out, no queries."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from vrp.figures.outcomes import _layout, vertical_line
from vrp.figures.theme import DARK_BLUE, DARK_GREY, DARK_PINK, FONT_SIZE, GREY, ORANGE, TURQUOISE, wrap

VERDICT_STYLE = {
    # verdict -> (colour, marker): shape as well as colour, never colour alone.
    "better": (TURQUOISE, "triangle-down"),
    "worse": (ORANGE, "triangle-up"),
    "similar": (DARK_BLUE, "circle"),
    "higher": (DARK_BLUE, "triangle-up"),
    "lower": (DARK_BLUE, "triangle-down"),
    "not compared": (GREY, "x"),
}
FLOOR = 0.1  # the ratio chart's left edge: a lower limit of 0 (no events) is drawn to it
VERDICT_WORDS = {"better": "lower", "worse": "higher", "similar": "similar", "higher": "higher", "lower": "lower"}


def ratio_chart(frame: pd.DataFrame, reference: str) -> go.Figure:
    """Each row's ratio to its reference (1 = the same) with a 95% interval, one row a measure, its verdict in its
    label. ``frame``: label, ratio, lower, upper, verdict; rows without a ratio are left out (the table says why)."""
    shown = frame.dropna(subset=["ratio"]).reset_index(drop=True)
    labels = [
        "<br>".join(textwrap.wrap(f"{r.label} ({VERDICT_WORDS.get(r.verdict, r.verdict)})", 22))
        for r in shown.itertuples()
    ]
    fig = go.Figure()
    for verdict, (colour, symbol) in VERDICT_STYLE.items():
        rows = (shown["verdict"] == verdict).to_numpy()
        if not rows.any():
            continue
        part = shown[rows]
        fig.add_trace(
            go.Scatter(
                x=part["ratio"],
                y=np.array(labels, dtype=object)[rows],
                mode="markers",
                name=f"{VERDICT_WORDS.get(verdict, verdict).capitalize()} than {reference}"
                if verdict not in ("similar", "not compared")
                else f"{verdict.capitalize()} to {reference}",
                marker={"color": colour, "symbol": symbol, "size": 12, "line": {"width": 1, "color": DARK_GREY}},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": part["upper"] - part["ratio"],
                    # A zero lower limit has no place on a log axis: drawn to the axis's left edge.
                    "arrayminus": part["ratio"] - part["lower"].clip(lower=FLOOR),
                    "color": DARK_GREY,
                    "thickness": 1.5,
                },
                hovertemplate="%{y}: %{x:.2f} times " + reference + "<extra></extra>",
            )
        )
    vertical_line(fig, 1, {"color": DARK_PINK, "dash": "dash"})
    # The line needs no label of its own: the axis is titled "Multiple of ..." and its tick at 1 marks it (a
    # label beside it ran off a phone's narrow plot, and into the modebar on a desktop).
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1], automargin=True)
    # A log axis: half and double sit equally far from 1, and one wide interval does not squash the others.
    top = float(np.nanmax(shown["upper"].to_numpy(dtype=float))) if len(shown) else 2.0
    low = float(np.nanmin(shown["lower"].clip(lower=FLOOR).to_numpy(dtype=float))) if len(shown) else 0.5
    ticks = [t for t in (0.1, 0.25, 0.5, 1, 2, 4, 10, 25, 50) if min(low, 0.5) / 1.2 <= t <= max(top, 2) * 1.2]
    fig.update_xaxes(
        type="log",
        range=[np.log10(min(low, 0.5) / 1.2), np.log10(max(top, 2.0) * 1.2)],
        tickvals=ticks,
        ticktext=[f"{t:g}" for t in ticks],
    )
    # Each row names its verdict, and shape and colour repeat it: no legend to crowd the chart.
    return _layout(fig, 150 + 56 * len(labels), None, wrap(f"Multiple of {reference}", 16)).update_layout(
        showlegend=False
    )


def decile_chart(deciles: pd.DataFrame, unit: str) -> go.Figure:
    """Rates by IMD decile (1 = most deprived) with 95% intervals; a decile with hidden LSOAs is a lower bound,
    drawn in grey and marked "at least" (its hover and the table say so too)."""
    frame = deciles.dropna(subset=["rate"])
    labels = [str(int(d)) for d in frame["imd_decile"]]
    complete = frame["complete"].to_numpy(dtype=bool)
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=frame["rate"],
            marker_color=[DARK_BLUE if c else GREY for c in complete],
            marker_pattern_shape=["" if c else "/" for c in complete],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": np.where(complete, frame["upper"] - frame["rate"], 0),
                "arrayminus": np.where(complete, frame["rate"] - frame["lower"], 0),
                "color": DARK_GREY,
            },
            text=[f"{r:,.1f}" if c else f"≥{r:,.1f}" for r, c in zip(frame["rate"], complete, strict=True)],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="Decile %{x}: %{text} " + unit + "<extra></extra>",
            showlegend=False,
        )
    )
    fig.update_xaxes(type="category")
    fig.update_layout(font_size=FONT_SIZE - 2)
    top = float(np.nanmax(frame["upper"].where(complete, frame["rate"]).to_numpy(dtype=float))) if len(frame) else 1
    fig.update_yaxes(range=[0, top * 1.15 or 1])
    return _layout(fig, 380, unit, wrap("IMD 2019 decile of the LSOA (1 = most deprived 10% in England)", 32))


def mark_areas(fig: go.Figure, frame: pd.DataFrame, label_col: str, chosen: set[str]) -> go.Figure:
    """The chosen districts on a funnel plot (figures.outcomes.funnel_plot), named and drawn larger, in pink."""
    rows = frame[frame[label_col].isin(chosen)].dropna(subset=["rate"])
    if rows.empty:
        return fig
    # funnel_plot already names the districts outside the outer limits: name the others only, once each.
    named = rows["funnel"].astype(str).str.startswith(("above 99.8", "below 99.8")) if "funnel" in rows else False
    fig.add_trace(
        go.Scatter(
            x=rows["population"],
            y=rows["rate"],
            mode="markers+text",
            text=rows[label_col].where(~named, ""),
            customdata=rows[label_col],
            textposition="bottom center",
            textfont={"size": FONT_SIZE - 2, "color": DARK_PINK},
            marker={"color": DARK_PINK, "size": 15, "symbol": "diamond", "line": {"width": 1.5, "color": DARK_GREY}},
            name="This profile",
            hovertemplate="%{customdata}: %{y:,.1f}, population %{x:,.0f}<extra></extra>",
        )
    )
    return fig
