"""The audience rule, applied to each view before it leaves data_access: the ``public`` audience never receives
a count the measure's suppression rule hides (docs/METHODS.md#small-number-suppression), nor record-level rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import sqlalchemy as sa

from vrp.data_access import tables as t
from vrp.data_access.mart import mart_where, period_totals
from vrp.data_access.measures import Measure
from vrp.data_access.validation import Filter, NotPermitted, parse_month
from vrp.settings import Settings
from vrp.stats import suppress
from vrp.stats.suppression import group_codes

if TYPE_CHECKING:
    from vrp.data_access.queries import Warehouse

SUPPRESSED = "*"  # how a hidden count is printed


class AudienceRule:
    """What one audience may see: the threshold per measure, and suppression of a whole view."""

    def __init__(self, settings: Settings):
        self.settings = settings

    @property
    def audience(self) -> str:
        return self.settings.audience

    def threshold(self, measure: Measure) -> int:
        return max(measure.suppress_below, self.settings.public_min_count) if self.audience == "public" else 0

    def require_partner(self, what: str) -> None:
        if self.audience != "partner":
            raise NotPermitted(f"{what} is available to the partner audience only")

    def suppress(
        self, frame: pd.DataFrame, measure: Measure, col: str = "count", secondary_by: str | None = None
    ) -> pd.DataFrame:
        """Public: counts from 1 to threshold-1 become missing, flagged ``suppressed``; zero is shown.

        ``secondary_by`` names the groups whose totals are published elsewhere (a district's total beside its
        LSOAs, a period's total beside its months): further cells are hidden so no small count can be worked
        back from those totals (stats.suppress, docs/METHODS.md#small-number-suppression).
        """
        frame = frame.copy()
        limit = self.threshold(measure)
        frame[col] = frame[col].astype("Int64")
        if limit <= 1 or frame.empty:
            frame["suppressed"] = False
            return frame
        table = frame.assign(_series=0)
        total = frame[col].fillna(0).sum()
        if 0 < total < limit:
            # The whole table adds up to a small number: its total is itself hidden wherever it is published,
            # and showing which cells are zero would narrow down where the few are. Hide every cell.
            frame["suppressed"] = True
            frame[col] = frame[col].mask(frame["suppressed"])
            return frame
        result = suppress(table, col, limit, secondary_by=secondary_by, hide_small_groups=True)
        mask = result.mask.copy()
        if result.unprotected and secondary_by:
            # A hidden cell that hiding other cells cannot protect (its neighbours are zeros, or it is alone in
            # a group): hide every cell of its groups, so the published totals give only a sum of hidden cells.
            specs = [secondary_by] if isinstance(secondary_by, str) else list(secondary_by)
            rows = table.index.get_indexer(result.unprotected)
            for spec in specs:
                codes = group_codes(table, [spec] if isinstance(spec, str) else list(spec))
                mask |= np.isin(codes, codes[rows])
        frame["suppressed"] = mask.to_numpy()
        frame[col] = frame[col].mask(frame["suppressed"])
        return frame

    def suppress_months(self, frame: pd.DataFrame, measure: Measure, month_col: str = "month") -> pd.DataFrame:
        """A monthly series for the public: besides the whole series' total, pages and the CLI publish totals
        for financial years and for the 12 months to the latest month (and the 12 before): each is a group whose
        total must not give away a hidden month."""
        months = pd.to_datetime(frame[month_col])
        table = frame.assign(
            _fy=(months.dt.year - (months.dt.month < 4)).to_numpy(),
            _block=((months.max().year * 12 + months.max().month) - (months.dt.year * 12 + months.dt.month)) // 12
            if len(frame)
            else 0,
        )
        out = self.suppress(table, measure, secondary_by=["_series", "_fy", "_block"])
        return out.drop(columns=["_fy", "_block"])


def hidden_totals(
    wh: Warehouse,
    f: Filter,
    periods: dict[str, tuple[str, str]],
    totals: dict[str, tuple[int, int]],
    known: dict[str, dict[str, tuple[int, int]]] | None = None,
) -> dict[str, bool]:
    """Which of these totals the audience may not see: small ones, and, for a selection of several (not all)
    districts, any that includes a district whose own total for that period is small: the district table
    shows the others, so the difference would give the small one away."""
    limit = wh.threshold(wh.registry.get(f.measure_id))
    hidden = {name: 0 < totals[name][0] < limit for name in periods}
    if limit > 1 and periods:
        # A measure shown beside its whole or its parts (all homicides and under-25 non-domestic ones): the
        # difference is a count too.
        for other in wh.registry.related(f.measure_id):
            others = (known or {}).get(other.id) or period_totals(
                wh, Filter(other.id, f.districts, None, None, f.age), periods
            )
            for name in periods:
                if 0 < abs(totals[name][0] - others[name][0]) < limit:
                    hidden[name] = True
    if limit > 1 and 1 < len(f.districts) < len(wh.district_codes):
        for name, (s, e) in periods.items():
            if _has_small_district(wh, f, s, e, limit):
                hidden[name] = True
    return hidden


def _has_small_district(wh: Warehouse, f: Filter, start: str, end: str, limit: int) -> bool:
    """Whether a district of the filter has a total from 1 to limit-1 between two ``YYYY-MM`` months."""
    m = t.mart_counts
    where = mart_where(Filter(f.measure_id, f.districts, None, None, f.age))
    q = (
        sa.select(m.c.district_code, sa.func.sum(m.c.count).label("n"))
        .where(*where, m.c.month >= parse_month(start, "start"), m.c.month <= parse_month(end, "end"))
        .group_by(m.c.district_code)
    )
    per_district = wh.read(q)["n"]
    return bool(((per_district > 0) & (per_district < limit)).any())
