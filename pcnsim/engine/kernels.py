"""The daily step of MODEL.md section 5 as numba kernels over patient records (`state.PATIENT`: a
patient's fields, read and written as `rec = S.patients[i]`, `rec["ep_next"][k]`).

One call of `run_days` advances the simulation over [d0, d1). Each day runs the steps in the order
declared in `pcnsim.engine.STEPS`:

1. demography and complexity (every 4 weeks, `monthly_update`), then complex-care case finding (`enrol`);
2. onset of need episodes and self-resolution;
3. care seeking by patients whose next contact day is today;
4. triage and routing of each request to a role (enrolled patients' needs to the complex-care team), done
   as the request is listed in step 3, with everything else booking needs of it (`list_request`);
5. booking against the diaries (same-day slots today; routine slots within the horizon; own practice
   first, then the network pool, then any network-of-networks pool; requests taken by urgency, then by
   a counter-based random priority);
6. unserved requests wait for the next working day or go to A&E;
7. contacts: did-not-attend, resolution from the match matrix, revisits, referrals;
8. A&E (background, direct and spill-over) and emergency admissions;
9. ledgers (counters are written as events happen; capacity use is recorded at day end).

Patients are visited in slot order and requests in (urgency, priority) order, and every random number
is a counter-based draw keyed by (stream, person id, day, k), so a run is a pure function of its
inputs. Only patients with an event due (`next_event <= day`) are touched on a given day.

A run can use two threads, both running `run_days` on half of the patient slots each: the per-patient
steps (demography, onset, care seeking, contacts, A&E) touch only their patient, so the halves run side
by side, each into its own tally; each thread puts its own requests in their places of the day's booking
order, then thread 0 alone finishes the sort and books (every booking depends on the ones before) while
thread 1 visits the contacts booked on earlier days, meeting at spin barriers (`meet`). Slots released
by closing episodes are noted and given back to the diaries before booking, so the diaries are never
written by both threads. The numbers are the one-thread numbers.
"""

import numpy as np

from ..vocab import (
    ADMISSION,
    AE,
    COMMUNITY_NURSE,
    DNA,
    FRAIL,
    GP,
    MDT,
    N_ROLES,
    NO_EPISODE,
    OUTPATIENT,
    RESOLVED,
    REVISIT,
    ROUTINE,
    SAME_DAY,
    URGENT,
    URGENT_HOME_VISIT,
)
from . import rng as R
from .bitscan import lowest_set_bit
from .config import jit
from .prefetch import prefetch
from .state import (
    C_AE_SENSITIVE,
    C_CLUSTER,
    C_DNA,
    C_EPISODES,
    C_MDT_MONTHS,
    C_REQUESTS,
    C_REVISITS,
    C_UNMET_DAYS,
    C_UNSERVED,
    CLUSTER_CONTACTS,
    CLUSTER_WINDOW,
    DAYS_PER_MONTH,
    DAYS_PER_YEAR,
    EPISODE_SLOTS,
    EXIT_DIED,
    EXIT_LEFT,
    L_DAY,
    L_EPISODE,
    L_NEED,
    L_OUTCOME,
    L_PID,
    L_SETTING,
    L_UNIT,
    L_URGENCY,
    M_AE_BACKGROUND,
    M_BIRTHS,
    M_CLOSED_EXIT,
    M_DEATHS,
    M_HOME_VISITS,
    M_LEAVERS,
    M_MERGED,
    M_REGISTRATIONS,
    M_RESOLVED,
    M_SELF_RESOLVED,
    M_TO_NETWORK,
    M_UNPLACED,
    N_COUNTERS,
    NEVER,
    PRIMARY_COLUMNS,
    SORT_BITS,
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
from .sync import arrive, atomic_load, compare_swap, cpu_pause, nap

K = EPISODE_SLOTS
AE_COLUMN = N_ROLES  # the A&E column of the match matrix
MALE_BIRTH_SHARE = 0.512
OLD_AGE = 80
AHEAD = 8  # patients ahead whose state is prefetched
SPINS_BEFORE_NAP = 40_000  # pause hints (~1 ms; normal waits are < 0.4 ms) before a barrier wait naps
# The mailbox through which thread 0 of a run hands each call's days to a thread 1 that stays in the kernels
# between calls (`serve`), on its own cache line of W.sync: jobs posted (CLOSED once that thread has left),
# the days [d0, d1) of the last one, jobs done, a request to leave, the serial number of the thread, and
# how the last job ends the year at d1 (`YEAR_ON`, ...) and from which row it writes the yearly table.
MAIL, MAIL_D0, MAIL_D1, MAIL_DONE, MAIL_STOP, MAIL_SERIAL, MAIL_YEAR_END, MAIL_ROWS_AT = 24, 25, 26, 27, 28, 29, 30, 31
CLOSED = -1
# How `run_days` ends: the year goes on; it closes at d1 (`close_year`); it closes and the counters are zeroed.
YEAR_ON, YEAR_CLOSED, YEAR_CLOSED_ZEROED = 0, 1, 2
NAPS_BEFORE_LEAVING = 400  # ~25 ms with nothing posted (after ~1 ms of spinning): thread 1 leaves
WAITING, UNSERVED = -1, -2  # W.req_unit of a request not booked: a routine one waiting for a working day, or unserved
PREFETCH_FROM = 2_000  # patients: a smaller list (~0.5 MB of records) stays in the core's cache; with prefetching
# bench_mesa.py's engine run was as fast at 2,100 patients, 1.15x faster at 4,200 and 1.29x at 8,400 (A/B)


# ---------------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------------


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
    a = (day - birth_day) // DAYS_PER_YEAR
    if a < 0:
        return 0
    if a > max_age:
        return max_age
    return a


@jit
def week_of(day):
    return day // 7


@jit
def count(S, T, i, column, day, n):
    """Add n to patient i's yearly counter and to its practice's weekly counter."""
    rec = S.patients[i]
    rec["counters"][column] += n
    T.weekly[week_of(day), rec["practice"], column] += n


@jit
def log_touch(S, T, i, day, setting, unit, need, outcome, urgency, k):
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


@jit
def day_capacity(P, unit, role, day):
    """(total, same-day) slots of a role at a unit on a day; fractional FTE carried by cumulative floor."""
    if day >= P.working.shape[0] or P.working[day] == 0:
        return 0, 0
    rate = P.cap_rate[unit, role]
    wd = P.wd_index[day]
    total = int(np.floor(rate * (wd + 1)) - np.floor(rate * wd))
    same_day = int(np.floor(total * P.same_day_share + 0.5))
    return total, same_day


@jit
def prefetch_pays(S):
    """Whether prefetching is worth it: a list of PREFETCH_FROM patients or more (a smaller one stays in cache)."""
    return S.patients.shape[0] >= PREFETCH_FROM


@jit
def prefetch_patient(S, i):
    """Ask the cache for patient i's record a few patients ahead of its use (see `pcnsim.engine.prefetch`):
    its four lines are the one holding `pid` and the three its counters span (`state.PATIENT`)."""
    prefetch(S.pid, i)
    prefetch(S.counters, i)


@jit
def slot(x):
    """x (a patient slot or a place in a list, never negative) as an index known to be non-negative: numba
    adds the array's length to a negative index, and a cleared sign bit lets LLVM drop that fix-up from
    every array access with it (three instructions each)."""
    return np.int64(x) & np.int64(0x7FFFFFFFFFFFFFFF)


@jit
def thread_range(W, tid):
    """The patient slots [lo, hi) thread `tid` looks after (W.bounds: [0, n] for one thread, halves for two)."""
    return slot(W.bounds[tid]), slot(W.bounds[tid + 1])


@jit
def thread_of(W, i):
    """The thread that looks after slot i."""
    return 0 if i < W.bounds[1] else 1


@jit
def meet(W, tid, nt):
    """Barrier of the two threads of a run (no-op for one): W.sync[0] counts arrivals, W.sync[8 + 8 * tid]
    this thread's barriers so far and W.sync[9 + 8 * tid] its waits that napped (own cache lines); see
    `pcnsim.engine.sync`. False when the run was called off (W.sync[1] set: the other thread's caller was
    interrupted before it started)."""
    if nt == 1:
        return True
    b = W.sync[8 + 8 * tid] + 1
    W.sync[8 + 8 * tid] = b
    arrive(W.sync, 0)
    spins = 0
    while atomic_load(W.sync, 0) < 2 * b:
        if atomic_load(W.sync, 1) != 0:
            return False
        spins += 1
        if spins <= SPINS_BEFORE_NAP:
            cpu_pause()
        else:
            nap()
    if spins > SPINS_BEFORE_NAP:
        W.sync[9 + 8 * tid] += 1
    return True


@jit
def serve(S, P, T, T1, W):
    """Thread 1 of two, kept in the kernels between calls: run the days each call posts (`post`) as
    `run_days(..., tid=1, nt=2)` and mark the job done. Leave when asked to (W.sync[MAIL_STOP], or the
    mailbox's serial number no longer its own), or after ~25 ms with nothing posted, closing the mailbox so
    that the next call starts a new thread. Starting a Python thread and entering the kernel for every
    week cost ~140 us a week, ~10% of a 42,000-patient week on two threads."""
    done = atomic_load(W.sync, MAIL_DONE)
    serial = atomic_load(W.sync, MAIL_SERIAL)
    idle = 0
    while atomic_load(W.sync, MAIL_STOP) == 0 and atomic_load(W.sync, MAIL_SERIAL) == serial:
        if atomic_load(W.sync, MAIL) > done:
            run_days(S, P, T, T1, W, W.sync[MAIL_D0], W.sync[MAIL_D1], W.sync[MAIL_YEAR_END], W.sync[MAIL_ROWS_AT],
                     1, 2)
            done += 1
            arrive(W.sync, MAIL_DONE)  # also publishes the job's writes
            idle = 0
        elif idle < SPINS_BEFORE_NAP:
            idle += 1
            cpu_pause()
        elif idle < SPINS_BEFORE_NAP + NAPS_BEFORE_LEAVING:
            idle += 1
            nap()
        elif compare_swap(W.sync, MAIL, done, CLOSED) == done:
            return


@jit
def post(W, d0, d1, year_end, rows_at):
    """Hand days [d0, d1) (and the year's end at d1: `run_days`) to the thread in `serve`;
    returns the number of jobs posted, or CLOSED when that thread has left (or is leaving: then it will
    not take the job)."""
    W.sync[MAIL_D0] = d0
    W.sync[MAIL_D1] = d1
    W.sync[MAIL_YEAR_END] = year_end
    W.sync[MAIL_ROWS_AT] = rows_at
    jobs = atomic_load(W.sync, MAIL)
    if jobs == CLOSED or compare_swap(W.sync, MAIL, jobs, jobs + 1) != jobs:
        return CLOSED
    return jobs + 1


@jit
def await_done(W):
    """Wait until the thread in `serve` has finished every job posted (at once when it has left)."""
    spins = 0
    while atomic_load(W.sync, MAIL_DONE) < atomic_load(W.sync, MAIL):
        spins += 1
        if spins <= SPINS_BEFORE_NAP:
            cpu_pause()
        else:
            nap()


@jit
def move_down(a, src, dst, n):
    """a[dst:dst + n] = a[src:src + n] for dst <= src (a thread's list joins the end of the one before)."""
    for q in range(n):
        a[dst + q] = a[src + q]


@jit
def next_event_of(S, i):
    """Patient i's next event day: the least of its clocks and its episodes' next and self-resolution days.
    A free episode slot holds NEVER in both (`close_episode`, `draw_person`), so every slot is read without
    a branch on whether it is open (a branch each, taken at random, cost more than the reads)."""
    rec = S.patients[i]
    nxt = min(rec["next_onset"], rec["next_bg_ae"])
    for k in range(K):
        nxt = min(nxt, rec["ep_next"][k], rec["ep_selfres"][k])
    return nxt


@jit
def reachable(P, practice, role):
    pool = P.practice_pcn.shape[0] + P.practice_pcn[practice]
    shared = P.pcn_shared[P.practice_pcn[practice]]
    return (P.cap_rate[practice, role] > 0.0 or P.cap_rate[pool, role] > 0.0
            or (shared >= 0 and P.cap_rate[shared, role] > 0.0))


@jit
def enrolled(S, i, day):
    """On the complex-care team's caseload today."""
    rec = S.patients[i]
    return rec["enrolled_until"] > day


@jit
def ae_factor(S, P, i, day):
    """Multiplier on a patient's A&E propensity (lower while on the complex-care caseload)."""
    return P.mdt_ae_mult if enrolled(S, i, day) else 1.0


# ---------------------------------------------------------------------------------------------------
# Episodes
# ---------------------------------------------------------------------------------------------------


@jit
def flush_unmet(S, T, i, k, day):
    """Count episode-days from the last accounting point up to (not including) `day` as unmet."""
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
    """`flush_unmet` for every episode of patient i, without a branch on whether each is open: a free slot's
    accounting day is NEVER (`close_episode`, `draw_person`), so it adds nothing. The episodes' days are
    added up and counted once (the same sums as counting each)."""
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
    """Note a booked slot to give back to the diary (`return_slots` does, before the day's booking; the
    diaries are shared by the two threads of a run and nothing reads them until then)."""
    rec = S.patients[i]
    slots = rec["ep_booked"][k]
    if slots > 0 and rec["ep_next"][k] >= day:
        ring = P.horizon + 1
        where = (rec["ep_unit"][k] * N_ROLES + rec["ep_role"][k]) * ring + rec["ep_next"][k] % ring
        t = thread_of(W, i)
        x = W.per_thread[t, 4]
        W.released[K * W.bounds[t] + x] = (np.int64(where) << np.int64(8)) | slots
        W.per_thread[t, 4] = x + 1
    rec["ep_booked"][k] = 0


@jit
def return_slots(S, P, W, day):
    """Give the noted released slots (all on `day` or later) back to the diaries (thread 0, between
    barriers)."""
    ring = P.horizon + 1
    for t in range(2 if W.bounds[1] < W.bounds[2] else 1):
        start = K * W.bounds[t]
        for x in range(W.per_thread[t, 4]):
            where, slots = W.released[start + x] >> np.int64(8), W.released[start + x] & np.int64(255)
            unit, role, at = (where // ring) // N_ROLES, (where // ring) % N_ROLES, where % ring
            S.routine_free[unit, role, at] += slots
            S.routine_left[unit, role] += slots
            S.routine_first[unit, role] = min(S.routine_first[unit, role], day + (at - day % ring) % ring)
        W.per_thread[t, 4] = 0


@jit
def close_episode(S, P, T, W, i, k, day, metric):
    rec = S.patients[i]
    flush_unmet(S, T, i, k, day)
    release_booking(S, P, W, i, k, day)
    T.weekly[week_of(day), rec["practice"], metric] += 1
    rec["ep_type"][k] = -1  # a free slot: its days NEVER (`next_event_of`, `flush_all_unmet`)
    rec["ep_next"][k] = NEVER
    rec["ep_selfres"][k] = NEVER
    rec["ep_acc"][k] = NEVER
    rec["ep_wait"][k] = -1
    rec["ep_pref"][k] = -1


@jit
def open_episode(S, P, T, i, day, age):
    """Onset: pick the need type and urgency and open an episode asking today (or merge if full)."""
    rec = S.patients[i]
    pid = rec["pid"]
    seg, sex, dep = rec["seg"], rec["sex"], rec["dep"]
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
    slot = -1
    for k in range(K):
        if rec["ep_type"][k] < 0:
            slot = k
            break
    if slot < 0:
        T.weekly[week_of(day), rec["practice"], M_MERGED] += 1
        return
    u = R.uniform(P.keys[R.URGENCY], pid, day, 0)
    urgency = ROUTINE
    if u < P.need_urgent[t]:
        urgency = URGENT
    elif u < P.need_urgent[t] + P.need_same_day[t]:
        urgency = SAME_DAY
    rec["ep_type"][slot] = t
    rec["ep_urg"][slot] = urgency
    rec["ep_open"][slot] = day
    rec["ep_next"][slot] = day
    g = waiting_days(R.uniform(P.keys[R.SELF_RESOLUTION], pid, day, slot), P.selfres_rate[t])
    rec["ep_selfres"][slot] = NEVER if g >= NEVER else day + 1 + g
    rec["ep_n"][slot] = 0
    rec["ep_booked"][slot] = 0
    rec["ep_wait"][slot] = -1
    rec["ep_acc"][slot] = day
    rec["ep_pref"][slot] = -1
    count(S, T, i, C_EPISODES, day, 1)


# ---------------------------------------------------------------------------------------------------
# Step 1: demography and complexity (monthly)
# ---------------------------------------------------------------------------------------------------


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


@jit
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
def replace_person(S, P, T, i, day, newborn, next_pid):
    """Slot i's new person (a birth or a new registration) after its person died or left, with the next id
    of the practice's group (each group numbers its newcomers on its own: pcnsim.partition)."""
    rec = S.patients[i]
    practice = rec["practice"]
    g = P.practice_group[practice]
    new_pid = next_pid[g]
    next_pid[g] = new_pid + P.pid_stride
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
    bg = P.ae_bg_daily[age, dep] * ae_factor(S, P, i, day)
    rec["next_bg_ae"] = ring_day(day, R.uniform(keys[R.BACKGROUND_AE], pid, day, 0), bg, redraw)
    S.next_event[i] = next_event_of(S, i)


@jit
def monthly_update(S, P, T, T1, W, day, tid, nt):
    """Deaths, leavers and their replacements, complexity transitions, the month's onset and background
    A&E clocks; then complex-care case finding: eligible patients not yet enrolled (most complex first,
    then a counter-based random priority) join while their PCN's caseload has room.

    Returns False if the run was called off at a barrier (see `meet`).

    Thread `tid` of `nt` takes its half of the slots, with its own tally (T, or T1 for thread 1). The
    result is the one-thread result: thread 1's newcomers take their person ids after thread 0's, so
    thread 1 notes its leavers' slots and fills them once thread 0's pass is done (while thread 0 runs
    case finding: a newcomer is never a candidate, having no contacts); leavers' records and case-finding
    candidates are joined in slot order.
    """
    keys = P.keys
    Tt = T if tid == 0 else T1
    lo, hi = thread_range(W, tid)
    caseload = W.caseload[tid]
    mdt_on = False
    for c in range(caseload.shape[0]):
        caseload[c] = 0
        if P.mdt_caseload[c] > 0:
            mdt_on = True
    n_cand = 0
    n_later = 0  # thread 1's leavers' slots, refilled after the barrier (W.active[lo:]: 2 x slot + newborn)
    redraw = next_redraw(day)
    memory = min(P.mdt_min_contacts, S.last_contacts.shape[1]) - 1
    ahead = prefetch_pays(S)
    for i in range(lo, hi):
        rec = S.patients[i]
        if ahead and i + 4 * AHEAD < hi:
            prefetch_patient(S, i + 4 * AHEAD)
        flush_all_unmet(S, Tt, i, day)
        pid = rec["pid"]
        reason = exit_reason(S, P, i, day)
        if reason > 0:
            exit_person(S, P, Tt, W, i, day, reason)
            newborn = R.uniform(keys[R.NEWBORN], pid, day, 0) < P.newborn_share
            if tid == 1:
                W.active[lo + n_later] = 2 * i + (1 if newborn else 0)
                n_later += 1
                continue
            replace_person(S, P, Tt, i, day, newborn, S.next_pid)
        else:
            c = rec["cx"]
            age = age_of(rec["birth_day"], day, P.max_age)
            up = P.esc[c] * (1.0 + P.unmet_effect * rec["unmet_month"] / DAYS_PER_MONTH)
            if P.seg_complex[rec["seg"]]:
                up *= P.complex_seg_mult
            if age >= OLD_AGE:
                up *= P.old_age_mult
            down = P.desc[c] * (1.0 + P.fit_effect * rec["fit_month"])
            if enrolled(S, i, day):
                down *= P.mdt_desc_mult
            if c == 3:  # no level above 3, none below 0
                up = 0.0
            if c == 0:
                down = 0.0
            up = min(up, 1.0)
            down = min(down, 1.0 - up)
            u = R.uniform(keys[R.COMPLEXITY], pid, day, 0)
            if c < 3 and u < up:
                rec["cx"] = c + 1
            elif c > 0 and u < up + down:
                rec["cx"] = c - 1
        rec["unmet_month"] = 0
        rec["fit_month"] = 0
        redraw_clocks(S, P, i, day, redraw)
        if not mdt_on:
            continue
        pcn = P.practice_pcn[rec["practice"]]
        if enrolled(S, i, day):
            caseload[pcn] += 1
            count(S, Tt, i, C_MDT_MONTHS, day, 1)
        elif (P.mdt_caseload[pcn] > 0 and rec["cx"] >= P.mdt_min_cx
              and S.last_contacts[i, memory] > day - P.mdt_window):
            W.req_i[lo + n_cand] = i
            rank = np.uint64(3 - rec["cx"]) << np.uint64(61)
            W.order_key[lo + n_cand] = rank | (R.bits(keys[R.CASE_FINDING], pid, day, 0) >> np.uint64(3))
            n_cand += 1
    W.per_thread[tid, 0] = n_cand
    if not meet(W, tid, nt):
        return False
    if tid == 1:  # thread 0's newcomers have their ids: thread 1's follow, in slot order
        for x in range(n_later):
            i = slot(W.active[lo + x] >> 1)
            replace_person(S, P, T1, i, day, (W.active[lo + x] & 1) == 1, S.next_pid)
            redraw_clocks(S, P, i, day, redraw)
    if tid == 0:
        n_cand = W.per_thread[0, 0]
        if nt == 2:  # join thread 1's part of the month to thread 0's
            append_exits(T, T1)
            for c in range(caseload.shape[0]):
                caseload[c] += W.caseload[1, c]
            split = W.bounds[1]
            move_down(W.req_i, split, n_cand, W.per_thread[1, 0])
            move_down(W.order_key, split, n_cand, W.per_thread[1, 0])
            n_cand += W.per_thread[1, 0]
        W.n[0] = n_cand
        if n_cand > 0:
            sort_keys(W, n_cand)
            enrol(S, P, T, W, day, W.order)
    return meet(W, tid, nt)  # enrolments and newcomers are in before anyone's day begins


@jit
def append_exits(T, T1):
    """Add thread 1's leavers' records after thread 0's (slot order, as one thread would record them)."""
    n = T.n_exits[0]
    for x in range(T1.n_exits[0]):
        if n < T.exit_meta.shape[0] and x < T1.exit_meta.shape[0]:
            for c in range(T.exit_meta.shape[1]):
                T.exit_meta[n, c] = T1.exit_meta[x, c]
            for c in range(T.exit_counters.shape[1]):
                T.exit_counters[n, c] = T1.exit_counters[x, c]
        n += 1
    T.n_exits[0] = n
    T1.n_exits[0] = 0


@jit
def enrol(S, P, T, W, day, order):
    """Case finding: enrol the eligible patients in `order` while their PCN's caseload has room."""
    for q in range(W.n[0]):
        i = slot(W.req_i[slot(order[q])])
        rec = S.patients[i]
        pcn = P.practice_pcn[rec["practice"]]
        if W.caseload[0, pcn] < P.mdt_caseload[pcn]:
            rec["enrolled_until"] = day + P.mdt_days
            W.caseload[0, pcn] += 1
            count(S, T, i, C_MDT_MONTHS, day, 1)


@jit
def close_year(S, T, T1, W, day, rows_at, zero, tid, nt):
    """The year ending on `day`, for thread `tid`'s slots (T1 thread 1's tally): unmet episode-days accounted
    up to `day`, so the yearly counters are complete; then, if rows_at >= 0, the per-patient table's rows
    of the year written to T.table from row rows_at: one per slot's person (row rows_at + slot), then one
    per leaver of the year (T.exit_meta, all in T by now: joined every month), split between the threads.
    With `zero`, each slot's counters are then zeroed for the next year (while its record is in cache)."""
    Tt = T if tid == 0 else T1
    lo, hi = thread_range(W, tid)
    n = S.patients.shape[0]
    n_exits = min(T.n_exits[0], T.exit_meta.shape[0])
    ahead = prefetch_pays(S)
    write = rows_at >= 0 and rows_at + n + n_exits <= T.table[0].shape[0]
    for i in range(lo, hi):
        rec = S.patients[i]
        if ahead and i + 4 * AHEAD < hi:
            prefetch_patient(S, i + 4 * AHEAD)
        flush_all_unmet(S, Tt, i, day)
        if write:
            table_row(T.table, rows_at + i, rec["pid"], rec["practice"], rec["birth_day"], rec["sex"], rec["dep"],
                      rec["seg"], rec["cx"], rec["reg_day"], day, 0, rec["counters"], day - DAYS_PER_YEAR)
        if zero:
            for c in range(N_COUNTERS):
                rec["counters"][c] = 0
    if write:
        half = n_exits // 2 if nt == 2 else n_exits
        for x in range(0 if tid == 0 else half, half if tid == 0 else n_exits):
            meta = T.exit_meta[x]
            table_row(T.table, rows_at + n + x, meta[X_PID], meta[X_PRACTICE], meta[X_BIRTH_DAY], meta[X_SEX],
                      meta[X_DEP], meta[X_SEG], meta[X_CX], meta[X_REG_DAY], meta[X_EXIT_DAY], meta[X_REASON],
                      T.exit_counters[x], day - DAYS_PER_YEAR)


@jit
def table_row(C, r, pid, practice, birth, sex, dep, seg, cx, reg, end, reason, counters, start):
    """Row r of the per-patient yearly table (columns C: `state.TABLE_COLUMNS`): person id, practice, age at
    `end` (the year end, or the day they left), sex, deprivation (1-based), segment, complexity, days
    registered since `start`, exit reason (0: still listed), the yearly counters and their primary-care
    sum."""
    pid_c, practice_c, age_c, sex_c, dep_c, seg_c, cx_c, registered_c, exit_c, counters_c, primary_c = C
    pid_c[r] = pid
    practice_c[r] = practice
    age_c[r] = (end - birth) // DAYS_PER_YEAR
    sex_c[r], dep_c[r], seg_c[r], cx_c[r], exit_c[r] = sex, dep + 1, seg, cx, reason
    registered_c[r] = end - max(reg, start)
    for c in range(N_COUNTERS):
        counters_c[r, c] = counters[c]
    total = 0
    for c in PRIMARY_COLUMNS:
        total += counters[c]
    primary_c[r] = total


# ---------------------------------------------------------------------------------------------------
# Steps 4-5: triage and booking
# ---------------------------------------------------------------------------------------------------


@jit
def open_diary(S, P, day):
    """Set today's same-day slots and put day + horizon's routine slots into the ring."""
    ring = P.horizon + 1
    target = day + P.horizon
    for u in range(P.cap_rate.shape[0]):
        for r in range(N_ROLES):
            total, same_day = day_capacity(P, u, r, target)
            S.routine_free[u, r, target % ring] = total - same_day
            S.routine_left[u, r] += total - same_day
            total, same_day = day_capacity(P, u, r, day)
            S.sameday_free[u, r] = same_day


@jit
def init_diary(S, P, day):
    """Routine slots for days [day, day + horizon) before the first `open_diary`."""
    ring = P.horizon + 1
    for u in range(P.cap_rate.shape[0]):
        for r in range(N_ROLES):
            S.routine_left[u, r] = 0
            S.routine_first[u, r] = day
    for x in range(day, day + P.horizon):
        for u in range(P.cap_rate.shape[0]):
            for r in range(N_ROLES):
                total, same_day = day_capacity(P, u, r, x)
                S.routine_free[u, r, x % ring] = total - same_day
                S.routine_left[u, r] += total - same_day


@jit
def slots_needed(P, need, role):
    return P.home_visit_slots if (need == URGENT_HOME_VISIT and role == GP) else 1


@jit
def find_slot(S, P, day, practice, role, need, urgency):
    """Earliest slot for a role: own practice first, then the network pool, then the shared pool of a
    network of networks. Returns (unit, day) or (-1, -1).

    Same-day and urgent requests take today's reserved slots, then any of today's routine slots still free;
    routine requests take the earliest free routine slot within the booking horizon, searched from
    `routine_first`, the unit's earliest day for the role that may have a free slot (the diaries are
    often booked up for weeks ahead, and booking is the one sequential step of the day).
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


# ---------------------------------------------------------------------------------------------------
# Steps 7-8: contacts and hospital
# ---------------------------------------------------------------------------------------------------


@jit
def schedule_return(S, P, i, k, day):
    rec = S.patients[i]
    t = rec["ep_type"][k]
    u = R.uniform(P.keys[R.REVISIT_INTERVAL], rec["pid"], day, k)
    rec["ep_next"][k] = day + revisit_days(u, P.revisit_mean[t])
    rec["ep_wait"][k] = -1


@jit
def contact(S, P, T, W, i, k, day):
    """A booked contact today: did-not-attend, or attend and maybe resolve (step 7)."""
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
def attend_ae(S, P, T, W, i, k, day, sensitive):
    """An A&E attendance (step 8), with k = -1 for background attendances not tied to an episode."""
    rec = S.patients[i]
    pid = rec["pid"]
    age = age_of(rec["birth_day"], day, P.max_age)
    count(S, T, i, AE, day, 1)
    if sensitive:
        count(S, T, i, C_AE_SENSITIVE, day, 1)
    draw_k = k if k >= 0 else K
    admitted = R.uniform(P.keys[R.ADMIT], pid, day, draw_k) < P.admit[age, rec["cx"]]
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


# ---------------------------------------------------------------------------------------------------
# The day
# ---------------------------------------------------------------------------------------------------


@jit
def begin_day(S, P, T, W, day, tid, nt):
    """Steps 2-3: self-resolution, onset, background A&E and care seeking of patients due today, for the
    slots of thread `tid` of `nt` (T: this thread's tally).

    Lists today's requests (with their ordering keys), booked contacts and A&E attendances in the
    workspace, from this thread's place in each list (`list_starts`); their counts go to W.per_thread[tid],
    and how many requests fall in each bucket of the day's sort to W.day_count[tid] (`place_requests`).
    """
    keys = P.keys
    lo, hi = thread_range(W, tid)
    if tid == 0:
        open_diary(S, P, day)
    r0, c0, a0 = list_starts(lo)
    active, con_i, con_k, ae_i, ae_k = W.active, W.con_i, W.con_k, W.ae_i, W.ae_k

    ahead = prefetch_pays(S)
    redraw = next_redraw(day)
    counts, shift = W.day_count[tid], day_shift(W)
    for b in range(counts.shape[0]):
        counts[b] = 0
    n_active = list_due(S.next_event, active, lo, hi, day)
    n_req = 0
    n_con = 0
    n_ae = 0

    # Steps 2-3, patient by patient.
    for a in range(lo, n_active):
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
        for k in range(K):  # a free slot's days are NEVER (`next_event_of`): no test of the slot's need
            if rec["ep_selfres"][k] <= day:
                close_episode(S, P, T, W, i, k, day, M_SELF_RESOLVED)
        if rec["next_onset"] <= day:
            open_episode(S, P, T, i, day, age)
            rate = P.onset_total[rec["seg"], rec["sex"], age, rec["dep"]] * P.cx_onset_mult[rec["cx"]]
            rec["next_onset"] = ring_day(day + 1, R.uniform(keys[R.ONSET_TIME], pid, day, 1), rate, redraw)
        if rec["next_bg_ae"] <= day:
            ae_i[a0 + n_ae] = i
            ae_k[a0 + n_ae] = -1
            n_ae += 1
            rate = P.ae_bg_daily[age, rec["dep"]] * ae_factor(S, P, i, day)
            rec["next_bg_ae"] = ring_day(day + 1, R.uniform(keys[R.BACKGROUND_AE], pid, day, 1), rate, redraw)
        due = np.uint64(0)  # the episodes asking today, as bits: no branch on each slot (taken at random)
        for k in range(K):
            due |= np.uint64(rec["ep_next"][k] <= day) << np.uint64(k)
        while due != np.uint64(0):
            k = lowest_set_bit(due)
            due &= due - np.uint64(1)
            if rec["ep_booked"][k] > 0:
                con_i[c0 + n_con] = i
                con_k[c0 + n_con] = k
                n_con += 1
                continue
            t = rec["ep_type"][k]
            if rec["ep_wait"][k] >= 0:
                ask = True
            else:
                p_seek = P.access[rec["sex"], age, rec["dep"]] * P.seek_mult[t]
                if rec["ep_n"][k] > 0:
                    p_seek *= P.follow_up_mult
                ask = R.uniform(keys[R.SEEK], pid, day, k) < p_seek
            if ask:
                count(S, T, i, C_REQUESTS, day, 1)
                list_request(S, P, W, r0 + n_req, i, k, day, age)
                counts[W.order_key[r0 + n_req] >> shift] += 1
                n_req += 1
                rec["ep_next"][k] = NEVER
            else:
                p_direct = P.ae_direct[rec["ep_urg"][k]] * P.ae_mult[age, rec["dep"]] * ae_factor(S, P, i, day)
                if R.uniform(keys[R.DIRECT_AE], pid, day, k) < p_direct:
                    ae_i[a0 + n_ae] = i
                    ae_k[a0 + n_ae] = k
                    n_ae += 1
                    rec["ep_next"][k] = NEVER
                else:
                    schedule_return(S, P, i, k, day)
        if n_req + n_con + n_ae == listed:  # nothing more today: next event now, while the patient is in cache
            S.next_event[i] = next_event_of(S, i)
    W.per_thread[tid, 1] = n_req
    W.per_thread[tid, 2] = n_con
    W.per_thread[tid, 3] = n_ae


@jit
def list_due(next_event, active, lo, hi, day):
    """Put the slots in [lo, hi) with an event due by `day` at active[lo:], in slot order; returns where the
    list ends. 64 slots at a time: their comparisons make one bit mask (a loop LLVM vectorises) and its set
    bits are read off, so the ~95% of slots with nothing due cost no branch (a branch per slot, mispredicted
    at each due patient, made this scan ~6x slower, measured alone on 42,000 slots)."""
    n = lo
    i = lo
    while i + 64 <= hi:
        mask = np.uint64(0)
        for j in range(64):
            mask |= np.uint64(next_event[slot(i + j)] <= day) << np.uint64(j)
        while mask != np.uint64(0):
            active[slot(n)] = i + lowest_set_bit(mask)
            n += 1
            mask &= mask - np.uint64(1)
        i += 64
    for q in range(i, hi):
        if next_event[slot(q)] <= day:
            active[slot(n)] = q
            n += 1
    return n


@jit
def list_request(S, P, W, r, i, k, day, age):
    """Put patient i's episode k at place r of the day's requests, with its booking order key (urgency
    first, then a counter-based random priority) and all that booking needs to know of it, read while the
    patient is in cache so that booking, the one sequential step, touches only the workspace and the
    diaries: need, urgency, practice, the role triage sends it to (on working days) and whether it goes to
    A&E if no slot is found. Nothing these read changes before booking, so the draws are booking's own."""
    rec = S.patients[i]
    pid = rec["pid"]
    urgency = rec["ep_urg"][k]
    W.req_i[r] = i
    W.req_k[r] = k
    priority = R.bits(P.keys[R.PRIORITY], pid, day, k) >> np.uint64(3)
    W.order_key[r] = (np.uint64(2 - urgency) << np.uint64(61)) | priority
    W.req_need[r] = rec["ep_type"][k]
    W.req_urg[r] = urgency
    W.req_practice[r] = rec["practice"]
    W.req_role[r] = triage(S, P, i, k, day) if P.working[day] else -1
    waited = day - rec["ep_wait"][k] if rec["ep_wait"][k] >= 0 else 0
    p_ae = (P.ae_unserved[urgency] * (1.0 + P.ae_wait_slope * waited) * P.ae_mult[age, rec["dep"]]
            * ae_factor(S, P, i, day))
    W.req_spill[r] = R.uniform(P.keys[R.AE_CHOICE], pid, day, k) < p_ae


@jit
def list_starts(lo):
    """Where a thread whose slots start at `lo` writes its requests, contacts and A&E attendances: each
    list has room for K entries per slot (K + 1 for A&E), so thread 1's part cannot reach past the end."""
    return K * lo, K * lo, (K + 1) * lo


@jit
def gather(S, P, W, day, nt):
    """Join thread 1's lists of the day's contacts and A&E attendances to the end of thread 0's (slot order,
    as one thread lists them), count the requests (left where each thread listed them: `place_requests`
    orders them in place) and give back the slots released so far."""
    n_req, n_con, n_ae = W.per_thread[0, 1], W.per_thread[0, 2], W.per_thread[0, 3]
    if nt == 2:
        _, c1, a1 = list_starts(W.bounds[1])
        m_con, m_ae = W.per_thread[1, 2], W.per_thread[1, 3]
        move_down(W.con_i, c1, n_con, m_con)
        move_down(W.con_k, c1, n_con, m_con)
        move_down(W.ae_i, a1, n_ae, m_ae)
        move_down(W.ae_k, a1, n_ae, m_ae)
        n_req, n_con, n_ae = n_req + W.per_thread[1, 1], n_con + m_con, n_ae + m_ae
    W.n[1] = n_req
    W.n[2] = n_con
    W.n[3] = n_ae
    W.n[4] = n_con  # contacts booked on earlier days; booking appends today's after them
    return_slots(S, P, W, day)


@jit
def book(S, P, T, W, day, order):
    """Steps 4-6 and the capacity ledger of step 9: booking of all the day's requests in `order` (one
    thread: every booking depends on the ones before) against the diaries, from what `list_request`
    noted; the outcome of each (unit and day, waiting or unserved) is written to the requesting episode
    by `settle`. Contacts booked for today and unserved requests going to A&E join the day's lists."""
    req_i, req_k, con_i, con_k, ae_i, ae_k = W.req_i, W.req_k, W.con_i, W.con_k, W.ae_i, W.ae_k
    n_req, n_con, n_ae = W.n[1], W.n[2], W.n[3]
    next_day = P.next_working[day] if day + 1 < P.working.shape[0] else day + 1
    for q in range(n_req):
        o = slot(order[q])
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
    W.n[2] = n_con
    W.n[3] = n_ae

    # Step 9: capacity offered and used today.
    ring = P.horizon + 1
    wk = week_of(day)
    for u in range(P.cap_rate.shape[0]):
        for r in range(N_ROLES):
            total, _ = day_capacity(P, u, r, day)
            if total > 0:
                free = S.sameday_free[u, r] + S.routine_free[u, r, day % ring]
                T.cap_offered[wk, u, r] += total
                T.cap_used[wk, u, r] += total - free
            S.routine_left[u, r] -= S.routine_free[u, r, day % ring]  # today's leftovers expire


@jit
def visit_contacts(S, P, T, W, day, c0, c1, lo, hi):
    """Step 7 for the contacts at places [c0, c1) of today's list whose patients are in slots [lo, hi), each
    followed by its patient's next event (see `settle`)."""
    con_i, con_k = W.con_i, W.con_k
    ahead = prefetch_pays(S)
    for c in range(c0, c1):
        if ahead and c + AHEAD < c1:
            prefetch_patient(S, con_i[c + AHEAD])
            prefetch(S.last_contacts, con_i[c + AHEAD])
        if lo <= con_i[c] < hi:
            i = slot(con_i[c])
            contact(S, P, T, W, i, slot(con_k[c]), day)
            S.next_event[i] = next_event_of(S, i)


@jit
def settle(S, P, T, W, day, tid):
    """Steps 5-9 for the patients of thread `tid`'s slots [lo, hi) (T its tally) after booking: booking's
    outcomes for the requests it listed, the contacts booked today, then A&E attendances, in list order. A
    patient's requests, contacts and attendances touch only that patient, so halves can be settled side by
    side.

    Every patient begin_day listed comes through here (or through the earlier contacts) and has its next
    event set there, while its record is in cache: each time one of its episodes changes, so the last
    setting, after the day's last change to the patient, stands."""
    req_i, ae_i, ae_k = W.req_i, W.ae_i, W.ae_k
    lo, hi = thread_range(W, tid)
    n_con, n_ae = W.n[2], W.n[3]
    ahead = prefetch_pays(S)
    # Steps 5-6: booking's outcomes, written to the requesting episodes (this thread's own list).
    r0 = list_starts(lo)[0]
    r1 = r0 + W.per_thread[tid, 1]
    for o in range(r0, r1):
        if ahead and o + AHEAD < r1:
            prefetch_patient(S, req_i[o + AHEAD])
        take_booking(S, P, T, W, slot(o), day)
        i = slot(req_i[o])
        S.next_event[i] = next_event_of(S, i)

    # Step 7: the contacts booked today (those booked before were visited during booking).
    visit_contacts(S, P, T, W, day, W.n[4], n_con, lo, hi)

    # Step 8: A&E: background and direct attendances (slot order), then spill-over (booking order);
    # every attendance tied to a need episode is primary-care sensitive.
    for a in range(n_ae):
        if ahead and a + AHEAD < n_ae:
            prefetch_patient(S, ae_i[a + AHEAD])
        if lo <= ae_i[a] < hi:
            i = slot(ae_i[a])
            attend_ae(S, P, T, W, i, ae_k[a], day, ae_k[a] >= 0)
            S.next_event[i] = next_event_of(S, i)


@jit
def take_booking(S, P, T, W, o, day):
    """Write booking's outcome for request o (`book`) to its episode: the booked slot, unit, role, lead
    time and day; or, for a request not booked, the day it waits since (if not yet waiting), whether it
    counts as unserved, and the day it asks again (none while it is on its way to A&E)."""
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
def sort_keys(W, n):
    """Set W.order[:n] to the stable ascending order of W.order_key[:n], as a stable argsort would (and
    W.sorted_key[:n] to the keys in that order): a counting sort on the keys' top bits (about one bucket per
    key, at most 2**SORT_BITS), then one insertion sort over the list, whose keys move only within their
    bucket. Below their rank bits the keys are random, so a bucket holds a handful of entries and the list
    is nearly in order. Case finding's sort; the day's requests are sorted by both threads
    (`place_requests`)."""
    keys, order, end = W.order_key, W.order, W.buckets
    bits = 4
    while bits < SORT_BITS and (1 << bits) < n:
        bits += 1
    n_buckets = 1 << bits
    shift = np.uint64(64 - bits)
    for b in range(n_buckets + 1):
        end[b] = 0
    for q in range(n):
        end[(keys[q] >> shift) + np.uint64(1)] += 1
    for b in range(n_buckets):
        end[b + 1] += end[b]
    for q in range(n):
        b = keys[q] >> shift
        order[end[b]] = q
        W.sorted_key[end[b]] = keys[q]
        end[b] += 1
    insertion_pass(W.sorted_key, order, n)


@jit
def insertion_pass(sorted_key, order, n):
    """Finish a bucketed order[:n] (`sort_keys`, `place_requests`), whose keys are sorted_key[:n] in the same
    places: one insertion sort over the whole list, in which a key moves only within its bucket. The keys
    read in place make it ~1.7x faster than reading them through `order` (phases.py)."""
    for x in range(1, n):
        key = sorted_key[x]
        if sorted_key[x - 1] <= key:
            continue
        q = order[x]
        y = x - 1
        while y >= 0 and sorted_key[y] > key:
            sorted_key[y + 1] = sorted_key[y]
            order[y + 1] = order[y]
            y -= 1
        sorted_key[y + 1] = key
        order[y + 1] = q


@jit
def day_shift(W):
    """The shift that takes a day's ordering key (`list_request`: below 2**63, its urgency rank in bits 61-62)
    to its bucket among the W.day_count.shape[1] (a power of two) of the day's sort."""
    bits = 0
    while (1 << bits) < W.day_count.shape[1]:
        bits += 1
    return np.uint64(63 - bits)


@jit
def place_requests(W, tid, nt):
    """The day's sort of the requests into booking order, first part, run by each thread for the requests
    it listed: each goes to the next place of its key's bucket in W.order, buckets in key order and, within
    a bucket, thread 0's requests before thread 1's, each in list (slot) order, as one thread's counting
    sort would place them. The places come from both threads' bucket counts (W.day_count, made as the
    requests were listed); W.order holds places in the request lists, which stay where each thread wrote
    them. `insertion_pass` then sorts within buckets, once both threads are done."""
    shift = day_shift(W)
    at = W.day_at[tid]
    run = 0
    for b in range(at.shape[0]):
        c0 = W.day_count[0, b]
        c1 = W.day_count[1, b] if nt == 2 else 0
        at[b] = run + (c0 if tid == 1 else 0)
        run += c0 + c1
    r0 = list_starts(W.bounds[tid])[0]
    for r in range(r0, r0 + W.per_thread[tid, 1]):
        key = W.order_key[r]
        b = key >> shift
        W.order[at[b]] = r
        W.sorted_key[at[b]] = key
        at[b] += 1


@jit
def run_days(S, P, T, T1, W, d0, d1, year_end, rows_at, tid, nt):
    """Advance the simulation over days [d0, d1): monthly demography and case finding on every 4th-week
    boundary, then the day; then, unless `year_end` is YEAR_ON, close the year at d1 (`close_year`, the
    table's rows from row `rows_at` if that is not negative; the counters zeroed after them if
    YEAR_CLOSED_ZEROED), each thread its slots.

    One thread (nt=1, T1 is T) or thread `tid` of two running this same kernel side by side, each on its
    half of the slots with its own tally (T for thread 0, T1 for thread 1), meeting at barriers around the
    sequential steps (the end of the sort, booking, case finding), which thread 0 runs. Both threads place
    their own requests in booking order (`place_requests`); then, while thread 0 finishes the sort and
    books, thread 1 visits the contacts booked on earlier days, for all slots: booking touches only the
    workspace and the diaries, a contact only its own episode and patient counters (never a diary: its
    slot is spent), so the two commute, and one thread does them in the same order.
    Two threads give the one-thread numbers: every per-patient step touches only its patient, the
    tallies are sums, the lists are joined (or ordered) as one thread lists them, and thread 0 adds
    thread 1's weekly tallies to its own at the end."""
    Tt = T if tid == 0 else T1
    for day in range(d0, d1):
        if day % DAYS_PER_MONTH == 0 and not monthly_update(S, P, T, T1, W, day, tid, nt):
            return
        begin_day(S, P, Tt, W, day, tid, nt)
        if not meet(W, tid, nt):
            return
        place_requests(W, tid, nt)
        if tid == 0:
            gather(S, P, W, day, nt)
        if not meet(W, tid, nt):
            return
        if tid == nt - 1:  # thread 1 of two (or the only thread): contacts booked on earlier days, all slots
            visit_contacts(S, P, Tt, W, day, 0, W.n[4], 0, S.patients.shape[0])
        if tid == 0:
            insertion_pass(W.sorted_key, W.order, W.n[1])
            book(S, P, T, W, day, W.order)
        if not meet(W, tid, nt):
            return
        settle(S, P, Tt, W, day, tid)
        if not meet(W, tid, nt):
            return
    if year_end != YEAR_ON:
        close_year(S, T, T1, W, d1, rows_at, year_end == YEAR_CLOSED_ZEROED, tid, nt)
        if not meet(W, tid, nt):
            return
    if tid == 0:
        end_days(S, P, T, T1, W, d0, d1, nt)


@jit
def end_days(S, P, T, T1, W, d0, d1, nt):
    """After days [d0, d1) (thread 0): give back any released slots and, on two threads, add thread 1's
    weekly tallies of those days (and of a year end at d1) to thread 0's."""
    return_slots(S, P, W, d1 - 1)  # none are released after booking, but leave the diaries whole
    if nt == 2:
        for w in range(week_of(max(d0 - 1, 0)), week_of(max(d1 - 1, 0)) + 1):
            for p in range(T.weekly.shape[1]):
                for c in range(T.weekly.shape[2]):
                    T.weekly[w, p, c] += T1.weekly[w, p, c]
                    T1.weekly[w, p, c] = 0
