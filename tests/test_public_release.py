"""Public mode reads only the published cube (issue "Publish safely", point 2).

Two proofs that every number a public page or API answer carries comes from published cells:
- the guard: a public warehouse refuses any statement naming records, partner marts or the audit's true values;
- the cut-off warehouse: a copy of the demo warehouse with those tables dropped answers every page callback and
  every API endpoint exactly as the whole one does. Since the cube's audit bounds every hidden cell away from a
  single value using all published cells at once (tests/test_cube.py), nothing computed from published cells
  alone can pin one either.
"""

from __future__ import annotations

import json

import duckdb
import pytest

from vrp.data_access.published import NotPublished
from vrp.data_access.queries import Warehouse

PAGES = ("/", "/hotspots", "/knife-crime", "/hospital-admissions", "/homicide", "/national", "/profile")
# Public states as the shell writes them: published periods of several kinds, HIPS and one district, both ages.
STATES = [
    {"districts": [], "start": "2025-10", "end": "2026-09", "measure": "serious_violence", "age": "all"},
    {"districts": ["E06000045"], "start": "2025-04", "end": "2026-03", "measure": "knife_enabled_sv", "age": "u25"},
    {"districts": ["E06000046"], "start": "2026-07", "end": "2026-09", "measure": "knife_enabled_sv", "age": "all"},
    {"districts": [], "start": "2024-07", "end": "2024-07", "measure": "serious_violence", "age": "all"},
]
# What the browser sends for the other inputs of the callbacks the filter state drives.
OTHER_INPUTS = {
    "hotspots-mode.value": "count",
    "hotspots-points.value": [],
    "hotspots-map-summary.n_clicks": 1,
    "hotspots-lsoa.data": None,
}


def test_a_public_warehouse_refuses_unpublished_tables(demo_warehouse):
    public = Warehouse(demo_warehouse.with_(audience="public"))
    try:
        for table in ("mart_counts", "fact_police_records", "pub_cube_audit", "load_audit"):
            with pytest.raises(NotPublished, match="public release does not hold"):
                public.read(f"SELECT count(*) FROM {table}")
        assert public.read("SELECT count(*) AS n FROM pub_cube")["n"][0] > 0
        assert public.read("SELECT count(*) AS n FROM dim_area")["n"][0] > 0
    finally:
        public.dispose()
    partner = Warehouse(demo_warehouse.with_(audience="partner"))
    try:
        assert partner.read("SELECT count(*) AS n FROM mart_counts")["n"][0] > 0
    finally:
        partner.dispose()


def _apps(demo_warehouse, cut_off):
    from vrp.app import create_app

    whole = create_app(demo_warehouse.with_(cache_type="NullCache", audience="public"))
    reduced = create_app(cut_off.with_(cache_type="NullCache", audience="public"))
    return whole, reduced


def _state_callbacks(client) -> list[dict]:
    return [
        d
        for d in client.get("/_dash-dependencies").get_json()
        if "filter-state.data" in [f"{i['id']}.{i['property']}" for i in d["inputs"]]
        and all(f"{i['id']}.{i['property']}" in OTHER_INPUTS for i in d["inputs"] if i["id"] != "filter-state")
    ]


def _call(client, dep: dict, state: dict) -> tuple[int, str]:
    outputs = [
        {"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in dep["output"].strip(".").split("...")
    ]
    inputs = [
        {
            "id": i["id"],
            "property": i["property"],
            "value": state if i["id"] == "filter-state" else OTHER_INPUTS[f"{i['id']}.{i['property']}"],
        }
        for i in dep["inputs"]
    ]
    body = {
        "output": dep["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": inputs,
        "changedPropIds": ["filter-state.data"],
        "state": [{"id": s["id"], "property": s["property"], "value": None} for s in dep.get("state", [])],
    }
    response = client.post("/_dash-update-component", json=body)
    return response.status_code, response.get_data(as_text=True)


def test_every_page_and_api_answers_without_the_unpublished_tables(demo_warehouse, cut_off):
    whole, reduced = _apps(demo_warehouse, cut_off)
    try:
        whole_client, reduced_client = whole.server.test_client(), reduced.server.test_client()
        with duckdb.connect(cut_off.warehouse_url.removeprefix("duckdb:///"), read_only=True) as conn:
            lsoa = conn.execute("SELECT min(lsoa21_code) FROM dim_area WHERE district_code = 'E06000045'").fetchone()[0]
        OTHER_INPUTS["hotspots-lsoa.data"] = lsoa  # the LSOA panel too
        deps = _state_callbacks(reduced_client)
        assert len(deps) >= 15  # the Overview tiles, hotspots (4), knife crime (3), admissions (4), homicide (3), ...
        for state in STATES:
            for dep in deps:
                status, text = _call(reduced_client, dep, state)
                assert status in (200, 204), (dep["output"], state, status)
                # No refusal, no crash, and no command-line hints meant for operators.
                for sign in ("public release does not hold", "Something went wrong", "Traceback", "vrp ingest"):
                    assert sign not in text, (dep["output"], state, text[:400])
                # The same answer as the whole warehouse gives: nothing public depended on what was dropped.
                assert _call(whole_client, dep, state) == (status, text), (dep["output"], state)
        route = next(
            d for d in reduced_client.get("/_dash-dependencies").get_json() if "page-content.children" in d["output"]
        )
        for path in PAGES:
            assert reduced_client.get(path).status_code == 200
            body = {
                "output": route["output"],
                "outputs": [
                    {"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]}
                    for o in route["output"].strip(".").split("...")
                ],
                "inputs": [{"id": "url", "property": "pathname", "value": path}],
                "changedPropIds": ["url.pathname"],
                "state": [],
            }
            layout = reduced_client.post("/_dash-update-component", json=body).get_data(as_text=True)
            assert "vrp ingest" not in layout and "Something went wrong" not in layout, path
        _api_answers_the_same(whole_client, reduced_client)
    finally:
        for app in (whole, reduced):
            app.server.config["VRP_WAREHOUSE"].dispose()


def _api_answers_the_same(whole_client, reduced_client) -> None:
    measures = reduced_client.get("/api/v1/measures").get_json()
    assert measures == whole_client.get("/api/v1/measures").get_json()
    for m in measures:
        area = "HIPS" if m["areas"] == "district" else "Hampshire"
        for period in m["periods"]:
            url = f"/api/v1/data?measure={m['id']}&area={area},{'E06000045' if area == 'HIPS' else 'Kent'}"
            url += f"&period={period}"
            got = reduced_client.get(url)
            assert got.status_code == 200, (url, got.get_data(as_text=True)[:300])
            assert json.loads(got.get_data()) == json.loads(whole_client.get(url).get_data()), url
    assert reduced_client.get("/api/openapi.json").status_code == 200
    assert reduced_client.get("/api").status_code == 200


def test_a_cube_made_under_a_smaller_minimum_count_is_not_served(demo_warehouse):
    """The demo cube was made with VRP_PUBLIC_MIN_COUNT 0: a server requiring 10 must not show it, since hiding
    more cells without a new audit could let them be worked out."""
    from vrp.app import create_app
    from vrp.data_access import published

    stricter = demo_warehouse.with_(audience="public", public_min_count=10, cache_type="NullCache")
    wh = Warehouse(stricter)
    try:
        with pytest.raises(NotPublished, match="run `vrp rebuild-marts`"):
            published.cells(wh, "serious_violence", period_type="fy")
    finally:
        wh.dispose()
    app = create_app(stricter)
    try:
        response = app.server.test_client().get("/api/v1/data?measure=serious_violence&area=HIPS&period=fy")
        assert response.status_code == 403
        assert "VRP_PUBLIC_MIN_COUNT of 10" in response.get_json()["error"]
    finally:
        app.server.config["VRP_WAREHOUSE"].dispose()


def test_a_cube_made_under_other_measure_rules_is_not_served(demo_warehouse, tmp_path):
    """Raising a measure's threshold in config/measures.toml without rebuilding the cube: the cube still holds
    counts the new threshold hides, so it is refused until `vrp rebuild-marts`."""
    import shutil as sh

    from vrp.data_access import published

    config = tmp_path / "config"
    sh.copytree(demo_warehouse.config_dir, config)
    text = (config / "measures.toml").read_text()
    raised = text.replace("suppress_below = 3\n", "suppress_below = 20\n", 1)
    assert raised != text
    (config / "measures.toml").write_text(raised)
    stricter = demo_warehouse.with_(audience="public", config_dir=config, cache_type="NullCache")
    wh = Warehouse(stricter)
    try:
        with pytest.raises(NotPublished, match="other measure definitions or thresholds"):
            published.cells(wh, "homicide", period_type="fy")
    finally:
        wh.dispose()
