"""Analysis Function look for every chart: the afcharts plotly template and palettes, readable on a projector."""

from __future__ import annotations

import afcharts.pio_template  # noqa: F401  (registers the "afcharts" plotly template)
from afcharts.af_colours import get_af_colours

TEMPLATE = "afcharts"
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
