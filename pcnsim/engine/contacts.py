"""Contacts (docs/model.md): booking's outcomes reach the episodes; booked contacts are attended or
missed, resolve the need with the match matrix's probability (higher with the patient's usual GP), or lead
to a revisit and referrals.
"""

from ..vocab import COMMUNITY_NURSE, DNA, GP, OUTPATIENT, RESOLVED, REVISIT, URGENT_HOME_VISIT
from . import rng as R
from .clocks import week_of
from .config import jit
from .continuity import with_usual_gp
from .counters import count, log_touch
from .diary import UNSERVED, slots_needed
from .episodes import close_episode, flush_unmet, next_event_of, schedule_return
from .hints import AHEAD, prefetch_patient, prefetch_pays, slot
from .prefetch import prefetch
from .seeking import reachable
from .state import C_CLUSTER, C_DNA, C_REVISITS, C_UNSERVED, CLUSTER_CONTACTS, CLUSTER_WINDOW, M_HOME_VISITS, M_RESOLVED


@jit
def take_booking(S, P, T, W, o, day):
    """Write booking's outcome for request o to its episode: the booked slot, unit, role, lead time and day;
    or, for a request not booked, the day it waits since (if not yet waiting), whether it counts as
    unserved, and the day it asks again (none while it is on its way to A&E)."""
    i, k = slot(W.req_i[o]), slot(W.req_k[o])
    rec = S.patients[i]
    unit = W.req_unit[o]
    rec["ep_next"][k] = W.req_day[o]
    if unit >= 0:
        role = W.req_role[o]
        rec["ep_booked"][k] = slots_needed(P, rec["ep_type"][k], role)
        rec["ep_unit"][k] = unit
        rec["ep_role"][k] = role
        rec["ep_lead"][k] = W.req_day[o] - day
        rec["ep_wait"][k] = -1
        return
    if unit == UNSERVED:
        count(S, T, i, C_UNSERVED, day, 1)
    if rec["ep_wait"][k] < 0:
        rec["ep_wait"][k] = day


@jit
def take_bookings(S, P, T, W, day):
    """Booking's outcomes for the day's requests, in the order they were listed, each followed by its
    patient's next event."""
    req_i = W.req_i
    n = W.n_requests[0]
    ahead = prefetch_pays(S)
    for o in range(n):
        if ahead and o + AHEAD < n:
            prefetch_patient(S, req_i[o + AHEAD])
        take_booking(S, P, T, W, slot(o), day)
        i = slot(req_i[o])
        S.next_event[i] = next_event_of(S, i)


@jit
def note_contact_day(S, T, i, day):
    """Remember the latest primary-care contact days (newest first); count a contact that is the 4th+ in
    30 days."""
    last = S.last_contacts
    if last[i, CLUSTER_CONTACTS - 1] > day - CLUSTER_WINDOW:
        count(S, T, i, C_CLUSTER, day, 1)
    for c in range(last.shape[1] - 1, 0, -1):
        last[i, c] = last[i, c - 1]
    last[i, 0] = day


@jit
def contact(S, P, T, W, i, k, day):
    """A booked contact today: did-not-attend (more likely the longer the lead time), or attend and maybe
    resolve (more likely with the usual GP); an unresolved need may be referred to outpatients or to another
    role, and returns."""
    rec = S.patients[i]
    pid = rec["pid"]
    t = rec["ep_type"][k]
    role = rec["ep_role"][k]
    unit = rec["ep_unit"][k]
    urgency = rec["ep_urg"][k]
    lead = rec["ep_lead"][k]
    rec["ep_booked"][k] = 0
    p_dna = P.dna_same + (P.dna_week - P.dna_same) * min(lead, 7) / 7.0
    if R.uniform(P.keys[R.DNA], pid, day, k) < p_dna:
        count(S, T, i, C_DNA, day, 1)
        log_touch(S, T, i, day, role, unit, t, DNA, urgency, k)
        schedule_return(S, P, i, k, day)
        return
    count(S, T, i, role, day, 1)
    if role != COMMUNITY_NURSE:
        if rec["ep_n"][k] > 0:
            count(S, T, i, C_REVISITS, day, 1)
        note_contact_day(S, T, i, day)
    if t == URGENT_HOME_VISIT and role == GP:
        T.weekly[week_of(day), rec["practice"], M_HOME_VISITS] += 1
    flush_unmet(S, T, i, k, day)
    rec["ep_acc"][k] = day + 1
    rec["ep_n"][k] += 1
    p_resolve = max(P.match[t, role], 0.0)
    if role == GP and with_usual_gp(S, P, T, i, k, unit, day):
        p_resolve = min(p_resolve * P.usual_gp_resolve, 1.0)
    if R.uniform(P.keys[R.RESOLVE], pid, day, k) < p_resolve:
        if P.fit[t, role]:
            rec["fit_month"] += 1
        log_touch(S, T, i, day, role, unit, t, RESOLVED, urgency, k)
        close_episode(S, P, T, W, i, k, day, M_RESOLVED)
        return
    log_touch(S, T, i, day, role, unit, t, REVISIT, urgency, k)
    if R.uniform(P.keys[R.OUTPATIENT], pid, day, k) < P.outpatient_ref[t]:
        count(S, T, i, OUTPATIENT, day, 1)
        log_touch(S, T, i, day, OUTPATIENT, -1, t, REVISIT, urgency, k)
    target = P.referral_role[t]
    if (target >= 0 and role != target and rec["ep_pref"][k] != target and reachable(P, rec["practice"], target)
            and R.uniform(P.keys[R.REFERRAL], pid, day, k) < P.referral_prob[t]):
        rec["ep_pref"][k] = target
    schedule_return(S, P, i, k, day)


@jit
def visit_contacts(S, P, T, W, day, c0, c1):
    """The contacts at places [c0, c1) of today's list, each followed by its patient's next event."""
    con_i, con_k = W.con_i, W.con_k
    ahead = prefetch_pays(S)
    for c in range(c0, c1):
        if ahead and c + AHEAD < c1:
            prefetch_patient(S, con_i[c + AHEAD])
            prefetch(S.last_contacts, con_i[c + AHEAD])
        i = slot(con_i[c])
        contact(S, P, T, W, i, slot(con_k[c]), day)
        S.next_event[i] = next_event_of(S, i)


@jit
def earlier_contacts(S, P, T, W, day):
    """The contacts booked on earlier days for today (listed by `seeking.patient_pass`)."""
    visit_contacts(S, P, T, W, day, 0, W.n_earlier_contacts[0])


@jit
def todays_contacts(S, P, T, W, day):
    """The contacts booked today for today (listed by `diary.book`)."""
    visit_contacts(S, P, T, W, day, W.n_earlier_contacts[0], W.n_contacts[0])
