"""The public cube of one family of measures as a linear table (stats.disclosure.LinearTable).

Base counts: for each measure of the family, each district, month of coverage and age group (under 25, 25 and over;
"all" where the source has no ages), the mart's count; for measures mapped by LSOA, each LSOA's financial year too,
tied to its district's year by a link. Cells: every lattice period for each district, HIPS and age group ("all",
"under 25", and "25 and over" as an interior cell), each LSOA's financial years, and for a measure that is part of
another the remainder (the whole less the part), interior too. Relations tie quarters to months, years to quarters,
HIPS to districts, all ages to its groups, a whole to its part and a district's year to its LSOAs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from vrp.data_access.measures import Measure
from vrp.periods import Period, months_in
from vrp.pipeline.lattice import lattice, quarters_of
from vrp.stats.disclosure import LinearTable

HIPS = "HIPS"
U25_BANDS = ("u18", "18_24")
LSOA_PERIODS = ("fy",)  # suppressed measures: whole years only, so LSOA cells never overlap (METHODS.md)
OPEN_LSOA_PERIODS = ("quarter", "fy", "rolling12")  # measures with no suppression rule


@dataclass
class FamilyInput:
    """What the builder reads from the marts for one family: base counts by district, month and age group."""

    measures: list[Measure]
    districts: list[str]
    months: list[date]
    base: dict[str, pd.DataFrame]  # measure id -> district_code, month, group, count, upstream
    lsoa_years: dict[str, pd.DataFrame]  # measure id -> lsoa21_code, district_code, period_start, count
    lsoa_district: dict[str, str]  # LSOA code -> district code, for every LSOA
    thresholds: dict[str, int]

    @cached_property
    def month_at(self) -> dict[date, int]:
        """Each month's base time unit. A family that publishes no months has quarters as its base counts: nothing
        published splits a quarter, so a user can tell its months apart no better, and the programmes are a third
        the size."""
        if "month" in self.measures[0].public_periods:
            return {m: i for i, m in enumerate(self.months)}
        starts = sorted({date(m.year, (m.month - 1) // 3 * 3 + 1, 1) for m in self.months})
        index = {s: i for i, s in enumerate(starts)}
        return {m: index[date(m.year, (m.month - 1) // 3 * 3 + 1, 1)] for m in self.months}

    @property
    def units(self) -> int:
        return len(set(self.month_at.values()))

    def unit_cols(self, period: Period) -> list[int]:
        return sorted({self.month_at[m] for m in _months_of(period)})


@dataclass
class CubeTable:
    table: LinearTable
    meta: pd.DataFrame  # one row per cell: measure_id, area_level, area_code, age, period_type, period_start/_end
    incomplete: np.ndarray


@dataclass
class _Builder:
    n_vars: int = 0
    rows: list = field(default_factory=list)  # (cols, coefs)
    meta: list = field(default_factory=list)
    publishable: list = field(default_factory=list)
    threshold: list = field(default_factory=list)
    relations: list = field(default_factory=list)
    links: list = field(default_factory=list)
    index: dict = field(default_factory=dict)

    def block(self, size: int) -> int:
        start, self.n_vars = self.n_vars, self.n_vars + size
        return start

    def cell(self, key: tuple, cols, coefs, publishable: bool, threshold: int) -> int:
        self.rows.append((np.asarray(cols, dtype=int), np.asarray(coefs, dtype=float)))
        self.meta.append(key)
        self.publishable.append(publishable)
        self.threshold.append(threshold)
        self.index[key] = len(self.rows) - 1
        return len(self.rows) - 1

    def matrix(self) -> sp.csr_matrix:
        indptr = np.cumsum([0] + [len(c) for c, _ in self.rows])
        cols = np.concatenate([c for c, _ in self.rows]) if self.rows else np.zeros(0, int)
        data = np.concatenate([d for _, d in self.rows]) if self.rows else np.zeros(0)
        return sp.csr_matrix((data, cols, indptr), shape=(len(self.rows), self.n_vars))


def _ages(measure: Measure) -> tuple[str, ...]:
    return ("u25", "o25") if measure.source in ("police_records", "admissions", "homicides") else ("all",)


def build_family(data: FamilyInput) -> tuple[CubeTable, np.ndarray]:
    """The family's linear table and the true base counts (for the incomplete flags and the tests)."""
    b = _Builder()
    nd, nm = len(data.districts), data.units
    periods = lattice(data.months[0], data.months[-1], data.measures[0].public_periods) if nm else []
    true_values: list[np.ndarray] = []
    upstream: list[np.ndarray] = []
    blocks: dict[str, tuple[int, tuple[str, ...]]] = {}
    for measure in data.measures:
        groups = _ages(measure)
        start = b.block(nd * nm * len(groups))
        blocks[measure.id] = (start, groups)
        x, up = _dense(data.base[measure.id], data.districts, data, groups)
        true_values.append(x.ravel())
        upstream.append(up.ravel())
    for measure in data.measures:
        _area_cells(b, measure, blocks[measure.id], data, periods)
    for measure in data.measures:
        parent = measure.part_of
        if parent and parent in blocks:
            _remainder_cells(b, measure, parent, data, periods)
    subsets = _subset_pairs(data, blocks, nd, nm)
    for measure in data.measures:
        if measure.id in data.lsoa_years and len(data.lsoa_years[measure.id]):
            values, ups = _lsoa_cells(b, measure, blocks[measure.id], data, periods)
            true_values.append(values)
            upstream.append(ups)
    x = np.concatenate(true_values) if true_values else np.zeros(0)
    up = np.concatenate(upstream) if upstream else np.zeros(0)
    matrix = b.matrix()
    links = None
    if b.links:
        indptr = np.cumsum([0] + [len(c) for c, _ in b.links])
        cols = np.concatenate([c for c, _ in b.links]).astype(int)
        links = sp.csr_matrix((np.concatenate([d for _, d in b.links]), cols, indptr), shape=(len(b.links), b.n_vars))
    values = matrix @ x
    table = LinearTable(
        matrix, np.round(values), np.array(b.threshold), np.array(b.publishable), b.relations, links, subsets
    )
    meta = pd.DataFrame(
        b.meta, columns=["measure_id", "area_level", "area_code", "age", "period_type", "period_start", "period_end"]
    )
    return CubeTable(table, meta, (abs(matrix) @ up) > 0), x


def _dense(frame: pd.DataFrame, districts: list[str], data: FamilyInput, groups: tuple[str, ...]):
    at = {d: i for i, d in enumerate(districts)}
    g_at = {g: i for i, g in enumerate(groups)}
    month_at = data.month_at
    x = np.zeros((len(districts), data.units, len(groups)))
    up = np.zeros_like(x)
    for r in frame.itertuples(index=False):
        if r.district_code in at and r.month in month_at and r.group in g_at:
            x[at[r.district_code], month_at[r.month], g_at[r.group]] += r.count
            up[at[r.district_code], month_at[r.month], g_at[r.group]] += r.upstream
    return x, up


def _var_cols(start: int, shape: tuple[int, int, int], districts, months, groups) -> np.ndarray:
    grid = np.arange(shape[0] * shape[1] * shape[2]).reshape(shape)
    return start + grid[np.ix_(districts, months, groups)].ravel()


def _area_cells(b: _Builder, measure: Measure, block, data: FamilyInput, periods: list[Period]) -> None:
    start, groups = block
    nd, nm, ng = len(data.districts), data.units, len(groups)
    shape = (nd, nm, ng)
    ages = {"all": list(range(ng))}
    if groups == ("u25", "o25"):
        ages.update(u25=[0], o25=[1])
    k = data.thresholds[measure.id]
    areas = [(code, "district", [i]) for i, code in enumerate(data.districts)] + [(HIPS, "hips", list(range(nd)))]
    for period in periods:
        months = data.unit_cols(period)
        for code, level, ds in areas:
            for age, gs in ages.items():
                cols = _var_cols(start, shape, ds, months, gs)
                key = (
                    measure.id,
                    level,
                    code,
                    "25plus" if age == "o25" else age,
                    period.type,
                    period.start,
                    period.end,
                )
                b.cell(key, cols, np.ones(len(cols)), age != "o25", k)
    for period in periods:
        for code, level, _ in areas:
            names = ["25plus" if a == "o25" else a for a in ages]
            if len(names) == 3:  # all = under 25 + 25 and over
                b.relations.append(
                    np.array(
                        [b.index[(measure.id, level, code, a, period.type, period.start, period.end)] for a in names]
                    )
                )
            for age in names:
                key = (measure.id, level, code, age, period.type, period.start, period.end)
                if period.type != "month":  # a quarter of months, a year of quarters, where those are cells too
                    parts = _months_of(period) if period.type == "quarter" else quarters_of(period)
                    kind = "month" if period.type == "quarter" else "quarter"
                    found = [
                        b.index.get((measure.id, level, code, age, kind, p.start, p.end))
                        for p in _as_periods(parts, kind)
                    ]
                    if None not in found:
                        b.relations.append(np.array([b.index[key], *found]))
                same_year = b.index.get((measure.id, level, code, age, "fy", period.start, period.end))
                if period.type == "rolling12" and same_year is not None:  # the same months as a financial year
                    b.relations.append(np.array([b.index[key], same_year]))
                if level == "hips":
                    b.relations.append(
                        np.array(
                            [b.index[key]]
                            + [
                                b.index[(measure.id, "district", d, age, period.type, period.start, period.end)]
                                for d in data.districts
                            ]
                        )
                    )


def _months_of(period: Period) -> list[date]:
    from vrp.periods import add_months

    return [add_months(period.start, i) for i in range(months_in(period.start, period.end))]


def _as_periods(parts, kind: str) -> list[Period]:
    return [Period("month", p, p) for p in parts] if kind == "month" else list(parts)


def _remainder_cells(b: _Builder, measure: Measure, parent: str, data: FamilyInput, periods) -> None:
    """The whole less its part (homicides that are not of under-25s in non-domestic settings): interior cells,
    protected like any other count a user could work out."""
    k = max(data.thresholds[measure.id], data.thresholds[parent])
    for key_part, i in list(b.index.items()):
        if key_part[0] != measure.id:
            continue
        whole = b.index.get((parent, *key_part[1:]))
        if whole is None:
            continue
        cols_w, coef_w = b.rows[whole]
        cols_p, coef_p = b.rows[i]
        key = (f"{parent}-{measure.id}", *key_part[1:3], f"rest:{key_part[3]}", *key_part[4:])
        cell = b.cell(key, np.concatenate([cols_w, cols_p]), np.concatenate([coef_w, -coef_p]), False, k)
        b.relations.append(np.array([whole, i, cell]))


def _subset_pairs(data: FamilyInput, blocks, nd: int, nm: int) -> np.ndarray | None:
    """A part is no larger than its whole in any base count: a user knows that much from the definitions."""
    pairs = []
    for measure in data.measures:
        if measure.part_of and measure.part_of in blocks:
            (cs, cg), (ps, pg) = blocks[measure.id], blocks[measure.part_of]
            if cg == pg:
                n = nd * nm * len(cg)
                pairs.append(np.column_stack([cs + np.arange(n), ps + np.arange(n)]))
    return np.concatenate(pairs) if pairs else None


def _lsoa_cells(b: _Builder, measure: Measure, block, data: FamilyInput, periods: list[Period]):
    """Each LSOA's financial years, with a link: a district's LSOAs (and its records with no LSOA) add up to its
    year. Returns the true values of the new base counts (LSOA years, then district remainders)."""
    start, groups = block
    frame = data.lsoa_years[measure.id]
    k = data.thresholds[measure.id]
    years = [p for p in periods if p.type in (LSOA_PERIODS if k > 1 else OPEN_LSOA_PERIODS)]
    lsoas = sorted(data.lsoa_district)
    counts = frame.groupby(["lsoa21_code", "period_type", "period_start"])["count"].sum().to_dict()
    l_start = b.block(len(lsoas) * len(years))
    values = np.zeros(len(lsoas) * len(years) + len(data.districts) * len(years))
    u_start = b.block(len(data.districts) * len(years))
    by_district: dict[str, list[int]] = {}
    for li, code in enumerate(lsoas):
        by_district.setdefault(data.lsoa_district[code], []).append(li)
    shape = (len(data.districts), data.units, len(groups))
    base = data.base[measure.id]
    district_totals = {
        (d, y.start): base.loc[(base["district_code"] == d) & base["month"].between(y.start, y.end), "count"].sum()
        for d in data.districts
        for y in years
    }
    for yi, year in enumerate(years):
        for li, code in enumerate(lsoas):
            var = l_start + li * len(years) + yi
            values[li * len(years) + yi] = counts.get((code, year.type, year.start), 0)
            key = (measure.id, "lsoa", code, "all", year.type, year.start, year.end)
            b.cell(key, [var], [1.0], True, k)
        for di, district in enumerate(data.districts):
            months = data.unit_cols(year)
            d_cols = _var_cols(start, shape, [di], months, list(range(len(groups))))
            members = by_district.get(district, [])
            l_cols = [l_start + li * len(years) + yi for li in members]
            u_var = u_start + di * len(years) + yi
            b.links.append(
                (np.concatenate([d_cols, l_cols, [u_var]]), np.r_[-np.ones(len(d_cols)), np.ones(len(l_cols) + 1)])
            )
            in_lsoas = sum(values[li * len(years) + yi] for li in members)
            values[len(lsoas) * len(years) + di * len(years) + yi] = (
                district_totals.get((district, year.start), 0) - in_lsoas
            )
            u_key = (measure.id, "district", district, "no-lsoa", year.type, year.start, year.end)
            u_cell = b.cell(u_key, [u_var], [1.0], False, k)
            total = b.index[(measure.id, "district", district, "all", year.type, year.start, year.end)]
            parts = [b.index[(measure.id, "lsoa", lsoas[li], "all", year.type, year.start, year.end)] for li in members]
            b.relations.append(np.array([total, *parts, u_cell]))
    return values, np.zeros_like(values)
