"""Hospital admissions for assault by sharp object (ICD-10 X99): aggregated counts from HES (partner extract)."""

from __future__ import annotations

import pandas as pd

from vrp.pipeline.sources.base import Context, Prepared, SourceSpec, area_codes
from vrp.pipeline.validate import Reasons, check_lengths, parse_choice, parse_int, parse_month

REQUIRED = ["month", "area_code", "age_band", "sex", "admissions"]
OPTIONAL = ["diagnosis_code"]
AGE_BANDS = {"0-17": "u18", "18-24": "18_24", "25+": "25plus", "unknown": "unknown"}
SEXES = {"m": "M", "male": "M", "f": "F", "female": "F", "u": "U", "unknown": "U", "not known": "U"}


def prepare(frame: pd.DataFrame, ctx: Context) -> Prepared:
    reasons = Reasons(frame.index)
    check_lengths(frame, reasons, REQUIRED + OPTIONAL)
    month = parse_month(frame, "month", reasons)
    level, lsoa, district, split = area_codes(frame, "area_code", ctx, reasons)
    band = parse_choice(frame, "age_band", reasons, AGE_BANDS, label="age band (0-17, 18-24, 25+, unknown)")
    sex = parse_choice(frame, "sex", reasons, SEXES, label="sex (M, F, U)")
    raw = frame["admissions"].str.strip()
    suppressed = raw == "*"  # the supplier hid a count of 1-7 (NHS rule)
    count = parse_int(frame.assign(admissions=raw.where(~suppressed, "0")), "admissions", reasons, lo=0, hi=100_000)
    diagnosis = frame["diagnosis_code"].str.strip().str.upper()
    reasons.add(
        (diagnosis != "") & ~diagnosis.str.startswith("X99"),
        "diagnosis_code: '" + diagnosis.str.slice(0, 12) + "' is not ICD-10 X99 (assault by sharp object)",
    )
    out = pd.DataFrame(
        {
            "month": month.dt.date,
            "area_code": frame["area_code"].str.strip().str.upper(),
            "age_band": band,
            "sex": sex,
            "area_level": level,
            "lsoa21_code": lsoa,
            "district_code": district,
            "admissions": count.where(~suppressed, pd.NA),
            "suppressed_upstream": suppressed,
        },
        index=frame.index,
    )
    return Prepared(out, reasons.joined(), lsoa11_split=split)


SPEC = SourceSpec(
    name="admissions",
    required=REQUIRED,
    optional=OPTIONAL,
    key=["month", "area_code", "age_band", "sex"],
    prepare=prepare,
    month_col="month",
)
