"""The pages' "Download briefing pack": the pack (vrp.briefing) for the area and period the page shows, made in
the request's audience (a public pack holds only published cells), sent as a file. While it is made the buttons
are disabled and the progress line says what is happening (Dash's ``running``)."""

from __future__ import annotations

import threading

import dash
from dash import Input, Output, State, ctx, dcc, no_update

from vrp.briefing import make
from vrp.briefing.pdf_pack import PrintFailed
from vrp.callbacks import failure_outputs, guarded, polite
from vrp.dashboards import briefing as controls
from vrp.dashboards.filters import STATE
from vrp.data_access.filter_state import read_state
from vrp.data_access.validation import HIPS, InvalidQuery
from vrp.figures.export import ImagesUnavailable

MAKING = "Making the briefing pack: it takes about 15 seconds. It downloads when ready."
BUSY = "Another briefing pack is being made on this server just now: please try again in a minute."
# One pack at a time per worker: a pack holds the chart renderer for several seconds, and every other user's
# image downloads wait behind it; a second request is turned away in a sentence rather than queued.
_making = threading.BoundedSemaphore(1)
NO_RENDERER = (
    "The briefing pack cannot be made on this server just now (its chart renderer is not available). "
    "Every chart's own CSV and table still work."
)


def district_of(state_data) -> str:
    """The pack's area: one district, or HIPS when none is chosen; several districts are refused politely."""
    state = read_state(state_data)
    if len(state.districts) > 1:
        raise InvalidQuery("A briefing pack covers one district or all of HIPS: choose one district, or none.")
    return state.districts[0] if state.districts else HIPS


def download_pack(_pptx, _pdf, state_data):
    fmt = next((f for f, _ in controls.FORMATS if ctx.triggered_id and ctx.triggered_id.endswith(f"-{f}")), None)
    if fmt is None or not (ctx.triggered and ctx.triggered[0].get("value")):
        return no_update
    state = read_state(state_data)
    district = district_of(state_data)
    if not _making.acquire(blocking=False):
        return {"download": no_update, "message": polite(BUSY)}
    try:
        pack, body = make.build(district, state.start, state.end, fmt)
    except (ImagesUnavailable, PrintFailed):
        return {"download": no_update, "message": polite(NO_RENDERER)}
    finally:
        _making.release()
    return {"download": dcc.send_bytes(body, make.file_name(pack, fmt), type=make.FORMATS[fmt]), "message": None}


def register(app: dash.Dash) -> None:
    for page in controls.PAGES:
        found = controls.ids(page)
        app.callback(
            output={"download": Output(found["download"], "data"), "message": Output(found["message"], "children")},
            inputs=[Input(found["pptx"], "n_clicks"), Input(found["pdf"], "n_clicks")],
            state=[State(STATE, "data")],
            prevent_initial_call=True,
            running=[
                (Output(found["pptx"], "disabled"), True, False),
                (Output(found["pdf"], "disabled"), True, False),
                (Output(found["progress"], "children"), MAKING, ""),
            ],
        )(guarded(failure_outputs(download=no_update, message=polite))(download_pack))
