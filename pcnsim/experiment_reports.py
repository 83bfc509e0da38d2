"""The reports of experiment folders, each one self-contained HTML page (`pcnsim.report_page`):

- a sweep: what was swept (parameters, ranges, design), each measure's spread across the design points,
  the points with their key measures, each measure against each parameter, and for Sobol-index and
  Morris designs the parameters ranked by their sensitivity indices;
- an optimisation: the budget and the roles placed, the best allocation in plain words with its cost,
  the policies compared, the best against each policy on fresh seeds, and cost against objective;
- a calibration: each target's range against the fitted scenario's value, the fitted parameters, and how
  the cost fell over the evaluations.

Each reads only the files its command wrote (`sweep`, `optimise`, `calibrate`): tables, the experiment
file's copy, the resolved base scenario and the manifest. Every metric is named and formatted by the
metric registry.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from . import outdir, plots, registry, report_page
from .report_page import Cell, cell, interval, table
from .vocab import ROLE_LABELS

MOST_POINTS_LISTED = 40  # a sweep's points table stops here; summary.csv has them all
DESIGN_WORDS = {
    "grid": "a full grid: every combination of the parameters' values",
    "list": "a list of points given in the experiment file",
    "latin_hypercube": "{samples} points of a Latin hypercube over the parameters' ranges (scipy.stats.qmc)",
    "sobol_sequence": "{samples} points of a scrambled Sobol sequence over the parameters' ranges (scipy.stats.qmc)",
    "sobol_indices": "Saltelli's sample for first- and total-order Sobol indices (SALib), {samples} base samples",
    "morris": "{samples} Morris trajectories of elementary effects (SALib)",
}
SENSITIVITY_DESIGNS = ("sobol_indices", "morris")
POLICY_WORDS = {"current": "today's placement", "by_list_size": "shared by list size",
                "need_weighted": "shared by need (list size x a Carr-Hill-style need index)",
                "pooled": "all in the network pool"}
OBJECTIVE = registry.Metric("objective", "Objective", "weighted sum of the measures", "The quantity minimised.",
                            better="lower", decimals=2)


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _scenario_name(folder: Path) -> str:
    return str(_yaml(folder / "scenario.yaml").get("name", "the base scenario"))


# ---- sweeps ---------------------------------------------------------------------------------------------


def _parameters_table(parameters: list[dict], design: str) -> report_page.Table:
    rows = []
    for p in parameters:
        if design in ("grid", "list"):
            values = ", ".join(cell(float(v)).text for v in p.get("values") or []) or "as each point lists"
        else:
            shape = p.get("distribution", "uniform")
            values = f"{cell(float(p['low'])).text} to {cell(float(p['high'])).text}, " + {
                "uniform": "uniform", "triangular": f"triangular with mode {cell(float(p.get('mode') or 0)).text}",
                "normal90": "normal, this range its 90% interval"}[shape]
        how = "multiplies the base value by x" if p.get("kind") == "scale" else "sets the value to x"
        rows.append([cell(p.get("name") or p["path"]), cell(p["path"]), cell(how),
                     cell(values + (", in whole numbers" if p.get("integer") else ""))])
    return table(["parameter", "setting", "how", "values"], rows)


def _spread_table(summary: pd.DataFrame, metrics: list[str]) -> report_page.Table:
    rows = []
    for m in metrics:
        means = summary.loc[summary["metric"] == m, "mean"]
        rows.append([cell(registry.label(m)), cell(registry.METRICS[m].unit if m in registry.METRICS else ""),
                     cell(means.min(), m), cell(means.median(), m), cell(means.max(), m)])
    return table(["measure", "unit", "lowest point", "median point", "highest point"], rows)


def _points_table(summary: pd.DataFrame, labels: list[str], metrics: list[str]) -> report_page.Table:
    wide = summary.set_index(["point", "metric"])
    rows = []
    for point in sorted(summary["point"].unique())[:MOST_POINTS_LISTED]:
        first = summary[summary["point"] == point].iloc[0]
        rows.append([cell(int(point)), *(cell(first[p]) for p in labels),
                     *(interval(*wide.loc[(point, m), ["mean", "low_95", "high_95"]], metric=m) for m in metrics)])
    return table(["point", *labels, *(registry.label_with_unit(m) for m in metrics)], rows)


def _sensitivity_table(si: pd.DataFrame, design: str) -> report_page.Table:
    rank = "ST" if design == "sobol_indices" else "mu_star"
    rows = []
    for metric, group in si.groupby("metric", sort=False):
        for r in group.sort_values(rank, ascending=False).itertuples():
            if design == "sobol_indices":
                numbers = [Cell(f"{r.ST:.2f} ± {r.ST_conf:.2f}"), Cell(f"{r.S1:.2f} ± {r.S1_conf:.2f}")]
            else:
                numbers = [Cell(f"{cell(r.mu_star).text} ± {cell(r.mu_star_conf).text}"), cell(r.sigma)]
            rows.append([cell(registry.label(metric)), cell(r.parameter), *numbers])
    headers = (["total index (ST)", "first-order index (S1)"] if design == "sobol_indices"
               else ["mu* (mean |effect|)", "sigma (non-linearity, interactions)"])
    return table(["measure", "parameter", *headers], rows)


def sweep_page(folder: Path) -> str:
    """The report of a sweep folder."""
    exp = _yaml(folder / "experiment.yaml")
    manifest = outdir.read_manifest(folder) or {}
    summary = pd.read_parquet(folder / "summary.parquet")
    parameters = exp["parameters"]
    labels = [p.get("name") or p["path"] for p in parameters]
    metrics = list(dict.fromkeys(summary["metric"]))
    design = (exp.get("design") or {}).get("kind", "grid")
    samples = (exp.get("design") or {}).get("samples", 16)
    sensitivity = None
    if design in SENSITIVITY_DESIGNS and (folder / "sensitivity.csv").is_file():
        si = pd.read_csv(folder / "sensitivity.csv")
        sensitivity = {"table": _sensitivity_table(si, design), "sobol": design == "sobol_indices",
                       "figure": report_page.figure(plots.sensitivity(si, design))}
    points = int(summary["point"].nunique())
    return report_page.render(
        "sweep.html.j2", folder, name=exp["name"], description=exp.get("description", ""),
        base=_scenario_name(folder), design=DESIGN_WORDS[design].format(samples=samples),
        fixed=[(path, report_page.text(value)) for path, value in (exp.get("set") or {}).items()],
        parameters=_parameters_table(parameters, design), points=points, runs=manifest.get("runs"),
        replicates=exp.get("replicates", 3), years=exp.get("years", 1), spread=_spread_table(summary, metrics),
        table=_points_table(summary, labels, metrics), listed=min(points, MOST_POINTS_LISTED),
        effects=report_page.figure(plots.sweep_effects(summary, labels, metrics)), sensitivity=sensitivity)


# ---- optimisations --------------------------------------------------------------------------------------


def _role(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def _allocation_name(label: str) -> str:
    """A trial's label in words: a policy by what it does, a searched allocation by its trial."""
    name = label.removeprefix("policy: ")
    return POLICY_WORDS.get(name, name) if label.startswith("policy: ") else f"search, {name}"


def _allocation_words(row: pd.Series, roles: list[str]) -> list[str]:
    """Per role, where its FTE sits: 'social prescribing link worker: 0.5 FTE at A, 0.5 at B (1.0 FTE)'."""
    lines = []
    for role in roles:
        places = {c.split("@", 1)[1]: float(row[c]) for c in row.index if c.startswith(f"{role}@")}
        held = [f"{fte:g} FTE at {unit}" for unit, fte in places.items() if fte > 0]
        lines.append(f"{_role(role)}: {', '.join(held) or 'none'} ({sum(places.values()):g} FTE in all)")
    return lines


def optimise_page(folder: Path) -> str:
    """The report of an optimisation folder."""
    exp = _yaml(folder / "experiment.yaml")
    manifest = outdir.read_manifest(folder) or {}
    trials = pd.read_csv(folder / "trials.csv")
    validation = pd.read_csv(folder / "validation.csv")
    costs = (_yaml(folder / "scenario.yaml").get("workforce") or {}).get("roles", {})
    roles = [d["role"] for d in exp["roles"]]
    objective = exp["objective"]
    best_label = manifest.get("best", trials.iloc[0]["label"])
    best = trials[trials["label"] == best_label].iloc[0]
    role_rows = []
    for d in exp["roles"]:
        fte = (f"{d['min_fte']:g} to {d['max_fte']:g}" if d.get("min_fte") is not None
               else f"{d['total_fte']:g}" if d.get("total_fte") is not None else "today's total")
        role_rows.append([cell(_role(d["role"])), cell(fte),
                          cell(float(costs.get(d["role"], {}).get("cost_per_fte_year", float("nan"))))])
    units = [c.split("@", 1)[1] for c in trials.columns if c.startswith(f"{roles[0]}@")]
    placement = table(["where", *(_role(r) for r in roles)],
                      [[cell(u), *(cell(float(best[f"{r}@{u}"])) for r in roles)] for u in units])

    def allocation_row(r: pd.Series) -> list[Cell]:
        return [cell(_allocation_name(r["label"]) + (" (best)" if r["label"] == best_label else "")),
                interval(r["objective"], r["low_95"], r["high_95"], OBJECTIVE), cell(float(r["staff_cost"])),
                *(cell(float(r[m]), m) for m in objective)]

    compared = trials[(trials["kind"] == "policy") | (trials["label"] == best_label)]
    policies = table(["allocation", "objective (95% interval)", "staff cost (GBP a year)",
                      *(registry.label(m) for m in objective)], [allocation_row(r) for _, r in compared.iterrows()])
    checks = []
    for r in validation.itertuples():
        metric = registry.METRICS.get(r.measure, OBJECTIVE)
        change = metric.change(r.policy_value, r.diff, r.low_95, r.high_95)
        checks.append([cell(POLICY_WORDS.get(r.policy, r.policy)), cell(registry.label(r.measure)),
                       cell(r.policy_value, metric), cell(r.best_value, metric), Cell(change.change),
                       Cell(change.interval), Cell(change.verdict, change.verdict if change.verdict in
                                                   ("better", "worse") else "text")])
    fresh = table(["against the policy", "measure", "policy", "best", "best - policy", "95% CI", "best is"], checks)
    budget = exp.get("budget")
    return report_page.render(
        "optimise.html.j2", folder, name=exp["name"], description=exp.get("description", ""),
        base=_scenario_name(folder), roles=table(["role", "FTE (total, or the range to choose in)",
                                                  "cost (GBP per FTE-year)"], role_rows),
        budget=None if budget is None else cell(float(budget)).text, step=exp.get("step", 0.5),
        network_pool=exp.get("network_pool", True),
        objective=[f"{w:g} x {registry.label(m)}" + (f" ({registry.METRICS[m].unit})" if m in registry.METRICS
                                                       else "") for m, w in objective.items()],
        replicates=exp.get("replicates", 3), validation_replicates=exp.get("validation_replicates", 10),
        tried=len(trials), best=_allocation_name(best_label), best_is_policy=best["kind"] == "policy",
        best_words=_allocation_words(best, roles), best_cost=cell(float(best["staff_cost"])).text,
        spare=None if budget is None else cell(float(budget) - float(best["staff_cost"])).text,
        placement=placement, policies=policies, fresh=fresh,
        tradeoff=report_page.figure(plots.tradeoff(trials, best_label)))


# ---- calibrations ---------------------------------------------------------------------------------------


def calibrate_page(folder: Path) -> str:
    """The report of a calibration's results folder."""
    exp = _yaml(folder / "experiment.yaml")
    manifest = outdir.read_manifest(folder) or {}
    fit = pd.read_parquet(folder / "fit.parquet")
    parameters = pd.read_parquet(folder / "parameters.parquet")
    evaluations = pd.read_parquet(folder / "evaluations.parquet")
    rows = []
    for p in parameters.itertuples():
        edge = min(p.fitted - p.low, p.high - p.fitted) <= 1e-6 * (p.high - p.low)
        rows.append([cell(p.path), cell("multiplier on the base value" if p.kind == "scale" else "value"),
                     Cell(f"{cell(p.low).text} to {cell(p.high).text}"), Cell(f"{p.start:.6g}"),
                     Cell(f"{p.fitted:.6g}"), cell("at a bound of its range" if edge else "")])
    fitted = _yaml(folder / "fitted.yaml")
    return report_page.render(
        "calibrate.html.j2", folder, name=exp.get("name", "calibration"), base=_scenario_name(folder),
        fitted_name=fitted.get("name", ""), output=manifest.get("output", ""), cost=f"{manifest.get('cost', 0):.4f}",
        evaluations=manifest.get("evaluations", len(evaluations)), status=manifest.get("status", ""),
        seed=exp.get("seed", 1), replicates=exp.get("replicates", 1), years=exp.get("years", 2),
        in_range=int(fit["in_range"].sum()), checks=len(fit), fit=report_page.fit_table(fit),
        parameters=table(["parameter", "as", "range", "start", "fitted", "note"], rows),
        convergence=report_page.figure(plots.convergence(evaluations)))


PAGES = {"sweep": sweep_page, "optimise": optimise_page, "calibrate": calibrate_page}
