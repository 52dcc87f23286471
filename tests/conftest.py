"""Shared fixtures: settings pointing at a temporary build folder, warehouses on DuckDB and on the real
PostgreSQL (each test run in its own schema, dropped after), and a small demo warehouse built once."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from vrp import settings as settings_mod
from vrp.data_access.engine import make_engine
from vrp.data_access.measures import load_registry
from vrp.pipeline.warehouse import init_warehouse

PG_BASE = os.environ.get("VRP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("VRP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("VRP_REQUIRE_SERVICES") == "1"


def pytest_setup_options():
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--window-size=1400,1000",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ):
        options.add_argument(arg)
    return options


def _reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False


def need_service(name: str, port: int) -> None:
    """In CI a missing service fails the test; on a developer machine it skips with a reason."""
    if _reachable("127.0.0.1", port):
        return
    message = f"{name} is not reachable on 127.0.0.1:{port}"
    if REQUIRE_SERVICES:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory) -> settings_mod.Settings:
    build = tmp_path_factory.mktemp("build")
    # Rate limits off: a test client is one address making hundreds of requests a minute (tests/test_hardening.py
    # checks the limits themselves).
    return settings_mod.from_env().with_(build_dir=build, cache_type="NullCache", audience="public", rate_limits=False)


@pytest.fixture
def settings(base_settings, tmp_path) -> settings_mod.Settings:
    return base_settings.with_(build_dir=tmp_path)


@pytest.fixture(scope="session")
def registry(base_settings):
    return load_registry(base_settings.measures_file)


def pg_schema_url() -> tuple[str, str]:
    schema = f"test_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(PG_BASE)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return f"{PG_BASE}?options=-csearch_path%3D{schema}", schema


def drop_pg_schema(schema: str) -> None:
    engine = sa.create_engine(PG_BASE)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request, tmp_path):
    """An empty URL on each backend."""
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
        return
    need_service("PostgreSQL", 5432)
    url, schema = pg_schema_url()
    try:
        yield url
    finally:
        drop_pg_schema(schema)


@pytest.fixture
def engine(warehouse_url, settings):
    """A warehouse with the reference data loaded and no facts, on each backend."""
    eng = make_engine(warehouse_url)
    init_warehouse(eng, settings)
    yield eng
    eng.dispose()


@pytest.fixture
def load(engine, settings, registry):
    """Load files into ``engine`` as the CLI would (rebuilding the marts)."""
    from vrp.pipeline.load import load_files

    def _load(source: str, *paths: Path, synthetic: bool = False, **options):
        return load_files(
            engine,
            source,
            [Path(p) for p in paths],
            reference_dir=settings.reference_dir,
            registry=registry,
            sources_config=settings.sources_file,
            synthetic=synthetic,
            **options,
        )

    return _load


@pytest.fixture(scope="session")
def demo_warehouse(base_settings, tmp_path_factory) -> settings_mod.Settings:
    """A demo warehouse (DuckDB, scale 1, the default period) built once for the read-side tests."""
    from vrp.pipeline.demo import DemoOptions, build_demo

    build = tmp_path_factory.mktemp("demo")
    s = base_settings.with_(build_dir=build, warehouse_url=f"duckdb:///{build / 'warehouse.duckdb'}")
    build_demo(s, s.warehouse, DemoOptions(), progress=False)
    return s


def table_counts(engine) -> dict[str, int]:
    from vrp.data_access.tables import metadata

    with engine.connect() as conn:
        return {
            name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            for name, table in metadata.tables.items()
        }


@pytest.fixture(scope="module")
def app(demo_warehouse):
    """The app on the demo warehouse (public audience, in-process cache), one per test module."""
    from vrp.app import create_app

    application = create_app(demo_warehouse.with_(cache_type="SimpleCache"))
    yield application
    application.server.config["VRP_WAREHOUSE"].dispose()


@pytest.fixture(scope="module")
def wh(app):
    return app.server.config["VRP_WAREHOUSE"]


@pytest.fixture(scope="module")
def partner_app(demo_warehouse):
    """The app for the partner audience (the marts, true counts), signed in without an identity provider."""
    from vrp.app import create_app

    application = create_app(demo_warehouse.with_(cache_type="SimpleCache", audience="partner", insecure_no_auth=True))
    yield application
    application.server.config["VRP_WAREHOUSE"].dispose()


@pytest.fixture(scope="module")
def partner(partner_app):
    return partner_app.server.config["VRP_WAREHOUSE"]


@pytest.fixture(scope="module")
def cut_off(demo_warehouse, tmp_path_factory):
    """A copy of the demo warehouse without anything the public may not read."""
    import shutil

    import duckdb

    from tests.helpers import UNPUBLISHED_TABLES

    build = tmp_path_factory.mktemp("cut-off")
    path = build / "warehouse.duckdb"
    shutil.copy(demo_warehouse.warehouse_url.removeprefix("duckdb:///"), path)
    with duckdb.connect(str(path)) as conn:
        for table in UNPUBLISHED_TABLES:
            conn.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    return demo_warehouse.with_(build_dir=build, warehouse_url=f"duckdb:///{path}")
