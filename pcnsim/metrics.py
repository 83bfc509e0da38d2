"""Metric definitions (MODEL.md section 7), in one place, as pure pandas/numpy over run outputs.

Yearly metrics are computed from the per-patient yearly table (`patients_yearly`: one row per
replicate x patient x year, including people who died or left that year), so each of them can be
recomputed by an analyst from that file. Rates are per person-year of registration, where
person-years = registered days / 364 (a model year is 52 weeks).

Definitions:
- primary-care contacts: attended contacts with any practice or network role (GP, nurse, ARRS roles,
  complex-care team); not A&E, admissions, outpatients or community nursing; DNAs are separate;
- revisit rate: primary-care contacts that were not the first contact of their need episode (any
  setting counts as a contact) / primary-care contacts;
- DNA rate: did-not-attends / (attended booked contacts + did-not-attends), over practice/network roles
  and community nursing;
- unmet need: episode-days open with no contact that day (per person-year); unserved requests: requests
  with no slot on the day asked (per 1,000 person-years);
- A&E primary-care-sensitive: attendances tied to a need episode (after a failed request, or instead of
  asking primary care);
- zero-contact share: share of people registered all year with no primary-care contact that year;
- cost: touchpoints x unit cost by setting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .engine.state import DAYS_PER_YEAR
from .vocab import PRIMARY_CARE_ROLES, ROLES, SETTINGS

AGE_BANDS = (0, 5, 10, 15, 20, 25, 30, 35, 45, 55, 65, 75, 85)
AGE_BAND_LABELS = tuple(
    f"{lo}-{hi - 1}" if hi is not None else f"{lo}+"
    for lo, hi in zip(AGE_BANDS, (*AGE_BANDS[1:], None), strict=True)
)
DEPRIVATION_LABELS = ("q1_most", "q2", "q3", "q4", "q5_least")

# The yearly headline metrics, in display order, with a label that carries the unit.
HEADLINE = {
    "person_years": "Person-years registered",
    "primary_care_contacts_per_person": "Primary-care contacts per person-year",
    "gp_share_of_contacts": "GP share of primary-care contacts",
    "gp_per_1000": "GP contacts per 1,000",
    "nurse_per_1000": "Practice nurse contacts per 1,000",
    "pharmacist_per_1000": "Clinical pharmacist contacts per 1,000",
    "revisit_rate": "Revisit rate (share of contacts)",
    "revisits_per_1000": "Revisits per 1,000",
    "dna_rate": "Did-not-attend rate (share of bookings)",
    "unmet_days_per_person": "Unmet-need episode-days per person-year",
    "unserved_requests_per_1000": "Requests not served on the day, per 1,000",
    "ae_per_1000": "A&E attendances per 1,000",
    "ae_primary_care_sensitive_share": "A&E primary-care-sensitive share",
    "admissions_per_1000": "Emergency admissions per 1,000",
    "admitted_share_of_ae": "Share of A&E attendances admitted",
    "outpatient_per_1000": "Outpatient referrals per 1,000",
    "zero_contact_share": "Share with no primary-care contact in the year",
    "cost_per_person": "Cost of touchpoints, GBP per person-year",
}

# Every name `yearly` can produce (its age-band names only when someone was registered all year).
METRIC_NAMES = (*HEADLINE, "cost_total", *(f"{s}_per_1000" for s in SETTINGS),
                *(f"zero_contact_share_age_{label}" for label in AGE_BAND_LABELS))



def age_band(age: np.ndarray | pd.Series) -> pd.Categorical:
    """5- to 10-year age bands used in every by-age output."""
    idx = np.searchsorted(np.array(AGE_BANDS), np.asarray(age), side="right") - 1
    return pd.Categorical.from_codes(idx, categories=list(AGE_BAND_LABELS), ordered=True)


def _sum(df: pd.DataFrame, cols) -> float:
    return float(df[list(cols)].to_numpy().sum())


def yearly(patients: pd.DataFrame, unit_costs: dict[str, float]) -> dict[str, float]:
    """Headline metrics and touchpoints per 1,000 by setting for one replicate-year of patients."""
    py = patients["registered_days"].sum() / DAYS_PER_YEAR
    per = 1.0 / py if py > 0 else np.nan
    contacts = patients["primary_care_contacts"].sum()
    booked = _sum(patients, ROLES) + patients["dna"].sum()
    ae = patients["ae"].sum()
    full_year = patients[patients["registered_days"] == DAYS_PER_YEAR]
    cost = sum(patients[s].sum() * unit_costs.get(s, 0.0) for s in SETTINGS)
    out = {
        "person_years": py,
        "primary_care_contacts_per_person": contacts * per,
        "gp_share_of_contacts": patients["gp"].sum() / contacts if contacts else np.nan,
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


def summary_table(patients: pd.DataFrame, unit_costs: dict[str, float]) -> pd.DataFrame:
    """Tidy summary: one row per replicate x year x metric."""
    rows = []
    for (rep, year), group in patients.groupby(["replicate", "year"], sort=True):
        for metric, value in yearly(group, unit_costs).items():
            rows.append((rep, year, metric, value))
    return pd.DataFrame(rows, columns=["replicate", "year", "metric", "value"])


def by_group(patients: pd.DataFrame, by: str, columns=("primary_care_contacts", "ae", "unmet_days")) -> pd.DataFrame:
    """Rates per 1,000 person-years of chosen counters by a grouping ('age_band', 'sex', 'deprivation', 'practice')."""
    df = patients.assign(age_band=age_band(patients["age"]))
    grouped = df.groupby(["replicate", "year", by], observed=False)
    py = grouped["registered_days"].sum() / DAYS_PER_YEAR
    out = pd.DataFrame({c: 1000 * grouped[c].sum() / py for c in columns})
    out["person_years"] = py
    return out.reset_index()


def zero_contact_by_age(patients: pd.DataFrame) -> pd.DataFrame:
    """Share of people registered all year with no primary-care contact, by age band and sex (mean over years)."""
    full = patients[patients["registered_days"] == DAYS_PER_YEAR]
    df = full.assign(age_band=age_band(full["age"]), zero=full["primary_care_contacts"] == 0)
    return df.groupby(["age_band", "sex"], observed=False)["zero"].mean().unstack("sex")


def interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% interval over replicates (2.5th and 97.5th percentiles; the value itself for one replicate)."""
    values = np.asarray(values, float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return (np.nan, np.nan, np.nan)
    if values.size == 1:
        return (float(values[0]),) * 3
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(values.mean()), float(lo), float(hi)


def primary_care_contacts(counts: pd.DataFrame) -> pd.Series:
    """Primary-care contacts from per-role contact columns (the definition every FA measure uses)."""
    return counts[list(PRIMARY_CARE_ROLES)].sum(axis=1)


def format_number(x: float) -> str:
    """A number for tables: thousands separators from 1,000, one decimal from 10, else three."""
    if x is None or np.isnan(x):
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3f}"
