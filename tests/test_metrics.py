"""The summary's metrics against a plain per-replicate-year definition of them (pandas, one group at a time:
the implementation `summary_table` replaced), value for value, bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pcnsim import metrics
from pcnsim.engine.state import DAYS_PER_YEAR
from pcnsim.metrics import SUMMED, age_band
from pcnsim.vocab import ROLES, SETTINGS


def reference_yearly(patients: pd.DataFrame, unit_costs: dict[str, float]) -> dict[str, float]:
    """Headline metrics and touchpoints per 1,000 by setting for one replicate-year of patients."""
    py = patients["registered_days"].sum() / DAYS_PER_YEAR
    per = 1.0 / py if py > 0 else np.nan
    contacts = patients["primary_care_contacts"].sum()
    booked = float(patients[list(ROLES)].to_numpy().sum()) + patients["dna"].sum()
    ae = patients["ae"].sum()
    full_year = patients[patients["registered_days"] == DAYS_PER_YEAR]
    cost = sum(patients[s].sum() * unit_costs.get(s, 0.0) for s in SETTINGS)
    # the mean UPC over people (not practice rows) with 2+ GP contacts, summed by number of GP contacts
    seen = patients[(patients["gp"] >= 2) & (patients["age"] >= 0)]
    by_contacts = seen.groupby("gp")["gp_usual"].sum().sort_index()
    upc = float(np.sum(by_contacts.to_numpy() / by_contacts.index.to_numpy()) / len(seen)) if len(seen) else np.nan
    out = {
        "person_years": py,
        "primary_care_contacts_per_person": contacts * per,
        "gp_share_of_contacts": patients["gp"].sum() / contacts if contacts else np.nan,
        "continuity_upc": upc,
        "revisit_rate": patients["revisits"].sum() / contacts if contacts else np.nan,
        "revisits_per_1000": 1000 * patients["revisits"].sum() * per,
        "dna_rate": patients["dna"].sum() / booked if booked else np.nan,
        "unmet_days_per_person": patients["unmet_days"].sum() * per,
        "unserved_requests_per_1000": 1000 * patients["unserved_requests"].sum() * per,
        "ae_per_1000": 1000 * ae * per,
        "ae_primary_care_sensitive_share": patients["ae_primary_care_sensitive"].sum() / ae if ae else np.nan,
        "admissions_per_1000": 1000 * patients["admission"].sum() * per,
        "admitted_share_of_ae": patients["admission"].sum() / ae if ae else np.nan,
        "outpatient_per_1000": 1000 * patients["outpatient"].sum() * per,
        "zero_contact_share": float((full_year["primary_care_contacts"] == 0).mean()) if len(full_year) else np.nan,
        "cost_per_person": cost * per,
        "cost_total": cost,
    }
    for s in SETTINGS:
        out[f"{s}_per_1000"] = 1000 * patients[s].sum() * per
    if full_year.empty:
        return out
    for label, group in full_year.groupby(age_band(full_year["age"]), observed=False):
        share = float((group["primary_care_contacts"] == 0).mean()) if len(group) else np.nan
        out[f"zero_contact_share_age_{label}"] = share
    return out


def reference_summary(patients: pd.DataFrame, unit_costs: dict[str, float]) -> pd.DataFrame:
    rows = [(rep, year, metric, value)
            for (rep, year), group in patients.groupby(["replicate", "year"], sort=True)
            for metric, value in reference_yearly(group, unit_costs).items()]
    return pd.DataFrame(rows, columns=["replicate", "year", "metric", "value"])


def assert_same_summary(patients: pd.DataFrame, unit_costs: dict[str, float]) -> pd.DataFrame:
    got = metrics.summary_table(patients, unit_costs)
    pd.testing.assert_frame_equal(got, reference_summary(patients, unit_costs), check_exact=True)
    return got


def test_summary_of_a_simulated_run_matches_the_definition_whatever_the_row_order(baseline_run):
    costs = baseline_run.scenario.costs.per_contact
    pats = baseline_run.patients
    got = assert_same_summary(pats, costs)
    assert set(got["metric"]) == set(metrics.METRIC_NAMES)
    shuffled = pats.sample(frac=1.0, random_state=7).reset_index(drop=True)
    pd.testing.assert_frame_equal(metrics.summary_table(shuffled, costs), got, check_exact=True)


def test_summary_without_patients_uses_the_practice_years(baseline_run):
    practice_years = baseline_run._practice_years()
    got = assert_same_summary(practice_years, baseline_run.scenario.costs.per_contact)
    assert got.loc[got["metric"] == "zero_contact_share", "value"].isna().all()  # no individuals: no such share


@st.composite
def small_tables(draw):
    """Patient-year tables with the edge cases: replicate-years with no full-year rows, no contacts, no A&E,
    no one with two GP contacts or no registered days, ages in any band, rows in any order."""
    n = draw(st.integers(1, 60))
    ints = st.integers(0, 3)
    table = pd.DataFrame({
        "replicate": draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)),
        "year": draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)),
        "age": np.array(draw(st.lists(st.integers(0, 100), min_size=n, max_size=n)), np.int16),
        "registered_days": np.array(draw(st.lists(st.sampled_from([0, 1, 200, DAYS_PER_YEAR]), min_size=n,
                                                  max_size=n)), np.int16),
    })
    for name in SUMMED:
        if name not in table:
            table[name] = np.array(draw(st.lists(ints, min_size=n, max_size=n)), np.int32)
    table["primary_care_contacts"] = table["primary_care_contacts"].astype(np.int64)
    usual = np.array(draw(st.lists(ints, min_size=n, max_size=n)), np.int32)
    table["gp_usual"] = np.minimum(usual, table["gp"].to_numpy())
    return table


@given(small_tables(), st.floats(0.0, 500.0))
@settings(max_examples=150, deadline=None)
def test_summary_of_small_tables_matches_the_definition(table, gp_cost):
    assert_same_summary(table, {"gp": gp_cost, "nurse": 13.5, "ae": 250.0})


def test_an_empty_table_has_an_empty_summary(baseline_run):
    got = metrics.summary_table(baseline_run.patients.iloc[:0], {})
    assert list(got.columns) == ["replicate", "year", "metric", "value"] and got.empty


def test_group_rates_do_not_wrap_around_on_large_int32_sums():
    """Rates per 1,000 of int32 counters summed over a large group (1,000 x the sum past 2**31): computed in
    floating point, not in the counters' type (which wrapped to negative unmet-need rates by group)."""
    n = 4_000
    table = pd.DataFrame({"replicate": np.zeros(n, np.int64), "year": np.zeros(n, np.int64),
                          "age": np.full(n, 50, np.int16), "sex": "female",
                          "registered_days": np.full(n, 364, np.int16),
                          "primary_care_contacts": np.full(n, 5, np.int64), "ae": np.zeros(n, np.int32),
                          "unmet_days": np.full(n, 1_000, np.int32)})
    rates = metrics.by_group(table, "sex", columns=("unmet_days",))
    assert rates["unmet_days"].tolist() == [1_000_000.0]  # 1,000 days a person-year, per 1,000
