"""The Dash app factory. Nothing is read from the warehouse at import time or in create_app: pages query it
when they are drawn, so a missing warehouse degrades a page politely instead of stopping the server."""

from __future__ import annotations

import logging
import sys

from dash import Dash
from flask_caching import Cache

from vrp.data_access.cache import QueryCache
from vrp.data_access.queries import Warehouse
from vrp.settings import Settings, from_env

log = logging.getLogger(__name__)

INDEX = """<!DOCTYPE html>
<html lang="en">
<head>{%metas%}<title>{%title%}</title>{%favicon%}{%css%}</head>
<body>{%app_entry%}<footer>{%config%}{%scripts%}{%renderer%}</footer></body>
</html>"""


def make_cache(settings: Settings, server) -> QueryCache:
    config = {
        "CACHE_TYPE": settings.cache_type,
        "CACHE_DEFAULT_TIMEOUT": settings.cache_timeout,
        "CACHE_THRESHOLD": settings.cache_threshold,  # FileSystemCache and SimpleCache only
    }
    if settings.cache_type == "FileSystemCache":
        config["CACHE_DIR"] = str(settings.build_dir / "cache")
    elif settings.cache_type == "RedisCache":
        config["CACHE_REDIS_URL"] = settings.cache_url or "redis://127.0.0.1:6379/0"
        config["CACHE_KEY_PREFIX"] = "vrp:"
    elif settings.cache_type == "NullCache":
        return QueryCache(None)
    cache = Cache(config=config)
    cache.init_app(server)
    return QueryCache(cache, timeout=settings.cache_timeout)


def create_app(settings: Settings | None = None, warehouse: Warehouse | None = None) -> Dash:
    from vrp import auth

    settings = settings or from_env()
    try:
        auth.check_startup(settings)  # partner data with no sign-in refuses to start
    except auth.StartupRefused as refused:
        print(refused.message, file=sys.stderr)  # the one line an operator reads
        raise
    app = Dash(
        __name__,
        assets_folder=str(settings.assets_dir),
        title="HIPS serious violence dashboard",
        external_stylesheets=[],  # Bootstrap is served from assets/, never a CDN: the app works offline
        suppress_callback_exceptions=True,
        compress=True,  # gzip callback responses: a map update for all of HIPS is ~110 KB raw, ~35 KB sent
    )
    app.index_string = INDEX
    app.server.config["VRP_SETTINGS"] = settings
    app.server.config["VRP_WAREHOUSES"] = warehouses = _warehouses(settings, app.server, warehouse)
    # The warehouse of a request with no sign-in (and of work outside a request, such as warm-up).
    app.server.config["VRP_WAREHOUSE"] = warehouses[auth.default_audience(settings)]
    auth.install(app.server, settings)  # sessions; /login, /auth/callback, /logout when a provider is configured

    from vrp.callbacks import admissions as admissions_callbacks
    from vrp.callbacks import briefing as briefing_callbacks
    from vrp.callbacks import evaluate as evaluate_callbacks
    from vrp.callbacks import exports as export_callbacks
    from vrp.callbacks import home as home_callbacks
    from vrp.callbacks import homicide as homicide_callbacks
    from vrp.callbacks import hotspots as hotspot_callbacks
    from vrp.callbacks import knife_crime as knife_callbacks
    from vrp.callbacks import national as national_callbacks
    from vrp.callbacks import profile as profile_callbacks
    from vrp.callbacks import shell as shell_callbacks
    from vrp.dashboards import account, shell

    app.layout = shell.layout
    account.register(app, settings)  # "Sign in" comes back to the page it was chosen on
    for module in (
        shell_callbacks,
        home_callbacks,
        hotspot_callbacks,
        knife_callbacks,
        admissions_callbacks,
        homicide_callbacks,
        national_callbacks,
        evaluate_callbacks,
        profile_callbacks,
        export_callbacks,
        briefing_callbacks,
    ):
        module.register(app)
    from vrp import hardening, health, ratelimits
    from vrp.api import blueprint as api_blueprint
    from vrp.dashboards.pages import find

    health.register(app.server)  # /healthz, /readyz
    ratelimits.install(app.server, settings, api_blueprint, health.HEALTH_PATHS)
    app.server.register_blueprint(api_blueprint)  # the read-only API: /api, /api/openapi.json, /api/v1/...
    _serve_geometry(app, settings)
    _serve_plotlyjs(app, settings)
    _no_tracebacks(app)
    hardening.harden(app, settings, known_page=lambda path: find(path) is not None)  # last: hashes every script
    return app


def _warehouses(settings: Settings, server, given: Warehouse | None) -> dict[str, Warehouse]:
    """One warehouse per audience this process may serve, sharing one cache (whose keys carry the audience): the
    public one reads through the guarded engine. Without sign-in there is only the default audience's."""
    from vrp import auth

    default = auth.default_audience(settings)
    first = given or Warehouse(settings.with_(audience=default), cache=make_cache(settings, server))
    out = {first.audience: first}
    if settings.sign_in:
        for audience in ("public", "partner"):
            out.setdefault(audience, Warehouse(settings.with_(audience=audience), cache=first.cache))
    return out


def warm_up(server) -> float | None:
    """Run once in each gunicorn worker before it takes requests (gunicorn.conf.py): make the geometry files and
    the LSOA topology, and hold the reference tables in memory, so a worker's first page costs what any cold page
    costs and not a second more. No page view or query result is cached here; a failure is only
    logged, and the page that needs the missing piece reports it politely when asked. Returns the seconds it took,
    or None when it could not finish."""
    import time

    from vrp.geo.boundaries import lsoa_topology
    from vrp.geo.serve import LAYERS, build_layer

    settings: Settings = server.config["VRP_SETTINGS"]
    warehouses: list[Warehouse] = list(server.config["VRP_WAREHOUSES"].values())
    started = time.perf_counter()
    try:
        with server.app_context():  # the query cache belongs to the Flask app
            for name in LAYERS:
                build_layer(settings.reference_dir, settings.build_dir, name)
            lsoa_topology(settings.reference_dir, settings.build_dir)
            for warehouse in warehouses:
                warehouse.district_codes  # noqa: B018 - the districts and the data version, held per process
                warehouse.sources()
    except Exception:  # noqa: BLE001 - a worker must start even when the warehouse or reference data is missing
        log.warning("warm-up incomplete; pages will load what they need when asked", exc_info=True)
        return None
    return time.perf_counter() - started


def _serve_geometry(app: Dash, settings: Settings) -> None:
    """Boundaries at /geo/<layer>.geojson: gzip when the browser takes it, cached for a day, ETag for revalidation."""
    from flask import abort

    from vrp.geo.serve import LAYERS, build_layer

    @app.server.route("/geo/<name>.geojson")
    def geometry(name: str):
        if name not in LAYERS:
            abort(404)
        path = build_layer(settings.reference_dir, settings.build_dir, name)
        return _send_built(
            path, "application/geo+json", lambda gz: path.stem + ("-gz" if gz else ""), "public, max-age=86400"
        )


def _serve_plotlyjs(app: Dash, settings: Settings) -> None:
    """dcc.Graph fetches plotly.js from one fixed address when the first chart mounts. Answer it with the partial
    bundle built from plotlyjs/ (the dashboard's trace types only: about 3 MB against 4.8 MB, and a cold browser
    draws the map a second or more sooner, docs/PERFORMANCE.md). Without the bundle, or if it was built for another
    plotly.js than the one the plotly package speaks, Dash's full bundle is served as usual."""
    import json

    from plotly.offline import get_plotlyjs_version

    bundle = settings.plotlyjs_dir / "plotly-vrp.min.js"
    try:
        built = json.loads((settings.plotlyjs_dir / "plotly-vrp.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        log.warning("no partial plotly.js bundle in %s (make builds it): serving the full one", settings.plotlyjs_dir)
        return
    if built.get("version") != get_plotlyjs_version():
        log.warning(
            "the partial plotly.js bundle is for plotly.js %s, not %s: serving the full one",
            built.get("version"),
            get_plotlyjs_version(),
        )
        return
    if not bundle.exists():
        log.warning("%s is missing (make builds it): serving the full plotly.js", bundle)
        return
    address = app.config.routes_pathname_prefix + "_dash-component-suites/plotly/package_data/plotly.min.js"

    # A static rule: Flask prefers it to Dash's "_dash-component-suites/<package>/<path>" for this one address.
    @app.server.route(address, endpoint="vrp_plotlyjs")
    def plotlyjs():
        def tag(gz: bool) -> str:  # per request: a rebuilt bundle gets a new tag without a restart
            stat = bundle.stat()
            return f"vrp-{built['version']}-{stat.st_size}-{stat.st_mtime_ns}" + ("-gz" if gz else "")

        # The address never changes: the browser revalidates (304) on each load.
        return _send_built(bundle, "text/javascript", tag, "no-cache")


def _send_built(path, mimetype: str, etag, cache_control: str):
    """A file the build made, with the gzip copy made beside it when the browser takes gzip; ``etag(gz)`` names
    the version sent, so a conditional request is answered 304."""
    from flask import request, send_file

    gz = path.with_name(path.name + ".gz")
    use_gz = "gzip" in request.headers.get("Accept-Encoding", "") and gz.exists()
    response = send_file(gz if use_gz else path, mimetype=mimetype, conditional=True, etag=etag(use_gz))
    if use_gz:
        response.headers["Content-Encoding"] = "gzip"
        response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = cache_control
    return response


def _no_tracebacks(app: Dash) -> None:
    """Whatever reaches the server, the browser never sees a stack trace: errors are logged, answered briefly."""
    from flask import jsonify
    from werkzeug.exceptions import HTTPException

    @app.server.errorhandler(Exception)
    def handle(exc):
        if isinstance(exc, HTTPException):
            response = jsonify(error=exc.name)
            response.status_code = exc.code
            # Keep what the exception says beside its body: Retry-After on 429, Allow on 405.
            for name, value in exc.get_headers():
                if name.lower() != "content-type":
                    response.headers[name] = value
            return response
        log.exception("unhandled error")
        return jsonify(error="The request could not be handled."), 400


__all__ = ["create_app", "warm_up"]
