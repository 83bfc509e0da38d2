"""The data dictionary of the results on disk: every column of every file, with its type, unit and meaning.

One source for three readers: the Parquet files carry each column's description and unit as field
metadata, `datapackage.json` (a Frictionless data-package descriptor) lists every file's fields for tools
such as Power BI, R or the frictionless library, and the documentation's results page is generated from
it. The values of the `metric` columns are described by the metric registry (`pcnsim.registry`).

Entries are found by file name (`columns`) for a run's and a comparison's tables, and by folder kind and
file name (`entry`) for every kind of results folder. Some experiment tables have a column per swept
parameter, metric or placed role: their entries hold a pattern column, named by a placeholder such as
`<parameter>`, which `expand` replaces with the experiment's own columns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import atomic
from .vocab import COUNTER_NAMES, ROLE_LABELS, ROLES, SETTINGS


@dataclass(frozen=True)
class Column:
    """One column of a results file. `kind` is a Frictionless field type (integer, number, string, boolean,
    date). A pattern column (`each` given) stands for several: `name` is a placeholder such as `<metric>`
    and `each` says in words which columns it stands for; each has the pattern's type, unit and description."""

    name: str
    kind: str
    unit: str
    description: str
    each: str = ""


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
def fit(whose: str) -> list[Column]:
    """The columns of a fit to the evidence targets (`pcnsim.targets.fit_table`) of `whose` per-patient table
    (the comparison's base, or the scenario a calibration fitted)."""
    return [
        Column("target", "string", "", "the evidence target checked"),
        Column("source", "string", "", "where the target's figure comes from"),
        Column("measure", "string", "", f"what is measured on the {whose}'s per-patient table"),
        Column("low", "number", "the measure's unit", "the lower end of the target's range"),
        Column("high", "number", "the measure's unit", "the upper end of the target's range"),
        Column("model", "number", "the measure's unit", f"the {whose}'s value, mean over replicates"),
        Column("model_low_95", "number", "the measure's unit", "lower end of its 95% interval over replicates"),
        Column("model_high_95", "number", "the measure's unit", "upper end of its 95% interval over replicates"),
        Column("in_range", "boolean", "", "whether the model's mean lies in the target's range"),
    ]


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
               "a needs segment, complex or not complex, or the cohort's name)"),
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
    "fit.parquet": fit("base"),
}
COMPARISON_TABLES["comparison.csv"] = COMPARISON_TABLES["comparison.parquet"]  # the same table, for a spreadsheet
RUN_TABLES = dict(TABLES)
TABLES |= COMPARISON_TABLES


# An experiment's folder: a sweep's (`pcnsim sweep`), an optimisation's (`pcnsim optimise`) and a
# calibration's (`pcnsim calibrate`). Their pattern columns stand for the experiment's parameters, metrics
# and placed roles (`expand`).
PARAMETER = Column("<parameter>", "number", "the parameter's unit (x: a value, or a multiplier for a scale "
                   "parameter)", "the swept parameter's value x at the design point",
                   "one column per swept parameter, named by its `name` (else its path), in the experiment's order")
METRIC = Column("<metric>", "number", "the metric's unit", "the metric's value in the run, reported years pooled",
                "one column per metric the experiment keeps (`metrics`), named by the metric, in its order")
POINT = Column("point", "integer", "", "design point index, from 0 (the order of the design)")
SENSITIVITY_INDICES = {  # the index columns of sensitivity.csv, by design
    "sobol_indices": ("S1", "S1_conf", "ST", "ST_conf"),
    "morris": ("mu_star", "mu_star_conf", "sigma", "mu"),
}
SWEEP_TABLES: dict[str, list[Column]] = {
    "results.parquet": [
        Column("run_id", "string", "", "the run, e.g. p00003-r001 for point 3, replicate 1 (its record in runs/ "
               "is named so)"),
        POINT,
        Column("replicate", "integer", "", "replicate index, from 0; the same index means the same seeds at every "
               "point"),
        Column("seed", "integer", "", "the replicate's seed, spawned from the experiment's root seed"),
        PARAMETER,
        METRIC,
    ],
    "summary.parquet": [
        POINT,
        PARAMETER,
        Column("metric", "string", "", "the metric (pcnsim metrics lists every one, with its label and unit)"),
        Column("mean", "number", "the metric's unit", "the metric's mean over the point's replicates"),
        Column("low_95", "number", "the metric's unit", "lower end of the mean's 95% interval (t over replicates)"),
        Column("high_95", "number", "the metric's unit", "upper end of the mean's 95% interval"),
    ],
    "sensitivity.csv": [
        Column("metric", "string", "", "the metric analysed (the experiment's `sensitivity`, else every metric)"),
        Column("parameter", "string", "", "the swept parameter, by its name (else its path)"),
        Column("<index>", "number", "a share of the metric's variance (Sobol), or the metric's unit per the "
               "parameter's range (Morris)", "the parameter's sensitivity index for the metric, from the "
               "replicate means of the design points (SALib)",
               "for a sobol_indices design S1 (first-order index: the share of the metric's variance due to the "
               "parameter alone), ST (total-order index: the share with its interactions), and S1_conf, ST_conf "
               "(half-widths of their 95% confidence intervals); for a morris design mu_star (mean absolute "
               "elementary effect: how much the parameter moves the metric), mu (mean signed effect), sigma "
               "(spread of the effects: interactions or a curve) and mu_star_conf (half-width of mu_star's 95% "
               "confidence interval); in the order S1, S1_conf, ST, ST_conf or mu_star, mu_star_conf, sigma, mu"),
    ],
}
SWEEP_TABLES["results.csv"] = SWEEP_TABLES["results.parquet"]  # the same tables, for a spreadsheet
SWEEP_TABLES["summary.csv"] = SWEEP_TABLES["summary.parquet"]

OPTIMISE_TABLES: dict[str, list[Column]] = {
    "trials.csv": [
        Column("label", "string", "", "the allocation: 'policy: ' and its name for a simple policy (e.g. "
               "'policy: pooled'), 'trial ' and its number for one the optimiser chose"),
        Column("kind", "string", "", "policy or trial"),
        Column("objective", "number", "the objective's unit (the weighted sum of its metrics)",
               "the objective, mean over replicates (lower is better)"),
        Column("low_95", "number", "the objective's unit", "lower end of the objective's 95% interval over "
               "replicates"),
        Column("high_95", "number", "the objective's unit", "upper end of the objective's 95% interval"),
        Column("staff_cost", "number", "GBP a year", "employment cost of the placed roles in the allocation"),
        Column("<metric>", "number", "the metric's unit", "the objective's metric, mean over replicates",
               "one column per metric in the objective, named by the metric, in the objective's order"),
        Column("<role>@<unit>", "number", "FTE", "staff of the role placed at the unit",
               "one column per placed role and unit (each practice, then each network pool), e.g. splw@North"),
    ],
    "validation.csv": [
        Column("policy", "string", "", "the simple policy the best allocation is compared with"),
        Column("measure", "string", "", "objective, or one of the objective's metrics"),
        Column("policy_value", "number", "the measure's unit", "the policy's value, mean over the fresh replicates"),
        Column("best_value", "number", "the measure's unit", "the best allocation's value, mean over the fresh "
               "replicates"),
        Column("diff", "number", "the measure's unit", "mean paired difference, best minus policy, over replicates "
               "run with the same fresh seeds"),
        Column("low_95", "number", "the measure's unit", "lower end of the difference's 95% interval"),
        Column("high_95", "number", "the measure's unit", "upper end of the difference's 95% interval"),
    ],
}

CALIBRATE_TABLES: dict[str, list[Column]] = {
    "fit.parquet": fit("fitted scenario"),
    "parameters.parquet": [
        Column("path", "string", "", "the free parameter: a dotted path into the scenario"),
        Column("kind", "string", "", "value (x sets the leaves) or scale (x multiplies the base values)"),
        Column("low", "number", "x", "the lower bound of x"),
        Column("high", "number", "x", "the upper bound of x"),
        Column("start", "number", "x", "x at the start of the fit"),
        Column("fitted", "number", "x", "x at the best evaluation: the value the fitted scenario holds"),
    ],
    "evaluations.parquet": [
        Column("evaluation", "integer", "", "the evaluation's number, from 1, in the order run"),
        Column("cost", "number", "", "least-squares cost: half the sum of squared residuals over the target "
               "checks (0: every check in the middle half of its range)"),
        Column("<path>", "number", "x (a value, or a multiplier for a scale parameter)", "the parameter's x in "
               "this evaluation", "one column per free parameter, named by its path, in the experiment's order"),
    ],
}

FOLDERS: dict[str, dict[str, list[Column]]] = {  # by the kind its manifest names
    "results": RUN_TABLES, "compare": COMPARISON_TABLES, "sweep": SWEEP_TABLES, "optimise": OPTIMISE_TABLES,
    "calibrate": CALIBRATE_TABLES,
}


def entry(kind: str, file: str) -> list[Column]:
    """The entry of a file in a results folder of this kind (as its manifest names it), pattern columns
    included (KeyError naming the file if it has none)."""
    try:
        return FOLDERS[kind][file]
    except KeyError:
        raise KeyError(f"no data-dictionary entry for {file!r} in a {kind} folder") from None


def expand(described: list[Column], names: dict[str, list[str]]) -> list[Column]:
    """An entry's columns in one experiment's table: each pattern column replaced by one column per name the
    experiment gives its placeholder (`names`, e.g. {"<metric>": ["ae_per_1000", ...]}), in order."""
    out = []
    for c in described:
        out += [replace(c, name=n, each="") for n in names[c.name]] if c.each else [c]
    return out


ARROW = {"integer": pa.int64(), "number": pa.float64(), "string": pa.string(), "boolean": pa.bool_(),
         "date": pa.date32()}  # each kind's Parquet type, for a column pandas leaves untyped


def write(frame: pd.DataFrame, path: Path, described: list[Column] | None = None) -> None:
    """Write a table atomically, as Parquet with each column's description and unit as field metadata, or
    as CSV, by the path's suffix. described: its columns (default: the entry of the file's name); the frame
    must have exactly these, in order, so no file holds a column the dictionary does not describe."""
    described = columns(path.name) if described is None else described
    if list(frame.columns) != [c.name for c in described]:
        raise ValueError(f"{path.name}: columns {list(frame.columns)} are not those the data dictionary "
                         f"describes, {[c.name for c in described]}")
    if path.suffix == ".csv":
        atomic.write_text(path, frame.to_csv(index=False))
        return
    table = pa.Table.from_pandas(frame, preserve_index=False)
    kinds = {c.name: c.kind for c in described}
    metadata = {c.name: {b"description": c.description.encode(), b"unit": c.unit.encode()} for c in described}
    # a column with no value at all (no ODS codes in the scenario) is still stored as the type it is said to be
    table = table.cast(pa.schema([(f.with_type(ARROW[kinds[f.name]]) if pa.types.is_null(f.type) else f)
                                  .with_metadata(metadata[f.name]) for f in table.schema],
                                 metadata=table.schema.metadata))
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    atomic.write_bytes(path, sink.getvalue().to_pybytes())


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


def datapackage(files: list[str], name: str, described: dict[str, list[Column]] | None = None) -> dict:
    """A Frictionless data-package descriptor of the given results files: those in `described` (file -> its
    columns, e.g. an experiment's expanded entries), else those with an entry by file name (`columns`)."""
    described = described or {}
    resources = []
    for file in files:
        cols = described.get(file, TABLES.get(file))
        if cols is None:
            continue
        fields = [{"name": c.name, "type": c.kind, "description": c.description, **({"unit": c.unit} if c.unit
                                                                                     else {})}
                  for c in cols]
        stem, _, suffix = file.rpartition(".")
        resources.append({"name": f"{stem}-{suffix}".replace("_", "-") if suffix == "csv" else stem.replace("_", "-"),
                          "path": file, "format": suffix, "schema": {"fields": fields}})
    return {"name": name.lower().replace("_", "-").replace(" ", "-"), "profile": "data-package",
            "resources": resources}


def write_datapackage(folder: Path, described: dict[str, list[Column]], name: str) -> None:
    """Write `folder`/datapackage.json (atomically) for the tables in `described` the folder holds. Before
    the folder's manifest, which lists it."""
    files = sorted(f for f in described if (folder / f).is_file())
    atomic.write_text(folder / "datapackage.json", json.dumps(datapackage(files, name, described), indent=1))
