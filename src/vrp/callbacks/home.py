"""Overview callbacks: the latest figures for the chosen districts."""

from __future__ import annotations

import dash
from dash import Input, Output, no_update

from vrp.callbacks import guarded, polite
from vrp.dashboards import home
from vrp.dashboards.context import warehouse
from vrp.dashboards.filters import STATE, FilterState


def register(app: dash.Dash) -> None:
    @app.callback(Output(home.FIGURES, "children"), Input(STATE, "data"))
    @guarded(polite)
    def update(state_data):
        if not state_data:
            return no_update
        return home.figures_for(warehouse(), FilterState.from_dict(state_data).districts)
