"""Homicide victims: one row per victim (partner extract; record level, partner audience only)."""

from __future__ import annotations

import pandas as pd

from vrp.pipeline.sources.base import Context, Prepared, SourceSpec, area_codes
from vrp.pipeline.validate import (
    Reasons,
    age_band,
    check_lengths,
    parse_choice,
    parse_date,
    parse_flag,
    parse_int,
)

REQUIRED = [
    "homicide_reference",
    "victim_number",
    "offence_date",
    "area_code",
    "victim_age",
    "victim_sex",
    "domestic",
    "method",
    "location_type",
]
SEXES = {"m": "M", "male": "M", "f": "F", "female": "F", "u": "U", "unknown": "U"}
METHODS = {
    m: m
    for m in (
        "sharp_instrument",
        "blunt_instrument",
        "hitting_kicking",
        "shooting",
        "strangulation",
        "poison_drugs",
        "burning",
        "motor_vehicle",
        "other",
        "not_known",
    )
}
LOCATIONS = {m: m for m in ("street_public", "dwelling", "commercial_premises", "open_space", "other", "not_known")}


def prepare(frame: pd.DataFrame, ctx: Context) -> Prepared:
    reasons = Reasons(frame.index)
    check_lengths(frame, reasons, REQUIRED)
    ref = frame["homicide_reference"].str.strip()
    reasons.add(ref == "", "homicide_reference is missing")
    reasons.add(ref.str.len() > 64, "homicide_reference is longer than 64 characters")
    victim = parse_int(frame, "victim_number", reasons, lo=1, hi=999)
    date = parse_date(frame, "offence_date", reasons)
    level, lsoa, district, split = area_codes(frame, "area_code", ctx, reasons)
    age = parse_int(frame, "victim_age", reasons, required=False, lo=0, hi=120)
    sex = parse_choice(frame, "victim_sex", reasons, SEXES, label="sex (M, F, U)")
    domestic = parse_flag(frame, "domestic", reasons)
    method = parse_choice(frame, "method", reasons, METHODS, label="method")
    location = parse_choice(frame, "location_type", reasons, LOCATIONS, label="location type")
    out = pd.DataFrame(
        {
            "homicide_reference": ref,
            "victim_number": victim,
            "offence_date": date.dt.date,
            "month": date.dt.to_period("M").dt.start_time.dt.date,
            "area_code": frame["area_code"].str.strip().str.upper(),
            "area_level": level,
            "lsoa21_code": lsoa,
            "district_code": district,
            "victim_age": age,
            "age_band": age_band(age),
            "victim_sex": sex,
            "domestic": domestic,
            "method": method,
            "location_type": location,
        },
        index=frame.index,
    )
    return Prepared(out, reasons.joined(), lsoa11_split=split)


SPEC = SourceSpec(
    name="homicides",
    required=REQUIRED,
    optional=[],
    key=["homicide_reference", "victim_number"],
    prepare=prepare,
    month_col="month",
)
