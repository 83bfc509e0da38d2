"""Continuity of GP care (docs/model.md, Continuity of care): the usual-GP chance of hand-built practices
against its closed form, what lowers it (part-time working, more GPs, pooled GP time), what continuity
changes (resolution, A&E, admission) and that, with its effects switched off, it changes nothing else.

Statistical checks use fixed seeds and a tolerance of 4 standard errors. Without continuity's effects on
care (resolution uplift 0, rate ratios 1) whether a GP contact happens does not depend on whether earlier
ones were with the usual GP, so at a practice whose usual-GP chance is p each GP contact is an independent
Bernoulli(p) draw (`rng.USUAL_GP`, keyed by person, day and episode):
- the share of N GP contacts with the usual GP has standard error sqrt(p (1 - p) / N);
- a person's UPC index (with the usual GP / GP contacts, n_i of them) has mean p and variance
  p (1 - p) / n_i, so the mean over M people with n_i >= 2 has standard error sqrt(p (1 - p) sum(1 / n_i)) / M.
A correct engine then lands outside 4 standard errors with probability about 6e-5.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pcnsim import continuity, metrics
from pcnsim.run import run
from pcnsim.scenario import load
from pcnsim.vocab import ROLES

SEED = 31
NEUTRAL = {"resolution_uplift": 0.0, "ae_rate_ratio": 1.0, "admission_rate_ratio": 1.0}
# Three practices of 4,000 patients with 1, 3 and 6 GP FTE; GPs working half time (f = 0.5) and patients
# getting their usual GP on 60% of the days that GP works (a = 0.6). With n = max(1, 1 + F - f) GPs working
# on the usual GP's days, p = f (a + (1 - a) / n):
#   1 FTE: n = 1.5, p = 0.5 (0.6 + 0.4 / 1.5) = 13/30;  3 FTE: n = 3.5, p = 5/14;  6 FTE: n = 6.5, p = 43/130.
GP_FTE = {"small": 1.0, "middle": 3.0, "large": 6.0}
ANALYTIC = {"small": 13 / 30, "middle": 5 / 14, "large": 43 / 130}


def place(gp_fte: dict[str, float], **continuity_block) -> dict:
    return {
        "simulation": {"burn_in_years": 0, "years": 2},
        "pcns": [{"name": "Hand-built PCN", "practices": [
            {"name": name, "list_size": 4000, "fte": {"gp": fte, "nurse": 1.2}} for name, fte in gp_fte.items()]}],
        "continuity": {"gp_fte_per_headcount": 0.5, "usual_gp_preference": 0.6, **NEUTRAL, **continuity_block},
    }


def simulate(overrides: dict, **kwargs):
    return run(load(overrides=overrides), seed=SEED, reps=1, threads=1, **kwargs)


def share_with_usual_gp(patients: pd.DataFrame) -> tuple[float, int]:
    return patients["gp_usual"].sum() / patients["gp"].sum(), int(patients["gp"].sum())


def index_and_error(patients: pd.DataFrame, p: float) -> tuple[float, float]:
    """The mean UPC index over people with two or more GP contacts, and its standard error at chance p."""
    seen = patients[patients["gp"] >= 2]
    error = np.sqrt(p * (1 - p) * (1.0 / seen["gp"]).sum()) / len(seen)
    return metrics.continuity_index(patients["gp"].to_numpy(), patients["gp_usual"].to_numpy(),
                                    patients["age"].to_numpy()), error


@pytest.fixture(scope="module")
def hand_built():
    return simulate(place(GP_FTE))


def test_the_usual_gp_chance_is_the_closed_form():
    chance = continuity.usual_gp_chance(0.5, 0.6, np.array(list(GP_FTE.values())))
    np.testing.assert_allclose(chance, list(ANALYTIC.values()), rtol=1e-12)
    assert continuity.usual_gp_chance(1.0, 0.0, np.array([1.0]))[0] == 1.0  # a single-handed full-time GP
    sc = load(overrides=place(GP_FTE))
    slots = np.zeros((4, len(ROLES)))
    slots[:3, ROLES.index("gp")] = [fte * sc.workforce.roles["gp"].contacts_per_fte_day for fte in GP_FTE.values()]
    slots[3, ROLES.index("gp")] = 50.0  # the network pool's GPs are nobody's usual GP
    np.testing.assert_allclose(continuity.usual_gp_by_unit(sc, slots, 3), [*ANALYTIC.values(), 0.0], rtol=1e-12)


@pytest.mark.parametrize("practice", list(GP_FTE))
def test_continuity_on_a_hand_built_practice_equals_its_analytic_value(hand_built, practice):
    patients = hand_built.patients[hand_built.patients["practice"] == practice]
    p = ANALYTIC[practice]
    share, n = share_with_usual_gp(patients)
    assert n > 10_000  # two years of 4,000 patients' GP contacts
    assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / n), (share, p)
    upc, error = index_and_error(patients, p)
    assert abs(upc - p) < 4 * error, (upc, p, error)


def test_more_gps_lower_continuity(hand_built):
    """A larger list needs more GPs; a patient is then less likely to get theirs (Barker et al. 2017: UPC 0.70 in
    small practices, 0.59 in large)."""
    by_practice = hand_built.patients.groupby("practice", observed=True)
    shares = [share_with_usual_gp(by_practice.get_group(name))[0] for name in GP_FTE]
    assert shares[0] > shares[1] + 0.04 and shares[1] > shares[2] + 0.01


def test_more_part_time_working_lowers_continuity(hand_built):
    """The usual GP works fewer days: with f = 0.9 instead of 0.5 at 3 GP FTE, n = 3.1 and
    p = 0.9 (0.6 + 0.4 / 3.1) = 0.656, against 5/14 = 0.357."""
    fuller = simulate(place({"middle": 3.0}, gp_fte_per_headcount=0.9)).patients
    p = 0.9 * (0.6 + 0.4 / 3.1)
    share, n = share_with_usual_gp(fuller)
    assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / n)
    part_time = hand_built.patients[hand_built.patients["practice"] == "middle"]
    assert share_with_usual_gp(part_time)[0] < share - 0.25


def test_pooled_gp_time_is_never_with_the_usual_gp():
    """Half of each practice's GP time is PCN-funded; pooled at network level, contacts there are never with the
    usual GP, and the practice's usual-GP chance follows the GP time it keeps: the share of GP contacts with the
    usual GP is p(practice GP FTE) x (GP contacts at the practice) / (all GP contacts)."""
    funded = {"workforce": {"pcn_fte": {"gp": 4.0}}}  # 2 FTE for each of the two practices, by list size
    pooled = {**funded, "levers": {"pooled_roles": {"enabled": True, "start_day": 0, "ramp_days": 0, "roles": ["gp"]},
                                   "delivery": {"project_manager_fte": 1.0}}}
    base_place = place({"middle": 1.0, "large": 4.0})
    apart = simulate({**base_place, **funded}).patients
    together = simulate({**base_place, **pooled}, ledger=True)
    # each practice's chance with its own GPs and half the PCN's: 3 FTE (n = 3.5) and 6 FTE (n = 6.5) together;
    # with the PCN's GPs pooled: 1 FTE (n = 1.5) and 4 FTE (n = 4.5) at the practices, nothing in the pool
    for practice, p in (("middle", 5 / 14), ("large", 43 / 130)):
        share, n = share_with_usual_gp(apart[apart["practice"] == practice])
        assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / n), (practice, share, p)
    ledger = together.ledger
    gp_contacts = ledger[(ledger["setting"] == "gp") & (ledger["outcome"] != "dna")]
    pooled_patients = together.patients
    expected, variance = 0.0, 0.0
    for practice, fte in (("middle", 1.0), ("large", 4.0)):
        p = continuity.usual_gp_chance(0.5, 0.6, np.array([fte]))[0]
        ids = pooled_patients.loc[pooled_patients["practice"] == practice, "patient_id"]
        at_practice = int((gp_contacts["patient_id"].isin(ids) & (gp_contacts["unit"] == practice)).sum())
        expected += p * at_practice
        variance += p * (1 - p) * at_practice
    usual = int(pooled_patients["gp_usual"].sum())
    assert (gp_contacts["unit"] == "Hand-built PCN (network pool)").sum() > 2_000
    assert abs(usual - expected) < 4 * np.sqrt(variance), (usual, expected)
    # fewer GPs at each practice raise its chance, but the pool's contacts count against it: lower overall
    assert share_with_usual_gp(pooled_patients)[0] < share_with_usual_gp(apart)[0] - 0.01


def test_contacts_with_the_usual_gp_resolve_at_the_higher_rate():
    """Acute needs resolve with a GP at 0.5; with an uplift of 0.6, a contact with the usual GP resolves at 0.8.
    At 3 GP FTE (p = 5/14) a GP contact resolves an acute need with chance 0.5 (1 + 0.6 p) = 0.607, each
    contact independently (the usual-GP and resolution draws are separate streams): binomial error."""
    resolves = {}
    for uplift in (0.0, 0.6):
        overrides = place({"middle": 3.0}, resolution_uplift=uplift)
        overrides["match"] = {"acute_minor": {"gp": 0.5, "nurse": 0.7, "pharmacist": 0.7, "pa": 0.75, "ae": 0.85}}
        ledger = simulate(overrides, ledger=True).ledger
        acute = ledger[(ledger["setting"] == "gp") & (ledger["need"] == "acute_minor")
                       & ledger["outcome"].isin(["resolved", "revisit"])]
        resolves[uplift] = ((acute["outcome"] == "resolved").mean(), len(acute))
    for uplift, expected in ((0.0, 0.5), (0.6, 0.5 * (1 + 0.6 * 5 / 14))):
        rate, n = resolves[uplift]
        assert n > 5_000
        assert abs(rate - expected) < 4 * np.sqrt(expected * (1 - expected) / n), (uplift, rate, expected)


def test_without_its_effects_continuity_changes_nothing_else():
    """With no resolution uplift and rate ratios of 1, how often patients see their usual GP changes the
    count of such contacts and nothing else: every other number of the per-patient table is the same."""
    low = simulate(place(GP_FTE, gp_fte_per_headcount=0.2, usual_gp_preference=0.1)).patients
    high = simulate(place(GP_FTE, gp_fte_per_headcount=1.0, usual_gp_preference=0.9)).patients
    others = [c for c in low.columns if c != "gp_usual"]
    pd.testing.assert_frame_equal(low[others], high[others])
    assert high["gp_usual"].sum() > 2 * low["gp_usual"].sum()


def test_the_risk_tables_apply_the_rate_ratio_per_step_of_the_index():
    table = continuity.risk_table(0.938, 0.61)
    assert table.shape == (9, 9)
    assert (table[:2] == 1.0).all()  # fewer than two GP contacts remembered: no index, no change
    np.testing.assert_allclose(table[5, 5], 0.938 ** ((1.0 - 0.61) / 0.2))
    np.testing.assert_allclose(table[8, 2], 0.938 ** ((0.25 - 0.61) / 0.2))
    np.testing.assert_allclose(table[5, 4] / table[5, 3], 0.938)  # 0.2 more of the index: the rate ratio
    assert (continuity.risk_table(1.0, 0.61) == 1.0).all()


def test_better_continuity_means_fewer_ae_attendances_and_admissions_for_needs():
    """The same people and needs (common random numbers) with every GP contact with the usual GP (f = 1, a = 1)
    or rarely (f = 0.1, a = 0), under strong rate ratios: fewer A&E attendances tied to a need and fewer
    admissions."""
    strong = {"ae_rate_ratio": 0.6, "admission_rate_ratio": 0.6}
    good = simulate(place(GP_FTE, gp_fte_per_headcount=1.0, usual_gp_preference=1.0, **strong))
    poor = simulate(place(GP_FTE, gp_fte_per_headcount=0.1, usual_gp_preference=0.0, **strong))
    assert good.patients["ae_primary_care_sensitive"].sum() < 0.8 * poor.patients["ae_primary_care_sensitive"].sum()
    assert good.patients["admission"].sum() < poor.patients["admission"].sum()
