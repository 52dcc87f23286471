"""The read-only API: a Flask blueprint on the Dash server (README.md#api, the page at /api).

``/api/v1/measures`` lists the measures; ``/api/v1/data`` answers with published cells of the cube (public) and,
for partners, free windows over sums of districts; ``/api/openapi.json`` describes both. Every parameter is
checked against known values before it reaches a query or a cache key, unknown parameters are refused, and every
error is JSON ``{"error": "..."}`` with a 4xx status, never a stack trace. Responses carry an ETag made from the
data version (and the code, audience and disclosure rules), so a conditional GET is answered 304.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import math

import pandas as pd
from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from vrp.data_access.cache import code_version, normalise
from vrp.data_access.context import warehouse
from vrp.data_access.cube import ROW_FIELDS, CubeReader, UnknownMeasure
from vrp.data_access.queries import Warehouse
from vrp.data_access.validation import HIPS, InvalidQuery, NotPermitted

log = logging.getLogger(__name__)
blueprint = Blueprint("vrp_api", __name__)

DATA_PARAMS = ("measure", "area", "period", "from", "to", "age", "format")
FORMATS = ("json", "csv")
MAX_VALUE = 1000  # characters in one parameter value: far more than any valid one
ROUND = {"population": 1, "rate": 4, "lower": 4, "upper": 4}


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _warehouse() -> Warehouse:
    # The request's own audience, from its session (vrp/auth.py): checked on every request.
    return warehouse()


def _args(allowed: tuple[str, ...]) -> dict[str, str]:
    """The query string as one value per known name; anything else is refused before it is used."""
    unknown = sorted({name for name in request.args if name not in allowed})
    if unknown:
        names = ", ".join(repr(n[:40]) for n in unknown[:5])
        known = ", ".join(allowed) if allowed else "none"
        raise ApiError(400, f"unknown parameter {names}: this endpoint takes {known}")
    out = {}
    for name in allowed:
        values = request.args.getlist(name)
        if len(values) > 1:
            raise ApiError(400, f"{name} is given {len(values)} times: give it once (areas as a comma list)")
        if values:
            if len(values[0]) > MAX_VALUE:
                raise ApiError(400, f"{name} is too long")
            out[name] = values[0]
    return out


def _etag(wh: Warehouse, endpoint: str, key: dict) -> str:
    version = f"{code_version()}|{wh.data_version()}|{wh.audience}|{wh.rules_hash}"
    body = json.dumps({"v": version, "e": endpoint, "k": normalise(key)}, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def _cache_control(wh: Warehouse) -> str:
    # Always revalidate (a reload shows at once; the 304 costs a version lookup), and never keep partner figures
    # in a shared cache.
    return "public, no-cache" if wh.audience == "public" else "private, no-cache"


def _not_modified(wh: Warehouse, etag: str) -> Response | None:
    """304 when the caller holds this version: the tag as sent, or as Flask-Compress suffixed it (``:gzip``)."""
    held = request.if_none_match
    if held.star_tag:
        tag = etag
    else:
        tag = next((tag for tag in held.as_set(include_weak=True) if tag.split(":")[0] == etag), None)
    if tag is None:
        return None
    response = Response(status=304)
    response.set_etag(tag)
    response.headers["Cache-Control"] = _cache_control(wh)
    return response


def _send(wh: Warehouse, response: Response, etag: str) -> Response:
    response.set_etag(etag)
    response.headers["Cache-Control"] = _cache_control(wh)
    if wh.audience == "partner":
        response.headers["X-Classification"] = "OFFICIAL-SENSITIVE"
    return response


def _value(name: str, value):
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if name in ROUND and isinstance(value, (int, float)):
        return round(float(value), ROUND[name])
    if hasattr(value, "strftime"):
        return f"{value:%Y-%m}"
    return value


def records(frame: pd.DataFrame) -> list[dict]:
    """The rows as plain JSON values: months as YYYY-MM, missing values as null."""
    return [{name: _value(name, row[name]) for name in ROW_FIELDS} for _, row in frame.iterrows()]


def to_csv(rows: list[dict], fields=ROW_FIELDS) -> str:
    """Plain CSV with a header row (Power BI's "From Web" and Excel read it): empty cells for null. ``fields``:
    the columns (the API's rows by default; a card's download names its own, callbacks/exports.py)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow(
            ["" if row[f] is None else str(row[f]).lower() if isinstance(row[f], bool) else row[f] for f in fields]
        )
    return out.getvalue()


@blueprint.route("/api/v1/measures")
def measures():
    _args(())
    wh = _warehouse()
    etag = _etag(wh, "measures", {})
    return _not_modified(wh, etag) or _send(wh, jsonify(CubeReader(wh).measures()), etag)


@blueprint.route("/api/v1/data")
def data():
    args = _args(DATA_PARAMS)
    fmt = args.get("format", "json")
    if fmt not in FORMATS:
        raise ApiError(400, f"format must be json or csv, not {fmt[:20]!r}")
    wh = _warehouse()
    reader = CubeReader(wh)
    q = reader.check(
        args.get("measure"),
        args.get("area", HIPS),
        args.get("period", "month"),
        args.get("from"),
        args.get("to"),
        args.get("age", "all"),
    )
    etag = _etag(wh, "data", {**q.as_key(), "f": fmt})
    held = _not_modified(wh, etag)
    if held is not None:
        return held
    # The whole body is cached (keyed like every view on checked values, the data version and audience): turning
    # rows into JSON costs more than finding them.
    body = wh.cached("api:data", {**q.as_key(), "f": fmt}, lambda: _body(reader, q, fmt))
    if fmt == "csv":
        response = Response(body, mimetype="text/csv")
        response.headers["Content-Disposition"] = f'inline; filename="{q.measure_id}-{q.period}.csv"'
    else:
        response = Response(body, mimetype="application/json")
    return _send(wh, response, etag)


def _body(reader: CubeReader, q, fmt: str) -> str:
    rows = records(reader.rows(q))
    if fmt == "csv":
        return to_csv(rows)
    meta = {**reader.meta(q.measure_id), "period_type": q.period, "age": q.age, "areas": list(q.areas)}
    return current_app.json.dumps({"rows": rows, "meta": meta})


@blueprint.route("/api/openapi.json")
def openapi():
    from vrp.api.spec import build_spec

    _args(())
    wh = _warehouse()
    etag = _etag(wh, "openapi", {})
    return _not_modified(wh, etag) or _send(wh, jsonify(build_spec(CubeReader(wh))), etag)


@blueprint.route("/api")
@blueprint.route("/api/")
def page():
    from vrp.api.page import render

    wh = _warehouse()
    etag = _etag(wh, "page", {"host": request.host_url})  # the examples name the host
    return _not_modified(wh, etag) or _send(
        wh, Response(render(CubeReader(wh), request.host_url.rstrip("/")), mimetype="text/html"), etag
    )


@blueprint.route("/api/<path:rest>")
def not_found(rest: str):
    raise ApiError(404, "no such endpoint: see /api for the ones there are")


@blueprint.errorhandler(Exception)
def _error(exc: Exception):
    """Every failure as JSON with a 4xx status (503 when the warehouse cannot answer): never a stack trace."""
    if isinstance(exc, ApiError):
        status, message = exc.status, exc.message
    elif isinstance(exc, UnknownMeasure):
        status, message = 404, str(exc)
    elif isinstance(exc, NotPermitted):
        status, message = 403, str(exc)
    elif isinstance(exc, InvalidQuery):
        status, message = 400, str(exc)
    elif isinstance(exc, HTTPException):
        status, message = exc.code or 400, exc.name
    else:
        log.exception("API request failed: %s", request.full_path[:200])
        status, message = 503, "The published figures cannot be read just now; try again later."
    return jsonify(error=message), status


from vrp.api import evaluate as _evaluate  # noqa: E402, F401  (registers /api/v1/evaluate on the blueprint)

__all__ = ["blueprint"]
