"""The published cube: its lattice, its cells and relations, and an attack on a whole family of measures."""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from tests.helpers import attacker_bounds
from vrp.periods import add_months
from vrp.pipeline.cube_lsoa import protect_family
from vrp.pipeline.cube_table import FamilyInput, build_family
from vrp.pipeline.lattice import lattice, quarters_of
from vrp.stats.disclosure import LinearTable, protect


def test_lattice_keeps_only_whole_periods_inside_the_coverage():
    periods = lattice(date(2021, 2, 1), date(2022, 8, 1))
    by_type = {t: [p for p in periods if p.type == t] for t in ("month", "quarter", "fy", "rolling12")}
    assert len(by_type["month"]) == 19
    assert [p.start for p in by_type["quarter"]] == [date(2021, m, 1) for m in (4, 7, 10)] + [
        date(2022, 1, 1),
        date(2022, 4, 1),
    ]
    assert [(p.start, p.end) for p in by_type["fy"]] == [(date(2021, 4, 1), date(2022, 3, 1))]
    # rolling years end at quarter ends: Dec 2021 would start in Jan 2021, before the coverage
    assert [p.end for p in by_type["rolling12"]] == [date(2022, 3, 1), date(2022, 6, 1)]
    assert [q.start for q in quarters_of(by_type["rolling12"][1])] == [
        date(2021, 7, 1),
        date(2021, 10, 1),
        date(2022, 1, 1),
        date(2022, 4, 1),
    ]


def test_lattice_of_chosen_types_and_of_nothing():
    assert {p.type for p in lattice(date(2021, 4, 1), date(2023, 3, 1), ("fy",))} == {"fy"}
    assert lattice(date(2022, 4, 1), date(2022, 3, 1)) == []


@pytest.fixture
def family(registry):
    """Three districts, two years of monthly counts by age group, for homicide and its under-25 part."""
    rng = np.random.default_rng(7)
    whole = dataclasses.replace(registry.get("homicide"), public_periods=("month", "quarter", "fy", "rolling12"))
    part = dataclasses.replace(registry.get("homicide_u25_non_domestic"), public_periods=whole.public_periods)
    districts = ["E06000044", "E06000045", "E06000046"]
    months = [add_months(date(2021, 4, 1), i) for i in range(24)]
    rows = []
    for d in districts:
        for m in months:
            u25, o25 = rng.poisson(0.6), rng.poisson(1.5)
            rows.append((d, m, "u25", u25, rng.binomial(u25, 0.6)))
            rows.append((d, m, "o25", o25, 0))
    frame = pd.DataFrame(rows, columns=["district_code", "month", "group", "count", "child"])
    base = {
        whole.id: frame.assign(upstream=0)[["district_code", "month", "group", "count", "upstream"]],
        part.id: frame.assign(count=frame["child"], upstream=0)[
            ["district_code", "month", "group", "count", "upstream"]
        ],
    }
    return FamilyInput([whole, part], districts, months, base, {}, {}, {whole.id: 3, part.id: 3})


def test_family_cells_add_up_and_the_remainder_is_interior(family):
    cube, x = build_family(family)
    table, meta = cube.table, cube.meta
    cell = {tuple(r): i for i, r in enumerate(meta.itertuples(index=False, name=None))}
    start = date(2021, 4, 1)
    fy = ("fy", start, date(2022, 3, 1))

    def value(measure, level, area, age):
        return table.values[cell[(measure, level, area, age, *fy)]]

    hips = value("homicide", "hips", "HIPS", "all")
    assert hips == sum(value("homicide", "district", d, "all") for d in family.districts)
    assert hips == value("homicide", "hips", "HIPS", "u25") + value("homicide", "hips", "HIPS", "25plus")
    rest = value("homicide-homicide_u25_non_domestic", "hips", "HIPS", "rest:all")
    assert rest == hips - value("homicide_u25_non_domestic", "hips", "HIPS", "all")
    assert not table.publishable[cell[("homicide", "hips", "HIPS", "25plus", *fy)]]
    for relation in table.relations:  # every relation holds on the true values
        total, parts = relation[0], relation[1:]
        assert table.values[total] == pytest.approx(table.values[parts].sum()), meta.iloc[relation]


def test_no_cell_of_a_protected_family_can_be_pinned_by_an_attacker(family):
    cube, _ = build_family(family)
    table = cube.table
    result = protect(table)
    assert not len(result.pinned)
    assert result.hidden[table.small & table.publishable].all()
    targets = np.flatnonzero(result.hidden | result.primary)
    bounds = attacker_bounds(table, result.hidden, targets)
    for cell, (lo, hi) in zip(targets, bounds, strict=True):
        whole = (np.ceil(lo - 1e-6), np.floor(hi + 1e-6))
        assert whole[1] - whole[0] >= 1, cube.meta.iloc[cell].to_dict()
        # the recorded interval is the attacker's or, where hiding went on after its audit, inside it
        assert whole[0] <= result.lower[cell] <= table.values[cell] <= result.upper[cell] <= whole[1]
        assert result.upper[cell] - result.lower[cell] >= 1


@pytest.fixture(params=[11, 12, 13, 14])
def mapped(registry, request):
    """Knife crime in two districts of three LSOAs each, two years of months: sparse enough that most LSOA years
    and some district years are small."""
    rng = np.random.default_rng(request.param)
    measure = registry.get("knife_enabled_sv")
    lsoa_district = {f"L{d}{i}": d for d in ("E06000044", "E06000045") for i in range(3)}
    months = [add_months(date(2021, 4, 1), i) for i in range(24)]
    rows = [
        (code, district, m, group, rng.poisson(0.12))
        for code, district in lsoa_district.items()
        for m in months
        for group in ("u25", "o25")
    ]
    records = pd.DataFrame(rows, columns=["lsoa21_code", "district_code", "month", "group", "count"])
    base = records.groupby(["district_code", "month", "group"], as_index=False)["count"].sum().assign(upstream=0)
    records["period_start"] = records["month"].map(lambda m: date(m.year if m.month >= 4 else m.year - 1, 4, 1))
    years = records.groupby(["lsoa21_code", "period_start"], as_index=False)["count"].sum()
    data = FamilyInput(
        [measure], sorted(set(lsoa_district.values())), months, {measure.id: base}, {}, lsoa_district, {measure.id: 3}
    )
    return data, years


def with_lsoa_years(cube, years: pd.DataFrame, lsoa_district: dict) -> tuple:
    """The family's table grown by one base count per LSOA year, its LSOA cells and the links to district years:
    everything an attacker knows, for attacker_bounds."""
    table, meta = cube.table, cube.meta
    keys = sorted(zip(years["lsoa21_code"], years["period_start"], strict=True))
    col = {k: table.cells.shape[1] + i for i, k in enumerate(keys)}
    n = table.cells.shape[1] + len(keys)
    cells = sp.hstack([table.cells, sp.csr_matrix((table.cells.shape[0], len(keys)))]).tolil()
    extra = sp.lil_matrix((len(keys), n))
    for i, k in enumerate(keys):
        extra[i, col[k]] = 1
    values = years.set_index(["lsoa21_code", "period_start"])["count"]
    links = []
    for i, r in enumerate(meta.itertuples(index=False)):
        if r.area_level == "district" and r.age == "all" and r.period_type == "fy":
            row = np.zeros(n)
            row[: table.cells.shape[1]] = -table.cells[i].toarray().ravel()
            for code, district in lsoa_district.items():
                if district == r.area_code:
                    row[col[(code, r.period_start)]] = 1
            links.append(row)
    grown = LinearTable(
        sp.vstack([cells.tocsr(), extra.tocsr()]),
        np.concatenate([table.values, [values[k] for k in keys]]),
        np.concatenate([table.threshold, np.full(len(keys), 3)]),
        np.concatenate([table.publishable, np.ones(len(keys), bool)]),
        [],
        sp.csr_matrix(np.array(links)),
    )
    return grown, keys


def test_lsoa_years_and_district_cells_together_leave_nothing_pinned(mapped):
    data, years = mapped
    cube, _ = build_family(data)
    result, layer = protect_family(cube, {"knife_enabled_sv": years}, data.lsoa_district, data.thresholds)
    assert layer.pinned == 0 and not len(result.pinned)
    assert result.hidden.any() and layer.cells["suppressed"].any()
    fy_totals = (cube.meta["area_level"] == "district") & (cube.meta["period_type"] == "fy")
    assert result.hidden[fy_totals.to_numpy()].any()  # the floors from the LSOAs are in play
    grown, keys = with_lsoa_years(cube, years, data.lsoa_district)
    shown = layer.cells.set_index(["area_code", "period_start"])
    lsoa_hidden = np.array([bool(shown.loc[k, "suppressed"]) for k in keys])
    hidden = np.concatenate([result.hidden, lsoa_hidden])
    small = (grown.values > 0) & (grown.values < 3) & grown.publishable
    assert hidden[small].all()
    targets = np.flatnonzero(hidden)
    recorded = layer.audit.set_index(["area_code", "period_start"])
    offset = len(result.hidden)
    for cell, (lo, hi) in zip(targets, attacker_bounds(grown, hidden, targets), strict=True):
        whole = (np.ceil(lo - 1e-6), np.floor(hi + 1e-6))
        assert whole[1] - whole[0] >= 1, cell
        if cell >= offset:  # an LSOA year: the layer records exactly what the attacker derives, or less
            mine = recorded.loc[keys[cell - offset]]
            assert whole[0] <= mine["lower"] <= mine["value"] <= mine["upper"] <= whole[1]


def test_families_protected_side_by_side_give_the_cube_one_at_a_time_gives(family, mapped, monkeypatch):
    """pipeline/cube.py protects families in threads (HiGHS lets go of the GIL): the answer must not depend on it."""
    from vrp.pipeline import cube as cube_mod

    data, years = mapped
    inputs = [(family, {}), (data, {"knife_enabled_sv": years}), (family, {})]
    monkeypatch.setattr(cube_mod, "MAX_THREADS", 1)
    alone = cube_mod.protect_families(inputs)
    monkeypatch.setattr(cube_mod, "MAX_THREADS", 3)
    monkeypatch.setattr(cube_mod.os, "cpu_count", lambda: 3)
    together = cube_mod.protect_families(inputs)
    assert [p.cube.meta.shape for p in together] == [p.cube.meta.shape for p in alone]
    for a, b in zip(alone, together, strict=True):
        assert (a.hidden == b.hidden).all() and (a.primary == b.primary).all()
        np.testing.assert_array_equal(a.lower, b.lower)
        np.testing.assert_array_equal(a.upper, b.upper)
        assert (a.pinned, a.solves) == (b.pinned, b.solves)
    assert together[1].layer is not None and together[1].layer.cells.equals(alone[1].layer.cells)
    assert together[0].hidden.any() and together[1].hidden.any() and together[0].solves > 0
