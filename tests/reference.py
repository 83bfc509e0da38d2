"""A plain-Python, object-oriented reference of the model rules (docs/model.md: the world, the daily step).

Patients are objects holding a list of episode objects (one entry per episode slot, None when free);
practices and network pools are capacity units holding one booking diary per role. Everything is
plain Python: the reference reads only the parameter tables of `pcnsim.params.build` (converted to
lists), the plain-Python twins of the counter-based random numbers (`rng.uniform_py`, `rng.bits_py`)
with the engine's stream ids, the vocabulary and the layout constants of `engine.state`. It never
calls the numba kernels nor `population.synthesise`: it draws the initial list itself.

Every random draw uses the same (stream, person id, day, k) key as the engine and every probability
is computed with the same floating-point operations in the same order, so a run with the same
parameters must reproduce the engine event for event: the same touchpoint ledger rows in the same
order, the same yearly counters, leavers' records, weekly tallies and capacity use.

Slow by design (a few hundred patients for a year take a few seconds). Use `simulate`.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field

from pcnsim.engine import rng as R
from pcnsim.engine.rng import bits_py, uniform_py
from pcnsim.engine.state import (
    C_AE_SENSITIVE,
    C_CLUSTER,
    C_DNA,
    C_EPISODES,
    C_GP_USUAL,
    C_MDT_MONTHS,
    C_REQUESTS,
    C_REVISITS,
    C_UNMET_DAYS,
    C_UNSERVED,
    CLUSTER_WINDOW,
    DAYS_PER_MONTH,
    DAYS_PER_YEAR,
    EPISODE_SLOTS,
    EXIT_DIED,
    EXIT_LEFT,
    GP_MEMORY,
    M_AE_BACKGROUND,
    M_BIRTHS,
    M_CLOSED_EXIT,
    M_DEATHS,
    M_HOME_VISITS,
    M_LEAVERS,
    M_MERGED,
    M_NAVIGATED,
    M_REGISTRATIONS,
    M_RESOLVED,
    M_SELF_RESOLVED,
    M_TO_NETWORK,
    M_UNPLACED,
    N_COUNTERS,
    N_WEEKLY,
    NEVER,
)
from pcnsim.vocab import (
    ADMISSION,
    AE,
    DNA,
    FRAIL,
    GP,
    MATCH_COLUMNS,
    MDT,
    N_ROLES,
    NO_EPISODE,
    OUTPATIENT,
    RESOLVED,
    REVISIT,
    ROLES,
    ROUTINE,
    SAME_DAY,
    URGENT,
    URGENT_HOME_VISIT,
)

# Rule constants that live in the engine's code rather than in the parameter tables.
MALE_BIRTH_SHARE = 0.512  # share of births that are boys
OLD_AGE = 80  # age from which complexity escalates faster (old_age_mult)
COMMUNITY_NURSE = ROLES.index("community_nurse")  # not a primary-care contact (no revisit/cluster count)
AE_COLUMN = MATCH_COLUMNS.index("ae")  # the A&E column of the match matrix
CLUSTER_PREVIOUS = 3  # "more than 3 contacts in 30 days": a contact with >= 3 others in the window


# ---------------------------------------------------------------------------------------------------
# Parameter tables as plain Python
# ---------------------------------------------------------------------------------------------------


def _plain(value):
    """numpy arrays -> nested lists of Python numbers; numpy scalars -> Python scalars."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


class Tables:
    """The `Params` namedtuple with every table as nested Python lists (read with plain indexing)."""

    def __init__(self, params):
        for name in params._fields:
            setattr(self, name, _plain(getattr(params, name)))
        self.keys = [int(k) for k in params.keys]
        self.n_days = len(self.working)  # the run's calendar (burn-in + reported years)
        self.n_practices = len(self.practice_pcn)
        self.n_units = len(self.cap_rate)


# ---------------------------------------------------------------------------------------------------
# The world's objects
# ---------------------------------------------------------------------------------------------------


@dataclass
class Booking:
    """A booked appointment: `slots` slots of `role` at capacity unit `unit` on `day`."""

    unit: int
    role: int
    day: int
    lead: int  # days between booking and appointment
    slots: int


@dataclass
class Episode:
    """An open need episode."""

    need: int
    urgency: int
    opened: int
    next_day: int  # next day the patient asks, or the day of the booked contact (NEVER: none)
    selfres_day: int  # day the need goes away by itself (NEVER: never)
    accounted_to: int  # unmet episode-days are counted up to (not including) this day
    contacts: int = 0  # contacts so far (primary care and A&E)
    booking: Booking | None = None
    waiting_since: int = -1  # first day of the current run of unserved requests (-1: not waiting)
    referred_to: int = -1  # role the episode was referred to (-1: none; triage then routes)


@dataclass
class Patient:
    pid: int
    practice: int
    birth_day: int
    sex: int
    dep: int
    seg: int
    cx: int
    reg_day: int
    episodes: list = field(default_factory=lambda: [None] * EPISODE_SLOTS)
    next_onset: int = NEVER
    next_bg_ae: int = NEVER
    unmet_month: int = 0  # unmet episode-days since the last monthly update
    fit_month: int = 0  # needs resolved by a service that fits, since the last monthly update
    counters: list = field(default_factory=lambda: [0] * N_COUNTERS)
    contact_days: list = field(default_factory=list)  # primary-care contact days, oldest first
    enrolled_until: int = 0  # on the complex-care team's caseload while day < enrolled_until
    gp_history: list = field(default_factory=list)  # latest GP contacts, oldest first: with the usual GP or not

    def enrolled(self, day: int) -> bool:
        return day < self.enrolled_until

    def age(self, day: int, max_age: int) -> int:
        years = (day - self.birth_day) // DAYS_PER_YEAR
        return min(max(years, 0), max_age)

    def next_event(self) -> int:
        """The first day on which something is due for this patient."""
        days = [self.next_onset, self.next_bg_ae]
        for ep in self.episodes:
            if ep is not None:
                days += [ep.next_day, ep.selfres_day]
        return min(days)


class Diary:
    """One role's booking diary at one unit: today's reserved same-day slots, and free routine slots by
    day for the open window [today, today + horizon] (a day opens `horizon` days ahead and its unbooked
    slots expire at the end of the day)."""

    def __init__(self):
        self.same_day = 0
        self.routine: dict[int, int] = {}

    def open(self, day: int, routine_slots: int):
        assert day not in self.routine, f"diary day {day} opened twice"
        self.routine[day] = routine_slots

    def release(self, day: int, slots: int):
        assert day in self.routine, f"slots released into day {day}, outside the open diary window"
        self.routine[day] += slots

    def expire(self, day: int) -> int:
        return self.routine.pop(day)


class Unit:
    """A capacity unit: a practice (serves its own patients) or a PCN's network pool (serves every
    member practice's patients)."""

    def __init__(self, index: int, cap_rate: list[float]):
        self.index = index
        self.cap_rate = cap_rate  # slots per working day, by role (fractional)
        self.diaries = [Diary() for _ in range(N_ROLES)]


@dataclass
class ReferenceResult:
    """What the reference recorded, in the engine's layouts (`engine.state`)."""

    ledger: list  # tuples (day, pid, setting, unit, need, outcome, urgency, episode slot), in order
    counters: dict  # pid -> yearly counters (state.counters columns) of everyone listed at the end
    exit_meta: list  # tuples in Tally.exit_meta column order, in exit order
    exit_counters: list  # tuples in Tally.exit_counters column order
    weekly: list  # [week][practice][column], Tally.weekly layout
    cap_offered: list  # [week][unit][role]
    cap_used: list  # [week][unit][role]
    patients: list  # the Patient objects in slot order at the end
    units: list  # the Unit objects (diaries at the end)
    stats: Counter  # the reference's own event counts, to check that a test exercises what it claims


# ---------------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------------


class Reference:
    def __init__(self, params, layout, ledger: bool = True):
        self.P = P = Tables(params)
        self.ledger_on = ledger
        self.ledger: list[tuple] = []
        self.exit_meta: list[tuple] = []
        self.exit_counters: list[tuple] = []
        n_weeks = P.n_days // 7 + 1
        self.weekly = [[[0] * N_WEEKLY for _ in range(P.n_practices)] for _ in range(n_weeks)]
        self.cap_offered = [[[0] * N_ROLES for _ in range(P.n_units)] for _ in range(n_weeks)]
        self.cap_used = [[[0] * N_ROLES for _ in range(P.n_units)] for _ in range(n_weeks)]
        self.stats: Counter = Counter()
        self.units = [Unit(u, P.cap_rate[u]) for u in range(P.n_units)]
        # The initial list: practices in order, each with its list size of consecutive slots holding
        # consecutive person ids from the practice's first id, registered on day 0. Each group of PCNs
        # numbers its newcomers on its own: its next id, then steps of pid_stride.
        self.patients: list[Patient] = []
        for practice, size in enumerate(int(x) for x in layout.list_sizes):
            for j in range(size):
                self.patients.append(self.draw_person(P.first_pid[practice] + j, practice, 0, newborn=False))
        self.next_pid = list(P.entrant_pid)
        # Diaries open with routine slots for days [0, horizon); day `horizon` opens on day 0.
        for day in range(0, P.horizon):
            self.open_routine_day(day)

    # ---- random numbers and small rules ----------------------------------------------------------
    def u(self, stream: int, pid: int, day: int, k: int) -> float:
        return uniform_py(self.P.keys[stream], pid, day, k)

    @staticmethod
    def waiting_days(u: float, rate: float) -> int:
        """Whole days to the next event of a Poisson process with `rate` per day."""
        if rate <= 0.0:
            return NEVER
        g = -math.log(1.0 - u) / rate
        if g >= NEVER:
            return NEVER
        return int(g)

    def capacity(self, unit: int, role: int, day: int) -> tuple[int, int]:
        """(total, same-day) slots on a day: cumulative floor of the fractional daily rate over
        working days, the unit's same-day reserve for the role rounded half up; nothing on closed days."""
        P = self.P
        if day >= P.n_days or not P.working[day]:
            return 0, 0
        rate = P.cap_rate[unit][role]
        wd = P.wd_index[day]
        total = int(math.floor(rate * (wd + 1)) - math.floor(rate * wd))
        same_day = math.floor(total * P.same_day_reserve[unit][role] + 0.5)
        return total, same_day

    def pool_of(self, practice: int) -> int:
        return self.P.n_practices + self.P.practice_pcn[practice]

    def units_of(self, practice: int) -> list[int]:
        """Where a practice's patients can be seen, in booking order: the practice, its network pool, and
        the shared pool of a network of networks its PCN belongs to."""
        shared = self.P.pcn_shared[self.P.practice_pcn[practice]]
        return [practice, self.pool_of(practice)] + ([shared] if shared >= 0 else [])

    def can_reach(self, practice: int, role: int) -> bool:
        return any(self.P.cap_rate[unit][role] > 0.0 for unit in self.units_of(practice))

    def care_plan_factor(self, patient: Patient, need: int, day: int) -> float:
        """Patients on the complex-care caseload go to A&E less for the needs its care plan covers."""
        return self.P.mdt_ae_mult if self.P.mdt_needs[need] and patient.enrolled(day) else 1.0

    def continuity(self, table: list, patient: Patient) -> float:
        """A multiplier by the patient's latest GP contacts: how many, and how many with the usual GP."""
        return table[len(patient.gp_history)][sum(patient.gp_history)]

    def with_usual_gp(self, patient: Patient, k: int, unit: int, day: int) -> bool:
        """Whether a GP contact at `unit` is with the patient's usual GP (never in a pool); counted and
        remembered among the patient's latest GP contacts."""
        usual = self.u(R.USUAL_GP, patient.pid, day, k) < self.P.usual_gp[unit]
        if usual:
            self.count(patient, C_GP_USUAL, day)
            self.stats["usual_gp_contacts"] += 1
        patient.gp_history = [*patient.gp_history, usual][-GP_MEMORY:]
        return usual

    def slots_needed(self, need: int, role: int) -> int:
        """A GP home visit takes several appointment slots; anything else one."""
        return self.P.home_visit_slots if (need == URGENT_HOME_VISIT and role == GP) else 1

    # ---- recording -------------------------------------------------------------------------------
    def count(self, patient: Patient, column: int, day: int, n: int = 1):
        patient.counters[column] += n
        self.weekly[day // 7][patient.practice][column] += n

    def event(self, patient: Patient, column: int, day: int):
        self.weekly[day // 7][patient.practice][column] += 1

    def log(self, day, patient, setting, unit, need, outcome, urgency, k):
        if self.ledger_on:
            self.ledger.append((day, patient.pid, setting, unit, need, outcome, urgency, k))

    # ---- persons ---------------------------------------------------------------------------------
    def draw_person(self, pid: int, practice: int, day: int, newborn: bool) -> Patient:
        """A birth, or a registrant drawn from the practice's list profile (sex x age), then
        deprivation, needs segment and complexity."""
        P = self.P
        n_age = P.max_age + 1
        if newborn:
            sex = 0 if self.u(R.PERSON_SEX, pid, day, 0) < MALE_BIRTH_SHARE else 1
            age_days = 0
        else:
            idx = bisect_right(P.entrant_cdf[practice], self.u(R.PERSON_AGE, pid, day, 0))
            sex = idx // n_age
            age_days = (idx % n_age) * DAYS_PER_YEAR + int(self.u(R.PERSON_AGE, pid, day, 1) * DAYS_PER_YEAR)
        dep = bisect_right(P.dep_cdf[practice], self.u(R.PERSON_DEPRIVATION, pid, day, 0))
        age = min(age_days // DAYS_PER_YEAR, P.max_age)
        seg = bisect_right(P.seg_cdf[age][dep], self.u(R.PERSON_SEGMENT, pid, day, 0))
        cx = bisect_right(P.cx_cdf[seg], self.u(R.PERSON_COMPLEXITY, pid, day, 0))
        return Patient(pid=pid, practice=practice, birth_day=day - age_days, sex=sex, dep=dep, seg=seg, cx=cx,
                       reg_day=day)

    def exit(self, patient: Patient, day: int, reason: int):
        """A death or a leaver: record their year so far, close their episodes (freeing bookings)."""
        meta = (patient.pid, patient.practice, patient.birth_day, patient.sex, patient.dep, patient.seg,
                patient.cx, patient.reg_day, day, reason)
        for k in range(EPISODE_SLOTS):
            if patient.episodes[k] is not None:
                self.close_episode(patient, k, day, M_CLOSED_EXIT)
        self.exit_meta.append(meta)
        self.exit_counters.append(tuple(patient.counters))
        self.event(patient, M_DEATHS if reason == EXIT_DIED else M_LEAVERS, day)

    # ---- episodes --------------------------------------------------------------------------------
    def account_unmet(self, patient: Patient, ep: Episode, day: int):
        """Episode-days from the last accounting point up to (not including) `day` count as unmet; the
        weekly tally books them all in the week of `day - 1`."""
        if day > ep.accounted_to:
            add = day - ep.accounted_to
            patient.counters[C_UNMET_DAYS] += add
            patient.unmet_month += add
            self.weekly[(day - 1) // 7][patient.practice][C_UNMET_DAYS] += add
            ep.accounted_to = day

    def close_episode(self, patient: Patient, k: int, day: int, metric: int):
        ep = patient.episodes[k]
        self.account_unmet(patient, ep, day)
        b = ep.booking
        if b is not None and b.day >= day:  # a booked appointment not yet happened frees its slots
            self.units[b.unit].diaries[b.role].release(b.day, b.slots)
            self.stats["released_bookings"] += 1
        ep.booking = None
        self.event(patient, metric, day)
        patient.episodes[k] = None

    def open_episode(self, patient: Patient, day: int, age: int):
        """Onset: draw the need type (by its share of the onset rate) and urgency; the episode asks today.
        With every slot taken the onset merges into the open needs."""
        P = self.P
        pid = patient.pid
        rates = P.onset_rate[patient.seg][patient.sex][age][patient.dep]
        target = self.u(R.ONSET_TYPE, pid, day, 0) * P.onset_total[patient.seg][patient.sex][age][patient.dep]
        possible = [j for j, rate in enumerate(rates) if rate > 0.0]
        need = possible[-1] if possible else -1  # a draw rounding onto the total: the last possible need
        cum = 0.0
        for j, rate in enumerate(rates):
            cum += rate
            if rate > 0.0 and target < cum:
                need = j
                break
        free = [k for k in range(EPISODE_SLOTS) if patient.episodes[k] is None]
        if not free:
            self.event(patient, M_MERGED, day)
            return
        k = free[0]
        u = self.u(R.URGENCY, pid, day, 0)
        if u < P.need_urgent[need]:
            urgency = URGENT
        elif u < P.need_urgent[need] + P.need_same_day[need]:
            urgency = SAME_DAY
        else:
            urgency = ROUTINE
        g = self.waiting_days(self.u(R.SELF_RESOLUTION, pid, day, k), P.selfres_rate[need])
        patient.episodes[k] = Episode(need=need, urgency=urgency, opened=day, next_day=day,
                                      selfres_day=NEVER if g >= NEVER else day + 1 + g, accounted_to=day)
        self.count(patient, C_EPISODES, day)

    def schedule_return(self, patient: Patient, k: int, day: int):
        """The patient comes back about a type-specific revisit interval later (uniform 0.5-1.5 x mean)."""
        ep = patient.episodes[k]
        u = self.u(R.REVISIT_INTERVAL, patient.pid, day, k)
        ep.next_day = day + max(1, int(self.P.revisit_mean[ep.need] * (0.5 + u)))
        ep.waiting_since = -1

    # ---- step 1: demography and complexity, every 4 weeks ----------------------------------------
    def monthly(self, day: int):
        P = self.P
        caseload = [0] * len(P.mdt_caseload)
        candidates = []  # (priority key, patient) of eligible patients not on the caseload
        for slot in range(len(self.patients)):
            patient = self.patients[slot]
            for ep in patient.episodes:
                if ep is not None:
                    self.account_unmet(patient, ep, day)
            pid = patient.pid
            age = patient.age(day, P.max_age)
            frail = 1 if patient.seg == FRAIL else 0
            reason = 0
            if self.u(R.DEATH, pid, day, 0) < P.death_monthly[age][frail][patient.cx]:
                reason = EXIT_DIED
            elif self.u(R.LEAVE, pid, day, 0) < P.leave_monthly:
                reason = EXIT_LEFT
            if reason:
                practice = patient.practice
                self.exit(patient, day, reason)
                newborn = self.u(R.NEWBORN, pid, day, 0) < P.newborn_share  # keyed by the leaver's id
                group = P.practice_group[practice]
                patient = self.draw_person(self.next_pid[group], practice, day, newborn)
                self.next_pid[group] += P.pid_stride
                self.patients[slot] = patient
                self.event(patient, M_BIRTHS if newborn else M_REGISTRATIONS, day)
                pid = patient.pid
                age = patient.age(day, P.max_age)
            else:
                c = patient.cx
                up = P.esc[c] * (1.0 + P.unmet_effect * patient.unmet_month / DAYS_PER_MONTH)
                if P.seg_complex[patient.seg]:
                    up *= P.complex_seg_mult
                if age >= OLD_AGE:
                    up *= P.old_age_mult
                down = P.desc[c] * (1.0 + P.fit_effect * patient.fit_month)
                if patient.enrolled(day):
                    down *= P.mdt_desc_mult
                if c == 3:
                    up = 0.0
                if c == 0:
                    down = 0.0
                up = min(up, 1.0)
                down = min(down, 1.0 - up)
                u = self.u(R.COMPLEXITY, pid, day, 0)
                if c < 3 and u < up:
                    patient.cx = c + 1
                elif c > 0 and u < up + down:
                    patient.cx = c - 1
            patient.unmet_month = 0
            patient.fit_month = 0
            rate = P.onset_total[patient.seg][patient.sex][age][patient.dep] * P.cx_onset_mult[patient.cx]
            patient.next_onset = day + self.waiting_days(self.u(R.ONSET_TIME, pid, day, 0), rate)
            patient.next_bg_ae = day + self.waiting_days(self.u(R.BACKGROUND_AE, pid, day, 0),
                                                         P.ae_bg_daily[age][patient.dep])
            # Complex-care team: who is on the caseload, and who is eligible to join it.
            pcn = P.practice_pcn[patient.practice]
            if patient.enrolled(day):
                caseload[pcn] += 1
                self.count(patient, C_MDT_MONTHS, day)
            elif P.mdt_caseload[pcn] > 0 and patient.cx >= P.mdt_min_cx:
                recent = [d for d in patient.contact_days if d > day - P.mdt_window]
                if len(recent) >= P.mdt_min_contacts:
                    key = ((3 - patient.cx) << 61) | (bits_py(P.keys[R.CASE_FINDING], pid, day, 0) >> 3)
                    candidates.append((key, patient))
        # Case finding: most complex first, then a counter-based random priority, while there is room.
        for _, patient in sorted(candidates, key=lambda c: c[0]):
            pcn = P.practice_pcn[patient.practice]
            if caseload[pcn] < P.mdt_caseload[pcn]:
                patient.enrolled_until = day + P.mdt_days
                caseload[pcn] += 1
                self.count(patient, C_MDT_MONTHS, day)
                self.stats["mdt_enrolments"] += 1

    # ---- diaries ---------------------------------------------------------------------------------
    def open_routine_day(self, day: int):
        for unit in self.units:
            for role in range(N_ROLES):
                total, same_day = self.capacity(unit.index, role, day)
                unit.diaries[role].open(day, total - same_day)

    def open_day(self, day: int):
        """Morning: day + horizon opens for routine booking; today's same-day slots are reserved."""
        self.open_routine_day(day + self.P.horizon)
        for unit in self.units:
            for role in range(N_ROLES):
                unit.diaries[role].same_day = self.capacity(unit.index, role, day)[1]

    def close_day(self, day: int):
        """Evening: capacity offered and used today; today's unbooked routine slots expire."""
        week = day // 7
        for unit in self.units:
            for role in range(N_ROLES):
                diary = unit.diaries[role]
                total, _ = self.capacity(unit.index, role, day)
                left_routine = diary.expire(day)
                if total > 0:
                    self.cap_offered[week][unit.index][role] += total
                    self.cap_used[week][unit.index][role] += total - (diary.same_day + left_routine)

    # ---- steps 4-5: triage and booking -----------------------------------------------------------
    def triage(self, patient: Patient, k: int, day: int) -> int:
        ep = patient.episodes[k]
        if ep.referred_to >= 0:
            return ep.referred_to
        if self.P.mdt_needs[ep.need] and patient.enrolled(day) and self.can_reach(patient.practice, MDT):
            self.stats["mdt_triage"] += 1
            return MDT
        route = self.P.route_cum[patient.practice][ep.need]
        u = self.u(R.TRIAGE, patient.pid, day, k)
        for role in range(N_ROLES):
            if u < route[role]:
                return role
        return N_ROLES - 1

    def find_slot(self, day: int, practice: int, role: int, need: int, urgency: int) -> tuple[int, int]:
        """Own practice first, then the network pool, then any shared pool. Same-day and urgent requests
        take today's reserved slots, then today's unbooked routine slots; routine requests the earliest
        day within the booking horizon with enough free routine slots. Returns (unit, day) or (-1, -1)."""
        P = self.P
        slots = self.slots_needed(need, role)
        last = min(day + P.horizon, P.n_days - 1)
        for unit in self.units_of(practice):
            diary = self.units[unit].diaries[role]
            if urgency >= SAME_DAY:
                if diary.same_day >= slots:
                    diary.same_day -= slots
                    return unit, day
                if diary.routine[day] >= slots:
                    diary.routine[day] -= slots
                    self.stats["same_day_took_routine_slot"] += 1
                    return unit, day
                continue
            for x in range(day, last + 1):
                if diary.routine[x] >= slots:
                    diary.routine[x] -= slots
                    return unit, x
        return -1, -1

    def navigate(self, day: int, practice: int, need: int, urgency: int) -> tuple[int, int, int]:
        """The best-fitting role for the need that the practice can reach and that has a slot: (unit, day,
        role), or (-1, -1, -1)."""
        for role in self.P.nav_order[need]:
            if role < 0:
                break
            if self.can_reach(practice, role):
                unit, booked_day = self.find_slot(day, practice, role, need, urgency)
                if unit >= 0:
                    return unit, booked_day, role
        return -1, -1, -1

    # ---- step 7: contacts ------------------------------------------------------------------------
    def note_primary_care_contact(self, patient: Patient, day: int):
        """Count a contact that comes with at least 3 earlier primary-care contacts in the last 30 days."""
        recent = [d for d in patient.contact_days if d > day - CLUSTER_WINDOW]
        if len(recent) >= CLUSTER_PREVIOUS:
            self.count(patient, C_CLUSTER, day)
        patient.contact_days.append(day)

    def contact(self, patient: Patient, k: int, day: int):
        P = self.P
        pid = patient.pid
        ep = patient.episodes[k]
        booking, ep.booking = ep.booking, None
        need, role, unit, urgency = ep.need, booking.role, booking.unit, ep.urgency
        p_dna = P.dna_same + (P.dna_week - P.dna_same) * min(booking.lead, 7) / 7.0
        if self.u(R.DNA, pid, day, k) < p_dna:
            self.count(patient, C_DNA, day)
            self.log(day, patient, role, unit, need, DNA, urgency, k)
            self.schedule_return(patient, k, day)
            return
        self.count(patient, role, day)
        if role != COMMUNITY_NURSE:
            if ep.contacts > 0:
                self.count(patient, C_REVISITS, day)
            self.note_primary_care_contact(patient, day)
        if need == URGENT_HOME_VISIT and role == GP:
            self.event(patient, M_HOME_VISITS, day)
        self.account_unmet(patient, ep, day)
        ep.accounted_to = day + 1
        ep.contacts += 1
        if unit >= P.n_practices:
            self.stats["pool_contacts"] += 1
        if unit >= P.n_practices + len(P.mdt_caseload):
            self.stats["shared_pool_contacts"] += 1
        p_resolve = max(P.match[need][role], 0.0)
        if role == GP and self.with_usual_gp(patient, k, unit, day):
            p_resolve = min(p_resolve * P.usual_gp_resolve, 1.0)
        if self.u(R.RESOLVE, pid, day, k) < p_resolve:
            if P.fit[need][role]:
                patient.fit_month += 1
            self.log(day, patient, role, unit, need, RESOLVED, urgency, k)
            self.close_episode(patient, k, day, M_RESOLVED)
            return
        self.log(day, patient, role, unit, need, REVISIT, urgency, k)
        if self.u(R.OUTPATIENT, pid, day, k) < P.outpatient_ref[need]:
            self.count(patient, OUTPATIENT, day)
            self.log(day, patient, OUTPATIENT, -1, need, REVISIT, urgency, k)
        target = P.referral_role[need]
        if (target >= 0 and role != target and ep.referred_to != target and self.can_reach(patient.practice, target)
                and self.u(R.REFERRAL, pid, day, k) < P.referral_prob[need]):
            ep.referred_to = target
            self.stats["referrals"] += 1
        self.schedule_return(patient, k, day)

    # ---- step 8: A&E -----------------------------------------------------------------------------
    def attend_ae(self, patient: Patient, k: int, day: int):
        """An A&E attendance; k = -1 for a background attendance (injury etc.) tied to no episode."""
        P = self.P
        pid = patient.pid
        age = patient.age(day, P.max_age)
        self.count(patient, AE, day)
        if k >= 0:
            self.count(patient, C_AE_SENSITIVE, day)
        draw_k = k if k >= 0 else EPISODE_SLOTS
        p_admit = P.admit[age][patient.cx]
        if k >= 0:
            p_admit = min(p_admit * self.continuity(P.continuity_admit, patient), 1.0)
        admitted = self.u(R.ADMIT, pid, day, draw_k) < p_admit
        if admitted:
            self.count(patient, ADMISSION, day)
        if k < 0:
            self.event(patient, M_AE_BACKGROUND, day)
            self.log(day, patient, AE, -1, -1, NO_EPISODE, URGENT, draw_k)
            if admitted:
                self.log(day, patient, ADMISSION, -1, -1, NO_EPISODE, URGENT, draw_k)
            return
        ep = patient.episodes[k]
        self.account_unmet(patient, ep, day)
        ep.accounted_to = day + 1
        ep.contacts += 1
        p_resolve = P.admission_resolves if admitted else max(P.match[ep.need][AE_COLUMN], 0.0)
        resolved = self.u(R.HOSPITAL_RESOLVE, pid, day, k) < p_resolve
        outcome = RESOLVED if resolved else REVISIT
        self.log(day, patient, AE, -1, ep.need, outcome, ep.urgency, k)
        if admitted:
            self.log(day, patient, ADMISSION, -1, ep.need, outcome, ep.urgency, k)
        if resolved:
            self.close_episode(patient, k, day, M_RESOLVED)
        else:
            self.schedule_return(patient, k, day)

    # ---- the day ---------------------------------------------------------------------------------
    def run_day(self, day: int):
        P = self.P
        keys = P.keys
        if day % DAYS_PER_MONTH == 0:
            self.monthly(day)
        self.open_day(day)

        requests: list[tuple[Patient, int]] = []
        contacts: list[tuple[Patient, int]] = []  # pre-booked (slot order), then booked today
        ae_visits: list[tuple[Patient, int]] = []  # background and direct (slot order), then spill-over

        # Steps 2-3, patient by patient in slot order, for those with something due today.
        for patient in self.patients:
            if patient.next_event() > day:
                continue
            pid = patient.pid
            age = patient.age(day, P.max_age)
            for k in range(EPISODE_SLOTS):
                ep = patient.episodes[k]
                if ep is not None and ep.selfres_day <= day:
                    self.close_episode(patient, k, day, M_SELF_RESOLVED)
            if patient.next_onset <= day:
                self.open_episode(patient, day, age)
                rate = P.onset_total[patient.seg][patient.sex][age][patient.dep] * P.cx_onset_mult[patient.cx]
                patient.next_onset = day + 1 + self.waiting_days(self.u(R.ONSET_TIME, pid, day, 1), rate)
            if patient.next_bg_ae <= day:
                ae_visits.append((patient, -1))
                rate = P.ae_bg_daily[age][patient.dep]
                patient.next_bg_ae = day + 1 + self.waiting_days(self.u(R.BACKGROUND_AE, pid, day, 1), rate)
            for k in range(EPISODE_SLOTS):
                ep = patient.episodes[k]
                if ep is None or ep.next_day > day:
                    continue
                if ep.booking is not None:
                    contacts.append((patient, k))
                    continue
                if ep.waiting_since >= 0:  # unserved before: asks again without deciding anew
                    ask = True
                else:
                    p_seek = P.access[patient.sex][age][patient.dep] * P.seek_mult[ep.need]
                    if ep.contacts > 0:
                        p_seek *= P.follow_up_mult
                    ask = self.u(R.SEEK, pid, day, k) < p_seek
                if ask:
                    self.count(patient, C_REQUESTS, day)
                    requests.append((patient, k))
                    ep.next_day = NEVER
                else:
                    p_direct = (P.ae_direct[ep.urgency] * P.ae_mult[age][patient.dep]
                                * self.care_plan_factor(patient, ep.need, day)
                                * self.continuity(P.continuity_ae, patient))
                    if self.u(R.DIRECT_AE, pid, day, k) < p_direct:
                        ae_visits.append((patient, k))
                        ep.next_day = NEVER
                        self.stats["direct_ae"] += 1
                    else:
                        self.schedule_return(patient, k, day)

        # Requests in order of urgency, then a counter-based random priority (a stable sort).
        def order_key(request):
            patient, k = request
            urgency_rank = (2 - patient.episodes[k].urgency) << 61
            return urgency_rank | (bits_py(keys[R.PRIORITY], patient.pid, day, k) >> 3)

        # Steps 4-6: triage, navigation, booking, unserved requests.
        navigations = [math.floor(x + 0.5) if P.working[day] else 0 for x in P.nav_per_day]
        for patient, k in sorted(requests, key=order_key):
            ep = patient.episodes[k]
            if ep.urgency == ROUTINE and not P.working[day]:
                ep.next_day = P.next_working[day] if day + 1 < P.n_days else day + 1
                if ep.waiting_since < 0:
                    ep.waiting_since = day
                self.stats["routine_deferred_closed_day"] += 1
                continue
            unit, booked_day, role = -1, -1, -1
            if P.working[day]:
                role = self.triage(patient, k, day)
                pcn = P.practice_pcn[patient.practice]
                if ep.referred_to < 0 and role != MDT and navigations[pcn] > 0:
                    navigations[pcn] -= 1
                    self.event(patient, M_NAVIGATED, day)
                    unit, booked_day, fitted = self.navigate(day, patient.practice, ep.need, ep.urgency)
                    if unit >= 0:
                        role = fitted
                        self.stats["navigated_to_fit"] += 1
                if unit < 0:
                    unit, booked_day = self.find_slot(day, patient.practice, role, ep.need, ep.urgency)
                if unit < 0:  # no unit had a slot for that role
                    self.event(patient, M_UNPLACED + role, day)
                elif unit >= P.n_practices and P.cap_rate[patient.practice][role] > 0.0:  # practice full
                    self.event(patient, M_TO_NETWORK + role, day)
                if unit < 0 and role != GP:
                    role = GP
                    unit, booked_day = self.find_slot(day, patient.practice, role, ep.need, ep.urgency)
                    if unit >= 0:
                        self.stats["gp_fallback"] += 1
            if unit >= 0:
                ep.booking = Booking(unit=unit, role=role, day=booked_day, lead=booked_day - day,
                                     slots=self.slots_needed(ep.need, role))
                ep.next_day = booked_day
                ep.waiting_since = -1
                self.stats["booked_ahead" if booked_day > day else "booked_today"] += 1
                if booked_day == day + P.horizon:
                    self.stats["booked_at_horizon_edge"] += 1
                if ep.booking.slots > 1:
                    self.stats["multi_slot_booking_" + ("routine" if ep.urgency == ROUTINE else "same_day")] += 1
                if unit >= P.n_practices:
                    self.stats["pool_bookings"] += 1
                if booked_day == day:
                    contacts.append((patient, k))
                continue
            self.count(patient, C_UNSERVED, day)
            if P.working[day]:
                self.stats["unserved_working_day_" + ("routine" if ep.urgency == ROUTINE else "same_day")] += 1
            else:
                self.stats["unserved_closed_day"] += 1
            if ep.waiting_since < 0:
                ep.waiting_since = day
            age = patient.age(day, P.max_age)
            waited = day - ep.waiting_since
            p_ae = (P.ae_unserved[ep.urgency] * (1.0 + P.ae_wait_slope * waited) * P.ae_mult[age][patient.dep]
                    * self.care_plan_factor(patient, ep.need, day) * self.continuity(P.continuity_ae, patient))
            if self.u(R.AE_CHOICE, patient.pid, day, k) < p_ae:
                ae_visits.append((patient, k))
                self.stats["spill_over_ae"] += 1
            else:
                ep.next_day = P.next_working[day] if day + 1 < P.n_days else day + 1

        # Step 7: contacts; step 8: A&E.
        for patient, k in contacts:
            self.contact(patient, k, day)
        for patient, k in ae_visits:
            self.attend_ae(patient, k, day)

        # Step 9: capacity use; unbooked routine slots of today expire.
        self.close_day(day)

    def close_year(self, day: int):
        """Account unmet episode-days up to a year boundary."""
        for patient in self.patients:
            for ep in patient.episodes:
                if ep is not None:
                    self.account_unmet(patient, ep, day)


def simulate(params, layout, n_days: int, ledger: bool = True, close_year: bool = True) -> ReferenceResult:
    """Run the reference over days [0, n_days) from a freshly drawn day-0 list.

    With `close_year` and `n_days` a whole number of model years, unmet episode-days are accounted up to
    day `n_days` at the end (as `engine.close_year`)."""
    ref = Reference(params, layout, ledger=ledger)
    if not 0 <= n_days <= ref.P.n_days:
        raise ValueError(f"n_days {n_days} outside the calendar [0, {ref.P.n_days}]")
    for day in range(n_days):
        ref.run_day(day)
    if close_year and n_days % DAYS_PER_YEAR == 0:
        ref.close_year(n_days)
    return ReferenceResult(
        ledger=ref.ledger,
        counters={p.pid: list(p.counters) for p in ref.patients},
        exit_meta=ref.exit_meta,
        exit_counters=ref.exit_counters,
        weekly=ref.weekly,
        cap_offered=ref.cap_offered,
        cap_used=ref.cap_used,
        patients=ref.patients,
        units=ref.units,
        stats=ref.stats,
    )
