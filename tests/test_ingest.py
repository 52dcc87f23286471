"""Loading files into the warehouse, on DuckDB and on PostgreSQL: counts intact, bad rows quarantined with file,
line and reason, refused files leave the warehouse exactly as it was, and loading twice changes nothing."""

import csv
from collections import Counter

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.conftest import table_counts
from tests.helpers import AT_SEA, LONDON, POLICE_HEADER, PORTSMOUTH, police_row, write_csv
from vrp.data_access import tables as t
from vrp.data_access.engine import data_version
from vrp.pipeline.csvfile import FileRefused

POLICE_UK_FEB_2022 = "police_uk/2022-02-hampshire-street.csv"


def _quarantine(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(sa.select(t.quarantine).order_by(t.quarantine.c.line), conn)


def _scalar(engine, query):
    with engine.connect() as conn:
        return conn.execute(query).scalar()


def test_police_uk_month_loads_with_every_crime_type_intact(engine, load, settings):
    path = settings.reference_dir / POLICE_UK_FEB_2022
    with open(path, encoding="utf-8-sig") as fh:
        expected = Counter(row["Crime type"] for row in csv.DictReader(fh))
    [result] = load("police_uk", path)
    assert result.rows_read == sum(expected.values()) == 14_848
    assert result.rows_loaded + result.rows_out_of_area == 14_848
    assert result.rows_rejected == 0
    assert result.rows_out_of_area > 0  # a few points fall in neighbouring districts
    with engine.connect() as conn:
        stored = dict(
            conn.execute(
                sa.select(t.fact_police_uk.c.crime_type, sa.func.count()).group_by(t.fact_police_uk.c.crime_type)
            ).all()
        )
        asb_keys = conn.execute(sa.select(sa.func.count()).where(t.fact_police_uk.c.crime_id.is_(None))).scalar()
        in_mart = conn.execute(
            sa.select(sa.func.sum(t.mart_counts.c.count)).where(
                t.mart_counts.c.measure_id == "police_uk_violence_and_sexual_offences"
            )
        ).scalar()
        outside = conn.execute(
            sa.select(sa.func.count()).where(
                t.fact_police_uk.c.crime_type == "Violence and sexual offences",
                t.fact_police_uk.c.out_of_area,
            )
        ).scalar()
    assert stored == dict(expected)
    assert asb_keys == expected["Anti-social behaviour"] == 1638
    assert in_mart + outside == 6428


def test_loading_the_same_file_twice_changes_nothing(engine, load, settings):
    path = settings.reference_dir / POLICE_UK_FEB_2022
    load("police_uk", path)
    before, version = table_counts(engine), data_version(engine)
    [again] = load("police_uk", path)
    assert again.status.startswith("already loaded")
    assert table_counts(engine) == before
    assert data_version(engine) == version


def test_police_uk_repeats_by_crime_id_are_ignored(engine, load, settings, tmp_path):
    source = settings.reference_dir / "police_uk/2019-10-hampshire-street-sample100.csv"
    with open(source, encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    first = write_csv(tmp_path / "first.csv", header, body[:60])
    # Repeated within the file too (crimes only: two identical ASB rows at one map point are two incidents).
    repeats = [r for r in body[40:60] if r[0]][:5]
    overlap = write_csv(tmp_path / "overlap.csv", header, body[40:] + repeats)
    load("police_uk", first)
    [result] = load("police_uk", overlap)
    # Rows 40-59 are in both files; an ASB row (no Crime ID) repeats by its content.
    assert result.rows_duplicate == 20 + 5
    with engine.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(t.fact_police_uk)).scalar()
    assert stored == 100


def test_bad_partner_rows_are_quarantined_with_line_and_reason(engine, load, tmp_path):
    rows = [
        police_row("GOOD1"),
        police_row("BADDATE1", date="15/03/2024"),
        police_row("BADDATE2", date="2024/03/15"),
        police_row("BADDATE3", date="March 15 2024"),
        police_row("TEXTAGE", age="nineteen"),
        police_row("OFFENCE", code="ZZ9"),
        police_row("SEA", where=AT_SEA),
        police_row("LONDON", where=LONDON),
        police_row("OLD", age="130"),
        police_row("GOOD1", where=PORTSMOUTH),  # duplicate key
        police_row("GOOD2", where=PORTSMOUTH, age="", occurred=""),
    ]
    path = write_csv(tmp_path / "extract.csv", POLICE_HEADER, rows)
    # Mostly bad rows on purpose: a share this high is refused by default (tests/test_ingest_calm.py).
    [result] = load("police_records", path, max_rejected_share=1)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (11, 2, 9)
    q = _quarantine(engine)
    assert list(q["line"]) == list(range(3, 12))
    assert set(q["file_name"]) == {"extract.csv"}
    reasons = dict(zip(q["line"], q["reason"], strict=True))
    for line in (3, 4, 5):
        assert "recorded_date: unparseable date" in reasons[line]
    assert "victim_age: not a whole number 'nineteen'" in reasons[6]
    assert "unknown Home Office offence code 'ZZ9'" in reasons[7]
    assert "coordinates outside HIPS" in reasons[8] and "coordinates outside HIPS" in reasons[9]
    assert "victim_age: 130 is out of range" in reasons[10]
    assert "duplicate key GOOD1 (first at line 2)" in reasons[11]
    assert q.loc[q["line"] == 4, "raw"].iloc[0].startswith("BADDATE2,2024/03/15,")
    with engine.connect() as conn:
        loaded = conn.execute(
            sa.select(
                t.fact_police_records.c.crime_reference,
                t.fact_police_records.c.district_code,
                t.fact_police_records.c.age_band,
            ).order_by(t.fact_police_records.c.crime_reference)
        ).all()
    assert loaded == [("GOOD1", "E06000045", "18_24"), ("GOOD2", "E06000044", "unknown")]


def test_a_key_already_in_the_warehouse_is_quarantined(engine, load, tmp_path):
    load("police_records", write_csv(tmp_path / "a.csv", POLICE_HEADER, [police_row("K1")]))
    [result] = load(
        "police_records",
        write_csv(tmp_path / "b.csv", POLICE_HEADER, [police_row("K1", date="2024-04-01"), police_row("K2")]),
    )
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    assert "already in the warehouse" in _quarantine(engine)["reason"].iloc[0]


@pytest.mark.parametrize(
    "make_bad",
    [
        lambda p: write_csv(p, [c for c in POLICE_HEADER if c != "latitude"], [police_row("X")[:-1]]),
        lambda p: (p.write_bytes(b""), p)[1],
        lambda p: write_csv(p, POLICE_HEADER, [police_row("X")], delimiter=";"),
        lambda p: (p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), p)[1],
    ],
    ids=["missing-column", "empty", "semicolons", "binary"],
)
def test_a_refused_file_leaves_the_warehouse_exactly_as_it_was(engine, load, tmp_path, make_bad):
    load("police_records", write_csv(tmp_path / "ok.csv", POLICE_HEADER, [police_row("OK")]))
    before, version = table_counts(engine), data_version(engine)
    with pytest.raises(FileRefused):
        load("police_records", make_bad(tmp_path / "bad.csv"))
    assert table_counts(engine) == before
    assert data_version(engine) == version


def test_a_failure_mid_load_rolls_the_whole_file_back(engine, load, tmp_path, monkeypatch):
    import vrp.pipeline.load as loader

    before = table_counts(engine)
    real = loader.bulk_insert

    def fail_on_quarantine(conn, table, frame):
        if table.name == "quarantine":
            raise RuntimeError("disk full")
        return real(conn, table, frame)

    monkeypatch.setattr(loader, "bulk_insert", fail_on_quarantine)
    with pytest.raises(RuntimeError, match="disk full"):
        load("police_records", write_csv(tmp_path / "x.csv", POLICE_HEADER, [police_row("A"), police_row("B")]))
    assert table_counts(engine) == before


def test_wrong_field_counts_and_huge_lines_are_quarantined_not_fatal(engine, load, tmp_path):
    huge = police_row("HUGE")
    huge[2] = "9" * 10_000_000
    path = write_csv(tmp_path / "x.csv", POLICE_HEADER, [police_row("A"), huge, ["short", "row"]])
    [result] = load("police_records", path, max_rejected_share=1)
    assert (result.rows_loaded, result.rows_rejected) == (1, 2)
    q = _quarantine(engine)
    assert "longer than 1000 characters" in q.loc[q.line == 3, "reason"].iloc[0]
    assert len(q.loc[q.line == 3, "raw"].iloc[0]) > 10_000_000  # the row is kept whole: nothing is lost
    assert q.loc[q.line == 4, "reason"].iloc[0] == "expected 9 fields, found 2"


def test_admissions_keep_upstream_suppression(engine, load, tmp_path):
    header = ["month", "area_code", "age_band", "sex", "admissions", "diagnosis_code"]
    rows = [
        ["2024-01", "E06000045", "18-24", "M", "9", "X99"],
        ["2024-01", "E06000045", "0-17", "M", "*", "X99"],
        ["2024-01", "E01017034", "25+", "F", "2", "X99.0"],
        ["2024-01", "E99999999", "25+", "F", "2", "X99"],
        ["2024-13", "E06000045", "25+", "M", "1", "X99"],
        ["2024-02", "E06000045", "25+", "M", "-3", "X99"],
        ["2024-02", "E06000045", "40-49", "M", "3", "W50"],
    ]
    [result] = load("admissions", write_csv(tmp_path / "x99.csv", header, rows), max_rejected_share=1)
    assert (result.rows_loaded, result.rows_rejected) == (3, 4)
    reasons = list(_quarantine(engine)["reason"])
    assert "not a HIPS 2021 LSOA or district code" in reasons[0]
    assert "month: unparseable date '2024-13'" in reasons[1]
    assert "out of range" in reasons[2]
    assert "unknown age band" in reasons[3] and "is not ICD-10 X99" in reasons[3]
    with engine.connect() as conn:
        mart = conn.execute(
            sa.select(sa.func.sum(t.mart_counts.c.count), sa.func.sum(t.mart_counts.c.suppressed_cells)).where(
                t.mart_counts.c.measure_id == "sharp_object_admissions"
            )
        ).one()
    assert tuple(mart) == (11, 1)


def test_homicides_load_per_victim(engine, load, tmp_path):
    header = [
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
    rows = [
        ["H1", "1", "2024-05-02", "E01035444", "19", "M", "N", "sharp_instrument", "street_public"],
        ["H1", "2", "2024-05-02", "E01035444", "22", "M", "N", "sharp_instrument", "street_public"],
        ["H2", "1", "2024-06-10", "E07000084", "44", "F", "Y", "strangulation", "dwelling"],
        ["H3", "1", "2024-06-11", "E07000084", "44", "F", "Y", "poisoned", "dwelling"],
    ]
    [result] = load("homicides", write_csv(tmp_path / "h.csv", header, rows))
    assert (result.rows_loaded, result.rows_rejected) == (3, 1)
    with engine.connect() as conn:
        counts = dict(
            conn.execute(
                sa.select(t.mart_counts.c.measure_id, sa.func.sum(t.mart_counts.c.count))
                .where(t.mart_counts.c.measure_id.like("homicide%"))
                .group_by(t.mart_counts.c.measure_id)
            ).all()
        )
    assert counts == {"homicide": 3, "homicide_u25_non_domestic": 2}


def test_ons_knife_series_loads_as_real_data(engine, load, settings):
    [result] = load("ons_knife", settings.reference_dir / "national/knife_offences_by_force_quarterly_2008_2019.csv")
    assert result.rows_rejected == 0 and result.rows_loaded == result.rows_read
    with engine.connect() as conn:
        hampshire_2012 = conn.execute(
            sa.select(sa.func.sum(t.mart_force_counts.c.count)).where(
                t.mart_force_counts.c.force_name == "Hampshire",
                t.mart_force_counts.c.financial_year == "2012-13",
            )
        ).scalar()
        registry = conn.execute(
            sa.select(t.source_registry.c.synthetic).where(t.source_registry.c.source_id == "ons_knife")
        ).scalar()
    assert hampshire_2012 == 365  # the published ONS figure (data README)
    assert registry == "real"
