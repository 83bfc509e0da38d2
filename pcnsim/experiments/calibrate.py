"""Calibration: fit free parameters so a scenario meets the calibration targets (docs/model.md).

An experiment file (`experiments/calibration.yaml`) names the base scenario, the free parameters by
dotted path with bounds, the seed and replicates, and the optimiser. Every evaluation runs the same
replicate seeds (common random numbers), so the objective is a deterministic function of the
parameters and the fit reruns to the same numbers. The objective is least squares over every target
check: residual = distance beyond the inner half of the range in half-widths, so a cost of 0 means
every check sits in the middle half of its range and |residual| <= 0.5 means in range.
The result is written as a scenario file that `extends:` the base and sets only the fitted values, and
the fit is recorded in a results folder (`results:`): the fitted scenario's value of every target check,
the parameters, every evaluation, the resolved scenarios and the manifest, which `pcnsim report` reads.

Parameters are dotted paths into the scenario (`pcnsim.paths`): kind `value` sets the leaves to x, kind
`scale` multiplies the base values by x.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import Field, model_validator
from scipy import optimize

from .. import atomic, dictionary, outdir, targets
from ..paths import apply, leaves, parse_path, require, resolved_data
from ..run import run
from ..scenario import (
    Scenario,
    Strict,
    allowed_roots,
    check_output,
    deep_merge,
    from_dict,
    load_raw,
    validate_file,
)
from ..scenario import (
    base_path as checked_base,
)
from ..yamlio import MODELINE
from . import origin


class Parameter(Strict):
    path: str = Field(description="Dotted path into the scenario, e.g. ae.background_per_1000 or "
                      "access.propensity.*[0].")
    kind: Literal["value", "scale"] = Field("value", description="Set the leaves to x, or multiply them by x.")
    low: float = Field(description="Lower bound of x.")
    high: float = Field(description="Upper bound of x.")
    start: float | None = Field(None, description="Starting x (default: 1 for scale, the base value for value).")

    @model_validator(mode="after")
    def _bounds(self) -> Parameter:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.start is not None and not self.low <= self.start <= self.high:
            raise ValueError(f"start {self.start} is outside [{self.low}, {self.high}]")
        return self


class Optimiser(Strict):
    method: Literal["least_squares"] = Field("least_squares", description="scipy.optimize.least_squares (trf).")
    max_evaluations: int = Field(120, ge=1, le=100_000, description="Simulation runs at most (finite-difference "
                                 "runs included); the best point found so far is kept.")
    diff_step: float = Field(0.05, gt=0, le=0.5, description="Finite-difference step, relative to each range.")
    tolerance: float = Field(1e-3, gt=0, le=1, description="Stop when the cost changes less than this (ftol).")


class Calibration(Strict):
    name: str = Field("calibration", description="Name of the experiment.")
    base: str = Field(description="Scenario to calibrate, relative to this file.")
    output: str = Field(description="Scenario file to write (extends the base), relative to this file.")
    results: str | None = Field(None, description="Folder for the fit's record, relative to this file: the "
                                "fitted values against each target, the parameters, every evaluation and the "
                                "manifest; `pcnsim report` reads it (default: beside `output`, named after it, "
                                "e.g. baseline-calibration/ for baseline.yaml).")
    output_name: str = Field("baseline", description="`name:` of the written scenario.")
    seed: int = Field(1, ge=0, le=2**63 - 1, description="Root seed: the same replicate seeds are used at every "
                      "evaluation.")
    replicates: int = Field(1, ge=1, le=100, description="Replicates per evaluation.")
    years: int = Field(2, ge=2, le=10, description="Reported years per run (persistence needs at least 2).")
    parameters: list[Parameter] = Field(min_length=1, description="The free parameters.")
    optimiser: Optimiser = Field(default_factory=Optimiser)


def override_for(data: dict, params: list[Parameter]) -> dict:
    """The nested mapping holding just the fitted values: each path down to its first list, index or wildcard."""
    out: dict = {}
    for p in params:
        tokens = parse_path(p.path)
        prefix = []
        for t in tokens:
            if t == "*" or isinstance(t, int):
                break
            prefix.append(t)
        node, src = out, data
        for t in prefix[:-1]:  # walk with the keys as they are in the data (age bands are integers)
            (_, key), *_ = leaves(src, [t])
            node, src = node.setdefault(key, {}), src[key]
        (container, key), *_ = leaves(src, [prefix[-1]], create=True)
        if key in container:
            node[key] = copy.deepcopy(container[key])
    return out


# ---- the fit -------------------------------------------------------------------------------------------


def load_experiment(path: str | Path, raw: dict | None = None, overrides: dict | None = None
                    ) -> tuple[Calibration, Path]:
    """The experiment, checked with its base scenario and parameter paths, and the folder its paths are
    relative to. raw: the file's content if read already; overrides: fields set on the command line."""
    path = Path(path)
    exp = validate_file(Calibration, path, raw, overrides)
    base = resolved_data(checked_base(path, exp.base))
    check_output(path, exp.output, "file")
    check_output(path, results_folder(exp), "directory")
    require(base, exp.parameters, path)
    from_dict(apply(base, exp.parameters, start_values(exp, base), path), path)  # the paths name real fields
    return exp, path.parent


def results_folder(exp: Calibration) -> str:
    """The folder of the fit's record, relative to the experiment file."""
    if exp.results is not None:
        return exp.results
    output = Path(exp.output)
    return str(output.with_name(f"{output.stem}-calibration"))


def start_values(exp: Calibration, base: dict) -> np.ndarray:
    """x at the start: given, else 1 for a scale, else the base value (the lower bound for a new key)."""
    out = []
    for p in exp.parameters:
        if p.start is not None:
            out.append(p.start)
        elif p.kind == "scale":
            out.append(1.0)
        else:
            container, key = leaves(base, parse_path(p.path), create=True)[0]
            out.append(float(container[key]) if key in container else p.low)
    return np.array(out)


class _BudgetSpent(Exception):
    """Raised inside the objective when the evaluation budget is used up (counts Jacobian runs too)."""


def residuals(patients, checks) -> np.ndarray:
    """Per check: distance beyond the inner half of its range, in half-widths (0 well inside the range,
    0.5 at its edge), so the fit works on what is out of range rather than centring what is already in."""
    values = targets.measure_table(patients).mean(axis=1)
    z = np.array([(values[c.measure] - (c.low + c.high) / 2) / ((c.high - c.low) / 2) for c in checks])
    return np.sign(z) * np.maximum(np.abs(z) - 0.5, 0.0)


HEADER = "# Calibrated by `pcnsim calibrate`"  # the first line of every scenario file calibrate writes


def calibrate(path: str | Path, progress: Callable[[int, float], None] | None = None, overrides: dict | None = None,
              overwrite: bool = False, threads: int | None = None) -> dict:
    """Run the calibration experiment; write the fitted scenario and the fit's results folder; return a report
    dictionary: the fitted x by path, cost, evaluations, status, the scenario file written (`output`), the
    folder (`results`) and the fitted scenario's fit to the targets (`fit`, `pcnsim.targets.fit_table`).

    Both outputs are claimed before the fit (`pcnsim.outdir`): the scenario file must be absent, or with
    overwrite one calibrate wrote (first line `HEADER`); the folder absent, empty or one pcnsim wrote; no
    other writer. overrides: fields replacing the file's (`load_experiment`); threads: each evaluation's
    (`pcnsim.run.run`)."""
    started = time.time()
    path = Path(path)
    exp, folder = load_experiment(path, overrides=overrides)
    text = path.read_text(encoding="utf-8")
    base = resolved_data(folder / exp.base)
    target = folder / exp.output
    with outdir.Claim(target, what="output", header=HEADER), \
            outdir.Claim(folder / results_folder(exp), overwrite=True, what="results") as record:
        if target.exists() and not overwrite:
            raise outdir.ResultsError(f"{target}: output exists, a scenario pcnsim calibrate wrote (choose another, "
                                      "or --overwrite it)")
        report, history, start = _fit(exp, folder, base, progress, threads)
        fitted = run(report["output"], seed=exp.seed, years=exp.years, reps=exp.replicates, threads=threads)
        report["fit"] = targets.fit_table(fitted.patients)

        def fill(d: Path) -> None:
            _write_record(d, exp, report, history, start, fitted.scenario)
            origin.keep(d, "calibrate", text, base, exp.seed, exp.years, started,
                        {"root": exp.seed, "replicates": fitted.seeds}, scenarios=("fitted.yaml",),
                        cost=report["cost"], evaluations=report["evaluations"], status=report["status"],
                        output=str(report["output"].resolve()))

        report["results"] = record.write(fill)
    return report


def _fit(exp: Calibration, folder: Path, base: dict, progress: Callable[[int, float], None] | None,
         threads: int | None = None) -> tuple[dict, list[tuple[np.ndarray, float]], np.ndarray]:
    """The least-squares fit from the base's data; writes the fitted scenario file. Returns the report, every
    evaluation (x, cost) in order, and the start values."""
    base_path = folder / exp.base
    params = exp.parameters
    checks = [c for t in targets.TARGETS for c in t.checks]
    lo = np.array([p.low for p in params])
    hi = np.array([p.high for p in params])
    start = start_values(exp, base)
    z0 = np.clip((start - lo) / (hi - lo), 0.0, 1.0)
    evaluations: list[tuple[np.ndarray, float]] = []

    def fun(z: np.ndarray) -> np.ndarray:
        if len(evaluations) >= exp.optimiser.max_evaluations:
            raise _BudgetSpent
        x = lo + np.clip(z, 0.0, 1.0) * (hi - lo)
        sc = from_dict(apply(base, params, x), base_path)
        res = run(sc, seed=exp.seed, years=exp.years, reps=exp.replicates, threads=threads)
        r = residuals(res.patients, checks)
        cost = float(0.5 * np.sum(r**2))
        evaluations.append((x, cost))
        if progress is not None:
            progress(len(evaluations), cost)
        return r

    try:
        status = optimize.least_squares(fun, z0, bounds=(0.0, 1.0), method="trf", diff_step=exp.optimiser.diff_step,
                                        ftol=exp.optimiser.tolerance, xtol=1e-10).message
    except _BudgetSpent:
        status = f"evaluation budget of {exp.optimiser.max_evaluations} runs spent"
    best_x, best_cost = min(evaluations, key=lambda e: e[1])
    fitted = apply(base, params, best_x)
    out_path = folder / exp.output
    write_scenario(out_path, base_path, exp, fitted, params, best_x, best_cost, len(evaluations))
    report = {"output": out_path, "x": dict(zip([p.path for p in params], best_x.tolist(), strict=True)),
              "cost": best_cost, "evaluations": len(evaluations), "status": status}
    return report, evaluations, start


def _write_record(d: Path, exp: Calibration, report: dict, history: list[tuple[np.ndarray, float]],
                  start: np.ndarray, fitted: Scenario) -> None:
    """The fit's own files in its results folder: fit.parquet (each target check: its range, the fitted
    scenario's value and interval, in range or not), parameters.parquet (bounds, start and fitted x),
    evaluations.parquet (every run's x and cost, in order), datapackage.json (their columns, `pcnsim.dictionary`)
    and fitted.yaml (the fitted scenario, fully resolved, with the fit's root seed)."""
    paths = [p.path for p in exp.parameters]
    columns = {file: dictionary.expand(cols, {"<path>": paths}) for file, cols in dictionary.CALIBRATE_TABLES.items()}
    dictionary.write(report["fit"], d / "fit.parquet", columns["fit.parquet"])
    dictionary.write(pd.DataFrame([{"evaluation": i + 1, "cost": cost, **dict(zip(paths, x.tolist(), strict=True))}
                                   for i, (x, cost) in enumerate(history)]), d / "evaluations.parquet",
                     columns["evaluations.parquet"])
    parameters = [{"path": p.path, "kind": p.kind, "low": p.low, "high": p.high, "start": float(x0),
                   "fitted": report["x"][p.path]} for p, x0 in zip(exp.parameters, start, strict=True)]
    dictionary.write(pd.DataFrame(parameters), d / "parameters.parquet", columns["parameters.parquet"])
    dictionary.write_datapackage(d, columns, exp.name)
    header = (f"# {report['output'].name} fully resolved (every field explicit), with the fit's root seed and "
              "reported years.\n")
    atomic.write_text(d / "fitted.yaml", origin.resolved(fitted.model_dump(mode="json"), exp.seed, exp.years,
                                                         header))


def write_scenario(out_path: Path, base_path: Path, exp: Calibration, fitted: dict, params, x, cost, n) -> None:
    """The fitted scenario: `extends:` the base and sets just the fitted values, with a header of the fit.

    The base is named relative to the written file when that path stays within the file's folder or its
    parent (as `extends:` allows, `pcnsim.yamlio.check_parent`), else by its absolute path."""
    base, folder = base_path.resolve(), out_path.parent.resolve()
    near = any(base.is_relative_to(root) for root in allowed_roots(out_path))
    body = {"extends": os.path.relpath(base, folder) if near else str(base), "name": exp.output_name}
    body.update(override_for(fitted, params))
    header = [
        f"{HEADER} on {date.today().isoformat()} (see experiments/ for the experiment).",
        f"# Seed {exp.seed}, {exp.replicates} replicate(s) x {exp.years} years per evaluation, {n} evaluations,",
        f"# least-squares cost {cost:.4f} (0.5 x sum of squared residuals; 0 = every check mid-range).",
        "# Fitted parameters (x per path; scale = multiplier on the base value):",
        *[f"#   {p.path} ({p.kind}) = {v:.6g}" for p, v in zip(params, x, strict=True)],
        "# Everything else comes from the scenario named in `extends`.",
        *_schema_line(out_path),
    ]
    text = "\n".join(header) + "\n" + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)
    check = yaml.safe_load(text)
    check.pop("extends")
    from_dict(deep_merge(load_raw(base_path), check), out_path)  # what is written must load
    atomic.write_text(out_path, text)


def _schema_line(path: Path) -> list[str]:
    """The editors' schema line (`pcnsim.yamlio.MODELINE`) of the file about to be replaced, if it has
    one, so the fitted scenario keeps it."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    except (OSError, UnicodeDecodeError):
        return []
    return [line for line in lines if line.startswith(MODELINE)][:1]
