"""Demography (docs/model.md, daily step 1, every 4 weeks): deaths, leavers and who takes their slots, complexity
transitions and the month's event clocks.

A slot is reused when its person dies or leaves: a birth or a new registration takes it with a fresh
person id (each group of PCNs numbers its newcomers on its own: `pcnsim.partition`), so list sizes are
stationary. The monthly pass also redraws each patient's onset and background A&E clocks (their rates
change with age, complexity and enrolment) and lists the complex-care team's case-finding candidates.
"""

import numpy as np

from ..vocab import DAYS_PER_YEAR, FRAIL
from . import rng as R
from .casefinding import note_for_case_finding, start_case_finding
from .clocks import age_of, next_redraw, ring_day, week_of
from .complexity import move_complexity
from .config import entry, jit
from .episodes import K, close_episode, flush_all_unmet, next_event_of
from .hints import AHEAD, prefetch_patient, prefetch_pays
from .state import (
    EXIT_DIED,
    EXIT_LEFT,
    M_BIRTHS,
    M_CLOSED_EXIT,
    M_DEATHS,
    M_LEAVERS,
    M_REGISTRATIONS,
    N_COUNTERS,
    NEVER,
    X_BIRTH_DAY,
    X_CX,
    X_DEP,
    X_EXIT_DAY,
    X_PID,
    X_PRACTICE,
    X_REASON,
    X_REG_DAY,
    X_SEG,
    X_SEX,
)

MALE_BIRTH_SHARE = 0.512


@jit
def draw_person(S, P, i, pid, practice, day, newborn):
    """Fill slot i with a new person: a birth, or a registrant drawn from the practice's list profile."""
    rec = S.patients[i]
    keys = P.keys
    n_age = P.max_age + 1
    if newborn:
        sex = 0 if R.uniform(keys[R.PERSON_SEX], pid, day, 0) < MALE_BIRTH_SHARE else 1
        age_days = 0
    else:
        idx = np.searchsorted(P.entrant_cdf[practice], R.uniform(keys[R.PERSON_AGE], pid, day, 0), side="right")
        sex = idx // n_age
        age_days = (idx % n_age) * DAYS_PER_YEAR + int(R.uniform(keys[R.PERSON_AGE], pid, day, 1) * DAYS_PER_YEAR)
    dep = np.searchsorted(P.dep_cdf[practice], R.uniform(keys[R.PERSON_DEPRIVATION], pid, day, 0), side="right")
    age = min(age_days // DAYS_PER_YEAR, P.max_age)
    seg = np.searchsorted(P.seg_cdf[age, dep], R.uniform(keys[R.PERSON_SEGMENT], pid, day, 0), side="right")
    cx = np.searchsorted(P.cx_cdf[seg], R.uniform(keys[R.PERSON_COMPLEXITY], pid, day, 0), side="right")
    rec["pid"] = pid
    rec["practice"] = practice
    rec["birth_day"] = day - age_days
    rec["sex"] = sex
    rec["dep"] = dep
    rec["seg"] = seg
    rec["cx"] = cx
    rec["reg_day"] = day
    rec["unmet_month"] = 0
    rec["fit_month"] = 0
    rec["enrolled_until"] = 0
    rec["gp_seen"] = 0
    rec["gp_history"] = 0
    rec["next_onset"] = NEVER
    rec["next_bg_ae"] = NEVER
    for k in range(K):
        rec["ep_type"][k] = -1
        rec["ep_next"][k] = NEVER
        rec["ep_selfres"][k] = NEVER
        rec["ep_acc"][k] = NEVER
        rec["ep_booked"][k] = 0
        rec["ep_wait"][k] = -1
        rec["ep_pref"][k] = -1
    for c in range(N_COUNTERS):
        rec["counters"][c] = 0
    for c in range(S.last_contacts.shape[1]):
        S.last_contacts[i, c] = -NEVER


@entry
def init_population(S, P, practice_of_slot):
    """The initial list, registered on day 0: a practice's slots are consecutive and hold consecutive person
    ids from its `first_pid`; each group's newcomers will take ids from its `entrant_pid`."""
    start, prev = 0, -1
    for i in range(S.patients.shape[0]):
        practice = practice_of_slot[i]
        if practice != prev:
            start, prev = i, practice
        draw_person(S, P, i, P.first_pid[practice] + (i - start), practice, 0, False)
    for g in range(S.next_pid.shape[0]):
        S.next_pid[g] = P.entrant_pid[g]


@jit
def exit_reason(S, P, i, day):
    """Whether patient i dies (EXIT_DIED), leaves (EXIT_LEFT) or stays (0) this month."""
    rec = S.patients[i]
    pid = rec["pid"]
    age = age_of(rec["birth_day"], day, P.max_age)
    frail = 1 if rec["seg"] == FRAIL else 0
    if R.uniform(P.keys[R.DEATH], pid, day, 0) < P.death_monthly[age, frail, rec["cx"]]:
        return EXIT_DIED
    if R.uniform(P.keys[R.LEAVE], pid, day, 0) < P.leave_monthly:
        return EXIT_LEFT
    return 0


@jit
def exit_person(S, P, T, W, i, day, reason):
    """Record a death or leaver's year so far, close their episodes and free their bookings."""
    rec = S.patients[i]
    n = T.n_exits[0]
    if n < T.exit_meta.shape[0]:
        meta = T.exit_meta[n]
        meta[X_PID] = rec["pid"]
        meta[X_PRACTICE] = rec["practice"]
        meta[X_BIRTH_DAY] = rec["birth_day"]
        meta[X_SEX] = rec["sex"]
        meta[X_DEP] = rec["dep"]
        meta[X_SEG] = rec["seg"]
        meta[X_CX] = rec["cx"]
        meta[X_REG_DAY] = rec["reg_day"]
        meta[X_EXIT_DAY] = day
        meta[X_REASON] = reason
    for k in range(K):
        if rec["ep_type"][k] >= 0:
            close_episode(S, P, T, W, i, k, day, M_CLOSED_EXIT)
    if n < T.exit_meta.shape[0]:
        for c in range(N_COUNTERS):
            T.exit_counters[n, c] = rec["counters"][c]
    T.n_exits[0] = n + 1
    T.weekly[week_of(day), rec["practice"], M_DEATHS if reason == EXIT_DIED else M_LEAVERS] += 1


@jit
def replace_person(S, P, T, i, day, newborn):
    """Slot i's new person (a birth or a new registration) after its person died or left, with the next id
    of the practice's group."""
    rec = S.patients[i]
    practice = rec["practice"]
    g = P.practice_group[practice]
    new_pid = S.next_pid[g]
    S.next_pid[g] = new_pid + P.pid_stride
    draw_person(S, P, i, new_pid, practice, day, newborn)
    T.weekly[week_of(day), practice, M_BIRTHS if newborn else M_REGISTRATIONS] += 1


@jit
def redraw_clocks(S, P, i, day, redraw):
    """Patient i's onset and background A&E clocks for the month, and its next event."""
    rec = S.patients[i]
    keys = P.keys
    pid = rec["pid"]
    age = age_of(rec["birth_day"], day, P.max_age)
    seg, sex, dep = rec["seg"], rec["sex"], rec["dep"]
    rate = P.onset_total[seg, sex, age, dep] * P.cx_onset_mult[rec["cx"]]
    rec["next_onset"] = ring_day(day, R.uniform(keys[R.ONSET_TIME], pid, day, 0), rate, redraw)
    rec["next_bg_ae"] = ring_day(day, R.uniform(keys[R.BACKGROUND_AE], pid, day, 0), P.ae_bg_daily[age, dep], redraw)
    S.next_event[i] = next_event_of(S, i)


@jit
def monthly_pass(S, P, T, W, day):
    """Every patient in slot order: unmet need so far accounted; death or leaving (and the slot's new
    person), else the complexity transition; the month's clocks; the complex-care caseload counted and its
    candidates listed (`casefinding`)."""
    keys = P.keys
    case_finding = start_case_finding(P, W)
    redraw = next_redraw(day)
    memory = min(P.mdt_min_contacts, S.last_contacts.shape[1]) - 1
    ahead = prefetch_pays(S)
    n = S.patients.shape[0]
    for i in range(n):
        rec = S.patients[i]
        if ahead and i + 4 * AHEAD < n:
            prefetch_patient(S, i + 4 * AHEAD)
        flush_all_unmet(S, T, i, day)
        pid = rec["pid"]
        reason = exit_reason(S, P, i, day)
        if reason > 0:
            exit_person(S, P, T, W, i, day, reason)
            newborn = R.uniform(keys[R.NEWBORN], pid, day, 0) < P.newborn_share
            replace_person(S, P, T, i, day, newborn)
        else:
            move_complexity(S, P, i, day)
        rec["unmet_month"] = 0
        rec["fit_month"] = 0
        redraw_clocks(S, P, i, day, redraw)
        if case_finding:
            note_for_case_finding(S, P, T, W, i, day, memory)
