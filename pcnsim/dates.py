"""The run's calendar in dates: the date of each model day, the days practices are closed, week starts and
financial years.

A model year is 52 weeks (364 days), so weekly figures add up to years exactly; the dates run on from
`simulation.start_date`, the first reported day, and the burn-in occupies the 52-week years before it. A
model year therefore starts a day earlier in the calendar each year (two in a leap year), which is why the
results carry each week's start date and financial year: totals by financial year are sums of the weeks
that start in it, not of model years.

Bank holidays come from the `holidays` package's calendar for England (the same days as Wales), with
substitute days when a holiday falls at a weekend and the one-off holidays the government declared.
"""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import numpy as np

from .vocab import DAYS_PER_WEEK, DAYS_PER_YEAR


def first_day(sim) -> date:
    """The date of model day 0: the first day of the burn-in (the first reported day if there is none)."""
    return sim.start_date - timedelta(days=sim.burn_in_years * DAYS_PER_YEAR)


def day_dates(sim) -> np.ndarray:
    """The date of every model day of the run, burn-in included, as numpy datetime64[D]."""
    n_days = (sim.burn_in_years + sim.years) * DAYS_PER_YEAR
    return np.datetime64(first_day(sim), "D") + np.arange(n_days)


def span(sim) -> tuple[date, date]:
    """The first and last dates of the run, burn-in included."""
    first = first_day(sim)
    return first, first + timedelta(days=(sim.burn_in_years + sim.years) * DAYS_PER_YEAR - 1)


def bank_holidays(sim) -> dict[date, str]:
    """The bank holidays of `simulation.bank_holiday_calendar` in the run, in date order, with their names."""
    if sim.bank_holiday_calendar == "none":
        return {}
    first, last = span(sim)
    calendar = holidays.country_holidays("GB", subdiv="ENG", years=range(first.year, last.year + 1))
    return {d: name for d, name in sorted(calendar.items()) if first <= d <= last}


def closed_dates(sim) -> set[date]:
    """Weekends aside, the dates in the run on which practices and PCN services are closed: its bank
    holidays and `simulation.closed_dates`."""
    first, last = span(sim)
    return set(bank_holidays(sim)) | {d for d in sim.closed_dates if first <= d <= last}


def week_starts(sim, weeks: int) -> np.ndarray:
    """Start dates (datetime64[D]) of the first `weeks` reported weeks."""
    return np.datetime64(sim.start_date, "D") + DAYS_PER_WEEK * np.arange(weeks)


def year_starts(sim, years: int) -> np.ndarray:
    """Start dates (datetime64[D]) of the first `years` reported model years."""
    return np.datetime64(sim.start_date, "D") + DAYS_PER_YEAR * np.arange(years)


def financial_year(day: np.datetime64 | date) -> str:
    """The NHS financial year (1 April to 31 March) a date falls in, written as '2025/26'."""
    d = day if isinstance(day, date) else day.astype("datetime64[D]").item()
    start = d.year if d.month >= 4 else d.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def financial_years(days: np.ndarray) -> list[str]:
    """`financial_year` of each of `days` (datetime64[D])."""
    return [financial_year(d) for d in days]
