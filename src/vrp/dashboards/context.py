"""How a page layout reaches the app's warehouse and settings (set by create_app on the Flask server)."""

from __future__ import annotations

from flask import current_app

from vrp.data_access.queries import Warehouse
from vrp.settings import Settings


def warehouse() -> Warehouse:
    return current_app.config["VRP_WAREHOUSE"]


def settings() -> Settings:
    return current_app.config["VRP_SETTINGS"]
