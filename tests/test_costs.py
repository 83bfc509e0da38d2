"""Staff cost: every role at every practice and pool, and every lever's staff, at FTE x cost per FTE-year."""

import numpy as np
import pytest

from pcnsim import params
from pcnsim.experiments.compare import per_replicate
from pcnsim.run import run
from pcnsim.scenario import load
from pcnsim.vocab import ROLES


def small(**levers):
    return load(overrides={"simulation": {"burn_in_years": 1, "years": 2},
                           "pcns": [{"name": "p", "practices": [{"name": "a", "list_size": 600},
                                                                {"name": "b", "list_size": 400}]}],
                           "levers": levers})


def test_without_levers_staff_cost_is_the_rota_times_cost_per_fte_year_every_year():
    sc = small()
    res = run(sc, seed=2, reps=2)
    staff = res.staff_costs()
    fte = params.layout(sc).fte  # unit x role, the rota
    cost = np.array([sc.workforce.roles[r].cost_per_fte_year for r in ROLES])
    for _, rows in staff.groupby(["replicate", "year"]):
        np.testing.assert_allclose(rows["fte"].to_numpy().reshape(fte.shape), fte)
        np.testing.assert_allclose(rows["cost"].sum(), (fte * cost).sum())
    assert set(staff["year"]) == {0, 1} and set(staff["replicate"]) == {0, 1}


def test_a_levers_hired_staff_are_paid_in_full_once_in_post_and_count_in_net_cost():
    """A complex-care team of 2 FTE from the first reported day with no ramp: 2 FTE-years of the team in
    each reported year, whatever the delivery capacity, and the net cost per person rises by at least their
    cost (less the care they replace cannot be more than the contacts' whole cost)."""
    team = {"complex_care": {"enabled": True, "start_day": 0, "ramp_days": 0, "fte": 2.0, "caseload": 20}}
    base, lever = run(small(), seed=2, reps=2), run(small(**team), seed=2, reps=2)
    mdt = lever.staff_costs().query("role == 'mdt'").groupby(["replicate", "year"])["fte"].sum()
    assert mdt.to_numpy() == pytest.approx(np.full(4, 2.0))
    b, v = per_replicate(base), per_replicate(lever)
    person_years = b.loc["person_years"]
    team_cost = 2.0 * load().workforce.roles["mdt"].cost_per_fte_year / person_years
    np.testing.assert_allclose(v.loc["staff_cost_per_person"] - b.loc["staff_cost_per_person"], team_cost, rtol=1e-9)
    np.testing.assert_allclose(v.loc["net_cost_per_person"], v.loc["cost_per_person"] + v.loc["staff_cost_per_person"])


def test_a_project_manager_is_paid_for_each_pcn():
    sc = small(acute_visiting={"enabled": True, "start_day": 0})
    sc.levers.delivery.project_manager_fte = 0.5
    staff = run(sc, seed=2, reps=1).staff_costs()
    managers = staff[staff["role"] == "project_manager"]
    assert len(managers) == 2 * len(sc.pcns)  # each reported year, each PCN
    assert managers["cost"].tolist() == pytest.approx([0.5 * sc.levers.delivery.project_manager_cost_per_fte_year] * 2)
