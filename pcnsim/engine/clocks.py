"""Calendar arithmetic and event clocks: when a Poisson clock next rings, ages and weeks of days.

A patient is touched only on days an event is due (`State.next_event`), so every rate becomes a waiting
time drawn once: an onset clock, a background A&E clock, an episode's self-resolution day and its next
ask. The monthly pass redraws the clocks whose rates change with age, complexity and enrolment.
"""

import numpy as np

from ..vocab import DAYS_PER_MONTH, DAYS_PER_WEEK, DAYS_PER_YEAR
from .config import jit
from .state import NEVER


@jit
def waiting_days(u, rate):
    """Whole days until the next event of a Poisson process with `rate` per day (NEVER if rate is 0)."""
    if rate <= 0.0:
        return NEVER
    g = -np.log(1.0 - u) / rate
    if g >= NEVER:
        return NEVER
    return int(g)


@jit
def ring_day(day, u, rate, redraw):
    """The day a Poisson clock at `rate` per day rings, drawn from u at `day`, or NEVER if that is on or after
    `redraw`, the day the clock is drawn afresh (the monthly pass redraws every clock, so a later day would
    never be read). Most draws land there: since -log(1 - u) >= u + u**2 / 2, u >= (redraw - day) * rate
    already says so without the logarithm (the margins cover the rounding of 1 - u and of the division)."""
    if u >= (redraw - day) * rate * (1.0 + 1e-12) + 1e-12:
        return NEVER
    when = day + waiting_days(u, rate)
    return when if when < redraw else NEVER


@jit
def next_redraw(day):
    """The first day after `day` on which the monthly pass redraws the clocks."""
    return (day // DAYS_PER_MONTH + 1) * DAYS_PER_MONTH


@jit
def revisit_days(u, mean):
    """Days to the next ask after an unresolved contact: uniform on [0.5, 1.5) x mean, at least 1."""
    return max(1, int(mean * (0.5 + u)))


@jit
def age_of(birth_day, day, max_age):
    """Age in whole model years on `day`, within [0, max_age]."""
    a = (day - birth_day) // DAYS_PER_YEAR
    if a < 0:
        return 0
    if a > max_age:
        return max_age
    return a


@jit
def week_of(day):
    return day // DAYS_PER_WEEK
