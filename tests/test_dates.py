"""The run's calendar in dates: bank holidays close practices on the right days, and the results' week
starts and financial years add up."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from pcnsim import dates, params
from pcnsim.run import run
from pcnsim.scenario import load
from pcnsim.vocab import ROLES


def small(**simulation) -> object:
    return load(overrides={"simulation": {"burn_in_years": 0, "years": 1, **simulation},
                           "pcns": [{"name": "p", "code": "U00001",
                                     "practices": [{"name": "a", "list_size": 1500, "ods_code": "A00001"}]}]})


def test_financial_year_turns_on_the_first_of_april():
    assert dates.financial_year(date(2025, 3, 31)) == "2024/25"
    assert dates.financial_year(date(2025, 4, 1)) == "2025/26"
    assert dates.financial_year(np.datetime64("1999-12-31")) == "1999/00"


def test_the_calendar_closes_the_bank_holidays_of_england_and_wales():
    """Published dates (gov.uk, England and Wales): Good Friday and Easter Monday 2025 fell on 18 and 21
    April; Boxing Day 2026 is a Saturday, so the substitute day is Monday 28 December."""
    sc = small(start_date="2025-04-07", years=2, closed_dates=["2025-06-04"])
    working, _, _ = params.calendar(sc)
    day = {d.item(): i for i, d in enumerate(dates.day_dates(sc.simulation))}
    for closed in (date(2025, 4, 18), date(2025, 4, 21), date(2025, 12, 25), date(2026, 12, 28),
                   date(2025, 6, 4)):
        assert working[day[closed]] == 0, closed
    for open_day in (date(2025, 4, 22), date(2025, 6, 3), date(2026, 12, 29)):
        assert working[day[open_day]] == 1, open_day
    assert working[day[date(2025, 4, 12)]] == 0  # a Saturday
    # weekdays minus the weekday bank holidays and the one closed date, over the two years
    weekdays = int(np.is_busday(dates.day_dates(sc.simulation)).sum())
    holidays_on_weekdays = sum(np.is_busday(np.datetime64(d)) for d in dates.bank_holidays(sc.simulation))
    assert working.sum() == weekdays - holidays_on_weekdays - 1
    none = small(start_date="2025-04-07", years=2, bank_holiday_calendar="none")
    assert params.calendar(none)[0].sum() == weekdays


def test_practices_see_no_one_on_a_bank_holiday_but_a_and_e_stays_open():
    """In the ledger, no practice or network contact falls on Christmas Day, Boxing Day or Good Friday 2026,
    while on the ordinary weekdays around them there are many, and A&E sees people on the holidays; with no
    bank-holiday calendar the same dates are working days with contacts."""
    roles = set(ROLES)
    holidays = [date(2025, 12, 25), date(2025, 12, 26), date(2026, 4, 3)]
    ordinary = [date(2025, 12, 23), date(2025, 12, 29), date(2026, 4, 2)]

    def seen_on(sc) -> tuple[dict[date, int], dict[date, int]]:
        """Primary-care contacts and A&E attendances on each of the dates."""
        ledger = run(sc, seed=5, reps=1, ledger=True).ledger
        out = []
        for settings in (roles, {"ae"}):
            counts = pd.Series(ledger.loc[ledger["setting"].isin(settings), "date"].to_numpy()).value_counts()
            out.append({d: int(counts.get(d, 0)) for d in holidays + ordinary})
        return out[0], out[1]

    closed, ae = seen_on(small(start_date="2025-04-07"))
    assert all(closed[d] == 0 for d in holidays), closed
    assert all(closed[d] > 10 for d in ordinary), closed
    assert sum(ae[d] for d in holidays) > 0
    opened, _ = seen_on(small(start_date="2025-04-07", bank_holiday_calendar="none"))
    assert all(opened[d] > 10 for d in holidays), opened


def test_financial_year_totals_are_the_sums_of_their_weeks(tmp_path):
    """A run starting on 6 October 2025 for one model year: its 52 weeks split 26 + 26 between financial
    years 2025/26 and 2026/27, and each year's totals in financial_years.parquet equal the sum of its weeks
    in series.parquet, for every practice and metric."""
    res = run(small(start_date="2025-10-06"), seed=2, reps=2)
    res.save(tmp_path / "run")
    series = pd.read_parquet(tmp_path / "run" / "series.parquet")
    fy = pd.read_parquet(tmp_path / "run" / "financial_years.parquet")
    assert series["week_start"].iloc[0] == date(2025, 10, 6)
    assert series.groupby("financial_year", observed=True)["week"].nunique().to_dict() == {"2025/26": 26,
                                                                                          "2026/27": 26}
    assert fy.groupby("financial_year", observed=True)["weeks"].first().to_dict() == {"2025/26": 26, "2026/27": 26}
    keys = ["replicate", "financial_year", "practice", "metric"]
    summed = series.groupby(keys, observed=True)["value"].sum()
    totals = fy.set_index(keys)["value"]
    assert len(totals) == len(summed) and (totals.reindex(summed.index) == summed).all()
    assert summed.loc[(0, "2025/26", "all", "gp")] > 0
    assert set(fy["ods_code"].dropna()) == {"A00001"} and set(fy["pcn_code"].dropna()) == {"U00001"}


@pytest.mark.parametrize("start", ["2025-04-07", "2027-01-13"])
def test_week_starts_run_on_from_the_start_date(start):
    sc = small(start_date=start, years=2)
    starts = dates.week_starts(sc.simulation, 104)
    assert starts[0] == np.datetime64(start) and (np.diff(starts) == np.timedelta64(7, "D")).all()
    assert dates.first_day(sc.simulation) == date.fromisoformat(start)  # no burn-in here
    with_burn_in = small(start_date=start, burn_in_years=1)
    assert (date.fromisoformat(start) - dates.first_day(with_burn_in.simulation)).days == 364
