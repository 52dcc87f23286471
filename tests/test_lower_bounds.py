"""Counts the supplier had already withheld cells from (NHS data: 1 to 7 each) are lower bounds ("at least"):
no change is computed or tested between them, and every place that states a change says why there is none.
On the demo, sharp-object admissions for all of HIPS hold such cells in both recent years."""

from __future__ import annotations

import pandas as pd
import pytest

from vrp.callbacks import profile as profile_cb
from vrp.dashboards import home
from vrp.dashboards.tiles import LOWER_BOUNDS, sentence, tile
from vrp.data_access import outcomes

ADMISSIONS = "sharp_object_admissions"


def _shown(component) -> str:
    """Every string a component shows, joined by " | "."""
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return " | ".join(_shown(child) for child in component)
    return _shown(getattr(component, "children", None))


@pytest.mark.parametrize("audience", ["public", "partner"])
def test_no_change_between_lower_bounds(audience, wh, partner):
    reader = wh if audience == "public" else partner
    comp = outcomes.comparisons(reader, ADMISSIONS)
    assert comp["current"]["incomplete"] and comp["current"]["count"] is not None
    assert comp["previous"]["count"] is not None
    assert comp["year_on_year"] is None and not outcomes.comparable(comp["current"], comp["previous"])
    # Police counts hold no supplier-hidden cells: their changes are computed as before.
    knife = outcomes.comparisons(reader, "knife_enabled_sv")
    assert not knife["current"]["incomplete"] and knife["year_on_year"] is not None


def test_the_overview_tile_says_at_least_and_why_there_is_no_change(wh):
    comp = outcomes.comparisons(wh, ADMISSIONS)
    card = _shown(tile("t", "Admissions", "rate_per_100k", comp, None, None, None, False))
    assert f"Admissions | at least  | {comp['current']['count']:,} | " in card  # the big number, "at least" small
    assert f"at least {comp['current']['count']:,} in the 12 months to" in card
    assert f"; not compared with the year before: {LOWER_BOUNDS}." in card
    assert "about the same" not in card and "significant" not in card.split("Against")[0]


def test_a_tile_of_exact_counts_is_unchanged():
    cur = {"end": "2026-09", "count": 936, "rate": 46.0, "lower": 43.1, "upper": 49.0, "incomplete": False}
    previous = {"count": 1002, "incomplete": False}
    from vrp.stats import change

    words = sentence("Knife", cur, change(936, 1002), None, "September 2026", previous)
    assert words == "936 in the 12 months to September 2026, 7% fewer than the year before (not a significant change)."
    assert LOWER_BOUNDS not in sentence("Knife", cur, None, None, "September 2026", previous)


@pytest.mark.parametrize("audience", ["public", "partner"])
def test_the_overview_table_marks_lower_bounds_and_compares_none(audience, wh, partner):
    reader = wh if audience == "public" else partner
    frame = reader.latest_figures(())
    row = frame.set_index("measure_id").loc[ADMISSIONS]
    assert row["incomplete"]
    table = _shown(home.figures_table(frame[frame["measure_id"] == ADMISSIONS], set(), "t"))
    assert f"at least {int(row['count']):,}" in table and "not compared (lower bounds)" in table
    if row["previous_incomplete"]:
        assert f"at least {int(row['previous']):,}" in table
    knife = _shown(home.figures_table(frame[frame["measure_id"] == "knife_enabled_sv"], set(), "t"))
    assert "not compared" not in knife and ("% lower" in knife or "% higher" in knife or "no change" in knife)


def test_the_profile_says_why_a_change_is_missing():
    exact = {"count": 20, "incomplete": False}
    lower = {"count": 16, "incomplete": True}
    assert profile_cb._change(None, lower, exact) == f"not compared: {LOWER_BOUNDS}"
    assert profile_cb._change(None, {"count": None}, exact) == "not compared (a figure is hidden)"
    assert profile_cb._change(None, exact, exact) == "not available"


def test_the_csv_of_the_overview_says_which_counts_are_lower_bounds(wh):
    frame = wh.latest_figures(())
    assert {"incomplete", "previous_incomplete"} <= set(frame.columns)
    assert "previous_incomplete" in home.EXPORT_COLUMNS
    assert pd.api.types.is_bool_dtype(frame["previous_incomplete"].astype(bool))
