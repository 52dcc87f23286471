"""Gather a briefing pack's content from the pages' own views, run for one place and period in the current
request's audience: a public pack holds only what the public pages show (published cube cells), a partner pack
what partners see. Titles and summaries are the cards' own words; charts become 16:9 pictures."""

from __future__ import annotations

from datetime import date

import pandas as pd

from vrp.briefing.model import Pack, Slide
from vrp.callbacks.exports import card_export
from vrp.callbacks.text import period_text, where
from vrp.dashboards import admissions, homicide, hotspots, knife_crime
from vrp.dashboards.home import HEADLINES
from vrp.dashboards.tiles import LOWER_BOUNDS, lower_bound
from vrp.data_access import outcomes, published
from vrp.data_access.context import warehouse
from vrp.data_access.filter_state import resolve
from vrp.data_access.validation import InvalidQuery, NotPermitted

# The cards a pack shows, in order, by their ids in callbacks.exports.CARDS; the map between homicide and the
# districts compared. Each slide is the card's labelled chart and its summary, as the page and its download show.
CHART_CARDS = (
    ("Knife-enabled serious violence", knife_crime.SPC),
    ("Knife-enabled serious violence", knife_crime.ROLLING),
    ("Hospital admissions for assault with a sharp object", admissions.TREND),
    ("Homicide", homicide.ROLLING),
    ("Where harm is concentrated", hotspots.MAP),
    ("Districts compared", knife_crime.DISTRICTS),
)
MEASURE = knife_crime.MEASURE_ID  # the pack's period is chosen as the Knife crime page chooses it
TOP_PLACES_SHOWN = 5
PICTURE_SIZE = (1024, 576)  # px, 16:9, drawn at 2x: sharp on a projector, chart text readable on the slide


def _state(districts: tuple[str, ...], start: str, end: str) -> dict:
    return {"districts": list(districts), "start": start, "end": end, "measure": MEASURE, "age": "all"}


def _when(current: dict) -> str:
    """The period a headline figure covers: the published period's name, or the 12 months to its end."""
    if current.get("period") is not None:
        return current["period"].label
    return f"the 12 months to {pd.Timestamp(current['end']):%B %Y}"


def _headline_lines(wh, districts: tuple[str, ...], start: str, end: str) -> list[str]:
    """One line per OBPF headline measure: the latest count and rate with its interval, and the change."""
    lines = []
    for measure_id in HEADLINES:
        if measure_id not in wh.registry:
            continue
        measure = wh.registry.get(measure_id)
        try:
            comp = outcomes.comparisons(wh, measure_id, districts, end or None, start=start or None)
        except (InvalidQuery, NotPermitted) as refused:
            lines.append(f"{measure.label}: not available ({refused}).")
            continue
        cur, change = comp.get("current"), comp.get("year_on_year")
        if not cur or cur.get("count") is None:
            lines.append(f"{measure.label}: hidden (a small number, or one that would reveal one).")
            continue
        unit = "per million a year" if measure.per == 1_000_000 else "per 100,000 a year"
        words = (
            f"{measure.label}: {'at least ' if lower_bound(cur) else ''}{cur['count']:,} in {_when(cur)}, "
            f"{cur['rate']:.1f} {unit} (95% CI {cur['lower']:.1f} to {cur['upper']:.1f})"
        )
        if change is not None and change.percent is not None:
            direction = "fewer" if change.absolute < 0 else "more"
            verdict = "a significant change" if change.significant else "not a significant change"
            words += f"; {abs(change.percent):.0f}% {direction} than the year before ({verdict})"
        elif (
            change is None
            and (comp.get("previous") or {}).get("count") is not None
            and lower_bound(cur, comp.get("previous"))
        ):
            words += f"; not compared with the year before: {LOWER_BOUNDS}"
        lines.append(words + ".")
    return lines


def _chart(heading: str, card: str, state: dict) -> Slide | None:
    """A card as a slide: its title, its labelled chart as a picture, its summary as text and speaker notes."""
    try:
        shown = card_export(state, card, {"mode": "count"} if card == hotspots.MAP else None, size=PICTURE_SIZE)
    except (InvalidQuery, NotPermitted) as refused:  # a measure not loaded, or not published: the slide says so
        return Slide(title=heading, lines=(f"Not in this pack: {refused}",), notes=f"{heading}: not available.")
    if shown.figure is None:
        return None
    lines = [shown.summary] if shown.summary else []
    if card == hotspots.MAP:
        lines += _top_places(state)
    return Slide(
        title=shown.labels.title,
        lines=tuple(lines),
        figure=shown.figure,
        notes=f"{heading}. {shown.labels.title}. {shown.summary}".strip(),
        synthetic=bool(shown.meta["synthetic"]),
    )


def _top_places(state: dict) -> list[str]:
    """The first rows of the Top places table, as the page lists them (published cells only for the public)."""
    frame = card_export(state, hotspots.TOP).frame.head(TOP_PLACES_SHOWN)
    if frame.empty or not {"Name", "Count"} <= set(frame.columns):
        return []
    lines = []
    for _, row in frame.iterrows():
        flag = row.get("Gi* class")
        hot = (
            f" (a hotspot at {flag.split()[-1]} confidence)" if isinstance(flag, str) and flag.startswith("hot") else ""
        )
        lines.append(f"{row.get('Place name') or row['Name']}: {_value(row['Count'])}{hot}")  # as the page names it
    return ["Top places:", *lines]


def _value(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "hidden"
    return f"{value:,.1f}" if isinstance(value, float) and not float(value).is_integer() else f"{int(value):,}"


def _sources(wh, synthetic_sources: set[str], synthetic: bool) -> Slide:
    lines = []
    for measure_id in (*HEADLINES, "ons_knife_crime"):
        if measure_id in wh.registry:
            m = wh.registry.get(measure_id)
            label = " (synthetic demonstration data)" if m.source in synthetic_sources else ""
            lines.append(f"{m.label}{label}: {m.definition}")
    lines.append(
        "Small numbers are hidden to protect people: hospital counts of 1 to 7 (NHS rule) and other counts below "
        "each measure's threshold, with further counts hidden where a total would reveal them. "
        + ("Every figure is a cell of the published, audited release." if wh.audience == "public" else "")
    )
    return Slide(
        "Definitions, sources and what is hidden", tuple(lines), notes="Definitions and sources.", synthetic=synthetic
    )


def collect(districts: tuple[str, ...] = (), start: str = "", end: str = "", made_on: date | None = None) -> Pack:
    """The pack for ``districts`` (one district, or () for HIPS) and the period, in the request's audience."""
    wh = warehouse()
    if wh.audience == "public":
        published.area_of(wh, districts)
        shown, _note = published.page_period(wh, MEASURE, start or None, end or None)
        start, end, period = f"{shown.start:%Y-%m}", f"{shown.end:%Y-%m}", shown.label
    else:  # partners: any months, as the pages resolve them (the latest 12 months by default)
        unknown = sorted(set(districts) - set(wh.district_codes))
        if unknown:
            raise InvalidQuery(f"Unknown district {unknown[0]!r}: give a HIPS district code, or HIPS.")
        chosen = resolve(wh, districts=list(districts), start=start or None, end=end or None, measure=MEASURE)
        start, end = chosen.start, chosen.end
        period = period_text(start, end)
    state = _state(districts, start, end)
    synthetic_sources = wh.synthetic_sources()
    synthetic = any(wh.registry.get(m).source in synthetic_sources for m in HEADLINES if m in wh.registry)
    place = where(wh, districts)
    headlines = tuple(_headline_lines(wh, districts, start, end))
    slides = [Slide("Headline figures", headlines, notes=" ".join(headlines), synthetic=synthetic)]
    slides += [_chart(heading, card, state) for heading, card in CHART_CARDS]
    slides.append(_sources(wh, synthetic_sources, synthetic))
    made = made_on or date.today()
    return Pack(place, period, wh.audience, f"{made:%-d %B %Y}", (start, end), [s for s in slides if s is not None])
