"""Scenario -> flat parameter tables for the engine (`engine.state.Params`).

Everything that can be computed once per run is computed here, in numpy: per-day capacity rates,
routing tables masked by which roles each practice can reach, onset rates by segment x sex x age x
deprivation x need, access propensity, A&E and admission tables, death probabilities and the draws of
new persons. The engine then only looks numbers up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import continuity, dates
from .engine import rng
from .engine.state import Params
from .partition import PersonIds, person_ids
from .scenario import Scenario
from .vocab import (
    COMPLEX_SEGMENTS,
    DAYS_PER_MONTH,
    DAYS_PER_YEAR,
    MATCH_COLUMNS,
    MDT,
    N_COMPLEXITY,
    N_DEPRIVATION,
    N_NEEDS,
    N_ROLES,
    N_SEGMENTS,
    NEEDS,
    ROLES,
    SEGMENTS,
)

MONTHS_PER_YEAR = DAYS_PER_YEAR // DAYS_PER_MONTH


@dataclass(frozen=True)
class Layout:
    """Names and sizes of the run's structure: practices, PCNs and capacity units."""

    practice_names: list[str]
    pcn_names: list[str]
    practice_codes: list[str | None]  # ODS codes, None where the scenario gives none
    pcn_codes: list[str | None]
    practice_pcn: np.ndarray
    list_sizes: np.ndarray
    fte: np.ndarray  # [units, roles]: practices, then one network pool per PCN, then the shared pool if any
    pcn_funded: np.ndarray  # [units, roles]: the part of `fte` funded by the PCN and placed at a practice
    pcn_shared: np.ndarray  # [pcns]: unit of the network-of-networks pool each PCN shares, or -1

    @property
    def n_practices(self) -> int:
        return len(self.practice_names)

    @property
    def shared_pool(self) -> int:
        """Unit index of the network-of-networks pool (-1 when there is none)."""
        return int(self.pcn_shared.max()) if len(self.pcn_shared) else -1

    @property
    def n_units(self) -> int:
        return len(self.practice_names) + len(self.pcn_names) + (1 if self.shared_pool >= 0 else 0)

    @property
    def unit_names(self) -> list[str]:
        names = self.practice_names + [f"{name} (network pool)" for name in self.pcn_names]
        return names + (["network of networks (shared pool)"] if self.shared_pool >= 0 else [])


def age_banded(bands: dict[int, float], max_age: int) -> np.ndarray:
    """Expand {lower age: value} into one value per year of age 0..max_age."""
    out = np.empty(max_age + 1)
    keys = sorted(bands)
    for i, lo in enumerate(keys):
        hi = keys[i + 1] if i + 1 < len(keys) else max_age + 1
        out[lo:hi] = bands[lo]
    return out


def layout(sc: Scenario) -> Layout:
    """Practices, PCNs and FTE by role at each unit (practice or network pool)."""
    practices = [(c, p) for c, pcn in enumerate(sc.pcns) for p in pcn.practices]
    n_p, n_c = len(practices), len(sc.pcns)
    non = sc.levers.network_of_networks
    pcn_shared = np.full(n_c, -1, np.int32)
    if non.enabled:
        members = non.pcns if non.pcns is not None else [pcn.name for pcn in sc.pcns]
        pcn_shared[[c for c, pcn in enumerate(sc.pcns) if pcn.name in members]] = n_p + n_c
    fte = np.zeros((n_p + n_c + (1 if non.enabled else 0), N_ROLES))
    pcn_funded = np.zeros_like(fte)
    wf = sc.workforce
    for i, (_, p) in enumerate(practices):
        for r, role in enumerate(ROLES):
            if role in p.fte:
                fte[i, r] = p.fte[role]
            else:
                fte[i, r] = wf.practice_fte_per_1000.get(role, 0.0) * p.list_size / 1000.0
    for c, pcn in enumerate(sc.pcns):
        arrs = sc.pcn_funded_fte(pcn)
        total = pcn.list_size
        members = [i for i, (cc, _) in enumerate(practices) if cc == c]
        for role, value in arrs.items():
            r = ROLES.index(role)
            if wf.pcn_role_level.get(role, "practice") == "network":
                fte[n_p + c, r] += value
            else:
                for i in members:
                    share = value * practices[i][1].list_size / total
                    fte[i, r] += share
                    pcn_funded[i, r] += share
    return Layout(
        practice_names=[p.name for _, p in practices],
        pcn_names=[pcn.name for pcn in sc.pcns],
        practice_codes=[p.ods_code for _, p in practices],
        pcn_codes=[pcn.code for pcn in sc.pcns],
        practice_pcn=np.array([c for c, _ in practices], np.int32),
        list_sizes=np.array([p.list_size for _, p in practices], np.int64),
        fte=fte,
        pcn_funded=pcn_funded,
        pcn_shared=pcn_shared,
    )


def contacts_per_fte_day(sc: Scenario) -> np.ndarray:
    """Contacts a whole-time member of each role offers on a working day."""
    return np.array([sc.workforce.roles[r].contacts_per_fte_day for r in ROLES])


def slots_per_day(fte: np.ndarray, contacts: np.ndarray, handoff: float) -> np.ndarray:
    """Slots per working day a unit offers by role: its FTE x contacts per FTE-day, less the share lost to
    hand-offs (network pools; 0 at a practice)."""
    return fte * contacts * (1.0 - handoff)


def capacity_rate(sc: Scenario, fte: np.ndarray, n_practices: int) -> np.ndarray:
    """Slots per working day by unit (rows of `fte`: practices, then pools) and role."""
    contacts, handoff = contacts_per_fte_day(sc), sc.workforce.network_handoff_cost
    return np.array([slots_per_day(row, contacts, handoff if u >= n_practices else 0.0) for u, row in enumerate(fte)])


def same_day_reserve(sc: Scenario, n_units: int) -> np.ndarray:
    """Share of each day's slots held back for same-day and urgent requests, by unit (practices, then pools)
    and role: a practice's own `same_day_reserve`, or for a pool `booking.pool_same_day_reserve`, where it
    names the role; else `booking.same_day_reserve`; else `booking.same_day_share`."""
    b = sc.booking
    practices = [p for pcn in sc.pcns for p in pcn.practices]
    out = np.empty((n_units, N_ROLES))
    for u in range(n_units):
        own = practices[u].same_day_reserve if u < len(practices) else b.pool_same_day_reserve
        for r, role in enumerate(ROLES):
            out[u, r] = own.get(role, b.same_day_reserve.get(role, b.same_day_share))
    return out


def calendar(sc: Scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Working days (Monday to Friday, not a bank holiday or other closed date: `pcnsim.dates`), working-day
    index, and the next working day."""
    days = dates.day_dates(sc.simulation)
    n_days = len(days)
    closed = np.isin(days, np.array(sorted(dates.closed_dates(sc.simulation)), "datetime64[D]"))
    working = (np.is_busday(days) & ~closed).astype(np.uint8)
    wd_index = (np.cumsum(working) - working).astype(np.int32)
    next_working = np.full(n_days, n_days, np.int32)
    nxt = n_days
    for d in range(n_days - 1, -1, -1):
        next_working[d] = nxt
        if working[d]:
            nxt = d
    return working, wd_index, next_working


def navigation_order(match: np.ndarray) -> np.ndarray:
    """Per need, the roles a care navigator tries, from the best fit (the match matrix's chance one contact
    resolves the need) down, ties in role order, then -1: only roles that can resolve it, and never the
    complex-care team, which takes only its caseload."""
    order = np.full((N_NEEDS, N_ROLES), -1, np.int8)
    for need in range(N_NEEDS):
        fitting = [r for r in range(N_ROLES) if match[need, r] > 0 and r != MDT]
        fitting.sort(key=lambda r: -match[need, r])
        order[need, : len(fitting)] = fitting
    return order


def routing_weights(sc: Scenario) -> np.ndarray:
    """Triage weights [need, role] of the scenario (before masking by what a practice can reach)."""
    return np.array([[sc.needs[need].routing.get(role, 0.0) for role in ROLES] for need in NEEDS])


def routing(weights: np.ndarray, cap_rate: np.ndarray, practice_pcn: np.ndarray,
            pcn_shared: np.ndarray) -> np.ndarray:
    """Cumulative routing [practice, need, role] over the roles each practice can reach (own practice,
    its network pool or a shared network-of-networks pool)."""
    n_p = len(practice_pcn)
    route = np.zeros((n_p, N_NEEDS, N_ROLES))
    for p in range(n_p):
        reachable = (cap_rate[p] > 0) | (cap_rate[n_p + practice_pcn[p]] > 0)
        shared = pcn_shared[practice_pcn[p]]
        if shared >= 0:
            reachable |= cap_rate[shared] > 0
        for t in range(N_NEEDS):
            w = weights[t] * reachable
            if w.sum() <= 0:  # nobody this practice can reach takes it: the GP sees it
                w = np.zeros(N_ROLES)
                w[ROLES.index("gp")] = 1.0
            route[p, t] = np.cumsum(w / w.sum())
            route[p, t, np.flatnonzero(w)[-1]:] = 1.0  # no draw can fall past the last role that takes it
    return route


def _onset(sc: Scenario, max_age: int) -> tuple[np.ndarray, np.ndarray]:
    on = sc.onset
    annual = np.zeros((N_SEGMENTS, 2, max_age + 1, N_DEPRIVATION, N_NEEDS))
    for s, seg in enumerate(SEGMENTS):
        for t, need in enumerate(NEEDS):
            rate = on.base.get(need, 0.0) + on.segment_extra.get(seg, {}).get(need, 0.0)
            age = age_banded(on.age_multiplier.get(need, {0: 1.0}), max_age)
            for sex in (0, 1):
                sexm = on.female_multiplier.get(need, 1.0) if sex == 1 else 1.0
                annual[s, sex, :, :, t] = rate * sexm * age[:, None] * np.array(on.deprivation_multiplier)[None, :]
    daily = annual / DAYS_PER_YEAR
    # summed in need order, as the kernel accumulates them when it draws the need type
    return daily, np.cumsum(daily, axis=-1)[..., -1].copy()


def _segments(sc: Scenario, max_age: int) -> np.ndarray:
    pop = sc.population
    probs = np.zeros((max_age + 1, N_DEPRIVATION, N_SEGMENTS))
    for s, seg in enumerate(SEGMENTS[1:], start=1):
        prev = age_banded(pop.segment_prevalence.get(seg, {0: 0.0}), max_age)
        mult = np.array(pop.segment_deprivation_multiplier.get(seg, [1.0] * 5))
        probs[:, :, s] = prev[:, None] * mult[None, :]
    other = probs[:, :, 1:].sum(axis=-1)
    scale = np.where(other > 1.0, 1.0 / np.maximum(other, 1e-12), 1.0)
    probs[:, :, 1:] *= scale[:, :, None]
    probs[:, :, 0] = 1.0 - probs[:, :, 1:].sum(axis=-1)
    cdf = np.cumsum(probs, axis=-1)
    cdf[..., -1] = 1.0
    return cdf


def _entrants(sc: Scenario, max_age: int) -> tuple[np.ndarray, np.ndarray]:
    """Per practice: cumulative distribution over (sex, age) and over deprivation quintile."""
    practices = [p for pcn in sc.pcns for p in pcn.practices]
    age_cdf = np.zeros((len(practices), 2 * (max_age + 1)))
    dep_cdf = np.zeros((len(practices), N_DEPRIVATION))
    for i, p in enumerate(practices):
        table = p.age_sex_table if p.age_sex_table is not None else sc.population.age_sex_pyramid
        keys = sorted(table)
        weights = np.zeros((2, max_age + 1))
        for j, lo in enumerate(keys):
            hi = min(keys[j + 1] if j + 1 < len(keys) else max_age + 1, max_age + 1)
            if lo > max_age:
                continue
            for sex in (0, 1):
                weights[sex, lo:hi] = table[lo][sex] / (hi - lo)
        cdf = np.cumsum(weights.ravel())
        age_cdf[i] = cdf / cdf[-1]
        age_cdf[i, -1] = 1.0
        dep_cdf[i] = np.cumsum(p.deprivation_mix)
        dep_cdf[i, -1] = 1.0
    return age_cdf, dep_cdf


def _deaths(sc: Scenario, max_age: int) -> np.ndarray:
    dm = sc.demography
    age = np.arange(max_age + 1)
    annual = np.minimum(np.exp(dm.gompertz_a + dm.gompertz_b * age), 1.0)
    annual[0] = max(annual[0], dm.infant_mortality)
    out = np.zeros((max_age + 1, 2, N_COMPLEXITY))
    for frail in (0, 1):
        fm = dm.frail_mortality_multiplier if frail else 1.0
        for c in range(N_COMPLEXITY):
            q = np.minimum(annual * fm * dm.complexity_mortality_multiplier[c], 1.0)
            out[:, frail, c] = 1.0 - (1.0 - q) ** (1.0 / MONTHS_PER_YEAR)
    out[max_age] = 1.0  # nobody outlives the oldest age of the tables
    return out


def _weekly_hazard_to_daily_rate(weekly: np.ndarray) -> np.ndarray:
    """Daily Poisson rate whose probability of at least one event in 7 days is the weekly hazard."""
    return -np.log1p(-np.minimum(weekly, 1.0 - 1e-9)) / 7.0


def build(sc: Scenario, seed: int, ids: PersonIds | None = None) -> tuple[Params, Layout]:
    """Flatten a scenario into engine tables for one run seed; `ids` numbers its persons (default: as a
    whole place, `pcnsim.partition.Partition.ids`)."""
    lay = layout(sc)
    ids = ids if ids is not None else person_ids(sc)
    max_age = sc.population.max_age
    working, wd_index, next_working = calendar(sc)
    cap_rate = capacity_rate(sc, lay.fte, lay.n_practices)
    match = np.full((N_NEEDS, len(MATCH_COLUMNS)), -1.0)
    for t, need in enumerate(NEEDS):
        for col, service in enumerate(MATCH_COLUMNS):
            if service in sc.match[need]:
                match[t, col] = sc.match[need][service]
    fit = (match >= sc.complexity.fit_threshold).astype(np.uint8)
    needs = [sc.needs[n] for n in NEEDS]
    onset_rate, onset_total = _onset(sc, max_age)
    acc = sc.access
    access = np.zeros((2, max_age + 1, N_DEPRIVATION))
    for sex in (0, 1):
        band = age_banded({k: v[sex] for k, v in acc.propensity.items()}, max_age)
        access[sex] = band[:, None] * np.array(acc.deprivation_multiplier)[None, :]
    ae = sc.ae
    ae_dep = np.array(ae.deprivation_multiplier)
    ae_bg = age_banded(ae.background_per_1000, max_age)[:, None] / 1000.0 / DAYS_PER_YEAR * ae_dep[None, :]
    ae_mult = age_banded(ae.age_multiplier, max_age)[:, None] * ae_dep[None, :]
    admit = np.minimum(
        age_banded(ae.admission_by_age, max_age)[:, None] + np.array(ae.admission_complexity_add)[None, :], 1.0
    )
    age_cdf, dep_cdf = _entrants(sc, max_age)
    cx_cdf = np.array([np.cumsum(sc.population.initial_complexity.get(s, [1, 0, 0, 0])) for s in SEGMENTS])
    cx_cdf[:, -1] = 1.0
    referral_role = np.array([ROLES.index(n.refer_to) if n.refer_to else -1 for n in needs], np.int32)
    cc = sc.levers.complex_care
    params = Params(
        working=working, wd_index=wd_index, next_working=next_working,
        practice_pcn=lay.practice_pcn, pcn_shared=lay.pcn_shared, cap_rate=cap_rate,
        same_day_reserve=same_day_reserve(sc, lay.n_units),
        horizon=int(sc.booking.horizon_days), home_visit_slots=int(sc.booking.home_visit_slots),
        route_cum=routing(routing_weights(sc), cap_rate, lay.practice_pcn, lay.pcn_shared),
        match=match, fit=fit,
        need_same_day=np.array([n.same_day_share for n in needs]),
        need_urgent=np.array([n.urgent_share for n in needs]),
        selfres_rate=_weekly_hazard_to_daily_rate(np.array([n.self_resolution_weekly for n in needs])),
        revisit_mean=np.array([n.revisit_interval_days for n in needs]),
        seek_mult=np.array([n.seek_multiplier for n in needs]),
        outpatient_ref=np.array([n.outpatient_referral for n in needs]),
        referral_role=referral_role, referral_prob=np.array([n.referral_probability for n in needs]),
        onset_rate=onset_rate, onset_total=onset_total,
        cx_onset_mult=np.array(sc.onset.complexity_multiplier, float), access=access,
        follow_up_mult=float(acc.follow_up_multiplier),
        ae_bg_daily=ae_bg, ae_unserved=np.array(ae.unserved_daily, float), ae_wait_slope=float(ae.wait_slope),
        ae_mult=ae_mult, ae_direct=np.array(ae.direct, float), admit=admit,
        admission_resolves=float(ae.admission_resolves),
        dna_same=float(sc.booking.dna_same_day), dna_week=float(sc.booking.dna_after_week),
        esc=np.array(sc.complexity.escalate_monthly, float), desc=np.array(sc.complexity.deescalate_monthly, float),
        unmet_effect=float(sc.complexity.unmet_effect), fit_effect=float(sc.complexity.fit_effect),
        seg_complex=np.array([s in COMPLEX_SEGMENTS for s in SEGMENTS], np.uint8),
        complex_seg_mult=float(sc.complexity.complex_segment_escalation),
        old_age_mult=float(sc.complexity.old_age_escalation),
        mdt_caseload=np.zeros(len(sc.pcns), np.int64),  # the lever sets it as it ramps up
        mdt_min_contacts=int(cc.min_contacts), mdt_window=int(cc.window_days), mdt_min_cx=int(cc.min_complexity),
        mdt_days=int(cc.enrolment_days), mdt_needs=np.array([n in cc.needs for n in NEEDS], np.uint8),
        mdt_ae_mult=float(cc.ae_multiplier), mdt_desc_mult=float(cc.deescalation_multiplier),
        nav_per_day=np.zeros(len(sc.pcns)), nav_order=navigation_order(match),  # the lever sets the capacity
        **continuity.engine_tables(sc, cap_rate, lay.n_practices),
        death_monthly=_deaths(sc, max_age),
        leave_monthly=1.0 - (1.0 - sc.demography.turnover_per_year) ** (1.0 / MONTHS_PER_YEAR),
        newborn_share=float(sc.demography.newborn_share), entrant_cdf=age_cdf, dep_cdf=dep_cdf,
        seg_cdf=_segments(sc, max_age), cx_cdf=cx_cdf, max_age=int(max_age),
        first_pid=ids.first_pid.astype(np.int64), practice_group=ids.practice_group.astype(np.int32),
        entrant_pid=ids.entrant_pid.astype(np.int64), pid_stride=int(ids.stride),
        keys=rng.stream_keys(seed),
    )
    return params, lay



def exit_capacity(params: Params, list_sizes: np.ndarray) -> int:
    """Room for one year's deaths and leavers (the engine's leavers' records, emptied every year end).

    Each patient slot can empty at most once a demography month, so a year has at most 13 exits a slot.
    Short of that, the expected number is bounded from the scenario: a slot's occupant was drawn from its
    practice's age profile (or born), has been there t years with probability at most s^t (s = the share
    not leaving in a year) and at most the run's length, and dies with at most the death probability of
    the frailest, most complex person of their age, or leaves. The room is that mean plus 8 standard
    deviations and 1,000, and never less than the half of the list it always was."""
    n = int(np.sum(list_sizes))
    max_age = int(params.max_age)
    years = max(int(params.working.shape[0]) // DAYS_PER_YEAR, 1)
    stay = (1.0 - float(params.leave_monthly)) ** MONTHS_PER_YEAR
    held = stay ** np.arange(years)  # P(there at least t years), t = 0 .. years - 1
    share = np.append(held[:-1] - held[1:], held[-1])  # P(there t to t + 1 years); the last: t or more
    worst = params.death_monthly.reshape(max_age + 1, -1).max(axis=1)
    ages = np.arange(max_age + 1)
    monthly = sum(w * np.minimum(worst[np.minimum(ages + t + 1, max_age)] + params.leave_monthly, 1.0)
                  for t, w in enumerate(share))  # by age at entry
    age_pmf = np.diff(params.entrant_cdf, axis=1, prepend=0.0).reshape(len(list_sizes), 2, max_age + 1).sum(axis=1)
    per_slot = age_pmf @ monthly  # by practice: an occupant drawn from its profile
    nb = float(params.newborn_share)
    per_slot = np.maximum(per_slot, (1.0 - nb) * per_slot + nb * monthly[0])  # or a newborn
    mean = MONTHS_PER_YEAR * float(np.dot(np.asarray(list_sizes, float), per_slot))
    bound = mean + 8.0 * np.sqrt(mean) + 1000.0
    return int(min(MONTHS_PER_YEAR * n + 1, max(bound, n * 0.5 + 1000)))
