"""Downloads (issue #13): each card's CSV is the table and the chart it shows, a hidden value is an empty cell,
the metadata rides on every row, file names say what a file holds, exported images carry their labels, and the
modebar offers no "Share chart"."""

import csv
import io
import math
import re

import plotly.graph_objects as go
import pytest
from dash import dcc, html

from vrp.callbacks import exports as ex
from vrp.dashboards import components as c
from vrp.data_access.validation import InvalidQuery
from vrp.figures import export as fx

SOTON = "E06000045"
STATE = {"districts": [SOTON], "start": "2025-10", "end": "2026-09", "measure": "knife_enabled_sv", "age": "all"}
# Cards the public release cannot fill for this state (each says why on the page): nothing to download.
PUBLIC_EMPTY = {"knife-offences", "homicide-methods", "hotspots-heatmap", "profile-grid"}
REFERENCE_LINES = re.compile(r"limit|mean|evenly|HIPS rate|^$", re.IGNORECASE)


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def number(text: str):
    try:
        return float(text)
    except ValueError:
        return None


def csv_numbers(records: list[dict], columns: list[str]) -> list[float]:
    return [v for r in records for col in columns if (v := number(r[col])) is not None]


def trace_values(figure: dict) -> list[float]:
    """The plotted values of the data traces (not limits, means or the line of equality): y, x of a horizontal
    bar or an interval chart with names on the y axis, z of a map or grid."""
    values = []
    for trace in go.Figure(figure).data:
        if REFERENCE_LINES.search(trace.name or ""):
            continue
        if getattr(trace, "z", None) is not None:
            data = [v for row in trace.z for v in (row if isinstance(row, (list, tuple)) else [row])]
        elif trace.x is not None and trace.y is not None and all(isinstance(v, str) for v in trace.y):
            data = trace.x
        else:
            data = trace.y if trace.y is not None else []
        values += [float(v) for v in data if isinstance(v, (int, float)) and not math.isnan(float(v))]
    return values


def shown_cells(table) -> list[list[str]]:
    """The text of each body row of a rendered table component."""
    body = next(ch for ch in table.children if isinstance(ch, html.Tbody))
    return [[str(cell.children) for cell in tr.children] for tr in body.children]


def close(value: float, candidates: list[float], tol: float = 0.051) -> bool:
    return any(abs(value - x) <= tol or abs(value - 100 * x) <= tol for x in candidates)


# The evaluate page's cards answer the page's own question (kept in the card's export store), not the filters.
ASKED = {
    "measure": "knife_enabled_sv",
    "area": ["E06000045"],
    "start": "2024-04",
    "phase_in": "0",
    "comparison": "E06000044",  # Portsmouth: its series is a line of the chart, so a column of the CSV
    "months_after": "12",
}


def check_card(card: str, state: dict) -> ex.CardExport:
    spec = ex.CARDS[card]
    options = ASKED if spec.page == "evaluate" else None
    export = ex.card_export(state, card, options)
    records = rows(export.csv())
    data_columns = [col for col in export.frame.columns if col not in ex.META_COLUMNS]
    # The metadata on every row: one measure, place and period, a source, and the synthetic flag as true/false.
    constant = ("place", "period", "audience") if spec.page == "home" else ex.META_COLUMNS  # home: a measure a row
    for key in ex.META_COLUMNS:
        assert key in records[0] and records[0]["source"], (card, key)
        assert key not in constant or all(r[key] == records[0][key] for r in records), (card, key)
    assert records[0]["synthetic"] in ("true", "false")
    if spec.page != "home":
        assert {r["measure_id"] for r in records} == {export.meta["measure_id"]}
    shown_parts = spec.parts(spec.view(state, options))
    # The chart: every value it plots is in the CSV (as shown, to the table's rounding; shares as fractions).
    if spec.figure is not None and shown_parts[spec.figure]:
        plotted = trace_values(shown_parts[spec.figure])
        numbers = csv_numbers(records, data_columns)
        missing = [v for v in plotted if not close(v, numbers)]
        assert not missing, (card, missing[:5])
    # The table: same rows; a "*" is an empty cell (never a number); each number as shown.
    table = shown_parts[spec.table] if spec.table is not None else None
    if table is not None and c.kept_data(table) is not None and spec.page not in ("home", "hotspots"):
        shown = shown_cells(table)
        assert len(shown) == len(records), card
        for cells, record in zip(shown, records, strict=True):
            for text, col in zip(cells, data_columns, strict=True):
                if text == "*":
                    assert record[col] == "", (card, col, record[col])
                elif re.fullmatch(r"-?[0-9.]+%", text):  # a share printed as a percentage: a fraction in the CSV
                    assert abs(float(text[:-1]) / 100 - float(record[col])) <= 0.0051, (card, col, text)
                elif re.fullmatch(r"-?[0-9,]+(\.[0-9]+)?", text):
                    assert abs(float(text.replace(",", "")) - float(record[col])) <= 0.051, (card, col, text)
                else:
                    assert record[col] == text, (card, col, text, record[col])
    return export


@pytest.mark.parametrize("card", ex.cards())
def test_each_public_csv_is_its_chart_and_table(app, card):
    with app.server.test_request_context("/"):
        if card in PUBLIC_EMPTY:
            with pytest.raises(InvalidQuery, match="no data to download"):
                ex.card_export(STATE, card)
            return
        export = check_card(card, STATE)
    assert export.meta["audience"] == "public"
    assert export.stem.endswith(("2025-10_2026-09", "fy2025-26", "fy2008-09_fy2018-19", "fy2018-19")) or re.search(
        r"_\d{4}-\d{2}_\d{4}-\d{2}$", export.stem
    ), export.stem


@pytest.mark.parametrize(
    "card", sorted(PUBLIC_EMPTY - {"profile-grid"} | {"knife-spc", "hotspots-map", "knife-districts"})
)
def test_partner_csv_is_its_chart_and_table(partner_app, card):  # noqa: F811
    with partner_app.server.test_request_context("/"):
        export = check_card(card, STATE)
    assert export.meta["audience"] == "partner" and export.labels.classification == "OFFICIAL-SENSITIVE"


def test_public_csv_hides_what_the_page_hides(app):
    """Every "*" of the LSOA table is an empty cell of the map's CSV, and no other count is missing."""
    with app.server.test_request_context("/"):
        export = ex.card_export({**STATE, "districts": []}, "hotspots-map")
        table = ex.CARDS["hotspots-map"].view({**STATE, "districts": []}, None)["table"]
    shown = {cells[0]: cells[3] for cells in shown_cells(table)}
    records = {r["LSOA"]: r for r in rows(export.csv())}
    assert set(shown) == set(records) and len(records) > 1000
    hidden = [code for code, text in shown.items() if text == "*"]
    assert hidden, "the demo warehouse hides some LSOA counts"
    assert all(records[code]["Count"] == "" for code in hidden)
    assert all(records[code]["Count"] != "" for code in set(shown) - set(hidden))


def test_file_names_say_measure_card_place_and_period(app):
    with app.server.test_request_context("/"):
        names = {card: ex.card_export(STATE, card).stem for card in ("admissions-ages", "knife-ages", "hotspots-map")}
        u25 = ex.card_export({**STATE, "districts": [], "age": "u25"}, "knife-spc").stem
    assert names["admissions-ages"] == "sharp-object-admissions_ages_southampton_2025-10_2026-09"
    assert names["knife-ages"] == "knife-enabled-sv_victim-ages_southampton_2025-10_2026-09"
    assert names["hotspots-map"] == "knife-enabled-sv_map_southampton_fy2025-26"
    assert u25.startswith("knife-enabled-sv_monthly-spc_hips_under-25_")
    assert len(set(names.values())) == len(names)  # two charts of one page never share a name
    assert fx.period_slug("12 months to Sep 2026") == "2025-10_2026-09"
    assert fx.period_slug("financial year 2025/26") == "fy2025-26"


def test_bad_card_or_state_is_refused_politely(app):
    with app.server.test_request_context("/"):
        for card in ("nope", None, {"a": 1}, "../../etc/passwd"):
            with pytest.raises(InvalidQuery, match="no download of that name"):
                ex.card_export(STATE, card)
        for state in (None, "x", {**STATE, "districts": ["'; DROP TABLE x"]}, {**STATE, "start": "9999-99"}):
            with pytest.raises(InvalidQuery):
                ex.card_export(state, "knife-ages")
        with pytest.raises(InvalidQuery, match="PNG or SVG"):
            ex.card_image(STATE, "knife-ages", "pdf")


def test_download_callbacks_answer_over_http(app):
    """The browser's request: a CSV download with a file name, and a refused card as a message, never a 500."""
    client = app.server.test_client()
    deps = client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if c.DOWNLOAD_CSV in d["output"])

    def post(card):
        body = {
            "output": dep["output"],
            "outputs": [
                {"id": {"card": card, "type": c.DOWNLOAD_CSV}, "property": "data"},
                {"id": {"card": card, "type": c.EXPORT_MESSAGE}, "property": "children"},
            ],
            "inputs": [{"id": {"card": card, "type": c.EXPORT_CSV}, "property": "n_clicks", "value": 1}],
            "state": [
                {"id": "filter-state", "property": "data", "value": STATE},
                {"id": {"card": card, "type": c.EXPORT_VIEW}, "property": "data", "value": None},
            ],
            "changedPropIds": [f'{{"card":"{card}","type":"{c.EXPORT_CSV}"}}.n_clicks'],
        }
        return client.post("/_dash-update-component", json=body)

    ok = post("knife-ages")
    assert ok.status_code == 200
    sent = next(iter(ok.get_json()["response"].values()))["data"]
    assert sent["filename"] == "knife-enabled-sv_victim-ages_southampton_2025-10_2026-09.csv"
    assert sent["content"].startswith("Victim age,Offences,Share,measure,")
    refused = post("no-such-card")
    assert refused.status_code == 200
    assert "no download of that name" in str(refused.get_json())


def test_exported_image_carries_its_labels(app):
    with app.server.test_request_context("/"):
        export = ex.card_export(STATE, "knife-ages")
        svg = export.image("svg").decode()
        png = export.image("png")
    layout = export.figure.layout
    words = [export.labels.title[:30], "Knife-enabled serious violence", "Southampton", export.labels.period]
    words += ["Source:", "Extract date"]
    text = layout.title.text + layout.title.subtitle.text
    assert all(w in text for w in words), text
    assert ("SYNTHETIC" in text) == export.labels.synthetic
    svg_text = re.sub(r"<[^>]+>", " ", svg).replace("&nbsp;", " ")
    assert all(w.replace("&", "&amp;") in svg_text or w in svg_text for w in ["Southampton", "Source:", "Extract date"])
    assert "SYNTHETIC" in svg_text if export.labels.synthetic else True
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(png[16:20], "big") == fx.SCALE * fx.WIDTH  # 2x for print


def test_map_image_is_large_and_labelled(app):
    with app.server.test_request_context("/"):
        export = ex.card_export(STATE, "hotspots-map", {"mode": "rate"})
    assert (export.figure.layout.width, export.is_map) == (fx.MAP_SIZE[0], True)
    assert "Southampton" in export.figure.layout.title.subtitle.text


def test_modebar_has_no_share_button_anywhere(app):
    """Every dcc.Graph of every page takes the one config: no Share / Chart Studio, no logo, a 2x camera."""
    config = c.graph_config("x")
    assert config["showSendToCloud"] is False and config["showEditInChartStudio"] is False
    assert {"sendDataToCloud", "editInChartStudio", "lasso2d"} <= set(config["modeBarButtonsToRemove"])
    from vrp.dashboards.pages import pages

    graphs = []

    def walk(node):
        if isinstance(node, dcc.Graph):
            graphs.append(node)
        kids = getattr(node, "children", None)
        for kid in kids if isinstance(kids, (list, tuple)) else [kids]:
            if kid is not None and not isinstance(kid, (str, int, float)):
                walk(kid)

    with app.server.test_request_context("/"):
        for page in pages():
            walk(page.layout())
    assert len(graphs) >= 10
    for g in graphs:
        cfg = g.config or {}
        if cfg.get("staticPlot") or cfg.get("displayModeBar") is False:
            continue
        assert cfg.get("showSendToCloud") is False and cfg["toImageButtonOptions"]["scale"] == 2, g.id


def test_top_places_csv_is_every_row_of_its_table_with_shared_ranks(app):
    """The table prints "=2" for a shared rank, names each place by its street, and lists the hot spots outside
    the top: the CSV carries all three."""
    with app.server.test_request_context("/"):
        export = ex.card_export(STATE, "hotspots-top")
        table = ex.CARDS["hotspots-top"].parts(ex.CARDS["hotspots-top"].view(STATE, None))["top"]
    records = rows(export.csv())
    shown = [r for r in shown_cells(table) if len(r) > 1]  # less the "outside the top" heading row
    assert len(records) == len(shown)
    for cells, record in zip(shown, records, strict=True):
        assert cells[0] == ("=" if record["Rank shared"] == "true" else "") + record["Rank"]
        assert cells[1].startswith(f"['{record['Place name']}'")  # the name, then the code in a span
    ranks = [r["Rank"] for r in records]
    assert any(ranks.count(r) > 1 for r in ranks)  # the demo has ties in its top places
    assert all(r["Rank shared"] == "true" for r in records if ranks.count(r["Rank"]) > 1)
