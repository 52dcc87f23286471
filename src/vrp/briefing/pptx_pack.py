"""Write a briefing pack as PowerPoint: 16:9 slides, every text an editable text box, charts as pictures, the
plain-language summary in the speaker notes, and the synthetic label (and, for partners, the OFFICIAL-SENSITIVE
marking) on every slide that needs it."""

from __future__ import annotations

import io
from pathlib import Path

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.util import Inches, Pt

from vrp.briefing.images import fit
from vrp.briefing.model import Pack, Slide, marks

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)  # 16:9
MARGIN = Inches(0.5)
DARK_BLUE, DARK_PINK, DARK_GREY = RGBColor(0x12, 0x43, 0x6D), RGBColor(0x80, 0x16, 0x50), RGBColor(0x3D, 0x3D, 0x3D)
TITLE_ONLY = 5  # the default template's "Title Only" layout: a real title placeholder, so screen readers and
# PowerPoint's accessibility checker find each slide's title


def _text(slide, left, top, width, height, lines, *, size: int, colour=DARK_GREY, bold: bool = False):
    frame = slide.shapes.add_textbox(left, top, width, height).text_frame
    frame.word_wrap = True
    for i, line in enumerate(lines):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.text = line
        paragraph.space_after = Pt(size * 0.5)
        for run in paragraph.runs:
            run.font.size, run.font.bold, run.font.color.rgb = Pt(size), bold, colour
    return frame


def _title(slide, text: str, *, size: int | None = None) -> None:
    size = size or (28 if len(text) <= 70 else 22)  # a long finding still fits in two lines
    title = slide.shapes.title
    title.left, title.top, title.width, title.height = MARGIN, Inches(0.3), WIDTH - 2 * MARGIN, Inches(0.95)
    title.text = text
    frame = title.text_frame
    frame.word_wrap = True
    for paragraph in frame.paragraphs:
        paragraph.alignment = 1  # left
        for run in paragraph.runs:
            run.font.size, run.font.bold, run.font.color.rgb = Pt(size), True, DARK_BLUE


def _footer(slide, pack: Pack, item: Slide) -> None:
    """The labels the slide must carry, along the bottom edge (each chart's source is written into its picture)."""
    labels = marks(pack, item)
    if labels:
        _text(
            slide,
            MARGIN,
            Inches(6.9),
            WIDTH - 2 * MARGIN,
            Inches(0.4),
            [" ".join(labels)],
            size=12,
            colour=DARK_PINK,
            bold=True,
        )


def _cover(prs, pack: Pack) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
    _title(slide, f"Serious violence briefing: {pack.place}", size=40)
    slide.shapes.title.top = Inches(2.2)
    lines = [pack.period, f"Made on {pack.made_on} from the HIPS Violence Reduction Partnership dashboard."]
    _text(slide, MARGIN, Inches(3.4), WIDTH - 2 * MARGIN, Inches(1.6), lines, size=22)
    _footer(slide, pack, Slide("", synthetic=pack.synthetic))
    slide.notes_slide.notes_text_frame.text = f"A briefing on serious violence in {pack.place}, {pack.period}." + (
        " It uses synthetic demonstration data: not real records." if pack.synthetic else ""
    )


def _slide(prs, pack: Pack, item: Slide) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
    _title(slide, item.title)
    top, body_height = Inches(1.35), Inches(5.0)
    if item.picture is not None:
        box_width = Inches(8.6)  # the chart's box, clear of the footer; the text beside it
        width, height = fit(item.picture, box_width, body_height)
        picture = slide.shapes.add_picture(io.BytesIO(item.picture), MARGIN, top, width=int(width), height=int(height))
        picture._element.nvPicPr.cNvPr.set("descr", " ".join((item.title, *item.lines)))  # alt text for readers
        text_left = MARGIN + box_width + Inches(0.3)
        _text(slide, text_left, top, WIDTH - text_left - MARGIN, body_height, item.lines, size=16)
    else:
        _text(slide, MARGIN, top, WIDTH - 2 * MARGIN, body_height, item.lines, size=14 if item.is_long else 22)
    _footer(slide, pack, item)
    if item.notes:
        slide.notes_slide.notes_text_frame.text = item.notes


def write(pack: Pack, out: Path | io.BytesIO) -> None:
    """Write ``pack`` as a .pptx file (or into a buffer)."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = WIDTH, HEIGHT
    prs.core_properties.title = f"Serious violence briefing: {pack.place}, {pack.period}"
    prs.core_properties.subject = "HIPS Violence Reduction Partnership"
    _cover(prs, pack)
    for item in pack.slides:
        _slide(prs, pack, item)
    prs.save(out)
