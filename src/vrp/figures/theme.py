"""Analysis Function look for every chart: the afcharts plotly template and palettes, readable on a projector."""

from __future__ import annotations

import afcharts.pio_template  # noqa: F401  (registers the "afcharts" plotly template)
import plotly.io as pio
from afcharts.af_colours import get_af_colours

TEMPLATE = "afcharts"
# Every chart of the app uses it, so it is plotly's default: a new figure then takes it without validating it
# again, where naming it on each figure cost about 7 ms a chart (maps set template="none").
pio.templates.default = TEMPLATE
CATEGORICAL = get_af_colours("categorical")  # dark blue, turquoise, dark pink, orange, dark grey, light purple
SEQUENTIAL = get_af_colours("sequential")  # dark to light blue
DARK_BLUE, TURQUOISE, DARK_PINK, ORANGE, DARK_GREY, LIGHT_PURPLE = CATEGORICAL[:6]
GREY = "#BFBFBF"
FONT_SIZE = 16

# Hotspot classes: hot in warm colours, cold in blues, and never colour alone (the legend and hover name them).
HOTSPOT_COLOURS = {
    "hot 99%": DARK_PINK,
    "hot 95%": ORANGE,
    "not significant": "#EDEDED",
    "cold 95%": "#8EB8E5",
    "cold 99%": DARK_BLUE,
}


def sequential_scale() -> list[list]:
    """Light (few) to dark (many)."""
    colours = list(reversed(SEQUENTIAL))
    step = 1 / (len(colours) - 1)
    return [[i * step, c] for i, c in enumerate(colours)]


def stamp(fig, text: str, *, inside: bool = False):
    """Write the source (and the synthetic label) into the figure itself, so a chart downloaded as an image for
    publication still carries them. ``inside`` for maps, which have no margin to write in."""
    if inside:
        fig.add_annotation(
            text=text,
            xref="paper",
            yref="paper",
            x=0.005,
            y=0.005,
            xanchor="left",
            yanchor="bottom",
            showarrow=False,
            align="left",
            font={"size": 10, "color": DARK_GREY},
            bgcolor="rgba(255,255,255,0.85)",
        )
        return fig
    bottom = (fig.layout.margin.b or 60) + 40
    fig.add_annotation(
        text=text,
        xref="paper",
        yref="paper",
        x=0,
        y=0,
        yshift=-bottom + 8,
        xanchor="left",
        yanchor="bottom",
        showarrow=False,
        align="left",
        font={"size": 10, "color": DARK_GREY},
    )
    fig.update_layout(margin={"b": bottom}, height=(fig.layout.height or 400) + 40)
    return fig


def wrap(text: str, width: int = 110) -> str:
    """Plotly annotations do not wrap: break long source notes with <br>."""
    import textwrap

    return "<br>".join(textwrap.wrap(text, width))
