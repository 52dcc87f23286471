"""Names for places that people recognise: each LSOA's most frequent police.uk street location.

An LSOA's name ("Portsmouth 027C") says which district it is in but not where; police.uk publishes each crime
"On or near" a street (or a kind of place, such as "Supermarket"). The street that most of the LSOA's police.uk
rows are near says where it is: "Portsmouth 027C, around Commercial Road". Computed at build time into
``pub_place_names`` from the public police.uk data only (every crime type, every month loaded), so the public
audience reads it as published reference data and never touches the fact table.
"""

from __future__ import annotations

import re

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vrp.data_access import tables as t
from vrp.data_access.engine import bulk_insert

PREFIX = re.compile(r"^\s*on or near\s+", re.IGNORECASE)
# police.uk snaps some crimes to a kind of place rather than a street: these say nothing about where an LSOA is.
# Its kinds with a slash ("Sports/Recreation Area", "Bus/Coach Station") are caught by the slash.
PLACE_KINDS = frozenset(
    {
        "supermarket",
        "parking area",
        "petrol station",
        "shopping area",
        "pedestrian subway",
        "nightclub",
        "police station",
        "hospital",
        "prison",
        "ferry terminal",
        "railway station",
        "underground station",
        "no location",
    }
)


def street_of(location: object) -> str | None:
    """A police.uk "Location" as a street name, or None when it names a kind of place or nothing:
    "On or near Jacob'S Street" -> "Jacob's Street" (police.uk capitalises the letter after an apostrophe)."""
    if not isinstance(location, str):
        return None
    street = " ".join(PREFIX.sub("", location).split())
    street = re.sub(r"'S\b", "'s", street)
    if not street or "/" in street or street.lower() in PLACE_KINDS:
        return None
    return street


def most_frequent_streets(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows``: lsoa21_code, location, n (police.uk rows at that location). Per LSOA, the street with the most
    rows once kinds of place are dropped and spellings of one street merged; on a tie, the first alphabetically."""
    frame = rows.assign(street=rows["location"].map(street_of)).dropna(subset=["street", "lsoa21_code"])
    if frame.empty:
        return pd.DataFrame(columns=["lsoa21_code", "street"])
    summed = frame.groupby(["lsoa21_code", "street"], as_index=False)["n"].sum()
    summed = summed.sort_values(["lsoa21_code", "n", "street"], ascending=[True, False, True])
    return summed.drop_duplicates("lsoa21_code")[["lsoa21_code", "street"]].reset_index(drop=True)


def build_place_names(conn: Connection) -> int:
    """(Re)build ``pub_place_names`` inside the caller's transaction; returns the LSOAs named. The table is
    created here when a warehouse made before it existed is rebuilt."""
    t.pub_place_names.create(conn, checkfirst=True)
    conn.execute(t.pub_place_names.delete())
    f = t.fact_police_uk
    rows = pd.DataFrame(
        conn.execute(
            sa.select(f.c.lsoa21_code, f.c.location, sa.func.count().label("n"))
            .where(f.c.out_of_area.is_(False), f.c.lsoa21_code.is_not(None), f.c.location.is_not(None))
            .group_by(f.c.lsoa21_code, f.c.location)
        ).all(),
        columns=["lsoa21_code", "location", "n"],
    )
    return bulk_insert(conn, t.pub_place_names, most_frequent_streets(rows))
