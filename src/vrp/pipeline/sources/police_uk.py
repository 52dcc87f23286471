"""data.police.uk street-level crime: the published 12-column CSV, one month per file."""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np
import pandas as pd

from vrp.pipeline.sources.base import Context, Prepared, SourceSpec, place_points
from vrp.pipeline.validate import Reasons, check_lengths, parse_float, parse_month

COLUMNS = [
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
]
CRIME_TYPES = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)


def _asb_keys(frame: pd.DataFrame, seen: Counter) -> pd.Series:
    """ASB rows have no Crime ID: key them on their content plus their repeat number within the file (``seen``
    carries the counts from the file's earlier chunks)."""
    content = frame["Month"].astype(object)
    for c in ("Longitude", "Latitude", "Location", "LSOA code", "Crime type"):
        content = content + "|" + frame[c].astype(object)
    before = pd.Series([seen.get(c, 0) for c in content], index=content.index)
    repeat = (content.groupby(content).cumcount() + before).astype(str)
    seen.update(content)
    return (content + "|" + repeat).map(lambda s: "asb-" + hashlib.sha1(s.encode()).hexdigest()[:32])


def prepare(frame: pd.DataFrame, ctx: Context) -> Prepared:
    reasons = Reasons(frame.index)
    check_lengths(frame, reasons, COLUMNS)
    month = parse_month(frame, "Month", reasons)
    crime_type = frame["Crime type"].str.strip()
    reasons.add(
        ~crime_type.isin(CRIME_TYPES),
        "Crime type: unknown police.uk crime type '" + crime_type.str.slice(0, 40) + "'",
    )
    # police.uk publishes some crimes with no location: kept, counted as out of area (no LSOA to place them in).
    has_lon = frame["Longitude"].str.strip() != ""
    lon = parse_float(frame, "Longitude", reasons, required=False)
    lat = parse_float(frame, "Latitude", reasons, required=False)
    lsoa, district = place_points(frame, lon, lat, ctx)
    crime_id = frame["Crime ID"].str.strip()
    asb = crime_id == ""
    key = crime_id.copy()
    if asb.any():
        key[asb] = _asb_keys(frame[asb], ctx.file_state.setdefault("asb_seen", Counter()))
    out = pd.DataFrame(
        {
            "crime_key": key,
            "crime_id": crime_id.replace("", None),
            "month": month.dt.date,
            "reported_by": frame["Reported by"],
            "falls_within": frame["Falls within"],
            "longitude": lon,
            "latitude": lat,
            "location": frame["Location"],
            "published_lsoa_code": frame["LSOA code"].str.strip().replace("", None),
            "lsoa21_code": lsoa.replace("", None),
            "district_code": district.replace("", None),
            "out_of_area": (lsoa == "") | ~has_lon,
            "crime_type": crime_type,
            "last_outcome": frame["Last outcome category"].replace("", None),
            "context": frame["Context"].replace("", None),
        },
        index=frame.index,
    )
    return Prepared(out, reasons.joined(), out_of_area=out["out_of_area"].astype(bool) & np.True_)


SPEC = SourceSpec(
    name="police_uk",
    required=COLUMNS,
    optional=[],
    key=["crime_key"],
    prepare=prepare,
    month_col="month",
    duplicates="ignore",
)
