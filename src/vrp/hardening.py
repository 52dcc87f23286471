"""HTTP hardening for the Dash server: security headers with a Content-Security-Policy that needs no 'unsafe-eval',
404 for unknown pages, a request body limit, proxy headers trusted only when configured, and no version details.

The policy allows scripts from this server and, inline, only Dash's own scripts (the renderer and the clientside
callbacks), each by its hash (``Dash.csp_hashes``, computed once every callback is registered). Styles may be inline:
plotly.js and Dash components set style attributes, which a hash cannot cover. The map (maplibre, inside
plotly.js) starts its web worker from a ``blob:`` address and draws its canvas into ``data:``/``blob:`` images.
tests/test_hardening_browser.py loads every page in chromium under this policy and asserts no violation.
"""

from __future__ import annotations

from dash import Dash
from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge

from vrp.settings import Settings

# Keys of /_dash-config (and of the config embedded in every page) that name the software and its versions.
VERSION_KEYS = ("dash_version", "python_version", "plotly_version", "ddk_version", "dash_version_url")
HSTS = "max-age=31536000; includeSubDomains"
# The address Dash answers for any path it has no route for (its client-side router then draws the page).
DASH_CATCH_ALL = "/<path:path>"


def content_security_policy(script_hashes: list[str]) -> str:
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "child-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def harden(app: Dash, settings: Settings, known_page) -> None:
    """Call last in create_app, once every callback (and so every inline script) is registered.
    ``known_page(path) -> bool`` says whether the client-side router has a page at a path."""
    server: Flask = app.server
    server.config["MAX_CONTENT_LENGTH"] = settings.max_content_length
    if settings.proxy_fix:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.proxy_fix
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=0)
    _hide_versions(app)
    policy = content_security_policy(list(app.csp_hashes()))

    @server.before_request
    def refuse_large_bodies():
        # Refused from the header, before any view reads (and parses) the body; a body sent without a length is
        # cut off at the same size by Werkzeug when a view reads it (MAX_CONTENT_LENGTH).
        length = request.content_length
        if length is not None and length > settings.max_content_length:
            raise RequestEntityTooLarge()

    @server.after_request
    def headers(response):
        h = response.headers
        h["Content-Security-Policy"] = policy
        h["X-Content-Type-Options"] = "nosniff"
        h["X-Frame-Options"] = "DENY"  # frame-ancestors 'none' for browsers that predate CSP level 2
        h["Referrer-Policy"] = "same-origin"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
        if request.is_secure:  # HTTPS, or behind a trusted proxy that says so (proxy_fix)
            h["Strict-Transport-Security"] = HSTS
        rule = request.url_rule
        if (
            rule is not None
            and rule.rule == DASH_CATCH_ALL
            and request.method in ("GET", "HEAD")
            and response.status_code == 200
            and not known_page(request.path)
        ):
            # Dash answers every path with the app; its router then shows "Page not found". Say so in the status
            # too, so crawlers, monitors and link checkers see a missing page, not a page.
            response.status_code = 404
        return response


def _hide_versions(app: Dash) -> None:
    """Dash's front-end config (served at /_dash-config and embedded in each page) names the Python, Dash and
    plotly versions; the renderer needs none of them outside debug mode."""
    original = app._config

    def config():
        out = original()
        for key in VERSION_KEYS:
            out.pop(key, None)
        return out

    app._config = config


__all__ = ["HSTS", "content_security_policy", "harden"]
