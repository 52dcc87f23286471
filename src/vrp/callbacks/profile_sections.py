"""The district profile's sections on serious violence: where (top places), when (hour by weekday), who (victim
ages), deprivation (rates by IMD decile) and similar districts (the funnel plot). Each is a chart card; what the
public release does not hold is a card that says why."""

from __future__ import annotations

import dash
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import Input, html, no_update

from vrp.callbacks import cached_view, failure_outputs, guarded, inputs
from vrp.callbacks.text import opening, period_text, where
from vrp.dashboards import components as c
from vrp.dashboards import profile as ids
from vrp.dashboards.filters import STATE
from vrp.data_access import counts, outcomes, places, published, published_places
from vrp.data_access.context import warehouse
from vrp.data_access.published import NotPublished
from vrp.figures import hotspots as hot_figs
from vrp.figures import outcomes as figs
from vrp.figures import profile as profile_figs
from vrp.figures.theme import partner_only
from vrp.periods import WEEKDAYS, months_in
from vrp.stats import funnel_limits
from vrp.stats.deprivation import by_decile, deprived_fifth_share

PLACES_METHOD = (
    "LSOAs (2021) ranked by count; the Gi* class is Getis-Ord Gi* with false-discovery-rate control "
    "(docs/METHODS.md#hotspots). Each place is named by its LSOA and the most frequent police.uk street in it."
)
DEPRIVATION_METHOD = (
    "Each LSOA's count added up by its IMD 2019 decile (English Indices of Deprivation 2019, 2011 LSOAs matched to "
    "2021), over the residents of those LSOAs (mid-2023): rates a year per 100,000 with 95% intervals (Byar's method "
    "from 10 events, exact Poisson below). The most deprived fifth is deciles 1 and 2."
)
FUNNEL_METHOD = "Funnel limits: exact Poisson, 95% and 99.8%, around the HIPS rate, for each district's population."


class Section:
    """The serious violence sections' common ground: warehouse, area, measure, the period and its note."""

    def __init__(self, state: dict):
        self.wh = wh = warehouse()
        self.districts = tuple(state["districts"])
        self.start, self.end = state["start"], state["end"]
        self.public = wh.audience == "public"
        self.area = published.area_of(wh, self.districts) if self.public else None
        self.place = where(wh, self.districts)
        self.measure = wh.registry.get(ids.FOCUS)
        self.period = period_text(self.start, self.end) if self.start and self.end else "all months"
        self.args = (ids.FOCUS, self.districts, self.start or None, self.end or None, "all")
        self.synthetic = self.measure.source in wh.synthetic_sources()

    def lsoa_period(self) -> tuple[str, str | None, str | None, str | None]:
        """The LSOA sections' period in words, its first and last month and a note: the public get a published
        financial year (the map's), partners the filter's months."""
        if not self.public:
            return self.period, self.start or None, self.end or None, None
        period, note = published_places.lsoa_period(self.wh, ids.FOCUS, self.start, self.end)
        return f"financial year {period.label}", f"{period.start:%Y-%m}", f"{period.end:%Y-%m}", note

    def note(self, period: str) -> list:
        return c.footnote(self.measure, period, self.synthetic)

    def card(self, period, title, summary, figure, table, method, anchor) -> dict:
        return c.card_content(title, summary, figure, table, self.note(period), c.about(self.measure, method, anchor))

    def partner_only(self, title: str, message: str, period: str) -> dict:
        """A card the public release cannot fill: it says why, as a normal state of the page."""
        return self.card(
            period, title, message, go.Figure(partner_only()), html.P(message), message, "small-number-suppression"
        )


FUNNEL_WORDS = {
    "above 99.8%": "above the outer (99.8%) limit",
    "above 95%": "above the inner (95%) limit",
    "within": "within the limits",
    "below 95%": "below the inner (95%) limit",
    "below 99.8%": "below the outer (99.8%) limit",
}


def percent(value) -> str | None:
    """A share as the tables print it; None (printed "*") where hidden."""
    return None if value is None or pd.isna(value) else f"{value:.0%}"


def place_words(wh, codes: list[str], fallback: pd.Series) -> list[str]:
    """Each LSOA named for people (data_access.places.place_names: "Portsmouth 027C, around Commercial Road"),
    else its LSOA name."""
    names = places.place_names(wh, codes) if codes else {}
    return [names.get(code) or name for code, name in zip(codes, fallback, strict=True)]


def places_card(s: Section) -> dict:
    try:
        words, start, end, note = s.lsoa_period()
        top = places.top_places(s.wh, ids.FOCUS, s.districts, start, end, "all", n=10)
    except NotPublished as refused:  # a release without LSOA cells: said, as the Hotspots page says it
        return s.partner_only(f"Top places in {s.place}: shown to partners only", str(refused), s.period)
    if top.empty:
        return s.card(words, f"No serious violence recorded in {s.place}", "", {}, None, PLACES_METHOD, "hotspots")
    top["place"] = place_words(s.wh, top["lsoa21_code"].tolist(), top["lsoa21_name"])
    first = top.iloc[0]
    share = "" if pd.isna(first["share"]) else f", {first['share']:.0%} of the area's total"
    title = f"{first['place']} had the most serious violence in {s.place}: {int(first['count']):,}{share}"
    held = top["cumulative_share"].dropna()
    summary = f"The 10 LSOAs with the most serious violence, {words}." + (
        f" Together they hold {held.iloc[-1]:.0%} of it." if len(held) else ""
    )
    hot = top.loc[top["hotspot"].astype(str).str.startswith("hot"), "place"]
    summary += f" Statistically significant hot spots (Gi*) among them: {', '.join(hot) or 'none'}."
    if note:
        summary += f" {note}"
    top = top.assign(rank=top["rank"].astype(int), count=top["count"].astype(int))
    columns = {
        "place": "Place",
        "rank": "Rank",
        "count": "Offences",
        "share": "Share",
        "cumulative_share": "Cumulative share",
        "hotspot": "Gi* class",
    }
    printed = top.assign(share=top["share"].map(percent), cumulative_share=top["cumulative_share"].map(percent))
    # Shares print as percentages; the CSV download keeps them as fractions (components.keep_data).
    table = c.keep_data(c.table(printed, columns, numeric=("rank", "count", "share", "cumulative_share")), top, columns)
    figure = figs.bars(top.assign(count=top["count"].astype(int)), "place", "count", "Offences")
    return s.card(words, title, summary, figure, table, PLACES_METHOD, "hotspots")


def totals_frame(days: pd.DataFrame, hours: pd.DataFrame) -> pd.DataFrame:
    """The grid's day and hour totals (data_access.places.day_and_hour_totals) as one table: by, when, count."""
    return pd.concat(
        [
            pd.DataFrame({"by": "Day", "when": [WEEKDAYS[int(d)] for d in days["weekday"]], "count": days["count"]}),
            pd.DataFrame({"by": "Hour", "when": [f"{int(h):02d}:00" for h in hours["hour"]], "count": hours["count"]}),
        ],
        ignore_index=True,
    ).astype({"count": "Int64"})


def grid_card(s: Section) -> dict:
    title = f"When serious violence happened in {s.place}"
    try:
        grid = places.hour_by_weekday(s.wh, *s.args)
    except NotPublished as refused:
        return s.partner_only(f"{title}: shown to partners only", str(refused), s.period)
    if grid is None or grid["count"].fillna(0).sum() == 0:
        return s.card(s.period, title, "No times recorded.", {}, None, "Hour of occurrence.", "hotspots")
    days, hours = places.day_and_hour_totals(s.wh, *s.args)  # the Hotspots page's totals, under the same rule
    totals = totals_frame(days, hours)
    shown = totals.dropna(subset=["count"])
    busiest_day = shown[shown["by"] == "Day"].sort_values("count", ascending=False).iloc[0]
    busiest_hour = shown[shown["by"] == "Hour"].sort_values("count", ascending=False).iloc[0]
    title = f"{title}: busiest on {busiest_day['when']}s and at {busiest_hour['when']}"
    summary = (
        f"Hour of the day and day of the week of the offences whose record says when, {s.period}, with the totals "
        f"by hour above and by day beside: busiest {busiest_day['when']} ({int(busiest_day['count']):,}) and "
        f"{busiest_hour['when']}-{busiest_hour['when'][:2]}:59 ({int(busiest_hour['count']):,})."
    )
    table = c.table(totals, {"by": "Totals by", "when": "Day or hour", "count": "Offences"}, numeric=("count",))
    figure = go.Figure(hot_figs.with_totals(hot_figs.hour_weekday_figure(grid), grid, days, hours))
    method = "Hour and day of occurrence as the police record gives it; records without a time are left out."
    return s.card(s.period, title, summary, figure, table, method, "hotspots")


def ages_card(s: Section) -> dict:
    groups = outcomes.age_groups(s.wh, ids.FOCUS, s.districts, s.start or None, s.end or None)
    bands, young, total = groups["bands"], groups["under_25"], groups["total"]
    period = groups["period"].label if groups.get("period") is not None else s.period
    title = (
        f"Under-25s were the victims in {young / total:.0%} of serious violence in {s.place}"
        if young is not None and total
        else f"Victims of serious violence in {s.place} by age"
    )
    summary = f"Victim age, {period}" + (
        f": {young:,} of {total:,} victims were under 25." if young is not None and total is not None else "."
    )
    unknown = bands.loc[bands["group"] == "unknown", "count"]
    if young is not None and total and len(unknown) and pd.notna(unknown.iloc[0]) and total > int(unknown.iloc[0]):
        known = total - int(unknown.iloc[0])
        summary += (
            f" The age is not recorded for {int(unknown.iloc[0]):,}; where it is, {young / known:.0%} were under 25."
        )
    if s.public:
        summary += f" {groups['partner_only']}"
    if groups.get("note"):
        summary += f" {groups['note']}"
    young_labels = {"Under 18", "18 to 24", "Under 25"}
    figure = figs.bars(bands, "label", "count", "Victims", emphasise=young_labels)
    shares = bands.assign(share=bands["share"].map(percent))
    columns = {"label": "Victim age", "count": "Victims", "share": "Share"}
    table = c.keep_data(c.table(shares, columns, numeric=("count", "share")), bands, columns)
    method = "Victim age as recorded by the police; the share of under-25s is of all victims, age not known included."
    return s.card(period, title, summary, figure, table, method, "small-number-suppression")


def _lsoa_counts(s: Section, start, end) -> tuple[pd.DataFrame, float | None]:
    """Every LSOA of the area with its count (NaN where hidden) and the area's total (None where hidden)."""
    lsoas = counts.counts_by_lsoa(s.wh, ids.FOCUS, s.districts, start, end, "all")
    if not s.public:
        return lsoas, float(lsoas["count"].astype(float).sum())
    period = published_places.lsoa_period(s.wh, ids.FOCUS, start, end)[0]
    return lsoas, published_places.area_total(s.wh, ids.FOCUS, s.area, period)


def deprivation_card(s: Section) -> dict:
    title = f"Serious violence by deprivation in {s.place}"
    try:
        words, start, end = s.lsoa_period()[:3]
        lsoas, total = _lsoa_counts(s, start, end)
    except NotPublished as refused:
        return s.partner_only(f"{title}: shown to partners only", str(refused), s.period)
    years = months_in(start, end) / 12 if start and end else 1.0
    deciles = by_decile(lsoas, per=s.measure.per, years=years)
    fifth = deprived_fifth_share(deciles, total)
    people = fifth["population_share"]
    people_words = f"{people:.0%} of residents live there" if people is not None else "no residents live there"
    if fifth["share"] is not None:
        share = f"{fifth['share']:.0%} (95% CI {fifth['lower']:.0%} to {fifth['upper']:.0%})"
    elif fifth["low"] is not None:
        share = f"between {fifth['low']:.0%} and {fifth['high']:.0%} (some LSOAs' counts are hidden)"
    else:
        share = None
    if share is not None:
        title = f"{opening(share)} of serious violence in {s.place} was in the most deprived fifth of LSOAs"
    summary = (
        f"Rates a year per 100,000 residents by IMD 2019 decile of the LSOA, {words}. The most deprived fifth "
        f"(deciles 1 and 2 in England): {people_words}."
    )
    if not deciles["complete"].all():
        summary += " Grey, hatched deciles hold LSOAs whose counts are hidden: their rates are lower bounds (at least)."
    table = c.table(
        deciles.assign(
            decile=deciles["imd_decile"].astype(str),
            exact=np.where(deciles["complete"], "exact", "at least (hidden LSOAs)"),
            population=deciles["population"].round().astype(int),
        ),
        {
            "decile": "IMD decile",
            "lsoas": "LSOAs",
            "population": "Residents",
            "count": "Offences",
            "exact": "Count",
            "rate": "Rate per 100,000 a year",
            "lower": "Lower 95%",
            "upper": "Upper 95%",
        },
        numeric=("lsoas", "population", "count", "rate", "lower", "upper"),
    )
    figure = profile_figs.decile_chart(deciles, "per 100,000 a year")
    return s.card(words, title, summary, figure, table, DEPRIVATION_METHOD, "harm-by-deprivation")


def funnel_card(s: Section) -> dict:
    table = outcomes.district_rates(s.wh, *s.args[:1], *s.args[2:])
    period = table.attrs["period"].label if table.attrs.get("period") is not None else s.period
    shown = table[~table["suppressed"].astype(bool)].reset_index(drop=True)
    hips = float(table["hips_rate"].iloc[0])
    pops = np.linspace(max(table["population"].min() * 0.8, 1), table["population"].max() * 1.1, 60)
    limits = funnel_limits(hips, pops * float(table["years"].iloc[0]), per=s.measure.per).assign(population=pops)
    figure = figs.funnel_plot(shown, limits, "district_name", "per 100,000 a year")
    chosen = table[table["district_code"].isin(s.districts)]
    profile_figs.mark_areas(figure, shown, "district_name", set(chosen["district_name"]))
    outside = shown[shown["funnel"].astype(str).str.contains("99.8")]["district_name"].tolist()
    if len(chosen) == 1:
        row = chosen.iloc[0]
        position = str(row["funnel"])
        words = "hidden (a small number)" if row["suppressed"] else FUNNEL_WORDS.get(position, position)
        title = f"{row['district_name']} is {words} on the funnel plot of HIPS districts"
    else:
        title = (
            f"{', '.join(outside) or 'No district'} {'lie' if len(outside) > 1 else 'lies'} outside the 99.8% limits"
        )
    summary = (
        f"Serious violence rates a year per 100,000 residents of every HIPS district against their size, {period}; "
        f"HIPS {hips:,.1f}. Small districts vary more by chance, so their limits are wider; a district outside the "
        f"99.8% limits differs from HIPS by more than chance."
    )
    if table.attrs.get("note"):
        summary += f" {table.attrs['note']}"
    columns = {"district_name": "District", "population": "Population", "count": "Offences", "rate": "Rate"}
    columns |= {"funnel": "Position on the funnel"}
    frame = table.assign(population=table["population"].round().astype(int))
    return s.card(
        period,
        title,
        summary,
        figure,
        c.table(frame, columns, numeric=("population", "count", "rate")),
        FUNNEL_METHOD,
        "funnel-plots",
    )


def update_where_when(state):
    if not state:
        return no_update
    s = Section(state)
    return {"places": places_card(s), "grid": grid_card(s)}


def update_who(state):
    if not state:
        return no_update
    s = Section(state)
    return {"ages": ages_card(s), "deprivation": deprivation_card(s), "funnel": funnel_card(s)}


# Each section's cards: output group -> (the card's prefix on the page, its name in download file names).
WHERE_CARDS = {"places": (ids.PLACES, "profile-top-places"), "grid": (ids.GRID, "profile-hour-weekday")}
WHO_CARDS = {
    "ages": (ids.AGES, "profile-victim-ages"),
    "deprivation": (ids.DEPRIVATION, "profile-deprivation"),
    "funnel": (ids.FUNNEL, "profile-funnel"),
}


def _outputs(cards: dict) -> dict:
    return {group: c.card_outputs(prefix) for group, (prefix, _name) in cards.items()}


PLACE_AND_PERIOD = inputs.filter_state("districts", "start", "end")
where_callback = guarded(failure_outputs(**dict.fromkeys(WHERE_CARDS, c.card_message)))(
    cached_view(update_where_when, PLACE_AND_PERIOD)
)
who_callback = guarded(failure_outputs(**dict.fromkeys(WHO_CARDS, c.card_message)))(
    cached_view(update_who, PLACE_AND_PERIOD)
)


def register(app: dash.Dash) -> None:
    from vrp.callbacks import profile_about

    app.callback(output=_outputs(WHERE_CARDS), inputs=[Input(STATE, "data")])(where_callback)
    app.callback(output=_outputs(WHO_CARDS), inputs=[Input(STATE, "data")])(who_callback)
    profile_about.register(app)
