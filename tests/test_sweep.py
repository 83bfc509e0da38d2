"""Sweeps: designs, experiment validation, and identical results serially, in a process pool and on a real
Dask cluster (a scheduler and two worker processes on 127.0.0.1); killed workers and interrupted
commands lose and duplicate nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pcnsim.experiments import executors, sweep
from pcnsim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]


def small_place(folder: Path, list_size: int = 1500) -> Path:
    """The calibrated baseline's parameters on two small practices, no burn-in: runs take a fraction of a second."""
    data = {"extends": str(ROOT / "scenarios" / "baseline.yaml"), "name": "small",
            "simulation": {"burn_in_years": 0},
            "pcns": [{"name": "Small PCN", "practices": [
                {"name": "One", "list_size": list_size, "deprivation_mix": [0.4, 0.3, 0.2, 0.1, 0.0]},
                {"name": "Two", "list_size": list_size}]}]}
    path = folder / "small.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def experiment(folder: Path, name: str = "exp", list_size: int = 1500, **changes) -> Path:
    data = {
        "name": name, "base": str(small_place(folder, list_size)),
        "set": {"levers.social_prescribing.enabled": True, "levers.social_prescribing.ramp_days": 0},
        "parameters": [{"path": "levers.social_prescribing.extra_splw_fte", "name": "splw", "values": [0, 0.5, 2]},
                       {"path": "ae.unserved_daily", "kind": "scale", "name": "ae_scale", "values": [0.8, 1.2]}],
        "design": {"kind": "grid"}, "replicates": 2, "years": 1, "seed": 3,
        "metrics": ["ae_per_1000", "splw_per_1000", "revisits_per_1000"], "output": f"{name}-out",
    }
    data.update(changes)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def pcnsim(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "pcnsim", *map(str, args)], capture_output=True, text=True,
                          timeout=600, **kwargs)


# ---- designs and validation ----------------------------------------------------------------------------


def test_designs_have_the_documented_sizes_and_ranges(tmp_path):
    grid = sweep.load(experiment(tmp_path))
    assert len(grid.design) == 6 and len(grid.runs) == 12
    assert sorted(set(grid.design["splw"])) == [0, 0.5, 2]
    ranged = [{"path": "levers.complex_care.caseload", "name": "caseload", "low": 0, "high": 300, "integer": True},
              {"path": "ae.wait_slope", "name": "slope", "low": 0.05, "high": 0.3},
              {"path": "booking.same_day_share", "name": "same_day", "low": 0.3, "high": 0.6, "mode": 0.45,
               "distribution": "triangular"}]
    for kind, n, size in (("latin_hypercube", 20, 20), ("sobol_sequence", 16, 16), ("sobol_indices", 8, 8 * 5),
                          ("morris", 4, 4 * 4)):
        plan = sweep.load(experiment(tmp_path, name=kind, parameters=ranged, design={"kind": kind, "samples": n},
                                     replicates=1))
        d = plan.design
        assert len(d) == size, kind
        assert d["caseload"].between(0, 300).all() and (d["caseload"] == d["caseload"].round()).all()
        assert d["same_day"].between(0.3, 0.6).all()
        assert (plan.runs[0].scenario["levers"]["complex_care"]["caseload"] ==
                int(d.loc[0, "caseload"]))
        # Real-valued parameters reach the scenario exactly as drawn (not rounded).
        assert d["same_day"].nunique() > 1 and not (d["same_day"] == d["same_day"].round()).any()
        for run in plan.runs[:5]:
            assert run.scenario["booking"]["same_day_share"] == d.loc[run.point, "same_day"]
            assert run.scenario["ae"]["wait_slope"] == d.loc[run.point, "slope"]
    # normal90: [low, high] is the 90% interval, so about 10% of a large sample falls outside it.
    uncertain = [{**ranged[1], "low": 0.1, "high": 0.3, "distribution": "normal90"}]
    many = sweep.load(experiment(tmp_path, name="mc", parameters=uncertain, replicates=1,
                                 design={"kind": "latin_hypercube", "samples": 2000}))
    outside = (~many.design["slope"].between(0.1, 0.3)).mean()
    assert 0.07 < outside < 0.13  # LHS stratifies the quantiles: the share is 10% up to the clipping


@pytest.mark.parametrize(("changes", "message"), [
    ({"metrics": ["ae_per_1000", "happiness"]}, r"metrics: unknown metrics \['happiness'\]"),
    ({"parameters": [{"path": "ae.nowhere", "values": [1, 2]}]}, r"ae.nowhere: unknown field; allowed here: backgr"),
    ({"parameters": [{"path": "ae.nowhere.deeper", "values": [1, 2]}]},
     r"parameters\[0\].path: 'ae.nowhere.deeper' does not reach a scenario value \(missing 'ae.nowhere'\)"),
    ({"parameters": [{"path": "ae.wait_slope", "low": 0.1, "high": 0.2}]}, r"a grid design needs `values`"),
    ({"parameters": [{"path": "levers.complex_care.caseload", "values": [10, -5]}]},
     r"design point 1 \(levers.complex_care.caseload=-5\): levers.complex_care.caseload: .*greater than or equal"),
    ({"replicates": 0}, r"replicates: .*greater than or equal to 1"),
])
def test_bad_experiments_name_the_field(tmp_path, changes, message):
    path = experiment(tmp_path, **changes)
    with pytest.raises(ScenarioError, match=message):
        sweep.load(path)
    proc = pcnsim("sweep", path, "--threads", "1")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert str(path) in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "exp-out").exists()


# ---- the same numbers however it runs ------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_cluster():
    """A real scheduler and two single-threaded worker processes on 127.0.0.1; stopped afterwards."""
    with executors.local_cluster(2) as (address, workers):
        yield address, workers


def results_table(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path)


def test_serial_pool_and_dask_give_identical_results(tmp_path, dask_cluster):
    address, _ = dask_cluster
    tables = {}
    for how, kwargs in (("serial", {"workers": 1}), ("pool", {"workers": 2}), ("dask", {"scheduler": address})):
        folder = tmp_path / how
        folder.mkdir()
        tables[how] = sweep.sweep(experiment(folder), **kwargs)
        pd.testing.assert_frame_equal(tables[how], results_table(folder / "exp-out" / "results.parquet"))
    assert len(tables["serial"]) == 12 and tables["serial"]["run_id"].is_unique
    pd.testing.assert_frame_equal(tables["pool"], tables["serial"], check_exact=True)
    pd.testing.assert_frame_equal(tables["dask"], tables["serial"], check_exact=True)
    # The lever is doing something, and replicates differ (distinct seeds), points share them (paired).
    t = tables["serial"]
    assert t.groupby("splw")["splw_per_1000"].mean().is_monotonic_increasing
    assert t[t["point"] == 0]["seed"].tolist() == t[t["point"] == 5]["seed"].tolist()
    assert t[t["point"] == 0]["ae_per_1000"].nunique() == 2


def test_a_killed_dask_worker_loses_and_duplicates_nothing(tmp_path, dask_cluster):
    address, workers = dask_cluster
    path = experiment(tmp_path, list_size=6000, replicates=3)
    proc = subprocess.Popen([sys.executable, "-m", "pcnsim", "sweep", str(path), "--scheduler", address],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runs = tmp_path / "exp-out" / "runs"
    deadline = time.time() + 300
    while len(list(runs.glob("*.json")) if runs.exists() else []) < 3 and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(workers[0].pid, signal.SIGKILL)  # one worker (and its nanny) dies mid-sweep
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    table = results_table(tmp_path / "exp-out" / "results.parquet")
    assert len(table) == 18 and table["run_id"].is_unique
    assert len(list(runs.glob("*.json"))) == 18
    serial = tmp_path / "serial"
    serial.mkdir()
    expected = sweep.sweep(experiment(serial, list_size=6000, replicates=3), workers=1)
    pd.testing.assert_frame_equal(table, expected, check_exact=True)


def test_an_interrupted_sweep_resumes_where_it_stopped(tmp_path):
    path = experiment(tmp_path, list_size=6000, replicates=3)
    runs = tmp_path / "exp-out" / "runs"
    proc = subprocess.Popen([sys.executable, "-m", "pcnsim", "sweep", str(path), "--threads", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while len(list(runs.glob("*.json")) if runs.exists() else []) < 4 and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "rerun the same command" in err and "Traceback" not in err
    first = {f.name: f.stat().st_mtime_ns for f in runs.glob("*.json")}
    assert 4 <= len(first) < 18
    assert not (tmp_path / "exp-out" / "results.parquet").exists()
    for f in runs.glob("*.json"):
        json.loads(f.read_text())  # every saved run is complete
    again = pcnsim("sweep", path, "--threads", "1")
    assert again.returncode == 0, again.stderr
    after = {f.name: f.stat().st_mtime_ns for f in runs.glob("*.json")}
    assert len(after) == 18
    assert all(after[name] == mtime for name, mtime in first.items())  # finished runs were not redone
    table = results_table(tmp_path / "exp-out" / "results.parquet")
    assert table["run_id"].is_unique and len(table) == 18
    serial = tmp_path / "serial"
    serial.mkdir()
    expected = sweep.sweep(experiment(serial, list_size=6000, replicates=3), workers=1)
    pd.testing.assert_frame_equal(table, expected, check_exact=True)


def test_a_different_experiment_does_not_reuse_old_runs(tmp_path):
    path = experiment(tmp_path, replicates=1)
    sweep.sweep(path, workers=1)
    changed = experiment(tmp_path, replicates=1, seed=99)
    with pytest.raises(ScenarioError, match="holds runs of a different experiment"):
        sweep.sweep(changed, workers=1)


def test_sobol_indices_find_the_parameter_that_drives_ae(tmp_path):
    """A&E rises steeply with the spill-over scale and not at all with an unused lever's size: the total
    Sobol index of the first is large and of the second near zero (both within SALib's confidence)."""
    params = [{"path": "ae.unserved_daily", "kind": "scale", "name": "spill_over", "low": 0.5, "high": 3.0},
              {"path": "levers.acute_visiting.paramedic_fte", "name": "unused_paramedics", "low": 0, "high": 5}]
    path = experiment(tmp_path, parameters=params, design={"kind": "sobol_indices", "samples": 16}, replicates=1,
                      metrics=["ae_per_1000"], sensitivity=["ae_per_1000"], list_size=3000)
    sweep.sweep(path, workers=2)
    si = pd.read_csv(tmp_path / "exp-out" / "sensitivity.csv").set_index("parameter")
    assert si.loc["spill_over", "ST"] > 0.5
    assert abs(si.loc["unused_paramedics", "ST"]) < 0.05  # the lever is off: exactly no effect
    assert (tmp_path / "exp-out" / "sensitivity.png").stat().st_size > 1000
    assert np.isfinite(si["S1"]).all()


@pytest.mark.parametrize("name", ["complex_care_x_social_prescribing", "baseline_uncertainty", "ae_drivers_sobol"])
def test_example_experiments_validate(name):
    plan = sweep.load(ROOT / "experiments" / f"{name}.yaml")
    assert len(plan.runs) == len(plan.design) * plan.experiment.replicates
    assert plan.output.is_relative_to(ROOT / "results")  # outputs land in the git-ignored results folder
