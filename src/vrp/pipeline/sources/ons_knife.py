"""ONS knife or sharp instrument offences by police force and financial quarter (real, open data)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from vrp.pipeline.sources.base import Context, Prepared, SourceSpec
from vrp.pipeline.validate import Reasons, check_lengths, parse_float, parse_int

REQUIRED = ["Force Name", "Financial Year", "Financial Quarter", "Knife Crime"]
OPTIONAL = [
    "QtrNum",
    "Region",
    "Population",
    "Knife enabled",
    "Violence with Injury",
    "Homicide and serious injury",
]


def prepare(frame: pd.DataFrame, ctx: Context) -> Prepared:
    reasons = Reasons(frame.index)
    check_lengths(frame, reasons, REQUIRED + OPTIONAL)
    force = frame["Force Name"].str.strip()
    reasons.add(force == "", "Force Name is missing")
    fy = frame["Financial Year"].str.strip()
    parts = fy.str.extract(r"^(\d{4})/(\d{2})$")
    start_year = pd.to_numeric(parts[0])
    fy_ok = start_year.notna() & ((start_year + 1) % 100 == pd.to_numeric(parts[1]))
    reasons.add(~fy_ok, "Financial Year: '" + fy.str.slice(0, 12) + "' is not like 2018/19")
    quarter = frame["Financial Quarter"].str.strip().str.upper()
    q_ok = quarter.isin(["Q1", "Q2", "Q3", "Q4"])
    reasons.add(~q_ok, "Financial Quarter: '" + quarter.str.slice(0, 12) + "' is not Q1-Q4")
    knife = parse_int(frame, "Knife Crime", reasons, lo=0)
    optional_ints = {}
    # Sub-columns can be slightly negative: a quarter nets off crimes reclassified from earlier quarters
    # (e.g. North Yorkshire 2010/11 Q3: 14 + 43 - 1 = 56).
    for col in ("Knife enabled", "Violence with Injury", "Homicide and serious injury"):
        optional_ints[col] = parse_int(frame, col, reasons, required=False)
    population = parse_float(frame, "Population", reasons, required=False)
    start_year = start_year.where(fy_ok, 1900).astype(int)
    q = quarter.str.slice(1, 2).where(q_ok, "1").astype(int)
    quarter_start = [
        date(y + (1 if qq == 4 else 0), (4 + 3 * (qq - 1) - 1) % 12 + 1, 1) for y, qq in zip(start_year, q, strict=True)
    ]
    out = pd.DataFrame(
        {
            "force_name": force,
            "financial_year": fy.str.replace("/", "-", regex=False),
            "fy_quarter": q,
            "quarter_start": quarter_start,
            "region": frame["Region"].str.strip().replace("", None),
            "population_thousands": population,
            "knife_enabled": optional_ints["Knife enabled"],
            "violence_with_injury": optional_ints["Violence with Injury"],
            "homicide_serious_injury": optional_ints["Homicide and serious injury"],
            "knife_crime": knife,
        },
        index=frame.index,
    )
    return Prepared(out, reasons.joined())


SPEC = SourceSpec(
    name="ons_knife",
    required=REQUIRED,
    optional=OPTIONAL,
    key=["force_name", "financial_year", "fy_quarter"],
    prepare=prepare,
    month_col="quarter_start",
)
