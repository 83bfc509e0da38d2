"""The command line's conventions, read from the parser itself: every command's --help ends with examples
that parse; the shared options (--out, --overwrite, --reps, --years, --seed, --threads, --patients) have
one name, value and meaning wherever they appear; and they work (real subprocess runs on small places)."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.main import get_command
from typer.testing import CliRunner

from pcnsim import outdir
from pcnsim.cli import app
from pcnsim.cli.common import MEANINGS
from pcnsim.experiments import calibrate

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
PARSER = get_command(app)


def walk(command=PARSER, path=("pcnsim",)):
    """(path, command) of the application, each group and each command below it."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from walk(sub, (*path, name))


COMMANDS = dict(walk())
LEAVES = {path: cmd for path, cmd in COMMANDS.items() if not hasattr(cmd, "commands")}


def options(command) -> dict:
    """The command's visible options by their first name (--years, ...)."""
    return {p.opts[0]: p for p in command.params if p.opts[0].startswith("--") and not getattr(p, "hidden", False)}


def pcnsim(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "pcnsim", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def test_the_parser_is_walked_whole():
    names = {" ".join(path[1:]) for path in LEAVES}
    assert {"run", "compare", "sweep", "validate", "schema", "scenario from-practices"} <= names
    assert len(names) >= 13


# ---- examples ------------------------------------------------------------------------------------------


def example_lines(epilog: str) -> list[str]:
    """The example commands of an epilog, a line continued by a trailing backslash joined to the next."""
    lines = epilog.split("Examples:", 1)[1].strip().splitlines()
    commands, current = [], ""
    for line in lines:
        current += line.strip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        commands.append(current)
        current = ""
    return commands


def parse(line: str):
    """Parse an example command line as pcnsim would, without running it; returns the leaf's context."""
    tokens = shlex.split(line, comments=True)
    tokens = tokens[: next((i for i, t in enumerate(tokens) if t in (">", "|", "<")), len(tokens))]
    assert tokens[0] == "pcnsim", line
    command, i = PARSER, 1
    while hasattr(command, "commands") and i < len(tokens) and tokens[i] in command.commands:
        command, i = command.commands[tokens[i]], i + 1
    assert not hasattr(command, "commands"), f"{line}: names no command"
    return command.make_context(" ".join(tokens[:i]), tokens[i:]), tokens


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=lambda p: " ".join(p))
def test_every_help_ends_with_examples_that_parse(path):
    command = COMMANDS[path]
    result = CliRunner().invoke(app, [*path[1:], "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert command.epilog and command.epilog.startswith("Examples:"), f"{' '.join(path)} --help has no examples"
    help_text = result.output
    assert help_text.rstrip().rsplit("Examples:", 1)[1].strip(), "the examples are not the end of --help"
    for raw in command.epilog.split("Examples:", 1)[1].strip().splitlines():
        assert raw.strip() in help_text, f"{raw!r} is not shown as written"
        assert len(raw) <= 79, f"{raw!r} is wider than an 80-column terminal"
    found = example_lines(command.epilog)
    assert found, path
    for line in found:
        ctx, tokens = parse(line)
        assert tuple(tokens[: len(path)]) == path, f"{line}: an example of another command"
        for token in tokens:
            if token.startswith(("scenarios/", "experiments/")) and "*" not in token:
                assert (ROOT / token).exists(), f"{line}: {token} is not in the repository"
        assert ctx.params is not None


def test_a_broken_example_would_be_caught():
    with pytest.raises(Exception, match="greater than or equal to 1"):
        parse("pcnsim run --reps 0")
    with pytest.raises(Exception, match="No such option"):
        parse("pcnsim compare a.yaml b.yaml --workers 2")


# ---- the same options everywhere ---------------------------------------------------------------------

WRITERS = {"run", "compare", "deep-dive", "report", "sweep", "optimise", "calibrate", "schema",
           "scenario from-practices"}
SIMULATORS = {"run", "compare", "deep-dive", "sweep", "optimise", "calibrate"}
ONE_REPLICATE = {"deep-dive"}  # a patient's timeline is one life: base and lever on one seed, no --reps


def by_name() -> dict[str, dict[str, object]]:
    return {" ".join(path[1:]): options(cmd) for path, cmd in LEAVES.items()}


def test_every_command_that_writes_has_out_and_overwrite():
    found = by_name()
    with_out = {name for name, opts in found.items() if "--out" in opts}
    assert WRITERS <= with_out
    for name in with_out:
        assert "--overwrite" in found[name], f"{name} has --out but no --overwrite"


def test_every_command_that_simulates_has_years_seed_threads_and_reps():
    found = by_name()
    simulating = {name for name, opts in found.items() if {"--years", "--seed", "--threads", "--reps"} & set(opts)}
    assert simulating == SIMULATORS
    for name in simulating:
        assert {"--years", "--seed", "--threads"} <= set(found[name]), name
        assert ("--reps" in found[name]) == (name not in ONE_REPLICATE), name
    for name in ("run", "compare"):
        assert found[name]["--patients"].secondary_opts == ["--no-patients"]


def value_type(param) -> str:
    """The Python type an option's value has, as typer knows it (older typers: click's type name)."""
    bare = getattr(param, "bare_type", None)
    return str(bare()) if callable(bare) else str(param.type.name)


@pytest.mark.parametrize("name", sorted(MEANINGS))
def test_a_shared_option_has_one_name_value_and_meaning(name):
    seen = {command: opts[f"--{name}"] for command, opts in by_name().items() if f"--{name}" in opts}
    assert len(seen) >= 2, f"--{name} is shared by fewer than two commands"
    for command, param in seen.items():
        assert param.name == name, (command, param.name)
        assert param.help.startswith(MEANINGS[name]), (command, param.help)
    kinds = {(value_type(p), bool(getattr(p, "is_flag", False))) for p in seen.values()}
    assert len(kinds) == 1, {c: value_type(p) for c, p in seen.items()}


# ---- the options work ---------------------------------------------------------------------------------


def tiny(folder: Path, name: str = "tiny", **levers) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"extends": str(BASELINE), "name": name,
                                    "simulation": {"burn_in_years": 0, "years": 1},
                                    "pcns": [{"name": "Tiny PCN", "practices": [{"name": "One", "list_size": 600}]}],
                                    "levers": levers}))
    return path


def one_line_error(proc, *words) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in proc.stderr, proc.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_compare_threads_change_no_number_and_no_patients_keeps_the_headline(tmp_path):
    base = tiny(tmp_path)
    lever = tiny(tmp_path, "navigation",
                 care_navigation={"enabled": True, "start_day": 0, "extra_care_coordinator_fte": 1.0})
    tables = {}
    for label, extra in (("t1", ["--threads", 1]), ("t2", ["--threads", 2]), ("lean", ["--no-patients"])):
        proc = pcnsim("compare", base, lever, "--reps", 2, "--seed", 5, "--out", tmp_path / label, *extra)
        assert proc.returncode == 0, proc.stderr
        tables[label] = {name: pd.read_parquet(tmp_path / label / name)
                         for name in ("comparison.parquet", "by_group.parquet", "per_replicate.parquet")}
    for name, table in tables["t1"].items():
        pd.testing.assert_frame_equal(table, tables["t2"][name], check_exact=True, obj=name)
    assert len(tables["t1"]["by_group.parquet"]) and tables["lean"]["by_group.parquet"].empty
    full = tables["t1"]["comparison.parquet"].set_index("metric")
    lean = tables["lean"]["comparison.parquet"].set_index("metric")
    assert not lean.index.str.startswith("fa_").any() and full.index.str.startswith("fa_").any()
    shared = lean.index[lean["value"].notna()]  # the share never seen needs the per-patient table
    assert "ae_per_1000" in shared and "zero_contact_share" not in shared
    pd.testing.assert_frame_equal(lean.loc[shared, ["base", "value", "diff"]], full.loc[shared, ["base", "value",
                                                                                                  "diff"]])


def sweep_file(folder: Path, seed: int = 3) -> Path:
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump({
        "name": "exp", "base": str(tiny(folder)),
        "parameters": [{"path": "ae.unserved_daily", "kind": "scale", "name": "ae_scale", "values": [0.8, 1.2]}],
        "design": {"kind": "grid"}, "replicates": 2, "years": 1, "seed": seed, "metrics": ["ae_per_1000"],
        "output": "from-the-file"}))
    return path


def test_sweep_options_replace_the_file_and_overwrite_starts_again(tmp_path):
    path = sweep_file(tmp_path)
    out = tmp_path / "elsewhere"
    proc = pcnsim("sweep", path, "--out", out, "--reps", 1, "--seed", 9, "--threads", 1)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "from-the-file").exists()
    results = pd.read_parquet(out / "results.parquet")
    assert len(results) == 2 and set(results["replicate"]) == {0}  # two points x --reps 1
    records = [json.loads(p.read_text()) for p in sorted((out / "runs").glob("*.json"))]
    assert len(records) == 2
    again = pcnsim("sweep", path, "--out", out, "--reps", 1, "--seed", 9, "--threads", 1)  # resumes: nothing to do
    assert again.returncode == 0 and [json.loads(p.read_text()) for p in sorted((out / "runs").glob("*.json"))] \
        == records
    other = pcnsim("sweep", path, "--out", out, "--reps", 1, "--seed", 10, "--threads", 1)
    one_line_error(other, "holds runs of a different experiment")
    fresh = pcnsim("sweep", path, "--out", out, "--reps", 1, "--seed", 10, "--threads", 1, "--overwrite")
    assert fresh.returncode == 0, fresh.stderr
    seeds = pd.read_parquet(out / "results.parquet")["seed"]
    assert len(seeds) == 2 and not set(seeds) & {r["seed"] for r in records}
    (out / "notes.txt").write_text("mine")
    one_line_error(pcnsim("sweep", path, "--out", out, "--overwrite"), "notes.txt", "did not write")
    assert (out / "notes.txt").read_text() == "mine" and (out / "results.parquet").exists()


def test_optimise_replaces_earlier_results_only_with_overwrite(tmp_path):
    from .test_optimise import experiment

    path = experiment(tmp_path, trials=1, validation_replicates=2)
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    outdir.mark(earlier, "optimise")
    (earlier / "trials.csv").write_text("label\nold\n")
    one_line_error(pcnsim("optimise", path, "--out", earlier), str(earlier), "--overwrite")
    assert (earlier / "trials.csv").read_text() == "label\nold\n"
    proc = pcnsim("optimise", path, "--out", earlier, "--overwrite", "--reps", 1, "--years", 1, "--threads", 1)
    assert proc.returncode == 0, proc.stderr
    trials = pd.read_csv(earlier / "trials.csv")
    assert "old" not in set(trials["label"]) and (trials["kind"] == "trial").sum() == 1
    assert not (tmp_path / "out").exists()  # the file's output was not used


def test_calibrate_refuses_to_replace_its_scenario_without_overwrite(tmp_path):
    from .test_schemas import small_calibration

    path = small_calibration(tmp_path)
    fitted = tmp_path / "fitted.yaml"
    text = f"{calibrate.HEADER} earlier\nextends: small.yaml\n"
    fitted.write_text(text)
    one_line_error(pcnsim("calibrate", path), str(fitted), "--overwrite")
    one_line_error(pcnsim("calibrate", path, "--years", 1), "years (as set on the command line)")
    assert fitted.read_text() == text
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: mine\n")
    one_line_error(pcnsim("calibrate", path, "--out", mine, "--overwrite"), "not written by pcnsim")
    assert mine.read_text() == "name: mine\n"


def test_deep_dive_and_schema_refuse_an_existing_out_file_before_any_work(tmp_path):
    csv = tmp_path / "notes.csv"
    csv.write_text("mine")
    proc = pcnsim("deep-dive", tiny(tmp_path), "--base", tiny(tmp_path), "--out", csv)
    one_line_error(proc, str(csv), "--overwrite")
    assert csv.read_text() == "mine" and "running" not in proc.stderr
    proc = pcnsim("schema", "--out", csv, "--overwrite")
    assert proc.returncode == 0 and json.loads(csv.read_text())["$id"] == "urn:pcnsim:schema:scenario"
