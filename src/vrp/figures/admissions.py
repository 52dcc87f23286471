"""Financial-year trend figures for the outcome pages (admissions, and reused by homicide and national): points
at the middle of each April-March year, labelled 2021/22, with the chosen period shaded. No queries."""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.graph_objects as go

from vrp.figures.outcomes import LEGEND_ON_TOP, line_chart, rate_intervals
from vrp.figures.theme import DARK_GREY, FONT_SIZE, GREY
from vrp.periods import fy_label, fy_mid


def month_start(label: str) -> date:
    return date(int(label[:4]), int(label[5:7]), 1)


def month_after(label: str) -> date:
    y, m = int(label[:4]), int(label[5:7])
    return date(y + m // 12, m % 12 + 1, 1)


def shade_period(fig: go.Figure, start: str, end: str, text: str = "Chosen period") -> go.Figure:
    """A light band over the chosen months (``YYYY-MM`` to ``YYYY-MM`` inclusive), labelled in words as well."""
    x0, x1 = month_start(start).isoformat(), month_after(end).isoformat()
    # A layout shape, not fig.add_vrect, which does the same at several times the cost.
    fig.add_shape(
        type="rect",
        xref="x",
        yref="paper",
        x0=x0,
        x1=x1,
        y0=0,
        y1=1,
        fillcolor=GREY,
        opacity=0.35,
        layer="below",
        line_width=0,
    )
    fig.add_annotation(
        x=x0,
        y=1,
        yref="paper",
        text=text,
        showarrow=False,
        xanchor="left",
        yanchor="top",
        font={"size": FONT_SIZE - 4, "color": DARK_GREY},
    )
    return fig


def legend_on_top(fig: go.Figure) -> go.Figure:
    """The legend above the plot: below it, it would collide with the source line that card_content writes in."""
    fig.update_layout(legend=LEGEND_ON_TOP, margin={"t": 50})
    return fig


def bars_readable(fig: go.Figure) -> go.Figure:
    """Bar labels drawn outside the bar are not cut off at the end of the axis."""
    fig.update_traces(cliponaxis=False)
    fig.update_layout(margin={"r": 50})
    return fig


def yearly_lines(
    frame: pd.DataFrame,
    series: dict[str, str],
    y_title: str,
    *,
    fy_col: str = "fy",
    period: tuple[str, str] | None = None,
    breaks: list | None = None,
    height: int = 380,
) -> go.Figure:
    """One line per column of ``series`` across financial years; missing values (hidden or part years) leave gaps."""
    shown = frame.assign(_x=frame[fy_col].map(lambda fy: fy_mid(fy).isoformat())).sort_values("_x")
    ticks = shown[["_x", fy_col]]
    if breaks:
        from vrp.figures.national import gap_at_break

        shown = gap_at_break(shown, "_x")  # no line joins the two sides of a series break
    # A series with nothing to draw says so in the legend, rather than showing a key to no line.
    series = {c: name if shown[c].notna().any() else f"{name}: hidden (small numbers)" for c, name in series.items()}
    fig = line_chart(shown, "_x", series, y_title, breaks=breaks, height=height)
    fig.update_traces(
        connectgaps=False,
        hovertemplate="%{text}: %{y:,.1f}<extra>%{fullData.name}</extra>",
        text=[fy_label(fy) if isinstance(fy, str) else "" for fy in shown[fy_col]],
    )
    # No axis title: the labels say 2021/22, and the legend and source line need the room below the axis.
    # At most three or so labels, counted back from the latest, so they stay level and legible: four "2021/22"
    # labels touched on a phone's card.
    step = -(-len(ticks) // 3) if len(ticks) > 3 else 1
    ticks = ticks.iloc[::-1].iloc[::step].iloc[::-1]
    fig.update_xaxes(tickvals=list(ticks["_x"]), ticktext=[fy_label(fy) for fy in ticks[fy_col]], tickangle=0)
    legend_on_top(fig)
    if period:
        shade_period(fig, *period)
    return fig


#: Names longer than this put their verdict on a second line ("Basingstoke and Deane:" over "similar").
LABEL_LINE = 14


def intervals_labelled(
    frame: pd.DataFrame, label_col: str, benchmark: float, unit: str, name: str, words: dict[str, str]
) -> go.Figure:
    """figures.outcomes.rate_intervals with each row's verdict written into its label ("Kent: lower") instead of
    a legend, which would collide with the source line under the chart; never colour alone either way."""
    labelled = frame.assign(
        **{
            label_col: [
                # A long name takes two lines: on a phone one line left the plot a sliver, its labels clipped.
                f"{lab}:{'<br>' if len(lab) > LABEL_LINE else ' '}{words.get(v, v)}"
                for lab, v in zip(frame[label_col], frame["compared_with_hips"], strict=True)
            ]
        }
    )
    fig = rate_intervals(labelled, label_col, benchmark, unit, benchmark_name=name)
    fig.update_layout(showlegend=False, margin={"t": 40})  # room for the benchmark label above the plot
    return fig
