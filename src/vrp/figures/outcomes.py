"""Figures shared by the outcome pages: SPC (XmR) charts, funnel plots, rates with intervals, breakdown bars.
DataFrame in, go.Figure out, no queries. Colours from the Analysis Function palette, never colour alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from vrp.figures.theme import DARK_BLUE, DARK_GREY, DARK_PINK, FONT_SIZE, GREY, ORANGE, TURQUOISE, wrap

POINT_STYLE = {
    # point_type from stats.xmr -> (colour, marker symbol, legend name): shape as well as colour.
    "common_cause": (GREY, "circle", "Common cause variation"),
    "special_cause_improvement": (TURQUOISE, "triangle-down", "Special cause: improving"),
    "special_cause_concern": (ORANGE, "triangle-up", "Special cause: concerning"),
    "special_cause_neutral_high": (DARK_BLUE, "triangle-up", "Special cause: higher"),
    "special_cause_neutral_low": (DARK_BLUE, "triangle-down", "Special cause: lower"),
}


#: A legend in the top margin, placed from the top of the figure. Placed from the plot (y 1.02 of the plot, anchored
#: at its bottom), a chart drawn first on a narrow card, its legend three rows tall, kept the legend's old bottom
#: when the card widened: one row then sat inside the plot, over the lines (plotly.js 4.1 on a resize).
LEGEND_ON_TOP = {"orientation": "h", "yref": "container", "y": 1, "yanchor": "top", "x": 0}


def _layout(fig: go.Figure, height: int, y_title: str, x_title: str | None = None) -> go.Figure:
    fig.update_layout(
        height=height,
        font_size=FONT_SIZE - 1,
        # A title wrapped over lines takes a line's height more each, or it runs into the source note below.
        margin={"l": 70, "r": 20, "t": 40, "b": 60 + 18 * (x_title or "").count("<br>")},
        # Legends above the plot: the source line written into the figure sits below it.
        legend=LEGEND_ON_TOP,
        yaxis={"title": y_title, "rangemode": "tozero"},
        xaxis={"title": x_title} if x_title else {},
    )
    return fig


def vertical_line(fig: go.Figure, x, line: dict) -> go.Figure:
    """A full-height line at ``x``, as a layout shape (fig.add_vline does the same at several times the cost)."""
    fig.add_shape(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1, line=line)
    return fig


#: The y axis's top, as a multiple of the highest line, when the chosen period's label sits along the plot's top.
HEADROOM = 1.22

#: The period chosen, shaded behind the context months (and named, never colour alone).
CHOSEN_FILL = "rgba(18, 67, 109, 0.09)"


def month_axis(fig: go.Figure) -> go.Figure:
    """Months as "Jan" over "2026", level: tick labels that plotly would otherwise tilt on a narrow card grew
    into the source note written under the axis (stats.stamp puts it below the bottom margin)."""
    fig.update_xaxes(tickformat="%b<br>%Y", tickangle=0, nticks=6, automargin=False, ticklabelstandoff=4)
    fig.update_layout(margin={"b": 72})  # two lines of labels, and a gap above the note
    return fig


def highlight_period(fig: go.Figure, first, last, label: str = "Period chosen") -> go.Figure:
    """Shade the months ``first`` to ``last`` (dates of month starts) behind the series, with a label."""
    x0 = pd.Timestamp(first) - pd.Timedelta(days=15)
    x1 = pd.Timestamp(last) + pd.Timedelta(days=15)
    fig.add_shape(
        type="rect", xref="x", yref="paper", x0=x0, x1=x1, y0=0, y1=1, fillcolor=CHOSEN_FILL, line_width=0,
        layer="below", name="chosen",
    )  # fmt: skip
    fig.add_annotation(
        x=x0, y=1, xref="x", yref="paper", text=label, showarrow=False, xanchor="left", yanchor="top",
        font={"size": FONT_SIZE - 4, "color": DARK_BLUE}, bgcolor="rgba(255, 255, 255, 0.85)",
    )  # fmt: skip
    return fig


def spc_chart(chart: pd.DataFrame, x, y_title: str, *, suppressed=None, chosen=None, changes=()) -> go.Figure:
    """An XmR chart (NHS Making Data Count): the series, mean, process limits and each signal's points.

    ``chosen``: the first and last month of the period chosen, shaded when the chart also shows months around
    it. ``changes``: (month, label) of each recalculation of the limits, drawn as a labelled line; the mean and
    limits step there (drawn as steps, so a recalculation is a step, not a slope)."""
    x = list(x)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x,
            y=chart["value"],
            mode="lines",
            line={"color": DARK_GREY, "width": 1.5},
            name="Monthly value",
            hovertemplate="%{x|%b %Y}: %{y:,}<extra></extra>",
        )
    )
    # One legend entry for both limits (same line, clicked together): a row less of legend over a phone's plot.
    for col, name, dash in (
        ("mean", "Mean", "solid"),
        ("ucl", "Process limits", "dash"),
        ("lcl", "Lower process limit", "dash"),
    ):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=chart[col],
                mode="lines",
                name=name,
                hoverinfo="skip",
                line={"color": DARK_BLUE if col == "mean" else DARK_PINK, "dash": dash, "width": 1.5, "shape": "hv"},
                legendgroup=col if col == "mean" else "limits",
                showlegend=col != "lcl",
            )
        )
    for kind, (colour, symbol, name) in POINT_STYLE.items():
        rows = (chart["point_type"] == kind).to_numpy()
        if rows.any():
            fig.add_trace(
                go.Scatter(
                    x=np.array(x, dtype=object)[rows],
                    y=chart.loc[rows, "value"],
                    mode="markers",
                    name=name,
                    marker={"color": colour, "symbol": symbol, "size": 9, "line": {"width": 1, "color": DARK_GREY}},
                    hovertemplate="%{x|%b %Y}: %{y:,} (" + name.lower() + ")<extra></extra>",
                )
            )
    if suppressed is not None and np.asarray(suppressed).any():
        hidden = np.asarray(suppressed, dtype=bool)
        fig.add_trace(
            go.Scatter(
                x=np.array(x, dtype=object)[hidden],
                y=[0] * int(hidden.sum()),
                mode="markers",
                name="Hidden (small number)",
                marker={"symbol": "x", "color": DARK_GREY},
            )
        )
    if chosen is not None and x and (chosen[0] > min(x) or chosen[1] < max(x)):
        highlight_period(fig, *chosen)
        # Room above the upper limit and the highest month for the label, which otherwise sat on the limit's line.
        top = np.nanmax(np.r_[chart["value"].to_numpy(dtype=float), chart["ucl"].to_numpy(dtype=float), 1.0])
        fig.update_yaxes(range=[0, top * HEADROOM])
    for month, label in changes:
        vertical_line(fig, month, {"color": DARK_GREY, "dash": "dot"})
        fig.add_annotation(
            x=month, y=0, xref="x", yref="paper", text=label, showarrow=False, xanchor="left", yanchor="bottom",
            font={"size": FONT_SIZE - 4},
        )  # fmt: skip
    return month_axis(_layout(fig, 380, y_title))


def line_chart(
    frame: pd.DataFrame, x: str, series: dict[str, str], y_title: str, breaks: list | None = None, height: int = 360
) -> go.Figure:
    """Lines for one or more columns; ``breaks`` marks series breaks with a labelled vertical line."""
    colours = [DARK_BLUE, ORANGE, TURQUOISE, DARK_PINK, DARK_GREY]
    symbols = ["circle", "square", "diamond", "triangle-up", "x"]
    fig = go.Figure()
    for i, (col, name) in enumerate(series.items()):
        fig.add_trace(
            go.Scatter(
                x=frame[x],
                y=frame[col],
                mode="lines+markers",
                name=name,
                line={"color": colours[i % 5], "width": 2.5},
                marker={"symbol": symbols[i % 5], "size": 6},
            )
        )
    for b in breaks or []:
        vertical_line(fig, b["x"], {"color": DARK_GREY, "dash": "dot"})
        fig.add_annotation(
            x=b["x"],
            y=1,
            yref="paper",
            text=b["label"],
            showarrow=False,
            xanchor="left",
            yanchor="top",
            font={"size": FONT_SIZE - 4},
        )
    return _layout(fig, height, y_title)


def rate_intervals(
    frame: pd.DataFrame, label_col: str, benchmark: float, unit: str, benchmark_name: str = "HIPS"
) -> go.Figure:
    """Horizontal rates with 95% intervals against a benchmark, marked by comparison (shape and colour)."""
    styles = {
        "better": (TURQUOISE, "triangle-down"),
        "worse": (ORANGE, "triangle-up"),
        "similar": (DARK_BLUE, "circle"),
        "higher": (DARK_BLUE, "triangle-up"),
        "lower": (DARK_BLUE, "triangle-down"),
        "not compared": (GREY, "x"),
    }
    fig = go.Figure()
    shown = frame.dropna(subset=["rate"])
    for verdict, (colour, symbol) in styles.items():
        rows = shown[shown["compared_with_hips"] == verdict]
        if rows.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=rows["rate"],
                y=rows[label_col],
                mode="markers",
                name=f"{verdict.capitalize()} compared with {benchmark_name}",
                marker={"color": colour, "symbol": symbol, "size": 11},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": rows["upper"] - rows["rate"],
                    "arrayminus": rows["rate"] - rows["lower"],
                    "color": DARK_GREY,
                    "thickness": 1.5,
                },
                hovertemplate="%{y}: %{x:,.1f} " + unit + "<extra></extra>",
            )
        )
    vertical_line(fig, benchmark, {"color": DARK_PINK, "dash": "dash"})
    # Beside the line, towards the middle of the axis: centred on a line near the right edge it ran off the chart.
    right_half = benchmark > shown["upper"].max() / 2 if len(shown) else False
    fig.add_annotation(
        x=benchmark,
        y=1,
        yref="paper",
        text=f"{benchmark_name} {benchmark:,.1f}",
        showarrow=False,
        yanchor="bottom",
        xanchor="right" if right_half else "left",
    )
    labels = list(shown[label_col])  # hidden rates are not drawn, so they take no row (the table lists them)
    # Every area labelled, in table order (a categorical axis otherwise skips labels when crowded).
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1], tickmode="array", tickvals=labels)
    # The unit over two lines: the plot beside long names is narrow on a phone, and a centred title ran off it.
    # A label over two lines takes its row's height and more: at 30 px a row, two-line names ran into each other.
    rows_height = sum(30 + 16 * str(label).count("<br>") for label in labels)
    return _layout(fig, 140 + rows_height, None, wrap(unit, 12))


def label_points(fig: go.Figure, x: pd.Series, y: pd.Series, labels: pd.Series, x_range: tuple) -> go.Figure:
    """Name points by labels joined to their dot by a short line: neighbours in turn above and below, pushed
    inwards near the ends of the axis. Labels printed beside the dots sat on other dots, or nearer another dot than
    their own (two big districts side by side), so a reader could not tell which was which. ``x_range``: the
    lowest and highest x of every point drawn."""
    if labels.empty:
        return fig
    low, high = float(x_range[0]), float(x_range[1])
    span = (high - low) or 1.0
    for turn, i in enumerate(x.sort_values().index):
        side = -36 if x[i] > high - 0.2 * span else 36 if x[i] < low + 0.2 * span else 0
        fig.add_annotation(
            x=x[i], y=y[i], xref="x", yref="y", text=str(labels[i]), showarrow=True, arrowhead=0, arrowwidth=1,
            arrowcolor=DARK_GREY, ax=side, ay=-30 if turn % 2 == 0 else 30, standoff=5,
            font={"size": FONT_SIZE - 4}, bgcolor="rgba(255, 255, 255, 0.85)", name="point label",
        )  # fmt: skip
    return fig


def funnel_plot(frame: pd.DataFrame, limits: pd.DataFrame, label_col: str, unit: str) -> go.Figure:
    """Rates against population with 95% and 99.8% limits around the benchmark."""
    fig = go.Figure()
    for level, dash in (("95", "dash"), ("99_8", "dot")):
        name = "95%" if level == "95" else "99.8%"
        for side in ("lower", "upper"):
            fig.add_trace(
                go.Scatter(
                    x=limits["population"],
                    y=limits[f"{side}_{level}"],
                    mode="lines",
                    line={"color": DARK_GREY, "dash": dash, "width": 1.2},
                    name=f"{name} limits",
                    showlegend=side == "upper",
                    hoverinfo="skip",
                )
            )
    fig.add_trace(
        go.Scatter(
            x=limits["population"],
            y=limits["benchmark"],
            mode="lines",
            name="HIPS rate",
            line={"color": DARK_PINK, "width": 1.5},
            hoverinfo="skip",
        )
    )
    shown = frame.dropna(subset=["rate"])
    # Only the areas outside the 99.8% limits are named on the chart (fourteen names in the middle of the funnel
    # overprint each other); hover and the table name every one.
    outside = shown["funnel"].astype(str).str.startswith(("above 99.8", "below 99.8")) if "funnel" in shown else True
    fig.add_trace(
        go.Scatter(
            x=shown["population"],
            y=shown["rate"],
            mode="markers",
            customdata=shown[label_col],
            marker={"color": DARK_BLUE, "size": 9},
            name="Districts",
            hovertemplate="%{customdata}: %{y:,.1f} " + unit + ", population %{x:,.0f}<extra></extra>",
        )
    )
    named = shown[outside] if isinstance(outside, pd.Series) else shown
    x_range = (shown["population"].min(), shown["population"].max()) if len(shown) else (0, 1)
    label_points(fig, named["population"], named["rate"], named[label_col], x_range)
    fig.update_xaxes(title="Population")
    return _layout(fig, 420, unit, "Population")


#: Bar labels longer than this wrap ("Southampton 023E, around Pirelli Street" takes two lines).
BAR_LABEL = 24


def _bar_label(label) -> str:
    """A long label over two lines, broken after its comma where it has one ("Southampton 023E," over "around
    Pirelli Street")."""
    text = str(label)
    if len(text) <= BAR_LABEL:
        return text
    head, comma, tail = text.partition(", ")
    return f"{head},<br>{tail}" if comma and max(len(head), len(tail)) <= BAR_LABEL + 4 else wrap(text, BAR_LABEL)


def bars(frame: pd.DataFrame, label_col: str, value_col: str, title: str, emphasise: set | None = None) -> go.Figure:
    """Horizontal bars; ``emphasise`` labels are drawn in the accent colour (and named in the table)."""
    emphasise = emphasise or set()
    colours = [DARK_PINK if lab in emphasise else DARK_BLUE for lab in frame[label_col]]
    # Long names over two lines: on a phone one line left the bars no room and cut the names off at the left.
    frame = frame.assign(**{label_col: frame[label_col].map(_bar_label)})
    row = 52 if frame[label_col].str.contains("<br>").any() else 40
    fig = go.Figure(
        go.Bar(
            x=frame[value_col].astype(float),
            y=frame[label_col],
            orientation="h",
            marker_color=colours,
            text=frame[value_col].map(lambda v: "*" if pd.isna(v) else f"{v:,}"),
            textposition="outside",
            cliponaxis=False,  # labels outside the longest bar stay visible
            hovertemplate="%{y}: %{x:,}<extra></extra>",
            showlegend=False,
        )
    )
    hidden = frame[frame[value_col].isna()]
    if len(hidden):  # a hidden count has no bar, so its "*" is written at the start of the row instead
        fig.add_trace(
            go.Scatter(
                x=[0] * len(hidden),
                y=hidden[label_col],
                mode="text",
                text=["*"] * len(hidden),
                textposition="middle right",
                showlegend=False,
                hovertemplate="%{y}: hidden to protect privacy<extra></extra>",
            )
        )
    top = float(frame[value_col].astype(float).max()) if frame[value_col].notna().any() else 1.0
    fig.update_xaxes(range=[0, top * 1.15 or 1])
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, 80 + row * len(frame), None, title)
