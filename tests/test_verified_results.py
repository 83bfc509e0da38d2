"""Verified results: a missing, truncated, altered, swapped or foreign file is refused by Results.load,
`pcnsim report` and a sweep's resume, with one line naming it; --no-verify reads a file edited on purpose."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pcnsim.experiments import sweep
from pcnsim.results import Results, ResultsError
from pcnsim.run import run
from pcnsim.scenario import load

from .test_sweep import experiment

ROOT = Path(__file__).resolve().parents[1]


def pcnsim(*args):
    return subprocess.run([sys.executable, "-m", "pcnsim", *map(str, args)], capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Two results folders of the same small scenario, seeds 1 and 2 (same shapes, different numbers)."""
    folder = tmp_path_factory.mktemp("saved")
    sc = load(ROOT / "scenarios" / "baseline.yaml").model_copy(deep=True)
    data = sc.model_dump()
    data["simulation"].update(burn_in_years=0, years=1)
    data["pcns"] = [{"name": "Tiny PCN", "practices": [{"name": "One", "list_size": 400},
                                                       {"name": "Two", "list_size": 300}]}]
    from pcnsim.scenario import from_dict

    small = from_dict(data)
    for seed in (1, 2):
        run(small, seed=seed, reps=2, ledger=True).save(folder / f"seed{seed}")
    return folder


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def edit_manifest(path: Path) -> None:
    manifest = json.loads(path.read_text())
    manifest["replicate_seeds"][0] += 1
    path.write_text(json.dumps(manifest, indent=2))


def foreign_manifest(path: Path) -> None:
    manifest = json.loads(path.read_text())
    manifest["generator"] = "someone-else"
    path.write_text(json.dumps(manifest))


TAMPERING = {
    # name: (file, what is done to it, words of the one-line refusal)
    "changed byte": ("series.parquet", flip_a_byte, "altered or replaced"),
    "changed byte in the scenario": ("scenario.yaml", lambda p: p.write_text(p.read_text().replace(
        "list_size: 400", "list_size: 401")), "altered or replaced"),
    "truncated": ("patients_yearly.parquet", truncate, "truncated, altered"),
    "emptied": ("summary.parquet", lambda p: p.write_bytes(b""), "truncated, altered"),
    "missing": ("capacity.parquet", lambda p: p.unlink(), "missing"),
    "swapped from another run": ("series.parquet", None, "replaced since pcnsim wrote it"),
    "edited manifest": ("manifest.json", edit_manifest, "altered since pcnsim wrote it"),
    "garbage manifest": ("manifest.json", lambda p: p.write_text("{not json"), "not readable JSON"),
    "foreign manifest": ("manifest.json", foreign_manifest, "not pcnsim"),
}


@pytest.fixture(params=sorted(TAMPERING))
def tampered(request, saved, tmp_path):
    name, change, words = TAMPERING[request.param]
    folder = shutil.copytree(saved / "seed1", tmp_path / "r")
    if change is None:
        shutil.copyfile(saved / "seed2" / name, folder / name)
    else:
        change(folder / name)
    return folder, folder / name, words


def test_load_refuses_a_tampered_folder_naming_the_file(tampered):
    folder, path, words = tampered
    with pytest.raises(ResultsError) as err:
        Results.load(folder)
    message = str(err.value)
    assert str(path) in message and words in message and "\n" not in message


def test_report_refuses_a_tampered_folder_in_one_line(tampered):
    folder, path, words = tampered
    proc = pcnsim("report", folder)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert str(path) in lines[0] and words in lines[0], lines[0]
    assert not (folder / "report").exists()


def test_a_file_swapped_from_another_run_would_load_other_numbers_without_verification(saved, tmp_path):
    """What the checksums guard against: the swapped table has the right shape, so only they notice."""
    folder = shutil.copytree(saved / "seed1", tmp_path / "r")
    shutil.copyfile(saved / "seed2" / "series.parquet", folder / "series.parquet")
    unverified = Results.load(folder, verify=False)
    assert not np.array_equal(unverified.weekly, Results.load(saved / "seed1").weekly)
    with pytest.raises(ResultsError, match=r"series\.parquet"):
        Results.load(folder)


def test_no_verify_reads_a_file_edited_on_purpose(saved, tmp_path):
    folder = shutil.copytree(saved / "seed1", tmp_path / "r")
    summary = pd.read_parquet(folder / "summary.parquet")
    summary["value"] = summary["value"] * 2
    summary.to_parquet(folder / "summary.parquet", index=False)
    with pytest.raises(ResultsError, match=r"summary\.parquet"):
        Results.load(folder)
    edited = Results.load(folder, verify=False)
    pd.testing.assert_frame_equal(edited.summary(), summary)
    proc = pcnsim("report", folder, "--no-verify")
    assert proc.returncode == 0, proc.stderr
    assert (folder / "report" / "index.html").exists()


@pytest.mark.parametrize("change, words", [
    (truncate, "damaged: not a readable parquet file"),
    (lambda p: pd.DataFrame({"a": [1]}).to_parquet(p), "no column 'replicate'"),
])
def test_no_verify_still_refuses_an_unreadable_or_foreign_table_in_one_line(saved, tmp_path, change, words):
    folder = shutil.copytree(saved / "seed1", tmp_path / "r")
    change(folder / "series.parquet")
    with pytest.raises(ResultsError, match=words):
        Results.load(folder, verify=False)
    proc = pcnsim("report", folder, "--no-verify")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "series.parquet" in proc.stderr and "Traceback" not in proc.stderr


def test_untampered_results_load_and_report(saved, tmp_path):
    folder = shutil.copytree(saved / "seed1", tmp_path / "r")
    assert Results.load(folder).root_seed == 1
    proc = pcnsim("report", folder)
    assert proc.returncode == 0, proc.stderr


# ---- a sweep's finished runs ------------------------------------------------------------------------------


def edit_metric(path: Path) -> None:
    record = json.loads(path.read_text())
    record["metrics"]["ae_per_1000"] += 1.0
    path.write_text(json.dumps(record))


RUN_TAMPERING = {
    "edited": (edit_metric, "altered since pcnsim wrote it"),
    "emptied": (lambda p: p.write_text(""), "not readable JSON"),
    "truncated": (lambda p: p.write_text(p.read_text()[:40]), "not readable JSON"),
    "another run's record": (None, "not the run its name says"),
}


@pytest.mark.parametrize("case", sorted(RUN_TAMPERING))
def test_resume_sets_a_damaged_run_aside_and_runs_it_again(tmp_path, case):
    path = experiment(tmp_path, replicates=1)
    expected = sweep.sweep(path, workers=1)
    runs = tmp_path / "exp-out" / "runs"
    victim = runs / "p00001-r000.json"
    change, words = RUN_TAMPERING[case]
    if change is None:
        shutil.copyfile(runs / "p00002-r000.json", victim)
    else:
        change(victim)
    proc = subprocess.run([sys.executable, "-m", "pcnsim", "sweep", str(path), "--threads", "1"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and str(victim) in notes[0] and words in notes[0], proc.stderr
    assert "set aside as p00001-r000.json.corrupt" in notes[0]
    assert (runs / "p00001-r000.json.corrupt").exists()  # kept, not deleted
    table = pd.read_parquet(tmp_path / "exp-out" / "results.parquet")
    pd.testing.assert_frame_equal(table, expected, check_exact=True)  # the run was simulated again


def test_resume_in_python_warns_about_a_damaged_run(tmp_path):
    path = experiment(tmp_path, replicates=1)
    expected = sweep.sweep(path, workers=1)
    (tmp_path / "exp-out" / "runs" / "p00000-r000.json").write_text("")
    half = tmp_path / "exp-out" / "runs" / ".p00001-r000.json.pcnsim-tmp-x1y2"  # left by a killed sweep
    half.write_text('{"run_id": "p0')
    with pytest.warns(UserWarning, match="p00000-r000.json: not readable JSON"):
        again = sweep.sweep(path, workers=1)
    pd.testing.assert_frame_equal(again, expected, check_exact=True)
    assert not half.exists()
