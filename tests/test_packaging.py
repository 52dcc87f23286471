"""`pip install .` (not editable) gives a package that serves from any folder: a wheel is built from a copy of the
project, installed offline into a fresh virtual environment (its dependencies borrowed from this one), and from
an unrelated folder the package finds its config, its assets and the plotly.js bundle, and gunicorn serves them
as ``vrp.wsgi:server``."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

from vrp.settings import REPO_ROOT

pytestmark = pytest.mark.slow
PROJECT_FILES = ("pyproject.toml", "README.md", "src", "config", "assets")
BUNDLE = ("plotly-vrp.json", "plotly-vrp.min.js", "plotly-vrp.min.js.gz")


def run(*args, **kw):
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, **kw)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def copy_project(target: Path) -> bool:
    """The files a wheel is built from, copied so the build leaves the checkout alone; the package's links to
    config/, assets/ and build/plotlyjs stay links and resolve inside the copy. Returns whether the plotly.js
    bundle was there to package."""
    for name in PROJECT_FILES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)
    built = REPO_ROOT / "build" / "plotlyjs"
    have_bundle = all((built / f).exists() for f in BUNDLE)
    if have_bundle:
        (target / "build" / "plotlyjs").mkdir(parents=True)
        for f in BUNDLE:
            shutil.copy2(built / f, target / "build" / "plotlyjs" / f)
    return have_bundle


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("packaging")
    project, dist, venv = root / "project", root / "dist", root / "venv"
    project.mkdir()
    have_bundle = copy_project(project)
    python = Path(sys.executable)
    run(python, "-m", "pip", "wheel", "--no-deps", "--no-index", "--no-build-isolation", "-q", "-w", dist, project)
    wheel = next(dist.glob("vrp_dashboard-*.whl"))
    # A fresh environment of the same interpreter, without pip; it borrows this environment's packages (the
    # dependencies) through a .pth line, which does not run this environment's editable-install hook.
    run(getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", venv)
    vpython = venv / "bin" / "python"
    purelib = Path(run(vpython, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    (purelib / "zz_borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(python, "-m", "pip", "--python", vpython, "install", "--no-deps", "--no-index", "-q", wheel)
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return vpython, elsewhere, wheel, have_bundle


def clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VRP_") and k != "PYTHONPATH"}
    env.update(extra)
    return env


def test_the_wheel_carries_config_assets_and_bundle(installed):
    import zipfile

    _, _, wheel, have_bundle = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in ("measures.toml", "sources.toml", "offence_codes.csv"):
        assert f"vrp/_data/config/{f}" in names
    for f in ("bootstrap.min.css", "vrp.css"):
        assert f"vrp/_data/assets/{f}" in names
    assert "vrp/wsgi.py" in names
    if have_bundle:
        assert {f"vrp/_data/plotlyjs/{f}" for f in BUNDLE} <= names
    assert not any("node_modules" in n for n in names)


def test_installed_package_finds_its_files_from_another_folder(installed):
    vpython, elsewhere, _, have_bundle = installed
    probe = (
        "import json, vrp\n"
        "from vrp.settings import from_env, IN_CHECKOUT\n"
        "s = from_env()\n"
        "print(json.dumps({'file': vrp.__file__, 'checkout': IN_CHECKOUT,"
        " 'measures': s.measures_file.is_file(), 'sources': (s.config_dir / 'sources.toml').is_file(),"
        " 'css': (s.assets_dir / 'bootstrap.min.css').is_file(),"
        " 'bundle': (s.plotlyjs_dir / 'plotly-vrp.min.js').is_file(), 'build': str(s.build_dir)}))\n"
    )
    found = json.loads(run(vpython, "-c", probe, cwd=elsewhere, env=clean_env()))
    assert Path(found["file"]).is_relative_to(vpython.parent.parent)  # the wheel's copy, not the checkout's
    assert found["checkout"] is False
    assert (found["measures"], found["sources"], found["css"]) == (True, True, True)
    assert found["bundle"] is have_bundle
    assert Path(found["build"]) == elsewhere / "build"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_gunicorn_serves_the_installed_package_from_another_folder(installed, demo_warehouse):
    vpython, elsewhere, _, have_bundle = installed
    port = free_port()
    env = clean_env(
        VRP_WAREHOUSE_URL=demo_warehouse.warehouse,
        VRP_REFERENCE_DIR=str(demo_warehouse.reference_dir),
        VRP_CACHE_TYPE="NullCache",
    )
    server = subprocess.Popen(
        [vpython, "-m", "gunicorn", "--no-control-socket", "--bind", f"127.0.0.1:{port}", "vrp.wsgi:server"],
        cwd=elsewhere,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.3)
        assert get(base + "/")[0] == 200
        status, css = get(base + "/assets/bootstrap.min.css")
        assert status == 200 and css == (REPO_ROOT / "assets" / "bootstrap.min.css").read_bytes()
        status, js = get(base + "/_dash-component-suites/plotly/package_data/plotly.min.js")
        assert status == 200
        if have_bundle:
            assert js == (REPO_ROOT / "build" / "plotlyjs" / "plotly-vrp.min.js").read_bytes()
        ready = json.loads(get(base + "/readyz")[1])
        assert ready["warehouse"] == "ok"
    finally:
        server.terminate()
        server.wait(timeout=30)
