"""What a run counts as events happen: each patient's yearly counters, each practice's weekly counters
and the optional touchpoint ledger (one row per touchpoint).
"""

from .clocks import week_of
from .config import jit
from .state import L_DAY, L_EPISODE, L_NEED, L_OUTCOME, L_PID, L_SETTING, L_UNIT, L_URGENCY


@jit
def count(S, T, i, column, day, n):
    """Add n to patient i's yearly counter and to its practice's weekly counter."""
    rec = S.patients[i]
    rec["counters"][column] += n
    T.weekly[week_of(day), rec["practice"], column] += n


@jit
def log_touch(S, T, i, day, setting, unit, need, outcome, urgency, k):
    """A row of the touchpoint ledger, when it is kept (rows past its room are counted, not written)."""
    if not T.ledger_on:
        return
    rec = S.patients[i]
    n = T.n_ledger[0]
    if n < T.ledger.shape[0]:
        row = T.ledger[n]
        row[L_DAY] = day
        row[L_PID] = rec["pid"]
        row[L_SETTING] = setting
        row[L_UNIT] = unit
        row[L_NEED] = need
        row[L_OUTCOME] = outcome
        row[L_URGENCY] = urgency
        row[L_EPISODE] = k
    T.n_ledger[0] = n + 1
