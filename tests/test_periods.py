"""Month and financial-year arithmetic: the one home every page, query and loader uses."""

from datetime import date

import pytest

from vrp import periods


@pytest.mark.parametrize(
    ("month", "n", "expected"),
    [("2024-01", -1, "2023-12"), ("2023-12", 1, "2024-01"), ("2024-03", -27, "2021-12"), ("2024-05", 0, "2024-05")],
)
def test_add_months_across_years(month, n, expected):
    assert periods.add_months(month, n) == expected
    assert periods.add_months(date(int(month[:4]), int(month[5:]), 1), n) == date(
        int(expected[:4]), int(expected[5:]), 1
    )


def test_financial_years_run_april_to_march():
    assert periods.financial_year(date(2024, 3, 1)) == "2023-24"
    assert periods.financial_year(date(2024, 4, 1)) == "2024-25"
    assert periods.financial_year(date(1999, 12, 1)) == "1999-00"
    assert periods.fy_months("2023-24") == ("2023-04", "2024-03")
    assert periods.fy_months("1999-00") == ("1999-04", "2000-03")
    assert periods.fy_months("2022/23") == ("2022-04", "2023-03")  # as the ONS and the NHS write it
    assert periods.fy_label("2019-20") == "2019/20"
    assert periods.fy_start("2019-20") == date(2019, 4, 1) < periods.fy_mid("2019-20") < date(2020, 4, 1)
    for bad in ("2023", "2023.24", None, "abcd-ef", 2023):
        with pytest.raises(ValueError):
            periods.fy_months(bad)


def test_months_in_counts_both_ends():
    assert periods.months_in(date(2025, 10, 1), date(2026, 9, 1)) == 12
    assert periods.months_in(date(2026, 9, 1), date(2026, 9, 1)) == 1
    assert periods.months_in(date(2021, 4, 1), date(2026, 9, 1)) == 66
    assert periods.months_in("2021-04", "2026-09") == 66
