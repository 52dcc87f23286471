"""The briefing pack: made from the pages' own views in the request's audience, written as PowerPoint (read back
with python-pptx) and as PDF (read back with pdftotext, as a reader's tools would)."""

import io
import re
import shutil
import subprocess

import pytest
from pptx import Presentation
from pptx.util import Emu

from vrp.briefing import images, make, slides
from vrp.briefing.model import PARTNER_MARKING, SYNTHETIC_LABEL
from vrp.callbacks import knife_crime
from vrp.callbacks.briefing import district_of
from vrp.callbacks.exports import words_of
from vrp.cli import main
from vrp.dashboards import home, profile
from vrp.data_access import outcomes
from vrp.data_access.validation import InvalidQuery

SOUTHAMPTON = "E06000045"


def words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def made(app):
    """One public pack for Southampton, as content and as both files (kaleido draws the charts once)."""
    with app.server.test_request_context("/"):
        pack, pptx = make.build(SOUTHAMPTON, None, None, "pptx")
    return pack, pptx, make.render(pack, "pdf")


def test_the_pack_holds_the_briefing_in_order(made):
    pack, _, _ = made
    assert pack.place == "Southampton" and pack.audience == "public"
    titles = [s.title for s in pack.slides]
    assert titles[0] == "Headline figures"
    assert titles[-1] == "Definitions, sources and what is hidden"
    assert any(t.startswith("Monthly knife-enabled serious violence in Southampton") for t in titles)
    assert any(t.startswith("Where knife-enabled serious violence is concentrated: Southampton") for t in titles)
    assert any("district" in t.lower() for t in titles)  # the district comparison
    charts = [s for s in pack.slides if s.figure is not None]
    assert len(charts) == 6  # SPC, rolling rate, admissions, homicide, map, districts
    # A map slide carries its boundaries: kaleido has no server to fetch them from.
    map_slide = next(s for s in charts if s.title.startswith("Where"))
    map_trace = map_slide.figure.data[0]
    assert isinstance(map_trace.geojson, dict) and map_trace.geojson["features"]
    # Its top places are named as the page names them: the LSOA and its police.uk street.
    places = map_slide.lines[map_slide.lines.index("Top places:") + 1 :]
    assert places and all(re.match(r"Southampton \d{3}[A-Z](, around .+)?: ", line) for line in places)
    assert any(", around " in line for line in places)
    # Each chart is the card's labelled image: it says what, where, when and from what source by itself.
    for chart in charts:
        layout = chart.figure.layout
        words_in = f"{layout.title.text} {layout.title.subtitle.text}"  # the labels block (figures.export)
        assert "Southampton" in words_in and "Source:" in words_in and SYNTHETIC_LABEL in words_in


def test_headline_numbers_are_the_pages_numbers(app, made):
    pack, _, _ = made
    with app.server.test_request_context("/"):
        from vrp.data_access.context import warehouse

        current = outcomes.comparisons(warehouse(), "knife_enabled_sv", (SOUTHAMPTON,))["current"]
        page = knife_crime.update_trend(
            {"districts": [SOUTHAMPTON], "start": pack.months[0], "end": pack.months[1], "age": "all"}
        )
    line = next(x for x in pack.slides[0].lines if x.startswith("Knife-enabled serious violence:"))
    assert f": {current['count']:,} in " in line
    assert f"{current['rate']:.1f} per 100,000 a year (95% CI {current['lower']:.1f} to {current['upper']:.1f})" in line
    assert f"{current['count']:,} offences, {current['rate']:.1f} per 100,000" in words_of(page["change"])


def test_powerpoint_slides_pictures_notes_and_labels(made):
    pack, pptx, _ = made
    prs = Presentation(io.BytesIO(pptx))
    assert round(prs.slide_width / prs.slide_height, 2) == round(16 / 9, 2)
    deck = list(prs.slides)
    assert len(deck) == len(pack.slides) + 1  # the cover first
    assert deck[0].shapes.title.text == "Serious violence briefing: Southampton"
    for slide, item in zip(deck[1:], pack.slides, strict=True):
        assert slide.shapes.title.text == item.title  # an editable title placeholder
        pictures = [s for s in slide.shapes if s.shape_type == 13]
        assert len(pictures) == (1 if item.figure is not None else 0)
        for picture in pictures:  # the chart's own shape, inside its box, with alt text
            width, height = images.png_size(item.picture)
            assert abs(width / height - 16 / 9) < 0.01 and width == 2 * slides.PICTURE_SIZE[0]  # 16:9 at 2x
            assert abs(Emu(picture.width) / Emu(picture.height) - 16 / 9) < 0.01
            assert Emu(picture.width).inches <= 8.61 and Emu(picture.height).inches <= 5.01
            assert picture.image.content_type == "image/png"
            assert picture._element.nvPicPr.cNvPr.get("descr").startswith(item.title)
        text = " ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
        for line in item.lines:
            assert words(line) in words(text)  # the summary stays editable text
        assert SYNTHETIC_LABEL in text  # the demo's partner sources are synthetic
        assert PARTNER_MARKING not in text  # a public pack
        assert words(item.notes) == words(slide.notes_slide.notes_text_frame.text)
    notes = deck[1].notes_slide.notes_text_frame.text
    assert "Knife-enabled serious violence:" in notes  # the headline figures read out


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed")
def test_pdf_text_has_every_slide(made):
    pack, _, pdf = made
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    pages = text.decode().split("\f")[:-1]
    assert len(pages) == len(pack.slides) + 1
    assert "Serious violence briefing: Southampton" in words(pages[0])
    for page, item in zip(pages[1:], pack.slides, strict=True):
        flat = words(page)
        assert words(item.title)[:60] in flat
        assert SYNTHETIC_LABEL in flat


def test_bad_requests_are_refused_in_one_line(tmp_path, demo_warehouse, monkeypatch, capsys):
    with pytest.raises(InvalidQuery, match="district"):
        make.check_request("Southampton; DROP", None, None, "pptx")
    with pytest.raises(InvalidQuery, match="format"):
        make.check_request("HIPS", None, None, "docx")
    with pytest.raises(InvalidQuery, match="after"):
        make.check_request("HIPS", "2026-05", "2026-01", "pdf")
    monkeypatch.setenv("VRP_WAREHOUSE_URL", demo_warehouse.warehouse_url)
    out = tmp_path / "pack.pptx"
    with pytest.raises(SystemExit) as exit_:
        main(["briefing", "--district", "E06999999", "--out", str(out)])
    assert exit_.value.code == 1 and not out.exists()
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("vrp: error:"), err


@pytest.mark.parametrize("missing", ["path", "browser_path"])
def test_no_chromium_is_one_line_and_no_file(tmp_path, demo_warehouse, monkeypatch, capsys, missing):
    """With no chromium to print (none on the PATH, or BROWSER_PATH naming no program) the command says so in
    one line and writes nothing: whether the charts or the printing fail first depends on what ran before."""
    from vrp.briefing.pdf_pack import PrintFailed, render

    monkeypatch.setenv("VRP_WAREHOUSE_URL", demo_warehouse.warehouse_url)
    if missing == "path":
        monkeypatch.setenv("PATH", str(tmp_path))
        monkeypatch.delenv("BROWSER_PATH", raising=False)
    else:
        monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "chromium"))
    with pytest.raises(PrintFailed, match="BROWSER_PATH" if missing == "browser_path" else "No chromium found"):
        render(None)
    out = tmp_path / "pack.pdf"
    with pytest.raises(SystemExit) as exit_:
        main(["briefing", "--district", "HIPS", "--format", "pdf", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 1 and not out.exists()
    assert len(err.splitlines()) == 1 and err.startswith("vrp: error:") and "chromium" in err, err


def test_the_command_writes_a_pack(tmp_path, demo_warehouse, monkeypatch, capsys):
    monkeypatch.setenv("VRP_WAREHOUSE_URL", demo_warehouse.warehouse_url)
    out = tmp_path / "hips.pptx"
    main(["briefing", "--district", "HIPS", "--format", "pptx", "--out", str(out)])
    prs = Presentation(str(out))
    assert prs.slides[0].shapes.title.text == "Serious violence briefing: all of HIPS"
    assert "9 slides, all of HIPS" in capsys.readouterr().out


def test_a_partner_pack_has_any_months_and_the_marking_everywhere(tmp_path, demo_warehouse, monkeypatch, capsys):
    """Partners choose any months (a public pack only published periods); every slide and every chart picture is
    marked OFFICIAL-SENSITIVE; an unknown district is refused, not quietly turned into HIPS."""
    monkeypatch.setenv("VRP_WAREHOUSE_URL", demo_warehouse.warehouse_url)
    monkeypatch.setenv("VRP_AUDIENCE", "partner")
    # The operator's audience, as for `vrp loads`: sign-in settings (for the web server's visitors) do not apply.
    for name, value in (("ISSUER", "http://127.0.0.1:9/"), ("CLIENT_ID", "vrp"), ("CLIENT_SECRET", "s")):
        monkeypatch.setenv(f"VRP_OIDC_{name}", value)
    monkeypatch.setenv("VRP_SECRET_KEY", "x" * 40)
    out = tmp_path / "portsmouth.pptx"
    main(["briefing", "--district", "E06000044", "--from", "2025-05", "--to", "2026-02", "--out", str(out)])
    said = capsys.readouterr()
    assert "Portsmouth, May 2025 to February 2026 (partner audience)" in said.out and said.err == ""
    deck = Presentation(str(out))
    for slide in deck.slides:
        assert PARTNER_MARKING in " ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
    with pytest.raises(SystemExit):
        main(["briefing", "--district", "E06999999", "--out", str(tmp_path / "x.pptx")])
    assert "Unknown district 'E06999999'" in capsys.readouterr().err
    assert not (tmp_path / "x.pptx").exists()


def test_partner_chart_pictures_carry_the_classification(demo_warehouse):
    from vrp.app import create_app

    app = create_app(demo_warehouse.with_(cache_type="SimpleCache", audience="partner", insecure_no_auth=True))
    try:
        with app.server.test_request_context("/"):
            pack = slides.collect(("E06000044",), "2025-05", "2026-02")
    finally:
        for warehouse in app.server.config["VRP_WAREHOUSES"].values():
            warehouse.dispose()
    charts = [s for s in pack.slides if s.figure is not None]
    assert len(charts) == 6 and pack.period == "May 2025 to February 2026"
    for chart in charts:
        assert "OFFICIAL-SENSITIVE" in chart.figure.layout.title.subtitle.text


def test_the_overview_and_the_profile_offer_both_formats():
    """One callback serves both pages (callbacks/briefing.py); the PDF itself is read back in test_briefing.py."""
    for page, layout in (("home", home.layout()), ("profile", profile.layout())):
        found = {str(getattr(node, "id", None)) for node in layout._traverse()}
        assert {f"{page}-pack-pptx", f"{page}-pack-pdf", f"{page}-pack-progress"} <= found


def test_a_pack_covers_one_district_or_hips():
    """Partners may choose several districts; a pack is about one place, so the page says so."""
    assert district_of({"districts": []}) == "HIPS"
    assert district_of({"districts": ["E06000045"]}) == "E06000045"
    with pytest.raises(InvalidQuery, match="one district or all of HIPS"):
        district_of({"districts": ["E06000045", "E07000086"]})


def test_a_card_the_warehouse_cannot_give_is_a_slide_that_says_why(app, monkeypatch):
    """A deployment without one source (admissions not loaded yet) still gets its pack: that slide says why."""
    real = slides.card_export

    def without_admissions(state, card, *args, **kwargs):
        if card == "admissions-trend":
            raise InvalidQuery("No data are loaded yet for hospital admissions.")
        return real(state, card, *args, **kwargs)

    monkeypatch.setattr(slides, "card_export", without_admissions)
    with app.server.test_request_context("/"):
        pack = slides.collect((SOUTHAMPTON,))
    missing = next(s for s in pack.slides if s.title == "Hospital admissions for assault with a sharp object")
    assert missing.figure is None and missing.lines == (
        "Not in this pack: No data are loaded yet for hospital admissions.",
    )
    assert sum(s.figure is not None for s in pack.slides) == 5
