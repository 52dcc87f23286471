"""District profile callbacks: the cover, every headline measure against HIPS (count, rate with its interval, the
year before, the SPC variation icon) and the knife crime trend. The other sections are in profile_sections.py.

Public: published cells only, through the same data_access functions as the other pages (their public branches).
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import dash
import numpy as np
import pandas as pd
from dash import Input, Output, dcc, html, no_update

from vrp.callbacks import cached_view, failure_outputs, guarded, inputs, knife_trend, polite
from vrp.callbacks import profile_sections as sections
from vrp.callbacks.text import opening, period_text, where
from vrp.dashboards import components as c
from vrp.dashboards import filters, home
from vrp.dashboards import profile as ids
from vrp.dashboards.filters import STATE
from vrp.dashboards.shell import URL
from vrp.dashboards.tiles import ICONS, LOWER_BOUNDS, UNIT_WORDS, lower_bound
from vrp.data_access import outcomes, published
from vrp.data_access.context import warehouse
from vrp.data_access.filter_state import read_state
from vrp.data_access.validation import HIPS, InvalidQuery, NotPermitted
from vrp.figures import profile as profile_figs
from vrp.stats import compare, variation_icon, xmr
from vrp.stats.spc import monthly_xmr

COMPARE_WORDS = {"worse": "higher", "better": "lower", "similar": "similar", "higher": "higher", "lower": "lower"}
SPC_METHOD = (
    "Variation (SPC): the NHS Making Data Count icon of the latest month, read as on the Overview: an XmR chart of "
    "every month the data hold, limits fixed on the measure's baseline months (published months for the public; "
    "published quarters for a measure published by quarter)."
)
RATIO_METHOD = (
    "Each rate is divided by the HIPS rate for the same period (1 = the same as HIPS), with the 95% interval of the "
    "area's rate (Byar's method from 10 events, exact Poisson below) divided likewise: the Fingertips comparison, "
    "HIPS taken as the benchmark. For all of HIPS, each rate against the 12 months before (exact test)."
)


class Profile:
    """What every part of the profile needs: the warehouse, the area and the words for it."""

    def __init__(self, state: dict):
        self.wh = wh = warehouse()
        self.districts = tuple(state["districts"])
        self.start, self.end = state["start"], state["end"]
        self.public = wh.audience == "public"
        self.area = published.area_of(wh, self.districts) if self.public else None
        self.place = where(wh, self.districts)
        self.period = period_text(self.start, self.end) if self.start and self.end else "the latest 12 months"
        self.synthetic = wh.synthetic_sources()

    def measures(self) -> list:
        """The headline (OBPF) measures that are counted by district: the ONS series is force-level only."""
        return [m for m in self.wh.registry if m.headline and "district" in m.geography_levels]


def _comparisons(p: Profile, measure_id: str, districts) -> dict:
    # Public: the published period for the filter's months (or its note); partners: the 12 months to the end.
    return outcomes.comparisons(
        p.wh, measure_id, districts, p.end or None, "all", start=(p.start or None) if p.public else None
    )


def variation(p: Profile, measure, end: str) -> tuple[str | None, str | None]:
    """The SPC variation icon of the latest month to ``end`` (or why there is none), read as the Overview's tiles
    read it: every month the data hold, limits fixed on the measure's baseline months (stats.monthly_xmr). The
    public get the published months; a measure published by quarter is read over its published quarters (limits
    on the first quarters of its baseline); one published by year only has too few points."""
    wh = p.wh
    if p.public:
        kinds = {x.type for x in published.periods(wh, measure.id, "hips" if p.area == HIPS else "district")}
        if "month" not in kinds:
            if "quarter" not in kinds:
                return None, "not assessed (published by year only)"
            cells = published.cells(wh, measure.id, (p.area,), "quarter", "all", None, end)
            values = cells["count"].astype(float)
            if values.notna().sum() < 2:
                return None, "not assessed (the counts are hidden)"
            chart = xmr(values, baseline=max(measure.spc_baseline_months // 3, 4), polarity=measure.polarity)
            return variation_icon(chart, measure.polarity), None
    history = wh.monthly_counts(measure.id, p.districts, None, end)
    values = history["count"].astype(float).to_numpy()
    if np.isfinite(values).sum() < 2:
        return None, "not assessed (the counts are hidden)"
    chart = monthly_xmr(
        history["month"],
        values,
        baseline_months=measure.spc_baseline_months,
        changes=[m for m, _ in measure.spc_recalculate],
        polarity=measure.polarity,
    )
    return variation_icon(chart, measure.polarity), None


def measure_row(p: Profile, measure) -> dict:
    """One headline measure's figures for the area and HIPS; ``problem`` says why a figure is missing."""
    row = {"measure": measure, "label": measure.label, "problem": None, "icon": None, "comp": None, "hips": None}
    try:
        comp = _comparisons(p, measure.id, p.districts)
    except (InvalidQuery, NotPermitted) as refused:
        return {**row, "problem": str(refused)}
    row["comp"], cur = comp, comp.get("current")
    if p.districts and cur:
        row["hips"] = _comparisons(p, measure.id, ())["current"]
    if cur:
        row["icon"], row["no_icon"] = variation(p, measure, cur["end"])
    return row


def _rate(cur: dict | None, unit: str) -> str:
    if not cur or cur["rate"] is None or pd.isna(cur["rate"]):
        return "hidden" if cur and cur.get("suppressed") else "no data"
    return f"{cur['rate']:,.1f} {unit} ({cur['lower']:,.1f} to {cur['upper']:,.1f})"


def _count(cur: dict | None) -> str:
    if not cur:
        return "no data"
    if cur["count"] is None:
        return "* (hidden)"
    return f"{'at least ' if cur.get('incomplete') else ''}{cur['count']:,}"


def _versus_hips(p: Profile, row: dict) -> tuple[str, str | None]:
    cur, hips, measure = (row["comp"] or {}).get("current"), row["hips"], row["measure"]
    if not p.districts:
        return "this is HIPS", None
    if not cur or cur["rate"] is None or not hips or hips["rate"] is None:
        return "not compared (a figure is hidden)", "not compared"
    verdict = str(compare(cur["lower"], cur["upper"], hips["rate"], measure.polarity))
    return f"{COMPARE_WORDS.get(verdict, verdict)} (HIPS {hips['rate']:,.1f})", verdict


def _change(result, current: dict | None = None, other: dict | None = None) -> str:
    """A change in words; ``current`` and ``other`` (the periods compared) say why there is none."""
    if result is None and current and other and None in (current.get("count"), other.get("count")):
        return "not compared (a figure is hidden)"
    if result is None and current and other and lower_bound(current, other):
        return f"not compared: {LOWER_BOUNDS}"
    if result is None or result.percent is None:
        return "not available"
    if round(result.percent) == 0:
        words = "about the same"
    else:
        words = f"{abs(result.percent):.0f}% {'fewer' if result.absolute < 0 else 'more'}"
    return f"{words} ({'significant' if result.significant else 'not significant'})"


def _period_label(comp: dict | None) -> str:
    if not comp or not comp.get("current"):
        return ""
    period = comp.get("period") or comp["current"].get("period")
    if period is not None:
        return f"12 months to {period.end:%b %Y}" if period.type == "rolling12" else period.label
    return f"12 months to {date(int(comp['current']['end'][:4]), int(comp['current']['end'][5:]), 1):%b %Y}"


def headline_frame(p: Profile, rows: list[dict]) -> pd.DataFrame:
    """The headline table as the page prints it: one row a measure, every figure in words."""
    out = []
    for row in rows:
        comp = row["comp"] or {}
        unit = UNIT_WORDS.get(row["measure"].unit, "")
        symbol, words, _ = ICONS.get(row["icon"], ("", row.get("no_icon", "not assessed"), ""))
        current = comp.get("current")
        out.append(
            {
                "label": row["label"],
                "period": _period_label(comp) or row["problem"] or "",
                "count": _count(comp.get("current")),
                "rate": _rate(comp.get("current"), unit + " a year"),
                "hips": _versus_hips(p, row)[0],
                "year": _change(comp.get("year_on_year"), current, comp.get("previous")),
                "baseline": _change(comp.get("against_baseline"), current, comp.get("baseline")),
                "icon": f"{symbol} {words}".strip(),
            }
        )
    return pd.DataFrame(out)


HEADLINE_COLUMNS = {
    "label": "Measure",
    "period": "Period",
    "count": "Count",
    "rate": "Rate (95% interval)",
    "hips": "Against HIPS",
    "year": "Against the year before",
    "baseline": "Against the baseline year",
    "icon": "Variation (SPC)",
}


def ratio_card(p: Profile, rows: list[dict]) -> dict:
    """Every headline measure as a multiple of HIPS (of the year before, for HIPS itself), with its interval."""
    records = []
    for row in rows:
        cur = (row["comp"] or {}).get("current")
        if p.districts:
            hips = row["hips"]
            ok = cur and hips and cur["rate"] is not None and hips["rate"]
            ratio = (
                (cur["rate"] / hips["rate"], cur["lower"] / hips["rate"], cur["upper"] / hips["rate"]) if ok else None
            )
        else:
            yoy = (row["comp"] or {}).get("year_on_year")
            ok = yoy is not None and yoy.rate_ratio is not None
            ratio = (yoy.rate_ratio, yoy.ratio_lower, yoy.ratio_upper) if ok else None
        value, lower, upper = ratio or (np.nan, np.nan, np.nan)
        verdict = "not compared" if ratio is None else str(compare(lower, upper, 1.0, row["measure"].polarity))
        records.append({"label": row["label"], "ratio": value, "lower": lower, "upper": upper, "verdict": verdict})
    frame = pd.DataFrame(records)
    reference = "HIPS" if p.districts else "the year before"
    above = frame.loc[frame["verdict"] == "worse", "label"].tolist()
    below = frame.loc[frame["verdict"] == "better", "label"].tolist()
    title = (
        f"{opening(p.place)}: {len(above)} measure{'s' if len(above) != 1 else ''} higher than {reference}, "
        f"{len(below)} lower"
    )
    summary = (
        f"Rates as a multiple of {reference} (1 = the same), with 95% intervals. Higher: {', '.join(above) or 'none'}."
        f" Lower: {', '.join(below) or 'none'}."
    )
    hidden = frame.loc[frame["ratio"].isna(), "label"].tolist()
    if hidden:
        summary += f" Not compared (a figure hidden or missing): {', '.join(hidden)}."
    table = c.table(
        frame.assign(verdict=frame["verdict"].map(lambda v: COMPARE_WORDS.get(v, v))),
        {"label": "Measure", "ratio": "Ratio", "lower": "Lower 95%", "upper": "Upper 95%", "verdict": "Verdict"},
        numeric=("ratio", "lower", "upper"),
    )
    about = html.Details([html.Summary("About this chart"), html.P(RATIO_METHOD, className="mt-2")], className="small")
    figure = profile_figs.ratio_chart(frame, reference)
    return c.card_content(title, summary, figure, table, sources_note(p, rows), about)


def sources_note(p: Profile, rows: list[dict]) -> list:
    sources = sorted({row["measure"].source for row in rows})
    parts = [f"Sources: {'; '.join(c.SOURCE_NAMES.get(s, s) for s in sources)}. Area: {p.place}."]
    if set(sources) & p.synthetic:
        parts.append(" SYNTHETIC demonstration data: not real records; do not publish.")
    return parts


def trend_card(p: Profile) -> dict:
    """Knife-enabled serious violence month by month: the Knife crime page's SPC card itself, from its cached
    view in callbacks.knife_trend (the same chart, limits and words, and one cache entry for both pages)."""
    state = {"districts": list(p.districts), "start": p.start, "end": p.end, "age": "all"}
    return knife_trend.trend_callback(state)["spc"]


def update_headline(state):
    """The cover's words, the headline table, the ratio chart and the knife crime trend."""
    if not state:
        return no_update
    p = Profile(state)
    rows = [measure_row(p, m) for m in p.measures()]
    frame = headline_frame(p, rows)
    notes = sorted({row["comp"]["note"] for row in rows if row["comp"] and row["comp"].get("note")})
    problems = [f"{row['label']}: {row['problem']}" for row in rows if row["problem"]]
    headline = html.Div(
        [
            c.table(
                frame,
                HEADLINE_COLUMNS if p.districts else {k: v for k, v in HEADLINE_COLUMNS.items() if k != "hips"},
                table_id="profile-headline-table",
            ),
            html.P(
                "Rates are a year per 100,000 residents (per million for homicide; under-25 measures per under-25 "
                "residents). Against HIPS: lower, higher or similar (HIPS inside the interval). Changes: exact test "
                f"at 95%. Baseline year {p.wh.settings.baseline_fy}. {SPC_METHOD}",
                className="small text-muted mb-1",
            ),
            *[html.P(n, className="small mb-1") for n in notes + problems],
        ]
    )
    return {
        "title": f"{ids.PAGE_TITLE}: {p.place}" if p.districts else "Profile: all of HIPS",
        "period": opening(p.period),
        "cover": cover_note(p),
        "headline": headline,
        "ratios": ratio_card(p, rows),
        "trend": trend_card(p),
    }


def cover_note(p: Profile) -> list:
    made = f"Made on {date.today():%-d %B %Y} from data last updated {(p.wh.meta('updated_at') or 'unknown')[:10]}."
    parts = [html.P(made, className="mb-1")]
    if p.synthetic:
        parts.append(
            html.P("SYNTHETIC demonstration data: not real records; do not publish.", className="fw-bold mb-1")
        )
    if p.public:
        parts.append(html.P("Public release: published figures only; small numbers are hidden.", className="mb-1"))
    else:
        parts.append(html.P("OFFICIAL-SENSITIVE: partner figures, not for publication.", className="fw-bold mb-1"))
    return parts


PLACE_AND_PERIOD = inputs.filter_state("districts", "start", "end")
HEADLINE_FAILED = failure_outputs(
    title=ids.PAGE_TITLE, period="", cover=None, headline=polite, ratios=c.card_message, trend=c.card_message
)
headline_callback = guarded(HEADLINE_FAILED)(cached_view(update_headline, PLACE_AND_PERIOD))


def _export_cards() -> list[tuple]:
    """The profile's chart cards for the downloads (callbacks/exports.py's registry): card id, name in file names,
    view (the cached view the card was drawn from: same function, same normaliser), the card's output group in
    it, and the card's measure."""
    where_view = cached_view(sections.update_where_when, PLACE_AND_PERIOD)
    who_view = cached_view(sections.update_who, PLACE_AND_PERIOD)
    headline = cached_view(update_headline, PLACE_AND_PERIOD)
    return [
        (ids.RATIOS, "profile-against-hips", headline, "ratios", ids.FOCUS),
        (ids.TREND, "profile-knife-spc", headline, "trend", ids.TREND_MEASURE),
        *[(prefix, name, where_view, group, ids.FOCUS) for group, (prefix, name) in sections.WHERE_CARDS.items()],
        *[(prefix, name, who_view, group, ids.FOCUS) for group, (prefix, name) in sections.WHO_CARDS.items()],
    ]


EXPORT_CARDS = _export_cards()


def profile_href(districts, start: str = "", end: str = "") -> str:
    """The profile's address for these districts (none: all of HIPS) and, when given, this period."""
    params = {"district": ",".join(districts)} if districts else {}
    params |= {"from": start, "to": end} if start and end else {}
    return "/profile" + ("?" + urlencode(params, safe=",") if params else "")


def home_link(state_data):
    """The Overview's link to the profile of the area it shows."""
    if not state_data:
        return no_update
    state = read_state(state_data)
    place = where(warehouse(), state.districts)
    return [
        dcc.Link(f"Profile of {place}", href=profile_href(state.districts)),
        ": every headline measure against HIPS, where, when, who and deprivation on one printable page.",
    ]


def filter_link(state_data, pathname):
    """Beside the district filter, once a district is chosen: its profile, for the period chosen."""
    if not state_data:
        return no_update
    state = read_state(state_data)
    if not state.districts or pathname == "/profile":
        return None
    place = where(warehouse(), state.districts)
    return dcc.Link(f"Profile of {place} (printable)", href=profile_href(state.districts, state.start, state.end))


def register(app: dash.Dash) -> None:
    app.callback(Output(home.PROFILE_LINK, "children"), Input(STATE, "data"))(guarded(polite)(home_link))
    app.callback(Output(filters.PROFILE_LINK, "children"), Input(STATE, "data"), Input(URL, "pathname"))(
        guarded(lambda _m: None)(filter_link)
    )
    app.callback(
        output={
            "title": Output(ids.TITLE, "children"),
            "period": Output(ids.PERIOD, "children"),
            "cover": Output(ids.COVER_NOTE, "children"),
            "headline": Output(ids.HEADLINE, "children"),
            "ratios": c.card_outputs(ids.RATIOS),
            "trend": c.card_outputs(ids.TREND),
        },
        inputs=[Input(STATE, "data")],
    )(headline_callback)
    sections.register(app)
    # One click for a PDF: the browser's print dialogue, whose "Save as PDF" printer makes the file.
    app.clientside_callback(
        "function(n){if(n){window.print();}return window.dash_clientside.no_update;}",
        Output(ids.PRINT, "title"),
        Input(ids.PRINT, "n_clicks"),
        prevent_initial_call=True,
    )
