"""How a page layout, callback or API endpoint reaches the warehouse and settings (set by create_app on the Flask
server). The warehouse is chosen per request by its audience (vrp/auth.py): a signed-in partner's request gets the
partner warehouse, every other request the public one, whose engine refuses unpublished tables."""

from __future__ import annotations

from flask import current_app

from vrp.auth import request_audience
from vrp.data_access.queries import Warehouse
from vrp.settings import Settings


def warehouse() -> Warehouse:
    config = current_app.config
    return config["VRP_WAREHOUSES"][request_audience(config["VRP_SETTINGS"])]


def settings() -> Settings:
    return current_app.config["VRP_SETTINGS"]
