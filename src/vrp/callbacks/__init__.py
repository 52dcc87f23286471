"""Callbacks, one module per page: validate inputs -> data_access -> stats -> figure. No SQL, no globals."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from dash.development.base_component import Component
from plotly.basedatatypes import BaseFigure

from vrp.callbacks.inputs import filter_state
from vrp.dashboards import components
from vrp.data_access.context import warehouse
from vrp.data_access.validation import InvalidQuery, NotPermitted

log = logging.getLogger(__name__)


def polite(message: str):
    return components.warning(message)


def guarded(failed: Callable[[str], object]):
    """Never a stack trace to the browser: a refused value becomes a message, anything unexpected is logged and
    becomes an apology. ``failed(message)`` gives every output's value then, in the callback's own shape: one
    value (``polite``), or the dict of named outputs (``failure_outputs``, ``components.card_message``)."""

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
            return failed(message)

        return inner

    return wrap


def failure_outputs(**forms) -> Callable[[str], dict]:
    """A failed callback's named outputs, for ``guarded``: each name's value is its form applied to the message
    (``polite`` for a message slot, ``components.card_message`` for a card's group) or, where the form is not a
    function, that value as it is (a page title, ``no_update``: the output keeps what it shows)."""

    def failed(message: str) -> dict:
        return {name: form(message) if callable(form) else form for name, form in forms.items()}

    return failed


def freeze(value):
    """A callback's output with every plotly figure turned into its plain dict: cheap to store, load and encode,
    where a go.Figure is validated again each time it is rebuilt."""
    if isinstance(value, BaseFigure):
        return value.to_plotly_json()
    if isinstance(value, dict) and not isinstance(value, Component):
        return {k: freeze(v) for k, v in value.items()}
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


def cached_view(fn, *normalisers):
    """Cache a callback's whole output, keyed on its inputs as ``normalisers`` write them (one per argument, in
    order; by default the one argument is the whole filter state, see callbacks/inputs.py) and, through the
    warehouse, on the data version, audience, disclosure rules and code. Every input is normalised before
    anything is keyed: an unknown value raises InvalidQuery and is never stored, and ``fn`` is called with the
    canonical values, so one key always means one output. Only results are stored, never an error."""
    normalisers = normalisers or (filter_state(),)
    name = f"view:{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def inner(*args):
        canonical = tuple(normalise(a) for normalise, a in zip(normalisers, args, strict=True))
        return warehouse().cached(name, {"args": list(canonical)}, lambda: freeze(fn(*canonical)))

    return inner
