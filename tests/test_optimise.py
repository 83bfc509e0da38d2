"""Workforce allocation: the simple policies, the optimiser on a case with a known answer, and clear errors
for budgets and constraints that cannot hold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pcnsim.experiments import optimise, workforce
from pcnsim.scenario import ScenarioError, load

ROOT = Path(__file__).resolve().parents[1]
SMALL_ARRS = {"pharmacist": 0.6, "splw": 0.3, "paramedic": 0.15, "fcp": 0.3, "mhp": 0.35, "pa": 0.15,
              "care_coordinator": 0.15, "community_nurse": 0.4}


def place(folder: Path) -> Path:
    """Three practices of 1,500; every person 'struggling with life' (social need) lives in the first,
    all in the most deprived quintile; the other two are affluent with none."""
    data = {
        "extends": str(ROOT / "scenarios" / "baseline.yaml"), "name": "social need in one practice",
        "simulation": {"burn_in_years": 0, "years": 1},
        "pcns": [{"name": "Test PCN", "arrs_fte": SMALL_ARRS, "practices": [
            {"name": "Deprived", "list_size": 1500, "deprivation_mix": [1, 0, 0, 0, 0]},
            {"name": "Leafy", "list_size": 1500, "deprivation_mix": [0, 0, 0, 0, 1]},
            {"name": "Also Leafy", "list_size": 1500, "deprivation_mix": [0, 0, 0, 0, 1]}]}],
        "population": {"segment_prevalence": {"struggling": {0: 0.0, 16: 0.25}},
                       "segment_deprivation_multiplier": {"struggling": [1, 0, 0, 0, 0]}},
    }
    path = folder / "place.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def experiment(folder: Path, **changes) -> Path:
    data = {"name": "splw_placement", "base": str(place(folder)), "roles": [{"role": "splw", "total_fte": 1.5}],
            "network_pool": False, "step": 0.5, "objective": {"unmet_days_per_person": 1.0}, "replicates": 2,
            "validation_replicates": 4, "years": 1, "seed": 5, "trials": 12, "output": "out"}
    data.update(changes)
    path = folder / "workforce.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_policies_share_the_same_totals_differently(tmp_path):
    sc = load(place(tmp_path))
    roles = ["splw", "pharmacist"]
    now = workforce.current(sc, roles)
    assert now.units == ["Deprived", "Leafy", "Also Leafy", "Test PCN (network pool)"]
    by_size = workforce.policy(sc, "by_list_size", roles)
    need = workforce.policy(sc, "need_weighted", roles)
    pooled = workforce.policy(sc, "pooled", roles)
    for alloc in (by_size, need, pooled):
        assert alloc.totals() == pytest.approx(now.totals())
    np.testing.assert_allclose(by_size.fte[:, 0], by_size.fte[:, 1])  # equal lists, equal shares
    assert (need.fte[:, 0] > need.fte[:, 1]).all()  # the deprived practice needs more per head
    assert (pooled.fte[:, :3] == 0).all() and (pooled.fte[:, 3] > 0).all()
    # Writing an allocation into the scenario puts exactly it in place, and costs what it should.
    placed = workforce.current(workforce.apply(sc, need), roles)
    np.testing.assert_allclose(placed.fte, need.fte)
    expected = sum(need.fte[i].sum() * sc.workforce.roles[r].cost_per_fte_year for i, r in enumerate(roles))
    assert workforce.staff_cost(sc, need) == pytest.approx(expected)


def test_share_out_keeps_totals_in_whole_steps():
    out = optimise.share_out(2.5, np.array([1, 1, 1]), 0.5)
    assert out.sum() == 2.5 and set(out) <= {0.5, 1.0} and sorted(out) == [0.5, 1.0, 1.0]
    assert optimise.share_out(3.0, np.array([0, 0, 0]), 1.0).tolist() == [1.0, 1.0, 1.0]
    assert optimise.share_out(2.0, np.array([10, 0, 0]), 0.5).tolist() == [2.0, 0.0, 0.0]


def test_optimiser_moves_link_workers_to_the_practice_with_the_social_need(tmp_path):
    outcome = optimise.optimise(experiment(tmp_path))
    best = outcome.allocations[outcome.best]
    splw = best.fte[best.roles.index("splw")]
    assert splw[0] >= 1.0 and splw.sum() == 1.5  # at least two of the three half-time posts in Deprived
    trials = outcome.trials.set_index("label")
    assert trials.loc[outcome.best, "objective"] < trials.loc["policy: by_list_size", "objective"]
    # best.yaml is a valid scenario that puts the best allocation in place.
    best_sc = load(tmp_path / "out" / "best.yaml")
    np.testing.assert_allclose(workforce.current(best_sc, ["splw"]).fte[0], splw)
    assert (tmp_path / "out" / "tradeoff.png").stat().st_size > 1000
    validation = pd.read_csv(tmp_path / "out" / "validation.csv")
    assert set(validation["policy"]) == {"current", "by_list_size", "need_weighted"}


def test_budget_ranges_are_respected(tmp_path):
    cost = load(place(tmp_path)).workforce.roles["splw"].cost_per_fte_year
    path = experiment(tmp_path, roles=[{"role": "splw", "min_fte": 0.5, "max_fte": 4.0}], budget=2.0 * cost,
                      objective={"unmet_days_per_person": 1.0}, trials=8)
    outcome = optimise.optimise(path)
    assert (outcome.trials["staff_cost"] <= 2.0 * cost + 1e-6).all()
    assert outcome.trials["splw@Deprived"].add(outcome.trials["splw@Leafy"]).add(
        outcome.trials["splw@Also Leafy"]).between(0.5, 2.0).all()


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"roles": [{"role": "splw", "total_fte": 3.0}], "budget": 50_000}, "budget",
     "50,000 GBP a year cannot pay for the fixed and minimum FTE"),
    ({"roles": [{"role": "splw", "min_fte": 3.0, "max_fte": 1.0}]}, "roles[0]", "min_fte (3.0) is above max_fte"),
    ({"roles": [{"role": "wizard", "total_fte": 1.0}]}, "roles[0].role", "unknown role 'wizard'"),
    ({"roles": [{"role": "splw", "total_fte": 1.0, "min_fte": 0.5, "max_fte": 2}]}, "roles[0]",
     "give total_fte or a min_fte/max_fte range, not both"),
    ({"roles": [{"role": "splw", "min_fte": 0.3, "max_fte": 2.0}]}, "roles[0]", "multiples of step 0.5"),
    ({"objective": {"happiness": 1.0}}, "objective", "unknown metrics ['happiness']"),
    ({"step": 0}, "step", "greater than 0"),
])
def test_budget_and_constraint_violations_are_clear_errors(tmp_path, changes, field, message):
    path = experiment(tmp_path, **changes)
    with pytest.raises(ScenarioError) as info:
        optimise.load(path)
    assert info.value.field == field and message in info.value.message, str(info.value)
    proc = subprocess.run([sys.executable, "-m", "pcnsim", "optimise", str(path)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_example_experiment_validates():
    problem = optimise.load(ROOT / "experiments" / "workforce.yaml")
    assert problem.output.is_relative_to(ROOT / "results")
