"""The mart follows the measure registry: editing a definition and rebuilding changes the counts."""

import shutil

import pytest
import sqlalchemy as sa

from tests.helpers import POLICE_HEADER, police_row, write_csv
from vrp.data_access import tables as t
from vrp.data_access.measures import MeasureConfigError, load_registry
from vrp.pipeline.marts import rebuild_marts


def _mart_total(engine, measure_id):
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(t.mart_counts.c.count), 0)).where(
                t.mart_counts.c.measure_id == measure_id
            )
        ).scalar()


@pytest.fixture
def extract(tmp_path):
    rows = [
        police_row("A", code="8N", knife="Y"),  # violence with injury, bladed: serious violence
        police_row("B", code="8N", knife="N"),  # violence with injury, no blade: not serious violence
        police_row("C", code="34B", knife="N"),  # robbery: serious violence
        police_row("D", code="10D", knife="N", age=""),  # possession of a blade: serious violence
        police_row("E", code="105A", knife="N"),  # assault without injury: neither
        police_row("F", code="3B", knife="Y", age="30"),
    ]  # threats to kill with a knife: knife-enabled only
    return write_csv(tmp_path / "records.csv", POLICE_HEADER, rows)


def test_measures_count_what_their_definitions_say(engine, load, extract):
    load("police_records", extract)
    assert _mart_total(engine, "serious_violence") == 3
    assert _mart_total(engine, "knife_enabled_sv") == 2


def test_editing_the_definition_and_rebuilding_changes_the_counts(engine, load, extract, tmp_path, settings):
    load("police_records", extract)
    config = tmp_path / "config"
    shutil.copytree(settings.config_dir, config)
    text = (config / "measures.toml").read_text()
    # The partnership widens its definition: violence with injury counts whether or not a blade was used.
    edited = text.replace('offence_codes = ["8N", "8P", "8S"]\nknife = true', 'offence_codes = ["8N", "8P", "8S"]', 1)
    assert edited != text
    (config / "measures.toml").write_text(edited)
    with engine.begin() as conn:
        rebuild_marts(conn, load_registry(config / "measures.toml"))
    assert _mart_total(engine, "serious_violence") == 4
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(t.dim_measure.c.filter_json).where(t.dim_measure.c.measure_id == "serious_violence")
        ).scalar()
    assert '"knife"' not in stored.split("8S")[1]


def test_mart_equals_a_direct_count_on_the_facts(engine, load, extract):
    load("police_records", extract)
    with engine.connect() as conn:
        by_lsoa = conn.execute(
            sa.select(t.mart_counts.c.lsoa21_code, t.mart_counts.c.age_band, t.mart_counts.c.count)
            .where(t.mart_counts.c.measure_id == "serious_violence")
            .order_by(t.mart_counts.c.age_band)
        ).all()
    assert [tuple(r) for r in by_lsoa] == [("E01035444", "18_24", 2), ("E01035444", "unknown", 1)]


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda s: s.replace('source = "police_records"', 'source = "crystal_ball"', 1),
            "source must be one of",
        ),
        (lambda s: s.replace("knife = true", "blade = true", 1), "not understood for source police_records"),
        (lambda s: s.replace('unit = "rate_per_100k"', 'unit = "furlongs"', 1), "unit must be one of"),
        (lambda s: s + '\n[[measures]]\nid = "homicide"\n', "missing"),
        (lambda s: s.replace("[[measures]]", "[[measures", 1), "not valid TOML"),
    ],
)
def test_a_broken_registry_is_refused_with_a_clear_message(tmp_path, base_settings, edit, message):
    path = tmp_path / "measures.toml"
    path.write_text(edit(base_settings.measures_file.read_text()))
    with pytest.raises(MeasureConfigError, match=message):
        load_registry(path)


def test_registry_has_the_measures_the_partnership_monitors(registry):
    required = {
        "serious_violence",
        "knife_enabled_sv",
        "sharp_object_admissions",
        "homicide",
        "homicide_u25_non_domestic",
        "ons_knife_crime",
        "police_uk_violence_and_sexual_offences",
    }
    assert required <= set(registry.ids)
    police_uk = [m for m in registry if m.source == "police_uk"]
    assert len(police_uk) == 14
    for m in registry:
        assert m.definition and m.label and m.polarity
