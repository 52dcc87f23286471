"""Charts of the /evaluate page: the interrupted time series (observed months, the fitted line, the counterfactual
with its band, the start and the phase-in) and the power curve of a planned evaluation. DataFrame in, figure out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from vrp.figures.outcomes import month_axis, vertical_line
from vrp.figures.theme import DARK_BLUE, DARK_GREY, DARK_PINK, FONT_SIZE, ORANGE, TURQUOISE

BAND = "rgba(128, 22, 80, 0.15)"  # the counterfactual's colour (dark pink), light
PHASE_FILL = "rgba(61, 61, 61, 0.08)"


def its_chart(series: pd.DataFrame, start, phase_in: int, y_title: str, comparison_name: str | None = None):
    """``series``: month (YYYY-MM or dates), observed, phase, fitted, counterfactual, cf_lower, cf_upper and,
    with a comparison area, comparison. Lines differ by dash and marker as well as colour (never colour alone)."""
    x = pd.to_datetime(series["month"])
    after = (series["phase"] != "before").to_numpy()
    fig = go.Figure()
    band_x = list(x[after]) + list(x[after][::-1])
    band_y = list(series.loc[after, "cf_upper"]) + list(series.loc[after, "cf_lower"][::-1])
    fig.add_trace(
        go.Scatter(
            x=band_x, y=band_y, fill="toself", fillcolor=BAND, line={"width": 0}, hoverinfo="skip",
            name="95% interval",
        )
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=x[after], y=series.loc[after, "counterfactual"], mode="lines",
            line={"color": DARK_PINK, "dash": "dash", "width": 2},
            name="Expected, no intervention", hovertemplate="%{x|%b %Y}: %{y:,.1f} expected<extra></extra>",
        )
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=x, y=series["fitted"], mode="lines", line={"color": TURQUOISE, "width": 2.5},
            name="Model fit", hovertemplate="%{x|%b %Y}: %{y:,.1f} fitted<extra></extra>",
        )
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=x, y=series["observed"], mode="markers+lines",
            line={"color": DARK_BLUE, "width": 1}, marker={"size": 6, "color": DARK_BLUE},
            name="Recorded", hovertemplate="%{x|%b %Y}: %{y:,} recorded<extra></extra>",
        )
    )  # fmt: skip
    if comparison_name and "comparison" in series:
        fig.add_trace(
            go.Scatter(
                x=x, y=series["comparison"], mode="lines", line={"color": ORANGE, "width": 1.5, "dash": "dot"},
                name=f"{comparison_name} (right axis)", yaxis="y2",
                hovertemplate="%{x|%b %Y}: %{y:,} in the comparison area<extra></extra>",
            )
        )  # fmt: skip
        # Its own axis: a comparison area many times larger would otherwise flatten the area evaluated.
        fig.update_layout(
            yaxis2={"overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False,
                    "title": {"text": f"{comparison_name} a month"}, "tickformat": ",.0f"},
        )  # fmt: skip
    t0 = pd.Timestamp(start)
    vertical_line(fig, t0 - pd.Timedelta(days=15), {"color": DARK_GREY, "width": 2})
    fig.add_annotation(
        x=t0, y=1, xref="x", yref="paper", text="Start", showarrow=False, xanchor="left", yanchor="top",
        font={"size": FONT_SIZE - 4, "color": DARK_GREY}, bgcolor="rgba(255, 255, 255, 0.85)",
    )  # fmt: skip
    if phase_in:
        end = t0 + pd.DateOffset(months=phase_in)
        fig.add_shape(
            type="rect", xref="x", yref="paper", x0=t0 - pd.Timedelta(days=15), x1=end - pd.Timedelta(days=15),
            y0=0, y1=1, fillcolor=PHASE_FILL, line_width=0, layer="below",
        )  # fmt: skip
        fig.add_annotation(
            x=t0, y=0.92, xref="x", yref="paper", text="Phase-in (not fitted)", showarrow=False, xanchor="left",
            font={"size": FONT_SIZE - 4, "color": DARK_GREY}, bgcolor="rgba(255, 255, 255, 0.85)",
        )  # fmt: skip
    fig.update_layout(
        height=420, hovermode="x unified", legend={"orientation": "h", "y": -0.22, "x": 0},
        margin={"l": 60, "r": 60 if comparison_name else 10, "t": 10},
    )  # fmt: skip
    fig.update_layout(yaxis={"title": {"text": y_title}, "rangemode": "tozero"})  # the left axis only
    month_axis(fig)
    fig.update_layout(
        margin={"b": 150}, legend={"font": {"size": 13}}
    )  # the legend under the months, 3 rows on a phone
    return fig


def power_chart(curve: pd.DataFrame, power: float, mde: float | None):
    """Simulated power against the size of the drop, with the power aimed at and the smallest drop reaching it."""
    fig = go.Figure(
        go.Scatter(
            x=curve["drop"] * 100, y=curve["power"] * 100, mode="lines+markers",
            line={"color": DARK_BLUE, "width": 2}, marker={"size": 6}, name="Simulated power",
            hovertemplate="a %{x:.0f}% drop: detected in %{y:.0f}% of simulations<extra></extra>",
        )
    )  # fmt: skip
    fig.add_shape(
        type="line", xref="paper", x0=0, x1=1, y0=power * 100, y1=power * 100,
        line={"color": DARK_PINK, "dash": "dash"},
    )  # fmt: skip
    fig.add_annotation(
        xref="paper", x=0.01, y=power * 100, text=f"{power:.0%} power", showarrow=False, yanchor="bottom",
        xanchor="left", font={"size": FONT_SIZE - 4, "color": DARK_PINK},
    )  # fmt: skip
    if mde is not None:
        vertical_line(fig, mde * 100, {"color": DARK_GREY, "dash": "dot"})
    fig.update_layout(height=320, showlegend=False, margin={"l": 60, "r": 10, "t": 10, "b": 60})
    fig.update_xaxes(title_text="Drop in level (%)", range=[0, 82])
    fig.update_yaxes(title_text="Power (%)", range=[0, 102])
    return fig
