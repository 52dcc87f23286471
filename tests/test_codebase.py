"""The house rules of issue 16 ("A codebase a newcomer can live in"), checked on the source: module and function
sizes, and imports that follow the flow (data_access -> callbacks -> figures/dashboards), so a change that breaks
one fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "vrp"
MODULES = sorted(p for p in SRC.rglob("*.py") if "_data" not in p.parts)
# One module per page in callbacks/, with the parts that are its own; exports.py is the download registry and
# reads every page by design.
PAGE_PARTS = {
    "admissions": set(),
    "evaluate": set(),
    "home": set(),
    "homicide": set(),
    "hotspots": {"hotspots_panel"},
    "knife_crime": set(),
    "national": set(),
    "profile": {"profile_sections", "profile_about"},
}


def _name(path: Path) -> str:
    return ".".join(("vrp", *path.relative_to(SRC).with_suffix("").parts)).removesuffix(".__init__")


def _imports(path: Path) -> set[str]:
    """Every module the file imports, anywhere in it (a function's late import counts too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _in(folder: str) -> list[Path]:
    return [p for p in MODULES if p.relative_to(SRC).parts[0] == folder]


def test_the_rules_see_the_source() -> None:
    assert len(MODULES) > 100
    assert {"figures", "callbacks", "dashboards", "data_access"} <= {p.relative_to(SRC).parts[0] for p in MODULES}


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_no_module_over_500_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= 500


def test_no_function_over_80_lines_outside_stats_and_pipeline() -> None:
    long = []
    for path in MODULES:
        if path.relative_to(SRC).parts[0] in ("stats", "pipeline"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > 80:
                    long.append(f"{_name(path)}.{node.name}: {length} lines")
    assert long == []


def test_figures_never_reach_the_warehouse() -> None:
    wrong = {
        _name(p): sorted(m for m in _imports(p) if m.startswith(("vrp.data_access", "sqlalchemy")))
        for p in _in("figures")
    }
    assert {k: v for k, v in wrong.items() if v} == {}


def test_the_read_side_knows_nothing_of_pages() -> None:
    """data_access (and so the filter state it checks) imports no Dash, no layouts, callbacks or figures."""
    upward = ("dash", "dash_bootstrap_components", "vrp.dashboards", "vrp.callbacks", "vrp.figures")
    wrong = {_name(p): sorted(m for m in _imports(p) if m.startswith(upward)) for p in _in("data_access")}
    assert {k: v for k, v in wrong.items() if v} == {}


def test_layouts_read_only_through_the_request_context() -> None:
    """A layout gets the warehouse from data_access.context and plain values from the filter state; it never
    builds queries itself."""
    allowed = {"context", "filter_state", "measures", "evaluation"}
    wrong = {}
    for p in _in("dashboards"):
        reached = {m.split(".")[2] for m in _imports(p) if m.startswith("vrp.data_access.")}
        if reached - allowed:
            wrong[_name(p)] = sorted(reached - allowed)
    assert wrong == {}


def test_no_page_imports_another_pages_callbacks() -> None:
    wrong = {}
    for page, parts in PAGE_PARTS.items():
        others = {f"vrp.callbacks.{other}" for other in PAGE_PARTS if other != page}
        others |= {f"vrp.callbacks.{part}" for other, own in PAGE_PARTS.items() if other != page for part in own}
        for module in (page, *parts):
            reached = _imports(SRC / "callbacks" / f"{module}.py") & others
            if reached:
                wrong[module] = sorted(reached)
    assert wrong == {}


def test_ruff_is_clean():
    """The linter the Makefile's `lint` runs, in the suite too, so CI refuses what it refuses."""
    import shutil
    import subprocess
    import sys

    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is installed by make setup-test"
    root = SRC.parents[1]
    done = subprocess.run(
        [ruff, "check", "--no-cache", "src", "tests", "benchmarks", "tools", "app.py"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:]
