"""A run as a record: the settings, the base and variant scenarios, years, replicates and seed travel with the
paired comparison they produced, so everything shown or downloaded names exactly what ran.

Also the words for a run: plain sentences for a refused or failed run, and the results as tables a manager
reads (labels, units, % change, verdicts from the registry; never a raw metric key).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import memory, registry
from ..experiments.compare import GROUP_COLUMNS, KEY_METRICS, MINUTES_PER_GP_SLOT, Comparison, compare
from ..metrics import AGE_BAND_LABELS
from ..scenario import Scenario, ScenarioError, from_dict
from .settings import Settings, build, changed_controls, scenario_data

HEADLINES = ("gp_per_1000", "ae_per_1000", "admissions_per_1000", "revisits_per_1000", "unmet_days_per_person",
             "cost_per_person")
# The summary gives emergency admissions twice (by setting and as a metric); one is enough for people.
DUPLICATES = ("admission_per_1000",)
GROUP_BY_LABELS = {"practice": "Practice", "pcn": "PCN", "age_band": "Age band", "sex": "Sex",
                   "deprivation": "Deprivation quintile", "complex_needs": "Complex needs"}
GROUP_MEASURE_LABELS = {"primary_care_contacts": "Primary-care contacts", "gp": "GP contacts",
                        "ae": "A&E attendances", "admission": "Emergency admissions",
                        "unmet_days": "Days with an unmet need", "revisits": "Revisits"}
assert set(GROUP_MEASURE_LABELS) == set(GROUP_COLUMNS)


class RunRefused(Exception):
    """A run the page will not start; its message is one plain sentence for the manager."""


@dataclass(eq=False)
class RunRecord:
    """What ran and what came of it. Compared by identity: a new run is a new record."""

    settings: Settings
    base: Scenario
    variant: Scenario
    edited: bool
    comparison: Comparison

    @property
    def base_label(self) -> str:
        return self.settings.base_file

    @property
    def variant_label(self) -> str:
        return self.settings.variant_file + (" with your changes" if self.edited else "")

    @property
    def seed(self) -> int:
        return self.base.simulation.seed

    @property
    def names(self) -> tuple[str, str]:
        """The comparison's own names of the base and the variant."""
        base, variant = list(self.comparison.results)
        return base, variant

    @property
    def patients(self) -> int:
        return self.variant.n_patients


def prepare(s: Settings, files: dict[str, Path]) -> tuple[Scenario, Scenario, bool]:
    """The base and variant scenarios of some settings, the variant on the base's seed (as compare runs it)."""
    base = from_dict(scenario_data(files[s.base_file]))
    base = base.model_copy(deep=True)
    base.simulation.years = s.years
    data = scenario_data(files[s.variant_file])
    variant = build(data, s.value_map, s.years)
    variant.simulation.seed = base.simulation.seed
    return base, variant, bool(changed_controls(data, s.value_map))


def check_memory(base: Scenario, variant: Scenario, reps: int) -> None:
    """Refuse, in a sentence, a comparison this computer has no memory for (both sides' tables are kept)."""
    cores = os.cpu_count() or 1
    need = sum(sum(memory.breakdown(sc, reps, at_once=cores).values()) for sc in (base, variant))
    have = memory.available() * memory.HEADROOM
    if need > have:
        raise RunRefused(f"This comparison is too big for this computer: {variant.n_patients:,} patients need "
                         f"about {need / 2**30:.1f} GiB of memory and {have / 2**30:.1f} GiB is free; choose a "
                         "smaller scenario (one PCN or a borough), fewer years or fewer replicates.")


def run_record(s: Settings, files: dict[str, Path], progress=None) -> RunRecord:
    """Run the comparison some settings describe and keep it with them."""
    base, variant, edited = prepare(s, files)
    check_memory(base, variant, s.reps)
    comparison = compare(base, [variant], years=s.years, reps=s.reps, progress=progress)
    return RunRecord(settings=s, base=base, variant=variant, edited=edited, comparison=comparison)


def plain_error(exc: BaseException) -> str:
    """One sentence for a run that could not be made: what went wrong and what to do; never a traceback."""
    if isinstance(exc, RunRefused):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "The computer ran out of memory during the run; choose a smaller scenario or fewer replicates."
    if isinstance(exc, (ScenarioError, ValueError)):
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"These settings cannot be simulated ({first}); change them and press Run and compare again."
    return (f"The run stopped unexpectedly ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
            "try again with other settings, and if it repeats send the downloaded scenario file to the model's team.")


def headline_rows(record: RunRecord) -> pd.DataFrame:
    """The variant's paired differences for every metric the registry knows, in headline order first."""
    t = record.comparison.table
    t = t[(t["scenario"] == record.names[1]) & t["metric"].isin(registry.METRICS) & ~t["metric"].isin(DUPLICATES)]
    order = {m: i for i, m in enumerate((*HEADLINES, *KEY_METRICS))}
    return t.assign(order=t["metric"].map(order).fillna(len(order))).sort_values(["order", "metric"])


def readable(record: RunRecord, keys: bool = False) -> pd.DataFrame:
    """The comparison for people: label, unit, base, with the change, difference, interval, % change, verdict."""
    rows = []
    for r in headline_rows(record).itertuples():
        m = registry.get(r.metric)
        change = m.change(r.base, r.diff, r.low_95, r.high_95)
        row = {"Measure": m.label, "Unit": m.unit, f"Base: {record.base_label}": change.base,
               f"With: {record.variant_label}": m.format(r.value), "Difference": change.change,
               "95% interval": change.interval, "% change": change.percent, "Verdict": change.verdict}
        if keys:
            row["key"] = r.metric
        rows.append(row)
    return pd.DataFrame(rows)


def results_csv(record: RunRecord) -> str:
    """The comparison as a CSV that names the run: base, variant, years, replicates, seed on every row."""
    t = headline_rows(record).drop(columns=["order", "scenario"])
    out = pd.DataFrame({
        "measure": [registry.get(k).label for k in t["metric"]], "unit": [registry.get(k).unit for k in t["metric"]],
        "base": t["base"].to_numpy(), "with_change": t["value"].to_numpy(), "difference": t["diff"].to_numpy(),
        "interval_low_95": t["low_95"].to_numpy(), "interval_high_95": t["high_95"].to_numpy(),
        "percent_change": [registry.percent_change(d, b) for d, b in zip(t["diff"], t["base"], strict=True)],
        "verdict": [registry.get(k).verdict(lo, hi) for k, lo, hi in zip(t["metric"], t["low_95"], t["high_95"],
                                                                          strict=True)],
        "metric_key": t["metric"].to_numpy()})
    out.insert(0, "base_scenario", record.base_label)
    out.insert(1, "changed_scenario", record.variant_label)
    out["years"] = record.settings.years
    out["replicates"] = record.settings.reps
    out["seed"] = record.seed
    return out.to_csv(index=False)


def verdict_sentence(metric: str, base: float, diff: float, low: float, high: float) -> str:
    """One sentence: better, worse or no clear change, how much, and why (the paired interval)."""
    m = registry.get(metric)
    interval = f"{m.format_change(low)} to {m.format_change(high)}"
    verdict = m.verdict(low, high)
    pct = registry.percent_change(diff, base)
    size = f"{'up' if diff > 0 else 'down'} {abs(pct):.1f}%" if not math.isnan(pct) else m.format_change(diff)
    if any(math.isnan(x) for x in (low, high)) or low <= 0 <= high:
        return f"No clear change: the 95% interval ({interval}) includes no difference."
    if verdict == "no clear change":  # a clear change in a measure with no better direction
        return f"Changed, {size}: the whole 95% interval ({interval}) is on one side of zero."
    return f"{verdict.capitalize()}, {size}: the whole 95% interval ({interval}) is on one side of zero."


def own_terms(metric: str, diff: float, patients: int) -> str | None:
    """The difference in the PCN's own terms: events a week for its list, GP time, or pounds a year."""
    if math.isnan(diff) or diff == 0:
        return None
    if metric == "gp_per_1000":
        week = registry.per_week(diff, patients)
        hours = abs(week) * MINUTES_PER_GP_SLOT / 60
        verb = "released" if week < 0 else "added"
        return f"About {abs(week):,.0f} GP appointments a week {verb} across {patients:,} patients (~{hours:,.0f} " \
               f"GP hours)."
    if metric == "cost_per_person":
        return f"About GBP {abs(diff) * patients:,.0f} a year {'less' if diff < 0 else 'more'} on care contacts for " \
               f"{patients:,} patients (staff salaries not included)."
    if registry.get(metric).unit == registry.PER_1000:
        week = registry.per_week(diff, patients)
        year = diff / 1000 * patients
        return f"About {abs(week):,.1f} {'fewer' if week < 0 else 'more'} a week ({abs(year):,.0f} a year) across " \
               f"{patients:,} patients."
    return None


def group_label(by: str, group: str) -> str:
    """A group's name for people (deprivation quintiles say which end is most deprived)."""
    if by == "deprivation":
        extra = {"1": " (most deprived)", "5": " (least deprived)"}.get(group, "")
        return f"Quintile {group}{extra}"
    if by == "complex_needs":
        return "Complex needs" if group == "complex" else "No complex needs"
    if by == "sex":
        return group.capitalize()
    return group


def group_order(by: str, groups: list[str]) -> list[str]:
    if by == "age_band":
        return [g for g in AGE_BAND_LABELS if g in groups] + [g for g in groups if g not in AGE_BAND_LABELS]
    return sorted(groups)


def group_table(record: RunRecord, by: str, measure: str) -> pd.DataFrame:
    """Base and with-the-change rates per 1,000 person-years by group, with the paired difference."""
    g = record.comparison.groups
    g = g[(g["scenario"] == record.names[1]) & (g["by"] == by) & (g["measure"] == measure)].set_index("group")
    rows = []
    for group in group_order(by, list(g.index)):
        r = g.loc[group]
        rows.append({"Group": group_label(by, group), "Base": r["base"], "With the change": r["base"] + r["diff"],
                     "Difference": r["diff"], "low": r["low_95"], "high": r["high_95"],
                     "% change": registry.percent_change(r["diff"], r["base"])})
    return pd.DataFrame(rows)
