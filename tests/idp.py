"""The demo OpenID provider (deploy/idp/provider.mjs, the npm package oidc-provider that `make test` installs into
build/idp) started on 127.0.0.1 for the sign-in tests, and a way to sign in through its own login form."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from tests.conftest import REQUIRE_SERVICES

ROOT = Path(__file__).resolve().parents[1]
PROVIDER = ROOT / "deploy" / "idp" / "provider.mjs"
MODULES = ROOT / "build" / "idp"
CLIENT_ID, CLIENT_SECRET = "vrp-dashboard", "vrp-demo-secret"
SECRET_KEY = "test-only-session-key-" + "x" * 32


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _need(ok: bool, message: str) -> None:
    if ok:
        return
    if REQUIRE_SERVICES:
        pytest.fail(message)
    pytest.skip(message)


def start_provider(app_port: int):
    """Start the provider for an app on ``app_port`` (both 127.0.0.1 and localhost); returns (process, issuer)."""
    _need(shutil.which("node") is not None, "node is not installed")
    _need((MODULES / "node_modules" / "oidc-provider").is_dir(), "oidc-provider is not installed: make test does it")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    hosts = (f"http://127.0.0.1:{app_port}", f"http://localhost:{app_port}")
    env = {
        **os.environ,
        "IDP_PORT": str(port),
        "IDP_REDIRECT_URIS": ",".join(f"{h}/auth/callback" for h in hosts),
        "IDP_POST_LOGOUT_URIS": ",".join(f"{h}/" for h in hosts),
        "OIDC_PROVIDER_DIR": str(MODULES),
    }
    process = subprocess.Popen(
        ["node", str(PROVIDER)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                return process, issuer
        except requests.ConnectionError:
            time.sleep(0.1)
        if process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"the demo OpenID provider did not start: {process.communicate()[0][-2000:]}")


def oidc_settings(settings, issuer: str):
    return settings.with_(
        oidc_issuer=issuer, oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET, secret_key=SECRET_KEY
    )


class Served:
    """A Flask app served on 127.0.0.1:``port`` in a thread (werkzeug's threaded server)."""

    def __init__(self, server, port: int):
        from werkzeug.serving import make_server

        self.http = make_server("127.0.0.1", port, server, threaded=True)
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.http.shutdown()


def sign_in(base_url: str, account: str) -> requests.Session:
    """Sign in at the app through the provider's own login form, as a browser would; the session comes back
    holding the app's session cookie."""
    http = requests.Session()
    form = http.get(f"{base_url}/login", timeout=10)
    assert form.ok, form.text[:500]
    action = re.search(r'<form[^>]*action="([^"]+)"', form.text)
    assert action, form.text[:500]
    done = http.post(
        urljoin(form.url, unescape(action.group(1))),
        data={"prompt": "login", "login": account, "password": "any"},
        timeout=10,
    )
    assert done.ok and done.url.startswith(base_url), (done.status_code, done.url, done.text[:300])
    assert http.cookies.get("vrp_session"), "no session cookie after sign-in"
    return http
