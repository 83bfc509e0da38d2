"""The complex-care team's caseload: monthly case finding and enrolment.

Each month, patients with at least `mdt_min_contacts` primary-care contacts within `mdt_window` days and
complexity of at least `mdt_min_cx` are candidates; the most complex first, then a counter-based random
priority, join while their PCN's caseload has room, for `mdt_days`. Enrolled patients' complex,
mental-health and social needs go to the team (`seeking.triage`), those needs take them to A&E less
(`hospital.care_plan_factor`) and their complexity comes down faster (`complexity`).
"""

import numpy as np

from . import rng as R
from .config import jit
from .counters import count
from .hints import slot
from .sorting import sort_keys
from .state import C_MDT_MONTHS


@jit
def enrolled(S, i, day):
    """On the complex-care team's caseload today."""
    return S.patients[i]["enrolled_until"] > day


@jit
def start_case_finding(P, W):
    """Empty the month's caseload counts; whether any PCN has a team."""
    on = False
    for c in range(W.caseload.shape[0]):
        W.caseload[c] = 0
        if P.mdt_caseload[c] > 0:
            on = True
    W.n_candidates[0] = 0
    return on


@jit
def note_for_case_finding(S, P, T, W, i, day, memory):
    """Count patient i on its PCN's caseload (a month more on it), or list it as a candidate with its order
    key: complexity rank in the top bits, a random priority below (`memory`: the index of the contact day
    that must fall within the window)."""
    rec = S.patients[i]
    pcn = P.practice_pcn[rec["practice"]]
    if enrolled(S, i, day):
        W.caseload[pcn] += 1
        count(S, T, i, C_MDT_MONTHS, day, 1)
    elif (P.mdt_caseload[pcn] > 0 and rec["cx"] >= P.mdt_min_cx
          and S.last_contacts[i, memory] > day - P.mdt_window):
        n = W.n_candidates[0]
        W.req_i[n] = i
        rank = np.uint64(3 - rec["cx"]) << np.uint64(61)
        W.order_key[n] = rank | (R.bits(P.keys[R.CASE_FINDING], rec["pid"], day, 0) >> np.uint64(3))
        W.n_candidates[0] = n + 1


@jit
def find_cases(S, P, T, W, day):
    """Enrol the month's candidates in order while their PCN's caseload has room."""
    n = W.n_candidates[0]
    if n == 0:
        return
    sort_keys(W, n)
    for q in range(n):
        i = slot(W.req_i[slot(W.order[q])])
        rec = S.patients[i]
        pcn = P.practice_pcn[rec["practice"]]
        if W.caseload[pcn] < P.mdt_caseload[pcn]:
            rec["enrolled_until"] = day + P.mdt_days
            W.caseload[pcn] += 1
            count(S, T, i, C_MDT_MONTHS, day, 1)
