"""What every command shares: the application, its one-line errors, the options that mean the same in every
command, the examples that end each --help, output claims, progress bars and the first-run compile.

User mistakes (a bad scenario, an unwritable --out, a bad option) print one line to stderr and exit 2.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .. import outdir, provenance
from ..outdir import ResultsError
from ..scenario import ScenarioError

# Tables as wide as the terminal; 120 columns when the output goes to a file or another program.
console = Console() if sys.stdout.isatty() else Console(width=120)
err_console = Console(stderr=True)


def _click_classes(name: str) -> tuple[type, ...]:
    """A click exception class from wherever this typer takes click (its own copy since typer 0.22)."""
    found = []
    for module in ("typer._click.exceptions", "click.exceptions"):
        try:
            found.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


class _OneLineErrors(typer.Typer):
    """Typer with command-line mistakes (`--reps 0`, an unknown option, a missing argument) printed as one
    line `error: COMMAND: message (see COMMAND --help)` and exit code 2, like a scenario mistake, instead
    of a boxed panel."""

    def __call__(self, *args, **kwargs):
        kwargs["standalone_mode"] = False
        try:
            code = super().__call__(*args, **kwargs)
        except _click_classes("ClickException") as exc:
            ctx = getattr(exc, "ctx", None)
            if type(exc).__name__ == "NoArgsIsHelpError":  # `pcnsim` alone: the help, as before
                text = exc.format_message()  # rich help is printed as it is made; plain help is returned
                if text.strip():
                    typer.echo(text)
                sys.exit(exc.exit_code)
            where = ctx.command_path if ctx is not None else self.info.name or "pcnsim"
            message = " ".join(exc.format_message().split())
            err_console.print(f"error: {where}: {message} (see {where} --help)", markup=False, highlight=False,
                              soft_wrap=True)
            sys.exit(2)
        except _click_classes("Abort"):
            err_console.print("Aborted!", markup=False, highlight=False)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def examples(*lines: str) -> str:
    """The end of a command's --help: example command lines, each a whole `pcnsim ...` command that parses (a
    comment after `#` says what it does; a long one goes on after a trailing backslash), each line fitting an
    80-column terminal."""
    return "Examples:\n\n" + "\n".join(lines)


app = _OneLineErrors(
    name="pcnsim",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    epilog=examples("pcnsim run scenarios/complex_care_team.yaml --years 2 --reps 5",
                    "pcnsim compare scenarios/baseline.yaml scenarios/complex_care_team.yaml",
                    "pcnsim validate scenarios/*.yaml experiments/*.yaml"),
)

# The options several commands share mean the same everywhere: the same name, value and first sentence of
# help (a command adds what is particular to it). Where a command has none of one, docs/commands.md says why.
MEANINGS = {
    "out": "Where to write the output.",
    "overwrite": "Replace an earlier output at --out instead of refusing it.",
    "reps": "Replicates: runs on seeds spawned from the root seed, the same seeds for every scenario or point.",
    "years": "Reported years of each run, after its burn-in.",
    "seed": "Root seed: the same inputs and seed give the same numbers.",
    "threads": "Cores to use at once (default: all of them); the numbers do not depend on it.",
    "patients": "Keep the per-patient yearly tables; --no-patients saves memory on very large places.",
}


def option(name: str, detail: str = "", *names: str, **kwargs):
    """A shared option (`MEANINGS[name]`), with what is particular to this command after its meaning."""
    return typer.Option(*names, help=f"{MEANINGS[name]} {detail}".strip(), **kwargs)


class UserError(Exception):
    """A mistake the user can fix (bad path, occupied output directory): one line, exit code 2."""


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import version

        typer.echo(f"pcnsim {version('pcnsim')}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print pcnsim's version and exit.")] = False,
) -> None:
    """Simulate an NHS Primary Care Network: patients, practices, network services and A&E."""
    provenance.command_started(sys.argv)  # folders this command writes record its command line and start


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn user mistakes into one line on stderr and exit code 2, with no traceback."""
    try:
        yield
    except (ScenarioError, ResultsError, UserError) as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: clean-up has run on the way here; nothing half-written
        err_console.print("interrupted", markup=False, highlight=False)
        raise typer.Exit(code=130) from None


def claimed(held: ExitStack, target: Path, overwrite: bool = False, **kwargs) -> outdir.Claim:
    """Claim an output before any work, held until `held` closes (`pcnsim.outdir`): checked, locked,
    leftovers of killed runs tidied (saying so on stderr)."""
    return held.enter_context(outdir.Claim(target, overwrite, notify=note, **kwargs))


def file_out(target: Path, overwrite: bool) -> None:
    """Check a file named by --out before any work: writable, not a folder, and replaced only with --overwrite."""
    outdir.check_location(target, "--out", file=True)
    if target.exists() and not overwrite:
        raise UserError(f"{target}: --out already exists (choose another, or pass --overwrite)")


def note(message: str) -> None:
    err_console.print(f"note: {message}", markup=False, highlight=False, soft_wrap=True)


def compile_engine_once() -> None:
    """Compile the engine before a run if this machine has not yet (saying so, with the time it takes), so
    that the run's progress and its patient-days a second leave compilation out."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from ..run import compile_engine, engine_ready

    if engine_ready():
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err_console,
                  transient=True) as bar:
        bar.add_task("Compiling the engine for this machine, once (about half a minute)", total=None)
        seconds = compile_engine()
    err_console.print(f"Compiled the engine in {seconds:.0f} s; later runs start at once.")


def progress_bar(unit: str = "days", transient: bool = True):
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


def load_or_fail(path: Path | None):
    """The scenario at `path` (None: the embedded baseline); a bad file is a one-line ScenarioError."""
    from ..scenario import load

    return load(path)
