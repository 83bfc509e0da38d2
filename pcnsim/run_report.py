"""The report of a run, one self-contained HTML page (`pcnsim.report_page`, `templates/run.html.j2`): what ran
(the reported period in dates, the practices with their ODS codes), the headline measures with the range of
their replicates, contacts by age and sex, who never comes, A&E by age and deprivation, the frequent-attender
churn table and flow figure, and the fit to the evidence of docs/model.md.

It reads a saved run (`Results.load`) with its per-patient table; every metric is named and formatted by the
metric registry, and the churn measures, which are not output metrics, by `CHURN_MEASURES` here.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from . import churn, plots, registry, report_page, targets
from .metrics import HEADLINE
from .report_page import Cell, cell, interval, table
from .results import Results
from .vocab import DAYS_PER_YEAR

# `churn.churn_summary`'s measures, in its order: (words, whether it is a share of people). The four "a year
# on" outcomes of year t's frequent attenders add up to 1.
CHURN_MEASURES = {
    "prevalence": ("Frequent attenders among people registered all year", True),
    "share_of_contacts": ("Their share of primary-care contacts", True),
    "complex_share": ("Frequent attenders with complex needs", True),
    "persist": ("A year on: still a frequent attender", True),
    "still_high": ("A year on: below the threshold, still at least half their contacts", True),
    "dissipated": ("A year on: need dissipated", True),
    "left_or_died": ("A year on: left the list or died", True),
    "persist_complex": ("Still a frequent attender a year on, with complex needs", True),
    "persist_transient": ("Still a frequent attender a year on, without complex needs", True),
    "inflow_share": ("New frequent attenders: share of a year's who were not the year before", True),
    "inflow_count": ("New frequent attenders a year", False),
    "fa_count": ("Frequent attenders a year", False),
}


def _day(d: date) -> str:
    """A date as people write it: 7 Apr 2025."""
    return f"{d.day} {d:%b %Y}"


def period(sim) -> str:
    """The reported period, first to last reported day: '7 Apr 2025 to 5 Apr 2026'."""
    last = sim.start_date + timedelta(days=sim.years * DAYS_PER_YEAR - 1)
    return f"{_day(sim.start_date)} to {_day(last)}"


def practices_table(scenario) -> report_page.Table:
    """Each practice with its PCN and list size, and the ODS codes of practices and PCNs where the scenario
    gives any."""
    columns = {"practice": lambda pcn, p: p.name, "ODS code": lambda pcn, p: p.ods_code, "PCN": lambda pcn, p: pcn.name,
               "PCN code": lambda pcn, p: pcn.code, "list size": lambda pcn, p: p.list_size}
    pairs = [(pcn, p) for pcn in scenario.pcns for p in pcn.practices]
    shown = {h: f for h, f in columns.items() if "code" not in h or any(f(pcn, p) for pcn, p in pairs)}
    rows = [[cell(f(pcn, p) or "not given") for f in shown.values()] for pcn, p in pairs]
    return table(list(shown), rows)


def summary_table(res: Results) -> report_page.Table:
    """The headline measures: mean over replicates and the range the middle 95% of replicates fall in."""
    head = res.headline()
    rows = []
    for key in (k for k in HEADLINE if k in head.index):
        metric = registry.get(key)
        mean, low, high = head.loc[key, ["mean", "low_95", "high_95"]]
        rows.append([cell(metric.label), cell(metric.unit), cell(mean, metric),
                     Cell(f"{cell(low, metric).text} to {cell(high, metric).text}")])
    return table(["measure", "unit", "mean", "range of replicates (2.5% to 97.5%)"], rows)


def _churn_metric(key: str) -> registry.Metric:
    """A churn measure as a metric, for its words and format (persist_K_years: frequent K years running)."""
    if key.startswith("persist_") and key.removesuffix("_years").removeprefix("persist_").isdigit():
        years = key.removesuffix("_years").removeprefix("persist_")
        words, share = f"Frequent attenders in each of the first {years} reported years", True
    else:
        words, share = CHURN_MEASURES.get(key, (registry.label(key), False))
    return registry.Metric(key, words, "", words, share=share)


def churn_table(patients: pd.DataFrame) -> report_page.Table:
    """Each churn measure (rows) by frequent-attender definition (columns): mean over replicates (years
    pooled) with its 95% interval."""
    summary = churn.churn_summary(churn.churn_table(patients)).set_index(["metric", "definition"])
    definitions = [d for d in churn.DEFINITIONS if d in set(summary.index.get_level_values("definition"))]
    rows = []
    for key in dict.fromkeys(summary.index.get_level_values("metric")):
        metric = _churn_metric(key)
        values = [interval(*summary.loc[(key, d), ["mean", "low_95", "high_95"]], metric)
                  if (key, d) in summary.index else cell(None) for d in definitions]
        rows.append([cell(metric.label), *values])
    return table(["measure", *(churn.DEFINITIONS[d] for d in definitions)], rows)


def html(res: Results, folder: str | Path) -> str:
    """The report of a saved run (read from `folder`, with its per-patient table), as one self-contained page."""
    sc, p = res.scenario, res.patients
    fit = targets.fit_table(p)
    figures = {
        "contacts": plots.contacts_by_age_sex(p), "never": plots.zero_contact_by_age(p),
        "ae": plots.ae_by_age_and_deprivation(p), "churn": plots.churn_flow(p, "top10"),
    }
    return report_page.render(
        "run.html.j2", Path(folder), name=sc.name, description=sc.description, patients=sc.n_patients,
        practices=practices_table(sc), pcns=len(sc.pcns), period=period(sc.simulation),
        years=sc.simulation.years, burn_in_years=sc.simulation.burn_in_years, replicates=res.replicates,
        seed=res.root_seed, summary=summary_table(res), churn=churn_table(p),
        figures={name: report_page.figure(fig) for name, fig in figures.items()},
        fit=report_page.fit_table(fit), in_range=int(fit["in_range"].sum()), checks=len(fit))
