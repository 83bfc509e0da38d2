"""Levers move their own mechanism, beyond the paired interval; common random numbers work.

One paired comparison (6 replicates, 1 reported year) of the baseline against each lever at full
strength from day 0 (ramp 0, a project manager so fidelity is 1), plus an identical copy of the
baseline. A direction is accepted only when the whole 95% paired interval lies on the expected side.
"""

from pathlib import Path

import numpy as np
import pytest
import yaml

from pcnsim import levers
from pcnsim.compare import compare, paired_interval, per_replicate
from pcnsim.run import run
from pcnsim.scenario import ScenarioError, from_dict, load
from pcnsim.vocab import ROLES

ROOT = Path(__file__).resolve().parents[1]
REPS = 6
FULL = {"enabled": True, "start_day": 0, "ramp_days": 0}
LEVERS = {
    "acute_visiting": {"acute_visiting": FULL},
    "pooled_roles": {"pooled_roles": {**FULL, "roles": ["pharmacist", "fcp"]}},
    "social_prescribing": {"social_prescribing": FULL},
    "care_navigation": {"care_navigation": FULL},
    "outreach": {"outreach": {**FULL, "age_from": 15, "age_to": 24, "access_multiplier": 1.5}},
}


def scenario_file(folder: Path, name: str, lever_block: dict | None) -> Path:
    data = {"extends": str(ROOT / "scenarios" / "baseline.yaml"), "name": name}
    if lever_block is not None:
        data["levers"] = {**lever_block, "delivery": {"project_manager_fte": 1.0}}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    folder = tmp_path_factory.mktemp("levers")
    others = [scenario_file(folder, name, block) for name, block in LEVERS.items()]
    others.append(scenario_file(folder, "identical", None))
    return compare(ROOT / "scenarios" / "baseline.yaml", others, seed=11, years=1, reps=REPS)


def diff(comparison, scenario, metric):
    t = comparison.table
    return t[(t["scenario"] == scenario) & (t["metric"] == metric)].iloc[0]


def group_diff(comparison, scenario, by, group, measure):
    g = comparison.groups
    return g[(g["scenario"] == scenario) & (g["by"] == by) & (g["group"] == group) & (g["measure"] == measure)].iloc[0]


def test_identical_scenario_differs_by_exactly_zero(comparison):
    t = comparison.table[comparison.table["scenario"] == "identical"]
    assert len(t) > 30
    assert (t[["diff", "low_95", "high_95"]].to_numpy() == 0).all()


def test_common_random_numbers_narrow_the_interval(comparison):
    # The same pair with independent seeds for the lever run: its interval must be at least 3x wider.
    base = per_replicate(comparison.results["baseline"]).loc["ae_per_1000"].to_numpy()
    paired = per_replicate(comparison.results["acute_visiting"]).loc["ae_per_1000"].to_numpy()
    sc = load(ROOT / "scenarios" / "baseline.yaml").model_copy(deep=True)
    sc.levers = comparison.results["acute_visiting"].scenario.levers
    independent = per_replicate(run(sc, seed=12345, years=1, reps=REPS)).loc["ae_per_1000"].to_numpy()
    _, lo_p, hi_p = paired_interval(paired - base)
    _, lo_i, hi_i = paired_interval(independent - base)
    assert 3 * (hi_p - lo_p) <= hi_i - lo_i, (hi_p - lo_p, hi_i - lo_i)


def test_acute_visiting_service_takes_home_visits_off_gps(comparison):
    assert diff(comparison, "acute_visiting", "gp_hours_on_home_visits_per_1000")["high_95"] < 0
    assert diff(comparison, "acute_visiting", "paramedic_per_1000")["low_95"] > 0


def test_pooled_roles_move_capacity_to_the_network(comparison):
    res = comparison.results["pooled_roles"]
    base = comparison.results["baseline"]
    n_p = len(res.practice_names)
    for role in ("pharmacist", "fcp"):
        r = ROLES.index(role)
        assert res.capacity_offered[:, :, :n_p, r].sum() == 0  # every practice-level slot moved
        assert res.capacity_offered[:, :, n_p:, r].sum() > 0
        assert base.capacity_offered[:, :, n_p:, r].sum() == 0
    # GP capacity stays where it was.
    gp = ROLES.index("gp")
    assert np.array_equal(res.capacity_offered[..., gp], base.capacity_offered[..., gp])


def test_social_prescribing_sees_social_needs_and_cuts_unmet_need(comparison):
    assert diff(comparison, "social_prescribing", "splw_per_1000")["low_95"] > 0
    assert diff(comparison, "social_prescribing", "unmet_days_per_person")["high_95"] < 0


def test_care_navigation_lowers_revisits(comparison):
    assert diff(comparison, "care_navigation", "revisit_rate")["high_95"] < 0


def test_outreach_raises_contacts_in_the_targeted_ages(comparison):
    for band in ("15-19", "20-24"):
        assert group_diff(comparison, "outreach", "age_band", band, "primary_care_contacts")["low_95"] > 0
    assert diff(comparison, "outreach", "zero_contact_share_age_15-19")["high_95"] < 0


def test_delivery_capacity_shortens_the_ramp_and_raises_fidelity():
    sc = from_dict({"levers": {"acute_visiting": {"enabled": True, "start_day": 10, "ramp_days": 100}}})
    start = sc.simulation.burn_in_years * 364
    x = [levers.intensities(sc, start + t)["acute_visiting"] for t in (9, 10, 59, 109, 400)]
    assert x == [0.0, 0.0, 0.3, 0.6, 0.6]  # fidelity 0.6 without project management
    sc.levers.delivery.project_manager_fte = 1.0  # fully resourced: fidelity 1, ramp halved to 50 days
    x = [levers.intensities(sc, start + t)["acute_visiting"] for t in (9, 34, 59, 400)]
    assert x == [0.0, 0.5, 1.0, 1.0]


def test_lever_input_errors_are_clear():
    with pytest.raises(ScenarioError, match=r"levers.outreach: .*age_from \(30\) must not exceed age_to \(20\)"):
        from_dict({"levers": {"outreach": {"age_from": 30, "age_to": 20}}}, "x.yaml")
    with pytest.raises(ScenarioError, match=r"levers.pooled_roles.roles: unknown role \['doctor'\]"):
        from_dict({"levers": {"pooled_roles": {"roles": ["doctor"]}}}, "x.yaml")
