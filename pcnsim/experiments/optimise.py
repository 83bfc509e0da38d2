"""Workforce optimiser: where should a PCN's staff sit, and how many of each role, for a budget?

An experiment file (`experiments/workforce.yaml`) names the base scenario, the roles to place (each with a
fixed total FTE, or a range to choose within), whether the network pool is a place they can sit, the
FTE step, the budget for those roles, the objective (a weighted sum of metrics, minimised), replicates
and the number of trials. Decision variables per role: its total (when it has a range) and an integer
weight 0-10 per unit (each practice and pool); the total is shared out in steps by largest remainder,
so every trial meets the totals and the budget by construction.

Every trial runs the same replicate seeds (common random numbers), so differences between allocations
are not noise between seeds. Optuna's TPE sampler (seeded) searches; the simple policies of
`pcnsim.experiments.workforce` are evaluated first and enqueued as starting points. The best allocation and each
policy are then rerun on fresh validation seeds and compared pairwise, so the reported advantage is not
the optimiser's luck on its own seeds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pydantic import Field, field_validator, model_validator

from .. import atomic, dictionary, outdir
from ..paths import resolved_data
from ..scenario import ScenarioError, Strict, base_path, check_output, from_dict, validate_file
from ..schema_types import RoleName
from . import origin, workforce
from .compare import paired_interval, per_replicate, replicate_metric_names

WEIGHT_LEVELS = 10
STAFF_COST = "placed_staff_cost_per_person"  # objective term: GBP per registered person a year, placed roles


class RoleDecision(Strict):
    role: RoleName = Field(description="Role to place (e.g. splw, pharmacist, mhp).")
    total_fte: float | None = Field(None, ge=0, le=10_000, description="Fixed total FTE (default: the base "
                                    "scenario's current total, unless min/max give a range).")
    min_fte: float | None = Field(None, ge=0, le=10_000, description="Smallest total FTE to consider.")
    max_fte: float | None = Field(None, ge=0, le=10_000, description="Largest total FTE to consider.")

    @model_validator(mode="after")
    def _range(self) -> RoleDecision:
        if (self.min_fte is None) != (self.max_fte is None):
            raise ValueError("give both min_fte and max_fte, or neither")
        if self.min_fte is not None:
            if self.total_fte is not None:
                raise ValueError("give total_fte or a min_fte/max_fte range, not both")
            if self.min_fte > self.max_fte:
                raise ValueError(f"min_fte ({self.min_fte}) is above max_fte ({self.max_fte})")
        return self


class WorkforceExperiment(Strict):
    name: str = Field(description="Name of the optimisation.")
    description: str = Field("", description="The question it answers.")
    base: str = Field(description="Base scenario, relative to this file.")
    roles: list[RoleDecision] = Field(min_length=1, description="The roles to place.")
    network_pool: bool = Field(True, description="Whether the network pool is a place they can sit.")
    step: float = Field(0.5, gt=0, le=10, description="FTE step (e.g. 0.5 for half-time posts, 1 for whole).")
    budget: float | None = Field(None, gt=0, description="Staff budget for the placed roles, GBP per year "
                                 "(workforce.roles cost per FTE).")
    objective: dict[str, float] = Field(min_length=1, description="Minimise the sum of weight x metric (mean "
                                        f"over replicates); metric names as in summary.parquet, or {STAFF_COST}.")
    replicates: int = Field(3, ge=1, le=1000, description="Replicates per trial (the same seeds for every trial).")
    validation_replicates: int = Field(10, ge=2, le=1000, description="Fresh replicates comparing the best "
                                       "allocation with each policy.")
    years: int = Field(1, ge=1, le=20, description="Reported years per run.")
    seed: int = Field(1, ge=0, le=2**63 - 2, description="Root seed (validation uses seed + 1).")
    trials: int = Field(60, ge=1, le=100_000, description="Allocations the optimiser evaluates (after the policies).")
    output: str = Field(description="Output directory, relative to this file.")

    @field_validator("objective")
    @classmethod
    def _metrics(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - {*replicate_metric_names(), STAFF_COST})
        if unknown:
            raise ValueError(f"unknown metrics {unknown}; e.g. ae_per_1000, unmet_days_per_person, cost_per_person, "
                             f"{STAFF_COST}")
        return v

    @model_validator(mode="after")
    def _unique(self) -> WorkforceExperiment:
        roles = [d.role for d in self.roles]
        if len(set(roles)) != len(roles):
            raise ValueError(f"each role once: {roles}")
        return self


@dataclass
class Problem:
    """A loaded experiment: the base scenario, fixed totals or ranges per role, and where results go."""

    exp: WorkforceExperiment
    source: Path
    output: Path
    base: object  # Scenario
    roles: list[str]
    totals: dict[str, float | None]  # fixed totals (None: chosen within the range)
    ranges: dict[str, tuple[float, float]]
    costs: dict[str, float]
    policy_totals: dict[str, float]  # what the simple policies share out: today's totals, within ranges and budget
    base_data: dict  # the base scenario's data, as resolved
    text: str  # the experiment file as it was read
    started: float  # when the optimisation began, time.time()
    threads: int | None = None  # each evaluation's threads (`pcnsim.run.run`; None: one per core)

    @property
    def n_units(self) -> int:
        return sum(len(p.practices) for p in self.base.pcns) + len(self.base.pcns)

    @property
    def n_practices(self) -> int:
        return sum(len(p.practices) for p in self.base.pcns)


def load(path: str | Path, raw: dict | None = None, overrides: dict | None = None,
         threads: int | None = None) -> Problem:
    """Validate an optimisation experiment; budget and constraint problems are one-line ScenarioErrors.

    raw: the file's content if read already; overrides: fields set on the command line (`validate_file`)."""
    path = Path(path)
    started = time.time()
    exp = validate_file(WorkforceExperiment, path, raw, overrides)
    base_file = base_path(path, exp.base)
    base_data = resolved_data(base_file)
    base = from_dict(base_data, base_file)
    roles = [d.role for d in exp.roles]
    now = workforce.current(base, roles).totals()
    costs = {r: base.workforce.roles[r].cost_per_fte_year for r in roles}
    totals, ranges = {}, {}
    for i, d in enumerate(exp.roles):
        if d.min_fte is not None:
            totals[d.role] = None
            ranges[d.role] = (d.min_fte, d.max_fte)
            if not _on_step(d.min_fte, exp.step) or not _on_step(d.max_fte, exp.step):
                raise ScenarioError(path, f"roles[{i}]", f"min_fte and max_fte must be multiples of step {exp.step:g}")
        else:
            total = d.total_fte if d.total_fte is not None else now[d.role]
            totals[d.role] = round(total / exp.step) * exp.step
    fixed = sum(costs[r] * t for r, t in totals.items() if t is not None)
    least = fixed + sum(costs[r] * lo for r, (lo, _) in ranges.items())
    if exp.budget is not None and least > exp.budget + 1e-6:
        raise ScenarioError(path, "budget", f"{exp.budget:,.0f} GBP a year cannot pay for the fixed and minimum FTE "
                            f"of these roles ({least:,.0f} GBP at workforce.roles costs)")
    policy_totals = {r: t if t is not None else float(np.clip(round(now[r] / exp.step) * exp.step, *ranges[r]))
                     for r, t in totals.items()}
    while exp.budget is not None and sum(costs[r] * t for r, t in policy_totals.items()) > exp.budget + 1e-6:
        cut = max((r for r in ranges if policy_totals[r] > ranges[r][0]), key=lambda r: costs[r])
        policy_totals[cut] -= exp.step  # today's mix does not fit the budget: trim the dearest ranged role
    return Problem(exp=exp, source=path, output=check_output(path, exp.output, "directory"), base=base, roles=roles,
                   totals=totals, ranges=ranges, costs=costs, policy_totals=policy_totals, base_data=base_data,
                   text=path.read_text(encoding="utf-8"), started=started, threads=threads)


def _on_step(x: float, step: float) -> bool:
    return abs(x / step - round(x / step)) < 1e-9


def share_out(total: float, weights: np.ndarray, step: float) -> np.ndarray:
    """`total` FTE over units in proportion to weights, in whole steps (largest remainder), summing to total."""
    units = round(total / step)
    w = np.asarray(weights, float)
    w = w / w.sum() if w.sum() > 0 else np.full(len(w), 1 / len(w))
    exact = units * w
    whole = np.floor(exact).astype(int)
    order = np.argsort(-(exact - whole), kind="stable")
    whole[order[: units - whole.sum()]] += 1
    return whole * step


def allocation(problem: Problem, totals: dict[str, float], weights: dict[str, np.ndarray]) -> workforce.Allocation:
    n_p = problem.n_practices
    fte = np.zeros((len(problem.roles), problem.n_units))
    for i, role in enumerate(problem.roles):
        w = np.asarray(weights[role], float).copy()
        if not problem.exp.network_pool:
            w[n_p:] = 0.0
        fte[i] = share_out(totals[role], w, problem.exp.step)
    return workforce.Allocation(problem.roles, workforce.units(problem.base), fte)


def evaluate(problem: Problem, alloc: workforce.Allocation, seed: int, reps: int) -> pd.DataFrame:
    """Metrics x replicate of the base scenario with `alloc` in place (plus staff cost and the objective)."""
    from ..run import run

    sc = workforce.apply(problem.base, alloc)
    table = per_replicate(run(sc, seed=seed, reps=reps, years=problem.exp.years, threads=problem.threads))
    table.loc[STAFF_COST] = workforce.staff_cost(problem.base, alloc) / problem.base.n_patients
    table.loc["objective"] = sum(w * table.loc[m] for m, w in problem.exp.objective.items())
    return table


@dataclass
class Outcome:
    problem: Problem
    trials: pd.DataFrame  # one row per evaluated allocation (policies first), sorted by objective
    allocations: dict[str, workforce.Allocation]  # by trial label
    validation: pd.DataFrame  # best vs each policy on fresh seeds
    best: str


OUTPUT_NAMES = ("trials.csv", "validation.csv", "best.yaml", "tradeoff.png", "datapackage.json", *origin.NAMES)


@contextmanager
def claim(problem: Problem, overwrite: bool = False, notify: Callable[[str], None] | None = None
          ) -> Iterator[outdir.Claim]:
    """The output folder, claimed (`pcnsim.outdir`): absent or empty, or with overwrite an earlier optimiser
    run's (whose files are then replaced), and one writer at a time."""
    with outdir.Claim(problem.output, what="output", resumable=OUTPUT_NAMES, notify=notify) as held:
        earlier = problem.output.is_dir() and any(p.name in OUTPUT_NAMES for p in problem.output.iterdir())
        if earlier and not overwrite:
            raise outdir.ResultsError(f"{problem.output}: output holds an earlier optimisation's results (choose "
                                      "another, or --overwrite them)")
        yield held


def optimise(path: str | Path, progress: Callable[[int, int], None] | None = None, claimed: bool = False,
             overrides: dict | None = None, threads: int | None = None, overwrite: bool = False) -> Outcome:
    """Evaluate the policies, search with Optuna, validate the best on fresh seeds; write the outputs.

    The output folder is claimed before anything runs (a file pcnsim did not write there is refused, and an
    earlier optimisation's results unless overwrite); claimed=True: the caller holds the claim already.
    overrides: fields replacing the file's (`load`); threads: each evaluation's (`pcnsim.run.run`)."""
    problem = load(path, overrides=overrides, threads=threads)
    if claimed:
        return _search(problem, progress)
    with claim(problem, overwrite):
        return _search(problem, progress)


def _search(problem: Problem, progress: Callable[[int, int], None] | None) -> Outcome:
    import optuna

    exp = problem.exp
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rows, allocations = [], {}
    total_steps = len(workforce.POLICIES) + exp.trials

    def record(label: str, alloc: workforce.Allocation, kind: str) -> float:
        table = evaluate(problem, alloc, exp.seed, exp.replicates)
        mean, lo, hi = paired_interval(table.loc["objective"].to_numpy())
        rows.append({"label": label, "kind": kind, "objective": mean, "low_95": lo, "high_95": hi,
                     "staff_cost": workforce.staff_cost(problem.base, alloc),
                     **{m: float(table.loc[m].mean()) for m in exp.objective}, **alloc.as_dict()})
        allocations[label] = alloc
        if progress:
            progress(len(rows), total_steps)
        return mean

    fixed_totals = {r: t for r, t in problem.totals.items() if t is not None}
    for name in workforce.POLICIES:
        if name == "pooled" and not exp.network_pool:
            continue
        totals = problem.policy_totals
        alloc = workforce.policy(problem.base, name, problem.roles, totals)
        alloc.fte = np.array([share_out(totals[r], alloc.fte[i], exp.step) for i, r in enumerate(problem.roles)])
        record(f"policy: {name}", alloc, "policy")

    sampler = optuna.samplers.TPESampler(seed=exp.seed, multivariate=True, n_startup_trials=min(10, exp.trials))
    study = optuna.create_study(direction="minimize", sampler=sampler)
    for alloc in list(allocations.values()):  # start the search from the policies
        study.enqueue_trial({f"w:{r}:{u}": round(WEIGHT_LEVELS * alloc.fte[i, u] / max(alloc.fte[i].max(), 1e-9))
                             for i, r in enumerate(problem.roles) for u in range(problem.n_units)}
                            | {f"total:{r}": problem.policy_totals[r] for r in problem.ranges}, skip_if_exists=True)

    def objective(trial) -> float:
        """Totals within the ranges and the budget (role by role), then a weight per unit and role."""
        totals = dict(fixed_totals)
        spare = None if exp.budget is None else exp.budget - sum(
            problem.costs[r] * t for r, t in fixed_totals.items()) - sum(
            problem.costs[r] * lo for r, (lo, _) in problem.ranges.items())
        for r, (lo, hi) in problem.ranges.items():
            room = hi - lo if spare is None else min(hi - lo, spare / problem.costs[r])
            cap = lo + np.floor(room / exp.step + 1e-9) * exp.step
            totals[r] = trial.suggest_float(f"total:{r}", lo, cap, step=exp.step) if cap > lo else lo
            if spare is not None:
                spare -= problem.costs[r] * (totals[r] - lo)
        weights = {r: np.array([trial.suggest_int(f"w:{r}:{u}", 0, WEIGHT_LEVELS) for u in range(problem.n_units)])
                   for r in problem.roles}
        return record(f"trial {trial.number}", allocation(problem, totals, weights), "trial")

    study.optimize(objective, n_trials=exp.trials)
    trials = pd.DataFrame(rows).sort_values(["objective", "label"], kind="stable").reset_index(drop=True)
    best = str(trials.iloc[0]["label"])
    validation = validate(problem, allocations, best)
    outcome = Outcome(problem=problem, trials=trials, allocations=allocations, validation=validation, best=best)
    write_outputs(outcome)
    return outcome


def validate(problem: Problem, allocations: dict[str, workforce.Allocation], best: str) -> pd.DataFrame:
    """The best allocation against each policy on fresh seeds: paired difference (best - policy) of the
    objective and of each objective metric, with 95% intervals."""
    exp = problem.exp
    seed, reps = exp.seed + 1, exp.validation_replicates
    best_table = evaluate(problem, allocations[best], seed, reps)
    rows = []
    for label, alloc in allocations.items():
        if not label.startswith("policy: ") or label == best:
            continue
        table = evaluate(problem, alloc, seed, reps)
        for measure in ["objective", *exp.objective]:
            mean, lo, hi = paired_interval((best_table.loc[measure] - table.loc[measure]).to_numpy())
            rows.append({"policy": label.removeprefix("policy: "), "measure": measure,
                         "policy_value": float(table.loc[measure].mean()),
                         "best_value": float(best_table.loc[measure].mean()), "diff": mean, "low_95": lo,
                         "high_95": hi})
    # its columns even with no policy to compare (the best is the only policy)
    return pd.DataFrame(rows, columns=[c.name for c in dictionary.entry("optimise", "validation.csv")])


def scenario_file(outcome: Outcome) -> str:
    """The best allocation as a scenario file that extends the experiment's base scenario."""
    problem = outcome.problem
    base_path = (problem.source.parent / problem.exp.base).resolve()
    data = {"extends": str(base_path), "name": f"{problem.exp.name}_best",
            "description": f"Best allocation found by pcnsim optimise ({outcome.best}) for {problem.exp.name}.",
            **workforce.override(problem.base, outcome.allocations[outcome.best])}
    header = (f"# Written by `pcnsim optimise {problem.source.name}`: the best of {len(outcome.trials)} allocations "
              f"of {', '.join(problem.roles)}\n# (objective: "
              + " + ".join(f"{w:g} x {m}" for m, w in problem.exp.objective.items()) + ").\n")
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def described(problem: Problem) -> dict[str, list[dictionary.Column]]:
    """The columns of the optimisation's tables (`pcnsim.dictionary`), with its objective's metrics and its
    roles at each unit in place of the entries' patterns."""
    names = {"<metric>": list(problem.exp.objective),
             "<role>@<unit>": [f"{r}@{u}" for r in problem.roles for u in workforce.units(problem.base)]}
    return {file: dictionary.expand(cols, names) for file, cols in dictionary.OPTIMISE_TABLES.items()}


def write_outputs(outcome: Outcome) -> list[Path]:
    """trials.csv, validation.csv, best.yaml, tradeoff.png and datapackage.json (the tables' columns), then
    the experiment's copy, its resolved base scenario and, last, the manifest (`origin.keep`)."""
    from .. import plots
    from ..run import replicate_seeds

    problem, exp = outcome.problem, outcome.problem.exp
    out = problem.output
    out.mkdir(parents=True, exist_ok=True)
    outdir.mark(out, "optimise")
    (out / "manifest.json").unlink(missing_ok=True)  # complete again once the new manifest is written
    columns = described(problem)
    dictionary.write(outcome.trials, out / "trials.csv", columns["trials.csv"])
    dictionary.write(outcome.validation, out / "validation.csv", columns["validation.csv"])
    atomic.write_text(out / "best.yaml", scenario_file(outcome))
    plots.save(plots.tradeoff(outcome.trials, outcome.best), out / "tradeoff.png")
    dictionary.write_datapackage(out, columns, exp.name)
    seeds = {"root": exp.seed, "replicates": replicate_seeds(exp.seed, exp.replicates),
             "validation_root": exp.seed + 1,
             "validation_replicates": replicate_seeds(exp.seed + 1, exp.validation_replicates)}
    origin.keep(out, "optimise", problem.text, problem.base_data, exp.seed, exp.years, problem.started, seeds,
                best=outcome.best, allocations=len(outcome.trials))
    return [out / n for n in OUTPUT_NAMES]
