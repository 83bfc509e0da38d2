"""The numba engine against the plain-Python reference (tests/reference.py): identical, event for event.

Small populations (a few hundred patients) for one simulated year, in three regimes: default
staffing, roles pooled at network level, and capacity so scarce that requests go unserved, spill
over to A&E and book far ahead.
"""

import numpy as np
import pytest

from pcnsim import engine, params, population
from pcnsim.engine import state as st
from pcnsim.scenario import from_dict

from . import reference

pytestmark = pytest.mark.reference

DAYS = st.DAYS_PER_YEAR


def small(**overrides) -> dict:
    data = {
        "name": "small",
        "pcns": [{"name": "Tiny PCN", "practices": [
            {"name": "A", "list_size": 160, "deprivation_mix": [0.6, 0.2, 0.1, 0.1, 0.0]},
            {"name": "B", "list_size": 120, "deprivation_mix": [0.0, 0.1, 0.2, 0.3, 0.4]},
            {"name": "C", "list_size": 90},
        ]}],
    }
    data.update(overrides)
    return data


SCENARIOS = {
    "default staffing": small(),
    "network pools": small(workforce={"pcn_role_level": {"pharmacist": "network", "mhp": "network",
                                                         "fcp": "network", "community_nurse": "network"}}),
    "scarce capacity": small(workforce={"practice_fte_per_1000": {"gp": 0.12, "nurse": 0.08},
                                        "pcn_fte": {"pharmacist": 0.1}},
                             booking={"horizon_days": 10, "same_day_share": 0.3}),
}


def run_engine(sc, seed):
    p, lay = params.build(sc, seed)
    s = population.synthesise(p, lay)
    t = engine.allocate_tally(p.working.shape[0] // 7 + 1, lay.n_practices, lay.n_units,
                              exit_capacity=5_000, ledger_capacity=200_000)
    w = engine.allocate_workspace(len(s.pid))
    engine.advance(s, p, t, w, 0, DAYS)
    engine.close_year(s, t, DAYS)
    return p, lay, s, t


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_engine_matches_reference_event_for_event(name):
    sc = from_dict(SCENARIOS[name])
    p, lay, s, t = run_engine(sc, seed=2024)
    ref = reference.simulate(p, lay, DAYS)

    n = int(t.n_ledger[0])
    assert n <= t.ledger.shape[0]
    eng_ledger = [tuple(int(v) for v in row) for row in t.ledger[:n]]
    if eng_ledger != ref.ledger:
        i = first_difference(eng_ledger, ref.ledger)
        cols = "day pid setting unit need outcome urgency slot"
        context = "\n".join(f"  {j}: engine {eng_ledger[j] if j < len(eng_ledger) else None}  "
                            f"reference {ref.ledger[j] if j < len(ref.ledger) else None}"
                            for j in range(max(0, i - 3), i + 3))
        pytest.fail(f"{name}: ledgers differ first at row {i} of {len(eng_ledger)}/{len(ref.ledger)} ({cols}):\n{context}")
    assert n > 500  # a year of a few hundred patients is well over 500 touchpoints

    eng_counters = {int(pid): list(map(int, row)) for pid, row in zip(s.pid, s.counters, strict=True)}
    assert eng_counters == ref.counters

    n_exits = int(t.n_exits[0])
    eng_exits = [tuple(map(int, meta)) + (tuple(map(int, cnt)),)
                 for meta, cnt in zip(t.exit_meta[:n_exits], t.exit_counters[:n_exits], strict=True)]
    assert eng_exits == ref.exits
    assert n_exits > 0

    weeks = DAYS // 7
    assert np.array_equal(t.weekly[:weeks], ref.weekly[:weeks])
    assert np.array_equal(t.cap_offered[:weeks], ref.cap_offered[:weeks])
    assert np.array_equal(t.cap_used[:weeks], ref.cap_used[:weeks])


def test_regimes_exercise_what_they_claim():
    """Guard the test's coverage: pools are used, and scarcity produces unserved requests and spill-over."""
    _, lay, _, t = run_engine(from_dict(SCENARIOS["network pools"]), seed=2024)
    assert t.cap_used[:, lay.n_practices:].sum() > 0
    _, _, _, t = run_engine(from_dict(SCENARIOS["scarce capacity"]), seed=2024)
    totals = t.weekly.sum(axis=(0, 1))
    assert totals[st.C_UNSERVED] > 100 and totals[st.C_AE_SENSITIVE] > 10
