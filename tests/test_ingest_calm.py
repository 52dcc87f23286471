"""Ingest that stays calm: a second writer gets one line (PostgreSQL advisory lock, DuckDB's file lock), a mostly
rejected file is refused whole with its first reasons, and files are read in chunks so memory does not grow with
the rows (the million-row figure is benchmarks/bench_ingest.py, in docs/PERFORMANCE.md)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import drop_pg_schema, need_service, pg_schema_url, table_counts
from tests.helpers import POLICE_HEADER, PORTSMOUTH, police_row, run_cli, write_csv
from vrp.data_access import tables as t
from vrp.data_access.engine import data_version, make_engine
from vrp.pipeline.csvfile import FileRefused
from vrp.pipeline.lock import lock_warehouse
from vrp.pipeline.sources import police_uk
from vrp.pipeline.warehouse import init_warehouse

REPO = Path(__file__).resolve().parents[1]


def vrp(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The vrp command in a process of its own, as an operator (or cron) runs it."""
    return subprocess.run(
        [sys.executable, "-m", "vrp.cli", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def _mostly_bad(path: Path) -> Path:
    rows = [police_row(f"OK{i}") for i in range(4)]
    rows += [police_row(f"BAD{i}", date="31/12/2024") for i in range(5)]
    rows.append(["only", "three", "fields"])
    return write_csv(path, POLICE_HEADER, rows)


def test_a_mostly_rejected_file_is_refused_whole_with_its_first_reasons(engine, load, tmp_path):
    load("police_records", write_csv(tmp_path / "ok.csv", POLICE_HEADER, [police_row("KEEP")]))
    before, version = table_counts(engine), data_version(engine)
    with pytest.raises(FileRefused) as refused:
        load("police_records", _mostly_bad(tmp_path / "bad.csv"), chunk_rows=3)
    message = str(refused.value)
    assert message.startswith("bad.csv: 6 of 10 rows rejected (60%, more than the 50% allowed), so nothing was")
    assert "first: line 6: recorded_date: unparseable date '31/12/2024'" in message
    assert "line 7:" in message and "line 8:" in message and "line 9:" not in message  # the first three only
    assert len(message.splitlines()) == 1
    assert table_counts(engine) == before and data_version(engine) == version

    # A higher allowance loads the same file, its bad rows quarantined as for any file.
    [result] = load("police_records", tmp_path / "bad.csv", max_rejected_share=0.6)
    assert (result.rows_loaded, result.rows_rejected) == (4, 6)


def test_a_file_of_junk_is_refused_as_soon_as_the_rest_cannot_save_it(engine, load, tmp_path):
    rows = [police_row(f"J{i}", date="junk") for i in range(300)]
    before = table_counts(engine)
    with pytest.raises(
        FileRefused,
        match=r"^junk.csv: 200 of its first 200 rows rejected, more than the 50% allowed "
        r"of the whole file \(at most 301 rows\), so nothing was loaded; first: line 2: ",
    ):
        load("police_records", write_csv(tmp_path / "junk.csv", POLICE_HEADER, rows), chunk_rows=50)
    assert table_counts(engine) == before


def test_the_cli_refuses_a_mostly_rejected_file_in_one_line(tmp_path, capsys):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    assert run_cli(capsys, "init", "--warehouse", url)[0] == 0
    path = _mostly_bad(tmp_path / "bad.csv")
    code, out, err = run_cli(capsys, "ingest", "police-records", "--warehouse", url, str(path))
    assert code == 1 and out == ""
    assert err.startswith("vrp: refused: bad.csv: 6 of 10 rows rejected") and len(err.splitlines()) == 1
    code, out, err = run_cli(capsys, "ingest", "police-records", "--warehouse", url, "--max-rejected", "75%", str(path))
    assert code == 0 and "4 loaded" in out and "6 quarantined" in out
    code, _, err = run_cli(capsys, "ingest", "police-records", "--warehouse", url, "--max-rejected", "2", str(path))
    assert code == 2 and "not a share from 0 to 1" in err


def test_chunks_find_repeats_across_their_boundaries(engine, load, tmp_path, settings):
    rows = [police_row(f"C{i}") for i in range(7)]
    rows += [police_row("C1", where=PORTSMOUTH), police_row("C6", date="2024-04-01"), police_row("C8")]
    [result] = load("police_records", write_csv(tmp_path / "r.csv", POLICE_HEADER, rows), chunk_rows=3)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (10, 8, 2)
    with engine.connect() as conn:
        reasons = dict(conn.execute(sa.select(t.quarantine.c.line, t.quarantine.c.reason)).all())
    assert reasons == {9: "duplicate key C1 (first at line 3)", 10: "duplicate key C6 (first at line 8)"}

    # police.uk ASB rows (no Crime ID) are keyed by their repeat number in the whole file, chunk or no chunk.
    sample = settings.reference_dir / "police_uk/2019-10-hampshire-street-sample100.csv"
    [uk] = load("police_uk", sample, chunk_rows=7)
    assert uk.rows_read == 100 and uk.rows_duplicate == 0
    from vrp.pipeline.csvfile import read_csv_file
    from vrp.pipeline.load import context_for

    whole = read_csv_file(sample, police_uk.COLUMNS).rows
    with engine.connect() as conn:
        expected = set(police_uk.prepare(whole, context_for(conn, settings.reference_dir)).frame["crime_key"])
        stored = set(conn.execute(sa.select(t.fact_police_uk.c.crime_key)).scalars())
    assert stored == expected


def test_staged_rows_reach_the_table_and_leave_nothing_behind(engine, load, tmp_path, monkeypatch):
    """On DuckDB each chunk's accepted rows wait in a Parquet file (vrp.pipeline.staging) until the file is
    accepted: they all arrive, and neither a load nor a refusal leaves a staged file behind."""
    spool = tmp_path / "tmp"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    rows = [police_row(f"S{i}") for i in range(5)]
    duckdb = engine.dialect.name == "duckdb"
    threads = "SELECT current_setting('threads')"
    if duckdb:
        with engine.connect() as conn:
            conn.exec_driver_sql("SET threads = 3")
    [result] = load("police_records", write_csv(tmp_path / "s.csv", POLICE_HEADER, rows), chunk_rows=2)
    assert result.rows_loaded == 5 and list(spool.iterdir()) == []
    if duckdb:  # the insert ran on one thread; the setting is given back
        with engine.connect() as conn:
            assert conn.exec_driver_sql(threads).scalar() == 3
    with engine.connect() as conn:
        stored = conn.execute(sa.select(t.fact_police_records.c.crime_reference, t.fact_police_records.c.load_id))
        assert sorted(stored.all()) == [(f"S{i}", result.load_id) for i in range(5)]
    before = table_counts(engine)
    with pytest.raises(FileRefused):
        load("police_records", _mostly_bad(tmp_path / "bad.csv"), chunk_rows=3)
    assert table_counts(engine) == before and list(spool.iterdir()) == []


def test_a_load_leaves_the_read_sides_statistics_unloaded():
    """`vrp ingest` imports neither the cube's solvers nor the read side's statistics until the marts are rebuilt
    (scipy and its kin held about 60 MB through a million-row load)."""
    code = "import sys, vrp.cli, vrp.pipeline.load; print(sorted({m.split('.')[0] for m in sys.modules}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    loaded = done.stdout
    assert "'vrp'" in loaded and "'sqlalchemy'" in loaded
    assert "'scipy'" not in loaded and "'highspy'" not in loaded and "'plotly'" not in loaded


def _peak_mb(rows: int, tmp_path: Path, url: str | None = None) -> int:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from bench_ingest import measure
    finally:
        sys.path.pop(0)
    figures = measure(rows, "good", 2_000, tmp_path, url)
    assert figures["status"].startswith(f"extract-good-{rows}.csv: {rows:,} rows read, {rows:,} loaded")
    return figures["peak_mb"]


@pytest.mark.parametrize("backend", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_memory_does_not_grow_with_the_rows_of_a_file(tmp_path, backend):
    """10,000 and then 80,000 rows, 2,000 at a time: before chunking, memory grew by ~2 KB a row (150 MB here)."""
    schemas, urls = [], [None, None]
    if backend == "postgres":
        need_service("PostgreSQL", 5432)
        for i in range(2):
            urls[i], schema = pg_schema_url()
            schemas.append(schema)
    try:
        small = _peak_mb(10_000, tmp_path, urls[0])
        large = _peak_mb(80_000, tmp_path, urls[1])
    finally:
        for schema in schemas:
            drop_pg_schema(schema)
    # DuckDB builds its primary-key index of the new rows in memory as they go in, and its commit needs some more.
    assert large - small < (40 if backend == "duckdb" else 20), (small, large)


@pytest.fixture
def pg_warehouse(settings):
    need_service("PostgreSQL", 5432)
    url, schema = pg_schema_url()
    engine = make_engine(url)
    init_warehouse(engine, settings)
    try:
        yield url, engine
    finally:
        engine.dispose()
        drop_pg_schema(schema)


def test_a_second_load_on_postgresql_gets_one_line_while_the_first_runs(pg_warehouse, tmp_path):
    url, engine = pg_warehouse
    path = write_csv(tmp_path / "r.csv", POLICE_HEADER, [police_row("P1"), police_row("P2")])
    before = table_counts(engine)
    with engine.begin() as conn:  # a load in progress, holding the warehouse's lock
        lock_warehouse(conn)
        backend = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        done = vrp("ingest", "police-records", "--warehouse", url, str(path))
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(
        f"vrp: error: another load is running into this warehouse (PostgreSQL backend {backend}"
    )
    assert "--wait SECONDS" in done.stderr and len(done.stderr.splitlines()) == 1
    assert table_counts(engine) == before

    # With --wait, the second load waits its turn and then loads.
    def hold_briefly():
        with engine.begin() as conn:
            lock_warehouse(conn)
            held.set()
            time.sleep(2)

    held = threading.Event()
    holder = threading.Thread(target=hold_briefly)
    holder.start()
    held.wait(10)
    done = vrp("ingest", "police-records", "--warehouse", url, "--wait", "30", str(path))
    holder.join()
    assert done.returncode == 0, done.stderr
    assert "2 loaded" in done.stdout


def test_two_real_concurrent_ingests_on_postgresql(pg_warehouse, settings, tmp_path):
    """Two processes at once, as two operators or an overlapping cron job would: each either loads or says in one
    line that the other is running, and the warehouse holds exactly the files that loaded."""
    url, engine = pg_warehouse
    files = [
        write_csv(tmp_path / f"r{n}.csv", POLICE_HEADER, [police_row(f"R{n}-{i}") for i in range(2_000)])
        for n in range(2)
    ]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "vrp.cli", "ingest", "police-records", "--warehouse", url, str(f)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in files
    ]
    outcomes = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    loaded = 0
    for out, err, code in outcomes:
        if code == 0:
            loaded += 1
            assert "2,000 loaded" in out and err == ""
        else:
            assert code == 1 and len(err.splitlines()) == 1, err
            assert err.startswith("vrp: error: another load is running into this warehouse")
    assert loaded >= 1
    with engine.connect() as conn:
        audits = conn.execute(sa.select(sa.func.count()).select_from(t.load_audit)).scalar()
        facts = conn.execute(sa.select(sa.func.count()).select_from(t.fact_police_records)).scalar()
    assert (audits, facts) == (loaded, 2_000 * loaded)


def test_a_duckdb_file_in_use_gets_one_line(tmp_path, settings):
    import duckdb

    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    engine = make_engine(url)
    init_warehouse(engine, settings)
    engine.dispose()
    path = write_csv(tmp_path / "r.csv", POLICE_HEADER, [police_row("D1")])
    holder = duckdb.connect(str(tmp_path / "w.duckdb"))  # another writer (this test's process) has the file
    try:
        done = vrp("ingest", "police-records", "--warehouse", url, str(path))
    finally:
        holder.close()
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("vrp: error: another process is using this DuckDB warehouse (process ")
    done = vrp("ingest", "police-records", "--warehouse", url, str(path))
    assert done.returncode == 0 and "1 loaded" in done.stdout
