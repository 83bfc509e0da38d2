"""Commands that inspect and serve: validate, schema, metrics, describe, dashboard."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from .. import atomic, dates, stops
from ..file_schemas import KINDS
from .common import (
    UserError,
    app,
    console,
    examples,
    file_out,
    option,
    user_errors,
)

FileKindName = Enum("FileKindName", {name: name for name in KINDS}, type=str)
"""The kinds of file `pcnsim schema` describes, as a choice on the command line."""


@app.command("validate", epilog=examples(
    "pcnsim validate scenarios/complex_care_team.yaml",
    "pcnsim validate scenarios/*.yaml experiments/*.yaml",
))
def validate_command(
    files: Annotated[list[Path], typer.Argument(help="Scenario or experiment YAML files to check.",
                                                show_default=False)],
) -> None:
    """Check scenario and experiment files; one line per file. Which kind each is comes from its fields (see
    pcnsim schema). A scenario is checked once its extends: are resolved; an experiment with its base
    scenario and every run it would make. The first mistake is one line naming the file, field and what is
    allowed (exit code 2)."""
    with user_errors():
        for path in files:
            typer.echo(f"ok: {path}: {checked(path)}")


def checked(path: Path) -> str:
    """Check one file as the command that reads it would; what it holds, in a few words."""
    from ..file_schemas import kind_of
    from ..scenario import from_dict, load_raw
    from ..yamlio import read_yaml

    raw = read_yaml(path, "scenario or experiment file")
    kind = kind_of(raw)
    if kind == "scenario":
        sc = from_dict(load_raw(path, raw), path)
        n_practices = sum(len(p.practices) for p in sc.pcns)
        return f"{sc.name}: {sc.n_patients:,} patients, {n_practices} practices, {len(sc.pcns)} PCN(s)"
    if kind == "sweep":
        from ..experiments import sweep

        plan = sweep.load(path, raw)
        return (f"sweep {plan.experiment.name}: {len(plan.design)} design point(s) x {plan.experiment.replicates} "
                f"replicate(s) = {len(plan.runs)} runs of {plan.experiment.years} year(s), into {plan.output}")
    if kind == "optimise":
        from ..experiments import optimise

        problem = optimise.load(path, raw)
        return (f"optimise {problem.exp.name}: {', '.join(problem.roles)} over {problem.n_units} places, "
                f"{problem.exp.trials} trials, into {problem.output}")
    from ..experiments import calibrate

    exp, folder = calibrate.load_experiment(path, raw)
    return (f"calibrate {exp.name}: {len(exp.parameters)} parameter(s), at most {exp.optimiser.max_evaluations} "
            f"evaluations, writes {(folder / exp.output).resolve()}")


@app.command("schema", epilog=examples(
    "pcnsim schema --out scenario.schema.json",
    "pcnsim schema --kind sweep --out schemas/sweep.schema.json --overwrite",
))
def schema_command(
    kind: Annotated[FileKindName, typer.Option(help="Which kind of file: scenario, or the experiment files of "
                                               "sweep, optimise and calibrate.")] = "scenario",
    out: Annotated[Path | None, option("out", "A JSON file; default: print it.")] = None,
    overwrite: Annotated[bool, option("overwrite")] = False,
) -> None:
    """Print the JSON Schema (draft 2020-12) of a kind of file, for editors: with the line
    `# yaml-language-server: $schema=PATH` at the top of a YAML file, an editor with a YAML language server
    completes and checks it. A scenario file's schema has every field optional, as a file names only what
    it changes; pcnsim validate checks the whole scenario once merged."""
    from ..file_schemas import file_schema

    text = json.dumps(file_schema(kind.value), indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    with user_errors():
        file_out(out, overwrite)
        try:
            atomic.write_text(out, text)
        except OSError as exc:
            raise UserError(f"{out}: cannot write ({exc.strerror})") from None
    typer.echo(f"wrote {out}")

@app.command("metrics", epilog=examples("pcnsim metrics", "pcnsim metrics --csv > metrics.csv"))
def metrics_command(
    csv: Annotated[bool, typer.Option(help="Print the list as CSV (key, label, unit, better, meaning).")] = False,
) -> None:
    """List every output metric: its name in tables, key in the results files, unit, which direction is better
    and what it measures."""
    from ..registry import METRICS

    if csv:
        rows = [{"key": m.key, "label": m.label, "unit": m.unit, "better": m.better or "neither", "meaning": m.how}
                for m in METRICS.values()]
        sys.stdout.write(pd.DataFrame(rows).to_csv(index=False))
        return
    table = Table(title="Output metrics (summary.parquet, comparisons, sweeps)", title_justify="left")
    for name in ("measure", "key in the results files", "unit", "better", "meaning"):
        table.add_column(name, overflow="fold")
    for m in METRICS.values():
        table.add_row(m.label, m.key, m.unit, m.better or "neither", m.how)
    console.print(table)

@app.command("describe", epilog=examples("pcnsim describe", "pcnsim describe scenarios/borough.yaml --full"))
def describe_command(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario YAML file (default: the embedded baseline).",
                                                       show_default=False)] = None,
    full: Annotated[bool, typer.Option(help="Print every resolved parameter as YAML.")] = False,
) -> None:
    """Print the daily step order and the scenario's resolved structure and parameters."""
    from .. import params
    from ..model import daily_steps
    from ..run import resolve_scenario
    from ..scenario import to_yaml

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
    console.print(fte_table(sc, lay))
    sim = sc.simulation
    first, last = dates.span(sim)
    closed = dates.closed_dates(sim)
    calendar = {"england-and-wales": "England and Wales bank holidays", "none": "no bank holidays"}
    typer.echo(f"Calendar: {sim.burn_in_years} burn-in year(s) from {first:%a %d %b %Y}, then {sim.years} reported "
               f"year(s) of 52 weeks from {sim.start_date:%a %d %b %Y} to {last:%a %d %b %Y}; practices closed at "
               f"weekends and on {len(closed)} other days ({calendar[sim.bank_holiday_calendar]}"
               f"{', plus closed_dates' if sim.closed_dates else ''}); seed {sim.seed}.")
    if full:
        typer.echo(to_yaml(sc))
    else:
        typer.echo("Add --full for every resolved parameter.")

def fte_table(sc, lay) -> Table:
    """FTE by role (rows) at each practice and network pool (columns); per PCN when there are many units."""
    from ..vocab import ROLES

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

@app.command("dashboard", epilog=examples("pcnsim dashboard   # then open http://127.0.0.1:8765",
                                          "pcnsim dashboard --host 0.0.0.0 --port 8080"))
def dashboard_command(
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to serve on (0: any free port).")] = 8765,
    host: Annotated[str, typer.Option(help="Address to listen on; 0.0.0.0 opens it to the network.")] = "127.0.0.1",
) -> None:
    """Serve the interactive what-if dashboard (Solara) on http://HOST:PORT; scenarios come from ./scenarios.
    Front-end assets are served locally, so it works without internet access."""
    typer.echo(f"pcnsim dashboard on http://{host}:{port} (Ctrl+C to stop)")
    cmd = [sys.executable, "-m", "solara", "run", "pcnsim.dashboard", "--host", host, "--port", str(port),
           "--production", "--no-open", "--log-level", "warning"]
    try:  # Ctrl-C, SIGTERM or the death of this process stop the server too (`pcnsim.stops`)
        raise typer.Exit(code=stops.run_child(cmd))
    except KeyboardInterrupt:
        raise typer.Exit(code=130) from None
