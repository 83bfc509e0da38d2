"""Every results folder says where it came from: its manifest lists each file with its checksum and records
pcnsim's and its libraries' versions, the git commit when pcnsim runs from a checkout, the command line,
when it started and how long it took, the seeds and the resolved scenarios. Files and folders follow the
user's umask. Real commands on tiny inputs throughout (`tests/folders.py`)."""

from __future__ import annotations

import json
import platform
import shlex
import shutil
import stat
import subprocess
import sys
from datetime import datetime
from importlib import metadata
from pathlib import Path

import pytest

from pcnsim import verify
from pcnsim.scenario import load

from .folders import KINDS, ROOT, make

LIBRARIES = ("numpy", "numba", "pandas", "pyarrow", "mesa", "dask", "pydantic", "scipy", "SALib", "optuna")


def manifest_of(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def listed_files(folder: Path) -> set[str]:
    """What a manifest should list: every file but the manifest and hidden ones, with a sweep's run records."""
    found = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    return {name for name in found if not name.startswith(("report/", ".")) and name != "manifest.json"}


def git_head() -> str | None:
    if shutil.which("git") is None:
        return None
    done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--show-toplevel", "HEAD"], capture_output=True,
                          text=True)
    if done.returncode != 0 or Path(done.stdout.split()[0]).resolve() != ROOT:
        return None
    return done.stdout.split()[1]


@pytest.mark.parametrize("kind", KINDS)
def test_every_folder_kind_has_a_manifest_with_its_provenance(folders, kind):
    folder = folders.folder[kind]
    manifest = verify.read_manifest(folder, verify=True)  # unedited: its own checksum holds
    verify.check_files(folder, manifest)  # every listed file has its size and SHA-256
    assert manifest["kind"] == kind and set(manifest["files"]) == listed_files(folder)
    made = manifest["provenance"]
    assert made["pcnsim"] == metadata.version("pcnsim")
    for library in LIBRARIES:
        assert made["dependencies"][library] == metadata.version(library), library
    assert made["python"] == platform.python_version() and made["platform"] == platform.platform()
    assert made["command"] == shlex.join(["pcnsim", *folders.args[kind]])
    assert made["working_directory"] == str(folders.root)
    began, ended = folders.times[kind]
    started = datetime.fromisoformat(made["started"]).timestamp()
    assert began - 1 <= started <= ended and 0 < made["wall_seconds"] <= ended - began
    head = git_head()
    if head is not None:  # pcnsim runs from this checkout
        assert made["git"]["commit"] == head and isinstance(made["git"]["dirty"], bool)
    assert made["scenarios"] and made["seeds"]["replicates"]
    for name in made["scenarios"]:  # each resolved scenario loads back, on the root seed its runs used
        assert name in manifest["files"]
        assert load(folder / name).simulation.seed == made["seeds"]["root"]


def test_seeds_and_experiment_files_are_the_ones_that_ran(folders):
    run = manifest_of(folders.folder["results"])
    assert run["provenance"]["seeds"] == {"root": 11, "replicates": run["replicate_seeds"]}
    compare = json.loads((folders.folder["compare"] / "comparison.json").read_text())
    assert manifest_of(folders.folder["compare"])["provenance"]["seeds"] == {
        "root": compare["root_seed"], "replicates": compare["replicate_seeds"]}
    for kind, experiment in (("sweep", "sweep_experiment.yaml"), ("optimise", "optimise_experiment.yaml"),
                             ("calibrate", "calibrate_experiment.yaml")):
        made = manifest_of(folders.folder[kind])["provenance"]
        copy = folders.folder[kind] / made["experiment"]
        assert copy.read_text() == (folders.root / experiment).read_text(), kind
    sweep = manifest_of(folders.folder["sweep"])
    records = [json.loads(p.read_text()) for p in sorted((folders.folder["sweep"] / "runs").glob("*.json"))]
    assert sweep["runs"] == len(records) == 8 and sweep["provenance"]["seeds"]["root"] == 3
    assert sweep["provenance"]["seeds"]["replicates"] == [seed for _, seed in sorted({(r["replicate"], r["seed"])
                                                                                       for r in records})]
    base = load(folders.folder["sweep"] / "scenario.yaml")  # the base, with the experiment's fixed settings
    assert base.levers.social_prescribing.enabled and base.name == "tiny"
    optimise = manifest_of(folders.folder["optimise"])["provenance"]["seeds"]
    assert optimise["root"] == 5 and optimise["validation_root"] == 6 and len(optimise["validation_replicates"]) == 2
    fitted = load(folders.folder["calibrate"] / "fitted.yaml")
    assert fitted.name == "tiny_fitted" and fitted.simulation.seed == 3


@pytest.mark.parametrize("kind", KINDS)
def test_a_reports_manifest_names_the_folder_it_reports(folders, kind):
    source = manifest_of(folders.folder[kind])
    report = verify.read_manifest(folders.folder[kind] / "report", verify=True)
    verify.check_files(folders.folder[kind] / "report", report)
    assert report["kind"] == "report" and "index.html" in report["files"]
    made = report["provenance"]
    assert made["source"] == {"folder": str(folders.folder[kind].resolve()), "kind": kind,
                              "manifest_sha256": source["manifest_sha256"]}
    assert made["command"] == shlex.join(["pcnsim", *folders.args[f"report {kind}"]])
    assert made["seeds"] == source["provenance"]["seeds"]


def test_a_resumed_sweep_writes_a_manifest_of_every_run(folders, tmp_path):
    """A sweep stopped part-way (two runs and its combined tables missing, as a killed sweep leaves them) is
    finished by the same command again; the manifest then lists every run, old and new, with its checksum,
    and the command that finished it."""
    root = tmp_path / "again"
    shutil.copytree(folders.root, root, ignore=shutil.ignore_patterns("report"))
    sweep = root / "sweep"
    kept = {p.name: p.read_bytes() for p in sorted((sweep / "runs").glob("*.json"))[2:]}
    for name in ("p00000-r000.json", "p00001-r000.json"):
        (sweep / "runs" / name).unlink()
    for name in ("results.parquet", "results.csv", "summary.parquet", "summary.csv"):
        (sweep / name).unlink()
    done = subprocess.run([sys.executable, "-m", "pcnsim", "sweep", "sweep_experiment.yaml", "--threads", "1"],
                          capture_output=True, text=True, cwd=root, timeout=600)
    assert done.returncode == 0, done.stderr
    manifest = verify.read_manifest(sweep, verify=True)
    verify.check_files(sweep, manifest)
    assert set(manifest["files"]) == listed_files(sweep) and manifest["runs"] == 8
    assert {f"runs/{name}" for name in kept} < set(manifest["files"])
    assert all((sweep / "runs" / name).read_bytes() == data for name, data in kept.items())  # kept, not rerun
    assert manifest["provenance"]["working_directory"] == str(root)


def modes(folders) -> tuple[set[int], set[int]]:
    """The permission bits of every file and folder the commands made."""
    made = [*folders.folder.values(), *folders.files]
    paths = [q for p in made for q in ([p, *p.rglob("*")] if p.is_dir() else [p])]
    files = {stat.S_IMODE(p.stat().st_mode) for p in paths if p.is_file()}
    dirs = {stat.S_IMODE(p.stat().st_mode) for p in paths if p.is_dir()}
    return files, dirs


def test_with_umask_022_colleagues_can_read_every_file_and_folder(folders):
    files, dirs = modes(folders)
    assert files == {0o644} and dirs == {0o755}


def test_with_umask_077_every_file_and_folder_is_private(tmp_path):
    files, dirs = modes(make(tmp_path, 0o077))
    assert files == {0o600} and dirs == {0o700}
