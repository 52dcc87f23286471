"""What a slide holds, independent of the file format it is written to."""

from __future__ import annotations

from dataclasses import dataclass, field

import plotly.graph_objects as go

from vrp.figures.export import SYNTHETIC_LABEL  # one wording on every export


@dataclass(frozen=True)
class Slide:
    """One slide. ``lines`` stay editable text in the pack; ``figure`` is the card's labelled chart (its title,
    place, period, source and any synthetic label written into it, so a picture copied out of the deck still says
    what it shows; None for a text slide), drawn as a picture when the pack is written; ``notes`` are the speaker
    notes: the plain-language summary a presenter reads out."""

    title: str
    lines: tuple[str, ...] = ()
    figure: go.Figure | None = None
    picture: bytes | None = None  # the figure drawn (images.draw), once for every format written
    notes: str = ""
    synthetic: bool = False  # the slide shows synthetic demonstration data: labelled on the slide

    @property
    def is_long(self) -> bool:
        """A text slide with more words than fit at the usual size (the definitions): set smaller, not cut."""
        return self.figure is None and sum(len(line) for line in self.lines) > LONG_TEXT


LONG_TEXT = 700  # characters of a text slide that fit at 22 pt on a 16:9 slide


@dataclass(frozen=True)
class Pack:
    """A whole briefing pack: where and when it covers, who may see it, and its slides in order."""

    place: str
    period: str
    audience: str  # "public" or "partner"; a partner pack is marked OFFICIAL-SENSITIVE on every slide
    made_on: str  # the date the pack was made, as words
    months: tuple[str, str] = ("", "")  # the first and last month (YYYY-MM) the pages were asked for
    slides: list[Slide] = field(default_factory=list)

    @property
    def synthetic(self) -> bool:
        return any(s.synthetic for s in self.slides)


__all__ = ["PARTNER_MARKING", "SYNTHETIC_LABEL", "Pack", "Slide", "marks"]

PARTNER_MARKING = "OFFICIAL-SENSITIVE: partner use only."


def marks(pack: Pack, slide: Slide) -> list[str]:
    """The labels a slide must carry: synthetic data, and the partner marking on a partner pack."""
    return [
        m for m, needed in ((SYNTHETIC_LABEL, slide.synthetic), (PARTNER_MARKING, pack.audience == "partner")) if needed
    ]
