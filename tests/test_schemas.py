"""The JSON Schemas pcnsim publishes (`pcnsim schema`, schemas/): valid draft 2020-12 with a stable `$id`,
equal to the committed files, accepting every shipped file and any partial scenario file, refusing wrong
types and unknown names; and `pcnsim validate` telling and checking every kind of file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from pcnsim.experiments import calibrate as cal
from pcnsim.file_schemas import DIALECT, KINDS, MODELINE, file_schema, kind_of
from pcnsim.outdir import ResultsError
from pcnsim.scenario import ScenarioError, load

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
SHIPPED = {path: "scenario" for path in sorted((ROOT / "scenarios").glob("*.yaml"))}
SHIPPED |= {path: "scenario" for path in sorted((ROOT / "pcnsim" / "data").glob("*.yaml"))}
SHIPPED |= {ROOT / "experiments" / "ae_drivers_sobol.yaml": "sweep",
            ROOT / "experiments" / "baseline_uncertainty.yaml": "sweep",
            ROOT / "experiments" / "complex_care_x_social_prescribing.yaml": "sweep",
            ROOT / "experiments" / "workforce.yaml": "optimise",
            ROOT / "experiments" / "calibration.yaml": "calibrate"}


def pcnsim(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "pcnsim", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def read(path: Path):
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def validator(kind: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(file_schema(kind))


def test_every_experiment_file_is_listed():
    assert set((ROOT / "experiments").glob("*.yaml")) <= set(SHIPPED)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_schema_is_draft_2020_12_with_a_stable_id(kind, tmp_path):
    out = tmp_path / "schema.json"
    proc = pcnsim("schema", "--kind", kind, "--out", out)
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(out.read_text())
    assert schema["$schema"] == DIALECT and schema["$id"] == f"urn:pcnsim:schema:{kind}"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema == file_schema(kind)  # the same on every call: nothing in it depends on the run
    again = pcnsim("schema", "--kind", kind, "--out", out)
    assert again.returncode == 2 and "--overwrite" in again.stderr and json.loads(out.read_text()) == schema


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_committed_schema_files_are_what_pcnsim_schema_writes(kind):
    committed = json.loads((ROOT / "schemas" / KINDS[kind].file_name).read_text(encoding="utf-8"))
    assert committed == file_schema(kind), (f"schemas/{KINDS[kind].file_name} is out of date: pcnsim schema --kind "
                                            f"{kind} --out schemas/{KINDS[kind].file_name} --overwrite")


@pytest.mark.parametrize("path", sorted(SHIPPED), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_file_follows_the_schema_of_its_kind(path):
    kind = SHIPPED[path]
    data = read(path)
    assert kind_of(data) == kind
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(kind).iter_errors(data)]
    assert errors == []
    if path.parent.name != "data":  # files in the repository name their schema for editors
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith(MODELINE)]
        assert lines == [f"{MODELINE}../schemas/{KINDS[kind].file_name}"]
        assert (path.parent / lines[0].removeprefix(MODELINE)).is_file()


PARTIAL = [
    {"needs": {"social": {"same_day_share": 0.2}}},  # one field of one need: the rest from the defaults
    {"extends": "parent.yaml", "needs": {"social": {"same_day_share": 0.2}}},
    {"extends": "parent.yaml", "levers": {"complex_care": {"caseload": 120}}},
    {"match": {"social": {"pa": None}}},  # null deletes an entry
    {"workforce": {"roles": {"gp": {"contacts_per_fte_day": 26}}}},
    {},
]


@pytest.mark.parametrize("data", PARTIAL, ids=lambda d: json.dumps(d))
def test_a_partial_scenario_file_follows_the_schema_and_loads(data, tmp_path):
    assert list(validator("scenario").iter_errors(data)) == []
    (tmp_path / "parent.yaml").write_text(f"extends: {BASELINE}\nname: parent\n")
    path = tmp_path / "partial.yaml"
    path.write_text(yaml.safe_dump(data))
    load(path)  # the merged scenario is complete and consistent
    proc = pcnsim("validate", path)
    assert proc.returncode == 0 and proc.stdout.startswith(f"ok: {path}: "), proc.stderr


WRONG = [
    ({"simulation": {"years": "many"}}, "simulation.years"),
    ({"booking": {"same_day_shar": 0.4}}, "booking"),  # unknown field
    ({"booking": {"same_day_share": 1.5}}, "booking.same_day_share"),
    ({"needs": {"gout": {"same_day_share": 0.1}}}, "needs"),  # not a need
    ({"extends": 3}, "extends"),
    ({"pcns": [{"name": "X"}]}, "pcns.0"),  # a list item is whole: a PCN needs its practices
    ({"hello": 1}, ""),
]


@pytest.mark.parametrize(("data", "where"), WRONG, ids=lambda x: json.dumps(x))
def test_the_scenario_schema_refuses_wrong_types_and_unknown_names(data, where):
    error = jsonschema.exceptions.best_match(validator("scenario").iter_errors(data))
    assert error is not None, data
    assert ".".join(map(str, error.absolute_path)) == where, error


@pytest.mark.parametrize(("kind", "change"), [
    ("sweep", {"replicates": "three"}), ("sweep", {"desing": {"kind": "grid"}}),
    ("optimise", {"roles": [{"role": "wizard", "total_fte": 1}]}), ("optimise", {"trialz": 5}),
    ("calibrate", {"optimiser": {"max_evaluations": 0}}), ("calibrate", {"parameters": [{"path": "x"}]}),
])
def test_the_experiment_schemas_refuse_wrong_types_and_unknown_names(kind, change):
    path = next(p for p, k in SHIPPED.items() if k == kind)
    data = read(path)
    assert list(validator(kind).iter_errors(data)) == []
    assert list(validator(kind).iter_errors({**data, **change}))


def test_kind_is_told_below_the_top_when_the_top_names_fit_several():
    shared = {"name": "x", "base": "b.yaml", "output": "o", "years": 2}
    assert kind_of({**shared, "parameters": [{"path": "ae.wait_slope", "low": 0, "high": 1, "start": 0.5}]}) \
        == "calibrate"
    assert kind_of({**shared, "parameters": [{"path": "ae.wait_slope", "values": [0, 1]}]}) == "sweep"
    assert kind_of({"name": "x", "levers": {}}) == "scenario"
    assert kind_of({"name": "x", "roles": [], "trialz": 3}) == "optimise"  # a typo does not hide the kind


def test_validate_checks_every_kind_of_file():
    proc = pcnsim("validate", *[p for p in SHIPPED if p.name != "england.yaml"])
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(SHIPPED) - 1 and all(line.startswith("ok: ") for line in lines)
    assert "sweep ae_drivers_sobol: 512 design point(s) x 1 replicate(s) = 512 runs" in proc.stdout
    assert "optimise workforce: gp, pharmacist, mhp, splw over 6 places" in proc.stdout
    assert "calibrate calibration: 13 parameter(s)" in proc.stdout


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"trials": 0}, "trials", "greater than or equal to 1"),
    ({"trialz": 5}, "trialz", "unknown field; allowed here: name, description, base, roles"),
    ({"base": "../nowhere.yaml"}, "base", "not found"),
    ({"objective": {"happiness": 1}}, "objective", "unknown metrics ['happiness']"),
])
def test_validate_refuses_a_bad_experiment_in_one_line(tmp_path, change, field, words):
    data = read(ROOT / "experiments" / "workforce.yaml")
    data["base"] = str(BASELINE)
    data.update(change)
    path = tmp_path / "workforce.yaml"
    path.write_text(yaml.safe_dump(data))
    proc = pcnsim("validate", path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"error: {path}: {field}") and words in proc.stderr, proc.stderr


def small_calibration(folder: Path) -> Path:
    (folder / "small.yaml").write_text(yaml.safe_dump({
        "extends": str(BASELINE), "name": "small", "simulation": {"burn_in_years": 0},
        "pcns": [{"name": "P", "practices": [{"name": "A", "list_size": 800}]}]}))
    path = folder / "cal.yaml"
    path.write_text(yaml.safe_dump({
        "base": "small.yaml", "output": "fitted.yaml", "seed": 3, "years": 2,
        "parameters": [{"path": "ae.background_per_1000", "kind": "scale", "low": 0.5, "high": 1.5}],
        "optimiser": {"max_evaluations": 1}}))
    return path


def test_calibrate_replaces_its_scenario_only_with_overwrite_and_keeps_its_schema_line(tmp_path):
    path = small_calibration(tmp_path)
    cal.calibrate(path)
    fitted = tmp_path / "fitted.yaml"
    line = f"{MODELINE}schemas/scenario.schema.json"
    fitted.write_text(fitted.read_text() + line + "\n")
    with pytest.raises(ResultsError, match="--overwrite"):
        cal.calibrate(path)
    assert fitted.read_text().endswith(line + "\n")
    cal.calibrate(path, overwrite=True)
    text = fitted.read_text()
    assert text.startswith(cal.HEADER) and line in text.splitlines()
    load(fitted)
    with pytest.raises(ScenarioError, match=r"years \(as set on the command line\): Input should be greater"):
        cal.load_experiment(path, overrides={"years": 1})
