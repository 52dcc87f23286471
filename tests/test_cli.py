"""The vrp command: exact output formats, the warehouse option on every subcommand, one-line errors."""

import csv
import io
from datetime import date

import pytest
import sqlalchemy as sa

from tests.helpers import run_cli
from vrp.data_access.engine import make_engine


@pytest.fixture(scope="module")
def demo_url(demo_warehouse):
    return demo_warehouse.warehouse


def _pub_cube(url: str, level: str, area: str, period_type: str) -> dict[tuple[str, str], str]:
    """An independent reference: the published cells (all ages) of one area, read from pub_cube by SQL, as the
    CLI writes them: {(measure, start YYYY-MM): count, or "*" where hidden}."""
    engine = make_engine(url, read_only=True)
    with engine.connect() as conn:
        found = conn.execute(
            sa.text(
                "SELECT measure_id, period_start, count, suppressed FROM pub_cube WHERE area_level = :level "
                "AND area_code = :area AND period_type = :kind AND age = 'all'"
            ),
            {"level": level, "area": area, "kind": period_type},
        ).all()
    engine.dispose()
    return {(m, f"{s:%Y-%m}"): "*" if hidden else str(n) for m, s, n, hidden in found}


def _fy_start(label: str) -> str:
    return f"{label[:4]}-04"


def test_public_summary_by_financial_year_is_the_published_cells(capsys, demo_url):
    code, out, err = run_cli(capsys, "summary", "--warehouse", demo_url, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert out.splitlines()[0] == "measure,period,district,count"
    assert {r["district"] for r in rows} == {"HIPS"}
    printed = {(r["measure"], _fy_start(r["period"])): r["count"] for r in rows}
    reference = _pub_cube(demo_url, "hips", "HIPS", "fy")
    reference |= {k: v for k, v in _pub_cube(demo_url, "force", "Hampshire", "fy").items() if k[0] == "ons_knife_crime"}
    assert printed == reference
    # Whole financial years only: April to September 2026 is a part-year, for partners.
    knife = [r["period"] for r in rows if r["measure"] == "knife_enabled_sv"]
    assert knife == ["2021-22", "2022-23", "2023-24", "2024-25", "2025-26"]
    ons = {r["period"]: int(r["count"]) for r in rows if r["measure"] == "ons_knife_crime"}
    assert ons["2012-13"] == 365
    # police.uk measures are published by month only in the demo: named on stderr, in one line.
    assert err.startswith("vrp: note: not published by fy for HIPS: police_uk_") and len(err.splitlines()) == 1


def test_partner_summary_keeps_the_part_year(capsys, demo_url, monkeypatch):
    monkeypatch.setenv("VRP_AUDIENCE", "partner")
    code, out, _ = run_cli(
        capsys, "summary", "--warehouse", demo_url, "--format", "csv", "--measure", "knife_enabled_sv"
    )
    assert code == 0
    knife = [r["period"] for r in csv.DictReader(io.StringIO(out))]
    assert knife == ["2021-22", "2022-23", "2023-24", "2024-25", "2025-26", "2026-27"]


SERIOUS_VIOLENCE_SQL = (
    "SELECT COUNT(*) FROM fact_police_records f WHERE f.district_code IN :districts "
    "AND f.recorded_month BETWEEN :start AND :end AND (f.ho_offence_code IN "
    "('1','4.1','4.2','4.10','2','4.3','4.4','4.6','4.7','4.8','4.9','37.1','5D','5E','34A','34B','10A',"
    "'10B','10C','10D','81','90','62A','66R') OR (f.ho_offence_code IN ('8N','8P','8S') AND f.knife_flag))"
)


def _records(url: str, districts: tuple[str, ...], start: date, end: date) -> int:
    engine = make_engine(url, read_only=True)
    query = sa.text(SERIOUS_VIOLENCE_SQL).bindparams(sa.bindparam("districts", expanding=True))
    with engine.connect() as conn:
        n = conn.execute(query, {"districts": list(districts), "start": start, "end": end}).scalar()
    engine.dispose()
    return n


def test_public_summary_by_month_for_a_district_is_the_published_cells(capsys, demo_url):
    code, out, _ = run_cli(
        capsys,
        *("summary", "--warehouse", demo_url, "--by", "month", "--district", "e06000045"),
        *("--measure", "serious_violence", "--format", "csv"),
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["period"] == "2021-04" and {r["district"] for r in rows} == {"E06000045"}
    reference = _pub_cube(demo_url, "district", "E06000045", "month")
    assert {(r["measure"], r["period"]): r["count"] for r in rows} == {
        k: v for k, v in reference.items() if k[0] == "serious_violence"
    }
    # The published cell is the true count here (serious violence hides nothing at district months in the demo).
    july = date(2023, 7, 1)
    assert int({r["period"]: r["count"] for r in rows}["2023-07"]) == _records(demo_url, ("E06000045",), july, july)


def test_partner_summary_sums_districts_over_a_window_like_sql(capsys, demo_url, monkeypatch):
    monkeypatch.setenv("VRP_AUDIENCE", "partner")
    code, out, _ = run_cli(
        capsys,
        *("summary", "--warehouse", demo_url, "--district", "E06000045", "--district", "E06000044"),
        *("--start", "2023-05", "--end", "2024-02", "--measure", "serious_violence", "--format", "csv"),
    )
    assert code == 0
    rows = {r["period"]: r for r in csv.DictReader(io.StringIO(out))}
    assert set(rows) == {"2023-24"} and rows["2023-24"]["district"] == "E06000044+E06000045"
    expected = _records(demo_url, ("E06000044", "E06000045"), date(2023, 5, 1), date(2024, 2, 1))
    assert int(rows["2023-24"]["count"]) == expected


@pytest.mark.parametrize(
    "args, says",
    [
        (["summary", "--district", "E06000045", "--district", "E06000044"], "one district at a time"),
        (["summary", "--start", "2023-05", "--end", "2024-02"], "a free window of months"),
        (["summary", "--by", "month", "--measure", "homicide"], "financial years, rolling 12 months only"),
        (["loads"], "The load audit is shown to partners only"),
        (["quarantine"], "Quarantined rows is shown to partners only"),
    ],
)
def test_public_refusals_are_one_line_naming_the_partner_audience(capsys, demo_url, args, says):
    code, out, err = run_cli(capsys, *args, "--warehouse", demo_url)
    assert code == 1 and out == ""
    assert err.startswith("vrp: error: ") and says in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    if args[0] != "summary" or "--measure" not in args:
        assert "VRP_AUDIENCE=partner" in err


def test_loads_lists_one_row_per_file_for_partners(capsys, demo_url, monkeypatch):
    monkeypatch.setenv("VRP_AUDIENCE", "partner")
    code, out, _ = run_cli(capsys, "loads", "--warehouse", demo_url, "--format", "csv")
    assert code == 0
    assert out.splitlines()[0] == (
        "file,sha256,rows_read,rows_loaded,rows_out_of_area,rows_rejected,rows_lsoa11_split,mapping,loaded_at"
    )
    files = [r["file"] for r in csv.DictReader(io.StringIO(out))]
    assert "2022-02-hampshire-street.csv" in files and len(files) == 5


def test_sources_say_what_is_synthetic(capsys, demo_url):
    code, out, _ = run_cli(capsys, "sources", "--warehouse", demo_url, "--format", "csv")
    rows = {r["source"]: r for r in csv.DictReader(io.StringIO(out))}
    assert code == 0
    assert rows["police_records"]["data"] == "synthetic" and rows["police_uk"]["data"] == "real"
    assert rows["police_records"]["coverage_end"] == "2026-09-01"
    assert "rows" not in rows["police_records"]  # a total over the coverage, less published years, is a part-year


def test_sources_give_row_counts_to_partners(capsys, demo_url, monkeypatch):
    monkeypatch.setenv("VRP_AUDIENCE", "partner")
    code, out, _ = run_cli(capsys, "sources", "--warehouse", demo_url, "--format", "csv")
    rows = {r["source"]: r for r in csv.DictReader(io.StringIO(out))}
    assert code == 0
    engine = make_engine(demo_url, read_only=True)
    with engine.connect() as conn:
        n = conn.execute(sa.text("SELECT COUNT(*) FROM fact_police_records")).scalar()
    engine.dispose()
    assert int(rows["police_records"]["rows"]) == n


def test_ingest_on_each_backend_with_the_warehouse_option(capsys, warehouse_url, settings, tmp_path):
    from tests.helpers import POLICE_HEADER, police_row, write_csv

    assert run_cli(capsys, "init", "--warehouse", warehouse_url)[0] == 0
    path = write_csv(tmp_path / "r.csv", POLICE_HEADER, [police_row("C1"), police_row("C2", date="31/12/2024")])
    code, out, _ = run_cli(capsys, "ingest", "police-records", "--warehouse", warehouse_url, str(path))
    assert code == 0 and "1 loaded" in out and "1 quarantined" in out
    code, out, _ = run_cli(
        capsys,
        "ingest",
        "police-uk",
        "--warehouse",
        warehouse_url,
        str(settings.reference_dir / "police_uk/2019-10-hampshire-street-sample100.csv"),
    )
    assert code == 0 and "100 rows read" in out
    code, out, _ = run_cli(
        capsys,
        "summary",
        "--warehouse",
        warehouse_url,
        "--by",
        "month",
        "--format",
        "csv",
        "--measure",
        "police_uk_violence_and_sexual_offences",
    )
    assert code == 0 and "police_uk_violence_and_sexual_offences,2019-10,HIPS," in out


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["ingest", "police-records", "--warehouse", "duckdb:///{tmp}/w.duckdb", "{tmp}/missing.csv"],
            "no such file",
        ),
        (
            ["summary", "--warehouse", "postgresql+psycopg://nobody@127.0.0.1:9/none"],
            "cannot reach the warehouse",
        ),
        (["summary", "--warehouse", "mysql://x@y/z"], "unsupported warehouse"),
        (["summary", "--warehouse", "duckdb:///{tmp}/absent.duckdb"], "no warehouse at"),
        (["summary", "--by", "week"], "Invalid value for '--by'"),
        (["build-demo", "--scale", "-1"], "Invalid value for '--scale'"),
        (
            ["summary", "--warehouse", "duckdb:///{tmp}/w.duckdb", "--district", "E99999999"],
            "unknown district",
        ),
    ],
)
def test_errors_are_one_line_and_non_zero(capsys, tmp_path, demo_warehouse, args, message):
    if any("w.duckdb" in a for a in args):
        assert run_cli(capsys, "init", "--warehouse", f"duckdb:///{tmp_path}/w.duckdb")[0] == 0
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, _, err = run_cli(capsys, *args)
    assert code != 0
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
