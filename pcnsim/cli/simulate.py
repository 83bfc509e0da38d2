"""Commands that simulate and report: run, compare, deep-dive, report."""

from __future__ import annotations

import os
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .. import atomic, stops
from .common import (
    UserError,
    app,
    claimed,
    compile_engine_once,
    console,
    err_console,
    examples,
    file_out,
    load_or_fail,
    option,
    progress_bar,
    user_errors,
)


@app.command("run", epilog=examples(
    "pcnsim run   # the embedded baseline, one replicate",
    "pcnsim run scenarios/complex_care_team.yaml --years 2 --reps 5",
    "pcnsim run scenarios/borough.yaml --no-patients --threads 4 --out borough",
))
def run_command(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario YAML file (default: the embedded baseline).",
                                                       show_default=False)] = None,
    years: Annotated[int | None, option("years", "Default: the scenario's simulation.years.", min=1, max=50)] = None,
    seed: Annotated[int | None, option("seed", "Default: the scenario's simulation.seed.", min=0)] = None,
    reps: Annotated[int, option("reps", min=1, max=10_000)] = 1,
    out: Annotated[Path | None, option("out", "A results folder; default results/<name>-<date-time>.")] = None,
    ledger: Annotated[bool, typer.Option(help="Also keep one row per touchpoint (ledger.parquet).")] = False,
    patients: Annotated[bool, option("patients", "They are written as patients_yearly.parquet.")] = True,
    overwrite: Annotated[bool, option("overwrite", "Only a results folder pcnsim wrote is replaced.")] = False,
    threads: Annotated[int | None, option("threads", min=1, max=1024)] = None,
) -> None:
    """Simulate a scenario and write its results; prints a summary with 95% intervals over replicates."""
    from .. import display, memory
    from ..run import resolve_scenario, run

    stops.terminate_as_interrupt()
    with user_errors(), ExitStack() as held:
        sc = resolve_scenario(scenario, years)
        memory.check(sc, reps, ledger, patients, source=scenario, at_once=threads or os.cpu_count() or 1)
        root = sc.simulation.seed if seed is None else seed
        target = out or Path("results") / f"{sc.name}-{datetime.now():%Y%m%d-%H%M%S}"
        claim = claimed(held, target, overwrite)
        total_days = reps * (sc.simulation.burn_in_years + sc.simulation.years) * 364
        compile_engine_once()
        with progress_bar() as bar:
            task = bar.add_task(f"{sc.name}: {sc.n_patients:,} patients x {reps} replicate(s)", total=total_days)
            res = run(sc, seed=root, reps=reps, ledger=ledger, patients=patients, threads=threads,
                      progress=lambda days: bar.advance(task, days))
        with err_console.status(f"Writing the results to {target} ..."):  # ~10 s for 100 replicates x 5 years
            res.save(target, claim=claim)
    console.print(display.headline_table(res.headline(), f"{sc.name}: {sc.simulation.years} year(s), {reps} "
                                         f"replicate(s), seed {root}", res.replicates))
    rate = res.patient_days / res.wall_seconds if res.wall_seconds else float("nan")
    typer.echo(f"{res.patient_days:,} patient-days in {res.wall_seconds:.1f} s ({rate / 1e6:.0f}M/s). "
               f"Results: {target}")

@app.command("compare", epilog=examples(
    "pcnsim compare scenarios/baseline.yaml scenarios/social_prescribing.yaml",
    "pcnsim compare scenarios/baseline.yaml scenarios/care_navigation.yaml \\",
    "    scenarios/complex_care_team.yaml --reps 10 --years 3 --out cmp",
))
def compare_command(
    base: Annotated[Path, typer.Argument(help="Baseline scenario YAML.", show_default=False)],
    others: Annotated[list[Path], typer.Argument(help="Scenario(s) to compare with it.", show_default=False)],
    years: Annotated[int | None, option("years", "Default: each scenario's simulation.years.", min=1, max=50)
                     ] = None,
    seed: Annotated[int | None, option("seed", "Default: the base's simulation.seed; shared by every scenario.",
                                       min=0)] = None,
    reps: Annotated[int, option("reps", "At least 2, for the intervals of the paired changes.", min=2,
                                max=10_000)] = 5,
    out: Annotated[Path | None, option("out", "A comparison folder; default results/compare-<date-time>.")] = None,
    overwrite: Annotated[bool, option("overwrite", "Only a comparison folder pcnsim wrote is replaced.")] = False,
    patients: Annotated[bool, option("patients", "Without them a comparison leaves out who a change reaches "
                                     "(by_group) and frequent-attender churn.")] = True,
    threads: Annotated[int | None, option("threads", min=1, max=1024)] = None,
) -> None:
    """Paired comparison with common random numbers: each measure's change from the baseline, with the 95%
    confidence interval of the mean change, and who it changes (age, sex, deprivation, practice, PCN, complex
    needs)."""
    from .. import display
    from ..experiments.compare import KEY_METRICS, compare
    from ..scenario import load

    stops.terminate_as_interrupt()
    with user_errors(), ExitStack() as held:
        scenarios = [load(p) for p in [base, *others]]  # fail fast on a bad file
        target = out or Path("results") / f"compare-{datetime.now():%Y%m%d-%H%M%S}"
        claim = claimed(held, target, overwrite)
        n_days = sum((sc.simulation.burn_in_years + (years or sc.simulation.years)) * 364 for sc in scenarios)
        compile_engine_once()
        with progress_bar() as bar:
            task = bar.add_task(f"{len(scenarios)} scenarios x {reps} paired replicates", total=n_days * reps)
            result = compare(scenarios[0], scenarios[1:], seed=seed, years=years, reps=reps, patients=patients,
                             threads=threads, progress=lambda days: bar.advance(task, days))
        result.save(target, claim=claim)
    patients = scenarios[0].n_patients
    for name in list(result.results)[1:]:
        rows = result.table[(result.table["scenario"] == name) & result.table["metric"].isin(KEY_METRICS)]
        console.print(display.comparison_table(rows, f"{name} against {result.base} ({reps} paired replicates, "
                                               f"{patients:,} patients)", patients))
    typer.echo(f"Results: {target} (comparison.csv, by_group.parquet, comparison.png); "
               f"for a board paper: pcnsim report {target}")

@app.command("deep-dive", epilog=examples(
    "pcnsim deep-dive scenarios/complex_care_team.yaml --who top-fa:5",
    "pcnsim deep-dive scenarios/social_prescribing.yaml --who 12,345 --out notes.csv",
))
def deep_dive_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML (the lever side).", show_default=False)],
    who: Annotated[str, typer.Option(help="Who: top-fa:N (most primary-care contacts in the base run), "
                                          "enrolled:N (longest on the complex-care caseload in the lever run) "
                                          "or patient ids, e.g. 12,345.")] = "top-fa:5",
    base: Annotated[Path | None, typer.Option(help="Base scenario (default: the embedded baseline).")] = None,
    years: Annotated[int | None, option("years", "Default: the scenario's simulation.years.", min=1, max=10)
                     ] = None,
    seed: Annotated[int | None, option("seed", "Default: the base's simulation.seed.", min=0)] = None,
    threads: Annotated[int | None, option("threads", "One replicate each: threads help a place of several "
                                          "PCN groups.", min=1, max=1024)] = None,
    out: Annotated[Path | None, option("out", "Also write the timelines to this CSV file.")] = None,
    overwrite: Annotated[bool, option("overwrite")] = False,
) -> None:
    """Each chosen patient's dated touchpoint timeline (GP, nurse, network, A&E, admissions, outpatients),
    base and lever side by side: the notes review a PCN meeting looks at. One replicate of each, on one seed."""
    from ..experiments.deepdive import deep_dive

    with user_errors():
        sc = load_or_fail(scenario)
        base_sc = load_or_fail(base)
        if out is not None:
            file_out(out, overwrite)
        n_days = 2 * (sc.simulation.burn_in_years + (years or sc.simulation.years)) * 364
        with progress_bar() as bar:
            task = bar.add_task("running base and lever with the touchpoint ledger", total=n_days)
            try:
                dive = deep_dive(sc, base_sc, who=who, years=years, seed=seed, threads=threads)
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

@app.command("report", epilog=examples(
    "pcnsim report results/compare-20261207-101500   # a board paper",
    "pcnsim report results/baseline-20261207-101500 --out report --overwrite",
))
def report_command(
    results: Annotated[Path, typer.Argument(help="Results folder written by pcnsim run, compare, sweep, optimise "
                                                 "or calibrate.", show_default=False)],
    out: Annotated[Path | None, option("out", "A report folder; default RESULTS/report.")] = None,
    overwrite: Annotated[bool, option("overwrite", "Only a report folder pcnsim wrote is replaced.")] = False,
    verify: Annotated[bool, typer.Option(help="Check the results against their manifest's checksums (--no-verify "
                                         "reads files edited on purpose).")] = True,
) -> None:
    """Write the report of a results folder: one self-contained HTML page with a print layout. Of a run: its
    dates and practices, summary, contacts by age and sex, who never comes, A&E, frequent-attender churn, fit
    to the evidence; of a comparison, for a board paper (what was compared, each
    change with its % and interval, in the PCN's own terms, net cost, who it changes); what was swept and
    what each measure does across it (sensitivity indices ranked); the best allocation, the policies and
    the check on fresh seeds; targets against fitted values, fitted parameters and convergence."""
    from .. import report

    with user_errors():
        index = report.build(results, out, verify=verify, overwrite=overwrite)
    typer.echo(f"wrote {index}")
