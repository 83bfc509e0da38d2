"""Diaries and booking (docs/model.md, daily steps: diaries, booking, capacity ledger).

Each unit (practice, network pool, shared pool) offers slots by role on working days, carried as a ring
of routine days over the booking horizon plus today's same-day reserve (a share of the day's slots by unit
and role, `Params.same_day_reserve`). The day's requests are booked in order (urgency, then a random
priority): same-day and urgent ones take today's slots, routine ones the earliest free slot within the
horizon; own practice first, then the network pool, then any shared pool; a role with no slot falls back
to the GP. With care navigation, each PCN's navigators take its requests in booking order while they have
time that day and book each with the best-fitting role that has a slot. A request not booked waits for
the next working day or, if so decided when it was listed (`hospital.spills_to_ae`), goes to A&E.
"""

import numpy as np

from ..vocab import GP, N_ROLES, ROUTINE, SAME_DAY, URGENT_HOME_VISIT
from .clocks import week_of
from .config import entry, jit
from .hints import slot
from .seeking import reachable
from .state import M_NAVIGATED, M_TO_NETWORK, M_UNPLACED, NEVER

WAITING, UNSERVED = -1, -2  # booking's unit for a request not booked: a routine one waiting, or unserved


@jit
def day_capacity(P, unit, role, day):
    """(total, same-day) slots of a role at a unit on a day: fractional FTE carried by cumulative floor, the
    unit's same-day reserve for the role rounded half up."""
    if day >= P.working.shape[0] or P.working[day] == 0:
        return 0, 0
    rate = P.cap_rate[unit, role]
    wd = P.wd_index[day]
    total = int(np.floor(rate * (wd + 1)) - np.floor(rate * wd))
    same_day = int(np.floor(total * P.same_day_reserve[unit, role] + 0.5))
    return total, same_day


@jit
def open_routine_day(S, P, u, r, x):
    """Put day x's routine slots of role r at unit u into the ring (and remember how many were opened, for
    the capacity ledger)."""
    total, same_day = day_capacity(P, u, r, x)
    at = x % (P.horizon + 1)
    S.routine_free[u, r, at] = total - same_day
    S.routine_opened[u, r, at] = total - same_day
    S.routine_left[u, r] += total - same_day


@jit
def open_diary(S, P, day):
    """Set today's same-day slots and put day + horizon's routine slots into the ring."""
    for u in range(P.cap_rate.shape[0]):
        for r in range(N_ROLES):
            open_routine_day(S, P, u, r, day + P.horizon)
            _, same_day = day_capacity(P, u, r, day)
            S.sameday_free[u, r] = same_day


@entry
def init_diary(S, P, day):
    """Routine slots for days [day, day + horizon) before the first `open_diary`."""
    for u in range(P.cap_rate.shape[0]):
        for r in range(N_ROLES):
            S.routine_left[u, r] = 0
            S.routine_first[u, r] = day
    for x in range(day, day + P.horizon):
        for u in range(P.cap_rate.shape[0]):
            for r in range(N_ROLES):
                open_routine_day(S, P, u, r, x)


@jit
def return_slots(S, P, W, day):
    """Give the slots released by closed episodes (all on `day` or later: `episodes.release_booking`) back
    to the diaries."""
    ring = P.horizon + 1
    for x in range(W.n_released[0]):
        where, slots = W.released[x] >> np.int64(8), W.released[x] & np.int64(255)
        unit, role, at = (where // ring) // N_ROLES, (where // ring) % N_ROLES, where % ring
        S.routine_free[unit, role, at] += slots
        S.routine_left[unit, role] += slots
        S.routine_first[unit, role] = min(S.routine_first[unit, role], day + (at - day % ring) % ring)
    W.n_released[0] = 0


@jit
def slots_needed(P, need, role):
    """Slots a contact takes: an urgent home visit by a GP takes several."""
    return P.home_visit_slots if (need == URGENT_HOME_VISIT and role == GP) else 1


@jit
def find_slot(S, P, day, practice, role, need, urgency):
    """Earliest slot for a role: own practice first, then the network pool, then the shared pool of a
    network of networks. Returns (unit, day) or (-1, -1).

    Same-day and urgent requests take today's reserved slots, then any of today's routine slots still free;
    routine requests take the earliest free routine slot within the booking horizon, searched from
    `routine_first`, the unit's earliest day for the role that may have a free slot.
    """
    pool = P.practice_pcn.shape[0] + P.practice_pcn[practice]
    shared = P.pcn_shared[P.practice_pcn[practice]]
    slots = slots_needed(P, need, role)
    ring = P.horizon + 1
    last = min(day + P.horizon, P.working.shape[0] - 1)
    for which in range(3 if shared >= 0 else 2):
        unit = np.int64(practice) if which == 0 else (np.int64(pool) if which == 1 else np.int64(shared))
        if urgency >= SAME_DAY:
            if S.sameday_free[unit, role] >= slots:
                S.sameday_free[unit, role] -= slots
                return unit, np.int64(day)
            if S.routine_free[unit, role, day % ring] >= slots:  # today's unbooked routine slots
                S.routine_free[unit, role, day % ring] -= slots
                S.routine_left[unit, role] -= slots
                return unit, np.int64(day)
            continue
        if S.routine_left[unit, role] < slots:
            continue
        first = max(np.int64(day), np.int64(S.routine_first[unit, role]))
        seen = -1  # the first day found with a free slot (fewer than `slots`, or the one taken)
        at = first % ring
        for x in range(first, last + 1):
            free = S.routine_free[unit, role, at]
            if free > 0 and seen < 0:
                seen = x
            if free >= slots:
                S.routine_free[unit, role, at] -= slots
                S.routine_left[unit, role] -= slots
                S.routine_first[unit, role] = seen
                return unit, np.int64(x)
            at += 1
            if at == ring:
                at = 0
        S.routine_first[unit, role] = seen if seen >= 0 else last + 1
    return np.int64(-1), np.int64(-1)


@jit
def navigate(S, P, day, practice, need, urgency):
    """A navigator's booking: the best-fitting role for the need (`nav_order`) that the practice's patients
    can reach and that has a slot (today for a same-day or urgent request, within the horizon for a routine
    one). Returns (unit, day, role), or (-1, -1, -1) if no fitting role has one."""
    for j in range(N_ROLES):
        role = P.nav_order[need, j]
        if role < 0:
            break
        if reachable(P, practice, role):
            unit, booked_day = find_slot(S, P, day, practice, role, need, urgency)
            if unit >= 0:
                return unit, booked_day, np.int64(role)
    return np.int64(-1), np.int64(-1), np.int64(-1)


@jit
def book(S, P, T, W, day):
    """Book the day's requests in booking order (`W.order`; sequential: every booking depends on the ones
    before): each gets a unit and day, or waits, or is unserved; contacts booked for today join the day's
    contacts and unserved requests going to A&E its attendances. The outcomes reach the episodes in
    `contacts.take_bookings`."""
    req_i, req_k, con_i, con_k, ae_i, ae_k = W.req_i, W.req_k, W.con_i, W.con_k, W.ae_i, W.ae_k
    n_con, n_ae = W.n_contacts[0], W.n_ae[0]
    next_day = P.next_working[day] if day + 1 < P.working.shape[0] else day + 1
    for c in range(P.nav_per_day.shape[0]):
        W.nav_left[c] = np.int64(np.floor(P.nav_per_day[c] + 0.5)) if P.working[day] else 0
    for q in range(W.n_requests[0]):
        o = slot(W.order[q])
        urgency = W.req_urg[o]
        if urgency == ROUTINE and not P.working[day]:  # a routine request waits for the next working day
            W.req_unit[o] = WAITING
            W.req_day[o] = next_day
            continue
        practice = W.req_practice[o]
        need = W.req_need[o]
        unit, booked_day = -1, -1
        if P.working[day]:
            role = W.req_role[o]
            pcn = P.practice_pcn[practice]
            if W.req_nav[o] and W.nav_left[pcn] > 0:
                W.nav_left[pcn] -= 1
                T.weekly[week_of(day), practice, M_NAVIGATED] += 1
                unit, booked_day, fitted = navigate(S, P, day, practice, need, urgency)
                if unit >= 0:
                    role = fitted
                    W.req_role[o] = role
            if unit < 0:
                unit, booked_day = find_slot(S, P, day, practice, role, need, urgency)
            if unit < 0:
                T.weekly[week_of(day), practice, M_UNPLACED + role] += 1
            elif unit >= P.practice_pcn.shape[0] and P.cap_rate[practice, role] > 0.0:
                T.weekly[week_of(day), practice, M_TO_NETWORK + role] += 1
            if unit < 0 and role != GP:
                W.req_role[o] = GP
                unit, booked_day = find_slot(S, P, day, practice, GP, need, urgency)
        if unit >= 0:
            W.req_unit[o] = unit
            W.req_day[o] = booked_day
            if booked_day == day:
                con_i[n_con] = req_i[o]
                con_k[n_con] = req_k[o]
                n_con += 1
            continue
        W.req_unit[o] = UNSERVED
        if W.req_spill[o]:
            ae_i[n_ae] = req_i[o]
            ae_k[n_ae] = req_k[o]
            n_ae += 1
            W.req_day[o] = NEVER
        else:
            W.req_day[o] = next_day
    W.n_contacts[0] = n_con
    W.n_ae[0] = n_ae


@jit
def record_capacity(S, P, T, day):
    """Step 9's capacity ledger: slots offered and used today by unit and role; today's unbooked routine
    slots expire. Offered is what the diary opened for today: its routine slots as opened `horizon` days
    ago and today's same-day reserve, so a capacity that changed since (a lever ramping up) is not
    counted at its new size against bookings made at the old."""
    ring = P.horizon + 1
    wk = week_of(day)
    for u in range(P.cap_rate.shape[0]):
        for r in range(N_ROLES):
            _, same_day = day_capacity(P, u, r, day)
            offered = same_day + S.routine_opened[u, r, day % ring]
            if offered > 0:
                free = S.sameday_free[u, r] + S.routine_free[u, r, day % ring]
                T.cap_offered[wk, u, r] += offered
                T.cap_used[wk, u, r] += offered - free
            S.routine_left[u, r] -= S.routine_free[u, r, day % ring]
