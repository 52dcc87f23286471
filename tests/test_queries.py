"""The read side: checked inputs, complete series, and the audience rule enforced in data_access."""

from datetime import date

import pandas as pd
import pytest

from tests.helpers import cube_cells
from vrp.data_access import outcomes
from vrp.data_access.published import NotPublished
from vrp.data_access.queries import Warehouse
from vrp.data_access.validation import InvalidQuery, NotPermitted


@pytest.fixture(scope="module")
def public(demo_warehouse):
    wh = Warehouse(demo_warehouse.with_(audience="public"))
    yield wh
    wh.dispose()


@pytest.fixture(scope="module")
def partner(demo_warehouse, public):
    public.dispose()  # one DuckDB file, one configuration per process at a time
    wh = Warehouse(demo_warehouse.with_(audience="partner"))
    yield wh
    wh.dispose()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"measure_id": "nonsense"}, "unknown measure"),
        (
            {"measure_id": "serious_violence", "districts": ["E06000045", "'; DROP TABLE mart_counts; --"]},
            "unknown district",
        ),
        ({"measure_id": "serious_violence", "start": "2025-13"}, "must be a month like"),
        ({"measure_id": "serious_violence", "start": "2025-06", "end": "2024-01"}, "is after the end month"),
        ({"measure_id": "serious_violence", "age": "elderly"}, "age must be one of"),
        ({"measure_id": "police_uk_robbery", "age": "u25"}, "has no victim ages"),
        ({"measure_id": "serious_violence", "districts": 42}, "must be a list"),
    ],
)
def test_bad_filter_values_are_refused(public, kwargs, message):
    with pytest.raises(InvalidQuery, match=message):
        public.monthly_counts(**kwargs)


def test_monthly_series_covers_every_month_of_the_period(public, partner):
    series = public.monthly_counts("knife_enabled_sv", ["E06000046"], "2023-04", "2024-03")
    assert list(series["month"]) == [date(2023 + (m < 4), m, 1) for m in [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3]]
    assert series["population"].iloc[0] == pytest.approx(public.population(("E06000046",)))
    cube = cube_cells(public, "knife_enabled_sv", "E06000046", "month")
    cube = cube[(cube["start"] >= date(2023, 4, 1)) & (cube["start"] <= date(2024, 3, 1))]
    assert series["count"].tolist() == pytest.approx(cube["count"].tolist(), nan_ok=True)
    truth = partner.monthly_counts("knife_enabled_sv", ["E06000046"], "2023-04", "2024-03")
    assert list(truth["month"]) == list(series["month"])
    sql = partner.read(
        "SELECT SUM(count) AS n FROM mart_counts WHERE measure_id = 'knife_enabled_sv' AND district_code = "
        "'E06000046' AND month BETWEEN DATE '2023-04-01' AND DATE '2024-03-01'"
    )["n"][0]
    assert int(truth["count"].sum()) == int(sql)


def test_every_lsoa_of_the_district_is_returned_even_with_nothing_recorded(public, partner):
    from tests.helpers import cube_lsoa_year
    from vrp.data_access.published import NotPublished

    n = partner.read("SELECT count(*) AS n FROM dim_area WHERE district_code = 'E07000089'")["n"][0]
    frame = partner.counts_by_lsoa("police_uk_robbery", ["E07000089"], "2022-02", "2022-02")
    assert len(frame) == n and (frame["count"] == 0).sum() > 0
    assert set(frame["district_code"]) == {"E07000089"}
    # The public release has no LSOA cells of police.uk measures, nor of any month: refused, not worked out.
    with pytest.raises(NotPublished, match="not by LSOA"):
        public.counts_by_lsoa("police_uk_robbery", ["E07000089"], "2022-02", "2022-02")
    with pytest.raises(NotPublished, match="whole financial years only"):
        public.counts_by_lsoa("knife_enabled_sv", ["E07000089"], "2025-10", "2026-09")
    shown = public.counts_by_lsoa("knife_enabled_sv", ["E07000089"], "2025-04", "2026-03")
    assert len(shown) == n and set(shown["district_code"]) == {"E07000089"}
    cube = cube_lsoa_year(partner, "knife_enabled_sv", "2025-04-01", "E07000089")["count"]  # from pub_cube by SQL
    assert shown.set_index("lsoa21_code")["count"].sort_index().equals(cube.sort_index().rename("count"))


def test_public_audience_never_receives_small_counts(public, partner):
    # Homicide is published by financial and rolling year only: no months in public, the years are the cube's.
    with pytest.raises(NotPublished, match="financial years, rolling 12 months only"):
        public.monthly_counts("homicide", ["E06000045"])
    assert partner.monthly_counts("homicide", ["E06000045"])["count"].between(1, 2).any()  # the true months are small
    pub = public.counts_by_period("homicide", "fy", ["E06000045"])
    cube = cube_cells(public, "homicide", "E06000045", "fy")
    assert pub["count"].tolist() == pytest.approx(cube["count"].tolist(), nan_ok=True)
    assert pub["suppressed"].tolist() == cube["suppressed"].tolist()
    limit = public.threshold(public.registry.get("homicide"))
    assert not pub["count"].between(1, limit - 1).any()


def test_hospital_counts_of_one_to_seven_are_hidden_in_public(public):
    frame = public.counts_by_period("sharp_object_admissions", by="fy", districts=["E06000044"])
    shown = frame["count"].dropna()
    assert len(shown) and ((shown == 0) | (shown >= 8)).all()
    cube = cube_cells(public, "sharp_object_admissions", "E06000044", "fy")
    assert frame["count"].tolist() == pytest.approx(cube["count"].tolist(), nan_ok=True)
    with pytest.raises(NotPublished, match="not months"):  # admissions are published by quarter and year
        public.counts_by_period("sharp_object_admissions", by="month", districts=["E06000044"])


def test_record_level_rows_are_for_partners_only(public, partner):
    with pytest.raises(NotPermitted):
        public.incidents("knife_enabled_sv", ["E06000045"], "2024-01", "2024-01")
    with pytest.raises(NotPermitted):
        public.quarantine()
    rows = partner.incidents("knife_enabled_sv", ["E06000045"], "2024-01", "2024-01")
    assert len(rows) > 0 and {"longitude", "latitude"} <= set(rows.columns)


def test_data_version_changes_with_every_load(tmp_path, engine, load, settings):
    from tests.helpers import POLICE_HEADER, police_row, write_csv

    wh = Warehouse(settings, engine=engine)
    wh.VERSION_TTL = 3600.0  # so a slow load (a loaded CI machine) cannot outlast it
    before = wh.data_version()
    load("police_records", write_csv(tmp_path / "r.csv", POLICE_HEADER, [police_row("Q1")]))
    # Within the TTL a reader keeps the version it has (one round trip per callback, not one per lookup) ...
    assert wh.data_version() == before
    # ... and sees the load once it has passed.
    wh._version = (wh._version[0], wh._version[1] - wh.VERSION_TTL, wh._version[2])
    assert wh.data_version() != before


def test_public_totals_are_cells_and_other_windows_are_refused(public, partner):
    total = public.period_total("knife_enabled_sv", ["E06000045"], "2025-04", "2026-03")
    cube = cube_cells(public, "knife_enabled_sv", "E06000045", "fy").set_index("start")
    assert total["count"] == int(cube.loc[date(2025, 4, 1), "count"]) and not total["suppressed"]
    with pytest.raises(NotPublished, match="months, calendar quarters, financial years, rolling 12 months"):
        public.period_total("knife_enabled_sv", ["E06000045"], "2025-05", "2026-03")
    truth = partner.period_total("knife_enabled_sv", ["E06000045"], "2025-05", "2026-03")  # partners: any window
    sql = partner.read(
        "SELECT SUM(count) AS n FROM mart_counts WHERE measure_id = 'knife_enabled_sv' AND district_code = "
        "'E06000045' AND month BETWEEN DATE '2025-05-01' AND DATE '2026-03-01'"
    )["n"][0]
    assert truth["count"] == int(sql)
    year = partner.period_total("knife_enabled_sv", ["E06000045"], "2025-04", "2026-03")["count"]
    for by in ("offence_subgroup", "age_band"):
        with pytest.raises(NotPublished, match="Shown to partners only"):
            outcomes.breakdown(public, "knife_enabled_sv", by, ["E06000045"], "2025-04", "2026-03")
        parts = outcomes.breakdown(partner, "knife_enabled_sv", by, ["E06000045"], "2025-04", "2026-03")
        assert int(parts["count"].sum()) == year


def test_hidden_months_are_the_cubes_hidden_cells(public):
    shown = public.monthly_counts("knife_enabled_sv", ["E07000093"])
    cube = cube_cells(public, "knife_enabled_sv", "E07000093", "month")
    assert shown["suppressed"].sum() >= 2
    assert shown["suppressed"].tolist() == cube["suppressed"].tolist()
    assert shown["count"].isna().tolist() == cube["suppressed"].tolist()


def test_hidden_lsoas_cannot_be_worked_back_from_the_district_totals(public, partner):
    """The public LSOA counts are the published cube's cells, read here straight from pub_cube; hidden ones carry
    no count and no district has exactly one hidden LSOA beside its published year."""
    from tests.helpers import cube_area_year, cube_lsoa_year
    from vrp.stats.suppression import is_recoverable

    districts = ["E06000044", "E06000046"]
    truth = partner.counts_by_lsoa("knife_enabled_sv", districts, "2025-04", "2026-03")
    shown = public.counts_by_lsoa("knife_enabled_sv", districts, "2025-04", "2026-03").set_index("lsoa21_code")
    cube = pd.concat([cube_lsoa_year(partner, "knife_enabled_sv", "2025-04-01", d) for d in districts])
    assert sorted(shown.index) == sorted(cube.index)
    assert shown["suppressed"].any() and shown["suppressed"].equals(cube.loc[shown.index, "suppressed"])
    assert shown["count"].equals(cube.loc[shown.index, "count"].rename("count"))
    mask = pd.Series(shown.loc[truth["lsoa21_code"], "suppressed"].to_numpy(), index=truth.index)
    assert not is_recoverable(truth, mask, "district_code", "count")
    for d in districts:
        hidden = shown.loc[shown["district_code"] == d, "suppressed"]
        if cube_area_year(partner, "knife_enabled_sv", d, "2025-04-01") is not None:
            assert hidden.sum() != 1


def test_a_total_over_several_districts_never_reveals_a_hidden_one(public):
    """A sum of chosen districts is not published: the public view shows one district, or all of HIPS."""
    table = outcomes.district_rates(public, "sharp_object_admissions", "2025-10", "2026-09").set_index("district_code")
    cube = {
        d: cube_cells(public, "sharp_object_admissions", d, "rolling12").set_index("end").loc[date(2026, 9, 1)]
        for d in table.index
    }
    for d, cell in cube.items():
        assert bool(table.loc[d, "suppressed"]) == bool(cell["suppressed"])
        if not cell["suppressed"]:
            assert table.loc[d, "count"] == cell["count"]
        else:
            assert pd.isna(table.loc[d, "rate"]) and table.loc[d, "compared_with_hips"] == "not compared"
    with pytest.raises(NotPublished, match="one district at a time"):
        public.period_total("sharp_object_admissions", ["E06000045", "E07000084"], "2025-10", "2026-09")
    with pytest.raises(NotPublished, match="one district at a time"):
        outcomes.comparisons(public, "sharp_object_admissions", ("E06000045", "E07000084"), "2026-09")


def test_monthly_series_are_protected_against_year_totals(public, partner):
    from vrp.stats.suppression import is_recoverable

    truth = partner.monthly_counts("knife_enabled_sv", ["E07000093"])
    shown = public.monthly_counts("knife_enabled_sv", ["E07000093"])
    months = pd.to_datetime(truth["month"])
    truth = truth.assign(
        _series=0,
        _fy=(months.dt.year - (months.dt.month < 4)).to_numpy(),
        _block=((months.max().year * 12 + months.max().month) - (months.dt.year * 12 + months.dt.month)) // 12,
    )
    assert shown["suppressed"].any()
    assert not is_recoverable(truth, shown["suppressed"], ["_series", "_fy", "_block"], "count")


@pytest.mark.parametrize("month", ["0000-01", "9999-12"])
def test_absurd_years_are_refused(public, month):
    with pytest.raises(InvalidQuery, match="outside the years"):
        public.monthly_counts("serious_violence", [], month, month)


def test_a_measure_beside_its_whole_never_reveals_the_difference(public):
    """All homicides and under-25 non-domestic ones, shown together: all minus under-25 is a count too, so where
    both cells are published their difference is never a small number."""
    limit = public.threshold(public.registry.get("homicide"))
    checked = 0
    for district in sorted(public.district_codes):
        whole = public.period_total("homicide", [district])
        part = public.period_total("homicide_u25_non_domestic", [district])
        assert whole["period"] == part["period"] and whole["period"].type == "rolling12"  # the latest cells
        cube = cube_cells(public, "homicide", district, "rolling12").set_index("end")
        assert whole["count"] == (None if cube["suppressed"].iloc[-1] else int(cube["count"].iloc[-1]))
        part_cells = cube_cells(public, "homicide_u25_non_domestic", district, "rolling12").set_index("end")
        both = cube.join(part_cells.add_suffix("_part")).dropna(subset=["count", "count_part"])
        difference = both["count"] - both["count_part"]
        assert not difference.between(1, limit - 1).any()
        checked += len(both)
    assert checked  # the demo has such cells (seed 2024)
