"""The `pcnsim` command line: run, compare, deep-dive, sweep, optimise, calibrate, report, dashboard,
describe, validate and schema.

Interfaces call the public API (`run`, `load`, ...) only, never the kernels. User mistakes (a bad
scenario, an unwritable --out) print one line `error: FILE: field: message` to stderr and exit 2.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from . import atomic
from .metrics import format_number
from .scenario import ScenarioError

app = typer.Typer(
    name="pcnsim",
    help="Simulate an NHS Primary Care Network: patients, practices, network services and A&E.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


class UserError(Exception):
    """A mistake the user can fix (bad path, occupied output directory): one line, exit code 2."""


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn user mistakes into one line on stderr and exit code 2, with no traceback."""
    try:
        yield
    except (ScenarioError, UserError) as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None


@app.command("validate")
def validate_command(
    files: Annotated[list[Path], typer.Argument(help="Scenario YAML files to check.", show_default=False)],
) -> None:
    """Check scenario files against the schema (resolving extends:); one line per file."""
    from .scenario import load

    with user_errors():
        for path in files:
            sc = load(path)
            n_practices = sum(len(p.practices) for p in sc.pcns)
            typer.echo(f"ok: {path}: {sc.name}: {sc.n_patients:,} patients, {n_practices} practices, "
                       f"{len(sc.pcns)} PCN(s)")


@app.command("schema")
def schema_command(
    out: Annotated[Path | None, typer.Option(help="Write the JSON Schema to this file instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of scenario files (for editor autocompletion and documentation)."""
    from .scenario import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    with user_errors():
        try:
            atomic.write_text(out, text)
        except OSError as exc:
            raise UserError(f"{out}: cannot write ({exc.strerror})") from None
    typer.echo(f"wrote {out}")


@app.command("run")
def run_command(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario YAML file (default: the embedded baseline).",
                                                       show_default=False)] = None,
    years: Annotated[int | None, typer.Option(min=1, max=50, help="Reported years (default: scenario's).")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Root seed (default: scenario's simulation.seed).")] = None,
    reps: Annotated[int, typer.Option(min=1, max=10_000, help="Replicates (seeds spawned from the root seed).")] = 1,
    out: Annotated[Path | None, typer.Option(help="Results directory (default: results/<name>-<date-time>).")] = None,
    ledger: Annotated[bool, typer.Option(help="Also keep one row per touchpoint (ledger.parquet).")] = False,
    patients: Annotated[bool, typer.Option(help="Keep the per-patient yearly table (patients_yearly.parquet).")
                        ] = True,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing results directory written by pcnsim.")] = False,
    threads: Annotated[int | None, typer.Option(min=1, max=1024, help="Threads to use (default: one per core); "
                                                "the numbers do not depend on it.")] = None,
) -> None:
    """Simulate a scenario and write its results; prints a summary with 95% intervals over replicates."""
    from . import memory
    from .results import ResultsError
    from .run import resolve_scenario, run

    with user_errors():
        sc = resolve_scenario(scenario, years)
        memory.check(sc, reps, ledger, patients, source=scenario, at_once=threads or os.cpu_count() or 1)
        root = sc.simulation.seed if seed is None else seed
        target = out or Path("results") / f"{sc.name}-{datetime.now():%Y%m%d-%H%M%S}"
        _check_out_dir(target, overwrite)
        total_days = reps * (sc.simulation.burn_in_years + sc.simulation.years) * 364
        _compile_engine_once()
        with _progress() as bar:
            task = bar.add_task(f"{sc.name}: {sc.n_patients:,} patients x {reps} replicate(s)", total=total_days)
            res = run(sc, seed=root, reps=reps, ledger=ledger, patients=patients, threads=threads,
                      progress=lambda days: bar.advance(task, days))
        try:
            with err_console.status(f"Writing the results to {target} ..."):  # ~10 s for 100 replicates x 5 years
                res.save(target, overwrite=overwrite)
        except ResultsError as exc:
            raise UserError(str(exc)) from None
    console.print(_headline_table(res, f"{sc.name}: {sc.simulation.years} year(s), {reps} replicate(s), seed {root}"))
    rate = res.patient_days / res.wall_seconds if res.wall_seconds else float("nan")
    typer.echo(f"{res.patient_days:,} patient-days in {res.wall_seconds:.1f} s ({rate / 1e6:.0f}M/s). "
               f"Results: {target}")


@app.command("compare")
def compare_command(
    base: Annotated[Path, typer.Argument(help="Baseline scenario YAML.", show_default=False)],
    others: Annotated[list[Path], typer.Argument(help="Scenario(s) to compare with it.", show_default=False)],
    years: Annotated[int | None, typer.Option(min=1, max=50, help="Reported years (default: scenario's).")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Root seed shared by every scenario.")] = None,
    reps: Annotated[int, typer.Option(min=2, max=10_000, help="Replicates (paired across scenarios).")] = 5,
    out: Annotated[Path | None, typer.Option(help="Output directory (default: results/compare-<date-time>).")] = None,
) -> None:
    """Paired comparison with common random numbers: each metric's difference from the baseline, with a
    95% interval over replicates, and who it changes (age, deprivation, practice, complex needs)."""
    from . import plots
    from .compare import KEY_METRICS, compare
    from .scenario import load

    with user_errors():
        scenarios = [load(p) for p in [base, *others]]  # fail fast on a bad file
        target = out or Path("results") / f"compare-{datetime.now():%Y%m%d-%H%M%S}"
        _check_out_dir(target, overwrite=False)
        n_days = sum((sc.simulation.burn_in_years + (years or sc.simulation.years)) * 364 for sc in scenarios)
        _compile_engine_once()
        with _progress() as bar:
            task = bar.add_task(f"{len(scenarios)} scenarios x {reps} paired replicates", total=n_days * reps)
            result = compare(scenarios[0], scenarios[1:], seed=seed, years=years, reps=reps,
                             progress=lambda days: bar.advance(task, days))
    result.save(target)
    plots.save(plots.comparison(result.table, KEY_METRICS), target / "comparison.png")
    for name in list(result.results)[1:]:
        table = Table(title=f"{name} vs {result.base} ({reps} paired replicates)", title_justify="left")
        for col, justify in (("metric", "left"), ("baseline", "right"), ("difference", "right"),
                             ("95% interval", "right")):
            table.add_column(col, justify=justify)
        rows = result.table[(result.table["scenario"] == name) & result.table["metric"].isin(KEY_METRICS)]
        for row in rows.itertuples():
            table.add_row(row.metric, format_number(row.base), f"{row.diff:+.4g}",
                          f"{row.low_95:+.4g} to {row.high_95:+.4g}")
        console.print(table)
    typer.echo(f"Results: {target} (comparison.csv, by_group.parquet, comparison.png)")


@app.command("deep-dive")
def deep_dive_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML (the lever side).", show_default=False)],
    patients: Annotated[str, typer.Option(help="Who: top-fa:N (most primary-care contacts in the base run) or "
                                               "patient ids, e.g. 12,345.")] = "top-fa:5",
    base: Annotated[Path | None, typer.Option(help="Base scenario (default: the embedded baseline).")] = None,
    years: Annotated[int | None, typer.Option(min=1, max=10, help="Reported years (default: scenario's).")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Root seed (default: the base's simulation.seed).")] = None,
    out: Annotated[Path | None, typer.Option(help="Also write the timelines to this CSV file.")] = None,
) -> None:
    """Each chosen patient's dated touchpoint timeline (GP, nurse, network, A&E, admissions, outpatients),
    base and lever side by side: the notes review a PCN meeting looks at."""
    from .deepdive import deep_dive

    with user_errors():
        sc = load_or_fail(scenario)
        base_sc = load_or_fail(base)
        n_days = 2 * (sc.simulation.burn_in_years + (years or sc.simulation.years)) * 364
        with _progress() as bar:
            task = bar.add_task("running base and lever with the touchpoint ledger", total=n_days)
            try:
                dive = deep_dive(sc, base_sc, patients=patients, years=years, seed=seed)
            except ValueError as exc:
                raise UserError(str(exc)) from None
            bar.update(task, completed=n_days)
        if out is not None:
            try:
                atomic.write_text(out, dive.timelines.to_csv(index=False))
            except OSError as exc:
                raise UserError(f"{out}: cannot write ({exc.strerror})") from None
    for pid in dive.patient_ids:
        prof = dive.profiles[dive.profiles["patient_id"] == pid]
        first = prof.iloc[0]
        totals = prof.groupby("scenario", sort=False)[["primary_care_contacts", "ae", "admission", "revisits",
                                                       "mdt_enrolled_months"]].sum()
        summary = "; ".join(f"{name}: {int(t.primary_care_contacts)} contacts, {int(t.ae)} A&E, "
                            f"{int(t.admission)} admissions, {int(t.revisits)} revisits"
                            + (f", {int(t.mdt_enrolled_months)} months with the complex-care team"
                               if t.mdt_enrolled_months else "")
                            for name, t in totals.reindex(dive.names).dropna().iterrows())
        table = Table(title=f"patient {pid}: {first.practice}, {first.sex} aged {first.age}, deprivation quintile "
                            f"{first.deprivation}, {first.segment}, complexity {first.complexity}\n{summary}",
                      title_justify="left")
        table.add_column("day", justify="right")
        for name in dive.names:
            table.add_column(name)
        for row in dive.side_by_side(pid).itertuples(index=False):
            table.add_row(str(row[0]), *row[1:])
        console.print(table)
    if out is not None:
        typer.echo(f"wrote {out}")


def load_or_fail(path: Path | None):
    """The scenario at `path` (None: the embedded baseline); a bad file is a one-line ScenarioError."""
    from .scenario import load

    return load(path)


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
    from . import sweep

    with user_errors():
        plan = sweep.load(experiment)
        try:
            pool = sweep.executor_for(workers, scheduler)
        except ConnectionError as exc:
            raise UserError(str(exc)) from None
        where = scheduler or f"{workers or os.cpu_count()} local worker(s)"
        n_done = 0
        try:
            with _progress("runs", transient=False) as bar:
                task = bar.add_task(f"{plan.experiment.name}: {len(plan.design)} points x "
                                    f"{plan.experiment.replicates} replicates on {where}", total=len(plan.runs))

                def progress(done: int, total: int) -> None:
                    nonlocal n_done
                    n_done = done
                    bar.update(task, completed=done)

                records = sweep.execute(plan, pool, progress)
        except KeyboardInterrupt:
            pool.close()
            err_console.print(f"interrupted: {n_done} of {len(plan.runs)} runs are saved in {plan.output / 'runs'}; "
                              "rerun the same command to finish the sweep", markup=False, highlight=False,
                              soft_wrap=True)  # one line: a path broken across lines cannot be copied
            raise typer.Exit(code=130) from None
        pool.close()
        table = sweep.combine(plan, records)
        written = sweep.write_outputs(plan, table)
    typer.echo(f"{len(table)} runs. Results: {plan.output} ({', '.join(p.name for p in written)})")


@app.command("optimise")
def optimise_command(
    experiment: Annotated[Path, typer.Argument(help="Workforce experiment YAML (e.g. experiments/workforce.yaml).",
                                               show_default=False)],
) -> None:
    """Find where staff should sit (which practice or the network pool) and how many of each role, for a
    budget: simple policies first, then an Optuna search on common random numbers, then the best against
    each policy on fresh seeds. Writes best.yaml, trials.csv, validation.csv and tradeoff.png."""
    from . import optimise

    with user_errors():
        problem = optimise.load(experiment)  # fail fast on a bad file
        with _progress("runs", transient=False) as bar:
            task = bar.add_task(f"{problem.exp.name}: policies + {problem.exp.trials} trials x "
                                f"{problem.exp.replicates} replicates", total=len(optimise.workforce.POLICIES)
                                + problem.exp.trials)
            outcome = optimise.optimise(experiment, progress=lambda done, total: bar.update(task, completed=done,
                                                                                            total=total))
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
        val.add_row(row.policy, row.measure, format_number(row.policy_value), f"{row.diff:+.4g}",
                    f"{row.low_95:+.4g} to {row.high_95:+.4g}")
    console.print(val)
    typer.echo(f"Results: {problem.output} (best.yaml, trials.csv, validation.csv, tradeoff.png)")


@app.command("dashboard")
def dashboard_command(
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to serve on (0: any free port).")] = 8765,
    host: Annotated[str, typer.Option(help="Address to listen on; 0.0.0.0 opens it to the network.")] = "127.0.0.1",
) -> None:
    """Serve the interactive what-if dashboard (Solara) on http://HOST:PORT; scenarios come from ./scenarios.
    Front-end assets are served locally, so it works without internet access."""
    import subprocess

    typer.echo(f"pcnsim dashboard on http://{host}:{port} (Ctrl+C to stop)")
    cmd = [sys.executable, "-m", "solara", "run", "pcnsim.dashboard", "--host", host, "--port", str(port),
           "--production", "--no-open", "--log-level", "warning"]
    try:
        raise typer.Exit(code=subprocess.call(cmd))
    except KeyboardInterrupt:
        raise typer.Exit(code=130) from None


@app.command("describe")
def describe_command(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario YAML file (default: the embedded baseline).",
                                                       show_default=False)] = None,
    full: Annotated[bool, typer.Option(help="Print every resolved parameter as YAML.")] = False,
) -> None:
    """Print the daily step order and the scenario's resolved structure and parameters."""
    from . import params
    from .model import daily_steps
    from .run import resolve_scenario
    from .scenario import to_yaml

    with user_errors():
        sc = resolve_scenario(scenario)
    steps = Table(title="The daily step, in the order the engine runs it", show_lines=False)
    steps.add_column("step", style="bold", no_wrap=True)
    steps.add_column("when")
    steps.add_column("what happens", ratio=1)
    for number, (name, when, text) in enumerate(daily_steps(), start=1):
        steps.add_row(f"{number} {name}", when, text)
    console.print(steps)
    lay = params.layout(sc)
    console.print(_fte_table(sc, lay))
    sim = sc.simulation
    typer.echo(f"Calendar: {sim.burn_in_years} burn-in year(s) + {sim.years} reported year(s) of 52 weeks; "
               f"{len(sim.bank_holidays)} bank holidays a year; seed {sim.seed}.")
    if full:
        typer.echo(to_yaml(sc))
    else:
        typer.echo("Add --full for every resolved parameter.")


@app.command("calibrate")
def calibrate_command(
    experiment: Annotated[Path, typer.Argument(help="Calibration experiment YAML (e.g. experiments/calibration.yaml).",
                                               show_default=False)],
) -> None:
    """Fit free parameters to the evidence targets and write the calibrated scenario (extends the base)."""
    from . import calibrate as cal
    from .run import run

    with user_errors():
        exp, _ = cal.load_experiment(experiment)
        with _progress("evaluations") as bar:
            task = bar.add_task(f"{exp.name}: evaluations (best cost so far)", total=exp.optimiser.max_evaluations)
            best = [float("inf")]

            def step(n: int, cost: float) -> None:
                best[0] = min(best[0], cost)
                bar.update(task, completed=n, description=f"{exp.name}: evaluations (best cost {best[0]:.3f})")

            report = cal.calibrate(experiment, progress=step)
    typer.echo(f"{report['evaluations']} evaluations, cost {report['cost']:.4f} ({report['status']})")
    for path, x in report["x"].items():
        typer.echo(f"  {path} = {x:.6g}")
    from .targets import fit_table

    res = run(report["output"], seed=exp.seed, years=exp.years, reps=exp.replicates)
    table = fit_table(res.patients)
    for row in table.itertuples():
        mark = "in range " if row.in_range else "OUT      "
        typer.echo(f"  {mark} {row.measure:32s} {row.model:10.3f}  [{row.low:g}, {row.high:g}]")
    typer.echo(f"wrote {report['output']}")


@app.command("report")
def report_command(
    results: Annotated[Path, typer.Argument(help="Results directory written by pcnsim run.", show_default=False)],
    out: Annotated[Path | None, typer.Option(help="Report directory (default: RESULTS/report).")] = None,
) -> None:
    """Write an HTML report (summary, contacts by age and sex, who never comes, A&E, FA churn, fit to evidence)."""
    from . import report
    from .results import ResultsError

    with user_errors():
        try:
            index = report.build(results, out)
        except ResultsError as exc:
            raise UserError(str(exc)) from None
    typer.echo(f"wrote {index}")


def _fte_table(sc, lay) -> Table:
    """FTE by role (rows) at each practice and network pool (columns); per PCN when there are many units."""
    from .vocab import ROLES

    fte, names = lay.fte, lay.unit_names
    if lay.n_units > 8:  # one column per PCN: practices and pool added up (and the shared pool, if any)
        unit_pcn = list(lay.practice_pcn) + list(range(len(lay.pcn_names))) + [-1] * (lay.shared_pool >= 0)
        groups = list(range(len(lay.pcn_names))) + [-1] * (lay.shared_pool >= 0)
        fte = np.array([fte[[u for u in range(lay.n_units) if unit_pcn[u] == c]].sum(0) for c in groups])
        names = lay.pcn_names + ["shared pool"] * (lay.shared_pool >= 0)
    table = Table(title=f"{sc.name}: {sc.n_patients:,} patients, {lay.n_practices} practices, "
                        f"{len(lay.pcn_names)} PCN(s): FTE by role", title_justify="left")
    table.add_column("role")
    for name in names:
        table.add_column(name, justify="right")
    for r, role in enumerate(ROLES):
        if fte[:, r].sum() > 0:
            table.add_row(role, *[f"{x:.1f}" for x in fte[:, r]])
    return table


def _check_out_dir(target: Path, overwrite: bool) -> None:
    if target.exists():
        if not target.is_dir():
            raise UserError(f"{target}: --out exists and is not a directory")
        if any(target.iterdir()) and not (overwrite and (target / "manifest.json").exists()):
            raise UserError(f"{target}: --out directory is not empty (choose another, or --overwrite a previous "
                            "pcnsim results directory)")


def _compile_engine_once() -> None:
    """Compile the engine before a run if this machine has not yet (saying so, with the time it takes), so
    that the run's progress and its patient-days a second leave compilation out."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from .run import compile_engine, engine_ready

    if engine_ready():
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err_console,
                  transient=True) as bar:
        bar.add_task("Compiling the engine for this machine, once (about half a minute)", total=None)
        seconds = compile_engine()
    err_console.print(f"Compiled the engine in {seconds:.0f} s; later runs start at once.")


def _progress(unit: str = "days", transient: bool = True):
    """A progress bar counting `unit` with elapsed time and ETA, on stderr."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(unit),
                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=err_console,
                    transient=transient)


def _headline_table(res, title: str) -> Table:
    from .metrics import HEADLINE

    head = res.headline()
    table = Table(title=title, title_justify="left")
    table.add_column("metric (per 1,000 = per 1,000 person-years)")
    table.add_column("mean", justify="right")
    table.add_column("95% interval" if res.replicates > 1 else "", justify="right")
    for metric, label in HEADLINE.items():
        if metric in head.index:
            mean, lo, hi = head.loc[metric, ["mean", "low_95", "high_95"]]
            interval = f"{format_number(lo)} - {format_number(hi)}" if res.replicates > 1 else ""
            table.add_row(label, format_number(mean), interval)
    return table


# --------------------------------------------------------------------------------------------------
# pcnsim scenario from-practices: a scenario for a real PCN from NHS England's open practice data
# --------------------------------------------------------------------------------------------------

scenario_app = typer.Typer(help="Build scenario files from public data.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")


@scenario_app.command("from-practices")
def scenario_from_practices_command(
    registered: Annotated[Path, typer.Option(help="Patients Registered at a GP Practice, practice level by sex and "
                                             "5-year age band (gp-reg-pat-prac-quin-age.csv).", show_default=False)],
    out: Annotated[Path, typer.Option(help="Scenario YAML file to write.", show_default=False)],
    mapping: Annotated[Path | None, typer.Option(help="Practice-to-PCN mapping of the same publication "
                                                 "(gp-reg-pat-prac-map.csv); needed for --pcn and --icb.")] = None,
    pcn: Annotated[str | None, typer.Option(help="PCN code (PCN_CODE in the mapping), e.g. U12345.")] = None,
    practices: Annotated[str | None, typer.Option(help="ODS practice codes, comma-separated, e.g. A81001,A81002.")
                         ] = None,
    icb: Annotated[str | None, typer.Option(help="ICB or sub-ICB location code (ICB_CODE or SUB_ICB_LOCATION_CODE "
                                            "in the mapping): one PCN per PCN code in it.")] = None,
    deprivation: Annotated[Path | None, typer.Option(help="Fingertips data export of the practice IMD score "
                                                     "(indicator 93553, area type GPs; England-wide for national "
                                                     "deciles).")] = None,
    workforce: Annotated[Path | None, typer.Option(help="General Practice Workforce practice-level CSV (GP and "
                                                   "nurse FTE per practice).")] = None,
    name: Annotated[str | None, typer.Option(help="Scenario name (default: from the PCN, ICB or practice codes).")
                    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing --out file.")] = False,
) -> None:
    """Build a scenario for a real PCN from NHS England's open practice data; each default used for missing
    data is noted on stderr.

    Example: pcnsim scenario from-practices --registered gp-reg-pat-prac-quin-age.csv --mapping
    gp-reg-pat-prac-map.csv --pcn U12345 --deprivation fingertips-imd.csv --out my_pcn.yaml
    """
    from .practice_data import from_practices

    with user_errors():
        chosen = [flag for flag, value in (("--pcn", pcn), ("--practices", practices), ("--icb", icb)) if value]
        if len(chosen) != 1:
            raise UserError(f"give exactly one of --pcn, --practices or --icb (got {', '.join(chosen) or 'none'})")
        if mapping is None and not practices:
            raise UserError(f"{chosen[0]}: needs --mapping (gp-reg-pat-prac-map.csv) to find the practices")
        if out.exists() and not overwrite:
            raise UserError(f"{out}: --out already exists (choose another file, or pass --overwrite)")
        codes = [c for c in practices.split(",") if c.strip()] if practices else None
        built = from_practices(registered, mapping, pcn=pcn, practices=codes, icb=icb, deprivation=deprivation,
                               workforce=workforce, name=name)
        built.write(out, overwrite=overwrite)
    for note in built.notes:
        err_console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    n_practices = sum(len(p.practices) for p in built.scenario.pcns)
    typer.echo(f"wrote {out}: {built.scenario.name}: {built.scenario.n_patients:,} patients, {n_practices} "
               f"practices, {len(built.scenario.pcns)} PCN(s)")


if __name__ == "__main__":
    app()
