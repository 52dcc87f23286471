"""The app serves the overview from the warehouse, labels synthetic data, and degrades politely without one."""

import json

import pytest

from tests.helpers import cube_cells
from vrp.app import create_app


@pytest.fixture(scope="module")
def client(app):
    return app.server.test_client()


def test_overview_follows_the_district_filter(app):
    from vrp.dashboards import home

    wh = app.server.config["VRP_WAREHOUSE"]
    hips = wh.latest_figures()
    iow = wh.latest_figures(["E06000046"])
    sv = "serious_violence"
    assert iow.set_index("measure_id").loc[sv, "count"] < hips.set_index("measure_id").loc[sv, "count"]
    assert "ons_knife_crime" not in set(iow["measure_id"])  # force-level only
    assert "Serious violence" in _render(app, lambda: home.figures_for(wh, ["E06000046"]))


def test_a_hidden_previous_period_reads_as_hidden_not_as_missing(app):
    """Southampton's sharp-object admissions in the 12 months before are a small number: hidden, not "no data"."""
    from vrp.dashboards import home

    wh = app.server.config["VRP_WAREHOUSE"]
    row = wh.latest_figures(["E06000045"]).set_index("measure_id").loc["sharp_object_admissions"]
    assert row["previous"] is None or row["previous"] != row["previous"]  # missing from what is sent
    assert row["previous_hidden"]
    partner = wh.__class__(wh.settings.with_(audience="partner"))
    try:
        previous = partner.latest_figures(["E06000045"]).set_index("measure_id").loc["sharp_object_admissions"]
        assert 0 < previous["previous"]
    finally:
        partner.dispose()
    body = _render(app, lambda: home.figures_for(wh, ["E06000045"]))
    admissions = body[body.index("Hospital admissions for assault with a sharp object") :][:1500]
    assert "* (hidden: small number)" in admissions and "no data" not in admissions
    # All of HIPS: the previous period is hidden exactly where its published cell is (the under-25 homicides).
    hips = wh.latest_figures().set_index("measure_id")
    for measure_id in ("sharp_object_admissions", "homicide_u25_non_domestic", "knife_enabled_sv"):
        cells = cube_cells(wh, measure_id, "HIPS", "rolling12")
        assert hips.loc[measure_id, "previous_hidden"] == bool(cells["suppressed"].iloc[-5])  # a year before


def _render(app, layout_fn) -> str:
    """A layout as the JSON Dash sends to the browser."""
    import plotly.io as pio

    with app.server.test_request_context("/"):
        return pio.json.to_json(layout_fn())


def test_overview_lists_every_measure_with_its_latest_figures(app, client, registry):
    from vrp.dashboards import home

    assert client.get("/").status_code == 200
    wh = app.server.config["VRP_WAREHOUSE"]
    body = _render(app, lambda: home.figures_for(wh))
    for m in registry:
        assert m.label in body
    assert "12 months to September 2026" in body
    assert "Feb 2022" in body  # police.uk: the one published month
    assert "Synthetic" in body and "Real" in body


def test_page_language_is_set(client):
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)


def test_synthetic_data_is_labelled(client):
    layout = client.get("/_dash-layout").get_data(as_text=True)
    assert "Synthetic demonstration data" in layout
    assert "police records" in layout


def test_attribution_in_footer(client):
    layout = client.get("/_dash-layout").get_data(as_text=True)
    assert "Contains OS data" in layout and "Open Government Licence v3.0" in layout


def test_no_warehouse_still_serves_a_polite_page(base_settings, tmp_path):
    app = create_app(base_settings.with_(warehouse_url=f"duckdb:///{tmp_path}/missing.duckdb"))
    client = app.server.test_client()
    assert client.get("/").status_code == 200
    layout = client.get("/_dash-layout")
    assert layout.status_code == 200
    text = layout.get_data(as_text=True)
    assert "not available" in text and "Traceback" not in text


BAD_STATES = [
    {"districts": ["E06000045", "'; DROP TABLE mart_counts; --"], "start": "2025-01", "end": "2025-12"},
    {"districts": "E06000045", "start": "2026-12", "end": "1999-01", "measure": {"$ne": 1}},
    {"districts": [None, 5, {"a": 1}], "age": ["u25"]},
    "not a state at all",
]


@pytest.mark.parametrize("bad", BAD_STATES)
def test_every_page_callback_refuses_bad_filters_without_a_500(app, bad):
    """Every callback the filter state drives, on every page, POSTed the way the browser calls it."""
    client = app.server.test_client()
    deps = [
        d
        for d in client.get("/_dash-dependencies").get_json()
        if [f"{i['id']}.{i['property']}" for i in d["inputs"]] == ["filter-state.data"] and not d.get("state")
    ]
    assert len(deps) >= 15  # the Overview tiles, knife crime (3), admissions (4), homicide (3), national, ...
    for dep in deps:
        outputs = [
            {"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in dep["output"].strip(".").split("...")
        ]
        body = {
            "output": dep["output"],
            "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": [{"id": "filter-state", "property": "data", "value": bad}],
            "changedPropIds": ["filter-state.data"],
            "state": [],
        }
        response = client.post("/_dash-update-component", json=body)
        text = response.get_data(as_text=True)
        assert response.status_code in (200, 204), (dep["output"], response.status_code)
        assert "Traceback" not in text and "sqlalchemy" not in text.lower(), dep["output"]


def test_each_gunicorn_worker_warms_up_before_its_first_request(demo_warehouse, tmp_path):
    """gunicorn.conf.py's hook builds the geometry and topology files and holds the reference tables, and leaves
    no page view or query result in the cache."""
    import runpy
    from types import SimpleNamespace

    from vrp.settings import REPO_ROOT

    app = create_app(demo_warehouse.with_(build_dir=tmp_path, cache_type="SimpleCache"))
    hooks = runpy.run_path(str(REPO_ROOT / "gunicorn.conf.py"))
    said = []
    log = SimpleNamespace(
        info=lambda *a, **k: said.append(("info", a)), warning=lambda *a, **k: said.append(("warning", a))
    )
    hooks["post_worker_init"](SimpleNamespace(wsgi=app.server, log=log))
    assert [level for level, _ in said] == ["info"] and "warmed up" in said[0][1][0]

    built = {p.name.split("-")[0] for p in (tmp_path / "geo").glob("*.geojson")}
    assert built == {"lsoa21", "districts"} and len(list((tmp_path / "geo").glob("*.geojson"))) == 3
    assert list((tmp_path / "geo").glob("lsoa21-topology-*.json"))
    wh = app.server.config["VRP_WAREHOUSE"]
    assert {"districts", "district_codes", "sources"} <= set(wh._held)
    backends = list(app.server.extensions["cache"].values())
    assert backends and all(not backend._cache for backend in backends)


def test_a_worker_starts_even_when_the_warm_up_fails(base_settings, tmp_path, caplog):
    import runpy
    from types import SimpleNamespace

    from vrp.app import warm_up
    from vrp.settings import REPO_ROOT

    app = create_app(base_settings.with_(warehouse_url=f"duckdb:///{tmp_path}/missing.duckdb", build_dir=tmp_path))
    with caplog.at_level("WARNING", logger="vrp.app"):
        assert warm_up(app.server) is None
    assert "warm-up incomplete" in caplog.text
    # Not even a server without the app's settings stops the hook (an exception there would stop gunicorn).
    said = []
    log = SimpleNamespace(info=lambda *a, **k: said.append("info"), warning=lambda *a, **k: said.append("warning"))
    runpy.run_path(str(REPO_ROOT / "gunicorn.conf.py"))["post_worker_init"](SimpleNamespace(wsgi=object(), log=log))
    assert said == ["warning"]


def _texts(node) -> set[str]:
    """Every string in a rendered layout."""
    if isinstance(node, str):
        return {node}
    items = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    return set().union(*(_texts(v) for v in items)) if items else set()


def _source_rows(wh) -> dict[str, int]:
    """Each source's row count, read from source_registry by SQL (a reference table the public may read)."""
    frame = wh.read("SELECT source_id, rows FROM source_registry")
    return dict(zip(frame["source_id"], frame["rows"].astype(int), strict=True))


def test_public_data_page_lists_sources_without_row_counts_and_says_why(app):
    from vrp.dashboards import data

    wh = app.server.config["VRP_WAREHOUSE"]
    body = _render(app, data.layout)
    for source, n in _source_rows(wh).items():
        assert n > 50, source  # large enough not to be found by chance among other numbers on the page
        assert f'"{n:,}"' not in body and f'"{n}"' not in body, source
    assert '"Rows"' not in body and "data-loads" not in body and '"Load audit"' not in body
    assert "Row counts and the per-file load history are shown to signed-in partners only" in body
    text = _texts(json.loads(body))
    for _, r in wh.sources().iterrows():  # sources, licences, coverage, last load and the synthetic flag stay
        assert {r["name"], r["licence"], r["synthetic"]} <= text
        assert f"{r['coverage_start']:%Y-%m} to {r['coverage_end']:%Y-%m}" in text
        assert str(r["last_load_at"]) in text
    assert '"scope":"row"' in body.replace(" ", "")


def test_partner_data_page_tables_give_counts_with_thousands_separators_and_row_headers(demo_warehouse):
    from vrp.dashboards import data

    partner = create_app(demo_warehouse.with_(audience="partner", insecure_no_auth=True, cache_type="SimpleCache"))
    wh = partner.server.config["VRP_WAREHOUSE"]
    body = _render(partner, data.layout)
    rows = wh.read("SELECT COUNT(*) AS n FROM fact_police_records")["n"][0]
    assert _source_rows(wh)["police_records"] == rows
    assert f'"{int(rows):,}"' in body and f'"{int(rows)}"' not in body
    assert "data-loads" in body and "2022-02-hampshire-street.csv" in body
    assert "shown to signed-in partners only" not in body
    assert '"scope":"row"' in body.replace(" ", "")
    wh.dispose()
