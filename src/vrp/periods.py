"""Month and financial-year arithmetic, in one place. Months are ``date`` (first of the month) or ``YYYY-MM``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


def add_months(month: date | str, n: int):
    """The month ``n`` months after ``month`` (before, if negative), in the same form it was given."""
    if isinstance(month, str):
        y, m = divmod(int(month[:4]) * 12 + int(month[5:7]) - 1 + n, 12)
        return f"{y:04d}-{m + 1:02d}"
    y, m = divmod(month.year * 12 + month.month - 1 + n, 12)
    return date(y, m + 1, 1)


def months_in(first: date | str, last: date | str) -> int:
    """How many months from ``first`` to ``last``, both included: the exposure of an annual rate is this / 12."""

    def index(month) -> int:
        return int(month[:4]) * 12 + int(month[5:7]) if isinstance(month, str) else month.year * 12 + month.month

    return index(last) - index(first) + 1


def financial_year(month: date) -> str:
    """April to March: 2023-04 .. 2024-03 is '2023-24'."""
    start = month.year if month.month >= 4 else month.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def fy_months(fy: str) -> tuple[str, str]:
    """'2022-23' (or '2022/23') -> ('2022-04', '2023-03'). Raises ValueError for anything else."""
    if not isinstance(fy, str) or len(fy) != 7 or not fy[:4].isdigit() or fy[4] not in "-/":
        raise ValueError(f"a financial year looks like 2022-23, not {str(fy)[:12]!r}")
    return f"{fy[:4]}-04", f"{int(fy[:4]) + 1}-03"


def fy_label(fy: str) -> str:
    """'2021-22' -> '2021/22', as the ONS and the NHS write it."""
    return f"{fy[:4]}/{fy[5:7]}"


def fy_start(fy: str) -> date:
    """1 April of the financial year."""
    return date(int(fy[:4]), 4, 1)


def fy_mid(fy: str) -> date:
    """1 October: charts put a year's point mid-year, so a break on 1 April falls between two points."""
    return date(int(fy[:4]), 10, 1)


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")  # 0 = Monday

PERIOD_TYPES = ("month", "quarter", "fy", "rolling12")  # the published lattice (pipeline/lattice.py)


@dataclass(frozen=True)
class Period:
    type: str
    start: date
    end: date  # the first day of the last month

    @property
    def months(self) -> int:
        return months_in(self.start, self.end)

    @property
    def label(self) -> str:
        if self.type == "month":
            return f"{self.start:%b %Y}"
        if self.type == "quarter":
            return f"{self.start:%b}-{self.end:%b %Y}"
        if self.type == "fy":
            return f"{self.start.year}/{(self.start.year + 1) % 100:02d}"
        return f"12 months to {self.end:%b %Y}"
