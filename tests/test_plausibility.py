"""A baseline year lands in plausible ranges before calibration (issue 2's acceptance ranges).

These are range checks against the calibration targets' orders of magnitude (docs/model.md), not pinned numbers: the
ranges are wide (calibration, issue 3, narrows them) and the replicate spread is tiny next to them
(about 0.1% for contacts and 1% for A&E between replicates of this baseline).
"""

import numpy as np

from pcnsim.metrics import AGE_BAND_LABELS


def headline(res, metric):
    return res.headline().loc[metric, "mean"]


def test_primary_care_contacts_per_person_year(baseline_run):
    assert 3.0 <= headline(baseline_run, "primary_care_contacts_per_person") <= 9.0


def test_ae_attendances_per_1000(baseline_run):
    assert 200 <= headline(baseline_run, "ae_per_1000") <= 800


def test_some_revisits(baseline_run):
    assert 0.05 <= headline(baseline_run, "revisit_rate") <= 0.8


def test_zero_contact_share_is_highest_in_young_people(baseline_run):
    shares = {b: headline(baseline_run, f"zero_contact_share_age_{b}") for b in AGE_BAND_LABELS}
    assert all(0 < v < 1 for v in shares.values())
    peak = max(shares, key=shares.get)
    assert peak in ("5-9", "10-14", "15-19", "20-24", "25-29")
    young = np.mean([shares[b] for b in ("10-14", "15-19", "20-24", "25-29")])
    older = np.mean([shares[b] for b in ("45-54", "55-64", "65-74", "75-84", "85+")])
    assert young > 1.5 * older


def test_women_consult_more_than_men(baseline_run):
    pats = baseline_run.patients
    adults = pats[(pats["age"] >= 16) & (pats["age"] < 65)]
    rate = adults.groupby("sex", observed=True)["primary_care_contacts"].mean()
    assert rate["female"] > rate["male"]


def test_ae_higher_in_most_deprived(baseline_run):
    pats = baseline_run.patients
    rate = pats.groupby("deprivation")["ae"].sum() / pats.groupby("deprivation")["registered_days"].sum()
    assert rate[1] > 1.3 * rate[5]
