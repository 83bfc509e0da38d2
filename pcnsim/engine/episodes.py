"""Need episodes: onset (need type and urgency), unmet-need accounting, closing, the next ask.

A patient holds up to EPISODE_SLOTS open episodes; a free slot holds NEVER as its next, self-resolution
and accounting days, so every slot can be read without asking whether it is open. An episode's days
without a contact count as unmet need (they drive complexity escalation); a contact or A&E attendance
moves its accounting day on.
"""

import numpy as np

from ..vocab import N_ROLES, ROUTINE, SAME_DAY, URGENT
from . import rng as R
from .clocks import revisit_days, waiting_days, week_of
from .config import jit
from .counters import count
from .state import C_EPISODES, C_UNMET_DAYS, EPISODE_SLOTS, M_MERGED, NEVER

K = EPISODE_SLOTS


@jit
def next_event_of(S, i):
    """Patient i's next event day: the least of its clocks and its episodes' next and self-resolution days
    (a free slot's are NEVER, so every slot is read without a branch)."""
    rec = S.patients[i]
    nxt = min(rec["next_onset"], rec["next_bg_ae"])
    for k in range(K):
        nxt = min(nxt, rec["ep_next"][k], rec["ep_selfres"][k])
    return nxt


@jit
def flush_unmet(S, T, i, k, day):
    """Count episode k's days from its last accounting point up to (not including) `day` as unmet."""
    rec = S.patients[i]
    acc = rec["ep_acc"][k]
    if day > acc:
        add = day - acc
        rec["counters"][C_UNMET_DAYS] += add
        rec["unmet_month"] += add
        T.weekly[week_of(day - 1), rec["practice"], C_UNMET_DAYS] += add
        rec["ep_acc"][k] = day


@jit
def flush_all_unmet(S, T, i, day):
    """`flush_unmet` for every episode of patient i (a free slot's accounting day is NEVER, so it adds
    nothing); the episodes' days are added up and counted once."""
    rec = S.patients[i]
    total = 0
    for k in range(K):
        acc = rec["ep_acc"][k]
        total += max(day - acc, 0)
        rec["ep_acc"][k] = max(acc, day)
    rec["counters"][C_UNMET_DAYS] += total
    rec["unmet_month"] += total
    T.weekly[week_of(max(day - 1, 0)), rec["practice"], C_UNMET_DAYS] += total


@jit
def release_booking(S, P, W, i, k, day):
    """Note episode k's booked slot, if it is still to come, for the diary to take back before the day's
    booking (`diary.return_slots`): its diary position and the slots it holds, packed in one number."""
    rec = S.patients[i]
    slots = rec["ep_booked"][k]
    if slots > 0 and rec["ep_next"][k] >= day:
        ring = P.horizon + 1
        where = (rec["ep_unit"][k] * N_ROLES + rec["ep_role"][k]) * ring + rec["ep_next"][k] % ring
        x = W.n_released[0]
        W.released[x] = (np.int64(where) << np.int64(8)) | slots
        W.n_released[0] = x + 1
    rec["ep_booked"][k] = 0


@jit
def close_episode(S, P, T, W, i, k, day, metric):
    """Close episode k (resolved, self-resolved or closed by the patient leaving: `metric`), freeing its slot."""
    rec = S.patients[i]
    flush_unmet(S, T, i, k, day)
    release_booking(S, P, W, i, k, day)
    T.weekly[week_of(day), rec["practice"], metric] += 1
    rec["ep_type"][k] = -1
    rec["ep_next"][k] = NEVER
    rec["ep_selfres"][k] = NEVER
    rec["ep_acc"][k] = NEVER
    rec["ep_wait"][k] = -1
    rec["ep_pref"][k] = -1


@jit
def onset_need(P, pid, day, seg, sex, age, dep):
    """The need type of an onset, drawn in proportion to the person's onset rates by type."""
    rates = P.onset_rate[seg, sex, age, dep]
    target = R.uniform(P.keys[R.ONSET_TYPE], pid, day, 0) * P.onset_total[seg, sex, age, dep]
    t = -1
    cum = 0.0
    for j in range(rates.shape[0]):
        cum += rates[j]
        if rates[j] > 0.0:
            t = j  # a draw rounding onto the total falls to the last need this person can have
            if target < cum:
                break
    return t


@jit
def onset_urgency(P, pid, day, need):
    """Routine, same-day or urgent, by the need type's shares."""
    u = R.uniform(P.keys[R.URGENCY], pid, day, 0)
    if u < P.need_urgent[need]:
        return URGENT
    if u < P.need_urgent[need] + P.need_same_day[need]:
        return SAME_DAY
    return ROUTINE


@jit
def open_episode(S, P, T, i, day, age):
    """Onset: an episode of a drawn need type and urgency, asking today, in a free slot; with every slot
    taken the onset is counted as merged into the open episodes."""
    rec = S.patients[i]
    pid = rec["pid"]
    t = onset_need(P, pid, day, rec["seg"], rec["sex"], age, rec["dep"])
    free = -1
    for k in range(K):
        if rec["ep_type"][k] < 0:
            free = k
            break
    if free < 0:
        T.weekly[week_of(day), rec["practice"], M_MERGED] += 1
        return
    rec["ep_type"][free] = t
    rec["ep_urg"][free] = onset_urgency(P, pid, day, t)
    rec["ep_open"][free] = day
    rec["ep_next"][free] = day
    g = waiting_days(R.uniform(P.keys[R.SELF_RESOLUTION], pid, day, free), P.selfres_rate[t])
    rec["ep_selfres"][free] = NEVER if g >= NEVER else day + 1 + g
    rec["ep_n"][free] = 0
    rec["ep_booked"][free] = 0
    rec["ep_wait"][free] = -1
    rec["ep_acc"][free] = day
    rec["ep_pref"][free] = -1
    count(S, T, i, C_EPISODES, day, 1)


@jit
def schedule_return(S, P, i, k, day):
    """Episode k asks again after a revisit interval (an unresolved contact, or a decision not to ask)."""
    rec = S.patients[i]
    t = rec["ep_type"][k]
    u = R.uniform(P.keys[R.REVISIT_INTERVAL], rec["pid"], day, k)
    rec["ep_next"][k] = day + revisit_days(u, P.revisit_mean[t])
    rec["ep_wait"][k] = -1
