"""A plain-Python reference of the daily step, written against the rules rather than the kernels.

People are objects holding episode objects; diaries are dictionaries of free slots by day. It reads
only the parameter tables (`pcnsim.params.build`) and uses the Python twin of the counter-based RNG,
so with the same seed it must reproduce the engine event for event: same ledger rows in the same
order, same counters, same leavers, same weekly tallies. Slow by design: a few hundred patients.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np

from pcnsim.engine import rng as R
from pcnsim.engine import state as st
from pcnsim.vocab import (
    ADMISSION,
    AE,
    DNA,
    FRAIL,
    GP,
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

YEAR, MONTH, NEVER, K = st.DAYS_PER_YEAR, st.DAYS_PER_MONTH, st.NEVER, st.EPISODE_SLOTS
AE_COLUMN = N_ROLES
COMMUNITY_NURSE = N_ROLES - 1


@dataclass
class Episode:
    need: int
    urgency: int
    opened: int
    next_day: int
    selfres_day: int
    accounted_to: int
    contacts: int = 0
    waiting_since: int = -1
    referred_to: int = -1
    booking: dict | None = None  # unit, role, day, lead, slots


@dataclass
class Person:
    pid: int
    practice: int
    birth_day: int
    sex: int
    dep: int
    seg: int
    cx: int
    reg_day: int
    episodes: dict[int, Episode] = field(default_factory=dict)
    next_onset: int = NEVER
    next_bg_ae: int = NEVER
    unmet_month: int = 0
    fit_month: int = 0
    counters: list[int] = field(default_factory=lambda: [0] * st.N_COUNTERS)


@dataclass
class ReferenceResult:
    ledger: list[tuple]
    counters: dict[int, list[int]]
    exits: list[tuple]
    weekly: np.ndarray
    cap_offered: np.ndarray
    cap_used: np.ndarray


class Reference:
    def __init__(self, params, layout, n_days: int):
        self.P = params
        self.keys = [int(k) for k in params.keys]
        self.n_days = n_days
        self.n_practices = layout.n_practices
        self.n_units = layout.n_units
        self.ledger: list[tuple] = []
        self.exits: list[tuple] = []
        self.weekly = np.zeros((n_days // 7 + 1, self.n_practices, st.N_WEEKLY), np.int64)
        self.cap_offered = np.zeros((n_days // 7 + 1, self.n_units, N_ROLES), np.int64)
        self.cap_used = np.zeros_like(self.cap_offered)
        practice_of_slot = np.repeat(np.arange(layout.n_practices), layout.list_sizes)
        self.people = [self.new_person(i, int(p), 0, newborn=False) for i, p in enumerate(practice_of_slot)]
        self.next_pid = len(self.people)
        self.same_day_free: dict[tuple[int, int], int] = {}
        self.routine_free: dict[tuple[int, int, int], int] = {}  # (unit, role, day) -> free slots
        for day in range(0, params.horizon):
            self.put_routine_capacity(day)

    # ---- draws and tables ------------------------------------------------------------------------
    def u(self, stream, pid, day, k=0):
        return R.uniform_py(self.keys[stream], pid, day, k)

    def age(self, person, day):
        return min(max((day - person.birth_day) // YEAR, 0), self.P.max_age)

    @staticmethod
    def wait(u, rate):
        if rate <= 0.0:
            return NEVER
        g = -math.log(1.0 - u) / rate
        return NEVER if g >= NEVER else int(g)

    def capacity(self, unit, role, day):
        P = self.P
        if day >= self.n_days or not P.working[day]:
            return 0, 0
        rate, wd = P.cap_rate[unit, role], int(P.wd_index[day])
        total = int(math.floor(rate * (wd + 1)) - math.floor(rate * wd))
        return total, int(math.floor(total * P.same_day_share + 0.5))

    def count(self, person, column, day, n=1):
        person.counters[column] += n
        self.weekly[day // 7, person.practice, column] += n

    def log(self, person, day, setting, unit, need, outcome, urgency, k):
        self.ledger.append((day, person.pid, setting, unit, need, outcome, urgency, k))

    # ---- people ----------------------------------------------------------------------------------
    def new_person(self, pid, practice, day, newborn):
        P = self.P
        n_age = P.max_age + 1
        if newborn:
            sex = 0 if self.u(R.PERSON_SEX, pid, day) < 0.512 else 1
            age_days = 0
        else:
            idx = bisect_right(list(P.entrant_cdf[practice]), self.u(R.PERSON_AGE, pid, day))
            sex = idx // n_age
            age_days = (idx % n_age) * YEAR + int(self.u(R.PERSON_AGE, pid, day, 1) * YEAR)
        dep = bisect_right(list(P.dep_cdf[practice]), self.u(R.PERSON_DEPRIVATION, pid, day))
        age = min(age_days // YEAR, P.max_age)
        seg = bisect_right(list(P.seg_cdf[age, dep]), self.u(R.PERSON_SEGMENT, pid, day))
        cx = bisect_right(list(P.cx_cdf[seg]), self.u(R.PERSON_COMPLEXITY, pid, day))
        return Person(pid, practice, day - age_days, sex, dep, seg, cx, day)

    def flush(self, person, ep, day):
        if day > ep.accounted_to:
            add = day - ep.accounted_to
            person.counters[st.C_UNMET_DAYS] += add
            person.unmet_month += add
            self.weekly[(day - 1) // 7, person.practice, st.C_UNMET_DAYS] += add
            ep.accounted_to = day

    def close(self, person, k, day, metric):
        ep = person.episodes.pop(k)
        self.flush(person, ep, day)
        b = ep.booking
        if b is not None and b["day"] >= day:
            key = (b["unit"], b["role"], b["day"])
            self.routine_free[key] = self.routine_free.get(key, 0) + b["slots"]
        self.weekly[day // 7, person.practice, metric] += 1

    def schedule_return(self, person, k, day):
        ep = person.episodes[k]
        u = self.u(R.REVISIT_INTERVAL, person.pid, day, k)
        ep.next_day = day + max(1, int(self.P.revisit_mean[ep.need] * (0.5 + u)))
        ep.waiting_since = -1

    # ---- step 1 ----------------------------------------------------------------------------------
    def monthly(self, day):
        P = self.P
        for slot, person in enumerate(self.people):
            for ep in person.episodes.values():
                self.flush(person, ep, day)
            pid, age = person.pid, self.age(person, day)
            reason = 0
            if self.u(R.DEATH, pid, day) < P.death_monthly[age, int(person.seg == FRAIL), person.cx]:
                reason = st.EXIT_DIED
            elif self.u(R.LEAVE, pid, day) < P.leave_monthly:
                reason = st.EXIT_LEFT
            if reason:
                for k in sorted(person.episodes):
                    self.close(person, k, day, st.M_CLOSED_EXIT)
                self.exits.append((person.pid, person.practice, person.birth_day, person.sex, person.dep,
                                   person.seg, person.cx, person.reg_day, day, reason, tuple(person.counters)))
                self.weekly[day // 7, person.practice, st.M_DEATHS if reason == st.EXIT_DIED else st.M_LEAVERS] += 1
                newborn = self.u(R.NEWBORN, pid, day) < P.newborn_share
                person = self.people[slot] = self.new_person(self.next_pid, person.practice, day, newborn)
                self.next_pid += 1
                self.weekly[day // 7, person.practice, st.M_BIRTHS if newborn else st.M_REGISTRATIONS] += 1
                pid, age = person.pid, self.age(person, day)
            else:
                c = person.cx
                up = P.esc[c] * (1.0 + P.unmet_effect * person.unmet_month / MONTH)
                if P.seg_complex[person.seg]:
                    up *= P.complex_seg_mult
                if age >= 80:
                    up *= P.old_age_mult
                down = P.desc[c] * (1.0 + P.fit_effect * person.fit_month)
                up = min(up, 1.0)
                down = min(down, 1.0 - up)
                u = self.u(R.COMPLEXITY, pid, day)
                if c < 3 and u < up:
                    person.cx = c + 1
                elif c > 0 and u < up + down:
                    person.cx = c - 1
            person.unmet_month = person.fit_month = 0
            rate = P.onset_total[person.seg, person.sex, age, person.dep] * P.cx_onset_mult[person.cx]
            person.next_onset = day + self.wait(self.u(R.ONSET_TIME, pid, day), rate)
            person.next_bg_ae = day + self.wait(self.u(R.BACKGROUND_AE, pid, day), P.ae_bg_daily[age, person.dep])

    # ---- step 2 ----------------------------------------------------------------------------------
    def onset(self, person, day, age):
        P = self.P
        rates = P.onset_rate[person.seg, person.sex, age, person.dep]
        target = self.u(R.ONSET_TYPE, person.pid, day) * P.onset_total[person.seg, person.sex, age, person.dep]
        need, cum = len(rates) - 1, 0.0
        for j, r in enumerate(rates):
            cum += r
            if target < cum:
                need = j
                break
        free = [k for k in range(K) if k not in person.episodes]
        if not free:
            self.weekly[day // 7, person.practice, st.M_MERGED] += 1
            return
        k = free[0]
        u = self.u(R.URGENCY, person.pid, day)
        urgency = URGENT if u < P.need_urgent[need] else (
            SAME_DAY if u < P.need_urgent[need] + P.need_same_day[need] else ROUTINE)
        g = self.wait(self.u(R.SELF_RESOLUTION, person.pid, day, k), P.selfres_rate[need])
        person.episodes[k] = Episode(need, urgency, opened=day, next_day=day,
                                     selfres_day=NEVER if g >= NEVER else day + 1 + g, accounted_to=day)
        self.count(person, st.C_EPISODES, day)

    # ---- steps 4-5 -------------------------------------------------------------------------------
    def put_routine_capacity(self, day):
        for unit in range(self.n_units):
            for role in range(N_ROLES):
                total, same_day = self.capacity(unit, role, day)
                self.routine_free[(unit, role, day)] = total - same_day

    def slots_for(self, need, role):
        return self.P.home_visit_slots if (need == URGENT_HOME_VISIT and role == GP) else 1

    def book(self, day, person, role, need, urgency):
        P = self.P
        slots = self.slots_for(need, role)
        pool = self.n_practices + int(P.practice_pcn[person.practice])
        for unit in (person.practice, pool):
            if urgency >= SAME_DAY:
                for diary, key in ((self.same_day_free, (unit, role)), (self.routine_free, (unit, role, day))):
                    if diary[key] >= slots:
                        diary[key] -= slots
                        return unit, day
                continue
            for x in range(day, min(day + P.horizon, self.n_days - 1) + 1):
                if self.routine_free[(unit, role, x)] >= slots:
                    self.routine_free[(unit, role, x)] -= slots
                    return unit, x
        return -1, -1

    def triage(self, person, k, ep, day):
        if ep.referred_to >= 0:
            return ep.referred_to
        u = self.u(R.TRIAGE, person.pid, day, k)
        route = self.P.route_cum[person.practice, ep.need]
        return next((r for r in range(N_ROLES) if u < route[r]), N_ROLES - 1)

    def reachable(self, practice, role):
        pool = self.n_practices + int(self.P.practice_pcn[practice])
        return self.P.cap_rate[practice, role] > 0 or self.P.cap_rate[pool, role] > 0

    # ---- steps 7-8 -------------------------------------------------------------------------------
    def contact(self, person, k, day):
        P = self.P
        ep = person.episodes[k]
        b, ep.booking = ep.booking, None
        role, unit, need = b["role"], b["unit"], ep.need
        if self.u(R.DNA, person.pid, day, k) < P.dna_same + (P.dna_week - P.dna_same) * min(b["lead"], 7) / 7.0:
            self.count(person, st.C_DNA, day)
            self.log(person, day, role, unit, need, DNA, ep.urgency, k)
            self.schedule_return(person, k, day)
            return
        self.count(person, role, day)
        if role != COMMUNITY_NURSE and ep.contacts > 0:
            self.count(person, st.C_REVISITS, day)
        if need == URGENT_HOME_VISIT and role == GP:
            self.weekly[day // 7, person.practice, st.M_HOME_VISITS] += 1
        self.flush(person, ep, day)
        ep.accounted_to = day + 1
        ep.contacts += 1
        if self.u(R.RESOLVE, person.pid, day, k) < max(P.match[need, role], 0.0):
            if P.fit[need, role]:
                person.fit_month += 1
            self.log(person, day, role, unit, need, RESOLVED, ep.urgency, k)
            self.close(person, k, day, st.M_RESOLVED)
            return
        self.log(person, day, role, unit, need, REVISIT, ep.urgency, k)
        if self.u(R.OUTPATIENT, person.pid, day, k) < P.outpatient_ref[need]:
            self.count(person, OUTPATIENT, day)
            self.log(person, day, OUTPATIENT, -1, need, REVISIT, ep.urgency, k)
        target = int(P.referral_role[need])
        if (target >= 0 and role != target and ep.referred_to != target and self.reachable(person.practice, target)
                and self.u(R.REFERRAL, person.pid, day, k) < P.referral_prob[need]):
            ep.referred_to = target
        self.schedule_return(person, k, day)

    def attend_ae(self, person, k, day):
        P = self.P
        age = self.age(person, day)
        self.count(person, AE, day)
        if k >= 0:
            self.count(person, st.C_AE_SENSITIVE, day)
        draw_k = k if k >= 0 else K
        admitted = self.u(R.ADMIT, person.pid, day, draw_k) < P.admit[age, person.cx]
        if admitted:
            self.count(person, ADMISSION, day)
        if k < 0:
            self.weekly[day // 7, person.practice, st.M_AE_BACKGROUND] += 1
            self.log(person, day, AE, -1, -1, NO_EPISODE, URGENT, draw_k)
            if admitted:
                self.log(person, day, ADMISSION, -1, -1, NO_EPISODE, URGENT, draw_k)
            return
        ep = person.episodes[k]
        self.flush(person, ep, day)
        ep.accounted_to = day + 1
        ep.contacts += 1
        p = P.admission_resolves if admitted else max(P.match[ep.need, AE_COLUMN], 0.0)
        resolved = self.u(R.HOSPITAL_RESOLVE, person.pid, day, k) < p
        outcome = RESOLVED if resolved else REVISIT
        self.log(person, day, AE, -1, ep.need, outcome, ep.urgency, k)
        if admitted:
            self.log(person, day, ADMISSION, -1, ep.need, outcome, ep.urgency, k)
        if resolved:
            self.close(person, k, day, st.M_RESOLVED)
        else:
            self.schedule_return(person, k, day)

    # ---- the day -----------------------------------------------------------------------------------
    def day(self, day):
        P = self.P
        if day % MONTH == 0:
            self.monthly(day)
        self.put_routine_capacity(day + P.horizon)
        for unit in range(self.n_units):
            for role in range(N_ROLES):
                self.same_day_free[(unit, role)] = self.capacity(unit, role, day)[1]
        requests, contacts, ae = [], [], []
        for slot, person in enumerate(self.people):
            due = [person.next_onset, person.next_bg_ae] + [
                min(e.next_day, e.selfres_day) for e in person.episodes.values()]
            if min(due) > day:
                continue
            pid, age = person.pid, self.age(person, day)
            for k in sorted(person.episodes):
                if person.episodes[k].selfres_day <= day:
                    self.close(person, k, day, st.M_SELF_RESOLVED)
            if person.next_onset <= day:
                self.onset(person, day, age)
                rate = P.onset_total[person.seg, person.sex, age, person.dep] * P.cx_onset_mult[person.cx]
                person.next_onset = day + 1 + self.wait(self.u(R.ONSET_TIME, pid, day, 1), rate)
            if person.next_bg_ae <= day:
                ae.append((slot, -1))
                rate = P.ae_bg_daily[age, person.dep]
                person.next_bg_ae = day + 1 + self.wait(self.u(R.BACKGROUND_AE, pid, day, 1), rate)
            for k in sorted(person.episodes):
                ep = person.episodes[k]
                if ep.next_day > day:
                    continue
                if ep.booking is not None:
                    contacts.append((slot, k))
                    continue
                if ep.waiting_since >= 0:
                    ask = True
                else:
                    p = P.access[person.sex, age, person.dep] * P.seek_mult[ep.need]
                    if ep.contacts > 0:
                        p *= P.follow_up_mult
                    ask = self.u(R.SEEK, pid, day, k) < p
                if ask:
                    self.count(person, st.C_REQUESTS, day)
                    requests.append((slot, k))
                    ep.next_day = NEVER
                elif self.u(R.DIRECT_AE, pid, day, k) < P.ae_direct[ep.urgency] * P.ae_mult[age, person.dep]:
                    ae.append((slot, k))
                    ep.next_day = NEVER
                else:
                    self.schedule_return(person, k, day)

        def priority(request):
            slot, k = request
            person = self.people[slot]
            return ((2 - person.episodes[k].urgency) << 61) | (R.bits_py(self.keys[R.PRIORITY], person.pid, day, k) >> 3)

        for slot, k in sorted(requests, key=priority):  # sorted() is stable
            person = self.people[slot]
            ep = person.episodes[k]
            unit = booked = role = -1
            if P.working[day]:
                role = self.triage(person, k, ep, day)
                unit, booked = self.book(day, person, role, ep.need, ep.urgency)
                if unit < 0 and role != GP:
                    role = GP
                    unit, booked = self.book(day, person, role, ep.need, ep.urgency)
            if unit >= 0:
                ep.booking = {"unit": unit, "role": role, "day": booked, "lead": booked - day,
                              "slots": self.slots_for(ep.need, role)}
                ep.next_day, ep.waiting_since = booked, -1
                if booked == day:
                    contacts.append((slot, k))
                continue
            self.count(person, st.C_UNSERVED, day)
            if ep.waiting_since < 0:
                ep.waiting_since = day
            age = self.age(person, day)
            p = P.ae_unserved[ep.urgency] * (1.0 + P.ae_wait_slope * (day - ep.waiting_since)) * \
                P.ae_mult[age, person.dep]
            if self.u(R.AE_CHOICE, person.pid, day, k) < p:
                ae.append((slot, k))
            else:
                ep.next_day = int(P.next_working[day]) if day + 1 < self.n_days else day + 1

        for slot, k in contacts:
            self.contact(self.people[slot], k, day)
        for slot, k in ae:
            self.attend_ae(self.people[slot], k, day)

        for unit in range(self.n_units):
            for role in range(N_ROLES):
                total, _ = self.capacity(unit, role, day)
                free_today = self.routine_free.pop((unit, role, day))
                if total > 0:
                    self.cap_offered[day // 7, unit, role] += total
                    self.cap_used[day // 7, unit, role] += total - self.same_day_free[(unit, role)] - free_today

    def close_year(self, day):
        for person in self.people:
            for ep in person.episodes.values():
                self.flush(person, ep, day)


def simulate(params, layout, n_days: int) -> ReferenceResult:
    """Run the reference over days [0, n_days) (n_days a whole number of years)."""
    ref = Reference(params, layout, int(params.working.shape[0]))
    for day in range(n_days):
        ref.day(day)
    if n_days % YEAR == 0:
        ref.close_year(n_days)
    return ReferenceResult(
        ledger=ref.ledger,
        counters={p.pid: p.counters for p in ref.people},
        exits=ref.exits,
        weekly=ref.weekly,
        cap_offered=ref.cap_offered,
        cap_used=ref.cap_used,
    )
