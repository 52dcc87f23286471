"""The fixed lattice of periods the public cube publishes (docs/METHODS.md#the-published-cube).

Months, calendar quarters, financial years (April to March) and rolling 12 months ending at each calendar quarter
end, each only when every one of its months lies inside the source's coverage: a part-period would let a user
subtract one period from another. Quarters and both kinds of year are sums of whole calendar quarters, so the
relations between them are exact.
"""

from __future__ import annotations

from datetime import date

from vrp.periods import PERIOD_TYPES, Period, add_months, months_in


def lattice(first: date, last: date, types: tuple[str, ...] = PERIOD_TYPES) -> list[Period]:
    """Every lattice period whose months all lie from ``first`` to ``last`` (first days of months)."""
    if first is None or last is None or first > last:
        return []
    months = [add_months(first, i) for i in range(months_in(first, last))]
    periods: list[Period] = []
    if "month" in types:
        periods += [Period("month", m, m) for m in months]
    quarter_ends = [m for m in months if m.month in (3, 6, 9, 12)]
    if "quarter" in types:
        periods += [Period("quarter", add_months(e, -2), e) for e in quarter_ends if add_months(e, -2) >= first]
    if "fy" in types:
        periods += [
            Period("fy", add_months(e, -11), e) for e in quarter_ends if e.month == 3 and add_months(e, -11) >= first
        ]
    if "rolling12" in types:
        periods += [Period("rolling12", add_months(e, -11), e) for e in quarter_ends if add_months(e, -11) >= first]
    return periods


def quarters_of(period: Period) -> list[Period]:
    """The calendar quarters a quarter, financial year or rolling year is made of."""
    return [
        Period("quarter", add_months(period.start, 3 * i), add_months(period.start, 3 * i + 2))
        for i in range(period.months // 3)
    ]
