"""Calibration machinery: parameter paths, a small deterministic fit, bad experiment files."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from pcnsim.experiments import calibrate as cal
from pcnsim.scenario import load

ROOT = Path(__file__).resolve().parents[1]


def test_paths_reach_mappings_lists_wildcards_and_age_bands():
    data = {"ae": {"background_per_1000": {0: 10.0, 80: 30.0}, "direct": [0.0, 0.1, 0.2]},
            "access": {"propensity": {0: [0.8, 0.9], 16: [0.4, 0.6]}}}
    assert cal.parse_path("access.propensity.*[0]") == ["access", "propensity", "*", 0]
    assert [k for _, k in cal.leaves(data, cal.parse_path("access.propensity.*[0]"))] == [0, 0]
    params = [cal.Parameter(path="ae.background_per_1000", kind="scale", low=0.1, high=2),
              cal.Parameter(path="ae.background_per_1000.80", kind="value", low=1, high=100),
              cal.Parameter(path="access.propensity.*[0]", kind="scale", low=0.1, high=2),
              cal.Parameter(path="ae.direct[2]", kind="value", low=0, high=1)]
    out = cal.apply(data, params, np.array([0.5, 42.0, 0.5, 0.3]))
    assert out["ae"]["background_per_1000"] == {0: 5.0, 80: 42.0}
    assert out["access"]["propensity"] == {0: [0.4, 0.9], 16: [0.2, 0.6]}
    assert out["ae"]["direct"] == [0.0, 0.1, 0.3]
    assert data["ae"]["direct"] == [0.0, 0.1, 0.2]  # the base is not modified
    override = cal.override_for(out, params)
    assert override == {"ae": {"background_per_1000": {0: 5.0, 80: 42.0}, "direct": [0.0, 0.1, 0.3]},
                        "access": {"propensity": {0: [0.4, 0.9], 16: [0.2, 0.6]}}}
    with pytest.raises(KeyError):
        cal.leaves(data, cal.parse_path("ae.nothing"))


def small_experiment(tmp_path: Path, **extra) -> Path:
    base = tmp_path / "small.yaml"
    base.write_text(yaml.safe_dump({
        "name": "small", "pcns": [{"name": "P", "practices": [{"name": "A", "list_size": 2500},
                                                           {"name": "B", "list_size": 1500}]}]}))
    exp = {"base": "small.yaml", "output": "small_fitted.yaml", "output_name": "small_fitted", "seed": 3, "years": 2,
           "parameters": [{"path": "ae.background_per_1000", "kind": "scale", "low": 0.3, "high": 1.5},
                          {"path": "ae.admission_by_age", "kind": "scale", "low": 0.5, "high": 2.0}],
           "optimiser": {"max_evaluations": 9}}
    exp.update(extra)
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(exp))
    return path


def test_small_fit_is_deterministic_and_writes_a_loadable_scenario(tmp_path):
    exp = small_experiment(tmp_path)
    first = cal.calibrate(exp)
    text_1 = (tmp_path / "small_fitted.yaml").read_text()
    second = cal.calibrate(exp, overwrite=True)
    assert first["x"] == second["x"] and first["cost"] == second["cost"]
    assert (tmp_path / "small_fitted.yaml").read_text().split("\n", 1)[1] == text_1.split("\n", 1)[1]
    fitted = load(tmp_path / "small_fitted.yaml")
    base = load(tmp_path / "small.yaml")
    assert fitted.name == "small_fitted"
    scale = first["x"]["ae.background_per_1000"]
    assert fitted.ae.background_per_1000[15] == pytest.approx(base.ae.background_per_1000[15] * scale)
    assert fitted.booking == base.booking  # untouched parameters come from the base
    assert first["evaluations"] <= 9


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "pcnsim", *map(str, args)], capture_output=True, text=True,
                          timeout=600)


@pytest.mark.parametrize("change, words", [
    ({"parameters": [{"path": "ae.nothing", "low": 0, "high": 1}]}, "exp.yaml: ae.nothing: unknown field"),
    ({"parameters": [{"path": "ae.nothing.deeper", "low": 0, "high": 1}]},
     "parameters[0].path: 'ae.nothing.deeper' does not reach a scenario value (missing 'ae.nothing')"),
    ({"parameters": [{"path": "ae.wait_slope", "low": 2, "high": 1}]}, "must be below high"),
    ({"optimiser": {"max_evaluations": 0}}, "optimiser.max_evaluations"),
    ({"years": 1}, "years: Input should be greater than or equal to 2"),
])
def test_bad_experiment_is_one_line_exit_2(tmp_path, change, words):
    exp = small_experiment(tmp_path, **change)
    proc = run_cli("calibrate", exp)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and words in proc.stderr, proc.stderr
    assert not (tmp_path / "small_fitted.yaml").exists()


def test_committed_baseline_extends_the_uncalibrated_one():
    raw = yaml.safe_load((ROOT / "scenarios" / "baseline.yaml").read_text())
    assert raw["extends"] == "baseline_uncalibrated.yaml"
    exp = yaml.safe_load((ROOT / "experiments" / "calibration.yaml").read_text())
    fitted = cal.override_for(cal.resolved_data(ROOT / "scenarios" / "baseline.yaml"),
                              [cal.Parameter(**p) for p in exp["parameters"]])
    assert set(fitted) <= set(raw)  # the committed file holds exactly the fitted blocks


@pytest.mark.slow
def test_rerunning_the_committed_calibration_reproduces_the_committed_baseline(tmp_path):
    """`pcnsim calibrate experiments/calibration.yaml` from the same seed gives the committed parameters.

    Every evaluation uses the same replicate seeds and the optimiser is deterministic, so the rerun is
    expected to match exactly; the comparison allows 1e-9 relative for floating-point formatting."""
    exp = yaml.safe_load((ROOT / "experiments" / "calibration.yaml").read_text())
    exp["base"] = str(ROOT / "scenarios" / "baseline_uncalibrated.yaml")
    exp["output"] = str(tmp_path / "baseline.yaml")
    exp["results"] = str(tmp_path / "calibration")
    path = tmp_path / "calibration.yaml"
    path.write_text(yaml.safe_dump(exp))
    proc = run_cli("calibrate", path)
    assert proc.returncode == 0, proc.stderr
    params = [cal.Parameter(**p) for p in exp["parameters"]]
    again = cal.override_for(cal.resolved_data(tmp_path / "baseline.yaml"), params)
    committed = cal.override_for(cal.resolved_data(ROOT / "scenarios" / "baseline.yaml"), params)

    def flat(d, prefix=""):
        for k, v in d.items():
            if isinstance(v, dict):
                yield from flat(v, f"{prefix}{k}.")
            elif isinstance(v, list):
                for i, x in enumerate(v):
                    yield (f"{prefix}{k}[{i}]", x) if not isinstance(x, list) else from_list(f"{prefix}{k}[{i}]", x)
            else:
                yield f"{prefix}{k}", v

    def from_list(name, xs):
        return name, tuple(xs)

    a, b = dict(flat(again)), dict(flat(committed))
    assert a.keys() == b.keys()
    for key in a:
        assert np.allclose(np.asarray(a[key], float), np.asarray(b[key], float), rtol=1e-9, atol=0), key
