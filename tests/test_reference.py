"""Reference tests (docs/architecture.md): the numba engine against the plain-Python reference
(tests/reference.py), which must reproduce it event for event.

Small PCNs (three practices, ~370 patients, the embedded baseline otherwise) for one simulated year, in
six regimes: default staffing, roles pooled at network level (with same-day reserves of the pool's and of
one practice's own), capacity so scarce that requests go unserved, spill over to A&E and book up to the
edge of the routine horizon, a GP-rich practice with many urgent home-visit needs (GP home visits take
several slots at once), care navigation beside a complex-care team, and two PCNs with the network levers
that reach into the engine (network of networks, complex-care team, shared expertise); two seeds each.
Compared: the touchpoint ledger row for row, yearly counters per patient, leavers' records, weekly
tallies per practice, capacity offered and used, and the final state of every patient (their memory of
GP contacts with their usual GP included), episode and diary.
"""

from __future__ import annotations

import itertools
import sys

import numpy as np
import pytest

from pcnsim import engine, levers, params, population, scenario
from pcnsim.engine import state as st
from pcnsim.vocab import NEEDS, OUTCOMES, ROLES, SETTINGS, URGENCIES

from . import reference

pytestmark = pytest.mark.reference

DAYS = st.DAYS_PER_YEAR
SEEDS = (2024, 7)

PRACTICES = [
    {"name": "A", "list_size": 160, "deprivation_mix": [0.6, 0.2, 0.1, 0.1, 0.0]},
    {"name": "B", "list_size": 120, "deprivation_mix": [0.0, 0.1, 0.2, 0.3, 0.4]},
    {"name": "C", "list_size": 90},
]
# ARRS / PCN-funded FTE for a PCN of ~370 patients: the default per-PCN FTE (sized for ~42,000 patients)
# scaled to about twice this list's share, so these roles are busy but not swamped.
SMALL_PCN_FTE = {"pharmacist": 0.12, "splw": 0.06, "paramedic": 0.03, "fcp": 0.06, "mhp": 0.07, "pa": 0.03,
                 "care_coordinator": 0.03, "community_nurse": 0.08}
POOLED = {"pharmacist": "network", "splw": "network", "fcp": "network", "mhp": "network",
          "community_nurse": "network"}
SCARCE_PCN_FTE = {"pharmacist": 0.02, "splw": 0.01, "paramedic": 0.0, "fcp": 0.01, "mhp": 0.01, "pa": 0.0,
                  "care_coordinator": 0.0, "community_nurse": 0.02}
OVERRIDES = {
    "default staffing": {},
    # ARRS roles pooled at network level, plus some roles held both by a practice and by the pool (so
    # "own practice first, then the pool" matters), including a pooled GP session as overflow; same-day
    # reserves of the pool's and of one practice's own.
    "network pools": {
        "practice_fte": {"A": {"pharmacist": 0.05}, "B": {"fcp": 0.03}},
        "practice_same_day_reserve": {"A": {"gp": 0.6, "pharmacist": 0.0}},
        "workforce": {"pcn_fte": {"gp": 0.05}, "pcn_role_level": {**POOLED, "gp": "network"}},
        "booking": {"same_day_reserve": {"nurse": 0.3}, "pool_same_day_reserve": {"gp": 0.2, "pharmacist": 0.6}},
    },
    "scarce capacity": {
        "workforce": {"practice_fte_per_1000": {"gp": 0.12, "nurse": 0.08, "pa": 0.0},
                      "pcn_fte": SCARCE_PCN_FTE, "pcn_role_level": {"pharmacist": "network"}},
        "booking": {"horizon_days": 10, "same_day_share": 0.3},
    },
    # A GP-rich practice A and many urgent home-visit needs (some same-day or routine): GP home visits
    # take several slots at once, from today's reserved slots or from a routine day within the horizon.
    "home visits": {
        "practice_fte": {"A": {"gp": 0.6}},
        "onset": {"base": {"urgent_home_visit": 0.05}, "segment_extra": {"frail": {"urgent_home_visit": 3.0}}},
        "needs": {"urgent_home_visit": {"urgent_share": 0.5, "same_day_share": 0.3}},
    },
    # Care navigation by the PCN's care coordinators and one more (a few navigations a day), beside a
    # complex-care team: navigated requests go to the best-fitting role with a slot, never to the team.
    "care navigation": {
        "levers": {
            "delivery": {"project_manager_fte": 1.0, "fte_for_full_delivery": 1.0, "ramp_days": 0},
            "care_navigation": {"enabled": True, "extra_care_coordinator_fte": 0.1},
            "complex_care": {"enabled": True, "fte": 0.2, "caseload": 8, "min_contacts": 4, "min_complexity": 1},
        },
    },
    # Two PCNs sharing pooled roles through a network of networks (trust 0.5), a complex-care team with
    # a small caseload filled by case finding, and practice A's nurse giving leg-ulcer sessions to its PCN;
    # levers at full strength from day 0.
    "network levers": {
        "pcns": [["North", ["A", "B"]], ["South", ["C"]]],
        "practice_fte": {"A": {"nurse": 0.4}},
        "workforce": {"pcn_role_level": POOLED},
        "onset": {"base": {"wound": 0.2}},
        "levers": {
            "delivery": {"project_manager_fte": 1.0, "fte_for_full_delivery": 1.0, "ramp_days": 0},
            "complex_care": {"enabled": True, "fte": 0.2, "caseload": 8, "min_contacts": 4, "min_complexity": 1},
            "shared_expertise": {"enabled": True, "home_practice": "A", "sessions_per_week": 2.0},
            "network_of_networks": {"enabled": True, "trust": 0.5,
                                    "roles": ["pharmacist", "fcp", "mhp", "mdt", "shared_expertise"]},
        },
    },
}


def build(name: str, seed: int):
    """Engine tables of a regime; enabled levers act at full strength from day 0."""
    overrides = dict(OVERRIDES[name])
    fte = overrides.pop("practice_fte", {})
    reserve = overrides.pop("practice_same_day_reserve", {})
    groups = overrides.pop("pcns", [["Tiny PCN", [p["name"] for p in PRACTICES]]])
    practices = {p["name"]: {**p, "fte": fte.get(p["name"], {}), "same_day_reserve": reserve.get(p["name"], {})}
                 for p in PRACTICES}
    pcns = [{"name": name, "practices": [practices[m] for m in members]} for name, members in groups]
    data = {"name": "reference test", "pcns": pcns, "workforce": {"pcn_fte": SMALL_PCN_FTE}}
    sc = scenario.load(overrides=scenario.deep_merge(data, overrides))
    p, lay = params.build(sc, seed)
    full = {name: levers.Intensity(1.0, 1.0) if getattr(sc.levers, name).enabled else levers.OFF
            for name in levers.NAMES}
    if any(x.staff for x in full.values()):
        units = [levers.Staff(row) for row in lay.fte]  # the practices' and pools' staff, as a model's agents
        levers.deploy(sc, lay, units, full)
        cap_rate = params.capacity_rate(sc, np.array([u.fte for u in units]), lay.n_practices)
        p = levers.apply(sc, p, lay, full, cap_rate)
    return p, lay


def run_engine(p, lay, days: int = DAYS, chunks: tuple[int, ...] = ()):
    """The engine over [0, days) (in pieces split at `chunks`), with the ledger, then the year closed."""
    s = population.synthesise(p, lay)
    t = engine.allocate_tally(p.working.shape[0] // 7 + 1, lay.n_practices, lay.n_units,
                              exit_capacity=10_000, ledger_capacity=500_000)
    w = engine.allocate_workspace(len(s.pid), len(lay.pcn_names))
    bounds = [0, *chunks, days]
    for d0, d1 in itertools.pairwise(bounds):
        engine.advance(s, p, t, w, d0, d1, year_end=d1 == days)
    return s, t


# ---- reporting a difference -----------------------------------------------------------------------
LEDGER_COLUMNS = ("day", "pid", "setting", "unit", "need", "outcome", "urgency", "slot")


def describe(row) -> str:
    if row is None:
        return "(none)"
    day, pid, setting, unit, need, outcome, urgency, slot = row
    return (f"day {day:3d} pid {pid:4d} {SETTINGS[setting]:<16} unit {unit:2d} "
            f"{NEEDS[need] if need >= 0 else '-':<17} {OUTCOMES[outcome]:<10} {URGENCIES[urgency]:<8} slot {slot}"
            f"   {tuple(row)}")


def first_difference(a: list, b: list) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


def ledger_report(name: str, eng: list, ref: list) -> str:
    i = first_difference(eng, ref)
    lines = [f"{name}: ledgers differ first at row {i} (engine {len(eng)} rows, reference {len(ref)} rows)",
             "columns: " + " ".join(LEDGER_COLUMNS), "context (engine | reference):"]
    for j in range(max(0, i - 5), i + 6):
        a = eng[j] if j < len(eng) else None
        b = ref[j] if j < len(ref) else None
        mark = ">>" if j == i else "  "
        lines.append(f"{mark} {j:6d} E {describe(a)}")
        lines.append(f"{mark} {'':6s} R {describe(b)}")
    row = eng[i] if i < len(eng) else ref[i]
    pid, day = row[1], row[0]
    lines.append(f"history of pid {pid} up to day {day} (engine | reference):")
    lines += ["  E " + describe(r) for r in eng[:i + 1] if r[1] == pid][-12:]
    lines += ["  R " + describe(r) for r in ref[:i + 1] if r[1] == pid][-12:]
    return "\n".join(lines)


def counter_report(eng: dict, ref: dict) -> str:
    names = [*SETTINGS, *st.COUNTER_NAMES]
    if eng.keys() != ref.keys():
        return f"different people listed: only engine {sorted(eng.keys() - ref.keys())[:10]}, " \
               f"only reference {sorted(ref.keys() - eng.keys())[:10]}"
    for pid in sorted(eng):
        if eng[pid] != ref[pid]:
            diffs = {names[c]: (eng[pid][c], ref[pid][c]) for c in range(len(names)) if eng[pid][c] != ref[pid][c]}
            return f"first patient whose counters differ: pid {pid}, (engine, reference) {diffs}"
    return ""


def array_report(what: str, eng: np.ndarray, ref: np.ndarray, names: list[str]) -> str:
    idx = np.argwhere(eng != ref)
    if not len(idx):
        return ""
    w, u, c = idx[0]
    return (f"{what}: {len(idx)} cells differ; first week {w}, index {u}, column {names[c]}: "
            f"engine {eng[w, u, c]} reference {ref[w, u, c]}")


# ---- the comparison -------------------------------------------------------------------------------
def compare(name: str, p, lay, s, t, ref) -> None:
    n = int(t.n_ledger[0])
    assert n <= t.ledger.shape[0], "engine ledger overflowed its buffer: raise ledger_capacity"
    eng_ledger = [tuple(int(v) for v in row) for row in t.ledger[:n]]
    if eng_ledger != ref.ledger:
        pytest.fail(ledger_report(name, eng_ledger, ref.ledger), pytrace=False)

    eng_counters = {int(pid): [int(v) for v in row] for pid, row in zip(s.pid, s.counters, strict=True)}
    if eng_counters != ref.counters:
        pytest.fail(f"{name}: " + counter_report(eng_counters, ref.counters), pytrace=False)

    n_exits = int(t.n_exits[0])
    assert n_exits <= t.exit_meta.shape[0]
    eng_meta = [tuple(int(v) for v in row) for row in t.exit_meta[:n_exits]]
    eng_exit_counters = [tuple(int(v) for v in row) for row in t.exit_counters[:n_exits]]
    assert eng_meta == ref.exit_meta, f"{name}: leavers differ at {first_difference(eng_meta, ref.exit_meta)}"
    assert eng_exit_counters == ref.exit_counters, f"{name}: leavers' counters differ"

    weekly_names = [*SETTINGS, *st.COUNTER_NAMES, *st.WEEKLY_EVENT_NAMES]
    for what, eng, mine, names in (("weekly", t.weekly, ref.weekly, weekly_names),
                                   ("capacity offered", t.cap_offered, ref.cap_offered, list(ROLES)),
                                   ("capacity used", t.cap_used, ref.cap_used, list(ROLES))):
        mine = np.asarray(mine, dtype=np.int64)
        assert eng.shape == mine.shape, f"{what}: shapes {eng.shape} vs {mine.shape}"
        report = array_report(what, eng, mine, names)
        assert not report, f"{name}: {report}"

    compare_final_state(name, p, s, ref)


def compare_final_state(name: str, p, s, ref) -> None:
    """Every patient, open episode and diary at the end of the run.

    The engine keeps a clock (onset, background A&E, hence next event) only if it rings before the monthly
    pass redraws it, NEVER otherwise (`kernels.ring_day`); the reference keeps every draw. Clocks are
    compared as both would act on them: those at or after the next redraw count as NEVER."""
    redraw = -(-DAYS // st.DAYS_PER_MONTH) * st.DAYS_PER_MONTH
    assert len(ref.patients) == len(s.pid)
    for i, person in enumerate(ref.patients):
        eng = dict(pid=s.pid[i], practice=s.practice[i], birth_day=s.birth_day[i], sex=s.sex[i], dep=s.dep[i],
                   seg=s.seg[i], cx=s.cx[i], reg_day=s.reg_day[i], next_onset=s.next_onset[i],
                   next_bg_ae=s.next_bg_ae[i], next_event=s.next_event[i], unmet_month=s.unmet_month[i],
                   fit_month=s.fit_month[i], enrolled_until=s.enrolled_until[i], gp_seen=s.gp_seen[i],
                   gp_history=s.gp_history[i])
        mine = dict(pid=person.pid, practice=person.practice, birth_day=person.birth_day, sex=person.sex,
                    dep=person.dep, seg=person.seg, cx=person.cx, reg_day=person.reg_day,
                    next_onset=person.next_onset, next_bg_ae=person.next_bg_ae, next_event=person.next_event(),
                    unmet_month=person.unmet_month, fit_month=person.fit_month,
                    enrolled_until=person.enrolled_until, gp_seen=len(person.gp_history),
                    gp_history=sum(int(usual) << j for j, usual in enumerate(reversed(person.gp_history))))
        eng = {k: int(v) for k, v in eng.items()}
        for clock in ("next_onset", "next_bg_ae", "next_event"):
            mine[clock] = mine[clock] if mine[clock] < redraw else st.NEVER
            eng[clock] = eng[clock] if eng[clock] < redraw else st.NEVER
        assert eng == mine, f"{name}: slot {i} differs at the end: engine {eng} reference {mine}"
        memory = s.last_contacts.shape[1]
        recent = sorted(person.contact_days, reverse=True)[:memory]
        recent += [-st.NEVER] * (memory - len(recent))
        assert [int(v) for v in s.last_contacts[i]] == recent, f"{name}: slot {i} contact days differ"
        for k, ep in enumerate(person.episodes):
            if ep is None:
                assert s.ep_type[i, k] < 0, f"{name}: slot {i} episode {k} open only in the engine"
                continue
            booked = ep.booking is not None
            eng_ep = dict(need=s.ep_type[i, k], urgency=s.ep_urg[i, k], opened=s.ep_open[i, k],
                          next_day=s.ep_next[i, k], selfres_day=s.ep_selfres[i, k], contacts=s.ep_n[i, k],
                          accounted_to=s.ep_acc[i, k], waiting_since=s.ep_wait[i, k], referred_to=s.ep_pref[i, k],
                          booked_slots=s.ep_booked[i, k])
            my_ep = dict(need=ep.need, urgency=ep.urgency, opened=ep.opened, next_day=ep.next_day,
                         selfres_day=ep.selfres_day, contacts=ep.contacts, accounted_to=ep.accounted_to,
                         waiting_since=ep.waiting_since, referred_to=ep.referred_to,
                         booked_slots=ep.booking.slots if booked else 0)
            if booked:
                eng_ep.update(unit=s.ep_unit[i, k], role=s.ep_role[i, k], lead=s.ep_lead[i, k])
                my_ep.update(unit=ep.booking.unit, role=ep.booking.role, lead=ep.booking.lead)
            eng_ep = {key: int(v) for key, v in eng_ep.items()}
            assert eng_ep == my_ep, f"{name}: slot {i} episode {k}: engine {eng_ep} reference {my_ep}"
    ring = p.horizon + 1
    for unit in ref.units:
        for role in range(len(ROLES)):
            diary = unit.diaries[role]
            where = f"{name}: unit {unit.index} {ROLES[role]}"
            assert int(s.sameday_free[unit.index, role]) == diary.same_day, f"{where}: same-day slots differ"
            for day, free in diary.routine.items():
                assert int(s.routine_free[unit.index, role, day % ring]) == free, f"{where}: day {day} differs"
            assert int(s.routine_left[unit.index, role]) == sum(diary.routine.values()), \
                f"{where}: routine_left is not the sum of the open diary days"
    assert int(s.next_pid[0]) == len(s.pid) + len(ref.exit_meta)  # one new person per leaver


@pytest.fixture(scope="module")
def runs():
    """Engine and reference for every (regime, seed), computed once for the module."""
    out = {}
    for name in OVERRIDES:
        for seed in SEEDS:
            p, lay = build(name, seed)
            s, t = run_engine(p, lay)
            out[name, seed] = (p, lay, s, t, reference.simulate(p, lay, DAYS))
    return out


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", list(OVERRIDES))
def test_engine_matches_reference_event_for_event(runs, name, seed):
    p, lay, s, t, ref = runs[name, seed]
    compare(f"{name} (seed {seed})", p, lay, s, t, ref)
    assert len(ref.ledger) > 1000  # a year of ~370 patients is well over 1,000 touchpoints
    assert len(ref.exit_meta) > 0


def test_engine_in_pieces_matches_reference():
    """Advancing the engine in several calls (crossing month and week boundaries) changes nothing."""
    p, lay = build("network pools", SEEDS[0])
    s, t = run_engine(p, lay, chunks=(1, 27, 28, 29, 150, 300))
    compare("network pools in pieces", p, lay, s, t, reference.simulate(p, lay, DAYS))


def test_reference_without_ledger_counts_the_same(runs):
    p, lay, _, _, ref = runs["default staffing", SEEDS[0]]
    quiet = reference.simulate(p, lay, DAYS, ledger=False)
    assert quiet.ledger == []
    assert quiet.counters == ref.counters and quiet.weekly == ref.weekly and quiet.exit_meta == ref.exit_meta


@pytest.mark.parametrize("seed", SEEDS)
def test_regimes_exercise_what_they_claim(runs, seed):
    """Guard the comparison's coverage: each regime really reaches the rules it is meant to test."""
    # Default staffing: every kind of ledger outcome, births, deaths and leavers, both ways of resolving,
    # clustered contacts, same-day requests taking today's routine slots, routine bookings ahead.
    ref = runs["default staffing", seed][-1]
    assert {row[5] for row in ref.ledger} == set(range(len(OUTCOMES)))
    settings = {row[2] for row in ref.ledger}
    assert {SETTINGS.index(x) for x in ("gp", "nurse", "ae", "admission", "outpatient")} <= settings
    totals = np.asarray(ref.weekly).sum(axis=(0, 1))
    assert totals[st.M_DEATHS] > 0 and totals[st.M_LEAVERS] > 0
    assert totals[st.M_BIRTHS] + totals[st.M_REGISTRATIONS] == totals[st.M_DEATHS] + totals[st.M_LEAVERS]
    assert totals[st.M_SELF_RESOLVED] > 0 and totals[st.M_RESOLVED] > 0 and totals[st.C_CLUSTER] > 0
    assert ref.stats["same_day_took_routine_slot"] > 0 and ref.stats["booked_ahead"] > 0
    gp_contacts = sum(1 for row in ref.ledger if row[2] == ROLES.index("gp") and row[5] != OUTCOMES.index("dna"))
    assert 0.3 * gp_contacts < ref.stats["usual_gp_contacts"] < 0.9 * gp_contacts  # with the usual GP or not

    # Network pools: contacts with the pooled roles happen at the pool unit; the GP's same-day reserve is
    # practice A's own, the pool's own and the other practices' (same_day_share).
    p, lay, _, t, ref = runs["network pools", seed]
    assert sorted({*p.same_day_reserve[:, ROLES.index("gp")]}) == [0.2, 0.45, 0.6]
    pool_rows = [row for row in ref.ledger if row[3] >= lay.n_practices]
    assert len(pool_rows) > 50
    assert {ROLES[row[2]] for row in pool_rows} >= {"gp", "pharmacist", "fcp"}
    practice_rows = [row for row in ref.ledger if 0 <= row[3] < lay.n_practices]
    assert {ROLES[row[2]] for row in practice_rows} >= {"gp", "pharmacist", "fcp"}
    assert t.cap_used[:, lay.n_practices:].sum() > 0
    weekly = t.weekly.sum(axis=(0, 1))
    assert weekly[st.M_TO_NETWORK:st.M_UNPLACED].sum() > 0  # practices full for a role they hold

    # Scarce capacity: unserved requests on working days (same-day, and routine ones with nothing free
    # within the horizon) and on closed days, A&E spill-over, GP fall-back, bookings at the horizon's edge,
    # bookings released by episodes that closed before their appointment.
    stats = runs["scarce capacity", seed][-1].stats
    assert stats["unserved_working_day_same_day"] > 100 and stats["unserved_working_day_routine"] > 10
    assert stats["unserved_closed_day"] > 0 and stats["spill_over_ae"] > 20 and stats["gp_fallback"] > 0
    assert stats["routine_deferred_closed_day"] > 0
    assert stats["booked_at_horizon_edge"] > 0 and stats["released_bookings"] > 0
    t = runs["scarce capacity", seed][3]
    assert t.weekly.sum(axis=(0, 1))[st.M_UNPLACED:st.N_WEEKLY].sum() > 100  # no unit had the role's slot

    # Home visits: GP home visits (several slots at once), booked same-day and ahead.
    t, ref = runs["home visits", seed][-2:]
    assert t.weekly.sum(axis=(0, 1))[st.M_HOME_VISITS] > 10
    assert ref.stats["multi_slot_booking_same_day"] > 10 and ref.stats["multi_slot_booking_routine"] > 0

    # Care navigation: navigators book requests with the best-fitting role that has a slot, and some of
    # those they navigate find none and follow the usual routing; the team still sees its caseload.
    t, ref = runs["care navigation", seed][-2:]
    navigated = t.weekly.sum(axis=(0, 1))[st.M_NAVIGATED]
    assert ref.stats["navigated_to_fit"] > 20 and navigated > ref.stats["navigated_to_fit"]
    assert ref.stats["mdt_triage"] > 10

    # Network levers: patients enrolled by case finding and seen by the team, shared-pool contacts from
    # both PCNs, skilled leg-ulcer sessions; the last-contact memory is as deep as case finding needs.
    _, lay, s, _, ref = runs["network levers", seed]
    assert ref.stats["mdt_enrolments"] > 3 and ref.stats["mdt_triage"] > 10
    assert ref.stats["shared_pool_contacts"] > 20
    shared_rows = [row for row in ref.ledger if row[3] == lay.shared_pool]
    practice_of = {person.pid: person.practice for person in ref.patients}
    assert {lay.practice_pcn[practice_of[row[1]]] for row in shared_rows if row[1] in practice_of} == {0, 1}
    assert sum(1 for row in ref.ledger if row[2] == ROLES.index("shared_expertise")) > 10
    assert s.last_contacts.shape[1] == 4


def test_mesa_model_matches_the_engine_event_for_event():
    """The idiomatic Mesa model (patients as mesa.Agents; tests/mesa_reference.py) that the engine's speed
    is compared against in benchmarks/bench_mesa.py runs the same events as the engine."""
    from . import mesa_reference

    p, lay = build("network pools", SEEDS[0])
    s, t = run_engine(p, lay)
    mesa_run = mesa_reference.simulate(p, lay, DAYS)
    compare("Mesa model", p, lay, s, t, mesa_run)
    assert all(isinstance(person, mesa_reference.PatientAgent) for person in mesa_run.patients)
    assert len(mesa_run.patients[0].model.agents) == len(s.pid)  # leavers' agents were removed


def test_the_yearly_table_rows_are_the_listed_people_then_the_leavers():
    """The year end (`engine.advance(..., year_end=True, rows_at=...)`, a pass over the records)
    writes what reading each field's view would: from the row given, a row per slot's person at the year
    end, then one per leaver of the year, with ages, 1-based deprivation, days registered within the year,
    exit reasons, the counters and their primary-care sum; and no row outside those."""
    p, lay = build("home visits", SEEDS[0])
    s = population.synthesise(p, lay)
    n, room, weeks = len(s.pid), 10_000, p.working.shape[0] // 7 + 1
    t = engine.allocate_tally(weeks, lay.n_practices, lay.n_units, exit_capacity=room, table_rows=n + room + 7)
    w = engine.allocate_workspace(n, len(lay.pcn_names))
    table = dict(zip(st.TABLE_COLUMNS, t.table, strict=True))
    table["age"][:] = -1
    engine.advance(s, p, t, w, 0, DAYS, year_end=True, rows_at=5)
    n_exits = int(t.n_exits[0])
    assert n_exits > 0  # the year had leavers
    col = {name: column[5:5 + n + n_exits] for name, column in table.items()}
    meta = t.exit_meta[:n_exits]

    def rows(field: str, column: int) -> np.ndarray:
        return np.concatenate([np.asarray(getattr(s, field), np.int64), meta[:, column]])

    end = np.concatenate([np.full(n, DAYS), meta[:, st.X_EXIT_DAY]])
    counters = np.concatenate([s.counters, t.exit_counters[:n_exits]])
    expected = {
        "patient_id": rows("pid", st.X_PID), "practice": rows("practice", st.X_PRACTICE),
        "age": (end - rows("birth_day", st.X_BIRTH_DAY)) // st.DAYS_PER_YEAR, "sex": rows("sex", st.X_SEX),
        "deprivation": rows("dep", st.X_DEP) + 1, "segment": rows("seg", st.X_SEG),
        "complexity": rows("cx", st.X_CX),
        "registered_days": end - np.maximum(rows("reg_day", st.X_REG_DAY), DAYS - st.DAYS_PER_YEAR),
        "exit": np.concatenate([np.zeros(n, np.int64), meta[:, st.X_REASON]]),
        "counters": counters, "primary": counters[:, list(st.PRIMARY_COLUMNS)].sum(axis=1),
    }
    assert set(col) == set(expected)
    for name, values in expected.items():
        np.testing.assert_array_equal(col[name], values, err_msg=name)
    assert (col["exit"][n:] > 0).all() and (0 <= col["registered_days"]).all()
    assert (col["registered_days"] <= st.DAYS_PER_YEAR).all()
    assert (table["age"][:5] == -1).all() and (table["age"][5 + n + n_exits:] == -1).all()
    with pytest.raises(ValueError, match="do not fit"):  # room for the most leavers a year can hold
        engine.advance(s, p, t, w, DAYS, DAYS, year_end=True, rows_at=8)
    # a model's year end zeroes the counters after writing the rows (here with nothing left to account)
    engine.advance(s, p, t, w, DAYS, DAYS, year_end=True, zero_counters=True)
    assert (s.counters == 0).all() and counters.any()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="transparent huge pages are Linux's")
def test_the_tables_columns_are_kept_off_huge_pages():
    # numpy asks for huge pages for arrays of 4 MiB or more; the columns ask the kernel not to use them
    counters = st.table_columns(1_000_000)[st.TABLE_COLUMNS.index("counters")]  # 96 MB
    inside = -(-counters.ctypes.data // 4096) * 4096
    flags = None
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            head = line.split()[0]
            if "-" in head and ":" not in head:
                lo, hi = (int(x, 16) for x in head.split("-"))
                here = lo <= inside < hi
            elif head == "VmFlags:" and here:
                flags = line.split()[1:]
    assert flags is not None and "nh" in flags and "hg" not in flags


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_the_tables_columns_give_their_memory_back_once_freed():
    # Replicates' tables are freed one by one as they are joined: their memory must not stay with the process
    # (the C allocator keeps freed blocks of a few MB for later; ~0.9 GB of 1.26 GB did, for 40 replicates).
    def resident() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096

    np.empty(1 << 21)  # as in a run: once a freed 16 MiB block has gone back, the allocator keeps smaller ones
    before = resident()
    columns, kept = [], []
    for _ in range(200):  # 200 x 1 MiB, each followed by a small array that stays, as a run's would
        columns.append(engine.empty_on_small_pages((1 << 18,), np.int32))
        columns[-1][:] = 1
        kept.append(np.ones(1 << 12))
    assert resident() - before > 190 * 2**20
    del columns
    assert resident() - before < 20 * 2**20
