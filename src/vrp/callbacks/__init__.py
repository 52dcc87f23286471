"""Callbacks, one module per page: validate inputs -> data_access -> stats -> figure. No SQL, no globals."""

from __future__ import annotations

import functools
import logging

import dash_bootstrap_components as dbc

from vrp.data_access.queries import InvalidQuery, NotPermitted

log = logging.getLogger(__name__)


def polite(message: str):
    return dbc.Alert(message, color="warning", className="my-2")


def guarded(*fallback_factories):
    """Never a stack trace to the browser: a refused value becomes a message, anything unexpected is logged and
    becomes an apology. ``fallback_factories`` build the other outputs' values from the message."""

    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except (InvalidQuery, NotPermitted) as exc:
                message = str(exc)
            except Exception:  # logged with its traceback for the operator, never sent to the browser
                log.exception("callback %s failed", fn.__name__)
                message = "Something went wrong drawing this view; it has been logged. Please try again."
            if len(fallback_factories) == 1:
                return fallback_factories[0](message)
            return tuple(f(message) for f in fallback_factories)

        return inner

    return wrap
