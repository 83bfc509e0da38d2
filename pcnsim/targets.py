"""The evidence pcnsim is held to (docs/model.md): named measures of a run, with ranges and sources.

Each target has one or more checks; a check is a measure (a function of the per-patient yearly table,
with FA flags) and an accepted range. Measures are computed per replicate (years pooled) so each comes
with a 95% interval over replicates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import churn, metrics, registry
from .vocab import DAYS_PER_YEAR, ROLES


def _rate(p: pd.DataFrame, column: str, mask=None) -> float:
    sel = p if mask is None else p[mask]
    py = sel["registered_days"].sum() / DAYS_PER_YEAR
    return float(sel[column].sum() / py) if py else np.nan


def _share(p: pd.DataFrame, column: str, mask) -> float:
    total = p[column].sum()
    return float(p.loc[mask, column].sum() / total) if total else np.nan


def _churn(p: pd.DataFrame, metric: str, definition: str = "top10") -> float:
    """A churn metric for one replicate's patients, years pooled (the churn table is cached on the frame)."""
    if "churn" not in p.attrs:
        p.attrs["churn"] = churn.churn_table(p)
    t = p.attrs["churn"]
    return float(t.loc[(t["definition"] == definition) & (t["metric"] == metric), "value"].mean())


MEASURES: dict[str, Callable[[pd.DataFrame], float]] = {
    "contacts_per_person": lambda p: _rate(p, "primary_care_contacts"),
    "gp_share": lambda p: float(p["gp"].sum() / p["primary_care_contacts"].sum()),
    "male_to_female_contact_ratio": lambda p: _rate(p, "primary_care_contacts", p["sex"] == "male")
    / _rate(p, "primary_care_contacts", p["sex"] == "female"),
    "contacts_age_0_4_vs_5_44": lambda p: _rate(p, "primary_care_contacts", p["age"] < 5)
    / _rate(p, "primary_care_contacts", (p["age"] >= 5) & (p["age"] < 45)),
    "contacts_age_85_plus_vs_all": lambda p: _rate(p, "primary_care_contacts", p["age"] >= 85)
    / _rate(p, "primary_care_contacts"),
    # children's illness consultations: GP contacts
    "gp_contacts_age_under_1": lambda p: _rate(p, "gp", p["age"] < 1),
    "gp_contacts_age_1_4": lambda p: _rate(p, "gp", (p["age"] >= 1) & (p["age"] < 5)),
    "gp_contacts_age_5_9": lambda p: _rate(p, "gp", (p["age"] >= 5) & (p["age"] < 10)),
    "top10_share_of_contacts": lambda p: _churn(p, "share_of_contacts"),
    "fa_persistence": lambda p: _churn(p, "persist"),
    "fa_complex_share": lambda p: _churn(p, "complex_share"),
    "ae_per_1000": lambda p: 1000 * _rate(p, "ae"),
    "ae_share_15_34": lambda p: _share(p, "ae", (p["age"] >= 15) & (p["age"] < 35)),
    "ae_share_65_plus": lambda p: _share(p, "ae", p["age"] >= 65),
    "ae_most_vs_least_deprived": lambda p: _rate(p, "ae", p["deprivation"] == 1)
    / _rate(p, "ae", p["deprivation"] == 5),
    "ae_admitted_share": lambda p: float(p["admission"].sum() / p["ae"].sum()),
    "dna_rate": lambda p: float(p["dna"].sum() / (p["dna"].sum() + p[list(ROLES)].to_numpy().sum())),
}


# Each measure in plain words, as reports show it.
MEASURE_LABELS = {
    "contacts_per_person": "Primary-care contacts per person-year",
    "gp_share": "GP share of primary-care contacts",
    "male_to_female_contact_ratio": "Men's contact rate / women's",
    "contacts_age_0_4_vs_5_44": "Contact rate at ages 0-4 / ages 5-44",
    "contacts_age_85_plus_vs_all": "Contact rate at 85+ / everyone's",
    "gp_contacts_age_under_1": "GP contacts per child-year, under 1",
    "gp_contacts_age_1_4": "GP contacts per child-year, ages 1-4",
    "gp_contacts_age_5_9": "GP contacts per child-year, ages 5-9",
    "top10_share_of_contacts": "Share of contacts made by the top 10%",
    "fa_persistence": "Frequent attenders still frequent a year on",
    "fa_complex_share": "Frequent attenders with complex needs",
    "ae_per_1000": "A&E attendances per 1,000 person-years",
    "ae_share_15_34": "Share of A&E attendances at ages 15-34",
    "ae_share_65_plus": "Share of A&E attendances at 65+",
    "ae_most_vs_least_deprived": "A&E rate, most / least deprived fifth",
    "ae_admitted_share": "Share of A&E attendances admitted",
    "dna_rate": "Missed appointments (DNA rate)",
}


def measure_label(measure: str) -> str:
    """A check's measure in words (the metric registry's label where the measure is one of its metrics)."""
    return MEASURE_LABELS.get(measure, registry.label(measure))


@dataclass(frozen=True)
class Check:
    measure: str
    low: float
    high: float


@dataclass(frozen=True)
class Target:
    name: str
    source: str
    checks: tuple[Check, ...]


# The seven targets of docs/model.md (Calibration targets). Ranges: the published figure with the spread the sources
# report (or +-20% where they give a point value).
TARGETS = (
    Target("Primary-care contacts ~5.2-5.8 per person-year, ~45% by GPs, men ~32% lower, higher at 0-4 "
           "(than at 5-44) and at 85+ (than overall)",
           "Hobbs 2016 Lancet (5.16, 2013/14); NHS England appointments 2024 (5.8); Wang 2013 (men 32% lower)",
           (Check("contacts_per_person", 5.2, 5.8), Check("gp_share", 0.40, 0.50),
            Check("male_to_female_contact_ratio", 0.58, 0.78), Check("contacts_age_0_4_vs_5_44", 1.0, 3.0),
            Check("contacts_age_85_plus_vs_all", 1.2, 4.0))),
    Target("Children's illness consultations (GP) ~4.0 (<1), 2.9 (1-4), 1.3 (5-9) per child-year",
           "Hobbs 2016 Lancet / HSE 2019 consulting by age",
           (Check("gp_contacts_age_under_1", 3.2, 4.8), Check("gp_contacts_age_1_4", 2.3, 3.5),
            Check("gp_contacts_age_5_9", 1.0, 1.6))),
    Target("Top 10% of patients make ~40% of contacts (30-50%)",
           "Kontopantelis 2021; Vedsted 2005 review",
           (Check("top10_share_of_contacts", 0.30, 0.50),)),
    Target("FA persistence one year on ~0.33 (up to 0.40 in reviews; practitioners: about half)",
           "Vedsted 1999; Smits 2008",
           (Check("fa_persistence", 0.28, 0.50),)),
    Target("About half of frequent attenders have complex needs",
           "Vedsted 2005 (>50% in each domain, ~1/3 all three)",
           (Check("fa_complex_share", 0.40, 0.60),)),
    Target("A&E ~440 per 1,000 a year; 15-34 ~27%, 65+ ~22%; most deprived ~2x least; ~29% admitted",
           "NHS Digital Hospital A&E Activity 2019-20",
           (Check("ae_per_1000", 380, 500), Check("ae_share_15_34", 0.22, 0.32),
            Check("ae_share_65_plus", 0.17, 0.27), Check("ae_most_vs_least_deprived", 1.5, 2.5),
            Check("ae_admitted_share", 0.24, 0.34))),
    Target("DNA ~5%, rising with lead time (1.9% same day to ~8.5% beyond a week)",
           "NHS Digital Appointments in General Practice",
           (Check("dna_rate", 0.04, 0.06),)),
)


def measure_table(patients: pd.DataFrame) -> pd.DataFrame:
    """Every measure per replicate: index measure, columns replicate."""
    out = {}
    for rep, p in patients.groupby("replicate"):
        p = p.copy()  # its own attrs cache
        out[rep] = {name: fn(p) for name, fn in MEASURES.items()}
    return pd.DataFrame(out)


def fit_table(patients: pd.DataFrame, targets=TARGETS) -> pd.DataFrame:
    """One row per check: target, source, measure, range, model mean and 95% interval, in range or not."""
    values = measure_table(patients)
    rows = []
    for t in targets:
        for c in t.checks:
            mean, lo, hi = metrics.interval(values.loc[c.measure].to_numpy())
            rows.append({"target": t.name, "source": t.source, "measure": c.measure, "low": c.low, "high": c.high,
                         "model": mean, "model_low_95": lo, "model_high_95": hi, "in_range": c.low <= mean <= c.high})
    return pd.DataFrame(rows)
