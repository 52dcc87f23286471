"""Partner sign-in with OpenID Connect (Authlib as the relying party) and the audience of each request.

The audience is decided per request, never per process: a request is ``partner`` only when its session cookie
(signed with VRP_SECRET_KEY, HttpOnly, SameSite=Lax, Secure over HTTPS) holds a sign-in that is not older than
VRP_SESSION_LIFETIME and whose claims granted the partner role (VRP_OIDC_ROLE_CLAIM holding
VRP_OIDC_PARTNER_VALUE). Anything else (no cookie, a tampered or expired one, an account without the role) is
``public``. ``data_access.context.warehouse()`` hands each request the warehouse of its audience, so every layout,
callback and API endpoint checks it on every request.

Fail closed (``check_startup``): partner data (VRP_AUDIENCE=partner) with no provider configured refuses to start,
unless VRP_INSECURE_NO_AUTH=1 says on purpose that every visitor is a partner (a closed network).

Routes: ``/login`` (to the provider), ``/auth/callback`` (back from it), ``/logout`` (clears the session, then the
provider's end_session_endpoint when it has one).
"""

from __future__ import annotations

import logging
import re
import time
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Flask, current_app, has_request_context, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from vrp.settings import Settings

log = logging.getLogger(__name__)
blueprint = Blueprint("vrp_auth", __name__)
SESSION_KEY = "vrp_user"
PROVIDER = "vrp"
INSECURE_WARNING = (
    "VRP_INSECURE_NO_AUTH=1: partner data is served to every visitor without sign-in; use this only on a closed network"
)


class StartupRefused(SystemExit):
    """The server must not start: one line saying why. Exit status 3 is gunicorn's "worker failed to boot", so the
    master stops instead of starting the worker again and again."""

    def __init__(self, message: str):
        super().__init__(3)
        self.message = message

    def __str__(self) -> str:
        return self.message


def check_startup(settings: Settings) -> None:
    """Refuse a configuration that would serve partner data to anyone, or sign-in that cannot work."""
    oidc = {
        "VRP_OIDC_ISSUER": settings.oidc_issuer,
        "VRP_OIDC_CLIENT_ID": settings.oidc_client_id,
        "VRP_OIDC_CLIENT_SECRET": settings.oidc_client_secret,
    }
    given = [name for name, value in oidc.items() if value]
    if given and len(given) < len(oidc):
        missing = ", ".join(name for name, value in oidc.items() if not value)
        raise StartupRefused(f"vrp: refusing to start: partner sign-in is half configured, {missing} not set")
    if settings.sign_in and not settings.secret_key:
        raise StartupRefused(
            "vrp: refusing to start: partner sign-in needs VRP_SECRET_KEY (a long random string, the same for "
            "every worker) to sign session cookies"
        )
    if settings.audience == "partner" and not settings.sign_in and not settings.insecure_no_auth:
        raise StartupRefused(
            "vrp: refusing to start: VRP_AUDIENCE=partner serves partner data, but no OpenID provider is "
            "configured (set VRP_OIDC_ISSUER, VRP_OIDC_CLIENT_ID and VRP_OIDC_CLIENT_SECRET; or, on a closed "
            "network only, VRP_INSECURE_NO_AUTH=1)"
        )
    if insecure(settings):
        log.warning(INSECURE_WARNING)
    elif settings.insecure_no_auth and settings.sign_in:
        log.warning("VRP_INSECURE_NO_AUTH is ignored: sign-in is configured, so partners must sign in")


def insecure(settings: Settings) -> bool:
    """Every visitor is a partner: partner data on purpose without sign-in."""
    return settings.audience == "partner" and settings.insecure_no_auth and not settings.sign_in


def default_audience(settings: Settings) -> str:
    """The audience of a request with no sign-in (and of work done outside a request, such as warm-up)."""
    return "partner" if insecure(settings) else "public"


def current_user() -> dict | None:
    """The signed-in user of this request, if the session holds an unexpired sign-in: name, partner."""
    if not has_request_context():
        return None
    user = session.get(SESSION_KEY)
    if not isinstance(user, dict):
        return None
    expires = user.get("expires")
    if not isinstance(expires, (int, float)) or expires <= time.time():
        return None
    return user


def request_audience(settings: Settings) -> str:
    if not settings.sign_in or not has_request_context():
        return default_audience(settings)
    user = current_user()
    return "partner" if user is not None and user.get("partner") is True else "public"


def has_role(claims: dict, claim: str, value: str) -> bool:
    """Whether ``claims`` grant the role: the claim (a dotted path for nested claims, e.g. realm_access.roles)
    is the value, or a list holding it, or a space-separated string holding it."""
    found = claims
    for part in claim.split("."):
        found = found.get(part) if isinstance(found, dict) else None
    if isinstance(found, str):
        return value in found.split()
    if isinstance(found, (list, tuple)):
        return value in found
    return False


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, marked Secure whenever the request came over HTTPS (directly, or through a
    trusted proxy: VRP_PROXY_FIX), so a plain-HTTP development server still works."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (has_request_context() and request.is_secure)


def install(server: Flask, settings: Settings) -> None:
    """Sessions and, when a provider is configured, the sign-in routes."""
    server.session_interface = SessionInterface()
    server.config.update(
        SECRET_KEY=settings.secret_key or None,
        SESSION_COOKIE_NAME="vrp_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_REFRESH_EACH_REQUEST=False,  # the lifetime runs from sign-in, not from the last click
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.session_lifetime),
    )
    if not settings.sign_in:
        return
    from authlib.integrations.flask_client import OAuth

    oauth = OAuth(server)
    oauth.register(
        PROVIDER,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": settings.oidc_scope, "code_challenge_method": "S256", "default_timeout": 10},
    )
    server.extensions["vrp_oauth"] = oauth
    server.register_blueprint(blueprint)

    @server.after_request
    def private(response):
        # A partner's pages and answers are for that browser only: never kept by a shared cache (Flask adds
        # Vary: Cookie, since the session was read to choose the audience).
        if request_audience(settings) == "partner":
            control = response.headers.get("Cache-Control", "")
            response.headers["Cache-Control"] = "private, no-cache" if "private" in control else "private, no-store"
        return response


def _client():
    return current_app.extensions["vrp_oauth"].create_client(PROVIDER)


# A path on this site and nothing else: browsers drop tabs and newlines from an address, so "/\t/evil.example"
# would become "//evil.example", another host. Only the characters a path and query need are allowed.
_SAFE_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*")


def _safe_next(value: str | None) -> str:
    """Only a path on this site (never another host) to go back to after sign-in."""
    if isinstance(value, str) and len(value) < 500 and _SAFE_PATH.fullmatch(value):
        parts = urlsplit(value)
        if not parts.scheme and not parts.netloc:
            return value
    return "/"


@blueprint.route("/login")
def login():
    next_path = _safe_next(request.args.get("next"))
    session.clear()  # a fresh session for the sign-in (no fixation)
    session["vrp_next"] = next_path
    try:
        return _client().authorize_redirect(url_for("vrp_auth.callback", _external=True))
    except Exception as exc:  # noqa: BLE001 - the provider is down or misconfigured: say so, log why
        log.error("cannot reach the OpenID provider: %s", exc)
        return _problem("The sign-in service cannot be reached just now. Please try again later.", 503)


@blueprint.route("/auth/callback")
def callback():
    settings: Settings = current_app.config["VRP_SETTINGS"]
    client = _client()
    try:
        token = client.authorize_access_token()
        claims = dict(token.get("userinfo") or {})
        if not has_role(claims, settings.oidc_role_claim, settings.oidc_partner_value):
            metadata = client.load_server_metadata()
            if metadata.get("userinfo_endpoint"):  # some providers send roles only from userinfo
                claims = {**claims, **dict(client.userinfo(token=token))}
    except Exception as exc:  # noqa: BLE001 - a refused, replayed or forged answer: no sign-in, and no stack trace
        log.warning("sign-in failed: %s", exc)
        session.clear()
        return _problem("Sign-in did not complete. Please try again.", 400)
    next_path = _safe_next(session.get("vrp_next"))
    session.clear()
    partner = has_role(claims, settings.oidc_role_claim, settings.oidc_partner_value)
    name = str(claims.get("name") or claims.get("preferred_username") or claims.get("email") or claims.get("sub"))
    session.permanent = True
    session[SESSION_KEY] = {
        "sub": str(claims.get("sub", ""))[:200],
        "name": name[:200],
        "partner": partner,
        "expires": int(time.time()) + settings.session_lifetime,
    }
    log.info("signed in: %s (%s)", claims.get("sub"), "partner" if partner else "no partner role")
    return redirect(next_path)


@blueprint.route("/logout", methods=["GET", "POST"])
def logout():
    session.clear()
    settings: Settings = current_app.config["VRP_SETTINGS"]
    home = request.url_root  # this site's home page, as the browser (or the trusted proxy) named it
    try:
        end = _client().load_server_metadata().get("end_session_endpoint")
    except Exception as exc:  # noqa: BLE001 - signed out here whatever the provider says
        log.warning("cannot reach the OpenID provider to sign out there: %s", exc)
        end = None
    if end:
        query = urlencode({"client_id": settings.oidc_client_id, "post_logout_redirect_uri": home})
        return redirect(f"{end}{'&' if '?' in end else '?'}{query}")
    return redirect(home)


def _problem(message: str, status: int):
    from html import escape

    body = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sign-in</title></head><body>'
        f'<main><h1>Sign-in</h1><p>{escape(message)}</p><p><a href="/">Back to the dashboard</a></p></main>'
        "</body></html>"
    )
    return current_app.response_class(body, status=status, mimetype="text/html")


__all__ = [
    "StartupRefused",
    "check_startup",
    "current_user",
    "default_audience",
    "has_role",
    "install",
    "insecure",
    "request_audience",
]
