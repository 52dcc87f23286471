"""Evaluating an intervention through the API and the CLI on the demo warehouse: the public gets an evaluation only
where every month is a published cell (else a refusal saying why), partners any area; the numbers are the model's
on the series the audience may see."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.helpers import run_cli
from vrp.data_access import tables as t
from vrp.stats.its import evaluate as fit

MEASURE = "knife_enabled_sv"
SOUTHAMPTON, PORTSMOUTH = "E06000045", "E06000044"


@pytest.fixture(scope="module")
def client(app):
    return app.server.test_client()


@pytest.fixture(scope="module")
def partner_client(demo_warehouse):
    from vrp.app import create_app

    application = create_app(demo_warehouse.with_(audience="partner", insecure_no_auth=True, cache_type="NullCache"))
    yield application.server.test_client()
    application.server.config["VRP_WAREHOUSE"].dispose()


@pytest.fixture(scope="module")
def month_cells(wh) -> pd.DataFrame:
    c = t.pub_cube
    q = sa.select(c.c.area_code, c.c.period_start, c.c.count, c.c.suppressed).where(
        c.c.measure_id == MEASURE, c.c.age == "all", c.c.period_type == "month"
    )
    frame = wh.read(q.order_by(c.c.area_code, c.c.period_start))
    frame["month"] = pd.to_datetime(frame["period_start"]).dt.strftime("%Y-%m")
    return frame


@pytest.fixture(scope="module")
def hidden_district(month_cells) -> str:
    """A district with at least one hidden month of knife-enabled serious violence in the published cube."""
    hidden = month_cells[month_cells["suppressed"].astype(bool)]
    assert len(hidden), "the demo cube hides some month cells"
    return str(hidden["area_code"].iloc[0])


def _get(client, query: str, status: int = 200) -> dict:
    response = client.get(f"/api/v1/evaluate?{query}")
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def test_public_evaluation_is_the_model_on_the_published_months(client, month_cells):
    body = _get(client, f"measure={MEASURE}&area={SOUTHAMPTON}&start=2024-04&from=2022-04&to=2026-03")
    cells = month_cells[(month_cells["area_code"] == SOUTHAMPTON) & month_cells["month"].between("2022-04", "2026-03")]
    assert [p["month"] for p in body["series"]] == list(cells["month"]) and len(body["series"]) == 48
    assert [p["observed"] for p in body["series"]] == [float(c) for c in cells["count"]]
    ref = fit(cells["count"].to_numpy(dtype=float), pd.to_datetime(cells["period_start"]), 24)
    assert body["level"]["ratio"] == pytest.approx(ref.level.ratio, rel=1e-9)
    assert body["level"]["lower"] == pytest.approx(ref.level.lower, rel=1e-9)
    assert body["trend"]["ratio_per_year"] == pytest.approx(ref.trend.ratio, rel=1e-9)
    assert body["model"]["months_before"] == 24 and body["model"]["months_after"] == 24
    assert body["sentences"][0].startswith("After April 2024, knife-enabled serious violence in Southampton was ")
    assert body["synthetic"] is True and body["did"] is None
    phases = [p["phase"] for p in body["series"]]
    assert phases.count("before") == 24 and phases.count("after") == 24


def test_comparison_area_adds_the_difference_in_differences(client):
    body = _get(client, f"measure={MEASURE}&area={SOUTHAMPTON}&start=2024-04&comparison={PORTSMOUTH}")
    assert set(body["did"]) == {"level", "trend"} and body["comparison"]["name"] == "Portsmouth"
    assert body["did"]["level"]["lower"] < body["did"]["level"]["ratio"] < body["did"]["level"]["upper"]
    assert all(isinstance(p["comparison"], float) for p in body["series"])
    assert body["sentences"][2].startswith("Against Portsmouth over the same months (difference in differences)")


def test_public_is_refused_where_months_are_hidden_and_partners_see_it(client, partner_client, hidden_district):
    query = f"measure={MEASURE}&area={hidden_district}&start=2024-04"
    refused = _get(client, query, 403)
    assert "an evaluation needs every month" in refused["error"] and "signed-in partners" in refused["error"]
    body = _get(partner_client, query)
    assert len(body["series"]) == 66 and all(p["observed"] is not None for p in body["series"])
    several = _get(client, f"measure={MEASURE}&area={SOUTHAMPTON},{PORTSMOUTH}&start=2024-04", 403)
    assert "one district at a time" in several["error"]
    assert len(_get(partner_client, f"measure={MEASURE}&area={SOUTHAMPTON},{PORTSMOUTH}&start=2024-04")["series"])


def test_lsoas_are_for_partners_and_flag_regression_to_the_mean(client, partner_client, wh):
    import dataclasses

    from vrp.data_access.queries import Warehouse

    partner = Warehouse(dataclasses.replace(wh.settings, audience="partner"))
    f = partner.check(MEASURE, (), "2023-04", "2024-03")
    top = partner.lsoa_counts_raw(f).sort_values("count", ascending=False)["lsoa21_code"].head(4).tolist()
    query = f"measure={MEASURE}&lsoa={','.join(top)}&start=2024-04"
    assert "signed-in partners" in _get(client, query, 403)["error"]
    body = _get(partner_client, query)
    assert body["area"]["lsoas"] == sorted(top) and body["area"]["name"] == "4 LSOAs chosen on the map"
    rtm = [c for c in body["caveats"] if c["check"] == "regression_to_the_mean"]
    assert len(rtm) == 1 and rtm[0]["message"].startswith("4 of the 4 LSOAs were among the top 5%")
    partner.dispose()


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        (f"measure={MEASURE}&area={SOUTHAMPTON}&start=2026-06", 400, "too little data: 62 months before"),
        (f"measure={MEASURE}&start=2021-09", 400, "5 months before the start"),
        (f"measure={MEASURE}&start=2030-01", 400, "must lie inside the period"),
        (f"measure={MEASURE}", 400, "give the month the intervention started"),
        ("measure=ons_knife_crime&start=2024-04", 400, "not a monthly local series"),
        ("measure=sharp_object_admissions&start=2024-04", 403, "not by month"),
        (f"measure={MEASURE}&start=2024-04&phase_in=13", 400, "phase-in must be a whole number of months from 0"),
        (f"measure={MEASURE}&start=2024-04&comparison=HIPS&area=HIPS", 400, "must not overlap"),
        (f"measure={MEASURE}&start=2024-04&family=gamma", 400, "family one of poisson, negbin"),
        (f"measure={MEASURE}&start=2024-04&colour=red", 400, "unknown parameter 'colour'"),
    ],
)
def test_questions_it_cannot_answer_are_refused_with_a_reason(client, query, status, words):
    body = _get(client, query, status)
    assert set(body) == {"error"} and words in body["error"], body


def test_options_change_the_errors_not_the_counts(client):
    base = f"measure={MEASURE}&area={SOUTHAMPTON}&start=2024-04"
    quasi, nw = _get(client, base), _get(client, base + "&errors=newey-west")
    offset = _get(client, base + "&offset=true&phase_in=2")
    assert nw["level"]["ratio"] == pytest.approx(quasi["level"]["ratio"], rel=1e-9)
    assert nw["level"]["upper"] != pytest.approx(quasi["level"]["upper"], rel=1e-6)
    assert nw["model"]["newey_west_lags"] == 3 and offset["model"]["phase_in_months"] == 2
    assert [p["phase"] for p in offset["series"]].count("phase-in") == 2


def test_the_answer_carries_an_etag(client):
    query = f"/api/v1/evaluate?measure={MEASURE}&area={SOUTHAMPTON}&start=2024-04"
    first = client.get(query)
    again = client.get(query, headers={"If-None-Match": first.headers["ETag"]})
    assert first.status_code == 200 and again.status_code == 304


# ---- vrp evaluate ----------------------------------------------------------------------------------------------


def test_cli_prints_the_ratios_and_sentences(capsys, demo_warehouse, client):
    url = demo_warehouse.warehouse
    code, out, err = run_cli(
        capsys, "evaluate", "--warehouse", url, "--measure", MEASURE, "--area", SOUTHAMPTON, "--start", "2024-04"
    )
    api = _get(client, f"measure={MEASURE}&area={SOUTHAMPTON}&start=2024-04")
    assert code == 0 and err == ""
    level = api["level"]
    assert f"level change ratio {level['ratio']:.3f} (95% CI {level['lower']:.3f} to {level['upper']:.3f}" in out
    assert api["sentences"][0] in out and "SYNTHETIC" in out
    code, out, _ = run_cli(
        capsys, "evaluate", "--warehouse", url, "--measure", MEASURE, "--area", SOUTHAMPTON, "--start", "2024-04",
        "--format", "json",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["level"] == level


def test_cli_refuses_hidden_months_to_the_public_in_one_line(capsys, demo_warehouse, hidden_district, monkeypatch):
    args = ["evaluate", "--warehouse", demo_warehouse.warehouse, "--measure", MEASURE, "--area", hidden_district]
    code, out, err = run_cli(capsys, *args, "--start", "2024-04")
    assert code == 1 and out == "" and err.startswith("vrp: error: ") and err.count("\n") == 1
    assert "an evaluation needs every month" in err
    monkeypatch.setenv("VRP_AUDIENCE", "partner")
    code, out, err = run_cli(capsys, *args, "--start", "2024-04", "--plan", "12", "--format", "json")
    plan = json.loads(out)
    assert code == 0 and plan["months_before"] == 36 and plan["months_after"] == 12
    assert plan["mde_drop"] is None or 0.02 <= plan["mde_drop"] <= 0.8
    powers = [p["power"] for p in plan["curve"]]
    assert powers[-1] > powers[0]  # more power to see a bigger drop


def test_the_hotspots_link_carries_the_selection(app, partner_client):
    from vrp.callbacks.evaluate import hotspots_link

    state = {"districts": [PORTSMOUTH, SOUTHAMPTON], "measure": MEASURE, "start": "2025-04", "end": "2026-03"}
    with app.server.test_request_context("/"):  # public: no LSOA (not published by month)
        assert hotspots_link(state, "E01017027") == f"/evaluate#measure={MEASURE}&area={PORTSMOUTH},{SOUTHAMPTON}"
        assert hotspots_link({**state, "measure": "ons_knife_crime", "districts": []}, None) == "/evaluate"
    partner = partner_client.application
    with partner.test_request_context("/"):
        assert hotspots_link(state, "E01017027").endswith("&lsoa=E01017027")


def test_public_evaluation_needs_nothing_but_the_published_cube(demo_warehouse, cut_off, hidden_district):  # noqa: F811
    """On a copy of the warehouse without records, marts or the audit, the public evaluation is the same, and the
    refusal too: it reads published cells only."""
    from vrp.app import create_app

    answers = []
    for s in (demo_warehouse, cut_off):
        application = create_app(s.with_(cache_type="NullCache", audience="public"))
        c = application.server.test_client()
        answers.append(
            (
                _get(c, f"measure={MEASURE}&area={SOUTHAMPTON}&start=2024-04&comparison={PORTSMOUTH}&phase_in=1"),
                _get(c, f"measure={MEASURE}&area={hidden_district}&start=2024-04", 403),
            )
        )
        application.server.config["VRP_WAREHOUSE"].dispose()
    assert answers[0] == answers[1]
