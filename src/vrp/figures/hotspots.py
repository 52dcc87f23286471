"""Figures for the Hotspots page: DataFrame in, figure out, no queries. Those drawn on every cold view (the map,
the charts below it) are plain figure dicts; the LSOA panel's chart is a go.Figure."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from vrp.figures.theme import (
    DARK_BLUE,
    DARK_GREY,
    DARK_PINK,
    FONT_SIZE,
    GREY,
    HOTSPOT_COLOURS,
    figure,
    sequential_scale,
)
from vrp.periods import WEEKDAYS

MODES = {"count": "Count", "rate": "Rate per 1,000 residents", "hotspot": "Hotspot (Getis-Ord Gi*)"}
HOTSPOT_ORDER = ["hot 99%", "hot 95%", "not significant", "cold 95%", "cold 99%"]
HIDDEN_CLASS = "hidden"  # published_places.HIDDEN_CLASS: a public LSOA whose count is hidden, so never tested
HIDDEN_NAME = "Hidden to protect privacy"
LSOA_GEOJSON = "/geo/lsoa21.geojson"
LSOA_OVERVIEW_GEOJSON = "/geo/lsoa21-overview.geojson"  # simplified further, for views of most of HIPS
OVERVIEW_BELOW_ZOOM = 9.5  # all of HIPS is about 8.4, one district 10 to 11.5
DISTRICT_GEOJSON = "/geo/districts.geojson"
HIPS_BOUNDS = (-1.96, 50.57, -0.73, 51.39)
# A colour bar from the bottom of the plot to 80% of its height: the modebar (about 30 px) covers the top right.
CLEAR_OF_MODEBAR = {"len": 0.8, "lenmode": "fraction", "y": 0, "yanchor": "bottom"}


def view(bounds: tuple[float, float, float, float], width_px: int = 800, height_px: int = 560) -> dict:
    """Centre and zoom that fit ``bounds`` (lon/lat) in a map of about this size (web-mercator tiles of 512 px)."""
    min_lon, min_lat, max_lon, max_lat = bounds
    lon_span = max(max_lon - min_lon, 1e-4)
    y = [math.log(math.tan(math.pi / 4 + math.radians(v) / 2)) for v in (min_lat, max_lat)]
    lat_span = max(y[1] - y[0], 1e-6)
    zoom_x = math.log2(360 / lon_span * width_px / 512)
    zoom_y = math.log2(2 * math.pi / lat_span * height_px / 512)
    return {
        "center": {"lon": (min_lon + max_lon) / 2, "lat": (min_lat + max_lat) / 2},
        "zoom": round(max(min(zoom_x, zoom_y) - 0.15, 5), 2),
    }


def _hover(frame: pd.DataFrame) -> np.ndarray:
    """The values for the hover box, kept short: a filter change resends them for every LSOA."""
    count = frame["count"].map(lambda v: "* (hidden)" if pd.isna(v) else f"{int(v)}")
    rate = frame["rate"].map(lambda v: "*" if pd.isna(v) else f"{v:.1f}")
    rank = frame["rank"].map(lambda v: "*" if pd.isna(v) else f"{int(v)}")
    return np.stack([count, rate, rank, frame["hotspot"]], axis=-1)


HOVER = (
    "<b>%{text}</b> (%{location})<br>Count: %{customdata[0]}<br>Rate per 1,000 residents: %{customdata[1]}<br>"
    "Rank in selection: %{customdata[2]}<br>Gi*: %{customdata[3]}<extra></extra>"
)


def lsoa_geojson(bounds: tuple[float, float, float, float]) -> str:
    """The boundary layer for a view: the lighter one when the map shows most of HIPS at once."""
    return LSOA_OVERVIEW_GEOJSON if view(bounds)["zoom"] < OVERVIEW_BELOW_ZOOM else LSOA_GEOJSON


def value_traces(frame: pd.DataFrame, mode: str, geojson: str = LSOA_GEOJSON) -> list[dict]:
    """The coloured LSOAs: one trace of values (count or rate) plus grey for hidden counts, or one trace per
    hotspot class. Geometry comes from the URL; the trace carries ids and values only. Plain trace dicts: the map
    is drawn on every cold view and filter change, where go.Choroplethmap's validation was a large share of it."""
    custom = _hover(frame)
    # LSOA names begin with their district's name ("Southampton 023E"), so the name alone says both.
    names = frame["lsoa21_name"].to_numpy()
    codes = frame["lsoa21_code"].to_numpy()

    def trace(rows: np.ndarray, z: list, **style) -> dict:
        return {
            "type": "choroplethmap",
            "geojson": geojson,
            "locations": codes[rows].tolist(),
            "z": z,
            "customdata": custom[rows].tolist(),
            "text": names[rows].tolist(),
            "marker": {"opacity": 0.85, "line": {"width": 0.3, "color": "#FFFFFF"}},
            "hovertemplate": HOVER,
            **style,
        }

    def flat(colour: str) -> list[list]:
        return [[0, colour], [1, colour]]

    if mode == "hotspot":
        # The public map tests only published LSOAs: the rest are class "hidden", grey as in the other modes. The
        # grey trace is always there (empty for partners), so a Patch finds the same traces whatever the values.
        return [
            trace(
                rows := (frame["hotspot"] == cls).to_numpy(),
                [1.0] * int(rows.sum()),
                colorscale=flat(HOTSPOT_COLOURS.get(cls, GREY)),
                showscale=False,
                name=HIDDEN_NAME if cls == HIDDEN_CLASS else cls.capitalize(),
                showlegend=True,
            )
            for cls in [*HOTSPOT_ORDER, HIDDEN_CLASS]
        ]
    col = "rate" if mode == "rate" else "count"
    shown = frame[col].notna().to_numpy()
    values = trace(
        shown,
        frame.loc[shown, col].astype(float).tolist(),
        colorscale=sequential_scale(),
        zmin=0,
        name=MODES[mode],
        showlegend=False,
        # Anchored at the bottom and short of the top: the modebar sits over the map's top right corner.
        colorbar={"title": {"text": MODES[mode], "side": "right"}, "thickness": 14, **CLEAR_OF_MODEBAR},
    )
    hidden = trace(
        ~shown,
        [0.0] * int((~shown).sum()),
        colorscale=flat(GREY),
        showscale=False,
        name=HIDDEN_NAME,
        showlegend=True,
    )
    return [values, hidden]


def hotspot_map(
    frame: pd.DataFrame,
    mode: str,
    bounds: tuple[float, float, float, float] = HIPS_BOUNDS,
) -> dict:
    """The map as a figure dict. A map uses none of the chart template (axes, colourway): only its font is set."""
    return {
        "data": value_traces(frame, mode, lsoa_geojson(bounds)),
        "layout": {
            "font": {"family": "Sans-serif", "size": FONT_SIZE},
            "height": 560,
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "uirevision": str(bounds),  # keep the reader's pan and zoom while values change
            "legend": {"orientation": "h", "y": 0.01, "x": 0.01, "bgcolor": "rgba(255,255,255,0.85)"},
            "map": {
                "style": "white-bg",
                **view(bounds),
                "layers": [
                    {
                        "sourcetype": "geojson",
                        "source": DISTRICT_GEOJSON,
                        "type": "line",
                        "color": DARK_GREY,
                        "line": {"width": 1.6},
                    }
                ],
            },
        },
    }


def concentration_figure(conc: dict, label: str) -> dict:
    """The concentration (Lorenz-style) curve, as a figure dict: drawn on every cold Hotspots view."""
    x = [float(v) * 100 for v in conc["area_share"]]
    y = [float(v) * 100 for v in conc["harm_share"]]
    data = [
        {
            "type": "scatter",
            "x": x,
            "y": y,
            "mode": "lines",
            "name": label,
            "line": {"color": DARK_BLUE, "width": 3},
            "hovertemplate": "Top %{x:.0f}% of LSOAs: %{y:.0f}% of the total<extra></extra>",
        },
        {
            "type": "scatter",
            "x": [0, 100],
            "y": [0, 100],
            "mode": "lines",
            "name": "If spread evenly",
            "line": {"color": DARK_GREY, "dash": "dash", "width": 1.5},
            "hoverinfo": "skip",
        },
    ]
    if conc.get("top_5") is not None:
        data.append(
            {
                "type": "scatter",
                "x": [5],
                "y": [conc["top_5"] * 100],
                "mode": "markers+text",
                "showlegend": False,
                "marker": {"color": DARK_PINK, "size": 10},
                "text": [f" {conc['top_5']:.0%}"],
                "textposition": "middle right",
                "hoverinfo": "skip",
            }
        )
    return figure(
        data,
        height=360,
        # Room below for the tick labels and the axis title, above for the modebar (it sat on the curve's end).
        margin={"l": 60, "r": 10, "t": 30, "b": 70},
        font={"size": FONT_SIZE - 2},
        # Inside, below the curve (where the plot is empty): under the axis it met the export note.
        legend={"x": 0.98, "xanchor": "right", "y": 0.04, "yanchor": "bottom", "bgcolor": "rgba(255,255,255,0.9)"},
        xaxis={"title": {"text": "Share of LSOAs, most affected first (%)"}, "range": [0, 100]},
        yaxis={"title": {"text": "Share of the total (%)"}, "range": [0, 100]},
    )


def hour_weekday_figure(grid: pd.DataFrame) -> dict:
    """Day of the week by hour of the day, as a figure dict: drawn on every cold Hotspots view. Hidden (small)
    cells (small numbers, and cells that would reveal them) are grey, as on the map, with "hidden" in their hover
    text, so that they never read as zero."""
    z = grid.pivot(index="weekday", columns="hour", values="count").astype(float).to_numpy()
    hidden = np.isnan(z)
    text = np.where(hidden, "*", np.nan_to_num(z).astype(int).astype(str)).tolist()
    # Each trace answers hover only on its own cells (a heatmap answers on its gaps too, by default).
    common = {"x": [f"{h:02d}" for h in range(24)], "y": list(WEEKDAYS), "xgap": 1, "ygap": 1, "hoverongaps": False}
    counts = {
        "type": "heatmap",
        **common,
        "z": np.where(hidden, None, z).tolist(),
        "colorscale": sequential_scale(),
        "text": text,
        "hovertemplate": "%{y} %{x}:00-%{x}:59<br>%{text}<extra></extra>",
        "colorbar": {"title": {"text": "Offences", "side": "right"}, "thickness": 12, **CLEAR_OF_MODEBAR},
        "name": "Offences",
    }
    data = [counts]
    if hidden.any():
        data.append(
            {
                "type": "heatmap",
                **common,
                "z": np.where(hidden, 0, None).tolist(),
                "colorscale": [[0, GREY], [1, GREY]],
                "showscale": False,
                "hovertemplate": "%{y} %{x}:00-%{x}:59<br>hidden to protect privacy<extra></extra>",
                "name": "Hidden to protect privacy",
            }
        )
    return figure(
        data,
        height=330,
        margin={"l": 100, "r": 10, "t": 10, "b": 70},  # room for the tick labels and the axis title
        hovermode="closest",  # one cell (the template's unified hover would list a whole hour)
        font={"size": FONT_SIZE - 2},
        xaxis={"title": {"text": "Hour of the day (when it happened)"}},
        yaxis={"autorange": "reversed"},
    )


def with_totals(
    fig: dict, grid: pd.DataFrame, days: pd.DataFrame | None = None, hours: pd.DataFrame | None = None
) -> dict:
    """The hour-by-weekday grid (``hour_weekday_figure``) with its totals beside it: by hour in bars above it, by
    day in bars to its right, sharing its axes. ``days`` (weekday, count) and ``hours`` (hour, count) are the totals
    as data_access gives them, NaN where hidden; without them they are summed from the grid, and hidden where any
    cell of the row or column is. A hidden total is marked "*", never drawn as zero."""
    counts = grid["count"].astype(float)
    if days is None:
        days = grid.assign(count=counts).groupby("weekday")["count"].sum(min_count=24).reset_index()
        days.loc[grid.assign(h=counts.isna()).groupby("weekday")["h"].any().to_numpy(), "count"] = np.nan
    if hours is None:
        hours = grid.assign(count=counts).groupby("hour")["count"].sum(min_count=7).reset_index()
        hours.loc[grid.assign(h=counts.isna()).groupby("hour")["h"].any().to_numpy(), "count"] = np.nan
    day_n = days.sort_values("weekday")["count"].astype(float).to_numpy()
    hour_n = hours.sort_values("hour")["count"].astype(float).to_numpy()
    day_labels, hour_labels = list(WEEKDAYS), [f"{h:02d}" for h in range(24)]

    def bars(horizontal: bool, n: np.ndarray, labels: list, axes: dict, hover: str) -> list[dict]:
        values = [None if np.isnan(v) else float(v) for v in n]
        at, size = ("y", "x") if horizontal else ("x", "y")
        drawn = {
            "type": "bar",
            "orientation": "h" if horizontal else "v",
            at: labels,
            size: values,
            "marker": {"color": DARK_BLUE},
            "hovertemplate": hover + "<extra></extra>",
            "showlegend": False,
            **axes,
        }
        hidden = [label for label, v in zip(labels, n, strict=True) if np.isnan(v)]
        if not hidden:
            return [drawn]
        marks = {"type": "scatter", "mode": "text", at: hidden, size: [0] * len(hidden), "text": ["*"] * len(hidden)}
        return [drawn, {**marks, "hoverinfo": "skip", "showlegend": False, "textposition": "middle right", **axes}]

    out = {"data": list(fig["data"]), "layout": dict(fig["layout"])}
    out["data"] += bars(False, hour_n, hour_labels, {"xaxis": "x", "yaxis": "y2"}, "%{x}:00-%{x}:59: %{y:,.0f} in all")
    out["data"] += bars(True, day_n, day_labels, {"xaxis": "x2", "yaxis": "y"}, "%{y}: %{x:,.0f} in all")
    layout = out["layout"]
    small = {"size": FONT_SIZE - 4}
    layout["xaxis"] = {**layout.get("xaxis", {}), "domain": [0, 0.8]}
    layout["yaxis"] = {**layout.get("yaxis", {}), "domain": [0, 0.72]}
    layout["yaxis2"] = {
        "domain": [0.78, 1],
        "anchor": "x",
        "rangemode": "tozero",
        "tickfont": small,
        "title": {"text": "All days", "font": small},
    }
    layout["xaxis2"] = {
        "domain": [0.84, 1],
        "anchor": "y",
        "rangemode": "tozero",
        "tickfont": small,
        "title": {"text": "All hours", "font": small},
        "nticks": 3,
    }
    layout["height"] = layout.get("height", 330) + 110
    layout["margin"] = {**layout.get("margin", {}), "r": 80}  # the colour bar, right of the day totals
    for trace in out["data"]:
        if trace.get("type") == "heatmap" and "colorbar" in trace:
            trace["colorbar"] = {**trace["colorbar"], "len": 0.72, "x": 1.02}
    return out


def lsoa_trend_figure(series: pd.DataFrame) -> go.Figure:
    """Bars of an LSOA's months (partners) or, with a ``label`` column, its published financial years (public);
    hidden ones are marked "*"."""
    by_label = "label" in series
    x = series["label"] if by_label else series["month"]
    fig = go.Figure(
        go.Bar(
            x=x,
            y=series["count"].astype(float),
            marker_color=DARK_BLUE,
            hovertemplate=("%{x}" if by_label else "%{x|%b %Y}") + ": %{y}<extra></extra>",
        )
    )
    hidden = series["suppressed"].astype(bool).to_numpy()
    if hidden.any():
        fig.add_trace(
            go.Scatter(
                x=x[hidden],
                y=[0.2] * int(hidden.sum()),
                mode="text",
                text=["*"] * int(hidden.sum()),
                hoverinfo="skip",
                showlegend=False,
            )
        )
    fig.update_layout(
        height=220,
        margin={"l": 40, "r": 10, "t": 10, "b": 40},
        font_size=FONT_SIZE - 3,
        showlegend=False,
        yaxis={"title": None, "rangemode": "tozero"},
        xaxis={"type": "category"} if by_label else {},
    )
    return fig


def density_trace(incidents: pd.DataFrame) -> dict:
    """Partner audience: where the incidents are, as a density surface over the LSOA colours."""
    return {
        "type": "densitymap",
        "lat": incidents["latitude"].astype(float).tolist(),
        "lon": incidents["longitude"].astype(float).tolist(),
        "radius": 10,
        "opacity": 0.65,
        "colorscale": [[0, "rgba(128,22,80,0)"], [1, DARK_PINK]],
        "showscale": False,
        "name": "Incident density",
        "showlegend": True,
        "hoverinfo": "skip",
    }
