"""Files that are not usable CSV are refused whole with a message naming the problem."""

import pytest

from tests.helpers import POLICE_HEADER, police_row, write_csv
from vrp.pipeline.csvfile import FileRefused, read_csv_file

REQUIRED = POLICE_HEADER[:2] + POLICE_HEADER[3:]


def test_missing_required_column_is_named(tmp_path):
    path = write_csv(tmp_path / "f.csv", [c for c in POLICE_HEADER if c != "knife_flag"], [])
    with pytest.raises(FileRefused, match="missing required column knife_flag"):
        read_csv_file(path, REQUIRED, ["occurred_datetime"])


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(FileRefused, match="empty"):
        read_csv_file(path, REQUIRED)


def test_binary_file_is_refused(tmp_path):
    path = tmp_path / "extract.xlsx"
    path.write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)))
    with pytest.raises(FileRefused, match="not a CSV text file"):
        read_csv_file(path, REQUIRED)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(FileRefused, match="no such file"):
        read_csv_file(tmp_path / "nope.csv", REQUIRED)


def test_semicolon_delimited_file_is_refused(tmp_path):
    path = write_csv(tmp_path / "f.csv", POLICE_HEADER, [police_row("A1")], delimiter=";")
    with pytest.raises(FileRefused, match="delimited by semicolons"):
        read_csv_file(path, REQUIRED)


def test_bom_and_windows_line_endings_read_cleanly(tmp_path):
    path = write_csv(tmp_path / "f.csv", POLICE_HEADER, [police_row("A1"), police_row("A2")], newline="\r\n", bom=True)
    f = read_csv_file(path, REQUIRED, ["occurred_datetime"])
    assert list(f.rows["crime_reference"]) == ["A1", "A2"]
    assert not f.rows["latitude"].str.contains("\r").any()
    assert list(f.rows["_line"]) == [2, 3]


def test_rows_with_the_wrong_number_of_fields_are_kept_for_quarantine(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text(",".join(POLICE_HEADER) + "\n" + ",".join(map(str, police_row("A1"))) + "\nonly,three,fields\n")
    f = read_csv_file(path, REQUIRED, ["occurred_datetime"])
    assert len(f.rows) == 1
    assert f.malformed == [(3, "expected 9 fields, found 3", "only,three,fields")]
    assert f.rows_read == 2


def test_a_ten_megabyte_line_is_read_not_crashed_on(tmp_path):
    row = police_row("A1")
    row[2] = "x" * 10_000_000
    path = write_csv(tmp_path / "f.csv", POLICE_HEADER, [row, police_row("A2")])
    f = read_csv_file(path, REQUIRED, ["occurred_datetime"])
    assert len(f.rows) == 2
    assert len(f.rows.loc[0, "occurred_datetime"]) == 10_000_000
