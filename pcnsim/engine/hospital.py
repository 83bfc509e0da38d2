"""A&E and emergency admissions (docs/model.md): who goes, who is admitted, what hospital resolves.

Three ways to A&E: a background clock (injuries and other attendances not tied to a need episode); direct,
when a patient with a need decides not to ask primary care; and spill-over, when a request finds no slot.
The last two, and admission after them, are less likely the better the patient's continuity of GP care
(`continuity`).
Each decision is drawn where the patient's state is at hand (the spill-over one as the request is listed,
so booking need not touch the patient); the attendances themselves happen at the day's end.
"""

from ..vocab import ADMISSION, AE, N_ROLES, NO_EPISODE, RESOLVED, REVISIT, URGENT
from . import rng as R
from .casefinding import enrolled
from .clocks import age_of, week_of
from .config import jit
from .continuity import admission_continuity, ae_continuity
from .counters import count, log_touch
from .episodes import K, close_episode, flush_unmet, next_event_of, schedule_return
from .hints import AHEAD, prefetch_patient, prefetch_pays, slot
from .state import C_AE_SENSITIVE, M_AE_BACKGROUND, M_RESOLVED

AE_COLUMN = N_ROLES  # the A&E column of the match matrix


@jit
def care_plan_factor(S, P, i, k, day):
    """Multiplier on the chance that episode k takes its patient to A&E: lower while the patient is on the
    complex-care caseload and the need is one the team's care plan covers (`mdt_needs`); injuries and
    other background attendances, and needs outside the plan, are untouched."""
    rec = S.patients[i]
    return P.mdt_ae_mult if P.mdt_needs[rec["ep_type"][k]] and enrolled(S, i, day) else 1.0


@jit
def goes_direct_to_ae(S, P, i, k, day, age):
    """Whether a patient who does not ask primary care about episode k goes straight to A&E: by urgency, age
    and deprivation, the caseload and continuity of GP care."""
    rec = S.patients[i]
    p_direct = (P.ae_direct[rec["ep_urg"][k]] * P.ae_mult[age, rec["dep"]] * care_plan_factor(S, P, i, k, day)
                * ae_continuity(S, P, i))
    return R.uniform(P.keys[R.DIRECT_AE], rec["pid"], day, k) < p_direct


@jit
def spills_to_ae(S, P, i, k, day, age):
    """Whether episode k's request goes to A&E if it finds no slot today: more likely the more urgent, the
    longer it has waited, and by age and deprivation, the caseload and continuity of GP care."""
    rec = S.patients[i]
    urgency = rec["ep_urg"][k]
    waited = day - rec["ep_wait"][k] if rec["ep_wait"][k] >= 0 else 0
    p_ae = (P.ae_unserved[urgency] * (1.0 + P.ae_wait_slope * waited) * P.ae_mult[age, rec["dep"]]
            * care_plan_factor(S, P, i, k, day) * ae_continuity(S, P, i))
    return R.uniform(P.keys[R.AE_CHOICE], rec["pid"], day, k) < p_ae


@jit
def attend_ae(S, P, T, W, i, k, day, sensitive):
    """An A&E attendance, with k = -1 for background attendances not tied to an episode: admission by age
    and complexity (and, for an episode, continuity of GP care); an episode's need is resolved with the
    hospital's probability, else it returns."""
    rec = S.patients[i]
    pid = rec["pid"]
    age = age_of(rec["birth_day"], day, P.max_age)
    count(S, T, i, AE, day, 1)
    if sensitive:
        count(S, T, i, C_AE_SENSITIVE, day, 1)
    draw_k = k if k >= 0 else K
    p_admit = P.admit[age, rec["cx"]]
    if k >= 0:
        p_admit = min(p_admit * admission_continuity(S, P, i), 1.0)
    admitted = R.uniform(P.keys[R.ADMIT], pid, day, draw_k) < p_admit
    if admitted:
        count(S, T, i, ADMISSION, day, 1)
    if k < 0:
        T.weekly[week_of(day), rec["practice"], M_AE_BACKGROUND] += 1
        log_touch(S, T, i, day, AE, -1, -1, NO_EPISODE, URGENT, draw_k)
        if admitted:
            log_touch(S, T, i, day, ADMISSION, -1, -1, NO_EPISODE, URGENT, draw_k)
        return
    t = rec["ep_type"][k]
    urgency = rec["ep_urg"][k]
    flush_unmet(S, T, i, k, day)
    rec["ep_acc"][k] = day + 1
    rec["ep_n"][k] += 1
    p_resolve = P.admission_resolves if admitted else max(P.match[t, AE_COLUMN], 0.0)
    resolved = R.uniform(P.keys[R.HOSPITAL_RESOLVE], pid, day, k) < p_resolve
    outcome = RESOLVED if resolved else REVISIT
    log_touch(S, T, i, day, AE, -1, t, outcome, urgency, k)
    if admitted:
        log_touch(S, T, i, day, ADMISSION, -1, t, outcome, urgency, k)
    if resolved:
        close_episode(S, P, T, W, i, k, day, M_RESOLVED)
    else:
        schedule_return(S, P, i, k, day)


@jit
def attend_listed_ae(S, P, T, W, day):
    """The day's A&E attendances in list order: background and direct ones (slot order), then spill-over
    (booking order); every attendance tied to a need episode is primary-care sensitive."""
    ae_i, ae_k = W.ae_i, W.ae_k
    n_ae = W.n_ae[0]
    ahead = prefetch_pays(S)
    for a in range(n_ae):
        if ahead and a + AHEAD < n_ae:
            prefetch_patient(S, ae_i[a + AHEAD])
        i = slot(ae_i[a])
        attend_ae(S, P, T, W, i, ae_k[a], day, ae_k[a] >= 0)
        S.next_event[i] = next_event_of(S, i)
