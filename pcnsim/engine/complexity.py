"""Complexity (0-3) moves monthly: up with unmet need, in complex segments and in old age; down with needs
met by a service that fits them, faster on the complex-care team's caseload.
"""

from ..vocab import DAYS_PER_MONTH
from . import rng as R
from .casefinding import enrolled
from .clocks import age_of
from .config import jit

OLD_AGE = 80  # escalation is faster from this age (`P.old_age_mult`)
TOP = 3  # the highest complexity level


@jit
def transition_probabilities(S, P, i, day):
    """(up, down): this month's chances that patient i's complexity rises or falls one level."""
    rec = S.patients[i]
    c = rec["cx"]
    up = P.esc[c] * (1.0 + P.unmet_effect * rec["unmet_month"] / DAYS_PER_MONTH)
    if P.seg_complex[rec["seg"]]:
        up *= P.complex_seg_mult
    if age_of(rec["birth_day"], day, P.max_age) >= OLD_AGE:
        up *= P.old_age_mult
    down = P.desc[c] * (1.0 + P.fit_effect * rec["fit_month"])
    if enrolled(S, i, day):
        down *= P.mdt_desc_mult
    if c == TOP:
        up = 0.0
    if c == 0:
        down = 0.0
    up = min(up, 1.0)
    return up, min(down, 1.0 - up)


@jit
def move_complexity(S, P, i, day):
    """Patient i's monthly complexity transition (one draw against up, then up + down)."""
    rec = S.patients[i]
    c = rec["cx"]
    up, down = transition_probabilities(S, P, i, day)
    u = R.uniform(P.keys[R.COMPLEXITY], rec["pid"], day, 0)
    if c < TOP and u < up:
        rec["cx"] = c + 1
    elif c > 0 and u < up + down:
        rec["cx"] = c - 1
