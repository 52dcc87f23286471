"""The partial plotly.js bundle (plotlyjs/, built by make): it holds every trace type the code draws, the app
serves it in place of Dash's full bundle, and falls back to the full one when it is missing or built for another
plotly.js."""

from __future__ import annotations

import json
import re

import plotly.graph_objs as go
import pytest
from plotly.basedatatypes import BaseTraceType
from plotly.offline import get_plotlyjs_version

from tests.helpers import built_bundle
from vrp.app import create_app
from vrp.settings import REPO_ROOT

ADDRESS = "/_dash-component-suites/plotly/package_data/plotly.min.js"
TRACE_TYPES = {
    name.lower()
    for name in dir(go)
    if isinstance(getattr(go, name), type) and issubclass(getattr(go, name), BaseTraceType)
}


def drawn_trace_types() -> set[str]:
    """Every trace type the source builds: graph_objects trace classes, and traces written as dicts."""
    found = set()
    for path in (REPO_ROOT / "src" / "vrp").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "plotly.express" not in text, f"{path.name}: plotly express traces are not checked here"
        found |= {name.lower() for name in re.findall(r"\bgo\.([A-Z]\w*)\(", text)} & TRACE_TYPES
        found |= set(re.findall(r"""["']type["']\s*:\s*["'](\w+)["']""", text)) & TRACE_TYPES
    return found


def test_every_trace_type_the_code_draws_is_in_the_bundle():
    listed = json.loads(
        re.search(r"module\.exports\s*=\s*(\[.*?\]);", (REPO_ROOT / "plotlyjs" / "traces.js").read_text())
        .group(1)
        .replace("'", '"')
    )
    drawn = drawn_trace_types()
    assert {"scatter", "bar", "heatmap", "choroplethmap"} <= drawn  # the scan finds what the pages draw
    assert drawn - {"scatter"} <= set(listed), "add the missing trace types to plotlyjs/traces.js"


def test_the_bundle_is_built_for_the_plotlyjs_the_plotly_package_speaks(base_settings):
    assert built_bundle(base_settings)["version"] == get_plotlyjs_version()
    versions = json.loads((REPO_ROOT / "plotlyjs" / "package.json").read_text())["dependencies"]
    assert versions["plotly.js"] == get_plotlyjs_version(), "pin plotly.js in plotlyjs/package.json to this version"


def test_the_app_serves_the_partial_bundle_gzipped_and_revalidated(base_settings):
    built = built_bundle(base_settings)
    client = create_app(base_settings).server.test_client()
    plain = client.get(ADDRESS)
    assert plain.status_code == 200 and plain.headers["Cache-Control"] == "no-cache"
    assert plain.data.startswith(f"/* plotly.js v{built['version']}, partial bundle for the VRP dashboard".encode())
    assert b"vrpBundle" in plain.data  # what the browser test finds on window.Plotly
    gz = client.get(ADDRESS, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip" and len(gz.data) < len(plain.data) / 2
    again = client.get(ADDRESS, headers={"Accept-Encoding": "gzip", "If-None-Match": gz.headers["ETag"]})
    assert again.status_code == 304
    for response in (plain, gz, again):
        response.close()
    # Dash's other files are still Dash's.
    assert client.get("/_dash-component-suites/dash/dcc/async-graph.js").status_code == 200


@pytest.mark.parametrize("manifest", [None, {"version": "0.0.1", "traces": []}])
def test_without_a_matching_bundle_the_full_plotlyjs_is_served(base_settings, tmp_path, caplog, manifest):
    if manifest:
        (tmp_path / "plotly-vrp.json").write_text(json.dumps(manifest))
        (tmp_path / "plotly-vrp.min.js").write_text("/* not for this plotly.js */")
    with caplog.at_level("WARNING", logger="vrp.app"):
        client = create_app(base_settings.with_(plotlyjs_dir=tmp_path)).server.test_client()
    assert "serving the full one" in caplog.text
    body = client.get(ADDRESS)
    assert body.status_code == 200
    assert (
        body.data.lstrip()[:40].startswith(b"/**") and f"plotly.js v{get_plotlyjs_version()}".encode() in body.data[:80]
    )
    assert b"partial bundle" not in body.data[:200]
    body.close()
