"""Per-client rate limits (flask-limiter), one client being one address: the peer's, or the X-Forwarded-For one
when a trusted proxy is configured (VRP_PROXY_FIX), so that behind nginx each visitor is counted, not nginx.

Three budgets, each a setting: Dash callbacks (generous: a page load makes a dozen, a filter change a few more),
the API (tighter: a script can loop), everything else per route (pages, assets, geometry). The health endpoints
are never limited. Counters live in Redis when VRP_CACHE_URL is set, so every worker and server shares them;
otherwise in each process (each gunicorn worker then counts on its own, which multiplies the budget by the
number of workers). If Redis stops answering, the limiter falls back to the process's memory instead of failing
requests. An answer over the limit is 429 with Retry-After.
"""

from __future__ import annotations

from flask import Blueprint, Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from vrp.settings import Settings

CALLBACK_ENDPOINT = "/_dash-update-component"


def storage_uri(settings: Settings) -> str:
    url = settings.cache_url
    if url.startswith(("redis://", "rediss://", "unix://")):
        return url
    return "memory://"


def install(server: Flask, settings: Settings, api: Blueprint, exempt_paths: tuple[str, ...]) -> Limiter:
    """Set up the limiter on ``server``. Call before ``api`` is registered and after Dash added its routes."""
    callbacks = settings.rate_limit_callbacks
    limiter = Limiter(
        get_remote_address,
        app=server,
        default_limits=[settings.rate_limit_pages],
        default_limits_exempt_when=lambda: request.path in exempt_paths,
        storage_uri=storage_uri(settings),
        storage_options={"socket_connect_timeout": 1, "socket_timeout": 1} if "redis" in storage_uri(settings) else {},
        strategy="moving-window",
        key_prefix="vrp-limits",
        headers_enabled=True,
        swallow_errors=True,  # a storage failure lets the request through (and is logged), never a 500
        in_memory_fallback_enabled=True,
        enabled=settings.rate_limits,
    )
    limiter.limit(settings.rate_limit_api)(api)
    view = server.view_functions.get(CALLBACK_ENDPOINT)
    if view is not None:
        server.view_functions[CALLBACK_ENDPOINT] = limiter.limit(callbacks, override_defaults=True)(view)
    # The decorators hold the limiter by a weak reference only: the server keeps it alive.
    server.extensions["vrp_limiter"] = limiter
    return limiter


__all__ = ["install", "storage_uri"]
