"""Accessibility audit in the browser with axe-core (from the npm registry, fetched by `make test`)."""

from __future__ import annotations

import pytest

from tests.conftest import REQUIRE_SERVICES
from vrp.settings import REPO_ROOT

AXE = REPO_ROOT / "build" / "axe" / "axe.min.js"


def serious_violations(driver) -> list[dict]:
    """Violations of serious or critical impact on the page as it stands (WCAG 2.x A and AA rules)."""
    if not AXE.exists():
        message = f"{AXE} is missing: run `make build/axe/axe.min.js`"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})"
        ".then(r => done(r.violations)).catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e),"
        " nodes: []}]));"
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n.get("target") for n in v.get("nodes", [])][:5],
        }
        for v in result
        if v.get("impact") in ("serious", "critical")
    ]
