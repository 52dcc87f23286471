"""Reference dimensions: districts, 2021 LSOAs with their 2011 parents and deprivation, populations, months,
offence codes. Read from the reference folder (VRP_REFERENCE_DIR), checked against the totals its README gives.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vrp.data_access import tables as t
from vrp.data_access.engine import bulk_insert
from vrp.periods import financial_year

# Published totals (../shared/data/README.md): a load that does not reproduce them is refused.
EXPECTED_LSOAS = 1231
EXPECTED_DISTRICTS = 14
CENSUS_TOTAL = 1_998_091
MYE_TOTAL = 2_035_872
MYE_UNDER_25 = 567_861
AGE_BANDS = ("u18", "18_24", "25plus")
FIRST_MONTH = date(2008, 4, 1)  # the national knife series starts in 2008/09
LAST_MONTH = date(2031, 3, 1)


class ReferenceDataError(ValueError):
    pass


def read_reference(reference_dir: Path) -> dict[str, pd.DataFrame]:
    ref = Path(reference_dir)
    if not (ref / "lookups" / "lsoa21_lad.csv").exists():
        raise ReferenceDataError(f"reference data not found in {ref} (set VRP_REFERENCE_DIR)")
    lookup = pd.read_csv(ref / "lookups" / "lsoa21_lad.csv", dtype=str)
    parents = pd.read_csv(ref / "lookups" / "lsoa21_lsoa11.csv", dtype=str)
    imd = pd.read_csv(
        ref / "deprivation" / "imd2019_lsoa11.csv",
        usecols=[
            "lsoa11_code",
            "index_of_multiple_deprivation_imd_rank",
            "index_of_multiple_deprivation_imd_decile",
        ],
    )
    census = pd.read_csv(ref / "population" / "census2021_lsoa21_age6.csv", dtype={"lsoa21_code": str})
    mye = pd.read_csv(ref / "population" / "mye2023_lad_single_year_age.csv")
    return {"lookup": lookup, "parents": parents, "imd": imd, "census": census, "mye": mye}


def build_dimensions(reference_dir: Path, offence_codes: Path) -> dict[str, pd.DataFrame]:
    raw = read_reference(reference_dir)
    lookup, parents, imd, census, mye = (raw[k] for k in ("lookup", "parents", "imd", "census", "mye"))

    districts = (
        lookup[["LADCD", "LADNM"]]
        .drop_duplicates()
        .rename(columns={"LADCD": "district_code", "LADNM": "district_name"})
        .sort_values("district_code")
    )
    if len(districts) != EXPECTED_DISTRICTS:
        raise ReferenceDataError(f"expected {EXPECTED_DISTRICTS} districts, found {len(districts)}")

    area = (
        lookup.rename(columns={"LSOA21CD": "lsoa21_code", "LSOA21NM": "lsoa21_name", "LADCD": "district_code"})[
            ["lsoa21_code", "lsoa21_name", "district_code"]
        ]
        .merge(
            parents.rename(columns={"LSOA21CD": "lsoa21_code", "LSOA11CD": "lsoa11_code", "CHANGE": "change"})[
                ["lsoa21_code", "lsoa11_code", "change"]
            ],
            on="lsoa21_code",
            how="left",
        )
        .merge(
            imd.rename(
                columns={
                    "index_of_multiple_deprivation_imd_rank": "imd_rank",
                    "index_of_multiple_deprivation_imd_decile": "imd_decile",
                }
            ),
            on="lsoa11_code",
            how="left",
        )
        .merge(
            census[["lsoa21_code", "total"]].rename(columns={"total": "census_population"}),
            on="lsoa21_code",
            how="left",
        )
    )
    if len(area) != EXPECTED_LSOAS or area["lsoa21_code"].nunique() != EXPECTED_LSOAS:
        raise ReferenceDataError(f"expected {EXPECTED_LSOAS} LSOAs (2021), found {area['lsoa21_code'].nunique()}")
    incomplete = area[area[["lsoa11_code", "imd_decile", "census_population"]].isna().any(axis=1)]
    if len(incomplete):
        raise ReferenceDataError(
            f"{len(incomplete)} LSOAs lack a 2011 parent, IMD decile or census count, "
            f"e.g. {incomplete['lsoa21_code'].iloc[0]}"
        )
    if int(census["total"].sum()) != CENSUS_TOTAL:
        raise ReferenceDataError(f"Census 2021 total {int(census['total'].sum()):,} is not {CENSUS_TOTAL:,}")
    area[["imd_decile", "imd_rank", "census_population"]] = area[
        ["imd_decile", "imd_rank", "census_population"]
    ].astype(int)

    population = _lsoa_population(census, mye)
    return {
        "dim_district": districts,
        "dim_area": area,
        "dim_population": population,
        "mart_population": _population_groups(population, area),
        "dim_month": _months(),
        "dim_offence": _offences(offence_codes),
    }


def _mye_bands(mye: pd.DataFrame) -> pd.DataFrame:
    ages = [str(a) for a in range(90)] + ["90+"]
    total = int(mye["all"].sum())
    u25 = int(mye[[str(a) for a in range(25)]].to_numpy().sum())
    if total != MYE_TOTAL or u25 != MYE_UNDER_25:
        raise ReferenceDataError(
            f"mid-2023 population {total:,} (under 25: {u25:,}) is not {MYE_TOTAL:,} ({MYE_UNDER_25:,})"
        )
    bands = pd.DataFrame(
        {
            "district_code": mye["code"],
            "u18": mye[[str(a) for a in range(18)]].sum(axis=1),
            "18_24": mye[[str(a) for a in range(18, 25)]].sum(axis=1),
            "25plus": mye[ages[25:]].sum(axis=1),
            # Share of the 16-24 band aged 16-17, to split the Census band at 18.
            "share_16_17": mye[["16", "17"]].sum(axis=1) / mye[[str(a) for a in range(16, 25)]].sum(axis=1),
        }
    )
    return bands


def _lsoa_population(census: pd.DataFrame, mye: pd.DataFrame) -> pd.DataFrame:
    """LSOA populations in the mart's bands, consistent with the mid-2023 district estimates.

    Census 2021 gives LSOAs in bands 0-15, 16-24, 25+...; the district single years split 16-24 at 18. Each band is
    then scaled within its district so the LSOAs add up exactly to the mid-2023 estimate (the year rates use).
    """
    bands = _mye_bands(mye)
    c = census.merge(bands[["district_code", "share_16_17"]], left_on="lad_code", right_on="district_code")
    lsoa = pd.DataFrame(
        {
            "lsoa21_code": c["lsoa21_code"],
            "district_code": c["lad_code"],
            "u18": c["age_0_15"] + c["age_16_24"] * c["share_16_17"],
            "18_24": c["age_16_24"] * (1 - c["share_16_17"]),
            "25plus": c[["age_25_34", "age_35_49", "age_50_64", "age_65_plus"]].sum(axis=1),
        }
    )
    for band in AGE_BANDS:
        census_sum = lsoa.groupby("district_code")[band].transform("sum")
        target = lsoa["district_code"].map(bands.set_index("district_code")[band])
        lsoa[band] = lsoa[band] * target / census_sum
    long = lsoa.melt(id_vars=["lsoa21_code"], value_vars=list(AGE_BANDS), var_name="age_band", value_name="population")
    return long.sort_values(["lsoa21_code", "age_band"]).reset_index(drop=True)


def _population_groups(population: pd.DataFrame, area: pd.DataFrame) -> pd.DataFrame:
    wide = population.pivot(index="lsoa21_code", columns="age_band", values="population")
    wide["u25"] = wide["u18"] + wide["18_24"]
    wide["all"] = wide["u25"] + wide["25plus"]
    wide = wide.join(area.set_index("lsoa21_code")["district_code"])
    groups = ["all", "u25", "u18", "18_24", "25plus"]
    frames = []
    for level, key in (("lsoa", "lsoa21_code"), ("district", "district_code"), ("force", None)):
        if key == "lsoa21_code":
            agg = wide[groups].reset_index().rename(columns={"lsoa21_code": "area_code"})
        elif key:
            agg = wide.groupby(key)[groups].sum().reset_index().rename(columns={key: "area_code"})
        else:
            agg = wide[groups].sum().to_frame().T.assign(area_code="HIPS")
        frames.append(
            agg.melt(id_vars="area_code", value_vars=groups, var_name="age_group", value_name="population").assign(
                geography_level=level
            )
        )
    out = pd.concat(frames, ignore_index=True)
    force_all = out.query("geography_level == 'force' and age_group == 'all'")["population"].iloc[0]
    if abs(force_all - MYE_TOTAL) > 0.5:
        raise ReferenceDataError(f"raked LSOA populations add to {force_all:,.1f}, not {MYE_TOTAL:,}")
    return out


def _months() -> pd.DataFrame:
    months = pd.date_range(FIRST_MONTH, LAST_MONTH, freq="MS")
    return pd.DataFrame(
        {
            "month": months.date,
            "month_label": months.strftime("%Y-%m"),
            "calendar_year": months.year,
            "financial_year": [financial_year(m) for m in months.date],
            "fy_quarter": ((months.month - 4) % 12) // 3 + 1,
        }
    )


def _offences(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str)
    frame["local_code"] = frame["local_code"].str.lower().eq("true")
    if frame["ho_offence_code"].duplicated().any():
        raise ReferenceDataError(f"{path}: duplicate offence codes")
    return frame


REFERENCE_TABLES = (
    t.dim_district,
    t.dim_area,
    t.dim_population,
    t.mart_population,
    t.dim_month,
    t.dim_offence,
)


def load_reference(conn: Connection, reference_dir: Path, offence_codes: Path) -> dict[str, int]:
    """Replace the reference dimensions in one transaction (the caller's). Returns row counts."""
    frames = build_dimensions(reference_dir, offence_codes)
    counts = {}
    for table in REFERENCE_TABLES:
        conn.execute(table.delete())
        counts[table.name] = bulk_insert(conn, table, frames[table.name])
    return counts


def reference_loaded(conn: Connection) -> bool:
    return bool(conn.execute(sa.select(sa.func.count()).select_from(t.dim_area)).scalar())
