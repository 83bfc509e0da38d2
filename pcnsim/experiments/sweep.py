"""Parameter sweeps: experiment files, designs, local or Dask execution, resumable results, sensitivity.

An experiment file (`experiments/*.yaml`, validated like scenarios) names a base scenario, fixed
settings, the parameters to vary by dotted path (`pcnsim.paths`), a design (full grid, explicit list,
Latin hypercube or Sobol sequence from scipy.stats.qmc, or the Sobol-index and Morris samplers of SALib),
replicates, years, the metrics to keep and an output directory.

Each run (design point x replicate) is a small picklable `RunSpec` holding the resolved scenario as
plain data and its replicate index; replicate seeds are spawned from the experiment's seed
(`SeedSequence.spawn`), the same for every point (common random numbers). Runs go through any
`concurrent.futures.Executor` (`pcnsim.experiments.executors`): in-process, a local process pool, or a
dask.distributed client's executor.
The client writes each finished run to `runs/<run id>.json` atomically, with a checksum of its content, so
an interrupted or crashed sweep loses nothing finished and a rerun skips what is done (a damaged or edited
record is set aside as `<id>.json.corrupt` and its run done again); the combined table is written when
every run is in, then the manifest (`origin.keep`), which lists every run's record, whichever session
made it; while runs are being added the folder has none. The output folder is claimed first
(`pcnsim.outdir`: one sweep at a time, never a folder pcnsim did not write), and pool workers end with the
command, however it ends (`pcnsim.stops`).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Future, as_completed
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator
from scipy import stats
from scipy.stats import qmc

from .. import atomic, dictionary, outdir, verify
from ..paths import apply, leaves, parse_path, require, resolved_data, set_value
from ..scenario import ScenarioError, Strict, base_path, check_output, from_dict, validate_file
from . import origin
from .compare import per_replicate, replicate_metric_names
from .executors import Workers, executor_for

DESIGNS = ("grid", "list", "latin_hypercube", "sobol_sequence", "sobol_indices", "morris")
RESULTS_FILE = "results.parquet"


class SweepParameter(Strict):
    path: str = Field(description="Dotted path into the scenario, e.g. levers.complex_care.caseload.")
    name: str | None = Field(None, description="Short column name in results (default: the path).")
    kind: Literal["value", "scale"] = Field("value", description="Set the leaves to x, or multiply them by x.")
    values: list[float] | None = Field(None, description="The values of a grid design.")
    low: float | None = Field(None, description="Lower end (uniform, triangular) or 5th percentile (normal90).")
    high: float | None = Field(None, description="Upper end (uniform, triangular) or 95th percentile (normal90).")
    distribution: Literal["uniform", "triangular", "normal90"] = Field(
        "uniform", description="How sampled designs spread x: uniform on [low, high], triangular with `mode`, "
        "or normal with [low, high] as its 90% interval (as an uncertainty interval is often given; truncated "
        "at 0 when low >= 0).")
    mode: float | None = Field(None, description="Most likely value of a triangular distribution.")
    integer: bool = Field(False, description="Round sampled values to whole numbers (e.g. a caseload).")

    @model_validator(mode="after")
    def _ranges(self) -> SweepParameter:
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.distribution == "triangular" and (self.mode is None or self.low is None or self.high is None
                                                  or not self.low <= self.mode <= self.high):
            raise ValueError("a triangular distribution needs low <= mode <= high")
        return self

    @property
    def label(self) -> str:
        return self.name or self.path

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Quantiles u in [0, 1) -> values of x under the parameter's distribution."""
        lo, hi = float(self.low), float(self.high)
        if self.distribution == "uniform":
            x = lo + (hi - lo) * u
        elif self.distribution == "triangular":
            x = stats.triang.ppf(u, (self.mode - lo) / (hi - lo), loc=lo, scale=hi - lo)
        else:
            sd = (hi - lo) / (2 * stats.norm.ppf(0.95))
            x = stats.norm.ppf(np.clip(u, 1e-9, 1 - 1e-9), loc=(lo + hi) / 2, scale=sd)
            if lo >= 0:  # a non-negative quantity (rates, FTE, shares) stays non-negative
                x = np.maximum(x, 0.0)
        return np.round(x) if self.integer else x


class Design(Strict):
    kind: Literal[DESIGNS] = Field("grid", description="grid: every combination of each parameter's values; "
                                   "list: the points given; latin_hypercube / sobol_sequence: `samples` points "
                                   "(scipy.stats.qmc); sobol_indices: SALib's Saltelli sample for first- and "
                                   "total-order Sobol indices (samples x (parameters + 2) points); morris: SALib "
                                   "Morris trajectories (samples x (parameters + 1) points).")
    samples: int = Field(16, ge=1, le=100_000, description="Points (latin_hypercube, sobol_sequence), base "
                         "sample size (sobol_indices, a power of 2) or trajectories (morris).")
    points: list[dict[str, float]] | None = Field(None, description="list design: one mapping per point, "
                                                  "{parameter name or path: value}.")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the sampler (designs are reproducible).")


class Experiment(Strict):
    name: str = Field(description="Name of the sweep.")
    description: str = Field("", description="The question it answers.")
    base: str = Field(description="Base scenario, relative to this file.")
    set: dict[str, Any] = Field(default_factory=dict, description="Fixed settings by dotted path, applied to "
                                "every run (e.g. levers.complex_care.enabled: true).")
    parameters: list[SweepParameter] = Field(min_length=1, description="What varies.")
    design: Design = Field(default_factory=Design)
    replicates: int = Field(3, ge=1, le=10_000, description="Replicates per design point (paired across points).")
    years: int = Field(1, ge=1, le=50, description="Reported years per run.")
    seed: int = Field(1, ge=0, le=2**63 - 1, description="Root seed; replicate seeds are spawned from it.")
    metrics: list[str] = Field(default_factory=lambda: ["ae_per_1000", "revisit_rate", "gp_per_1000",
                                                        "primary_care_contacts_per_person", "cost_per_person"],
                               min_length=1, description="Metrics kept per run (names as in summary.parquet).")
    sensitivity: list[str] | None = Field(None, description="Metrics to compute Sobol or Morris indices for "
                                          "(sobol_indices and morris designs; default: every metric).")
    output: str = Field(description="Output directory, relative to this file.")

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - set(replicate_metric_names()))
        if unknown:
            raise ValueError(f"unknown metrics {unknown}; e.g. {', '.join(replicate_metric_names()[:8])}, ...")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        labels = [p.label for p in self.parameters]
        if len(set(labels)) != len(labels):
            raise ValueError(f"parameter names must be unique: {labels}")
        kind = self.design.kind
        for p in self.parameters:
            if kind == "grid" and not p.values:
                raise ValueError(f"parameter {p.label}: a grid design needs `values`")
            if kind not in ("grid", "list") and (p.low is None or p.high is None):
                raise ValueError(f"parameter {p.label}: a {kind} design needs `low` and `high`")
        if kind == "list":
            if not self.design.points:
                raise ValueError("a list design needs `design.points`")
            for i, point in enumerate(self.design.points):
                missing = [lab for lab, p in zip(labels, self.parameters, strict=True)
                           if lab not in point and p.path not in point]
                if missing:
                    raise ValueError(f"design.points[{i}] has no value for {missing}")
        if self.sensitivity is not None:
            if kind not in ("sobol_indices", "morris"):
                raise ValueError("sensitivity needs a sobol_indices or morris design")
            extra = sorted(set(self.sensitivity) - set(self.metrics))
            if extra:
                raise ValueError(f"sensitivity metrics {extra} are not among `metrics`")
        return self


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: plain data only, so it pickles to any worker."""

    run_id: str
    point: int
    replicate: int
    replicates: int
    seed: int
    years: int
    scenario: dict
    metrics: tuple[str, ...]
    key: str  # hash of everything that determines the result


@dataclass
class Plan:
    """A loaded experiment: its design points, runs and output directory."""

    experiment: Experiment
    source: Path
    output: Path
    design: pd.DataFrame  # point, one column per parameter label
    unit: np.ndarray | None  # the sampler's unit-cube points (for SALib analysis)
    runs: list[RunSpec]
    base: dict  # the base scenario's data, fixed settings applied
    text: str  # the experiment file as it was read
    started: float  # when the sweep (this session of it) began, time.time()


# ---- designs ---------------------------------------------------------------------------------------------


def design_points(exp: Experiment) -> tuple[np.ndarray, np.ndarray | None]:
    """(points x parameters values, unit-cube sample or None) for the experiment's design."""
    params, d = exp.parameters, exp.design
    k = len(params)
    if d.kind == "grid":
        return np.array(list(product(*[p.values for p in params])), float), None
    if d.kind == "list":
        return np.array([[pt.get(p.label, pt.get(p.path)) for p in params] for pt in d.points], float), None
    if d.kind == "latin_hypercube":
        unit = qmc.LatinHypercube(d=k, seed=d.seed).random(d.samples)
    elif d.kind == "sobol_sequence":
        unit = qmc.Sobol(d=k, scramble=True, seed=d.seed).random(d.samples)
    else:
        from SALib.sample import morris as morris_sample
        from SALib.sample import sobol as sobol_sample

        problem = salib_problem(exp)
        if d.kind == "sobol_indices":
            unit = sobol_sample.sample(problem, d.samples, calc_second_order=False, seed=d.seed)
        else:
            unit = morris_sample.sample(problem, d.samples, num_levels=4, seed=d.seed)
    values = np.column_stack([p.from_unit(unit[:, j]) for j, p in enumerate(params)])
    return values, unit


def salib_problem(exp: Experiment) -> dict:
    """SALib problem on the unit cube: values come from each parameter's distribution by its quantiles."""
    labels = [p.label for p in exp.parameters]
    return {"num_vars": len(labels), "names": labels, "bounds": [[0.0, 1.0]] * len(labels)}


# ---- loading ---------------------------------------------------------------------------------------------


def load(path: str | Path, raw: dict | None = None, overrides: dict | None = None) -> Plan:
    """Validate an experiment file and every design point's scenario; ScenarioError names the problem.

    raw: the file's content if read already; overrides: fields set on the command line (`validate_file`)."""
    path = Path(path)
    started = time.time()
    exp = validate_file(Experiment, path, raw, overrides)
    base = resolved_data(base_path(path, exp.base))
    for dotted, value in exp.set.items():
        try:
            set_value(base, dotted, value)
        except (KeyError, ValueError) as exc:
            raise ScenarioError(path, f"set.{dotted}", f"does not reach a scenario value (missing {exc.args[0]!r})"
                                ) from None
    require(base, exp.parameters, path)
    values, unit = design_points(exp)
    integers = [p.integer or (p.values is not None and all(float(v).is_integer() for v in p.values))
                for p in exp.parameters]  # whole numbers stay integers (caseloads, days); ranges stay real
    runs = []
    for i, x in enumerate(values):
        data = apply(base, exp.parameters, x, path)
        for j, p in enumerate(exp.parameters):
            if integers[j] and p.kind == "value":
                for container, key in leaves(data, parse_path(p.path)):
                    container[key] = round(float(x[j]))
        try:
            from_dict(data, path)
        except ScenarioError as exc:
            point = ", ".join(f"{p.label}={v:g}" for p, v in zip(exp.parameters, x, strict=True))
            raise ScenarioError(path, f"design point {i} ({point}): {exc.field}", exc.message) from None
        data["simulation"]["years"] = exp.years
        for r in range(exp.replicates):
            key = hashlib.sha256(json.dumps([data, exp.seed, exp.replicates, r, exp.metrics], sort_keys=True,
                                            default=str).encode()).hexdigest()[:16]
            runs.append(RunSpec(run_id=f"p{i:05d}-r{r:03d}", point=i, replicate=r, replicates=exp.replicates,
                                seed=exp.seed, years=exp.years, scenario=data, metrics=tuple(exp.metrics), key=key))
    design = pd.DataFrame(values, columns=[p.label for p in exp.parameters]).rename_axis("point").reset_index()
    return Plan(experiment=exp, source=path, output=check_output(path, exp.output, "directory"), design=design,
                unit=unit, runs=runs, base=base, text=path.read_text(encoding="utf-8"), started=started)


# ---- running ---------------------------------------------------------------------------------------------


def run_task(spec: RunSpec) -> dict:
    """Simulate one run and return plain data (what a worker sends back)."""
    from ..run import run

    started = time.perf_counter()
    sc = from_dict(spec.scenario)
    # one thread per run: a sweep's parallelism is its runs, one per worker
    res = run(sc, seed=spec.seed, reps=spec.replicates, replicates=[spec.replicate], threads=1)
    values = per_replicate(res, spec.metrics).iloc[:, 0]
    return {"run_id": spec.run_id, "key": spec.key, "point": spec.point, "replicate": spec.replicate,
            "seed": int(res.seeds[0]), "metrics": {m: float(values.get(m, np.nan)) for m in spec.metrics},
            "wall_seconds": time.perf_counter() - started, "worker_pid": os.getpid()}


# what a sweep writes into its output folder
RUN_NAMES = ("runs", "results.parquet", "results.csv", "summary.parquet", "summary.csv", "sensitivity.csv",
             "sensitivity.png", "sweep.png", "datapackage.json", *origin.NAMES)


@contextmanager
def claim(plan: Plan, overwrite: bool = False, notify: Callable[[str], None] | None = None) -> Iterator[outdir.Claim]:
    """The sweep's output folder, claimed (`pcnsim.outdir`): absent, empty or a sweep's, and one sweep at a
    time, holding no other experiment's runs. Use around `execute`. overwrite: start again rather than resume:
    an earlier sweep's results there (the files a sweep writes, nothing else) are deleted first."""
    with outdir.Claim(plan.output, what="output", resumable=RUN_NAMES, notify=notify) as held:
        if overwrite:
            runs = plan.output / "runs"
            for record in runs.glob("p*-r*.json*") if runs.is_dir() else []:
                record.unlink()
            with suppress(OSError):
                runs.rmdir()
            for name in RUN_NAMES[1:]:
                (plan.output / name).unlink(missing_ok=True)
        _done(plan, notify)  # another experiment's runs are refused before anything starts
        yield held


def _record(path: Path) -> dict | str:
    """A finished run's record, or why it cannot be used (unreadable, incomplete or edited)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return f"not readable JSON ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
    if not isinstance(record, dict) or not {"run_id", "key", "point", "replicate", "seed", "metrics"} <= set(record):
        return "not a complete run record"
    if not verify.sealed(record, "sha256"):
        return "altered since pcnsim wrote it (its checksum differs)"
    if f"{record['run_id']}.json" != path.name:
        return f"holds run {record['run_id']!r}, not the run its name says"
    return record


def _done(plan: Plan, notify: Callable[[str], None] | None = None) -> dict[str, dict]:
    """Finished runs on disk (run id -> record); a record of a different experiment is an error. A damaged
    or edited record is set aside as `<id>.json.corrupt` (never deleted), so that run is simulated again."""
    folder = plan.output / "runs"
    keys = {r.run_id: r.key for r in plan.runs}
    done = {}
    for f in folder.glob(f".*.json{atomic.TEMP_INFIX}*") if folder.exists() else []:
        f.unlink(missing_ok=True)  # a record half-written by a killed sweep (atomic.write_bytes' temporary)
    for f in sorted(folder.glob("*.json")) if folder.exists() else []:
        record = _record(f)
        if isinstance(record, str):
            aside = f.with_name(f.name + ".corrupt")
            n = 1
            while aside.exists():
                aside, n = f.with_name(f"{f.name}.{n}.corrupt"), n + 1
            os.replace(f, aside)
            message = f"{f}: {record}; set aside as {aside.name}, its run will be simulated again"
            if notify is None:
                warnings.warn(message, stacklevel=2)
            else:
                notify(message)
            continue
        if keys.get(record["run_id"]) != record["key"]:
            raise ScenarioError(plan.source, "output", f"{plan.output} holds runs of a different experiment "
                                f"({f.name}); choose another output directory or remove it")
        done[record["run_id"]] = record
    return done


def execute(plan: Plan, workers: Workers, progress: Callable[[int, int], None] | None = None,
            notify: Callable[[str], None] | None = None) -> dict[str, dict]:
    """Run every unfinished run of the plan on the workers (a few in flight at a time), writing each
    result as it arrives (with a checksum of its content, checked on resume).

    progress(done, total) is called after each run; notify(message) about damaged records set aside (default:
    a warning). Returns every record (old and new)."""
    plan.output.mkdir(parents=True, exist_ok=True)
    outdir.mark(plan.output, "sweep")
    (plan.output / "runs").mkdir(exist_ok=True)
    done = _done(plan, notify)
    todo = [r for r in plan.runs if r.run_id not in done]
    if todo:  # a manifest says the folder is complete: not while runs are added
        (plan.output / "manifest.json").unlink(missing_ok=True)
    total = len(plan.runs)
    if progress:
        progress(len(done), total)
    pending: set[Future] = set()
    queue = iter(todo)

    def top_up() -> None:
        for spec in queue:
            pending.add(workers.executor.submit(run_task, spec))
            if len(pending) >= workers.slots:
                break

    top_up()
    while pending:
        finished = next(as_completed(pending))
        pending.discard(finished)
        record = verify.seal(finished.result(), "sha256")
        atomic.write_text(plan.output / "runs" / f"{record['run_id']}.json", json.dumps(record))
        done[record["run_id"]] = record
        if progress:
            progress(len(done), total)
        top_up()
    return done


def combine(plan: Plan, records: dict[str, dict]) -> pd.DataFrame:
    """One row per run: run id, point, replicate, seed, the parameter values, then the metrics."""
    rows = [{"run_id": r["run_id"], "point": r["point"], "replicate": r["replicate"], "seed": r["seed"],
             **r["metrics"]} for r in records.values()]
    table = pd.DataFrame(rows).sort_values("run_id").reset_index(drop=True)
    table = table.merge(plan.design, on="point", how="left")
    labels = [p.label for p in plan.experiment.parameters]
    return table[["run_id", "point", "replicate", "seed", *labels, *plan.experiment.metrics]]


def point_summary(plan: Plan, table: pd.DataFrame) -> pd.DataFrame:
    """Per design point and metric: mean over replicates and its 95% t-interval."""
    from .compare import paired_interval

    labels = [p.label for p in plan.experiment.parameters]
    rows = []
    for point, group in table.groupby("point"):
        for metric in plan.experiment.metrics:
            mean, lo, hi = paired_interval(group[metric].to_numpy())
            rows.append({"point": point, **group.iloc[0][labels].to_dict(), "metric": metric, "mean": mean,
                         "low_95": lo, "high_95": hi})
    return pd.DataFrame(rows)


def sensitivity(plan: Plan, table: pd.DataFrame) -> pd.DataFrame:
    """Sobol (S1, ST) or Morris (mu*, sigma) indices per metric and parameter, on replicate means."""
    exp = plan.experiment
    problem = salib_problem(exp)
    means = table.groupby("point")[exp.metrics].mean().sort_index()
    rows = []
    for metric in exp.sensitivity or exp.metrics:
        y = means[metric].to_numpy()
        if exp.design.kind == "sobol_indices":
            from SALib.analyze import sobol

            si = sobol.analyze(problem, y, calc_second_order=False, seed=exp.design.seed)
            for j, name in enumerate(problem["names"]):
                rows.append({"metric": metric, "parameter": name, "S1": si["S1"][j], "S1_conf": si["S1_conf"][j],
                             "ST": si["ST"][j], "ST_conf": si["ST_conf"][j]})
        else:
            from SALib.analyze import morris

            si = morris.analyze(problem, plan.unit, y, num_levels=4, seed=exp.design.seed)
            for j, name in enumerate(problem["names"]):
                rows.append({"metric": metric, "parameter": name, "mu_star": si["mu_star"][j],
                             "mu_star_conf": si["mu_star_conf"][j], "sigma": si["sigma"][j], "mu": si["mu"][j]})
    return pd.DataFrame(rows)


def described(plan: Plan) -> dict[str, list[dictionary.Column]]:
    """The columns of the sweep's tables (`pcnsim.dictionary`), with its parameters and metrics in place of the
    entries' patterns, and the index columns of its design's sensitivity.csv."""
    exp = plan.experiment
    names = {"<parameter>": [p.label for p in exp.parameters], "<metric>": list(exp.metrics),
             "<index>": list(dictionary.SENSITIVITY_INDICES.get(exp.design.kind, ()))}
    return {file: dictionary.expand(cols, names) for file, cols in dictionary.SWEEP_TABLES.items()}


def write_outputs(plan: Plan, records: dict[str, dict]) -> list[Path]:
    """From every run's record: results.parquet/.csv, summary.parquet/.csv, for sensitivity designs
    sensitivity.csv and .png (else sweep.png, for up to two parameters), datapackage.json (the tables'
    columns), then the experiment's copy, its resolved base scenario and, last, the manifest (`origin.keep`),
    listing the runs' records too."""
    from .. import plots

    out = plan.output
    (out / "manifest.json").unlink(missing_ok=True)  # complete again once the new manifest is written
    table = combine(plan, records)
    columns = described(plan)
    written = []
    for name, frame in (("results", table), ("summary", point_summary(plan, table))):
        for file in (f"{name}.parquet", f"{name}.csv"):
            dictionary.write(frame, out / file, columns[file])
            written.append(out / file)
    if plan.experiment.design.kind in ("sobol_indices", "morris"):
        si = sensitivity(plan, table)
        dictionary.write(si, out / "sensitivity.csv", columns["sensitivity.csv"])
        plots.save(plots.sensitivity(si, plan.experiment.design.kind), out / "sensitivity.png")
        written += [out / "sensitivity.csv", out / "sensitivity.png"]
    else:
        figure = plots.sweep(point_summary(plan, table), [p.label for p in plan.experiment.parameters],
                             plan.experiment.metrics)
        if figure is not None:
            plots.save(figure, out / "sweep.png")
            written.append(out / "sweep.png")
    dictionary.write_datapackage(out, columns, plan.experiment.name)
    written.append(out / "datapackage.json")
    exp = plan.experiment
    seeds = {"root": exp.seed, "replicates": [seed for _, seed in sorted({(r["replicate"], r["seed"])
                                                                         for r in records.values()})],
             "design": exp.design.seed}
    origin.keep(out, "sweep", plan.text, plan.base, exp.seed, exp.years, plan.started, seeds, subfolders=("runs",),
                points=len(plan.design), runs=len(table),
                run_seconds=round(sum(r.get("wall_seconds", 0.0) for r in records.values()), 3))
    return [*written, *(out / name for name in origin.NAMES)]


def sweep(experiment: str | Path, workers: int | None = None, scheduler: str | None = None,
          progress: Callable[[int, int], None] | None = None, overrides: dict | None = None,
          overwrite: bool = False) -> pd.DataFrame:
    """Run (or resume; with overwrite, run again) an experiment file and return one row per run; writes the
    outputs to its directory. overrides: fields replacing the file's (`load`)."""
    plan = load(experiment, overrides=overrides)
    with claim(plan, overwrite):
        pool = executor_for(workers, scheduler)
        try:
            records = execute(plan, pool, progress)
        except BaseException:
            pool.stop()
            raise
        pool.close()
        write_outputs(plan, records)
    return combine(plan, records)
