"""Partner extracts as they arrive: mapping files, workbooks, grid references and 2011 LSOA codes (issue 17)."""

from __future__ import annotations

import csv
import io
import math
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.conftest import drop_pg_schema, pg_schema_url, table_counts
from tests.helpers import (
    NEWPORT_IOW,
    POLICE_HEADER,
    PORTSMOUTH,
    SOUTHAMPTON,
    police_row,
    run_cli,
    to_grid,
    write_csv,
    write_workbook,
)
from vrp.data_access.engine import make_engine
from vrp.pipeline.csvfile import FileRefused
from vrp.pipeline.load import load_files
from vrp.pipeline.mapping import MappingError, grid_to_wgs84, read_mapping
from vrp.pipeline.sources.base import split_assignment
from vrp.pipeline.warehouse import init_warehouse
from vrp.pipeline.xlsx import XlsxStream

MAPPINGS = Path(__file__).resolve().parent.parent / "config" / "mappings"
POLICE_MAPPING = MAPPINGS / "police-workbook.toml"
HOSPITAL_MAPPING = MAPPINGS / "hospital-extract.toml"
WORKBOOK_HEADER = [
    "Crime Ref",
    "Date Recorded",
    "Date/Time of Offence",
    "HO Code",
    "Knife/Sharp Instrument",
    "Victim Age",
    "DA Flag",
    "Easting",
    "Northing",
]
# (ref, recorded, occurred, code, knife, age, domestic, place): one record, written once per form below.
RECORDS = [
    ("HC/24/0001", date(2024, 3, 15), datetime(2024, 3, 15, 23, 10), "8N", True, 19, False, SOUTHAMPTON),
    ("HC/24/0002", date(2024, 3, 2), datetime(2024, 3, 1, 22, 0), "8N", False, 34, True, PORTSMOUTH),
    ("HC/24/0003", date(2024, 4, 9), None, "10D", True, None, False, NEWPORT_IOW),
    ("HC/24/0004", date(2024, 4, 30), datetime(2024, 4, 28, 2, 45), "34B", True, 16, False, SOUTHAMPTON),
    ("HC/24/0005", date(2024, 5, 1), datetime(2024, 5, 1, 0, 5), "5D", False, 61, True, PORTSMOUTH),
    ("HC/24/0006", date(2024, 5, 12), datetime(2024, 5, 12, 17, 30), "ZZ", True, 22, False, SOUTHAMPTON),
]


def contract_csv(path: Path) -> Path:
    rows = []
    for ref, recorded, occurred, code, knife, age, domestic, where in RECORDS:
        rows.append(
            police_row(
                ref,
                recorded.isoformat(),
                code,
                "Y" if knife else "N",
                "" if age is None else str(age),
                "Y" if domestic else "N",
                where,
                occurred.strftime("%Y-%m-%dT%H:%M") if occurred else "",
            )
        )
    return write_csv(path, POLICE_HEADER, rows)


def partner_workbook(path: Path) -> Path:
    """The same records as the police system exports them: a "Read me" sheet first, its own headers, dates as
    Excel dates and as dd/mm/yyyy text, Yes/No and its own knife words, an age by formula, eastings/northings."""
    rows = [WORKBOOK_HEADER]
    for i, (ref, recorded, occurred, code, knife, age, domestic, where) in enumerate(RECORDS):
        easting, northing = to_grid(where)
        rows.append(
            [
                ref,
                recorded if i % 2 else recorded.strftime("%d/%m/%Y"),
                occurred if i % 2 or occurred is None else occurred.strftime("%d/%m/%Y %H:%M"),
                code,
                "Knife used" if knife else "No knife",
                (f"={age - 1}+1", age) if age is not None and i == 0 else age,
                "Yes" if domestic else "No",
                easting,
                northing,
            ]
        )
    readme = [["About this extract"], ["Crimes recorded, one row per crime. Restricted."]]
    return write_workbook(path, {"Read me": readme, "Crimes": rows})


@pytest.fixture
def two_warehouses(warehouse_url, settings, tmp_path):
    """Two empty warehouses (reference data only) on the backend under test."""
    schemas = []
    if warehouse_url.startswith("duckdb"):
        urls = [warehouse_url, f"duckdb:///{tmp_path / 'second.duckdb'}"]
    else:
        url, schema = pg_schema_url()
        urls, schemas = [warehouse_url, url], [schema]
    engines = [make_engine(u) for u in urls]
    for eng in engines:
        init_warehouse(eng, settings)
    yield engines
    for eng in engines:
        eng.dispose()
    for schema in schemas:
        drop_pg_schema(schema)


@pytest.fixture(scope="module")
def shared(base_settings, tmp_path_factory):
    """One DuckDB warehouse for the tests that load little or nothing (initialising one costs seconds)."""
    eng = make_engine(f"duckdb:///{tmp_path_factory.mktemp('mapping') / 'warehouse.duckdb'}")
    init_warehouse(eng, base_settings)
    yield eng
    eng.dispose()


@pytest.fixture
def load_shared(shared, base_settings, registry):
    def _load_it(source, path, mapping=None):
        return [_load(shared, base_settings, registry, source, path, mapping)]

    return _load_it


def _load(engine, settings, registry, source, path, mapping=None):
    return load_files(
        engine,
        source,
        [Path(path)],
        reference_dir=settings.reference_dir,
        registry=registry,
        sources_config=settings.sources_file,
        mapping=mapping,
    )[0]


def _read(engine, query: str) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(sa.text(query)).mappings().all())


def test_a_partner_workbook_through_its_mapping_gives_the_contract_csvs_marts(
    two_warehouses, settings, registry, tmp_path
):
    by_csv, by_workbook = two_warehouses
    mapping = read_mapping(POLICE_MAPPING)
    first = _load(by_csv, settings, registry, "police_records", contract_csv(tmp_path / "crimes.csv"))
    second = _load(
        by_workbook, settings, registry, "police_records", partner_workbook(tmp_path / "crimes.xlsx"), mapping
    )

    for result in (first, second):
        assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (6, 5, 1)
    marts = "SELECT * FROM mart_counts ORDER BY measure_id, month, lsoa21_code, age_band"
    expected = _read(by_csv, marts)
    assert len(expected) > 0
    pd.testing.assert_frame_equal(_read(by_workbook, marts), expected)
    facts = "SELECT * FROM fact_police_records ORDER BY crime_reference"
    a, b = _read(by_csv, facts), _read(by_workbook, facts)
    same = [c for c in a.columns if c not in ("longitude", "latitude")]
    pd.testing.assert_frame_equal(b[same], a[same])
    # Whole-metre grid references and the 2 m Helmert transformation: within 5 m of the contract's points.
    assert (abs(b["latitude"] - a["latitude"]) * 111_320).max() < 5
    assert (abs(b["longitude"] - a["longitude"]) * 111_320 * math.cos(math.radians(51))).max() < 5
    assert a.loc[a["crime_reference"] == "HC/24/0001", "victim_age"].item() == 19  # the formula's value
    quarantined = "SELECT line, reason FROM quarantine"
    pd.testing.assert_frame_equal(_read(by_workbook, quarantined), _read(by_csv, quarantined))
    assert _read(by_workbook, quarantined).to_dict("records") == [
        {"line": 7, "reason": "ho_offence_code: unknown Home Office offence code 'ZZ'"}
    ]
    audit = "SELECT file_name, mapping, rows_lsoa11_split FROM load_audit"
    assert _read(by_csv, audit).to_dict("records") == [
        {"file_name": "crimes.csv", "mapping": None, "rows_lsoa11_split": 0}
    ]
    assert _read(by_workbook, audit).to_dict("records") == [
        {"file_name": "crimes.xlsx", "mapping": mapping.label, "rows_lsoa11_split": 0}
    ]
    assert mapping.label.startswith("police-workbook.toml (sha256 ")


def _split_parent(settings) -> tuple[str, str, list[str]]:
    """A 2011 LSOA that split in 2021: its code, its district and its 2021 parts (from the reference lookups)."""
    lookups = Path(settings.reference_dir) / "lookups"
    parents = pd.read_csv(lookups / "lsoa21_lsoa11.csv", dtype=str)
    districts = pd.read_csv(lookups / "lsoa21_lad.csv", dtype=str).set_index("LSOA21CD")["LADCD"]
    code = parents.loc[parents["CHANGE"] == "split", "LSOA11CD"].iloc[0]
    parts = parents.loc[parents["LSOA11CD"] == code, "LSOA21CD"].tolist()
    return code, districts[parts[0]], parts


def test_hospital_extract_with_2011_lsoas_loads_through_its_mapping(shared, load_shared, settings, tmp_path):
    engine, load = shared, load_shared
    retired, its_district, parts = _split_parent(settings)
    assert retired not in parts and len(parts) >= 2
    unchanged = "E01017034"  # Portsmouth: the same code in 2011 and 2021
    header = ["Admission Month", "LSOA of Residence", "Age Group", "Gender", "Episodes", "Cause Code"]
    rows = [
        ["202403", retired, "18 to 24", "1", "3", "X99.1"],
        ["202403", retired, "25 and over", "2", "1-7", "X99"],
        ["202404", unchanged, "0 to 17", "1", "2", "X99.9"],
        ["202404", "E06000045", "Not known", "9", "0", ""],
        ["05/2024", "E99999999", "18 to 24", "1", "1", "X99"],
    ]
    path = write_csv(tmp_path / "hes_x99.csv", header, rows)
    result = load("admissions", path, read_mapping(HOSPITAL_MAPPING, "admissions"))[0]

    assert (result.rows_loaded, result.rows_rejected, result.rows_lsoa11_split) == (4, 1, 2)
    assert ", 2 placed in a district from a split 2011 LSOA (most common: " in result.summary()
    assert result.summary().endswith(f"; mapping {result.mapping}")
    assert result.mapping.startswith("hospital-extract.toml (sha256 ")
    facts = _read(engine, "SELECT * FROM fact_admissions ORDER BY month, area_code, age_band")
    split = facts[facts["area_code"] == retired]
    assert split[["area_level", "district_code"]].drop_duplicates().values.tolist() == [["district", its_district]]
    assert split["lsoa21_code"].isna().all()
    assert split["admissions"].iloc[0] == 3 and pd.isna(split["admissions"].iloc[1])
    assert split["suppressed_upstream"].tolist() == [False, True]
    kept = facts[facts["area_code"] == unchanged].iloc[0]
    assert (kept["area_level"], kept["lsoa21_code"], kept["age_band"], kept["sex"]) == ("lsoa", unchanged, "u18", "M")
    audit = _read(engine, "SELECT rows_lsoa11_split FROM load_audit WHERE file_name = 'hes_x99.csv'")
    assert audit["rows_lsoa11_split"].tolist() == [2]
    reason = _read(engine, "SELECT reason FROM quarantine")["reason"].item()
    assert reason == (
        "month: unparseable date '05/2024' (expected %Y%m, the mapping's month format); "
        "area_code: 'E99999999' is not a HIPS 2021 LSOA or district code (nor a 2011 LSOA)"
    )


def test_homicides_with_a_split_2011_lsoa_go_to_its_district(shared, load_shared, settings, tmp_path):
    engine, load = shared, load_shared
    retired, its_district, _ = _split_parent(settings)
    header = ["homicide_reference", "victim_number", "offence_date", "area_code", "victim_age", "victim_sex"]
    header += ["domestic", "method", "location_type"]
    path = write_csv(
        tmp_path / "homicides.csv",
        header,
        [["OP-ALDER", "1", "2024-02-03", retired, "17", "M", "N", "sharp_instrument", "street_public"]],
    )
    result = load("homicides", path)[0]
    assert (result.rows_loaded, result.rows_lsoa11_split) == (1, 1)
    row = _read(engine, "SELECT area_level, lsoa21_code, district_code FROM fact_homicides").iloc[0]
    assert (row["area_level"], row["lsoa21_code"], row["district_code"]) == ("district", None, its_district)


def test_the_split_rule_takes_the_one_district_else_the_most_residents():
    parts = pd.DataFrame(
        [
            ("E01000001", "E07000084", 1500),  # both parts in Basingstoke and Deane
            ("E01000001", "E07000084", 1600),
            ("E01000002", "E07000085", 900),  # parts either side of a boundary: East Hampshire has more people
            ("E01000002", "E07000085", 800),
            ("E01000002", "E07000089", 1200),
        ],
        columns=["lsoa11_code", "district_code", "census_population"],
    )
    assert split_assignment(parts) == {"E01000001": "E07000084", "E01000002": "E07000085"}


def test_grid_references_are_transformed_offline_to_within_metres():
    # Ordnance Survey's worked example (Caister water tower): E 651409.903 N 313177.270 is ETRS89 (WGS84 to
    # within a metre) 52° 39' 28.8282" N, 1° 42' 57.8663" E by OSTN15. PROJ's bundled Helmert is within 5 m.
    lon, lat = grid_to_wgs84(pd.Series(["651409.903", "nowhere", ""]), pd.Series(["313177.270", "1", ""]))
    north = (float(lat[0]) - (52 + 39 / 60 + 28.8282 / 3600)) * 111_320
    east = (float(lon[0]) - (1 + 42 / 60 + 57.8663 / 3600)) * 111_320 * math.cos(math.radians(52.66))
    assert math.hypot(north, east) < 5
    assert lon[1:].tolist() == ["nowhere", ""] and lat[1:].tolist() == ["1", ""]  # for the contract's check


def test_workbook_cells_read_as_contract_text(tmp_path):
    header = ["recorded_date", "occurred_datetime", "victim_age", "knife_flag", "crime_reference"]
    path = write_workbook(
        tmp_path / "cells.xlsx",
        {
            "Read me": [["Nothing to load here"]],
            "Data": [
                header,
                [date(2024, 3, 15), datetime(2024, 3, 15, 23, 10), ("=20-1", 19), True, 12345],
                [None, None, None, None, None],  # a blank row is skipped, as in a CSV
                ["15/03/2024", "", 33.0, "No", "A-1"],
            ],
        },
    )
    stream = XlsxStream(
        path,
        ["recorded_date", "victim_age", "knife_flag", "crime_reference"],
        ["occurred_datetime"],
        kinds={"recorded_date": "date", "occurred_datetime": "datetime"},
    )
    assert stream.sheet_name == "Data"  # the first sheet whose header row has the columns
    rows = next(stream.chunks())
    assert rows.rows[["_line", *header]].values.tolist() == [
        [2, "2024-03-15", "2024-03-15T23:10:00", "19", "Y", "12345"],
        [4, "15/03/2024", "", "33", "No", "A-1"],
    ]
    assert rows.rows["_raw"].tolist()[0] == "2024-03-15,2024-03-15 23:10,19,Y,12345"


# (what the example mapping has, what the broken one has instead, the message)
BROKEN = {
    "a header the file lacks": (
        'crime_reference = "Crime Ref"',
        'crime_reference = "Crime Reference"',
        "crimes.xlsx sheet 'Crimes': missing column 'Crime Reference' (crime_reference in broken.toml) (found: "
        "Crime Ref, Date Recorded,",
    ),
    "an unknown contract column": (
        'crime_reference = "Crime Ref"',
        'crime_ref = "Crime Ref"',
        "broken.toml: [columns] crime_ref: not a column of the police-records contract (its columns: "
        "crime_reference, recorded_date,",
    ),
    "a bad date pattern": (
        'date_format = "%d/%m/%Y"',
        'date_format = "%d/%m"',
        "broken.toml: [file] date_format = '%d/%m': a bad pattern (it must read %d, %m and %Y back exactly)",
    ),
    "values for an unknown column": (
        "[values.knife_flag]",
        "[values.knife]",
        "broken.toml: [values.knife] knife: not a column of the police-records contract",
    ),
    "an unknown sheet": (
        'sheet = "Crimes"',
        'sheet = "Offences"',
        "crimes.xlsx: no sheet 'Offences' (sheets: Read me, Crimes)",
    ),
    "an unknown coordinate system": (
        'crs = "EPSG:27700"',
        'crs = "EPSG:3857"',
        "broken.toml: [file] crs = 'EPSG:3857': use EPSG:4326 (longitude/latitude) or EPSG:27700",
    ),
    "not TOML": ('sheet = "Crimes"', 'sheet = "Crimes', "broken.toml: not a valid TOML mapping ("),
}


@pytest.mark.parametrize("problem", BROKEN)
def test_a_broken_mapping_is_refused_in_one_line_and_nothing_changes(problem, capsys, shared, tmp_path):
    engine = shared
    good, bad, message = BROKEN[problem]
    text = POLICE_MAPPING.read_text(encoding="utf-8")
    assert good in text
    mapping = tmp_path / "broken.toml"
    mapping.write_text(text.replace(good, bad, 1), encoding="utf-8")
    workbook = partner_workbook(tmp_path / "crimes.xlsx")
    before = table_counts(engine)
    args = ["ingest", "police-records", str(workbook), "--mapping", str(mapping)]
    code, out, err = run_cli(capsys, *args, "--warehouse", engine.url.render_as_string(hide_password=False))
    assert (code, out) == (1, "")
    assert len(err.splitlines()) == 1, err
    assert message in err
    assert table_counts(engine) == before


def test_mapping_check_previews_the_first_rows_as_they_will_load(capsys, shared, tmp_path):
    engine = shared
    workbook = partner_workbook(tmp_path / "crimes.xlsx")
    before = table_counts(engine)
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()  # DuckDB: the check opens the file read-only, which a read-write connection here would block
    code, out, err = run_cli(
        capsys, "mapping", "check", str(POLICE_MAPPING), str(workbook), "--rows", "6", "--warehouse", url
    )
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("police-workbook.toml: OK for police-records; crimes.xlsx, sheet 'Crimes': ")
    assert "crime_reference <- 'Crime Ref'" in lines[0] and "easting <- 'Easting'" in lines[0]
    assert lines[1] == "first 6 rows as they will load (nothing loaded):"
    table = lines[2:]
    assert len(table) == 7
    assert all(v in table[1] for v in ("HC/24/0001", "2024-03-15", "2024-03-15 23:10:00", "E01035444"))
    assert table[1].endswith(" ok")
    assert "HC/24/0006" in table[6] and table[6].endswith("ho_offence_code: unknown Home Office offence code 'ZZ'")
    assert table_counts(engine) == before


def test_a_mapping_for_another_source_or_a_sheet_for_a_csv_is_refused(load_shared, tmp_path):
    load = load_shared
    with pytest.raises(
        MappingError, match="^hospital-extract.toml: this mapping is for admissions, not police-records$"
    ):
        read_mapping(HOSPITAL_MAPPING, "police_records")
    with pytest.raises(FileRefused, match="sheet and header_row apply to spreadsheets, not crimes.csv"):
        load("police_records", contract_csv(tmp_path / "crimes.csv"), read_mapping(POLICE_MAPPING))


def test_every_example_mapping_reads_and_the_homicide_one_loads(load_shared, shared, tmp_path):
    examples = {p.name: read_mapping(p).source for p in sorted(MAPPINGS.glob("*.toml"))}
    assert examples == {
        "homicide-index.toml": "homicides",
        "hospital-extract.toml": "admissions",
        "police-workbook.toml": "police_records",
    }
    header = ["Operation", "Victim No", "Date of Offence", "LSOA", "Victim Age", "Victim Sex", "Domestic"]
    header += ["Method of Killing", "Location"]
    row = ["OP-BIRCH", "1", "03/02/2024", "E01017034", "", "F", "Yes", "Hitting, kicking etc", "Dwelling"]
    path = write_csv(tmp_path / "homicide_victims.csv", header, [row])
    result = load_shared("homicides", path, read_mapping(MAPPINGS / "homicide-index.toml"))[0]
    assert (result.rows_loaded, result.rows_rejected) == (1, 0)
    got = _read(shared, "SELECT * FROM fact_homicides WHERE homicide_reference = 'OP-BIRCH'").iloc[0]
    assert (got["offence_date"], got["method"], got["location_type"], got["domestic"]) == (
        date(2024, 2, 3),
        "hitting_kicking",
        "dwelling",
        True,
    )


def test_reasons_name_what_the_partner_gave(tmp_path):
    mapping = read_mapping(POLICE_MAPPING)
    reasons = pd.Series(
        [
            "longitude is missing",
            "latitude: not a number 'N/K'",
            "recorded_date: unparseable date '31/02/2024' (expected YYYY-MM-DD)",
            "",
        ]
    )
    assert mapping.explain(reasons).tolist() == [
        "easting is missing",
        "northing: not a number 'N/K'",
        "recorded_date: unparseable date '31/02/2024' (expected %d/%m/%Y, the mapping's date format)",
        "",
    ]
    # A date written with a midnight time, and a month as its first day, are patterns a mapping may give.
    path = tmp_path / "dated.toml"
    path.write_text('[file]\nkind = "admissions"\nmonth_format = "%d/%m/%Y %H:%M"\n', encoding="utf-8")
    dated = read_mapping(path)
    frame = pd.DataFrame({"month": ["01/03/2024 00:00", "2024-04", "March"]})
    assert dated.convert(frame)["month"].tolist() == ["2024-03", "2024-04", "March"]


def test_an_older_warehouse_gains_the_audit_columns(shared):
    from vrp.pipeline.load import upgrade_load_audit

    columns = "SELECT column_name FROM information_schema.columns WHERE table_name = 'load_audit'"
    with shared.begin() as conn:
        conn.execute(sa.text("ALTER TABLE load_audit DROP COLUMN mapping"))
        conn.execute(sa.text("ALTER TABLE load_audit DROP COLUMN rows_lsoa11_split"))
        assert "mapping" not in conn.execute(sa.text(columns)).scalars().all()
        upgrade_load_audit(conn)
        upgrade_load_audit(conn)  # idempotent
        assert {"mapping", "rows_lsoa11_split"} <= set(conn.execute(sa.text(columns)).scalars().all())


def test_vrp_ingest_loads_a_workbook_through_its_mapping(capsys, shared, tmp_path, monkeypatch):
    workbook = partner_workbook(tmp_path / "cli_crimes.xlsx")
    url = shared.url.render_as_string(hide_password=False)
    shared.dispose()
    code, out, err = run_cli(
        capsys, "ingest", "police-records", str(workbook), "--mapping", str(POLICE_MAPPING), "--warehouse", url
    )
    assert (code, err) == (0, "")
    assert out.startswith("cli_crimes.xlsx: 6 rows read, 5 loaded, 0 out of area, 1 quarantined, 0 duplicates ignored")
    assert (
        "(most common: 1 x ho_offence_code: unknown Home Office offence code); mapping police-workbook.toml (sha256 "
        in out
    )
    # The load audit says which mapping the load used (the Data Tracker's record of how each file arrived).
    monkeypatch.setenv("VRP_AUDIENCE", "partner")
    code, out, _ = run_cli(capsys, "loads", "--warehouse", url, "--format", "csv")
    audit = {r["file"]: r for r in csv.DictReader(io.StringIO(out))}
    assert code == 0 and audit["cli_crimes.xlsx"]["mapping"].startswith("police-workbook.toml")
