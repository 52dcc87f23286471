"""The Dash app factory. Nothing is read from the warehouse at import time or in create_app: pages query it
when they are drawn, so a missing warehouse degrades a page politely instead of stopping the server."""

from __future__ import annotations

import logging

import dash
import dash_bootstrap_components as dbc
from dash import Dash, html
from flask_caching import Cache

from vrp.data_access.cache import QueryCache
from vrp.data_access.queries import Warehouse
from vrp.settings import REPO_ROOT, Settings, from_env

log = logging.getLogger(__name__)

INDEX = """<!DOCTYPE html>
<html lang="en">
<head>{%metas%}<title>{%title%}</title>{%favicon%}{%css%}</head>
<body>{%app_entry%}<footer>{%config%}{%scripts%}{%renderer%}</footer></body>
</html>"""


def make_cache(settings: Settings, server) -> QueryCache:
    config = {"CACHE_TYPE": settings.cache_type, "CACHE_DEFAULT_TIMEOUT": settings.cache_timeout}
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
    settings = settings or from_env()
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(REPO_ROOT / "assets"),
        title="HIPS serious violence dashboard",
        external_stylesheets=[],  # Bootstrap is served from assets/, never a CDN: the app works offline
        suppress_callback_exceptions=True,
    )
    app.index_string = INDEX
    if warehouse is None:
        warehouse = Warehouse(settings, cache=make_cache(settings, app.server))
    app.server.config["VRP_WAREHOUSE"] = warehouse
    app.server.config["VRP_SETTINGS"] = settings

    from vrp.dashboards import home, shell  # registers the pages

    home.register()
    app.layout = shell.layout
    return app


def layout_error(message: str) -> html.Div:
    return dbc.Alert(message, color="warning", className="mt-3")


__all__ = ["create_app", "dash"]
