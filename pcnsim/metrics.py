"""Metric definitions (docs/model.md), in one place, as pure pandas/numpy over run outputs.

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
- continuity of GP care: the usual provider of care (UPC) index, a person's GP contacts with their usual GP /
  their GP contacts in the year, averaged over the people with at least two GP contacts in it;
- cost: touchpoints x unit cost by setting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .vocab import DAYS_PER_YEAR, PRIMARY_CARE_ROLES, ROLES, SETTINGS

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
    "continuity_upc": "Continuity of GP care, UPC index (mean over people with 2+ GP contacts)",
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

# Every metric name `summary_table` can produce (the age-band names only when someone was registered all year).
METRIC_NAMES = (*HEADLINE, "cost_total", *(f"{s}_per_1000" for s in SETTINGS),
                *(f"zero_contact_share_age_{label}" for label in AGE_BAND_LABELS))



def age_band(age: np.ndarray | pd.Series) -> pd.Categorical:
    """5- to 10-year age bands used in every by-age output."""
    idx = np.searchsorted(np.array(AGE_BANDS), np.asarray(age), side="right") - 1
    return pd.Categorical.from_codes(idx, categories=list(AGE_BAND_LABELS), ordered=True)


# The counters the yearly metrics add up over a replicate-year.
SUMMED = tuple(dict.fromkeys(("registered_days", "primary_care_contacts", *SETTINGS, "dna", "revisits", "unmet_days",
                              "unserved_requests", "ae_primary_care_sensitive")))


def summary_table(patients: pd.DataFrame, unit_costs: dict[str, float]) -> pd.DataFrame:
    """Tidy summary: one row per replicate x year x metric, replicate-years in order, each with the metrics
    of `yearly_metrics` in its order (the zero-contact shares by age band only when someone was registered
    all year).

    From integer sums and counts over each replicate-year's block of rows (sorted by replicate and year, as
    `run` leaves the table; any other order is sorted first), not pandas on each replicate-year, which is
    many times slower for many replicates. The sums are exact, so the values are the same, bit for bit,
    whatever the order of the rows."""
    rep, year = patients["replicate"].to_numpy(), patients["year"].to_numpy()
    order = None
    if len(rep) > 1 and not np.all((rep[1:] > rep[:-1]) | ((rep[1:] == rep[:-1]) & (year[1:] >= year[:-1]))):
        order = np.lexsort((year, rep))
        rep, year = rep[order], year[order]
    if len(rep) == 0:
        return pd.DataFrame({"replicate": rep, "year": year, "metric": np.array([], object), "value": np.array([])})
    starts = np.flatnonzero(np.r_[True, (rep[1:] != rep[:-1]) | (year[1:] != year[:-1])])

    def column(name: str) -> np.ndarray:
        values = patients[name].to_numpy()
        return values if order is None else values[order]

    sums = {}
    for name in SUMMED:
        values = column(name)
        sums[name] = np.add.reduceat(values, starts, dtype=np.int64 if values.dtype.kind in "biu" else np.float64)
    # People registered all year, and those of them with no primary-care contact, by age band: a
    # replicate-year at a time, so that the temporaries are one replicate-year's, not the whole table's
    registered, age, contacts = column("registered_days"), column("age"), column("primary_care_contacts")
    gp, gp_usual = column("gp"), column("gp_usual")
    n_groups, n_bands = len(starts), len(AGE_BAND_LABELS)
    full_n, zero_n = np.zeros(n_groups, np.int64), np.zeros(n_groups, np.int64)
    band_full, band_zero = np.zeros((n_groups, n_bands), np.int64), np.zeros((n_groups, n_bands), np.int64)
    upc = np.full(n_groups, np.nan)
    for g, (a, b) in enumerate(zip(starts, [*starts[1:], len(rep)], strict=True)):
        full = registered[a:b] == DAYS_PER_YEAR
        zero = contacts[a:b][full] == 0
        band = age_band(age[a:b][full]).codes  # -1: no age (practice rows)
        full_n[g], zero_n[g] = len(zero), np.count_nonzero(zero)
        band_full[g] = np.bincount(band[band >= 0], minlength=n_bands)
        band_zero[g] = np.bincount(band[(band >= 0) & zero], minlength=n_bands)
        upc[g] = continuity_index(gp[a:b], gp_usual[a:b], age[a:b])

    values = yearly_metrics(sums, full_n, zero_n, upc, unit_costs)
    names = [*values, *(f"zero_contact_share_age_{label}" for label in AGE_BAND_LABELS)]
    table = np.column_stack([*values.values(), ratio(band_zero, band_full)])
    kept = np.ones(table.shape, bool)
    kept[:, len(values):] = (full_n > 0)[:, None]  # the age bands only for replicate-years with a full year
    return pd.DataFrame({"replicate": np.repeat(rep[starts], kept.sum(axis=1)),
                         "year": np.repeat(year[starts], kept.sum(axis=1)),
                         "metric": np.tile(np.array(names, object), n_groups)[kept.reshape(-1)],
                         "value": table[kept]})


def continuity_index(gp: np.ndarray, gp_usual: np.ndarray, age: np.ndarray) -> float:
    """The mean usual provider of care (UPC) index, gp_usual / gp, over the people (rows with an age: not
    practice rows) with at least two GP contacts; NaN if there are none. People are taken together by their
    number of GP contacts (exact sums of their contacts with the usual GP, then one term per number), so the
    value is the same, bit for bit, whatever the order of the rows."""
    seen = (gp >= 2) & (age >= 0)
    people = np.count_nonzero(seen)
    if not people:
        return np.nan
    contacts, group = np.unique(gp[seen], return_inverse=True)
    usual = np.bincount(group, weights=gp_usual[seen])
    return float(np.sum(usual / contacts) / people)


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den is 0."""
    num, den = np.broadcast_arrays(num, den)
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=den != 0)


def yearly_metrics(sums: dict[str, np.ndarray], full_n: np.ndarray, zero_n: np.ndarray, upc: np.ndarray,
                   unit_costs: dict[str, float]) -> dict[str, np.ndarray]:
    """Headline metrics and touchpoints per 1,000 by setting, one value per replicate-year, from its sums of
    the `SUMMED` counters, the people registered all year (`full_n`), those of them with no primary-care
    contact (`zero_n`) and the continuity index (`upc`: `continuity_index`)."""
    py = sums["registered_days"] / DAYS_PER_YEAR
    per = ratio(1.0, py)
    contacts, ae = sums["primary_care_contacts"], sums["ae"]
    booked = sum(sums[r] for r in ROLES).astype(np.float64) + sums["dna"]
    cost = 0
    for s in SETTINGS:
        cost = cost + sums[s] * unit_costs.get(s, 0.0)
    out = {
        "person_years": py,
        "primary_care_contacts_per_person": contacts * per,
        "gp_share_of_contacts": ratio(sums["gp"], contacts),
        "continuity_upc": upc,
        "revisit_rate": ratio(sums["revisits"], contacts),
        "revisits_per_1000": 1000 * sums["revisits"] * per,
        "dna_rate": ratio(sums["dna"], booked),
        "unmet_days_per_person": sums["unmet_days"] * per,
        "unserved_requests_per_1000": 1000 * sums["unserved_requests"] * per,
        "ae_per_1000": 1000 * ae * per,
        "ae_primary_care_sensitive_share": ratio(sums["ae_primary_care_sensitive"], ae),
        "admissions_per_1000": 1000 * sums["admission"] * per,
        "admitted_share_of_ae": ratio(sums["admission"], ae),
        "outpatient_per_1000": 1000 * sums["outpatient"] * per,
        "zero_contact_share": ratio(zero_n, full_n),
        "cost_per_person": cost * per,
        "cost_total": cost,
    }
    for s in SETTINGS:
        out[f"{s}_per_1000"] = 1000 * sums[s] * per
    return {name: np.asarray(v, np.float64) for name, v in out.items()}


def by_group(patients: pd.DataFrame, by: str, columns=("primary_care_contacts", "ae", "unmet_days")) -> pd.DataFrame:
    """Rates per 1,000 person-years of chosen counters by a grouping ('age_band', 'sex', 'deprivation', 'practice')."""
    df = patients.assign(age_band=age_band(patients["age"]))
    grouped = df.groupby(["replicate", "year", by], observed=False)
    py = grouped["registered_days"].sum() / DAYS_PER_YEAR
    out = pd.DataFrame({c: 1000.0 * grouped[c].sum().astype(np.float64) / py for c in columns})
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
