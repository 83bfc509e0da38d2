"""Conservation laws of the engine, checked on full baseline runs.

- every episode opened is resolved, self-resolved, closed by death/leaving, or still open;
- slots used per day, unit and role never exceed capacity, and equal the ledger's contacts + DNAs;
- per-patient yearly counters add up to the weekly practice tallies and to the ledger;
- contacts with the usual GP are GP contacts at the patient's practice.
"""

import numba
import numpy as np
import pandas as pd
import pytest

from pcnsim.engine import state as st
from pcnsim.engine.diary import day_capacity
from pcnsim.model import PCNModel
from pcnsim.vocab import GP, N_ROLES, NEEDS, ROLES, SETTINGS

call_day_capacity = numba.njit(lambda p, unit, role, day: day_capacity(p, unit, role, day))  # kernels call kernels


@pytest.fixture(scope="module")
def finished_model(baseline):
    model = PCNModel(baseline, seed=99)
    while not model.finished:
        model.step()
    return model


def test_every_episode_is_accounted_for(finished_model):
    m = finished_model
    totals = m.tally.weekly.sum(axis=(0, 1))
    opened = totals[st.C_EPISODES]
    still_open = int((m.state.ep_type >= 0).sum())
    closed = totals[st.M_RESOLVED] + totals[st.M_SELF_RESOLVED] + totals[st.M_CLOSED_EXIT]
    assert opened > 0 and totals[st.M_CLOSED_EXIT] > 0 and totals[st.M_SELF_RESOLVED] > 0
    assert opened == closed + still_open


def test_open_episodes_are_well_formed(finished_model):
    s, day = finished_model.state, finished_model.day
    open_ = s.ep_type >= 0
    assert (s.ep_type[open_] < len(NEEDS)).all()
    assert (s.ep_open[open_] <= day).all()
    assert (s.ep_next[open_] >= day).all()
    booked = open_ & (s.ep_booked > 0)
    assert (s.ep_next[booked] <= day + finished_model.params.horizon).all()
    assert (s.next_event <= np.minimum(s.next_onset, s.next_bg_ae)).all()


def test_free_episode_slots_hold_no_days_and_next_events_are_the_least_day(baseline):
    """The kernels read a free episode slot's next and self-resolution days without asking whether it is open
    (`episodes.next_event_of`, the patient pass), nor its accounting day when unmet need is counted
    (`episodes.flush_all_unmet`): a free slot must hold NEVER in all three, after every week of a year from
    day 0 (births, deaths, closings and merges all happen). Each patient's next event is then at most the
    least of its clocks and its episodes' days (an earlier one only costs a visit)."""
    model = PCNModel(baseline, seed=3, keep_patients=False)
    free_slots = 0
    for _ in range(52):
        model.step()
        s = model.state
        free = s.ep_type < 0
        assert (s.ep_next[free] == st.NEVER).all() and (s.ep_selfres[free] == st.NEVER).all()
        assert (s.ep_acc[free] == st.NEVER).all()
        least = np.minimum(np.minimum(s.next_onset, s.next_bg_ae),
                           np.minimum(s.ep_next, s.ep_selfres).min(axis=1))
        assert (s.next_event <= least).all()
        free_slots += int(free.sum())
    assert 0 < free_slots < 52 * s.ep_type.size  # some slots free, some open, along the way


def test_the_diaries_first_free_day_skips_only_booked_up_days(baseline):
    """Booking searches a diary from `routine_first` (diary.find_slot): no day before it may have a free
    routine slot, or a routine request would be booked later than the earliest free day. Checked mid-run
    (near the calendar's end the diaries empty)."""
    model = PCNModel(baseline, seed=99)
    for _ in range(60):
        model.step()
    s, day, horizon = model.state, model.day, model.params.horizon
    ring = horizon + 1
    skipped = 0
    for unit, role in np.ndindex(s.routine_first.shape):
        for x in range(day, min(int(s.routine_first[unit, role]), day + horizon)):  # open: up to day - 1 + horizon
            assert s.routine_free[unit, role, x % ring] == 0, (unit, role, x)
            skipped += 1
    assert skipped > 10  # the check has teeth: some diaries are booked up for days ahead


def test_capacity_is_never_exceeded(finished_model):
    t = finished_model.tally
    assert (t.cap_used <= t.cap_offered).all()
    assert (t.cap_used >= 0).all()
    assert t.cap_used.sum() > 0.5 * t.cap_offered.sum()


def _slots_by_day(ledger: pd.DataFrame, home_visit_slots: int) -> pd.Series:
    booked = ledger[(ledger["setting"].isin(ROLES)) & (ledger["outcome"] != "no_episode")
                    & ledger["unit"].notna()]
    slots = np.where((booked["setting"] == "gp") & (booked["need"] == "urgent_home_visit"), home_visit_slots, 1)
    return booked.assign(slots=slots).groupby(["replicate", "day", "unit", "setting"], observed=True)["slots"].sum()


def test_slots_used_equal_ledger_contacts_and_never_exceed_daily_capacity(baseline_run):
    res = baseline_run
    sc = res.scenario
    from pcnsim import params

    p, lay = params.build(sc, res.seeds[0])
    first_day = sc.simulation.burn_in_years * st.DAYS_PER_YEAR
    used = _slots_by_day(res.ledger, sc.booking.home_visit_slots)
    units = {name: i for i, name in enumerate(lay.unit_names)}
    worst = 0.0
    for (rep, day, unit, role), n in used.items():
        total, _ = call_day_capacity(p, units[unit], ROLES.index(role), first_day + day)
        worst = max(worst, n / max(total, 1))
        assert n <= total, (rep, day, unit, role, n, total)
    assert worst > 0.9  # the check has teeth: some unit-role-days are (nearly) full
    # Weekly slots used by the engine == the ledger's contacts + DNAs on those slots.
    from_ledger: dict = {}
    for (rep, day, unit, role), n in used.items():
        key = (int(rep), int(day) // 7, str(unit), str(role))
        from_ledger[key] = from_ledger.get(key, 0) + int(n)
    cap = res.capacity()
    from_engine = {(int(r.replicate), int(r.week), r.unit, r.role): int(r.used)
                   for r in cap[cap["used"] > 0].itertuples()}
    assert from_ledger == from_engine


def test_patient_counters_add_up_to_weekly_tallies(baseline_run):
    res = baseline_run
    pats = res.patients
    for rep in range(res.replicates):
        weekly = res.weekly[rep].sum(axis=0)  # [practice, metric]
        by_practice = pats[pats["replicate"] == rep].groupby("practice", observed=False)
        for j, name in enumerate([*SETTINGS, *st.COUNTER_NAMES]):
            assert by_practice[name].sum().to_numpy().tolist() == weekly[:, j].tolist(), name


def test_ledger_matches_patient_counters(baseline_run):
    res = baseline_run
    led, pats = res.ledger, res.patients
    attended = led[led["outcome"] != "dna"]
    counts = attended.groupby("setting", observed=False).size()
    for s in SETTINGS:
        assert counts.get(s, 0) == pats[s].sum(), s
    assert (led["outcome"] == "dna").sum() == pats["dna"].sum()
    per_patient = attended[attended["setting"] == "gp"].groupby("patient_id").size()
    merged = pats.groupby("patient_id")["gp"].sum()
    assert per_patient.reindex(merged.index, fill_value=0).equals(merged.astype(per_patient.dtype))


def test_contacts_with_the_usual_gp_are_gp_contacts_at_a_practice(baseline_run):
    """No one sees their usual GP more often than a GP; and, a pool never holding anyone's usual GP, no one more
    often than a GP at their practice."""
    pats, led = baseline_run.patients, baseline_run.ledger
    assert (pats["gp_usual"] <= pats["gp"]).all() and pats["gp_usual"].sum() > 0
    at_practice = led[(led["setting"] == "gp") & (led["outcome"] != "dna") & ~led["unit"].str.contains("pool")]
    per_patient = at_practice.groupby(["replicate", "patient_id"]).size()
    usual = pats.groupby(["replicate", "patient_id"])["gp_usual"].sum()
    assert (usual <= per_patient.reindex(usual.index, fill_value=0)).all()


def test_roles_only_see_needs_they_take(baseline_run):
    from pcnsim.scenario import load

    match = load().match
    led = baseline_run.ledger
    seen = led[led["setting"].isin(ROLES) & led["need"].notna()].groupby(["setting", "need"], observed=True).size()
    for role, need in seen.index:
        assert role in match[need] or role == ROLES[GP], (role, need)
    assert N_ROLES == len(ROLES)


def test_a_ledger_that_overflows_grows_and_gives_the_same_numbers():
    """With --ledger, days whose touchpoints outgrow the ledger's room are run again from before them with
    twice the room: every touchpoint is kept, and the numbers are those of a run without a ledger."""
    from pcnsim.run import run
    from pcnsim.scenario import load

    busy = load(overrides={"simulation": {"burn_in_years": 0, "years": 1},
                           "pcns": [{"name": "p", "practices": [{"name": "a", "list_size": 200}]}],
                           "onset": {"base": {"acute_minor": 2000.0}},
                           "workforce": {"practice_fte_per_1000": {"gp": 150.0}}})
    with_ledger, without = run(busy, seed=1, ledger=True), run(busy, seed=1)
    assert np.array_equal(with_ledger.weekly, without.weekly)
    touchpoints = with_ledger.patients[list(SETTINGS)].to_numpy().sum() + with_ledger.patients["dna"].sum()
    assert len(with_ledger.ledger) == touchpoints > 40 * 200 + 10_000  # more than the first room held
