"""Words the pages share: a place, a place opening a sentence, a period of months. One home, so every page says
them the same way (and no page imports another page's callbacks for them)."""

from __future__ import annotations

from datetime import date


def where(wh, districts) -> str:
    if not districts:
        return "all of HIPS"
    names = wh.districts().set_index("district_code")["district_name"]
    named = sorted(names.get(d, d) for d in districts)  # the same words whatever order they were chosen in
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def opening(text: str) -> str:
    """A place at the start of a sentence: "all of HIPS" -> "All of HIPS"."""
    return text[:1].upper() + text[1:]


def period_text(start: str, end: str) -> str:
    def fmt(m):
        return date(int(m[:4]), int(m[5:7]), 1).strftime("%B %Y")

    return fmt(start) if start == end else f"{fmt(start)} to {fmt(end)}"
