"""Commands that run experiment files: sweep, optimise, calibrate."""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from .. import registry, stops
from ..metrics import format_number
from .common import (
    UserError,
    app,
    console,
    err_console,
    examples,
    note,
    option,
    progress_bar,
    user_errors,
)


def file_overrides(out: Path | None, reps: int | None, years: int | None, seed: int | None) -> dict:
    """The experiment fields the command line replaces: --out (taken from the working folder, not the
    file's), --reps, --years and --seed, where given."""
    given = {"output": str(out.absolute()) if out is not None else None, "replicates": reps, "years": years,
             "seed": seed}
    return {field: value for field, value in given.items() if value is not None}


@app.command("sweep", epilog=examples(
    "pcnsim sweep experiments/complex_care_x_social_prescribing.yaml",
    "pcnsim sweep experiments/ae_drivers_sobol.yaml --reps 1 --out quick",
    "pcnsim sweep experiments/ae_drivers_sobol.yaml --scheduler tcp://HOST:8786",
))
def sweep_command(
    experiment: Annotated[Path, typer.Argument(help="Experiment YAML (e.g. experiments/complex_care_x_social_"
                                                    "prescribing.yaml).", show_default=False)],
    out: Annotated[Path | None, option("out", "The sweep's folder; default: the experiment's output.")] = None,
    overwrite: Annotated[bool, option("overwrite", "Only a sweep's folder, and only what a sweep writes, is "
                                      "replaced. Without it a sweep resumes: finished runs are kept and skipped.")
                         ] = False,
    reps: Annotated[int | None, option("reps", "Default: the experiment's replicates.", min=1, max=10_000)] = None,
    years: Annotated[int | None, option("years", "Default: the experiment's years.", min=1, max=50)] = None,
    seed: Annotated[int | None, option("seed", "Default: the experiment's seed.", min=0)] = None,
    threads: Annotated[int | None, option("threads", "One run to a process (1: in this process); with --scheduler "
                                          "the cluster's workers decide.", min=1, max=1024)] = None,
    scheduler: Annotated[str | None, typer.Option(help="Run on a Dask cluster: the scheduler's address, e.g. "
                                                  "tcp://10.0.0.5:8786 (pcnsim installed on every worker).")] = None,
    workers: Annotated[int | None, typer.Option(min=1, max=1024, hidden=True, help="The former name of --threads.")
                       ] = None,
) -> None:
    """Run a parameter sweep (grid, list, Latin hypercube, Sobol sequence, Sobol indices or Morris); rerun the
    same command to resume: finished runs are kept and skipped. --reps, --years, --seed and --out replace
    the experiment file's replicates, years, seed and output."""
    from ..experiments import executors, sweep

    stops.terminate_as_interrupt()
    with user_errors(), ExitStack() as held:
        threads = threads or workers
        plan = sweep.load(experiment, overrides=file_overrides(out, reps, years, seed))
        held.enter_context(sweep.claim(plan, overwrite, notify=note))
        try:
            pool = executors.executor_for(threads, scheduler)
        except ConnectionError as exc:
            raise UserError(str(exc)) from None
        where = scheduler or f"{threads or os.cpu_count()} local worker(s)"
        n_done = 0
        try:
            with progress_bar("runs", transient=False) as bar:
                task = bar.add_task(f"{plan.experiment.name}: {len(plan.design)} points x "
                                    f"{plan.experiment.replicates} replicates on {where}", total=len(plan.runs))

                def progress(done: int, total: int) -> None:
                    nonlocal n_done
                    n_done = done
                    bar.update(task, completed=done)

                records = sweep.execute(plan, pool, progress, notify=note)
        except KeyboardInterrupt:
            pool.stop()
            err_console.print(f"interrupted: {n_done} of {len(plan.runs)} runs are saved in {plan.output / 'runs'}; "
                              "rerun the same command to finish the sweep", markup=False, highlight=False,
                              soft_wrap=True)  # one line: a path broken across lines cannot be copied
            raise typer.Exit(code=130) from None
        pool.close()
        written = sweep.write_outputs(plan, records)
    typer.echo(f"{len(records)} runs. Results: {plan.output} ({', '.join(p.name for p in written)}); "
               f"a report: pcnsim report {plan.output}")

@app.command("optimise", epilog=examples(
    "pcnsim optimise experiments/workforce.yaml",
    "pcnsim optimise experiments/workforce.yaml --reps 2 --out quick --overwrite",
))
def optimise_command(
    experiment: Annotated[Path, typer.Argument(help="Workforce experiment YAML (e.g. experiments/workforce.yaml).",
                                               show_default=False)],
    out: Annotated[Path | None, option("out", "The results folder; default: the experiment's output.")] = None,
    overwrite: Annotated[bool, option("overwrite", "Only an optimiser's folder is replaced.")] = False,
    reps: Annotated[int | None, option("reps", "Default: the experiment's replicates (each trial's; the "
                                       "validation has its own).", min=1, max=1000)] = None,
    years: Annotated[int | None, option("years", "Default: the experiment's years.", min=1, max=50)] = None,
    seed: Annotated[int | None, option("seed", "Default: the experiment's seed.", min=0)] = None,
    threads: Annotated[int | None, option("threads", min=1, max=1024)] = None,
) -> None:
    """Find where staff should sit (which practice or the network pool) and how many of each role, for a
    budget: simple policies first, then an Optuna search on common random numbers, then the best against
    each policy on fresh seeds. Writes best.yaml, trials.csv, validation.csv and tradeoff.png. --reps,
    --years, --seed and --out replace the experiment file's replicates, years, seed and output."""
    from ..experiments import optimise

    stops.terminate_as_interrupt()
    with user_errors(), ExitStack() as held:
        changes = file_overrides(out, reps, years, seed)
        problem = optimise.load(experiment, overrides=changes)  # fail fast on a bad file
        held.enter_context(optimise.claim(problem, overwrite, notify=note))
        with progress_bar("runs", transient=False) as bar:
            task = bar.add_task(f"{problem.exp.name}: policies + {problem.exp.trials} trials x "
                                f"{problem.exp.replicates} replicates", total=len(optimise.workforce.POLICIES)
                                + problem.exp.trials)
            outcome = optimise.optimise(experiment, progress=lambda done, total: bar.update(task, completed=done,
                                                                                            total=total),
                                        claimed=True, overrides=changes, threads=threads)
    top = Table(title=f"{problem.exp.name}: best allocations (objective, mean and 95% interval over "
                      f"{problem.exp.replicates} replicates)", title_justify="left")
    for col in ("allocation", "objective", "95% interval", "staff cost"):
        top.add_column(col, justify="left" if col == "allocation" else "right")
    shown = outcome.trials.head(5)
    shown = pd.concat([shown, outcome.trials[outcome.trials["kind"] == "policy"]]).drop_duplicates("label")
    for row in shown.itertuples():
        top.add_row(row.label, format_number(row.objective), f"{row.low_95:.4g} to {row.high_95:.4g}",
                    f"£{row.staff_cost:,.0f}")
    console.print(top)
    val = Table(title=f"best vs each policy on {problem.exp.validation_replicates} fresh replicates (paired)",
                title_justify="left")
    for col in ("policy", "measure", "policy value", "best - policy", "95% interval"):
        val.add_column(col, justify="left" if col in ("policy", "measure") else "right")
    for row in outcome.validation.itertuples():
        val.add_row(row.policy, registry.label(row.measure), format_number(row.policy_value), f"{row.diff:+.4g}",
                    f"{row.low_95:+.4g} to {row.high_95:+.4g}")
    console.print(val)
    typer.echo(f"Results: {problem.output} (best.yaml, trials.csv, validation.csv, tradeoff.png); a report: "
               f"pcnsim report {problem.output}")

@app.command("calibrate", epilog=examples(
    "pcnsim calibrate experiments/calibration.yaml --overwrite   # refit baseline",
    "pcnsim calibrate experiments/calibration.yaml --out fitted.yaml --seed 8",
))
def calibrate_command(
    experiment: Annotated[Path, typer.Argument(help="Calibration experiment YAML (e.g. experiments/calibration.yaml).",
                                               show_default=False)],
    out: Annotated[Path | None, option("out", "The fitted scenario file; default: the experiment's output.")
                   ] = None,
    overwrite: Annotated[bool, option("overwrite", "Only a scenario pcnsim calibrate wrote is replaced.")] = False,
    reps: Annotated[int | None, option("reps", "Default: the experiment's replicates (each evaluation's).", min=1,
                                       max=100)] = None,
    years: Annotated[int | None, option("years", "Default: the experiment's years (at least 2).", min=1, max=50)
                     ] = None,
    seed: Annotated[int | None, option("seed", "Default: the experiment's seed.", min=0)] = None,
    threads: Annotated[int | None, option("threads", min=1, max=1024)] = None,
) -> None:
    """Fit free parameters to the evidence targets and write the calibrated scenario (extends the base).
    --reps, --years, --seed and --out replace the experiment file's replicates, years, seed and output."""
    from ..experiments import calibrate as cal
    from ..targets import measure_label

    with user_errors():
        changes = file_overrides(out, reps, years, seed)
        exp, _ = cal.load_experiment(experiment, overrides=changes)
        with progress_bar("evaluations") as bar:
            task = bar.add_task(f"{exp.name}: evaluations (best cost so far)", total=exp.optimiser.max_evaluations)
            best = [float("inf")]

            def step(n: int, cost: float) -> None:
                best[0] = min(best[0], cost)
                bar.update(task, completed=n, description=f"{exp.name}: evaluations (best cost {best[0]:.3f})")

            report = cal.calibrate(experiment, progress=step, overrides=changes, overwrite=overwrite,
                                   threads=threads)
    typer.echo(f"{report['evaluations']} evaluations, cost {report['cost']:.4f} ({report['status']})")
    for path, x in report["x"].items():
        typer.echo(f"  {path} = {x:.6g}")
    for row in report["fit"].itertuples():
        mark = "in range " if row.in_range else "OUT      "
        typer.echo(f"  {mark} {measure_label(row.measure):45s} {row.model:10.3f}  [{row.low:g}, {row.high:g}]")
    typer.echo(f"wrote {report['output']} and the fit's record in {report['results']}; a report: pcnsim report "
               f"{report['results']}")
