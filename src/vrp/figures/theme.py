"""Analysis Function look for every chart: the afcharts plotly template and palettes, readable on a projector."""

from __future__ import annotations

import copy
from functools import lru_cache

import afcharts.pio_template  # noqa: F401  (registers the "afcharts" plotly template)
import plotly.io as pio
from afcharts.af_colours import get_af_colours

TEMPLATE = "afcharts"
# Every chart of the app uses it, so it is plotly's default: a new figure then takes it without validating it
# again, where naming it on each figure cost milliseconds a chart (maps set template="none").
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


def figure(data: list[dict], **layout) -> dict:
    """A chart as a plain figure dict with the Analysis Function template, for charts drawn on every cold request:
    building them through go.Figure validates every property, which cost more than the query behind them (figures
    in docs/PERFORMANCE.md). Layout keys are plotly's own (``{"font": {"size": 14}}``, titles as ``{"text": ...}``)."""
    return {"data": data, "layout": {"template": copy.deepcopy(_template_json()), **layout}}


@lru_cache(maxsize=1)
def _template_json() -> dict:
    return pio.templates[TEMPLATE].to_plotly_json()


NOTE_LINE = 13  # px per line of a 10 px note


def stamp(fig, text: str, *, inside: bool = False):
    """Write the source (and the synthetic label) into the figure itself, so a chart downloaded as an image for
    publication still carries them. Takes a go.Figure or a figure dict (see ``figure``) and returns it.

    ``inside`` for maps, which have no margin to write in: an annotation in the map's corner. Otherwise a strip as
    tall as the note's lines is added under the bottom margin (which holds the x axis's labels and title), and the
    note is the figure's title, placed in that strip at the figure's left edge: an annotation can only be placed
    against the plot area, which moves right with long axis labels and pushed the note off narrow charts."""
    font = {"size": 10, "color": DARK_GREY}
    is_dict = isinstance(fig, dict)
    layout = fig.setdefault("layout", {}) if is_dict else None
    if inside:
        note = {
            "text": text,
            "xref": "paper",
            "yref": "paper",
            "x": 0.005,
            "y": 0.005,
            "xanchor": "left",
            "yanchor": "bottom",
            "align": "left",
            "showarrow": False,
            "bgcolor": "rgba(255,255,255,0.85)",
            "font": font,
        }
        if is_dict:
            layout["annotations"] = [*layout.get("annotations", []), note]
        else:
            fig.add_annotation(**note)
        return fig
    if (layout.get("title") or {}).get("text") if is_dict else fig.layout.title.text:
        raise ValueError("stamp writes the source note as the figure's title, and this figure has a title already")
    margin = layout.get("margin", {}) if is_dict else fig.layout.margin.to_plotly_json()
    height = layout.get("height") if is_dict else fig.layout.height
    below = margin.get("b") or 60
    strip = (text.count("<br>") + 1) * NOTE_LINE + 14
    total = (height or 400) + strip
    title = {  # the top of its first line at the top of the strip (a title grows downwards from there)
        "text": text,
        "font": font,
        "xref": "container",
        "yref": "container",
        "x": 0,
        "xanchor": "left",
        "y": strip / total,
        "yanchor": "top",
        "pad": {"l": 8, "t": 8},
    }
    update = {"margin": {**margin, "b": below + strip}, "height": total, "title": title}
    if is_dict:
        layout.update(update)
    else:
        fig.update_layout(**update)
    return fig


def wrap(text: str, width: int = 85) -> str:
    """Plotly titles and annotations do not wrap: break long source notes with <br> (85 characters of a 10 px note,
    about 5 px each, fit the narrowest chart card, 5/12 of the page)."""
    import textwrap

    return "<br>".join(textwrap.wrap(text, width))


PARTNER_ONLY_NOTE = {"text": "Shown to partners only", "showarrow": False, "xref": "paper", "yref": "paper"}
PARTNER_ONLY_NOTE |= {"x": 0.5, "y": 0.5}


def partner_only(height: int = 150) -> dict:
    """The chart of a card the public release cannot fill: empty, and saying so (a normal state of the page, not
    an error; the card's text says why). One look for every such card. A figure dict: a card that stamps its source
    note takes ``go.Figure(partner_only())``."""
    return {
        "data": [],
        "layout": {
            "height": height,
            "margin": {"t": 20, "b": 20, "l": 20, "r": 20},
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "annotations": [PARTNER_ONLY_NOTE],
        },
    }
