"""Paired scenario comparisons with common random numbers.

Every scenario runs with the same root seed, hence the same replicate seeds, and every random draw is
keyed by (stream, person, day, k): a lever changes only what it touches, the rest of each replicate
happens as in the baseline. Differences are taken replicate by replicate (years pooled) and reported
with a 95% t-interval over replicates, so they are far less noisy than comparing independent runs.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .. import churn, dictionary, metrics, outdir, provenance, targets, verify
from ..registry import GROUP_COLUMNS
from ..registry import KEY_METRICS as KEY_METRICS  # the measures a comparison shows first
from ..results import WEEKLY_METRICS, Results
from ..run import resolve_scenario, run
from ..scenario import Scenario, to_yaml
from ..vocab import DAYS_PER_YEAR

MINUTES_PER_GP_SLOT = 15.0  # 28 contacts in a 7-hour clinical day


def paired_interval(diffs: np.ndarray) -> tuple[float, float, float]:
    """Mean paired difference and its 95% t-interval over replicates (the mean alone for one replicate)."""
    d = np.asarray(diffs, float)
    d = d[~np.isnan(d)]
    if d.size == 0:
        return np.nan, np.nan, np.nan
    if d.size == 1 or np.all(d == d[0]):
        return float(d.mean()), float(d.mean()), float(d.mean())
    half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half)


# Frequent-attender churn per definition (`pcnsim.churn`), as comparison and sweep metrics: churn table
# metric -> name suffix. Persistence and inflow need two reported years.
CHURN_METRICS = {"prevalence": "prevalence", "share_of_contacts": "share_of_contacts", "persist": "persistence",
                 "inflow_share": "inflow_share"}
CHURN_NAMES = tuple(f"fa_{d}_{suffix}" for d in churn.DEFINITIONS for suffix in CHURN_METRICS.values())


def replicate_metric_names() -> list[str]:
    """Every metric `per_replicate` can report."""
    return [*metrics.METRIC_NAMES, "gp_home_visits_per_1000", "gp_hours_on_home_visits_per_1000",
            "staff_cost_per_person", "net_cost_per_person", *CHURN_NAMES]


def per_replicate(res: Results, wanted: list[str] | None = None) -> pd.DataFrame:
    """Metric x replicate (years pooled), plus GP home visits and the GP hours they take, per 1,000, the cost
    of the staff in post and the net cost (care contacts plus staff) per person-year, and frequent-attender
    churn by definition (with the per-patient table; only when `wanted` names a churn metric, or when
    `wanted` is None)."""
    summary = res.summary()
    table = summary.groupby(["metric", "replicate"])["value"].mean().unstack("replicate")
    if res.staff_fte is not None and res.staff_fte.shape[1]:
        staff = res.staff_costs().groupby(["replicate", "year"])["cost"].sum()
        years = summary[summary["metric"] == "person_years"].set_index(["replicate", "year"])["value"]
        per_person = (staff / years.reindex(staff.index)).groupby("replicate").mean()
        table.loc["staff_cost_per_person"] = per_person.reindex(table.columns).to_numpy()
        table.loc["net_cost_per_person"] = table.loc["cost_per_person"] + table.loc["staff_cost_per_person"]
    if res.patient_tables and (wanted is None or any(m in CHURN_NAMES for m in wanted)):
        churned = churn.churn_table(res.patients)
        churned = churned[churned["metric"].isin(CHURN_METRICS)]
        for (definition, name), values in churned.groupby(["definition", "metric"]):
            by_replicate = values.groupby("replicate")["value"].mean()
            table.loc[f"fa_{definition}_{CHURN_METRICS[name]}"] = by_replicate.reindex(table.columns).to_numpy()
    visits = res.weekly[..., WEEKLY_METRICS.index("gp_home_visits")].sum(axis=(1, 2))
    person_years = res.scenario.n_patients * res.weekly.shape[1] / 52
    slots = res.scenario.booking.home_visit_slots
    table.loc["gp_home_visits_per_1000"] = 1000 * visits / person_years
    table.loc["gp_hours_on_home_visits_per_1000"] = 1000 * visits * slots * MINUTES_PER_GP_SLOT / 60 / person_years
    return table


COHORT = "on the complex-care caseload"


def group_rates(res: Results, cohort: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rates per 1,000 person-years by replicate and group (age band, sex, deprivation, practice, PCN, needs
    segment, complex needs), and for `cohort` (replicate, patient_id: the lever's own cohort) if given."""
    p = res.patients.assign(age_band=metrics.age_band(res.patients["age"]).astype(str),
                            complex_needs=np.where(res.patients["complexity"] >= 2, "complex", "not complex"))
    if cohort is not None:
        member = pd.MultiIndex.from_frame(p[["replicate", "patient_id"]]).isin(
            pd.MultiIndex.from_frame(cohort[["replicate", "patient_id"]]))
        p = p.assign(cohort=np.where(member, COHORT, ""))
    frames = []
    for by in ("age_band", "sex", "deprivation", "practice", "pcn", "segment", "complex_needs",
               *(("cohort",) if cohort is not None else ())):
        g = p.groupby(["replicate", by], observed=True)
        py = g["registered_days"].sum() / DAYS_PER_YEAR
        rates = pd.DataFrame({c: 1000.0 * g[c].sum().astype(np.float64) / py for c in GROUP_COLUMNS}).reset_index()
        frames.append(rates.rename(columns={by: "group"}).assign(by=by, group=lambda d: d["group"].astype(str)))
    out = pd.concat(frames, ignore_index=True)
    return out[~((out["by"] == "cohort") & (out["group"] == ""))]


def lever_cohort(res: Results) -> pd.DataFrame | None:
    """The people a lever works with, by replicate (replicate, patient_id), where it has such a cohort: those
    on the complex-care team's caseload at some time in the run. None for levers without one."""
    if not res.scenario.levers.complex_care.enabled or res.patients is None:
        return None
    p = res.patients
    return p.loc[p["mdt_enrolled_months"] > 0, ["replicate", "patient_id"]].drop_duplicates()


@dataclass
class Comparison:
    """The baseline, each other scenario, and their paired differences."""

    results: dict[str, Results]
    base: str
    table: pd.DataFrame  # scenario, metric, base, value, diff, low_95, high_95
    groups: pd.DataFrame  # scenario, by, group, measure, base, diff, low_95, high_95
    values: dict[str, pd.DataFrame]  # each scenario's metric x replicate table (`per_replicate`)

    started: float | None = None  # when the comparison began (time.time()), for the manifest's provenance

    def save(self, path: str | Path, overwrite: bool = False, claim: outdir.Claim | None = None) -> Path:
        """Write the comparison folder atomically (a temporary sibling, then swapped in; `pcnsim.outdir`):
        comparison.csv/.parquet (each metric's paired difference), comparison.png (the key measures' changes),
        by_group.parquet (who it changes), per_replicate.parquet (every scenario's value of every metric in
        each replicate), fit.parquet (the base's fit to the calibration targets, when it kept its per-patient
        table), comparison.json (what was compared: names, descriptions, seeds, replicates, years, list
        size), scenario_<name>.yaml (each scenario as it ran, root seed included) and manifest.json.

        An existing non-empty folder is replaced only with overwrite=True and only if pcnsim wrote it.
        claim: the output already claimed by the caller (the command line claims it before simulating)."""
        return outdir.write_folder(Path(path), self._write, overwrite, claim, what="comparison directory")

    def _write(self, out: Path) -> None:
        from .. import plots  # matplotlib, only when a comparison is saved

        dictionary.write(self.table, out / "comparison.csv")
        dictionary.write(self.table, out / "comparison.parquet")
        plots.save(plots.comparison(self.table, KEY_METRICS), out / "comparison.png")
        dictionary.write(self.groups, out / "by_group.parquet")
        values = []
        for name, table in self.values.items():
            long = table.rename_axis("metric").reset_index().melt(id_vars="metric", var_name="replicate",
                                                                   value_name="value")
            values.append(long.assign(scenario=name)[["scenario", "metric", "replicate", "value"]])
        dictionary.write(pd.concat(values, ignore_index=True), out / "per_replicate.parquet")
        base = self.results[self.base]
        if base.patient_tables:
            dictionary.write(targets.fit_table(base.patients), out / "fit.parquet")
        dictionary.write_datapackage(out, dictionary.COMPARISON_TABLES, "comparison")
        files = {name: f"scenario_{_file_name(name)}.yaml" for name in self.results}
        for name, res in self.results.items():
            scenario = res.scenario.model_copy(deep=True)
            scenario.simulation.seed = res.root_seed
            (out / files[name]).write_text(to_yaml(scenario), encoding="utf-8")
        about = {
            "base": self.base,
            "scenarios": {name: {"description": res.scenario.description, "file": files[name]}
                          for name, res in self.results.items()},
            "root_seed": base.root_seed, "replicate_seeds": base.seeds, "replicates": base.replicates,
            "years": base.scenario.simulation.years, "burn_in_years": base.scenario.simulation.burn_in_years,
            "patients": base.scenario.n_patients, "pcns": len(base.scenario.pcns),
        }
        (out / "comparison.json").write_text(json.dumps(about, indent=1), encoding="utf-8")
        origin = provenance.collect(self.started, {"root": base.root_seed, "replicates": base.seeds},
                                    list(files.values()))
        verify.write_manifest(out, "compare", origin)


def _file_name(name: str) -> str:
    """A scenario name as a file name (letters, digits, '-', '_' and '.')."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "scenario"


def compare(base: Scenario | str | Path, others: list, seed: int | None = None, years: int | None = None,
            reps: int = 5, progress=None, patients: bool = True, threads: int | None = None) -> Comparison:
    """Run the baseline and each other scenario on the same replicate seeds; pair their differences.

    patients=False keeps no per-patient tables (for very large places): who a change reaches (`groups`)
    and frequent-attender churn are then left out. threads: as `pcnsim.run.run`'s."""
    scenarios = [resolve_scenario(s, years) for s in [base, *others]]
    names = [sc.name for sc in scenarios]
    if len(set(names)) != len(names):  # keep results apart when two files share a name
        names = [f"{n}#{i}" if names.count(n) > 1 else n for i, n in enumerate(names)]
    root = scenarios[0].simulation.seed if seed is None else seed
    began = time.time()
    results = {name: run(sc, seed=root, reps=reps, progress=progress, patients=patients, threads=threads)
               for name, sc in zip(names, scenarios, strict=True)}
    base_name = names[0]
    values = {name: per_replicate(res) for name, res in results.items()}
    b = values[base_name]
    b_groups = None
    if patients:
        b_groups = group_rates(results[base_name]).set_index(["by", "group", "replicate"]).sort_index()
    rows, group_rows = [], []
    for name in names[1:]:
        o = values[name]
        for metric in b.index.intersection(o.index):
            mean, lo, hi = paired_interval((o.loc[metric] - b.loc[metric]).to_numpy())
            rows.append((name, metric, float(b.loc[metric].mean()), float(o.loc[metric].mean()), mean, lo, hi))
        if b_groups is None:
            continue
        cohort = lever_cohort(results[name])
        og = group_rates(results[name], cohort).set_index(["by", "group", "replicate"]).sort_index()
        base_groups = b_groups if cohort is None else group_rates(results[base_name], cohort).set_index(
            ["by", "group", "replicate"]).sort_index()
        diff = og[list(GROUP_COLUMNS)] - base_groups[list(GROUP_COLUMNS)]
        for (by, group), d in diff.groupby(level=["by", "group"]):
            for measure in GROUP_COLUMNS:
                mean, lo, hi = paired_interval(d[measure].to_numpy())
                base_value = float(base_groups.loc[(by, group), measure].mean())
                group_rows.append((name, by, group, measure, base_value, mean, lo, hi))
    table = pd.DataFrame(rows, columns=["scenario", "metric", "base", "value", "diff", "low_95", "high_95"])
    groups = pd.DataFrame(group_rows, columns=["scenario", "by", "group", "measure", "base", "diff", "low_95",
                                               "high_95"])
    # a practice's or a PCN's ODS code beside its name, so the rows join to NHS data
    sc = results[base_name].scenario
    codes = {("practice", p.name): p.ods_code for pcn in sc.pcns for p in pcn.practices}
    codes |= {("pcn", pcn.name): pcn.code for pcn in sc.pcns}
    groups.insert(3, "ods_code", [codes.get(key) for key in zip(groups["by"], groups["group"], strict=True)])
    return Comparison(results=results, base=base_name, table=table, groups=groups, values=values, started=began)
