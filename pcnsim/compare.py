"""Paired scenario comparisons with common random numbers.

Every scenario runs with the same root seed, hence the same replicate seeds, and every random draw is
keyed by (stream, person, day, k): a lever changes only what it touches, the rest of each replicate
happens as in the baseline. Differences are taken replicate by replicate (years pooled) and reported
with a 95% t-interval over replicates, so they are far less noisy than comparing independent runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from . import metrics
from .results import WEEKLY_METRICS, Results
from .run import resolve_scenario, run
from .scenario import Scenario
from .vocab import DAYS_PER_YEAR

KEY_METRICS = ("ae_per_1000", "revisits_per_1000", "revisit_rate", "gp_per_1000", "primary_care_contacts_per_person",
               "unmet_days_per_person", "admissions_per_1000", "unserved_requests_per_1000", "cost_per_person",
               "gp_hours_on_home_visits_per_1000")
GROUP_COLUMNS = ("primary_care_contacts", "gp", "ae", "admission", "unmet_days", "revisits")
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


def replicate_metric_names() -> list[str]:
    """Every metric `per_replicate` can report."""
    return [*metrics.METRIC_NAMES, "gp_home_visits_per_1000", "gp_hours_on_home_visits_per_1000"]


def per_replicate(res: Results) -> pd.DataFrame:
    """Metric x replicate (years pooled), plus GP home visits and the GP hours they take, per 1,000."""
    table = res.summary().groupby(["metric", "replicate"])["value"].mean().unstack("replicate")
    visits = res.weekly[..., WEEKLY_METRICS.index("gp_home_visits")].sum(axis=(1, 2))
    person_years = res.scenario.n_patients * res.weekly.shape[1] / 52
    slots = res.scenario.booking.home_visit_slots
    table.loc["gp_home_visits_per_1000"] = 1000 * visits / person_years
    table.loc["gp_hours_on_home_visits_per_1000"] = 1000 * visits * slots * MINUTES_PER_GP_SLOT / 60 / person_years
    return table


def group_rates(res: Results) -> pd.DataFrame:
    """Rates per 1,000 person-years by replicate and group (age band, sex, deprivation, practice, PCN, complex
    needs)."""
    p = res.patients.assign(age_band=metrics.age_band(res.patients["age"]).astype(str),
                            complex_needs=np.where(res.patients["complexity"] >= 2, "complex", "not complex"))
    frames = []
    for by in ("age_band", "sex", "deprivation", "practice", "pcn", "complex_needs"):
        g = p.groupby(["replicate", by], observed=True)
        py = g["registered_days"].sum() / DAYS_PER_YEAR
        rates = pd.DataFrame({c: 1000 * g[c].sum() / py for c in GROUP_COLUMNS}).reset_index()
        frames.append(rates.rename(columns={by: "group"}).assign(by=by, group=lambda d: d["group"].astype(str)))
    return pd.concat(frames, ignore_index=True)


@dataclass
class Comparison:
    """The baseline, each other scenario, and their paired differences."""

    results: dict[str, Results]
    base: str
    table: pd.DataFrame  # scenario, metric, base, value, diff, low_95, high_95
    groups: pd.DataFrame  # scenario, by, group, measure, base, diff, low_95, high_95

    def save(self, out: str | Path) -> Path:
        """comparison.csv/.parquet and by_group.parquet (plus a figure, written by the caller) in `out`."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        self.table.to_csv(out / "comparison.csv", index=False)
        self.table.to_parquet(out / "comparison.parquet", index=False)
        self.groups.to_parquet(out / "by_group.parquet", index=False)
        return out


def compare(base: Scenario | str | Path, others: list, seed: int | None = None, years: int | None = None,
            reps: int = 5, progress=None) -> Comparison:
    """Run the baseline and each other scenario on the same replicate seeds; pair their differences."""
    scenarios = [resolve_scenario(s, years) for s in [base, *others]]
    names = [sc.name for sc in scenarios]
    if len(set(names)) != len(names):  # keep results apart when two files share a name
        names = [f"{n}#{i}" if names.count(n) > 1 else n for i, n in enumerate(names)]
    root = scenarios[0].simulation.seed if seed is None else seed
    results = {name: run(sc, seed=root, reps=reps, progress=progress) for name, sc in zip(names, scenarios,
                                                                                           strict=True)}
    base_name = names[0]
    b = per_replicate(results[base_name])
    b_groups = group_rates(results[base_name]).set_index(["by", "group", "replicate"]).sort_index()
    rows, group_rows = [], []
    for name in names[1:]:
        o = per_replicate(results[name])
        for metric in b.index.intersection(o.index):
            mean, lo, hi = paired_interval((o.loc[metric] - b.loc[metric]).to_numpy())
            rows.append((name, metric, float(b.loc[metric].mean()), float(o.loc[metric].mean()), mean, lo, hi))
        og = group_rates(results[name]).set_index(["by", "group", "replicate"]).sort_index()
        diff = og[list(GROUP_COLUMNS)] - b_groups[list(GROUP_COLUMNS)]
        for (by, group), d in diff.groupby(level=["by", "group"]):
            for measure in GROUP_COLUMNS:
                mean, lo, hi = paired_interval(d[measure].to_numpy())
                base_value = float(b_groups.loc[(by, group), measure].mean())
                group_rows.append((name, by, group, measure, base_value, mean, lo, hi))
    table = pd.DataFrame(rows, columns=["scenario", "metric", "base", "value", "diff", "low_95", "high_95"])
    groups = pd.DataFrame(group_rows, columns=["scenario", "by", "group", "measure", "base", "diff", "low_95",
                                               "high_95"])
    return Comparison(results=results, base=base_name, table=table, groups=groups)
