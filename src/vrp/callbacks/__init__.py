"""Callbacks, one module per page: validate inputs -> data_access -> stats -> figure. No SQL, no globals."""

from __future__ import annotations

import functools
import logging

import dash_bootstrap_components as dbc
from dash.development.base_component import Component
from plotly.basedatatypes import BaseFigure

from vrp.dashboards.context import warehouse
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


def freeze(value):
    """A callback's output with every plotly figure turned into its plain dict: cheap to store, load and encode,
    where a go.Figure is validated again each time it is rebuilt."""
    if isinstance(value, BaseFigure):
        return value.to_plotly_json()
    if isinstance(value, tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, list):
        return [freeze(v) for v in value]
    if isinstance(value, Component):
        for name in value._prop_names:
            prop = getattr(value, name, None)
            if isinstance(prop, (BaseFigure, Component, list, tuple)):
                setattr(value, name, freeze(prop))
    return value


def state_key(state_data):
    """The filter state as a cache key: only the five filters, districts as a set. Whatever else the browser
    adds, or the order it lists districts in, makes no new entry (so it cannot be used to fill the cache)."""
    if not isinstance(state_data, dict):
        return state_data  # refused by the callback itself, before anything is cached
    districts = state_data.get("districts") or []
    if isinstance(districts, str):
        districts = districts.split(",")
    if not isinstance(districts, (list, tuple)):
        return state_data
    return {
        "d": sorted({str(d) for d in districts}),
        **{k: state_data.get(k) for k in ("start", "end", "measure", "age")},
    }


def cached_view(fn=None, *, state_at: int = 0):
    """Cache a callback's whole output, keyed on its inputs (the filter state, argument ``state_at``, by its five
    filters only) and, through the warehouse, on the data version, audience, disclosure rules and code. Inputs are
    refused or corrected inside ``fn`` exactly as before; only its result is stored, never an error (those raise
    past the cache)."""
    if fn is None:
        return functools.partial(cached_view, state_at=state_at)
    name = f"view:{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def inner(*args):
        key = [state_key(a) if i == state_at else a for i, a in enumerate(args)]
        return warehouse().cached(name, {"args": key}, lambda: freeze(fn(*args)))

    return inner
