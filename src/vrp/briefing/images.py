"""The pack's charts as pictures: each card's labelled chart (the same image as its "Download image"), drawn once
by figures.export's kaleido server, then placed in a box without stretching."""

from __future__ import annotations

import dataclasses
import struct

from vrp.briefing.model import Pack
from vrp.figures import export as fx


def draw(pack: Pack) -> Pack:
    """The pack with every chart drawn, so each format written from it uses the same pictures."""
    slides = [
        s if s.figure is None or s.picture else dataclasses.replace(s, picture=fx.render(s.figure, "png"))
        for s in pack.slides
    ]
    return dataclasses.replace(pack, slides=slides)


def png_size(picture: bytes) -> tuple[int, int]:
    """A PNG's width and height in pixels, from its header (the IHDR chunk always comes first)."""
    if picture[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return struct.unpack(">II", picture[16:24])


def fit(picture: bytes, box_width: float, box_height: float) -> tuple[float, float]:
    """The picture's size inside a box, its shape kept: as wide as the box unless that makes it too tall."""
    width, height = png_size(picture)
    scale = min(box_width / width, box_height / height)
    return width * scale, height * scale
