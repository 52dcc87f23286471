"""The vrp command: exact output formats, the warehouse option on every subcommand, one-line errors."""

import csv
import io

import pytest
import sqlalchemy as sa

from vrp.cli import main
from vrp.data_access.engine import make_engine


def run(capsys, *args) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def demo_url(demo_warehouse):
    return demo_warehouse.warehouse


def test_summary_csv_by_financial_year(capsys, demo_url):
    code, out, _ = run(capsys, "summary", "--warehouse", demo_url, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert out.splitlines()[0] == "measure,period,district,count"
    assert {r["district"] for r in rows} == {"HIPS"}
    knife = {r["period"]: r["count"] for r in rows if r["measure"] == "knife_enabled_sv"}
    assert list(knife) == ["2021-22", "2022-23", "2023-24", "2024-25", "2025-26", "2026-27"]
    ons = {r["period"]: int(r["count"]) for r in rows if r["measure"] == "ons_knife_crime"}
    assert ons["2012-13"] == 365


def test_summary_by_month_for_a_district_matches_sql(capsys, demo_url):
    code, out, _ = run(
        capsys,
        "summary",
        "--warehouse",
        demo_url,
        "--by",
        "month",
        "--district",
        "E06000045",
        "--measure",
        "serious_violence",
        "--format",
        "csv",
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["period"] == "2021-04" and {r["district"] for r in rows} == {"E06000045"}
    engine = make_engine(demo_url, read_only=True)
    with engine.connect() as conn:
        direct = conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM fact_police_records f WHERE f.district_code = 'E06000045' "
                "AND f.recorded_month = DATE '2023-07-01' AND (f.ho_offence_code IN "
                "('1','4.1','4.2','4.10','2','4.3','4.4','4.6','4.7','4.8','4.9','37.1','5D','5E','34A','34B','10A',"
                "'10B','10C','10D','81','90','62A','66R') OR (f.ho_offence_code IN ('8N','8P','8S') AND f.knife_flag))"
            )
        ).scalar()
    engine.dispose()
    assert int({r["period"]: r["count"] for r in rows}["2023-07"]) == direct


def test_loads_lists_one_row_per_file(capsys, demo_url):
    code, out, _ = run(capsys, "loads", "--warehouse", demo_url, "--format", "csv")
    assert code == 0
    assert out.splitlines()[0] == "file,sha256,rows_read,rows_loaded,rows_out_of_area,rows_rejected,loaded_at"
    files = [r["file"] for r in csv.DictReader(io.StringIO(out))]
    assert "2022-02-hampshire-street.csv" in files and len(files) == 5


def test_sources_say_what_is_synthetic(capsys, demo_url):
    code, out, _ = run(capsys, "sources", "--warehouse", demo_url, "--format", "csv")
    rows = {r["source"]: r for r in csv.DictReader(io.StringIO(out))}
    assert code == 0
    assert rows["police_records"]["data"] == "synthetic" and rows["police_uk"]["data"] == "real"
    assert rows["police_records"]["coverage_end"] == "2026-09-01"


def test_ingest_on_each_backend_with_the_warehouse_option(capsys, warehouse_url, settings, tmp_path):
    from tests.helpers import POLICE_HEADER, police_row, write_csv

    assert run(capsys, "init", "--warehouse", warehouse_url)[0] == 0
    path = write_csv(tmp_path / "r.csv", POLICE_HEADER, [police_row("C1"), police_row("C2", date="31/12/2024")])
    code, out, _ = run(capsys, "ingest", "police-records", "--warehouse", warehouse_url, str(path))
    assert code == 0 and "1 loaded" in out and "1 quarantined" in out
    code, out, _ = run(
        capsys,
        "ingest",
        "police-uk",
        "--warehouse",
        warehouse_url,
        str(settings.reference_dir / "police_uk/2019-10-hampshire-street-sample100.csv"),
    )
    assert code == 0 and "100 rows read" in out
    code, out, _ = run(
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
        assert run(capsys, "init", "--warehouse", f"duckdb:///{tmp_path}/w.duckdb")[0] == 0
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, _, err = run(capsys, *args)
    assert code != 0
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
