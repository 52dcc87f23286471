"""Every server callback of the app, posted malformed values the way a browser (or anyone with curl) can post them:
each answers politely (a 200 or 204, no stack trace in the body) and logs no traceback (issue 14 point 12)."""

from __future__ import annotations

import json
import logging

import pytest

MALFORMED = {
    "bad month": "2024-13",
    "list": ["/", "/hotspots"],
    "dict": {"$ne": 1},
    "number": 12345,
    "boolean": True,
    "long text": "x" * 5000,
    "unknown measure": "not_a_measure",
}


def _dependencies(client) -> list[dict]:
    """The server-side callbacks (clientside ones never reach the server)."""
    return [d for d in client.get("/_dash-dependencies").get_json() if not d.get("clientside_function")]


CARD = "no-such-card"  # what a pattern-matching id's MATCH part is posted as


def _concrete(component_id: str):
    """A component id as the browser posts it: a pattern-matching id (JSON with ["MATCH"]) for one component."""
    if not component_id.startswith("{"):
        return component_id
    return {k: CARD if v == ["MATCH"] else v for k, v in json.loads(component_id).items()}


def _is_all(component_id: str) -> bool:
    return component_id.startswith("{") and any(
        v in (["ALL"], ["ALLSMALLER"]) for v in json.loads(component_id).values()
    )


def _split(output: str) -> list[dict]:
    parts = output.strip(".").split("...")
    return [{"id": _concrete(p.rsplit(".", 1)[0]), "property": p.rsplit(".", 1)[1]} for p in parts]


def _item(spec: dict, value):
    item = {"id": _concrete(spec["id"]), "property": spec["property"], "value": value}
    return [item] if _is_all(spec["id"]) else item


def _body(dep: dict, position: int, value) -> dict:
    outputs = _split(dep["output"])
    inputs = [_item(i, value if n == position else None) for n, i in enumerate(dep["inputs"])]
    changed = inputs[position][0] if isinstance(inputs[position], list) else inputs[position]
    changed_id = changed["id"] if isinstance(changed["id"], str) else json.dumps(changed["id"], separators=(",", ":"))
    return {
        "output": dep["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": inputs,
        "changedPropIds": [f"{changed_id}.{changed['property']}"],
        "state": [_item(s, None) for s in dep.get("state", [])],
    }


def _tracebacks(records) -> list[str]:
    return [f"{r.name}: {r.getMessage()[:200]}" for r in records if r.levelno >= logging.ERROR and r.exc_info]


@pytest.mark.parametrize("audience", ["public", "partner"])
@pytest.mark.parametrize("kind", list(MALFORMED))
def test_every_callback_answers_malformed_input_politely(request, caplog, audience, kind):
    app = request.getfixturevalue("app" if audience == "public" else "partner_app")
    client = app.server.test_client()
    deps = _dependencies(client)
    assert len(deps) >= 25  # the shell's router and filter sync, every page's cards, the map and its table
    value = MALFORMED[kind]
    failures = []
    for dep in deps:
        for position, target in enumerate(dep["inputs"]):
            caplog.clear()
            with caplog.at_level(logging.ERROR):
                response = client.post("/_dash-update-component", json=_body(dep, position, value))
            text = response.get_data(as_text=True)
            where = f"{dep['output'][:60]} <- {target['id']}.{target['property']}"
            if response.status_code not in (200, 204):
                failures.append(f"{where}: HTTP {response.status_code}")
            elif "Traceback" in text or "sqlalchemy" in text.lower():
                failures.append(f"{where}: a traceback in the answer")
            logged = _tracebacks(caplog.records)
            if logged:
                failures.append(f"{where}: logged {logged[0]}")
    assert not failures, "\n".join(failures)


SYNC = "..filter-district.value"  # the start of the filter sync's output id


def _sync_answer(client, search, pathname="/knife-crime") -> dict:
    dep = next(d for d in _dependencies(client) if d["output"].startswith(SYNC))
    body = _body(dep, 0, search)
    body["inputs"][-1]["value"] = pathname  # url.pathname, the sync's last input
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    return response.get_json()["response"]


def test_a_malformed_link_is_refused_in_words(app, caplog):
    client = app.server.test_client()
    with caplog.at_level(logging.INFO):
        answer = _sync_answer(client, ["?district=E06000045"])
    message = json.dumps(answer["filter-message"]["children"])
    assert "The link was not understood" in message
    assert set(answer) == {"filter-message"}  # everything else stays as it is
    assert _tracebacks(caplog.records) == []


def test_presentation_mode_stays_in_the_link(app):
    """?present=1 is how the page is shown, not a filter: the sync keeps it in the address it writes back and
    does not call it an unknown parameter."""
    client = app.server.test_client()
    answer = _sync_answer(client, "?present=1&district=E06000045")
    assert answer["url"]["search"].endswith("&present=1") and "district=E06000045" in answer["url"]["search"]
    assert "Unknown link parameter" not in json.dumps(answer.get("filter-message", {}))
    plain = _sync_answer(client, "?district=E06000045")
    assert "present" not in plain["url"]["search"]
