"""Output safety: no command deletes or replaces what it did not write, outputs are checked before any
simulation, one writer at a time, and a replacement killed at any moment leaves the old or the new
results complete. Real folders and real `pcnsim` subprocesses throughout."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from pcnsim import outdir
from pcnsim.results import Results, ResultsError

ROOT = Path(__file__).resolve().parents[1]


def tiny(folder: Path, list_size: int = 400, years: int = 1) -> Path:
    """The calibrated baseline on one small practice, no burn-in: a run takes well under a second."""
    path = folder / f"tiny{list_size}.yaml"
    path.write_text(yaml.safe_dump({"extends": str(ROOT / "scenarios" / "baseline.yaml"), "name": "tiny",
                                    "simulation": {"burn_in_years": 0, "years": years},
                                    "pcns": [{"name": "Tiny PCN", "practices": [{"name": "One",
                                                                                  "list_size": list_size}]}]}))
    return path


def pcnsim(*args, env=None, cwd=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "pcnsim", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, env=env)


def start(*args, env=None):
    return subprocess.Popen([sys.executable, "-m", "pcnsim", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def hooked(step: str, seconds: float) -> dict:
    return {**os.environ, "PCNSIM_TEST_PAUSE": f"{step}:{seconds}"}


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under a folder with its content."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line_refusal(proc, *words) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = [line for line in proc.stderr.strip().splitlines() if not line.startswith("note: ")]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in proc.stderr, proc.stderr
    for w in words:
        assert w in lines[0], lines[0]
    assert "patient-days" not in proc.stdout  # refused before simulating
    return lines[0]


def user_project(folder: Path) -> Path:
    """A web project that happens to hold a manifest.json (the folder a user lost to --overwrite)."""
    folder.mkdir()
    (folder / "index.html").write_text("<h1>my site</h1>")
    (folder / "manifest.json").write_text(json.dumps({"name": "my-site", "files": {"index.html": "x"}}))
    (folder / "src").mkdir()
    (folder / "src" / "app.js").write_text("console.log('mine')")
    return folder


def seed_of(folder: Path) -> int:
    return json.loads((folder / "manifest.json").read_text())["root_seed"]


def leftovers(folder: Path) -> list[str]:
    """pcnsim's hidden siblings of an output (temporaries, asides, locks)."""
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}."))


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A results folder written by `pcnsim run` (seed 1), to copy from."""
    folder = tmp_path_factory.mktemp("results")
    proc = pcnsim("run", tiny(folder), "--seed", 1, "--out", folder / "r1")
    assert proc.returncode == 0, proc.stderr
    return folder / "r1"


def copy(results: Path, to: Path) -> Path:
    import shutil

    shutil.copytree(results, to)
    return to


# ---- never replacing what pcnsim did not write -----------------------------------------------------------


def test_report_into_a_non_empty_folder_keeps_the_users_files(results, tmp_path):
    site = user_project(tmp_path / "site")
    before = snapshot(site)
    for extra in ([], ["--overwrite"]):
        proc = pcnsim("report", results, "--out", site, *extra)
        one_line_refusal(proc, str(site))
        assert snapshot(site) == before
    assert leftovers(site) == []


def test_overwrite_refuses_a_folder_whose_manifest_pcnsim_did_not_write(tmp_path):
    site = user_project(tmp_path / "site")
    before = snapshot(site)
    proc = pcnsim("run", tiny(tmp_path), "--out", site, "--overwrite")
    one_line_refusal(proc, str(site), "not written by pcnsim")
    assert snapshot(site) == before and leftovers(site) == []


def test_overwrite_refuses_results_holding_a_users_file(results, tmp_path):
    target = copy(results, tmp_path / "r")
    (target / "notes.txt").write_text("my notes on this run")
    before = snapshot(target)
    proc = pcnsim("run", tiny(tmp_path), "--out", target, "--overwrite")
    one_line_refusal(proc, "notes.txt")
    assert snapshot(target) == before


def test_overwrite_replaces_pcnsims_own_results_and_leaves_nothing_behind(results, tmp_path):
    target = copy(results, tmp_path / "r")
    proc = pcnsim("run", tiny(tmp_path), "--seed", 2, "--out", target, "--overwrite")
    assert proc.returncode == 0, proc.stderr
    assert seed_of(target) == 2 and Results.load(target).root_seed == 2
    assert leftovers(target) == []


def test_results_save_refuses_a_foreign_folder_in_python_too(results, tmp_path):
    res = Results.load(results)
    site = user_project(tmp_path / "site")
    before = snapshot(site)
    with pytest.raises(ResultsError, match="not written by pcnsim"):
        res.save(site, overwrite=True)
    assert snapshot(site) == before


# ---- checked before any simulation -----------------------------------------------------------------------


def test_run_into_a_file_or_inside_a_file_fails_at_once(tmp_path):
    scenario = tiny(tmp_path)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    one_line_refusal(pcnsim("run", scenario, "--out", a_file), "not a directory")
    one_line_refusal(pcnsim("run", scenario, "--out", a_file / "out"), "is a file")
    assert a_file.read_text() == "mine"


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc, where nothing can be created")
def test_run_into_an_unwritable_place_fails_at_once(tmp_path):
    proc = pcnsim("run", tiny(tmp_path), "--out", "/proc/pcnsim-test/out")
    one_line_refusal(proc, "/proc/pcnsim-test/out", "cannot be")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_run_into_a_read_only_folder_fails_at_once(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    try:
        one_line_refusal(pcnsim("run", tiny(tmp_path), "--out", locked / "out"), "cannot be written")
    finally:
        locked.chmod(0o755)


def test_every_writer_checks_its_output_before_simulating(tmp_path):
    scenario = tiny(tmp_path)
    busy = user_project(tmp_path / "busy")
    before = snapshot(busy)
    one_line_refusal(pcnsim("compare", scenario, scenario, "--reps", 2, "--out", busy), str(busy), "not empty")
    exp = tmp_path / "exp.yaml"
    exp.write_text(yaml.safe_dump({
        "name": "exp", "base": str(scenario), "parameters": [{"path": "ae.unserved_daily", "kind": "scale",
                                                              "values": [0.8, 1.2]}],
        "design": {"kind": "grid"}, "replicates": 1, "years": 1, "seed": 3, "metrics": ["ae_per_1000"],
        "output": "busy"}))
    one_line_refusal(pcnsim("sweep", exp, "--threads", 1), str(busy), "index.html")
    assert not (busy / "runs").exists() and snapshot(busy) == before
    mine = tmp_path / "mine.yaml"
    mine.write_text("# my own scenario\nname: mine\n")
    cal = tmp_path / "cal.yaml"
    cal.write_text(yaml.safe_dump({"base": str(scenario), "output": "mine.yaml", "seed": 3, "years": 2,
                                   "parameters": [{"path": "ae.background_per_1000", "kind": "scale", "low": 0.5,
                                                   "high": 1.5}], "optimiser": {"max_evaluations": 3}}))
    one_line_refusal(pcnsim("calibrate", cal), str(mine), "not written by pcnsim")
    assert mine.read_text() == "# my own scenario\nname: mine\n"
    from .test_optimise import experiment as workforce_experiment

    one_line_refusal(pcnsim("optimise", workforce_experiment(tmp_path, output="busy")), str(busy), "index.html")
    assert snapshot(busy) == before


def test_only_pcnsims_own_stale_temporaries_are_cleaned(results, tmp_path):
    target = tmp_path / "r"
    ours = tmp_path / ".r.pcnsim-tmp-abc123"
    ours.mkdir()
    (ours / outdir.TEMP_MARKER).write_text("{}")
    (ours / "series.parquet").write_bytes(b"half written")
    unmarked = tmp_path / ".r.pcnsim-tmp-zzz999"  # the name, but not the marker: not provably ours
    unmarked.mkdir()
    (unmarked / "thesis.tex").write_text("mine")
    other = tmp_path / ".r.backup"
    other.mkdir()
    proc = pcnsim("run", tiny(tmp_path), "--out", target)
    assert proc.returncode == 0, proc.stderr
    assert "deleted .r.pcnsim-tmp-abc123" in proc.stderr
    assert not ours.exists() and (unmarked / "thesis.tex").read_text() == "mine" and other.is_dir()
    assert Results.load(target).root_seed == seed_of(target)


# ---- atomic replacement: a kill at any moment -------------------------------------------------------------


def wait_for(condition, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(0.02)


def test_sigkill_between_the_renames_keeps_the_old_results_and_the_next_run_restores_them(results, tmp_path):
    """Killed with the old folder renamed aside and the new one not yet renamed in: both are complete on
    disk; the next command for that output restores the old one and deletes the rest."""
    target = copy(results, tmp_path / "r")
    scenario = tiny(tmp_path)
    for trial in range(3):
        proc = start("run", scenario, "--seed", 10 + trial, "--out", target, "--overwrite",
                     env=hooked("between-renames", 60))
        wait_for(lambda: not target.exists())
        proc.kill()
        proc.wait()
        (aside,) = [tmp_path / n for n in leftovers(target) if outdir.ASIDE_INFIX in n]
        assert Results.load(aside).root_seed == 1  # the old results, complete
        again = pcnsim("run", scenario, "--out", target)  # no --overwrite: restores, then refuses
        one_line_refusal(again, "not empty")
        assert "note: " in again.stderr and "restored the previous folder" in again.stderr
        assert Results.load(target).root_seed == 1 and leftovers(target) == []


def test_reading_a_folder_left_aside_restores_it(results, tmp_path):
    target = copy(results, tmp_path / "r")
    proc = start("run", tiny(tmp_path), "--seed", 5, "--out", target, "--overwrite",
                 env=hooked("between-renames", 60))
    wait_for(lambda: not target.exists())
    proc.kill()
    proc.wait()
    assert Results.load(target).root_seed == 1
    assert [n for n in leftovers(target) if outdir.ASIDE_INFIX in n] == []


def test_sigkill_at_any_moment_of_an_overwrite_leaves_old_or_new_complete(results, tmp_path):
    """Kill `run --overwrite` at times spread over its whole life (start, simulation, write, swap): the
    folder, once the next command has tidied, always loads, with the old seed or the new one."""
    target = copy(results, tmp_path / "r")
    scenario = tiny(tmp_path, list_size=3000)
    t0 = time.time()
    full = pcnsim("run", scenario, "--seed", 7, "--out", tmp_path / "timing")
    assert full.returncode == 0, full.stderr
    duration = time.time() - t0
    seeds = []
    for i in range(8):
        proc = start("run", scenario, "--seed", 7, "--out", target, "--overwrite")
        time.sleep(duration * (0.3 + 0.12 * i))
        proc.kill()
        proc.wait()
        outdir.recover(target)
        seeds.append(Results.load(target).root_seed)  # complete, verified
        assert [n for n in leftovers(target) if outdir.ASIDE_INFIX in n] == []
        if seeds[-1] == 7:
            copy(results, tmp_path / "next")
            import shutil

            shutil.rmtree(target)
            (tmp_path / "next").rename(target)
    assert set(seeds) <= {1, 7}


def test_ctrl_c_during_the_swap_still_puts_the_new_results_in(results, tmp_path):
    target = copy(results, tmp_path / "r")
    proc = start("run", tiny(tmp_path), "--seed", 9, "--out", target, "--overwrite", env=hooked("between-renames", 2))
    wait_for(lambda: not target.exists())
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    assert Results.load(target).root_seed == 9  # the renames finished before the interrupt was acted on
    assert leftovers(target) == []


def test_an_error_between_the_renames_puts_the_old_results_back(results, tmp_path, monkeypatch):
    target = copy(results, tmp_path / "r")
    res = Results.load(target)
    res.root_seed = 11
    calls = []
    real = os.replace

    def second_rename_interrupted(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(os, "replace", second_rename_interrupted)
    with pytest.raises(KeyboardInterrupt):
        res.save(target, overwrite=True)
    monkeypatch.undo()
    assert Results.load(target).root_seed == 1 and leftovers(target) == []


# ---- one writer at a time ---------------------------------------------------------------------------------


def test_a_second_writer_is_refused_before_it_simulates(tmp_path):
    target = tmp_path / "r"
    scenario = tiny(tmp_path)
    first = start("run", scenario, "--seed", 1, "--out", target, env=hooked("claimed", 5))
    wait_for(lambda: (tmp_path / ".r.lock").exists())
    second = pcnsim("run", scenario, "--seed", 2, "--out", target)
    line = one_line_refusal(second, "another pcnsim command", f"pid {first.pid}")
    assert str(target) in line
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert Results.load(target).root_seed == 1 and leftovers(target) == []


def test_simultaneous_writers_never_both_succeed_silently(tmp_path):
    """Two `run --out X` started together: one writes, the other is told; never two successes."""
    scenario = tiny(tmp_path)
    for trial in range(4):
        target = tmp_path / f"r{trial}"
        procs = [start("run", scenario, "--seed", s, "--out", target) for s in (1, 2)]
        outcomes = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
        for p in procs:
            p.stdout.close()
            p.stderr.close()
        codes = sorted(code for code, _ in outcomes)
        assert codes == [0, 2], outcomes
        loser = next(err for code, err in outcomes if code == 2)
        assert "another pcnsim command" in loser or "not empty" in loser, loser
        assert Results.load(target).root_seed in (1, 2) and leftovers(target) == []


def test_a_second_sweep_on_the_same_output_is_refused_before_it_runs(tmp_path):
    from .test_sweep import experiment

    path = experiment(tmp_path, replicates=1)
    first = start("sweep", path, "--threads", 1, env=hooked("claimed", 5))
    wait_for(lambda: (tmp_path / ".exp-out.lock").exists())
    second = pcnsim("sweep", path, "--threads", 1)
    one_line_refusal(second, "another pcnsim command", f"pid {first.pid}")
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert len(list((tmp_path / "exp-out" / "runs").glob("*.json"))) == 6


def test_compare_replaces_only_its_own_folder(tmp_path):
    scenario = tiny(tmp_path)
    out = tmp_path / "cmp"
    args = ("compare", scenario, scenario, "--reps", 2, "--out", out)
    assert pcnsim(*args).returncode == 0
    assert json.loads((out / "manifest.json").read_text())["kind"] == "compare"
    one_line_refusal(pcnsim(*args), "not empty")
    assert pcnsim(*args, "--overwrite").returncode == 0 and leftovers(out) == []
    (out / "notes.txt").write_text("mine")
    one_line_refusal(pcnsim(*args, "--overwrite"), "notes.txt")
    assert (out / "notes.txt").read_text() == "mine"


def test_overwrite_replaces_results_with_their_report_and_a_killed_reports_lock(results, tmp_path):
    target = copy(results, tmp_path / "r")
    assert pcnsim("report", target).returncode == 0
    (target / ".report.lock").write_text("12345")  # left by a report killed while writing
    proc = pcnsim("run", tiny(tmp_path), "--seed", 3, "--out", target, "--overwrite")
    assert proc.returncode == 0, proc.stderr
    assert seed_of(target) == 3 and not (target / "report").exists() and leftovers(target) == []
