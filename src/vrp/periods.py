"""Month and financial-year arithmetic, in one place. Months are ``date`` (first of the month) or ``YYYY-MM``."""

from __future__ import annotations

from datetime import date


def add_months(month: date | str, n: int):
    """The month ``n`` months after ``month`` (before, if negative), in the same form it was given."""
    if isinstance(month, str):
        y, m = divmod(int(month[:4]) * 12 + int(month[5:7]) - 1 + n, 12)
        return f"{y:04d}-{m + 1:02d}"
    y, m = divmod(month.year * 12 + month.month - 1 + n, 12)
    return date(y, m + 1, 1)


def financial_year(month: date) -> str:
    """April to March: 2023-04 .. 2024-03 is '2023-24'."""
    start = month.year if month.month >= 4 else month.year - 1
    return f"{start}-{(start + 1) % 100:02d}"
