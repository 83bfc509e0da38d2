"""Levers move their own mechanism, beyond the paired interval; common random numbers work.

One paired comparison (6 replicates, 1 reported year) of the baseline against each lever at full
strength from day 0 (ramp 0, a project manager so fidelity is 1), plus an identical copy of the
baseline. A direction is accepted only when the whole 95% paired interval lies on the expected side.
The network of networks is tested for exact equivalences on a small two-PCN place instead.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pcnsim import levers
from pcnsim.experiments.compare import compare, paired_interval, per_replicate
from pcnsim.lever_schema import ComplexCareTeam
from pcnsim.results import WEEKLY_METRICS
from pcnsim.run import run
from pcnsim.scenario import Scenario, ScenarioError, from_dict, load
from pcnsim.vocab import NEEDS, PRIMARY_CARE_ROLES, ROLES

ROOT = Path(__file__).resolve().parents[1]
REPS = 6
FULL = {"enabled": True, "start_day": 0, "ramp_days": 0}
LEVERS = {
    "acute_visiting": {"acute_visiting": FULL},
    "pooled_roles": {"pooled_roles": {**FULL, "roles": ["pharmacist", "fcp"]}},
    "social_prescribing": {"social_prescribing": FULL},
    "care_navigation": {"care_navigation": FULL},
    "outreach": {"outreach": {**FULL, "age_from": 15, "age_to": 24, "access_multiplier": 1.5}},
    "complex_care": {"complex_care": FULL},
    "shared_expertise": {"shared_expertise": {**FULL, "home_practice": "Riverside Health Centre",
                                              "sessions_per_week": 4}},
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
    # the practices' diaries were open `horizon_days` ahead when the lever started: those slots stay offered
    settled = -(-res.scenario.booking.horizon_days // 7) + 1
    for role in ("pharmacist", "fcp"):
        r = ROLES.index(role)
        assert res.capacity_offered[:, settled:, :n_p, r].sum() == 0  # every practice-level slot moved
        assert res.capacity_offered[:, :settled, :n_p, r].sum() > 0
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


def test_care_navigation_is_staffed_and_leaves_the_team_its_caseload():
    """Navigation is done by care coordinators: with none in post it changes nothing at all; with them,
    they navigate instead of seeing patients (their slots are gone at full effect), and a navigated
    request never goes to the complex-care team, which sees only patients on its caseload. That a
    navigated request gets the best-fitting role with a slot is checked against the plain-Python
    reference (tests/test_reference.py, regime "care navigation")."""
    place = {"simulation": {"burn_in_years": 0, "years": 1},
             "pcns": [{"name": "p", "practices": [{"name": "a", "list_size": 2500},
                                                  {"name": "b", "list_size": 1500}]}],
             "workforce": {"pcn_fte": {"care_coordinator": 0.5}}}
    team = {**FULL, "caseload": 40, "min_complexity": 1}

    def go(navigation: dict | None, staffed: bool = True):
        data = {**place, "levers": {"complex_care": team, "delivery": {"project_manager_fte": 1.0}}}
        if navigation is not None:
            data["levers"]["care_navigation"] = {**FULL, **navigation}
        if not staffed:
            data["workforce"] = {"pcn_fte": {"care_coordinator": 0.0}}
        return run(load(overrides=data), seed=9, reps=1, ledger=True)

    off = go(None, staffed=False)
    unstaffed = go({"extra_care_coordinator_fte": 0.0}, staffed=False)
    assert np.array_equal(off.weekly, unstaffed.weekly)
    on = go({"extra_care_coordinator_fte": 1.0})
    navigated = on.weekly[..., WEEKLY_METRICS.index("navigated_requests")].sum()
    assert navigated > 1000
    cc = ROLES.index("care_coordinator")
    assert on.capacity_offered[..., cc].sum() == 0
    years = on.patients.set_index(["patient_id", "year"])["mdt_enrolled_months"]
    team_rows = on.ledger[on.ledger["setting"] == "mdt"]
    assert len(team_rows) > 50
    seen = years.reindex(list(zip(team_rows["patient_id"], team_rows["day"] // 364, strict=True)))
    assert (seen > 0).all()


def test_outreach_raises_contacts_in_the_targeted_ages(comparison):
    for band in ("15-19", "20-24"):
        assert group_diff(comparison, "outreach", "age_band", band, "primary_care_contacts")["low_95"] > 0
    assert diff(comparison, "outreach", "zero_contact_share_age_15-19")["high_95"] < 0


def test_delivery_capacity_shortens_the_ramp_and_raises_fidelity():
    sc = from_dict({"levers": {"acute_visiting": {"enabled": True, "start_day": 10, "ramp_days": 100}}})
    start = sc.simulation.burn_in_years * 364
    x = [levers.intensities(sc, start + t)["acute_visiting"] for t in (9, 10, 59, 109, 400)]
    assert [i.staff for i in x] == [0.0, 0.0, 0.5, 1.0, 1.0]  # staff come into post over the ramp, in full
    assert [i.effect for i in x] == [0.0, 0.0, 0.3, 0.6, 0.6]  # fidelity 0.6 without project management
    sc.levers.delivery.project_manager_fte = 1.0  # fully resourced: fidelity 1, ramp halved to 50 days
    x = [levers.intensities(sc, start + t)["acute_visiting"] for t in (9, 34, 59, 400)]
    assert [i.staff for i in x] == [i.effect for i in x] == [0.0, 0.5, 1.0, 1.0]


def test_delivery_capacity_changes_what_staff_achieve_not_the_staff_paid_for():
    """Without a project manager a complex-care team and link workers are all in post once ramped (the FTE a
    commissioner pays for), with the full caseload; what falls short is their effect: the enrolled patients'
    A&E and de-escalation multipliers, the link workers' referral and resolution uplift."""
    from pcnsim.model import PCNModel

    def model(pm_fte):
        sc = load()
        sc.levers.complex_care = sc.levers.complex_care.model_copy(update={**FULL, "fte": 3.0, "caseload": 150})
        sc.levers.social_prescribing = sc.levers.social_prescribing.model_copy(update=FULL)
        sc.levers.delivery = sc.levers.delivery.model_copy(update={"project_manager_fte": pm_fte})
        m = PCNModel(sc, seed=1, keep_patients=False)
        m.apply_levers(sc.simulation.burn_in_years * 364 + 400)
        return sc, m

    (sc, without), (_, with_pm) = model(0.0), model(1.0)
    np.testing.assert_array_equal(without.capacity(), with_pm.capacity())  # the same staff in post
    mdt = ROLES.index("mdt")
    assert sum(u.fte[mdt] for u in without.units) == pytest.approx(3.0 * len(sc.pcns))
    assert without.params.mdt_caseload.tolist() == with_pm.params.mdt_caseload.tolist() == [150]
    fidelity = sc.levers.delivery.fidelity_without
    cc = sc.levers.complex_care
    assert with_pm.params.mdt_ae_mult == pytest.approx(cc.ae_multiplier)
    assert without.params.mdt_ae_mult == pytest.approx(1 - (1 - cc.ae_multiplier) * fidelity)
    assert 1 < without.params.mdt_desc_mult < with_pm.params.mdt_desc_mult
    social, splw = NEEDS.index("social"), ROLES.index("splw")
    assert without.params.match[social, splw] < with_pm.params.match[social, splw]


def test_lever_input_errors_are_clear():
    with pytest.raises(ScenarioError, match=r"levers.outreach: .*age_from \(30\) must not exceed age_to \(20\)"):
        from_dict({"levers": {"outreach": {"age_from": 30, "age_to": 20}}}, "x.yaml")
    with pytest.raises(ScenarioError, match=r"levers.pooled_roles.roles: unknown role \['doctor'\]"):
        from_dict({"levers": {"pooled_roles": {"roles": ["doctor"]}}}, "x.yaml")


def enrolled_pairs(comparison):
    """Each replicate's patients who were on the complex-care caseload, with their base-run year alongside."""
    lever = comparison.results["complex_care"].patients
    base = comparison.results["baseline"].patients
    pairs = base.merge(lever, on=["replicate", "patient_id"], suffixes=("_base", "_lever"))
    return pairs[pairs["mdt_enrolled_months_lever"] > 0]


def test_complex_care_team_lowers_revisits_and_ae_among_enrolled_patients(comparison):
    enrolled = enrolled_pairs(comparison)
    caseload = comparison.results["complex_care"].scenario.levers.complex_care.caseload
    per_rep = enrolled.groupby("replicate")
    assert (per_rep.size() > caseload / 2).all()  # the caseload fills by case finding
    # Never more on the caseload than it holds: at most `caseload` enrolled patient-months per month.
    assert (per_rep["mdt_enrolled_months_lever"].sum() <= caseload * 13).all()
    assert (enrolled["mdt_enrolled_months_base"] == 0).all()
    for measure in ("revisits", "ae", "unmet_days"):
        totals = per_rep[[f"{measure}_base", f"{measure}_lever"]].sum()
        _, _, high = paired_interval((totals[f"{measure}_lever"] - totals[f"{measure}_base"]).to_numpy())
        assert high < 0, measure
    assert diff(comparison, "complex_care", "mdt_per_1000")["low_95"] > 0


def test_the_care_plan_leaves_injuries_alone():
    """The team's care plan lowers A&E only for the needs it covers. Two runs with the same seeds and a
    team whose care plan removes every covered attendance (ae_multiplier 0) or none (1): the background
    attendances (injuries and the like, tied to no need episode) of the enrolled are exactly the same,
    while their A&E attendances for covered needs fall."""
    place = {"simulation": {"burn_in_years": 0, "years": 1},
             "pcns": [{"name": "p", "practices": [{"name": "a", "list_size": 3000}]}]}
    team = {**FULL, "caseload": 300, "min_contacts": 1, "min_complexity": 1, "deescalation_multiplier": 1.0}
    ledgers = {}
    for multiplier in (0.0, 1.0):
        sc = load(overrides={**place, "levers": {"complex_care": {**team, "ae_multiplier": multiplier},
                                                 "delivery": {"project_manager_fte": 1.0}}})
        res = run(sc, seed=8, reps=1, ledger=True)
        ever = res.patients.loc[res.patients["mdt_enrolled_months"] > 0, "patient_id"]
        ae = res.ledger[(res.ledger["setting"] == "ae") & res.ledger["patient_id"].isin(ever)]
        ledgers[multiplier] = ae, set(ever)
    (none, enrolled_none), (full, enrolled_full) = ledgers[0.0], ledgers[1.0]
    assert enrolled_none == enrolled_full and len(enrolled_none) > 100
    background = [t.loc[t["need"].isna(), ["patient_id", "day"]].sort_values(["patient_id", "day"]).to_numpy()
                  for t in (none, full)]
    assert len(background[0]) > 20 and np.array_equal(background[0], background[1])
    covered = ComplexCareTeam().needs
    assert none["need"].isin(covered).sum() < full["need"].isin(covered).sum()


def wound_resolution(res, practices) -> np.ndarray:
    """Per replicate: share of wound contacts in primary care that resolved the need, for these practices."""
    ledger = res.ledger
    practice = res.patients.drop_duplicates(["replicate", "patient_id"]).set_index(["replicate", "patient_id"])
    rows = ledger[(ledger["need"] == "wound") & ledger["setting"].isin(PRIMARY_CARE_ROLES)]
    rows = rows.join(practice["practice"], on=["replicate", "patient_id"])
    rows = rows[rows["practice"].isin(practices) & (rows["outcome"] != "dna")]
    return rows.groupby("replicate")["outcome"].apply(lambda o: (o == "resolved").mean()).to_numpy()


def test_shared_expertise_raises_wound_resolution_elsewhere_and_costs_the_home_practice(comparison):
    # The comparison keeps no ledger; rerun the pair with it (same seed, so the same replicates).
    lever = run(comparison.results["shared_expertise"].scenario, seed=11, reps=REPS, ledger=True)
    base = run(comparison.results["baseline"].scenario, seed=11, reps=REPS, ledger=True)
    home = "Riverside Health Centre"
    others = [p for p in base.practice_names if p != home]
    _, low, _ = paired_interval(wound_resolution(lever, others) - wound_resolution(base, others))
    assert low > 0
    nurse, shared = ROLES.index("nurse"), ROLES.index("shared_expertise")
    h = base.practice_names.index(home)
    assert lever.capacity_offered[..., h, nurse].sum() < base.capacity_offered[..., h, nurse].sum()
    for p in range(len(base.practice_names)):  # only the home practice gives anything
        if p != h:
            assert np.array_equal(lever.capacity_offered[..., p, nurse], base.capacity_offered[..., p, nurse])
    assert lever.capacity_offered[..., shared].sum() > 0 and base.capacity_offered[..., shared].sum() == 0


# ---- network of networks: exact equivalences on a small two-PCN place -----------------------------

def two_pcns(network_of_networks: dict | None = None, merged: bool = False) -> Scenario:
    """Two small PCNs with every ARRS role at network level (or one PCN holding both, with both PCNs'
    pooled FTE), no burn-in so that the lever acts from day 0 of the run."""
    north = [{"name": "N1", "list_size": 1500, "deprivation_mix": [0.5, 0.3, 0.1, 0.1, 0.0]},
             {"name": "N2", "list_size": 1000}]
    south = [{"name": "S1", "list_size": 1200, "deprivation_mix": [0.0, 0.1, 0.2, 0.3, 0.4]}]
    arrs = {"pharmacist": 0.3, "splw": 0.1, "paramedic": 0.05, "fcp": 0.15, "mhp": 0.15, "pa": 0.05,
            "care_coordinator": 0.05, "community_nurse": 0.1}  # every default PCN-funded role, all pooled
    data = {
        "simulation": {"burn_in_years": 0, "years": 1},
        "workforce": {"pcn_fte": arrs, "pcn_role_level": dict.fromkeys(arrs, "network")},
        "pcns": ([{"name": "Both", "practices": north + south, "arrs_fte": {r: 2 * v for r, v in arrs.items()}}]
                 if merged else [{"name": "North", "practices": north}, {"name": "South", "practices": south}]),
    }
    if network_of_networks is not None:
        data["levers"] = {"delivery": {"project_manager_fte": 1.0},
                          "network_of_networks": {**FULL, "roles": list(arrs), **network_of_networks}}
    return from_dict(data)


PATIENT_COLUMNS = ["replicate", "year", "patient_id", "practice", "age", "primary_care_contacts", "gp", "nurse",
                   "pharmacist", "splw", "fcp", "mhp", "community_nurse", "ae", "admission", "revisits",
                   "unmet_days", "dna", "unserved_requests", "complexity"]


def patient_table(res):
    return res.patients[PATIENT_COLUMNS].astype({"practice": str}).reset_index(drop=True)


def test_network_of_networks_with_no_trust_is_separate_pcns():
    separate = run(two_pcns(), seed=5, reps=2)
    no_trust = run(two_pcns({"trust": 0.0}), seed=5, reps=2)
    pd.testing.assert_frame_equal(patient_table(no_trust), patient_table(separate))
    assert np.array_equal(no_trust.weekly, separate.weekly)
    assert no_trust.capacity_offered[:, :, -1].sum() == 0  # the shared pool is empty


def test_network_of_networks_with_full_trust_is_one_pool():
    merged = run(two_pcns(merged=True), seed=5, reps=2)
    full = run(two_pcns({"trust": 1.0}), seed=5, reps=2)
    pd.testing.assert_frame_equal(patient_table(full), patient_table(merged))
    n_p = len(full.practice_names)
    # All pooled capacity sits in the shared pool, which serves both PCNs' patients as the merged pool does.
    assert full.capacity_offered[:, :, n_p:n_p + 2].sum() == 0
    assert np.array_equal(full.capacity_offered[:, :, -1], merged.capacity_offered[:, :, -1])
    assert np.array_equal(full.capacity_used[:, :, -1], merged.capacity_used[:, :, -1])
    half = run(two_pcns({"trust": 0.5}), seed=5, reps=2)
    assert 0 < half.capacity_offered[:, :, -1].sum() < full.capacity_offered[:, :, -1].sum()


@pytest.mark.parametrize(("block", "message"), [
    ({"shared_expertise": {"enabled": True, "home_practice": "Nowhere"}},
     r"home_practice 'Nowhere' is not a practice of this scenario"),
    ({"shared_expertise": {"enabled": True, "home_practice": "Hillside Medical Group", "sessions_per_week": 40}},
     r"sessions_per_week 40 is more than Hillside Medical Group's"),
    ({"network_of_networks": {"enabled": True, "pcns": ["Riverside PCN", "Atlantis PCN"]}},
     r"network_of_networks.pcns names unknown PCNs \['Atlantis PCN'\]"),
    ({"complex_care": {"enabled": True, "needs": ["wound"]}}, r"complex_care.needs has \['wound'\]"),
    ({"complex_care": {"caseload": -3}}, r"levers.complex_care.caseload: .*greater than or equal to 0"),
])
def test_network_lever_errors_name_the_field(block, message):
    with pytest.raises(ScenarioError, match=message):
        load(ROOT / "scenarios" / "baseline.yaml", overrides={"levers": block})


def test_the_engines_capacity_is_what_the_practice_and_pool_agents_hold():
    """The pooled-roles lever moves pharmacists from each practice agent to its PCN's pool agent as it ramps;
    the engine's slots per day are, unit by unit, what each agent then holds x contacts per FTE-day (less the
    pool's hand-off share), and the staff moved add up."""
    from pcnsim.model import NetworkPool, PCNModel

    sc = load()
    sc.levers.pooled_roles = sc.levers.pooled_roles.model_copy(update={**FULL, "roles": ["pharmacist"]})
    sc.levers.delivery = sc.levers.delivery.model_copy(update={"project_manager_fte": 1.0})
    model = PCNModel(sc, seed=1, keep_patients=False)
    before = {unit.unit: unit.fte.copy() for unit in model.units}
    model.apply_levers(sc.simulation.burn_in_years * 364)  # the lever's first reported day: full strength
    pharmacist = ROLES.index("pharmacist")
    practices = [u for u in model.units if not isinstance(u, NetworkPool)]
    assert all(u.fte[pharmacist] < before[u.unit][pharmacist] for u in practices if before[u.unit][pharmacist] > 0)
    assert sum(u.fte[pharmacist] for u in model.units) == pytest.approx(sum(b[pharmacist] for b in before.values()))
    contacts = np.array([sc.workforce.roles[r].contacts_per_fte_day for r in ROLES])
    for unit in model.units:
        handoff = sc.workforce.network_handoff_cost if isinstance(unit, NetworkPool) else 0.0
        np.testing.assert_allclose(model.params.cap_rate[unit.unit], unit.fte * contacts * (1 - handoff))


def test_a_network_of_networks_that_would_share_nothing_is_refused_with_the_reason():
    """On borough.yaml the ARRS roles sit at the practices: sharing network pools would move nothing, so the
    scenario is refused at validation, naming the field and what to do; once the roles are pooled it loads."""
    borough = ROOT / "scenarios" / "borough.yaml"
    sharing = {"network_of_networks": {"enabled": True, "trust": 1.0, "roles": ["pharmacist", "fcp"]}}
    with pytest.raises(ScenarioError, match=r"levers.network_of_networks.roles .*none of them has staff in a network"):
        load(borough, overrides={"levers": sharing})
    pooled = {**sharing, "pooled_roles": {"enabled": True, "roles": ["pharmacist"]}}
    assert load(borough, overrides={"levers": pooled}).levers.network_of_networks.enabled


def test_capacity_used_never_exceeds_what_was_offered_while_levers_ramp():
    """Levers that move or remove slots as they ramp (pooling, navigation taking care coordinators' time)
    leave the ledger consistent week by week: slots used lie between 0 and the slots the diaries opened."""
    sc = load(overrides={"simulation": {"burn_in_years": 0, "years": 1},
                         "pcns": [{"name": "p", "practices": [{"name": "a", "list_size": 3000}]}],
                         "workforce": {"pcn_fte": {"care_coordinator": 1.0}},
                         "levers": {"pooled_roles": {"enabled": True, "start_day": 20, "ramp_days": 120},
                                    "care_navigation": {"enabled": True, "start_day": 10, "ramp_days": 90}}})
    res = run(sc, seed=4, reps=1)
    assert (res.capacity_used >= 0).all() and (res.capacity_used <= res.capacity_offered).all()
    assert res.capacity_offered[..., ROLES.index("care_coordinator")].sum() > 0
