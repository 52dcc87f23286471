"""The "Download briefing pack" controls the Overview and the district profile share: PowerPoint or PDF of the
area and period on the page, with a progress line while the pack is made (callbacks/briefing.py)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

PAGES = ("home", "profile")  # the pages that offer a pack, by their id prefix
FORMATS = (("pptx", "PowerPoint"), ("pdf", "PDF"))


def ids(page: str) -> dict[str, str]:
    """The controls' ids on ``page``: one button per format, the download, the progress line, the message."""
    return {
        **{fmt: f"{page}-pack-{fmt}" for fmt, _ in FORMATS},
        "download": f"{page}-pack-download",
        "progress": f"{page}-pack-progress",
        "message": f"{page}-pack-message",
        "label": f"{page}-pack-label",
    }


def pack_controls(page: str) -> html.Div:
    """Two buttons in a labelled group; the progress line is a live region, so a screen reader hears it too."""
    found = ids(page)
    buttons = [
        dbc.Button(name, id=found[fmt], color="primary", outline=True, size="sm", className="me-1")
        for fmt, name in FORMATS
    ]
    return html.Div(
        [
            html.Div(
                [html.Span("Download briefing pack:", id=found["label"], className="me-2 align-self-center"), *buttons],
                role="group",
                className="d-flex flex-wrap align-items-center gap-1",
                **{"aria-labelledby": found["label"]},
            ),
            html.Div(
                "Slides for a meeting: headline figures, the trend, admissions, homicide, the hotspot map and the "
                "districts compared, each chart labelled with its source, for the area and period shown here.",
                className="small text-muted",
            ),
            html.Div(id=found["progress"], role="status", className="small"),
            html.Div(id=found["message"]),
            dcc.Download(id=found["download"]),
        ],
        className="vrp-no-print d-print-none my-2",
    )
