"""Police recorded crime: one row per crime from the force's records system (partner extract)."""

from __future__ import annotations

import pandas as pd

from vrp.pipeline.sources.base import Context, Prepared, SourceSpec, place_points
from vrp.pipeline.validate import (
    Reasons,
    age_band,
    check_lengths,
    parse_date,
    parse_datetime,
    parse_flag,
    parse_float,
    parse_int,
)

REQUIRED = [
    "crime_reference",
    "recorded_date",
    "ho_offence_code",
    "knife_flag",
    "victim_age",
    "domestic_flag",
    "longitude",
    "latitude",
]
OPTIONAL = ["occurred_datetime"]


def prepare(frame: pd.DataFrame, ctx: Context) -> Prepared:
    reasons = Reasons(frame.index)
    check_lengths(frame, reasons, REQUIRED + OPTIONAL)
    ref = frame["crime_reference"].str.strip()
    reasons.add(ref == "", "crime_reference is missing")
    reasons.add(ref.str.len() > 64, "crime_reference is longer than 64 characters")
    recorded = parse_date(frame, "recorded_date", reasons)
    occurred = parse_datetime(frame, "occurred_datetime", reasons)
    reasons.add(
        occurred.notna() & recorded.notna() & (occurred.dt.normalize() > recorded),
        "occurred_datetime is after recorded_date",
    )
    code = frame["ho_offence_code"].str.strip().str.upper()
    reasons.add(
        ~code.isin(ctx.offence_codes),
        "ho_offence_code: unknown Home Office offence code '" + code.str.slice(0, 12) + "'",
    )
    knife = parse_flag(frame, "knife_flag", reasons)
    domestic = parse_flag(frame, "domestic_flag", reasons)
    age = parse_int(frame, "victim_age", reasons, required=False, lo=0, hi=120)
    lon = parse_float(frame, "longitude", reasons)
    lat = parse_float(frame, "latitude", reasons)
    lsoa, district = place_points(frame, lon, lat, ctx)
    reasons.add(
        lon.notna() & lat.notna() & (lsoa == ""),
        "coordinates outside HIPS ("
        + frame["longitude"].str.slice(0, 12)
        + ", "
        + frame["latitude"].str.slice(0, 12)
        + ")",
    )
    out = pd.DataFrame(
        {
            "crime_reference": ref,
            "recorded_date": recorded.dt.date,
            "recorded_month": recorded.dt.to_period("M").dt.start_time.dt.date,
            "occurred_at": occurred,
            "ho_offence_code": code,
            "knife_flag": knife,
            "victim_age": age,
            "age_band": age_band(age),
            "domestic_flag": domestic,
            "longitude": lon,
            "latitude": lat,
            "lsoa21_code": lsoa,
            "district_code": district,
        },
        index=frame.index,
    )
    return Prepared(out, reasons.joined())


SPEC = SourceSpec(
    name="police_records",
    required=REQUIRED,
    optional=OPTIONAL,
    key=["crime_reference"],
    prepare=prepare,
    month_col="recorded_month",
)
