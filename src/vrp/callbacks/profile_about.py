"""The district profile's last section: the definition of every measure it shows, its sources (owner, licence,
coverage, whether synthetic) and what is hidden from this audience, and why."""

from __future__ import annotations

import dash
import pandas as pd
from dash import Input, Output, html, no_update

from vrp.callbacks import cached_view, guarded, inputs, polite
from vrp.dashboards import components as c
from vrp.dashboards import profile as ids
from vrp.dashboards.filters import STATE
from vrp.data_access.context import warehouse
from vrp.data_access.published_counts import OFFENCES_PARTNER_ONLY
from vrp.data_access.published_outcomes import AGE_BANDS_PARTNER_ONLY
from vrp.data_access.published_places import PARTNER_ONLY_GRID


def _measures(wh) -> list:
    shown = {ids.FOCUS, ids.TREND_MEASURE}
    return [m for m in wh.registry if (m.headline and "district" in m.geography_levels) or m.id in shown]


def definitions(wh) -> html.Div:
    return html.Div(
        [
            html.H3("Definitions", className="h5"),
            html.Dl(
                [part for m in _measures(wh) for part in (html.Dt(m.label), html.Dd(m.definition, className="small"))]
            ),
        ],
        className="vrp-profile-block",
    )


def sources(wh) -> html.Div:
    frame = wh.sources()
    used = {m.source for m in _measures(wh)}
    frame = frame[frame["source_id"].isin(used)].copy()
    frame["coverage"] = [
        f"{pd.Timestamp(a):%b %Y} to {pd.Timestamp(b):%b %Y}" if pd.notna(a) and pd.notna(b) else "none loaded"
        for a, b in zip(frame["coverage_start"], frame["coverage_end"], strict=True)
    ]
    frame["data"] = frame["synthetic"].map(lambda v: "SYNTHETIC" if v in ("synthetic", "mixed") else "real")
    frame["loaded"] = frame["last_load_at"].map(lambda v: f"{pd.Timestamp(v):%-d %b %Y}" if pd.notna(v) else "never")
    columns = {
        "name": "Source",
        "owner": "Owner",
        "licence": "Licence",
        "coverage": "Coverage",
        "loaded": "Extract loaded",
        "data": "Data",
    }
    return html.Div(
        [
            html.H3("Sources", className="h5"),
            c.table(frame, columns, table_id="profile-sources"),
            html.P(
                "Population: ONS mid-2023 estimates by LSOA. Deprivation: English Indices of Deprivation 2019. "
                "Boundaries: ONS, OGL v3.0. The national knife crime series (ONS) is force-level only: see "
                "National comparison.",
                className="small",
            ),
        ],
        className="vrp-profile-block",
    )


def hidden(wh) -> html.Div:
    """What this audience does not see on this page, and why: the rules, not the cells."""
    if wh.audience != "public":
        items = [
            "Nothing is hidden from partners: every count is true. These figures are OFFICIAL-SENSITIVE: share them "
            "only as the data sharing agreements allow, and use the public profile for anything published.",
        ]
    else:
        rules = [
            f"{m.label}: counts from 1 to {max(m.suppress_below, wh.settings.public_min_count) - 1} are hidden (*)"
            for m in _measures(wh)
            if max(m.suppress_below, wh.settings.public_min_count) > 1
        ]
        items = [
            "Small numbers are hidden so that no one can be identified: "
            + "; ".join(rules)
            + ". Further cells are hidden where a published total would give a hidden one away (secondary "
            "suppression, checked across every published figure at once).",
            "Every figure is a published cell, or computed only from published cells: one district or all of HIPS, "
            "for fixed periods (months, quarters, financial years, rolling 12 months, as each measure allows). "
            "LSOAs (top places, deprivation) are published by financial year only.",
            PARTNER_ONLY_GRID,
            AGE_BANDS_PARTNER_ONLY,
            OFFENCES_PARTNER_ONLY,
            "Where an LSOA's count is hidden, deprivation deciles holding it show lower bounds, and the most deprived "
            "fifth's share a range.",
        ]
    return html.Div(
        [html.H3("What is hidden, and why", className="h5"), html.Ul([html.Li(i) for i in items])],
        className="vrp-profile-block",
    )


def update_about(state):
    if not state:
        return no_update
    wh = warehouse()
    method = html.P(
        ["Methods: rates, intervals, SPC, funnels and suppression are written up in ", html.Code(c.METHODS_DOC), "."],
        className="small",
    )
    return html.Div([definitions(wh), sources(wh), hidden(wh), method])


about_callback = guarded(polite)(cached_view(update_about, inputs.filter_state("districts")))


def register(app: dash.Dash) -> None:
    app.callback(Output(ids.ABOUT, "children"), Input(STATE, "data"))(about_callback)
