"""Data and definitions: every measure's definition, the sources behind them and what has been loaded (row counts
and the load audit for partners only)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from dash import html

from vrp.dashboards.components import stacked_table
from vrp.data_access.context import warehouse


def _cell(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return f"{value:,}" if isinstance(value, int | np.integer) else str(value)  # 153,602, not 153602


def _table(frame: pd.DataFrame, columns: dict[str, str], table_id: str) -> html.Div:
    """Each row's first cell is its header; counts carry thousands separators and align right; on a phone, rows
    stack (components.stacked_table): seven columns of definitions squeezed to 390 px made rows a screen tall."""
    rows = [
        [(_cell(r[c]), "text-end" if i and isinstance(r[c], int | np.integer) else None) for i, c in enumerate(columns)]
        for _, r in frame.iterrows()
    ]
    return stacked_table(list(columns.values()), rows, table_id)


COUNTS_HIDDEN = (
    "Row counts and the per-file load history are shown to signed-in partners only. A count of a source's records "
    "over its whole coverage, less the published financial years, would give the count for a part of a year that "
    "the public release does not publish, and that could be a small number."
)
SOURCE_COLUMNS = {
    "name": "Source",
    "owner": "Owner",
    "synthetic": "Data",
    "coverage": "Coverage",
    "rows": "Rows",
    "last_load_at": "Last load",
    "sharing_status": "Sharing status",
    "licence": "Licence",
}
LOAD_COLUMNS = {
    "load_id": "Load",
    "source": "Source",
    "file_name": "File",
    "rows_read": "Read",
    "rows_loaded": "Loaded",
    "rows_out_of_area": "Out of area",
    "rows_rejected": "Quarantined",
    "rows_lsoa11_split": "Split 2011 LSOAs",  # rows placed in a district by the split rule (DATA_CONTRACTS.md)
    "mapping": "Mapping",  # the partner's mapping file the load used, if any
    "loaded_at": "Loaded at",
}


def _measures(wh) -> pd.DataFrame:
    floor = wh.settings.public_min_count  # a deployment may raise every measure's threshold
    return pd.DataFrame(
        [
            {
                "label": m.label,
                "id": m.id,
                "definition": m.definition,
                "source": m.source.replace("_", " "),
                "unit": m.unit.replace("_", " ").replace("100k", "100,000"),
                "polarity": m.polarity.replace("_", " "),
                "suppression": f"counts below {max(m.suppress_below, floor)} hidden for the public"
                if max(m.suppress_below, floor) > 1
                else "none",
            }
            for m in wh.registry
        ]
    )


def _sources_and_loads(wh) -> list:
    """The Partnership Data Tracker; for partners also each source's row count and the load audit. The public
    registry carries no row counts (data_access.reference), and the page says why."""
    sources = wh.sources()
    sources["coverage"] = (
        sources["coverage_start"].astype(str).str[:7] + " to " + sources["coverage_end"].astype(str).str[:7]
    )
    partner = wh.audience == "partner"
    columns = {k: v for k, v in SOURCE_COLUMNS.items() if k in sources.columns}
    out = [
        html.H2("Sources (Partnership Data Tracker)", className="h4 mt-4"),
        _table(sources, columns, "data-sources"),
    ]
    if not partner:
        return [*out, html.P(COUNTS_HIDDEN, id="data-counts-hidden", className="small text-muted")]
    return [
        *out,
        html.H2("Load audit", className="h4 mt-4"),
        _table(_loads(wh), LOAD_COLUMNS, "data-loads"),
    ]


def _loads(wh) -> pd.DataFrame:
    loads = wh.load_audit()
    # Loads made before the split-LSOA count have none (NULL): blank, and the others whole numbers, not 0.0.
    split = loads["rows_lsoa11_split"]
    loads["rows_lsoa11_split"] = split.astype("Int64").astype(object).where(split.notna(), None)
    return loads


def layout() -> html.Div:
    wh = warehouse()
    loaded = "every file loaded" if wh.audience == "partner" else "when each was last loaded"
    return html.Div(
        [
            html.H1("Data and definitions", className="h2 mt-3"),
            html.P(
                "What each measure counts, where the data come from, on what terms they are shared, and "
                f"{loaded}. Definitions live in the measure registry (config/measures.toml); statistical methods "
                "are described in docs/METHODS.md."
            ),
            html.H2("Measures", className="h4 mt-4"),
            _table(
                _measures(wh),
                {
                    "label": "Measure",
                    "id": "Id",
                    "definition": "Definition",
                    "source": "Source",
                    "unit": "Unit",
                    "polarity": "Polarity",
                    "suppression": "Small numbers",
                },
                "data-measures",
            ),
            *_sources_and_loads(wh),
        ]
    )
