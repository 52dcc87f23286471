"""Health endpoints for monitors, load balancers and the container's HEALTHCHECK.

``/healthz`` (liveness): the process answers HTTP; it touches nothing else, so a warehouse outage never gets a
healthy worker restarted. ``/readyz`` (readiness): JSON saying whether the warehouse answers (and its data
version) and whether the shared cache answers; 503 when the warehouse is down, since no page can then show data.
A cache outage only slows pages (they are computed uncached), so it is reported but still ready (200).
"""

from __future__ import annotations

import logging
import time

from flask import Flask, current_app, jsonify

log = logging.getLogger(__name__)


def _warehouse_status() -> tuple[bool, dict]:
    wh = current_app.config["VRP_WAREHOUSE"]
    try:
        version = wh.meta("data_version")  # a real round trip, not the version held for a few seconds
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"; the reason goes to the log only
        log.warning("readiness: warehouse unreachable: %s", str(exc).splitlines()[0] if str(exc) else exc)
        return False, {"warehouse": "unreachable", "data_version": None}
    return True, {"warehouse": "ok", "data_version": version or "0"}


def _cache_status() -> str:
    backend = current_app.config["VRP_WAREHOUSE"].cache.backend
    if backend is None:
        return "disabled"
    try:
        stamp = f"{time.time():.6f}"
        backend.set("readyz-probe", stamp, timeout=30)
        ok = backend.get("readyz-probe") == stamp
    except Exception as exc:  # noqa: BLE001
        log.warning("readiness: cache unreachable: %s", str(exc).splitlines()[0] if str(exc) else exc)
        return "unreachable"
    return "ok" if ok else "unreachable"


def register(server: Flask) -> None:
    @server.route("/healthz")
    def healthz():
        response = current_app.response_class("ok\n", mimetype="text/plain")
        response.headers["Cache-Control"] = "no-store"
        return response

    @server.route("/readyz")
    def readyz():
        ready, body = _warehouse_status()
        body["cache"] = _cache_status()
        body["status"] = "ready" if ready else "unavailable"
        response = jsonify(body)
        response.status_code = 200 if ready else 503
        response.headers["Cache-Control"] = "no-store"
        return response


HEALTH_PATHS = ("/healthz", "/readyz")

__all__ = ["HEALTH_PATHS", "register"]
