"""The ONS knife crime series break: from April 2019 forces flagged knife offences with computer-assisted
searching (NDQIS), which raised counts, so years either side are not comparable. Every chart whose x-range
crosses 1 April 2019 gets a labelled line there, and its lines are not joined across it."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

SERIES_BREAK = date(2019, 4, 1)
BREAK_LABEL = "Series break (April 2019): computer-assisted knife flagging"


def _as_date(value) -> date:
    return pd.Timestamp(value).date()


def crosses_break(xs) -> bool:
    """True when some x lies before 1 April 2019 and some on or after it (x: dates or ISO strings)."""
    values = [_as_date(x) for x in xs if x is not None and not (isinstance(x, float) and np.isnan(x))]
    return bool(values) and min(values) < SERIES_BREAK <= max(values)


def breaks_for(xs) -> list[dict]:
    """The ``breaks`` argument of figures.outcomes.line_chart for this x-range: the break, or nothing."""
    return [{"x": SERIES_BREAK.isoformat(), "label": BREAK_LABEL}] if crosses_break(xs) else []


def gap_at_break(frame: pd.DataFrame, x: str) -> pd.DataFrame:
    """Insert an empty row just before the break (when the range crosses it) so no line joins the two series."""
    if not crosses_break(frame[x]):
        return frame
    as_dates = frame[x].map(_as_date)
    before, after = frame[as_dates < SERIES_BREAK], frame[as_dates >= SERIES_BREAK]
    gap = pd.DataFrame({c: [np.nan] for c in frame.columns})
    gap[x] = [SERIES_BREAK.isoformat() if isinstance(frame[x].iloc[0], str) else SERIES_BREAK]
    return pd.concat([before, gap, after], ignore_index=True)
