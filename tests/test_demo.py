"""The demo warehouse: realistic volumes on the real geography, reproducible by seed, labelled synthetic."""

import pandas as pd
import pytest
import sqlalchemy as sa

from vrp.data_access.engine import make_engine
from vrp.pipeline.demo import DemoOptions, build_demo
from vrp.pipeline.synthetic import DEFAULT_END, DEFAULT_START


@pytest.fixture(scope="module")
def demo(demo_warehouse):
    engine = make_engine(demo_warehouse.warehouse, read_only=True)
    yield engine
    engine.dispose()


def _fy_counts(engine, measure_id) -> pd.Series:
    q = sa.text(
        "SELECT d.financial_year, SUM(m.count) AS n FROM mart_counts m JOIN dim_month d USING (month) "
        "WHERE m.measure_id = :m GROUP BY 1 ORDER BY 1"
    )
    with engine.connect() as conn:
        return pd.Series(dict(conn.execute(q, {"m": measure_id}).all()))


def test_volumes_sit_near_the_published_figures(demo):
    full_years = ["2021-22", "2022-23", "2023-24", "2024-25", "2025-26"]
    knife = _fy_counts(demo, "knife_enabled_sv")[full_years]
    assert knife.between(850, 1350).all(), knife
    admissions = _fy_counts(demo, "sharp_object_admissions")[full_years]
    assert admissions.between(45, 110).all(), admissions
    homicides = _fy_counts(demo, "homicide")[full_years]
    assert homicides.between(4, 25).all() and 8 <= homicides.mean() <= 20, homicides
    assert _fy_counts(demo, "homicide_u25_non_domestic")[full_years].sum() >= 3


def test_period_is_april_2021_to_september_2026(demo):
    with demo.connect() as conn:
        first, last = conn.execute(
            sa.text("SELECT min(recorded_month), max(recorded_month) FROM fact_police_records")
        ).one()
    assert (first, last) == (DEFAULT_START, DEFAULT_END)


def test_town_centres_stand_out(demo):
    """The busiest LSOAs for serious violence are in Southampton and Portsmouth, as in the real data."""
    with demo.connect() as conn:
        top = (
            conn.execute(
                sa.text(
                    "SELECT district_code FROM mart_counts WHERE measure_id = 'serious_violence' "
                    "GROUP BY lsoa21_code, district_code ORDER BY SUM(count) DESC LIMIT 10"
                )
            )
            .scalars()
            .all()
        )
    assert sum(d in ("E06000045", "E06000044") for d in top) >= 5


def test_night_time_economy_pattern(demo):
    with demo.connect() as conn:
        frame = pd.read_sql(
            sa.text(
                "SELECT occurred_at FROM fact_police_records WHERE occurred_at IS NOT NULL AND NOT domestic_flag "
                "AND ho_offence_code = '8N'"
            ),
            conn,
        )
    # A night belongs to the evening it started: shift by four hours, then 21:00-04:00 is 17:00-24:00.
    t = pd.to_datetime(frame["occurred_at"]) - pd.Timedelta(hours=4)
    night = t.dt.hour >= 17
    fri_sat_night = night & t.dt.day_of_week.isin([4, 5])
    # Friday and Saturday nights are 2 of 7 nights but carry well over 2/7 of night-time violence.
    assert fri_sat_night.sum() / night.sum() > 0.4


def test_times_of_day_have_no_false_peak_and_none_follows_its_recording(demo):
    with demo.connect() as conn:
        frame = pd.read_sql(
            sa.text("SELECT occurred_at, recorded_date FROM fact_police_records WHERE occurred_at IS NOT NULL"), conn
        )
    occurred = pd.to_datetime(frame["occurred_at"])
    assert (occurred < pd.to_datetime(frame["recorded_date"]) + pd.Timedelta(days=1)).all()
    by_hour = occurred.dt.hour.value_counts().reindex(range(24), fill_value=0)
    # Night-time violence peaks around midnight and carries on past it; the last hour of the day is not a wall
    # that the small hours pile up against.
    assert by_hour[23] < 1.3 * max(by_hour[22], by_hour[0])
    assert by_hour[[0, 1, 2]].sum() > 0.5 * by_hour[[21, 22, 23]].sum()


def test_every_synthetic_source_is_flagged(demo):
    with demo.connect() as conn:
        registry = dict(conn.execute(sa.text("SELECT source_id, synthetic FROM source_registry")).all())
    assert registry == {
        "police_records": "synthetic",
        "admissions": "synthetic",
        "homicides": "synthetic",
        "police_uk": "real",
        "ons_knife": "real",
    }


def test_same_seed_same_warehouse_other_seed_differs(base_settings, tmp_path):
    def build(seed, name):
        url = f"duckdb:///{tmp_path / name}"
        build_demo(
            base_settings.with_(build_dir=tmp_path / f"b{name}"),
            url,
            DemoOptions(seed=seed, scale=0.05, end=pd.Timestamp("2022-03-01").date()),
            progress=False,
        )
        engine = make_engine(url, read_only=True)
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT measure_id, month, lsoa21_code, age_band, count FROM mart_counts ORDER BY 1, 2, 3, 4")
            ).all()
        engine.dispose()
        return rows

    assert build(7, "a.duckdb") == build(7, "b.duckdb")
    assert build(7, "a.duckdb") != build(8, "c.duckdb")
