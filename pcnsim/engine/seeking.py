"""Onset, self-resolution, care seeking and triage (docs/model.md): the day's pass over the patients
with an event due.

Each due patient's episodes self-resolve or not, a new episode may start, the background A&E clock may
ring, and every episode whose next ask is today either attends its booked contact, asks primary care (the
request is triaged to a role and listed for booking, with everything booking needs of it, while the
patient is in cache), goes straight to A&E, or waits to ask again. Booking, the one step in which patients
compete, then works from the lists alone.
"""

import numpy as np

from ..vocab import MDT, N_ROLES
from . import rng as R
from .bitscan import lowest_set_bit
from .casefinding import enrolled
from .clocks import age_of, next_redraw, ring_day
from .config import jit
from .counters import count
from .episodes import K, close_episode, next_event_of, open_episode, schedule_return
from .hints import AHEAD, prefetch_patient, prefetch_pays, slot
from .hospital import goes_direct_to_ae, spills_to_ae
from .prefetch import prefetch
from .state import C_REQUESTS, M_SELF_RESOLVED, NEVER


@jit
def list_due(next_event, active, n, day):
    """Put the slots [0, n) with an event due by `day` at active[0:], in slot order; returns how many. 64
    slots at a time: their comparisons make one bit mask (a loop LLVM vectorises) whose set bits are read
    off, so the ~95% of slots with nothing due cost no branch."""
    m = 0
    i = 0
    while i + 64 <= n:
        mask = np.uint64(0)
        for j in range(64):
            mask |= np.uint64(next_event[slot(i + j)] <= day) << np.uint64(j)
        while mask != np.uint64(0):
            active[slot(m)] = i + lowest_set_bit(mask)
            m += 1
            mask &= mask - np.uint64(1)
        i += 64
    for q in range(i, n):
        if next_event[slot(q)] <= day:
            active[slot(m)] = q
            m += 1
    return m


@jit
def reachable(P, practice, role):
    """Whether a practice's patients can be seen by a role: at the practice, its network pool or a shared
    pool of a network of networks."""
    pool = P.practice_pcn.shape[0] + P.practice_pcn[practice]
    shared = P.pcn_shared[P.practice_pcn[practice]]
    return (P.cap_rate[practice, role] > 0.0 or P.cap_rate[pool, role] > 0.0
            or (shared >= 0 and P.cap_rate[shared, role] > 0.0))


@jit
def asks_for_care(S, P, i, k, day, age):
    """Whether episode k asks primary care today: always when already waiting for a slot, else with the
    patient's access propensity (age, sex, deprivation) for the need type, lower for a follow-up."""
    rec = S.patients[i]
    if rec["ep_wait"][k] >= 0:
        return True
    p_seek = P.access[rec["sex"], age, rec["dep"]] * P.seek_mult[rec["ep_type"][k]]
    if rec["ep_n"][k] > 0:
        p_seek *= P.follow_up_mult
    return R.uniform(P.keys[R.SEEK], rec["pid"], day, k) < p_seek


@jit
def triage(S, P, i, k, day):
    """The role a request goes to: a referral's role, else the complex-care team for an enrolled patient's
    needs it takes, else a draw from the practice's routing table."""
    rec = S.patients[i]
    if rec["ep_pref"][k] >= 0:
        return rec["ep_pref"][k]
    t = rec["ep_type"][k]
    if P.mdt_needs[t] and enrolled(S, i, day) and reachable(P, rec["practice"], MDT):
        return MDT
    route = P.route_cum[rec["practice"], t]
    u = R.uniform(P.keys[R.TRIAGE], rec["pid"], day, k)
    for r in range(N_ROLES):
        if u < route[r]:
            return r
    return N_ROLES - 1


@jit
def list_request(S, P, W, r, i, k, day, age):
    """Put patient i's episode k at place r of the day's requests with its booking order key (urgency first,
    then a counter-based random priority) and what booking needs of it: need, urgency, practice, the role
    triage sends it to (on working days), whether care navigation may redirect it, and whether it goes to
    A&E if no slot is found."""
    rec = S.patients[i]
    urgency = rec["ep_urg"][k]
    W.req_i[r] = i
    W.req_k[r] = k
    priority = R.bits(P.keys[R.PRIORITY], rec["pid"], day, k) >> np.uint64(3)
    W.order_key[r] = (np.uint64(2 - urgency) << np.uint64(61)) | priority
    W.req_need[r] = rec["ep_type"][k]
    W.req_urg[r] = urgency
    W.req_practice[r] = rec["practice"]
    role = triage(S, P, i, k, day) if P.working[day] else -1
    W.req_role[r] = role
    W.req_spill[r] = spills_to_ae(S, P, i, k, day, age)
    # care navigation may redirect a request triaged by the practice's routing, not a referral's or the
    # complex-care team's (`diary.navigate`)
    W.req_nav[r] = role >= 0 and rec["ep_pref"][k] < 0 and role != MDT


@jit
def patient_pass(S, P, T, W, day):
    """Steps 2-4 for every patient with an event due today (slot order): self-resolution, onset,
    background A&E, then each episode asking today. Lists the day's requests (`W.req_*`, with their
    booking keys), the contacts booked on earlier days (`W.con_*`) and the A&E attendances (`W.ae_*`)."""
    keys = P.keys
    active, con_i, con_k, ae_i, ae_k = W.active, W.con_i, W.con_k, W.ae_i, W.ae_k
    ahead = prefetch_pays(S)
    redraw = next_redraw(day)
    n_active = list_due(S.next_event, active, S.patients.shape[0], day)
    n_req = 0
    n_con = 0
    n_ae = 0
    for a in range(n_active):
        if ahead and a + AHEAD < n_active:
            prefetch_patient(S, active[a + AHEAD])
        if ahead and a + AHEAD // 2 < n_active:  # that patient's row of onset rates, if an onset is due
            soon = S.patients[slot(active[a + AHEAD // 2])]
            if soon["next_onset"] <= day:
                prefetch(P.onset_rate[soon["seg"], soon["sex"], age_of(soon["birth_day"], day, P.max_age)], soon["dep"])
        i = slot(active[a])
        rec = S.patients[i]
        listed = n_req + n_con + n_ae
        pid = rec["pid"]
        age = age_of(rec["birth_day"], day, P.max_age)
        for k in range(K):  # a free slot's days are NEVER: no test of whether the slot is open
            if rec["ep_selfres"][k] <= day:
                close_episode(S, P, T, W, i, k, day, M_SELF_RESOLVED)
        if rec["next_onset"] <= day:
            open_episode(S, P, T, i, day, age)
            rate = P.onset_total[rec["seg"], rec["sex"], age, rec["dep"]] * P.cx_onset_mult[rec["cx"]]
            rec["next_onset"] = ring_day(day + 1, R.uniform(keys[R.ONSET_TIME], pid, day, 1), rate, redraw)
        if rec["next_bg_ae"] <= day:
            ae_i[n_ae] = i
            ae_k[n_ae] = -1
            n_ae += 1
            rate = P.ae_bg_daily[age, rec["dep"]]
            rec["next_bg_ae"] = ring_day(day + 1, R.uniform(keys[R.BACKGROUND_AE], pid, day, 1), rate, redraw)
        due = np.uint64(0)  # the episodes asking today, as bits: no branch on each slot (taken at random)
        for k in range(K):
            due |= np.uint64(rec["ep_next"][k] <= day) << np.uint64(k)
        while due != np.uint64(0):
            k = lowest_set_bit(due)
            due &= due - np.uint64(1)
            if rec["ep_booked"][k] > 0:  # its contact is today
                con_i[n_con] = i
                con_k[n_con] = k
                n_con += 1
            elif asks_for_care(S, P, i, k, day, age):
                count(S, T, i, C_REQUESTS, day, 1)
                list_request(S, P, W, n_req, i, k, day, age)
                n_req += 1
                rec["ep_next"][k] = NEVER
            elif goes_direct_to_ae(S, P, i, k, day, age):
                ae_i[n_ae] = i
                ae_k[n_ae] = k
                n_ae += 1
                rec["ep_next"][k] = NEVER
            else:
                schedule_return(S, P, i, k, day)
        if n_req + n_con + n_ae == listed:  # nothing more today: next event now, while the patient is in cache
            S.next_event[i] = next_event_of(S, i)
    W.n_requests[0] = n_req
    W.n_contacts[0] = n_con
    W.n_earlier_contacts[0] = n_con
    W.n_ae[0] = n_ae
