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


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_every_callback_answers_malformed_input_politely(app, caplog, kind):
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
