"""Figures for publication: a card's chart with its labels written into the image (title; measure, place and
period; source, extract date and licence; the synthetic label), file names that say what a download holds, and
PNG/SVG rendering on the server with kaleido and the system's chromium.

No data access here: callbacks/exports.py finds what a card shows and passes the words in.
"""

from __future__ import annotations

import copy
import logging
import re
import threading
from dataclasses import dataclass

import plotly.graph_objects as go

from vrp.figures.theme import DARK_GREY, DARK_PINK, NOTE_LINE, wrap

log = logging.getLogger(__name__)

FORMATS = {"png": "image/png", "svg": "image/svg+xml"}
WIDTH = 1100  # px of an exported chart; a map is exported at MAP_SIZE, each at SCALE times for print
MAP_SIZE = (1100, 800)
SCALE = 2
TITLE_SIZE, LABEL_SIZE = 20, 13
TITLE_LINE, LABEL_LINE = 26, 18  # px per wrapped line
BLOCK_GAP = 44  # px between the labels and the chart: room for a legend drawn above the plot (homicide)
_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_MONTH_WORDS = re.compile(r"\b(" + "|".join(_MONTHS) + r")[a-z]*\.? (\d{4})\b", re.IGNORECASE)
_ROLLING = re.compile(r"^(\d+) months to ", re.IGNORECASE)
_FY = re.compile(r"\b(\d{4})[/-](\d{2})\b")
SYNTHETIC_LABEL = "SYNTHETIC demonstration data: not real records; do not publish."


@dataclass(frozen=True)
class Labels:
    """What an exported image (and a CSV's metadata) says about the figures in it."""

    title: str
    measure: str
    place: str
    period: str
    source: str
    extract_date: str | None
    licence: str | None
    synthetic: bool
    classification: str | None = None  # "OFFICIAL-SENSITIVE" for a partner's export

    def context_line(self) -> str:
        return f"{self.measure}: {self.place}, {self.period}."

    def source_line(self) -> str:
        parts = [f"Source: {self.source}."]
        parts.append(f"Extract date: {self.extract_date}." if self.extract_date else "Extract date: not recorded.")
        if self.licence:
            parts.append(f"Licence: {self.licence}.")
        return " ".join(parts)


def slug(text: str) -> str:
    """``Knife-enabled serious violence`` -> ``knife-enabled-serious-violence``; ``all of HIPS`` -> ``hips``."""
    text = re.sub(r"^all of ", "", text.strip(), flags=re.IGNORECASE)
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "all"


def period_slug(period: str) -> str:
    """``October 2025 to September 2026`` -> ``2025-10_2026-09``; other periods (``financial year 2025/26``) as a
    slug of their words."""
    months = [(int(y), _MONTHS.index(m[:3].lower()) + 1) for m, y in _MONTH_WORDS.findall(period)]
    rolling = _ROLLING.match(period.strip())
    if rolling and len(months) == 1:  # "12 months to Sep 2026": October 2025 to September 2026
        (year, month), back = months[0], int(rolling.group(1)) - 1
        first = year * 12 + month - 1 - back
        months.insert(0, (first // 12, first % 12 + 1))
    if months:  # "October 2024 to September 2026, shaded: the period chosen ...": the chart's span comes first
        return "_".join(dict.fromkeys(f"{y:04d}-{m:02d}" for y, m in months[:2]))
    years = _FY.findall(period)  # financial years, "2025/26" or "2025-26": fy2025-26, never read as a month
    if years and len(years) <= 2:
        return "_".join(dict.fromkeys(f"fy{a}-{b}" for a, b in years))
    return slug(period)


def file_stem(measure_id: str, card: str | None, place: str, period: str, age: str = "all") -> str:
    """``knife-enabled-sv_spc_southampton_2025-10_2026-09``: measure, the card (a page has several of one
    measure), place, the age group when not all ages, period."""
    parts = [slug(measure_id.replace("_", "-")), slug(card) if card else None, slug(place)]
    parts += ["under-25" if age == "u25" else None, period_slug(period)]
    return "_".join(p for p in parts if p)


def _unstamp(layout: dict) -> None:
    """Take out the source strip ``theme.stamp`` wrote under a chart (its title at the bottom): the export writes
    the fuller labels at the top instead."""
    title = layout.get("title") or {}
    if not title.get("text") or title.get("yref") != "container" or (title.get("y") or 1) >= 0.5:
        return
    strip = (title["text"].count("<br>") + 1) * NOTE_LINE + 14
    margin = dict(layout.get("margin") or {})
    margin["b"] = max((margin.get("b") or 60) - strip, 40)
    layout["margin"] = margin
    if layout.get("height"):
        layout["height"] = layout["height"] - strip
    layout.pop("title", None)


def labelled(figure, labels: Labels, *, is_map: bool = False, size: tuple[int, int] | None = None) -> go.Figure:
    """The card's figure (a go.Figure or its dict) with its labels in a block above the chart: the title, then
    measure, place and period, then source, extract date and licence, and the synthetic label. The chart keeps
    its own margins below the block, so axis labels and legends stay where the page drew them. ``size`` fixes the
    whole image's width and height (a 16:9 slide), the chart taking what the labels leave."""
    fig = copy.deepcopy(figure.to_plotly_json() if isinstance(figure, go.Figure) else dict(figure))
    layout = fig.setdefault("layout", {})
    _unstamp(layout)
    title = wrap(labels.title, 80)
    lines = [labels.context_line(), labels.source_line()]
    if labels.synthetic:
        lines.append(f"<span style='color:{DARK_PINK}'><b>{SYNTHETIC_LABEL}</b></span>")
    if labels.classification:
        lines.append(f"<b>{labels.classification}</b>")
    sub = "<br>".join(wrap(line, 140) for line in lines)
    block = (title.count("<br>") + 1) * TITLE_LINE + (sub.count("<br>") + 1) * LABEL_LINE + BLOCK_GAP
    width, height = MAP_SIZE if is_map else (WIDTH, (layout.get("height") or 450))
    if size is not None:
        width, height = size[0], size[1] - block
    margin = dict(layout.get("margin") or {})
    margin["t"] = (margin.get("t") if margin.get("t") is not None else (0 if is_map else 40)) + block
    layout.update(
        width=width,
        height=height + block,
        margin=margin,
        title={
            "text": f"<b>{title}</b>",
            "font": {"size": TITLE_SIZE},
            "subtitle": {"text": sub, "font": {"size": LABEL_SIZE, "color": DARK_GREY}},
            "xref": "container",
            "yref": "container",
            "x": 0,
            "xanchor": "left",
            # A wrapped title grows upwards from its first line: that line goes down by the lines above it.
            "y": 1 - title.count("<br>") * TITLE_LINE / (height + block),
            "yanchor": "top",
            "pad": {"l": 12, "t": 12},
        },
    )
    legend = layout.get("legend") or {}
    if legend.get("yref") == "container":  # placed from the figure's top: below the labels, not over them
        layout["legend"] = {**legend, "y": (legend.get("y", 1) * height) / (height + block)}
    return go.Figure(fig)


class ImagesUnavailable(RuntimeError):
    """Images cannot be made here (no chromium, or kaleido failed to start): the page says so politely."""


_lock = threading.Lock()
_started = False


def _start() -> None:
    """Start kaleido's render server once per process, lazily (a page view never pays for it) and under a lock
    (two first downloads at once must not start two)."""
    global _started
    if _started:
        return
    import kaleido

    try:
        # No MathJax: kaleido's default fetches it from a CDN, which offline costs a failed (or, where DNS is
        # black-holed, a timed-out) request; plotly.js comes from the plotly package, so nothing leaves the machine.
        kaleido.start_sync_server(silence_warnings=True, mathjax=False)
    except Exception as exc:  # no chromium, or it will not start: logged once, a polite message per request
        log.warning("image export unavailable: %s", exc)
        raise ImagesUnavailable(str(exc)) from exc
    _started = True


def render(fig: go.Figure, fmt: str) -> bytes:
    """PNG (at SCALE times) or SVG bytes of an export figure, its size taken from its layout."""
    if fmt not in FORMATS:
        raise ValueError(f"image format must be one of {', '.join(FORMATS)}")
    width, height = fig.layout.width or WIDTH, fig.layout.height or 450
    with _lock:  # one chromium tab: renders take their turn, and the server is started once
        _start()
        import kaleido

        try:
            data = kaleido.calc_fig_sync(
                fig, opts={"format": fmt, "width": width, "height": height, "scale": SCALE if fmt == "png" else 1}
            )
        except Exception as exc:
            log.warning("image export failed: %s", exc)
            raise ImagesUnavailable(str(exc)) from exc
    return data if isinstance(data, bytes) else str(data).encode()
