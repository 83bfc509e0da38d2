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
    note,
    progress_bar,
    user_errors,
)


@app.command("sweep")
def sweep_command(
    experiment: Annotated[Path, typer.Argument(help="Experiment YAML (e.g. experiments/complex_care_x_social_"
                                                    "prescribing.yaml).", show_default=False)],
    workers: Annotated[int | None, typer.Option(min=1, max=1024, help="Local worker processes (default: every "
                                                "core; 1 runs in this process).")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Run on a Dask cluster: the scheduler's address, e.g. "
                                                  "tcp://10.0.0.5:8786 (pcnsim installed on every worker).")] = None,
) -> None:
    """Run a parameter sweep (grid, list, Latin hypercube, Sobol sequence, Sobol indices or Morris); rerun the
    same command to resume: finished runs are kept and skipped."""
    from ..experiments import sweep

    stops.terminate_as_interrupt()
    with user_errors(), ExitStack() as held:
        plan = sweep.load(experiment)
        held.enter_context(sweep.claim(plan, notify=note))
        try:
            pool = sweep.executor_for(workers, scheduler)
        except ConnectionError as exc:
            raise UserError(str(exc)) from None
        where = scheduler or f"{workers or os.cpu_count()} local worker(s)"
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

@app.command("optimise")
def optimise_command(
    experiment: Annotated[Path, typer.Argument(help="Workforce experiment YAML (e.g. experiments/workforce.yaml).",
                                               show_default=False)],
) -> None:
    """Find where staff should sit (which practice or the network pool) and how many of each role, for a
    budget: simple policies first, then an Optuna search on common random numbers, then the best against
    each policy on fresh seeds. Writes best.yaml, trials.csv, validation.csv and tradeoff.png."""
    from ..experiments import optimise

    stops.terminate_as_interrupt()
    with user_errors(), ExitStack() as held:
        problem = optimise.load(experiment)  # fail fast on a bad file
        held.enter_context(optimise.claim(problem, notify=note))
        with progress_bar("runs", transient=False) as bar:
            task = bar.add_task(f"{problem.exp.name}: policies + {problem.exp.trials} trials x "
                                f"{problem.exp.replicates} replicates", total=len(optimise.workforce.POLICIES)
                                + problem.exp.trials)
            outcome = optimise.optimise(experiment, progress=lambda done, total: bar.update(task, completed=done,
                                                                                            total=total), claimed=True)
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

@app.command("calibrate")
def calibrate_command(
    experiment: Annotated[Path, typer.Argument(help="Calibration experiment YAML (e.g. experiments/calibration.yaml).",
                                               show_default=False)],
) -> None:
    """Fit free parameters to the evidence targets and write the calibrated scenario (extends the base)."""
    from ..experiments import calibrate as cal
    from ..targets import measure_label

    with user_errors():
        exp, _ = cal.load_experiment(experiment)
        with progress_bar("evaluations") as bar:
            task = bar.add_task(f"{exp.name}: evaluations (best cost so far)", total=exp.optimiser.max_evaluations)
            best = [float("inf")]

            def step(n: int, cost: float) -> None:
                best[0] = min(best[0], cost)
                bar.update(task, completed=n, description=f"{exp.name}: evaluations (best cost {best[0]:.3f})")

            report = cal.calibrate(experiment, progress=step)
    typer.echo(f"{report['evaluations']} evaluations, cost {report['cost']:.4f} ({report['status']})")
    for path, x in report["x"].items():
        typer.echo(f"  {path} = {x:.6g}")
    for row in report["fit"].itertuples():
        mark = "in range " if row.in_range else "OUT      "
        typer.echo(f"  {mark} {measure_label(row.measure):45s} {row.model:10.3f}  [{row.low:g}, {row.high:g}]")
    typer.echo(f"wrote {report['output']} and the fit's record in {report['results']}; a report: pcnsim report "
               f"{report['results']}")
