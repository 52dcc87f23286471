"""Pieces every outcome page uses, so each chart carries the same things: a title that states the finding, the
chart, a table alternative, a plain-language summary, the source and period, the measure's definition and
method, and the synthetic label where the source is synthetic."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import Output, dcc, html

from vrp.data_access.measures import Measure
from vrp.figures.theme import stamp, wrap

METHODS_DOC = "docs/METHODS.md"
SOURCE_NAMES = {
    "police_records": "Police recorded crime, Hampshire and Isle of Wight Constabulary",
    "police_uk": "data.police.uk street-level crime",
    "admissions": "Hospital Episode Statistics (NHS England), ICD-10 X99",
    "homicides": "Homicide records (Home Office Homicide Index / force major crime)",
    "ons_knife": "Office for National Statistics, knife or sharp instrument offences by police force",
}


# Pattern-matching ids of a card's export controls (callbacks/exports.py answers them), keyed by the card's prefix.
EXPORT_CSV, EXPORT_PNG, EXPORT_SVG = "vrp-export-csv", "vrp-export-png", "vrp-export-svg"
DOWNLOAD_CSV, DOWNLOAD_IMAGE, EXPORT_VIEW = "vrp-download-csv", "vrp-download-image", "vrp-export-view"
EXPORT_MESSAGE = "vrp-export-message"
# The modebar keeps zoom, pan, reset and the camera only: no "Share chart" / "Edit in Chart Studio" (they would
# send the figure to Plotly's cloud) and no selection or hover-mode tools nobody here uses.
MODEBAR_REMOVE = [
    "sendDataToCloud",
    "editInChartStudio",
    "select2d",
    "lasso2d",
    "autoScale2d",
    "toggleSpikelines",
    "hoverClosestCartesian",
    "hoverCompareCartesian",
]


def graph_config(filename: str = "chart", **overrides) -> dict:
    """The one modebar configuration of every dcc.Graph. The camera downloads at 2x with a name of the chart's
    own; where the chart has export controls, assets/vrp-export.js sends the click to the server's labelled PNG."""
    return {
        "displaylogo": False,
        "showSendToCloud": False,
        "showEditInChartStudio": False,
        "modeBarButtonsToRemove": MODEBAR_REMOVE,
        "toImageButtonOptions": {"format": "png", "scale": 2, "filename": filename},
        **overrides,
    }


def graph(graph_id: str) -> dcc.Graph:
    return dcc.Graph(id=graph_id, config=graph_config(graph_id))


def export_controls(prefix: str, *, graph_id: str | None = None, image: bool = True) -> html.Div:
    """The "Download data (CSV)" and, for a chart, "Download image" as PNG or SVG, each with its dcc.Download, so a
    page needs nothing else: callbacks/exports.py finds the card's view by ``prefix``. ``graph_id`` names the
    chart whose modebar camera should fetch the labelled PNG (assets/vrp-export.js)."""
    button = "btn btn-outline-secondary btn-sm"
    controls = [html.Button("Download data (CSV)", id={"type": EXPORT_CSV, "card": prefix}, className=button)]
    if image:
        graph_id = graph_id or f"{prefix}-graph"
        label_id = f"{prefix}-image-label"
        # The buttons' names stay their visible text ("PNG"); the group's label says what they download, so a
        # screen reader hears "Download image, group, PNG, button" and voice control can say "click PNG".
        controls += [
            html.Div(
                [
                    html.Span("Download image:", id=label_id, className="small text-muted ms-2 me-1 align-self-center"),
                    *[
                        html.Button(
                            kind.upper(),
                            id={"type": type_, "card": prefix},
                            className=button + f" vrp-export-{kind}",
                            title=f"Download the chart as a labelled {kind.upper()} image",
                            **{"data-vrp-graph": graph_id},
                        )
                        for kind, type_ in (("png", EXPORT_PNG), ("svg", EXPORT_SVG))
                    ],
                ],
                role="group",
                className="d-flex flex-wrap gap-1",
                **{"aria-labelledby": label_id},
            ),
            dcc.Download(id={"type": DOWNLOAD_IMAGE, "card": prefix}),
        ]
    # What the card's view was asked beyond the filters (the map's colouring, the evaluate page's question).
    controls += [
        dcc.Download(id={"type": DOWNLOAD_CSV, "card": prefix}),
        dcc.Store(id={"type": EXPORT_VIEW, "card": prefix}),
    ]
    return html.Div(
        [
            html.Div(controls, className="d-flex flex-wrap gap-1"),
            html.Div(id={"type": EXPORT_MESSAGE, "card": prefix}, role="status"),
        ],
        className="mt-2 vrp-export d-print-none",
    )


def chart_card(prefix: str, *, height: int | None = None) -> dbc.Card:
    """An empty card the page's callback fills: ``{prefix}-title``, ``-graph``, ``-summary``, ``-table``,
    ``-footnote``, ``-about``; with its CSV and image downloads."""
    return dbc.Card(
        dbc.CardBody(
            [
                html.H3(id=f"{prefix}-title", className="h5"),
                html.P(id=f"{prefix}-summary", className="mb-1"),
                dcc.Graph(
                    id=f"{prefix}-graph",
                    config=graph_config(prefix),
                    style={"height": f"{height}px"} if height else None,
                ),
                html.Details(
                    [html.Summary("Show the data as a table"), html.Div(id=f"{prefix}-table", className="mt-2")],
                    className="mt-1",
                ),
                export_controls(prefix),
                html.P(id=f"{prefix}-footnote", className="small text-muted mt-2 mb-1"),
                html.Div(id=f"{prefix}-about"),
            ]
        ),
        className="mb-3 shadow-sm vrp-card-sourced",  # its footnote repeats the chart's source (assets/vrp.css)
    )


# A chart card's values by name: a callback's output group for one card (``card_outputs``) and the dict that fills
# it (``card_content``, ``card_message``) use these keys, so no caller counts positions.
CARD_PARTS = ("title", "summary", "figure", "table", "footnote", "about")


def card_outputs(prefix: str) -> dict[str, Output]:
    """The outputs of a ``chart_card``, named as ``card_content`` names its values."""
    return {
        part: Output(f"{prefix}-graph", "figure") if part == "figure" else Output(f"{prefix}-{part}", "children")
        for part in CARD_PARTS
    }


def card_content(title: str, summary, figure, table, footnote, about) -> dict:
    """The card's values; the footnote is also written into the figure, so a downloaded image carries its
    source and, for synthetic data, the label."""
    if isinstance(figure, go.Figure):
        stamp(figure, wrap("".join(footnote) if isinstance(footnote, list) else str(footnote)))
    return dict(zip(CARD_PARTS, (title, summary, figure, table, footnote, about), strict=True))


def warning(message: str) -> dbc.Alert:
    """A message in place of a view: a refused value, or an apology (callbacks.polite)."""
    return dbc.Alert(message, color="warning", className="my-2")


def card_message(message: str) -> dict:
    """A card that could not be drawn: the message where the summary goes, everything else empty."""
    return card_content("", warning(message), {}, None, "", None)


def measure_card(
    wh, measure: Measure, period: str, title: str, summary, figure, table, method: str, anchor: str
) -> dict:
    """A chart card for one measure: its source footnote (with the synthetic label when the source is synthetic)
    and "about this measure" with the method and where it is written up."""
    synthetic = measure.source in wh.synthetic_sources()
    return card_content(
        title, summary, figure, table, footnote(measure, period, synthetic), about(measure, method, anchor)
    )


def footnote(measure: Measure, period: str, synthetic: bool) -> list:
    parts = [f"Source: {SOURCE_NAMES.get(measure.source, measure.source)}. Period: {period}."]
    if synthetic:
        parts.append(" SYNTHETIC demonstration data: not real records; do not publish.")
    return parts


def about(measure: Measure, method: str, anchor: str) -> html.Details:
    """The measure's definition from the registry and the method, with where the method is written up."""
    return html.Details(
        [
            html.Summary("About this measure"),
            html.P(measure.definition, className="mt-2"),
            html.P(method),
            html.P(
                ["Methods: ", html.Code(f"{METHODS_DOC}#{anchor}"), f". Measure id: {measure.id}."],
                className="small text-muted",
            ),
        ],
        className="small",
    )


def table(
    frame: pd.DataFrame, columns: dict[str, str], table_id: str | None = None, numeric: tuple[str, ...] = ()
) -> dbc.Table:
    """A plain accessible table: header cells scoped, numbers right-aligned, hidden values as "*"."""
    head = html.Thead(html.Tr([html.Th(label, scope="col") for label in columns.values()]))
    rows = []
    for _, r in frame.iterrows():
        cells = []
        for i, c in enumerate(columns):
            value = r[c]
            text = (
                "*"
                if value is None or (not isinstance(value, str) and pd.isna(value))
                else (
                    f"{value:,}"
                    if isinstance(value, int)
                    else f"{value:,.1f}"
                    if isinstance(value, float)
                    else str(value)
                )
            )
            cell = (
                html.Th(text, scope="row") if i == 0 else html.Td(text, className="text-end" if c in numeric else None)
            )
            cells.append(cell)
        rows.append(html.Tr(cells))
    kwargs = {"id": table_id} if table_id else {}
    return keep_data(
        dbc.Table([head, html.Tbody(rows)], size="sm", striped=True, responsive=True, className="small", **kwargs),
        frame,
        columns,
    )


_EXPORT_ATTR = "_vrp_export"


def keep_data(component, frame: pd.DataFrame, columns: dict[str, str]):
    """Keep the values a table shows (only its ``columns``, under their labels, a hidden value as missing) on its
    component, for its CSV download. Not a Dash property, so never sent to the browser; it survives ``freeze``
    and the view cache (pickled with the component), so the CSV is the very output the card shows."""
    shown = frame[list(columns)].rename(columns=columns).reset_index(drop=True)
    setattr(component, _EXPORT_ATTR, shown)
    return component


def kept_data(component) -> pd.DataFrame | None:
    """The values ``keep_data`` kept on a component, or None."""
    frame = getattr(component, _EXPORT_ATTR, None)
    return frame.copy() if isinstance(frame, pd.DataFrame) else None


def stacked_table(columns: list[str], rows: list[list], table_id: str, class_name: str = "table-sm small") -> html.Div:
    """A table whose rows stack into blocks on a phone, every cell after its column's name (assets/vrp.css,
    ``vrp-stack``): wide tables squeezed to 390 px ran off the side with no sign they scroll. Each row is a list of
    cells, the first the row's header; a cell is its content, or (content, class name). The roles repeat what the
    elements are, because a table drawn as blocks loses its table semantics in some browsers (Safari)."""
    head = html.Thead(
        html.Tr([html.Th(label, scope="col", role="columnheader") for label in columns], role="row"),
        role="rowgroup",
    )
    body = []
    for row in rows:
        cells = []
        for i, (cell, label) in enumerate(zip(row, columns, strict=True)):
            content, cls = cell if isinstance(cell, tuple) else (cell, None)
            if i == 0:
                cells.append(html.Th(content, scope="row", role="rowheader", className=cls))
            else:
                cells.append(html.Td(content, className=cls, role="cell", **{"data-label": label}))
        body.append(html.Tr(cells, role="row"))
    # dbc.Table's own markup, with the role it takes no argument for.
    return html.Div(
        html.Table(
            [head, html.Tbody(body, role="rowgroup")],
            id=table_id,
            className=f"table table-striped {class_name} vrp-stack",
            role="table",
        ),
        className="table-responsive",
    )
