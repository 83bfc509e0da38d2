"""The command line, end to end in subprocesses: real YAML files, real exit codes, real output dirs."""

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def pcnsim(*args, cwd=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "pcnsim", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


BAD_INPUTS = {
    # name: (file text, field path expected in the message, words of the allowed values)
    "unknown key": ("extends: {base}\nbooking:\n  same_day_shar: 0.4\n", "booking.same_day_shar",
                    "allowed here: same_day_share"),
    "wrong type": ("extends: {base}\nsimulation:\n  years: many\n", "simulation.years", "valid integer"),
    "probability above 1": ("extends: {base}\nbooking:\n  same_day_share: 1.5\n", "booking.same_day_share",
                            "less than or equal to 1"),
    "negative FTE": ("extends: {base}\nworkforce:\n  pcn_fte:\n    pharmacist: -2\n",
                     "workforce.pcn_fte.pharmacist", "greater than or equal to 0"),
    "broken YAML": ("extends: {base}\nbooking: [same_day_share: 0.4\n", "", "broken YAML at line"),
    "missing parent": ("extends: nowhere.yaml\n", "extends", "not found"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
@pytest.mark.parametrize("command", ["validate", "run"])
def test_bad_scenario_is_one_line_exit_2_nothing_written(tmp_path, case, command):
    text, field, allowed = BAD_INPUTS[case]
    scen = write(tmp_path / "bad.yaml", text.format(base=BASELINE))
    out = tmp_path / "out"
    args = [command, scen] + (["--out", out] if command == "run" else [])
    proc = pcnsim(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert str(scen) in lines[0] and field in lines[0] and allowed in lines[0], lines[0]
    assert not out.exists()
    assert not (tmp_path / "results").exists()


def test_missing_file(tmp_path):
    proc = pcnsim("run", tmp_path / "nope.yaml", "--out", tmp_path / "out")
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {tmp_path / 'nope.yaml'}: file not found"
    assert not (tmp_path / "out").exists()


def test_validate_ok():
    proc = pcnsim("validate", BASELINE)
    assert proc.returncode == 0, proc.stderr
    assert "42,000 patients, 5 practices, 1 PCN(s)" in proc.stdout


def test_schema_accepts_the_baseline(tmp_path):
    import jsonschema

    out = tmp_path / "schema.json"
    proc = pcnsim("schema", "--out", out)
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(out.read_text())
    data = yaml.safe_load(BASELINE.read_text())
    jsonschema.validate(data, schema)
    data["booking"] = {"same_day_share": 2}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


def test_run_writes_results_and_refuses_to_clobber(tmp_path):
    out = tmp_path / "res"
    proc = pcnsim("run", "--years", "1", "--reps", "2", "--seed", "3", "--out", out, "--ledger")
    assert proc.returncode == 0, proc.stderr
    assert "Primary-care contacts per person" in proc.stdout and "range of replicates" in proc.stdout
    summary = pd.read_parquet(out / "summary.parquet")
    assert set(summary["replicate"]) == {0, 1}
    assert (out / "ledger.parquet").exists()
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = pcnsim("run", "--years", "1", "--out", out)
    assert again.returncode == 2 and "not empty" in again.stderr
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_run_threads_changes_no_number(tmp_path):
    """--threads 1 runs the replicates one after the other, --threads 2 side by side: every table written is
    identical."""
    tables = {}
    for threads in (1, 2):
        out = tmp_path / f"t{threads}"
        proc = pcnsim("run", "--years", "1", "--seed", "4", "--reps", "2", "--threads", threads, "--out", out)
        assert proc.returncode == 0, proc.stderr
        tables[threads] = {p.name: pd.read_parquet(p) for p in sorted(out.glob("*.parquet"))}
    assert "patients_yearly.parquet" in tables[1] and tables[1].keys() == tables[2].keys()
    for name, table in tables[1].items():
        pd.testing.assert_frame_equal(table, tables[2][name], check_exact=True, obj=name)
    bad = pcnsim("run", "--threads", "0", "--out", tmp_path / "t0")
    assert bad.returncode == 2 and "--threads" in bad.stderr and not (tmp_path / "t0").exists()


def test_run_without_arguments_runs_the_baseline(tmp_path):
    proc = pcnsim("run", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (folder,) = (tmp_path / "results").iterdir()
    assert folder.name.startswith("baseline-")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["practices"][0] == "Riverside Health Centre"


def test_describe_prints_step_order_and_structure():
    proc = pcnsim("describe")
    assert proc.returncode == 0, proc.stderr
    from pcnsim.model import daily_steps

    steps = [f"{number} {name}" for number, (name, _, _) in enumerate(daily_steps(), start=1)]
    positions = [proc.stdout.index(step) for step in steps]  # every step, in the engine's order
    assert positions == sorted(positions) and len(steps) > 10
    assert "42,000 patients, 5 practices, 1 PCN(s)" in proc.stdout


@pytest.mark.parametrize("command", ["run", "describe", "validate", "schema", "compare", "deep-dive"])
def test_help(command):
    proc = pcnsim(command, "--help")
    assert proc.returncode == 0
    assert "Usage" in proc.stdout


def test_deep_dive_prints_the_top_frequent_attenders_side_by_side(tmp_path):
    lever = ROOT / "scenarios" / "complex_care_team.yaml"
    out = tmp_path / "timelines.csv"
    proc = pcnsim("deep-dive", lever, "--who", "top-fa:2", "--out", out)
    assert proc.returncode == 0, proc.stderr
    timelines = pd.read_csv(out)
    ids = list(dict.fromkeys(timelines["patient_id"]))
    assert len(ids) == 2 and set(timelines["scenario"]) == {"base", "complex_care_team"}
    for pid in ids:
        assert f"patient {pid}:" in proc.stdout
    # The chosen are the base run's two patients with the most primary-care contacts.
    from pcnsim.run import run

    base = run(BASELINE, reps=1).patients.groupby("patient_id")["primary_care_contacts"].sum()
    assert sorted(base.loc[ids]) == sorted(base.nlargest(2))
    assert base.loc[ids].min() >= base.nlargest(3).iloc[-1]
    # Every touchpoint of theirs in the base run is in the timeline, dated within the reported year.
    assert timelines["day"].between(0, 363).all()
    assert (timelines["setting"].isin(["gp", "nurse", "ae", "mdt", "outpatient", "admission", "pharmacist", "pa",
                                       "community_nurse", "splw", "mhp", "fcp", "paramedic", "care_coordinator"])).all()


def test_deep_dive_picks_the_longest_enrolled_in_the_lever_run():
    """enrolled:N chooses from the lever run: its patients with the most months on the complex-care
    caseload; their timelines show the team's contacts."""
    from pcnsim.experiments.deepdive import deep_dive
    from pcnsim.run import run
    from pcnsim.scenario import load

    team = load(ROOT / "scenarios" / "complex_care_team.yaml", overrides={"simulation": {"years": 1}})
    dive = deep_dive(team, who="enrolled:3")
    assert len(dive.patient_ids) == 3
    months = run(team, seed=load(BASELINE).simulation.seed, reps=1).patients.groupby("patient_id")[
        "mdt_enrolled_months"].sum()
    assert months.loc[dive.patient_ids].min() >= months.nlargest(3).iloc[-1] > 0
    lever = dive.timelines[dive.timelines["scenario"] == team.name]
    assert (lever["setting"] == "mdt").any()


@pytest.mark.parametrize("spec", ["top-fa:0", "top:5", "12,abc", "999999999", "enrolled:2"])
def test_deep_dive_bad_patients_is_one_line(spec):
    proc = pcnsim("deep-dive", BASELINE, "--who", spec)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "--who" in proc.stderr, proc.stderr


def test_a_run_too_big_for_memory_is_refused_before_allocating(tmp_path):
    practices = "\n".join(f"      - {{name: P{i}, list_size: 200000}}" for i in range(400))
    scen = write(tmp_path / "huge.yaml", f"extends: {BASELINE}\npcns:\n  - name: Huge\n    practices:\n{practices}\n")
    started = time.time()
    proc = pcnsim("run", scen, "--out", tmp_path / "out")
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip()
    assert len(line.splitlines()) == 1 and "80,000,000 patients" in line and "GiB is available" in line, line
    assert time.time() - started < 60 and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_first_run_says_it_compiles_and_its_rate_leaves_compilation_out(tmp_path):
    """In a fresh compiled-code cache `pcnsim run` says it is compiling the engine, with the time it took, before
    the run; the next run, with that cache, starts at once and says nothing of it."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    runs = []
    for name in ("first", "second"):
        proc = subprocess.run([sys.executable, "-m", "pcnsim", "run", "--out", str(tmp_path / name)], env=env,
                              capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stderr
        runs.append(proc)
    first, second = runs
    assert "Compiled the engine in" in first.stderr and "Compiled the engine" not in second.stderr
    compile_seconds = float(first.stderr.split("Compiled the engine in")[1].split()[0])
    run_seconds = float(first.stdout.split("patient-days in")[1].split()[0])
    assert run_seconds < compile_seconds  # the rate line counts the simulation only


def test_version_and_the_metric_list():
    from importlib.metadata import version

    from pcnsim.registry import METRICS

    proc = pcnsim("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"pcnsim {version('pcnsim')}"
    listed = pd.read_csv(io.StringIO(pcnsim("metrics", "--csv").stdout))
    assert list(listed["key"]) == list(METRICS) and listed["label"].notna().all() and listed["unit"].notna().all()
