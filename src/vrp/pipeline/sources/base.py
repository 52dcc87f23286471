"""What every source module provides, and the context a row check may need."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from vrp.geo.boundaries import LsoaIndex


@dataclass(frozen=True)
class Context:
    """Reference facts the checks rely on, read from the warehouse being loaded (and the boundaries)."""

    lsoa_index: LsoaIndex
    lsoa_district: dict[str, str]  # LSOA21 code -> district code
    districts: frozenset[str]
    offence_codes: frozenset[str]
    # Retired 2011 LSOA codes (split in 2021) -> the district their rows are assigned to (split_assignment).
    lsoa11_split: dict[str, str] = field(default_factory=dict)
    # What a check must remember from one chunk of a file to the next (police_uk: repeats of an ASB row).
    file_state: dict = field(default_factory=dict)


@dataclass
class Prepared:
    """A checked file: rows for the fact table, and reasons (aligned to the input) for rows that fail."""

    frame: pd.DataFrame  # fact-table columns, same index as the input rows
    reasons: pd.Series  # '' where the row is good
    out_of_area: pd.Series = field(default=None)  # police.uk only: rows kept but outside HIPS
    lsoa11_split: pd.Series = field(default=None)  # rows given a split 2011 LSOA, assigned by split_assignment

    def __post_init__(self):
        if self.out_of_area is None:
            self.out_of_area = pd.Series(False, index=self.frame.index)
        if self.lsoa11_split is None:
            self.lsoa11_split = pd.Series(False, index=self.frame.index)


@dataclass(frozen=True)
class SourceSpec:
    name: str
    required: list[str]
    optional: list[str]
    key: list[str]  # natural key in the fact table
    prepare: Callable[[pd.DataFrame, Context], Prepared]
    month_col: str  # the fact column giving each row's month, for the period a file covers
    # police.uk downloads overlap by design, so repeats are ignored; a repeated key in a partner extract is an error.
    duplicates: str = "quarantine"  # or "ignore"


def place_points(frame: pd.DataFrame, lon: pd.Series, lat: pd.Series, ctx: Context) -> tuple[pd.Series, pd.Series]:
    """LSOA and district for each point ('' where the point is in no HIPS LSOA)."""
    idx = ctx.lsoa_index.assign(lon.to_numpy(dtype=float, na_value=np.nan), lat.to_numpy(dtype=float, na_value=np.nan))
    inside = idx >= 0
    lsoa = np.where(inside, ctx.lsoa_index.codes[np.where(inside, idx, 0)], "")
    district = np.where(inside, ctx.lsoa_index.districts[np.where(inside, idx, 0)], "")
    return pd.Series(lsoa, index=frame.index), pd.Series(district, index=frame.index)


def split_assignment(children: pd.DataFrame) -> dict[str, str]:
    """Where a 2011 LSOA's rows go once it has split into several 2021 LSOAs (columns lsoa11_code, district_code,
    census_population, one row per 2021 LSOA): its district, where all its parts lie in one (every HIPS split
    does); else, best fit by population, the district holding most of its parts' Census 2021 residents."""
    people = children.groupby(["lsoa11_code", "district_code"], as_index=False)["census_population"].sum()
    people = people.sort_values(["lsoa11_code", "census_population", "district_code"], ascending=[True, False, True])
    return dict(people.drop_duplicates("lsoa11_code")[["lsoa11_code", "district_code"]].itertuples(index=False))


def area_codes(
    frame: pd.DataFrame, col: str, ctx: Context, reasons
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """An area column holding a 2021 LSOA, a HIPS district or a 2011 LSOA -> (level, lsoa, district, split).

    A 2011 code is a 2021 code unless the LSOA split; a split one is placed in a district by split_assignment
    (``split`` marks those rows, for the load audit)."""
    code = frame[col].str.strip().str.upper()
    is_lsoa = code.isin(ctx.lsoa_district.keys())
    split = ~is_lsoa & code.isin(ctx.lsoa11_split.keys())
    is_district = code.isin(ctx.districts) | split
    reasons.add(
        ~is_lsoa & ~is_district,
        f"{col}: " + "'" + frame[col].str.slice(0, 20) + "' is not a HIPS 2021 LSOA or district code (nor a 2011 LSOA)",
    )
    level = pd.Series(np.where(is_lsoa, "lsoa", "district"), index=frame.index)
    lsoa = code.where(is_lsoa, None)
    district = np.where(is_lsoa, code.map(ctx.lsoa_district), np.where(split, code.map(ctx.lsoa11_split), code))
    return level, lsoa, pd.Series(district, index=frame.index), split
