"""Make a briefing pack file: for the command line (``vrp briefing``) and the pages' "Download briefing pack"."""

from __future__ import annotations

import io
import logging
import re
from datetime import date
from pathlib import Path

from vrp.briefing import images, pdf_pack, pptx_pack, slides
from vrp.briefing.model import Pack
from vrp.data_access.validation import HIPS, InvalidQuery, parse_month

FORMATS = {
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "pdf": "application/pdf",
}


def check_request(district: str, start: str | None, end: str | None, fmt: str) -> tuple[tuple[str, ...], str, str]:
    """The pack's districts and months, refused politely when malformed (the warehouse checks the codes)."""
    if fmt not in FORMATS:
        raise InvalidQuery(f"Unknown pack format {fmt!r}: choose pptx or pdf.")
    if not isinstance(district, str) or not re.fullmatch(r"HIPS|E0[6-9]\d{6}", district):
        raise InvalidQuery(f"Unknown district {district!r}: give a district code (E0...) or HIPS.")
    start_month, end_month = parse_month(start, "start"), parse_month(end, "end")
    if start_month and end_month and start_month > end_month:
        raise InvalidQuery("The pack's first month is after its last month.")
    districts = () if district == HIPS else (district,)
    return districts, f"{start_month:%Y-%m}" if start_month else "", f"{end_month:%Y-%m}" if end_month else ""


def build(
    district: str, start: str | None, end: str | None, fmt: str, made_on: date | None = None
) -> tuple[Pack, bytes]:
    """The pack and its file's bytes, made in the current request's audience (call inside a request context)."""
    districts, first, last = check_request(district, start, end, fmt)
    if fmt == "pdf":
        pdf_pack.find_browser()  # no chromium to print with: say so before drawing a single chart
    pack = images.draw(slides.collect(districts, first, last, made_on))
    return pack, render(pack, fmt)


def render(pack: Pack, fmt: str) -> bytes:
    """A drawn pack's file in ``fmt``."""
    if fmt == "pptx":
        buffer = io.BytesIO()
        pptx_pack.write(pack, buffer)
        return buffer.getvalue()
    return pdf_pack.render(pack)


def file_name(pack: Pack, fmt: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", f"{pack.place} {pack.period}".lower()).strip("-")
    return f"briefing_{slug}.{fmt}"


def _operator_app(settings):
    """The app as the operator's own tool: its audience is VRP_AUDIENCE, as for ``vrp loads``, never a browser's
    sign-in (a command line has none), so sign-in settings are set aside and a partner operator gets partners'
    figures. The warning about partner data served to visitors without sign-in is for web servers: none here."""
    from vrp.app import create_app

    own = settings.with_(
        cache_type="SimpleCache",
        oidc_issuer="",
        oidc_client_id="",
        oidc_client_secret="",
        insecure_no_auth=settings.audience == "partner",
    )
    auth_log = logging.getLogger("vrp.auth")
    auth_log.disabled = True
    try:
        return create_app(own)
    finally:
        auth_log.disabled = False


def write(settings, district: str, start: str | None, end: str | None, fmt: str, out: Path) -> Pack:
    """The command line's pack: the app on ``settings``, one request in the settings' audience, the file written."""
    app = _operator_app(settings)
    try:
        with app.server.test_request_context("/"):
            pack, body = build(district, start, end, fmt)
    finally:
        for warehouse in app.server.config["VRP_WAREHOUSES"].values():
            warehouse.dispose()
    Path(out).write_bytes(body)
    return pack
