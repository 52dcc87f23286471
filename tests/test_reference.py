"""The reference dimensions reproduce the published totals and keep 2021 LSOAs tied to their 2011 parents."""

import pandas as pd
import pytest
import sqlalchemy as sa

from vrp.data_access import tables as t
from vrp.pipeline.reference import CENSUS_TOTAL, MYE_TOTAL, MYE_UNDER_25, ReferenceDataError, build_dimensions


@pytest.fixture(scope="module")
def dims(base_settings):
    return build_dimensions(base_settings.reference_dir, base_settings.config_dir / "offence_codes.csv")


def test_counts_of_areas(dims):
    assert len(dims["dim_area"]) == 1231
    assert dims["dim_area"]["lsoa21_code"].is_unique
    assert len(dims["dim_district"]) == 14
    assert set(dims["dim_area"]["district_code"]) == set(dims["dim_district"]["district_code"])


def test_population_matches_published_totals(dims):
    pop = dims["mart_population"]
    force = pop[pop.geography_level == "force"].set_index("age_group")["population"]
    assert force["all"] == pytest.approx(MYE_TOTAL, abs=0.5)
    assert force["u25"] == pytest.approx(MYE_UNDER_25, abs=0.5)
    assert force["u18"] + force["18_24"] == pytest.approx(force["u25"])
    assert dims["dim_area"]["census_population"].sum() == CENSUS_TOTAL


def test_lsoa_populations_add_up_to_each_district(dims, base_settings):
    mye = pd.read_csv(base_settings.reference_dir / "population" / "mye2023_lad_single_year_age.csv")
    pop = dims["mart_population"]
    lsoa = pop[(pop.geography_level == "lsoa") & (pop.age_group == "18_24")].merge(
        dims["dim_area"], left_on="area_code", right_on="lsoa21_code"
    )
    by_district = lsoa.groupby("district_code")["population"].sum()
    expected = mye.set_index("code")[[str(a) for a in range(18, 25)]].sum(axis=1)
    pd.testing.assert_series_equal(
        by_district.sort_index(), expected.sort_index().astype(float), check_names=False, atol=1e-6
    )


def test_split_lsoas_inherit_their_parents_deprivation(dims, base_settings):
    area = dims["dim_area"]
    split = area[area["change"] == "split"]
    assert len(split) == 65
    imd = pd.read_csv(base_settings.reference_dir / "deprivation" / "imd2019_lsoa11.csv")
    parent_decile = imd.set_index("lsoa11_code")["index_of_multiple_deprivation_imd_decile"]
    assert (split["imd_decile"].to_numpy() == parent_decile.loc[split["lsoa11_code"]].to_numpy()).all()


def test_months_carry_financial_years(dims):
    months = dims["dim_month"].set_index("month_label")
    assert months.loc["2024-03", "financial_year"] == "2023-24"
    assert months.loc["2024-04", "financial_year"] == "2024-25"
    assert months.loc["2024-04", "fy_quarter"] == 1
    assert months.loc["2025-01", "fy_quarter"] == 4


def test_missing_reference_folder_is_refused(tmp_path, base_settings):
    with pytest.raises(ReferenceDataError, match="reference data not found"):
        build_dimensions(tmp_path, base_settings.config_dir / "offence_codes.csv")


def test_reference_loads_into_each_backend(engine):
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.dim_area)).scalar() == 1231
        total = conn.execute(
            sa.select(t.mart_population.c.population).where(
                t.mart_population.c.geography_level == "force", t.mart_population.c.age_group == "all"
            )
        ).scalar()
    assert total == pytest.approx(MYE_TOTAL, abs=0.5)
