"""Places are named "Southampton 023E, around Pirelli Street"; a warehouse built before the street names were
published still names them, by their LSOA name alone, until `vrp rebuild-marts`."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from vrp.data_access import places
from vrp.data_access.queries import Warehouse


def test_a_warehouse_without_street_names_names_places_by_their_lsoa(engine, settings, caplog):
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE pub_place_names"))
        code, name = conn.execute(sa.text("SELECT lsoa21_code, lsoa21_name FROM dim_area ORDER BY 1 LIMIT 1")).one()
    wh = Warehouse(settings.with_(warehouse_url=engine.url.render_as_string(hide_password=False)), engine)
    with caplog.at_level(logging.WARNING, logger="vrp.data_access.places"):
        assert places.place_names(wh, [code, "nowhere"]) == {code: name}
    assert "pub_place_names is missing" in caplog.text
