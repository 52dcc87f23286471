"""The header's sign-in control, the OFFICIAL-SENSITIVE marking of partner pages, and the banner of a server that
serves partner data without sign-in (VRP_INSECURE_NO_AUTH). Built per request from the session (vrp/auth.py)."""

from __future__ import annotations

from dash import html

from vrp import auth
from vrp.settings import Settings

ACCOUNT_ID = "account"
LOGIN_ID = "account-login"
CLASSIFICATION_ID = "classification"
INSECURE_ID = "insecure-banner"


def account(settings: Settings):
    """ "Sign in", or who is signed in and with which role, and "Sign out". Nothing when sign-in is not offered."""
    if not settings.sign_in:
        return None
    user = auth.current_user()
    if user is None:
        return html.Div(html.A("Sign in", href="/login", id=LOGIN_ID, className="vrp-account-link"), id=ACCOUNT_ID)
    role = "partner" if user.get("partner") else "no partner role"
    return html.Div(
        [
            html.Span(f"Signed in as {user.get('name', '')} ({role})"),
            " · ",
            html.A("Sign out", href="/logout", className="vrp-account-link"),
        ],
        id=ACCOUNT_ID,
    )


def register(app, settings: Settings) -> None:
    """ "Sign in" comes back to the page it was chosen on (its path and filters): /login checks the address."""
    if not settings.sign_in:
        return
    from dash import Input, Output

    from vrp.dashboards.shell import URL

    app.clientside_callback(
        "function(path, search){return '/login?next=' + encodeURIComponent((path || '/') + (search || ''));}",
        Output(LOGIN_ID, "href"),
        Input(URL, "pathname"),
        Input(URL, "search"),
    )


def markings(settings: Settings, audience: str) -> list:
    """What every page must say about who may see it."""
    out = []
    if auth.insecure(settings):
        out.append(
            html.Div(
                [
                    html.Strong("Partner data without sign-in. "),
                    "This server shows partner data to anyone who can reach it (VRP_INSECURE_NO_AUTH): "
                    "use it only on a closed network.",
                ],
                id=INSECURE_ID,
                className="vrp-insecure p-2 my-2",
                role="alert",
            )
        )
    if audience == "partner":
        out.append(
            html.Div(
                [html.Strong("OFFICIAL-SENSITIVE. "), "Partner view: not to be shared outside the partnership."],
                id=CLASSIFICATION_ID,
                className="vrp-classification p-2 my-2",
                role="note",
            )
        )
    return out
