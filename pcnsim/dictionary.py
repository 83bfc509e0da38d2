"""The data dictionary of the results on disk: every column of every file, with its type, unit and meaning.

One source for three readers: the Parquet files carry each column's description and unit as field
metadata, `datapackage.json` (a Frictionless data-package descriptor) lists every file's fields for tools
such as Power BI, R or the frictionless library, and the documentation's results page is generated from
it. The values of the `metric` columns are described by the metric registry (`pcnsim.registry`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .vocab import COUNTER_NAMES, ROLE_LABELS, ROLES, SETTINGS


@dataclass(frozen=True)
class Column:
    """One column of a results file. `kind` is a Frictionless field type (integer, number, string, boolean,
    date)."""

    name: str
    kind: str
    unit: str
    description: str


_COUNTER_WORDS = {
    "dna": ("appointments", "booked contacts not attended"),
    "revisits": ("contacts", "primary-care contacts that were not the first of their need episode"),
    "unmet_days": ("episode-days", "days a need episode was open without a contact"),
    "requests": ("requests", "requests for primary care"),
    "unserved_requests": ("requests", "requests no unit could book on the day asked"),
    "ae_primary_care_sensitive": ("attendances", "A&E attendances tied to an open need episode"),
    "episodes_opened": ("episodes", "need episodes started"),
    "clustered_contacts": ("contacts", "primary-care contacts that were at least the 4th within 30 days"),
    "mdt_enrolled_months": ("months", "months begun on the complex-care team's caseload"),
    "gp_usual": ("contacts", "GP contacts with the person's usual GP (part of `gp`; gp_usual / gp is their "
                 "continuity index, UPC)"),
}
assert set(_COUNTER_WORDS) == set(COUNTER_NAMES)

REPLICATE = Column("replicate", "integer", "", "replicate index, from 0")
YEAR = Column("year", "integer", "reported year", "reported year, from 0 (burn-in years are not reported)")
WEEK = Column("week", "integer", "reported week", "reported week, from 0 (52 a year)")
WEEK_START = Column("week_start", "date", "", "the date the week starts (weeks run on from simulation.start_date)")
FINANCIAL_YEAR = Column("financial_year", "string", "", "the NHS financial year (April to March) the week starts "
                        "in, e.g. 2025/26")
YEAR_START = Column("year_start", "date", "", "the date the reported model year (52 weeks) starts")
UNIT = Column("unit", "string", "", "a practice, a PCN's network pool, or a network of networks' shared pool")
ODS_CODE = Column("ods_code", "string", "", "the practice's ODS code (empty for a pool, or where the scenario "
                  "gives none)")
PCN_CODE = Column("pcn_code", "string", "", "the PCN's ODS code (empty where the scenario gives none)")
ROLE = Column("role", "string", "", "the staff role")


def _touchpoints() -> list[Column]:
    columns = [Column(role, "integer", "contacts", f"attended contacts with the {ROLE_LABELS[role]} in the year")
               for role in ROLES]
    columns += [Column("ae", "integer", "attendances", "A&E attendances in the year"),
                Column("admission", "integer", "admissions", "emergency admissions in the year"),
                Column("outpatient", "integer", "referrals", "outpatient referrals in the year")]
    assert [c.name for c in columns] == list(SETTINGS)
    return columns


TABLES: dict[str, list[Column]] = {
    "summary.parquet": [
        REPLICATE, YEAR, YEAR_START,
        Column("metric", "string", "", "the metric (pcnsim metrics lists every one, with its unit)"),
        Column("value", "number", "the metric's unit", "the metric's value for the replicate-year"),
    ],
    "series.parquet": [
        REPLICATE, WEEK, WEEK_START, FINANCIAL_YEAR,
        Column("practice", "string", "", "practice name, or 'all' for the sum over practices"),
        ODS_CODE, PCN_CODE,
        Column("metric", "string", "", "what is counted (touchpoints by setting, patient counters, events)"),
        Column("value", "number", "count a week", "the count in the week"),
    ],
    "financial_years.parquet": [
        REPLICATE, FINANCIAL_YEAR,
        Column("weeks", "integer", "weeks", "weeks of the financial year in the run (a week counts in the year "
               "it starts in; fewer than 52 at either end of a run)"),
        Column("practice", "string", "", "practice name, or 'all' for the sum over practices"),
        ODS_CODE, PCN_CODE,
        Column("metric", "string", "", "what is counted (touchpoints by setting, patient counters, events)"),
        Column("value", "number", "count a financial year", "the count over the year's weeks in the run"),
    ],
    "patients_yearly.parquet": [
        REPLICATE, YEAR,
        Column("patient_id", "integer", "", "person id (a person taking a freed list slot gets a new id)"),
        Column("practice", "string", "", "practice the person is registered with"),
        Column("pcn", "string", "", "the practice's primary care network"),
        ODS_CODE, PCN_CODE,
        Column("age", "integer", "years", "age at the year's end, or on the day the person died or left"),
        Column("sex", "string", "", "male or female"),
        Column("deprivation", "integer", "quintile", "deprivation quintile: 1 most deprived, 5 least"),
        Column("segment", "string", "", "needs segment: well, ltc, frail, multimorbid, struggling, young_distress"),
        Column("complexity", "integer", "level 0-3", "complexity at the year's end (or on leaving)"),
        Column("registered_days", "integer", "days", "days registered in the year (364: the whole year)"),
        Column("exit", "string", "", "none, died or left"),
        *_touchpoints(),
        Column("primary_care_contacts", "integer", "contacts",
               "attended contacts with every practice or network role except community nursing"),
        *(Column(name, "integer", unit, words) for name, (unit, words) in _COUNTER_WORDS.items()),
        Column("fa_top10", "boolean", "", "frequent attender: top 10% by primary-care contacts within age band "
               "and sex (people registered all year)"),
        Column("fa_12plus", "boolean", "", "frequent attender: 12 or more primary-care contacts in the year"),
        Column("fa_30day", "boolean", "", "frequent attender: more than 3 primary-care contacts in a 30-day window"),
        Column("complex_needs", "boolean", "", "complexity 2 or 3"),
    ],
    "capacity.parquet": [
        REPLICATE, WEEK, WEEK_START, FINANCIAL_YEAR, UNIT, ODS_CODE, PCN_CODE, ROLE,
        Column("offered", "integer", "slots a week", "appointment slots offered"),
        Column("used", "integer", "slots a week", "slots booked (attended or not)"),
    ],
    "staff.parquet": [
        REPLICATE, YEAR, YEAR_START, UNIT, ODS_CODE, PCN_CODE, ROLE,
        Column("fte", "number", "FTE-years", "staff in post over the year (FTE x the share of the year in post)"),
        Column("cost", "number", "GBP a year", "their employment cost: FTE-years x the role's cost per FTE-year"),
    ],
    "ledger.parquet": [
        REPLICATE,
        Column("day", "integer", "day", "day of the touchpoint, from the first reported day"),
        Column("date", "date", "", "the date of the touchpoint"),
        Column("patient_id", "integer", "", "person id"),
        Column("setting", "string", "", "role seen, or ae, admission or outpatient"),
        Column("unit", "string", "", "the practice or pool that gave the contact (empty for hospital settings)"),
        Column("need", "string", "", "the need episode's type (empty for attendances not tied to one)"),
        Column("outcome", "string", "", "resolved, revisit, dna or no_episode"),
        Column("urgency", "string", "", "routine, same_day or urgent"),
        Column("episode_slot", "integer", "", "which of the patient's open-episode slots it concerned"),
    ],
}


# A comparison's folder (`pcnsim compare`): the paired differences, who they change, every replicate's
# values and the base's fit to the evidence.
SCENARIO = Column("scenario", "string", "", "the scenario compared with the base (its name)")
INTERVAL = [Column("low_95", "number", "the metric's unit", "lower end of the 95% interval of the paired "
                   "difference (t over replicates)"),
            Column("high_95", "number", "the metric's unit", "upper end of the 95% interval of the paired difference")]
COMPARISON_TABLES: dict[str, list[Column]] = {
    "comparison.parquet": [
        SCENARIO,
        Column("metric", "string", "", "the metric (pcnsim metrics lists every one, with its label and unit)"),
        Column("base", "number", "the metric's unit", "the base's value, mean over replicates"),
        Column("value", "number", "the metric's unit", "the scenario's value, mean over replicates"),
        Column("diff", "number", "the metric's unit", "mean paired difference, scenario minus base, over "
               "replicates run with the same seeds"),
        *INTERVAL,
    ],
    "by_group.parquet": [
        SCENARIO,
        Column("by", "string", "", "how people are grouped: age_band, sex, deprivation, practice, pcn, segment, "
               "complex_needs, or cohort (the lever's own cohort, e.g. the complex-care caseload)"),
        Column("group", "string", "", "the group (an age band, male or female, a quintile, a practice or PCN name, "
               "complex or not complex)"),
        Column("ods_code", "string", "", "the practice's or PCN's ODS code on practice and pcn rows (empty "
               "elsewhere, or where the scenario gives none)"),
        Column("measure", "string", "", "what is counted, per 1,000 person-years in the group (primary-care "
               "contacts, GP contacts, A&E attendances, admissions, unmet-need days, revisits)"),
        Column("base", "number", "per 1,000 person-years", "the base's rate in the group, mean over replicates"),
        Column("diff", "number", "per 1,000 person-years", "mean paired difference of the rate, scenario minus base"),
        Column("low_95", "number", "per 1,000 person-years", "lower end of the 95% interval of the difference"),
        Column("high_95", "number", "per 1,000 person-years", "upper end of the 95% interval of the difference"),
    ],
    "per_replicate.parquet": [
        Column("scenario", "string", "", "the scenario (the base included)"),
        Column("metric", "string", "", "the metric (pcnsim metrics lists every one)"),
        Column("replicate", "integer", "", "replicate index, from 0; the same index means the same seeds"),
        Column("value", "number", "the metric's unit", "the metric in that replicate, reported years pooled"),
    ],
    "fit.parquet": [
        Column("target", "string", "", "the evidence target checked"),
        Column("source", "string", "", "where the target's figure comes from"),
        Column("measure", "string", "", "what is measured on the base's per-patient table"),
        Column("low", "number", "the measure's unit", "the lower end of the target's range"),
        Column("high", "number", "the measure's unit", "the upper end of the target's range"),
        Column("model", "number", "the measure's unit", "the base's value, mean over replicates"),
        Column("model_low_95", "number", "the measure's unit", "lower end of its 95% interval over replicates"),
        Column("model_high_95", "number", "the measure's unit", "upper end of its 95% interval over replicates"),
        Column("in_range", "boolean", "", "whether the model's mean lies in the target's range"),
    ],
}
COMPARISON_TABLES["comparison.csv"] = COMPARISON_TABLES["comparison.parquet"]  # the same table, for a spreadsheet
TABLES |= COMPARISON_TABLES


def write(frame: pd.DataFrame, path: Path) -> None:
    """Write a table to Parquet with each column's description and unit from the dictionary as field
    metadata (the file's name says which entry)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    described = field_metadata(path.name)
    table = table.cast(pa.schema([f.with_metadata(described[f.name]) if f.name in described else f
                                  for f in table.schema], metadata=table.schema.metadata))
    pq.write_table(table, path)


def columns(file: str) -> list[Column]:
    """The columns of a results file, in order (KeyError naming the file if it has no entry)."""
    try:
        return TABLES[file]
    except KeyError:
        raise KeyError(f"no data-dictionary entry for {file!r}") from None


def code_categories(values: list[str | None]) -> pd.Index:
    """The categories of an ODS-code column: the codes given, sorted (a missing code is null, not a category)."""
    return pd.Index(sorted({v for v in values if v}), dtype=object)


def codes(values: list[str | None], rows: np.ndarray) -> pd.Categorical:
    """An ODS-code column: `values[rows]`, stored as string categories with null where there is no code."""
    return pd.Categorical(values, categories=code_categories(values)).take(rows)


def dates(days: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A date column from numpy datetime64[D] values, stored as calendar dates (Parquet DATE), not times."""
    return pd.array(pa.array(np.asarray(days, "datetime64[D]")), dtype=pd.ArrowDtype(pa.date32()))


def field_metadata(file: str) -> dict[str, dict[bytes, bytes]]:
    """Per column, the Parquet field metadata to write: description and unit."""
    return {c.name: {b"description": c.description.encode(), b"unit": c.unit.encode()} for c in columns(file)}


def datapackage(files: list[str], name: str) -> dict:
    """A Frictionless data-package descriptor of the given results files (those with a dictionary entry)."""
    resources = []
    for file in files:
        if file not in TABLES:
            continue
        fields = [{"name": c.name, "type": c.kind, "description": c.description, **({"unit": c.unit} if c.unit
                                                                                     else {})}
                  for c in TABLES[file]]
        stem, _, suffix = file.rpartition(".")
        resources.append({"name": f"{stem}-{suffix}".replace("_", "-") if suffix == "csv" else stem.replace("_", "-"),
                          "path": file, "format": suffix, "schema": {"fields": fields}})
    return {"name": name.lower().replace("_", "-").replace(" ", "-"), "profile": "data-package",
            "resources": resources}
