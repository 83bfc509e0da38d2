"""One results folder of every kind, written by the real command line on tiny inputs (a few seconds each):
a run, a comparison, a sweep (Sobol indices, so its report has every section), an optimisation and a
calibration, the report of each, a deep-dive timeline file and the schema file."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TINY = {"extends": str(ROOT / "scenarios" / "baseline.yaml"), "name": "tiny",
        "simulation": {"burn_in_years": 0, "years": 1},
        "pcns": [{"name": "Tiny PCN", "practices": [{"name": "North", "list_size": 500},
                                                     {"name": "South", "list_size": 400}]}]}
TEAM = {"extends": "tiny.yaml", "name": "tiny_team", "description": "A small complex-care team.",
        "levers": {"complex_care": {"enabled": True, "start_day": 0, "ramp_days": 0, "fte": 0.2, "caseload": 10}}}
SWEEP = {"name": "tiny_sweep", "description": "What moves A&E in a tiny PCN.", "base": "tiny.yaml",
         "set": {"levers.social_prescribing.enabled": True},
         "parameters": [{"path": "ae.unserved_daily", "kind": "scale", "name": "ae_after_failed_request", "low": 0.5,
                         "high": 1.5},
                        {"path": "booking.same_day_share", "name": "same_day_share", "low": 0.3, "high": 0.6}],
         "design": {"kind": "sobol_indices", "samples": 2}, "replicates": 1, "years": 1, "seed": 3,
         "metrics": ["ae_per_1000", "gp_per_1000", "revisit_rate"], "output": "sweep"}
OPTIMISE = {"name": "tiny_placement", "description": "Where one link worker should sit.", "base": "tiny.yaml",
            "roles": [{"role": "splw", "total_fte": 1.0}], "step": 0.5, "budget": 60000,
            "objective": {"unmet_days_per_person": 1.0, "ae_per_1000": 0.01}, "replicates": 2,
            "validation_replicates": 2, "years": 1, "seed": 5, "trials": 2, "output": "optimise"}
CALIBRATE = {"name": "tiny_fit", "base": "tiny.yaml", "output": "tiny_fitted.yaml", "results": "calibrate",
             "output_name": "tiny_fitted", "seed": 3, "years": 2,
             "parameters": [{"path": "ae.background_per_1000", "kind": "scale", "low": 0.5, "high": 1.5}],
             "optimiser": {"max_evaluations": 2}}
KINDS = ("results", "compare", "sweep", "optimise", "calibrate")  # a manifest's kind, by folder


@dataclass
class Folders:
    """Where everything was written, and how: each command's arguments (after `pcnsim`), its output and the
    times around it."""

    root: Path
    folder: dict[str, Path] = field(default_factory=dict)  # by manifest kind; reports under FOLDER/report
    args: dict[str, list[str]] = field(default_factory=dict)  # by kind, and "report <kind>"
    stdout: dict[str, str] = field(default_factory=dict)
    times: dict[str, tuple[float, float]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)  # single files: calibrate's scenario, deep-dive, schema


def pcnsim(folders: Folders, name: str, args: list[str], umask: int) -> None:
    """Run `pcnsim ARGS` in the folders' root with this umask; fail with its stderr if it fails."""
    before = time.time()
    done = subprocess.run([sys.executable, "-m", "pcnsim", *args], capture_output=True, text=True, timeout=900,
                          cwd=folders.root, umask=umask)
    assert done.returncode == 0, f"pcnsim {' '.join(args)}:\n{done.stderr}"
    folders.args[name], folders.stdout[name], folders.times[name] = args, done.stdout, (before, time.time())


def make(root: Path, umask: int) -> Folders:
    """Every kind of folder in `root`, each command run with `umask`."""
    folders = Folders(root)
    for name, data in (("tiny", TINY), ("tiny_team", TEAM), ("sweep_experiment", SWEEP),
                       ("optimise_experiment", OPTIMISE), ("calibrate_experiment", CALIBRATE)):
        (root / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    commands = {
        "results": ["run", "tiny.yaml", "--reps", "2", "--seed", "11", "--out", "run"],
        "compare": ["compare", "tiny.yaml", "tiny_team.yaml", "--reps", "2", "--out", "compare"],
        "sweep": ["sweep", "sweep_experiment.yaml", "--threads", "1"],
        "optimise": ["optimise", "optimise_experiment.yaml"],
        "calibrate": ["calibrate", "calibrate_experiment.yaml"],
    }
    for kind, args in commands.items():
        pcnsim(folders, kind, args, umask)
        folders.folder[kind] = root / args[args.index("--out") + 1] if "--out" in args else root / kind
    for kind in KINDS:
        pcnsim(folders, f"report {kind}", ["report", folders.folder[kind].name], umask)
    pcnsim(folders, "deep-dive", ["deep-dive", "tiny_team.yaml", "--base", "tiny.yaml", "--who", "top-fa:1",
                                  "--out", "timelines.csv"], umask)
    pcnsim(folders, "schema", ["schema", "--out", "schema.json"], umask)
    folders.files = [root / "tiny_fitted.yaml", root / "timelines.csv", root / "schema.json"]
    return folders
