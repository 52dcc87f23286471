"""The app serves the overview from the warehouse, labels synthetic data, and degrades politely without one."""

import pytest

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
    assert "1 month to February 2022 (all that is loaded)" in body
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
