"""Write a briefing pack as PDF: the same slides as the PowerPoint, laid out as 16:9 HTML pages and printed by
headless chromium.

Chromium rather than WeasyPrint: chromium is already needed to draw the charts (kaleido drives it), so the PDF
adds no system libraries (WeasyPrint needs Pango and cairo), and it prints the same CSS a browser shows. The text
stays text in the PDF (searchable, readable by pdftotext and screen readers)."""

from __future__ import annotations

import base64
import html
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from vrp.briefing.model import Pack, Slide, marks

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
PRINT_TIMEOUT = 120  # seconds; a pack prints in about 2 s

STYLE = """
@page { size: 338.7mm 190.5mm; margin: 0; }
* { box-sizing: border-box; }
body { margin: 0; font-family: Arial, Helvetica, sans-serif; color: #3D3D3D; }
section { width: 338.7mm; height: 190.5mm; padding: 8mm 12.7mm; position: relative; page-break-after: always;
          break-inside: avoid; overflow: hidden; }
h1 { color: #12436D; font-size: 26pt; margin: 0 0 6mm; }
h1.cover { font-size: 40pt; margin-top: 45mm; }
.body { display: flex; gap: 8mm; }
.body img { max-width: 218mm; max-height: 138mm; width: auto; height: auto; object-fit: contain; }
.body ul { font-size: 15pt; margin: 0; padding-left: 6mm; }
.text ul { font-size: 20pt; }
.text.long ul { font-size: 13pt; }
li { margin-bottom: 3mm; }
footer { position: absolute; left: 12.7mm; right: 12.7mm; bottom: 6mm; font-size: 10pt; }
.mark { color: #801650; font-weight: bold; font-size: 11pt; margin-top: 1mm; }
"""


class PrintFailed(RuntimeError):
    """Chromium is missing or could not print the pack."""


def find_browser() -> str:
    """BROWSER_PATH when set (the variable kaleido reads for the charts, so one setting serves both), else the
    first chromium on the PATH."""
    chosen = os.environ.get("BROWSER_PATH")
    if chosen:
        if os.path.isfile(chosen) and os.access(chosen, os.X_OK):
            return chosen
        raise PrintFailed(f"BROWSER_PATH ({chosen[:120]}) is not a program: point it at chromium to print the PDF.")
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise PrintFailed("No chromium found to print the PDF: install chromium (Debian: apt-get install chromium).")


def _footer(pack: Pack, item: Slide) -> str:
    labels = marks(pack, item)
    mark = f'<div class="mark">{html.escape(" ".join(labels))}</div>' if labels else ""
    return f"<footer>{mark}</footer>"


def _section(pack: Pack, item: Slide) -> str:
    items = "".join(f"<li>{html.escape(line)}</li>" for line in item.lines)
    if item.picture is not None:
        src = "data:image/png;base64," + base64.b64encode(item.picture).decode()
        body = f'<div class="body"><img src="{src}" alt="{html.escape(item.title)}"><ul>{items}</ul></div>'
    else:
        body = f'<div class="body text{" long" if item.is_long else ""}"><ul>{items}</ul></div>'
    return f"<section><h1>{html.escape(item.title)}</h1>{body}{_footer(pack, item)}</section>"


def page(pack: Pack) -> str:
    """The pack as one HTML document, a 16:9 page per slide."""
    cover = (
        f'<section><h1 class="cover">Serious violence briefing: {html.escape(pack.place)}</h1>'
        f'<div class="body text"><ul><li>{html.escape(pack.period)}</li><li>Made on {html.escape(pack.made_on)} from '
        f"the HIPS Violence Reduction Partnership dashboard.</li></ul></div>"
        f"{_footer(pack, Slide('', synthetic=pack.synthetic))}</section>"
    )
    sections = "".join(_section(pack, s) for s in pack.slides)
    title = html.escape(f"Serious violence briefing: {pack.place}, {pack.period}")
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{STYLE}</style></head><body>{cover}{sections}</body></html>"
    )


def render(pack: Pack) -> bytes:
    """``pack`` printed to PDF by headless chromium."""
    browser = find_browser()
    with tempfile.TemporaryDirectory(prefix="vrp-pack-") as tmp:
        source = Path(tmp) / "pack.html"
        source.write_text(page(pack), encoding="utf-8")
        target = Path(tmp) / "pack.pdf"
        command = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
            f"--user-data-dir={Path(tmp) / 'profile'}", f"--print-to-pdf={target}", source.as_uri(),
        ]  # fmt: skip
        try:
            subprocess.run(command, capture_output=True, timeout=PRINT_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PrintFailed(f"chromium could not print the PDF: {exc}") from exc
        if not target.exists() or target.stat().st_size == 0:
            raise PrintFailed("chromium printed nothing: check that chromium runs headless on this machine.")
        return target.read_bytes()
