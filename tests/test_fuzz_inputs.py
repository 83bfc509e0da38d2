"""Fuzzing the input layer: scenario and experiment files generated from a small valid scenario and mutated
(types, ranges, NaN and infinity, missing and unknown keys, unknown names, encodings, nesting, anchors,
repeated keys, extends chains, cycles, escapes, devices and FIFOs).

Every case either loads, and then (for a sample) runs a one-year simulation of ~300 patients whose summary
has no infinite or negative number and no NaN but where a share has an empty denominator, or fails with a
ScenarioError whose message is one line naming a file of the case (and the field, for a field's mistake).
The same holds through `pcnsim validate`: exit 0 and an `ok:` line, or exit 2 and one `error:` line.

The default profile keeps this file to about a minute; PCNSIM_FUZZ_EXAMPLES=N sets the cases of each
in-process test to N (and the command-line tests to N / 10).
"""

from __future__ import annotations

import copy
import math
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Annotated, get_args, get_origin

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from pcnsim.experiments import calibrate, optimise, sweep
from pcnsim.paths import _lists
from pcnsim.scenario import Scenario, ScenarioError, deep_merge, from_dict, load, scenario_defaults
from pcnsim.yamlio import MAX_YAML_BYTES, _structural

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("PCNSIM_FUZZ_EXAMPLES", "0"))
COUNTS: Counter = Counter()


def examples(default: int, scale: float = 1.0) -> settings:
    n = max(1, int(EXAMPLES * scale)) if EXAMPLES else default
    return settings(max_examples=n, deadline=None, derandomize=not EXAMPLES,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    print("\nfuzz cases:", dict(sorted(COUNTS.items())))


# ---- the small valid scenario everything starts from ---------------------------------------------------

TEMPLATE = {
    "name": "fuzz",
    "simulation": {"years": 1, "burn_in_years": 0, "seed": 5},
    "pcns": [{"name": "P", "arrs_fte": {"pharmacist": 0.5, "splw": 0.3, "community_nurse": 0.2},
              "practices": [
                  {"name": "A", "list_size": 150, "deprivation_mix": [0.4, 0.3, 0.2, 0.1, 0.0]},
                  {"name": "B", "list_size": 150, "fte": {"gp": 0.2, "nurse": 0.1},
                   "age_sex_table": {0: [10, 10], 40: [20, 20], 80: [5, 5]}}]}],
    "levers": {"complex_care": {"enabled": True, "caseload": 10, "fte": 0.5, "ramp_days": 0},
               "social_prescribing": {"enabled": True, "extra_splw_fte": 0.3},
               "shared_expertise": {"enabled": True, "sessions_per_week": 0.3},
               "outreach": {"enabled": True}, "care_navigation": {"enabled": True},
               "acute_visiting": {"enabled": True, "paramedic_fte": 0.2},
               "pooled_roles": {"enabled": True, "share": 0.5}},
}
RESOLVED = _lists(deep_merge(scenario_defaults(), TEMPLATE))
RESOLVED["pcns"] = _lists(copy.deepcopy(TEMPLATE["pcns"]))


def node_paths(data, prefix=()) -> list[tuple]:
    """Every path (keys and list indices) to a node of plain data, containers included."""
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for k, v in data.items():
            out += node_paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += node_paths(v, (*prefix, i))
    return out


def get(data, path):
    for k in path:
        data = data[k]
    return data


def put(data, path, value) -> None:
    *head, last = path
    get(data, head)[last] = value


PATHS = node_paths(RESOLVED)
NUMERIC_PATHS = [p for p in PATHS if type(get(RESOLVED, p)) in (int, float)]
MAPPING_PATHS = [()] + [p for p in PATHS if isinstance(get(RESOLVED, p), dict)]

SPECIAL = [math.nan, math.inf, -math.inf, 0, -1, 1, -1e-12, 1e-12, 1 + 1e-9, 1e308, -1e308, 10**20, 2**63, 0.5]
ODD = [None, True, "", "x" * 5000, [], {}, [[1, [2, [3]]]], {"a": {"b": 1}}, "nan", "1e999", "ñ€😀"]
NAMES = ["vet", "GP", "gp ", "", "shared", "well", "ae", "admission", "*", "x" * 300]

values = st.one_of(
    st.sampled_from(SPECIAL), st.sampled_from(ODD),
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**12), 10**12),
    st.text(max_size=40),
)


@st.composite
def mutation(draw, data: dict) -> tuple[str, dict]:
    """One mutation of a scenario's plain data (in place): (what kind, the data); 'skip' when an earlier
    mutation removed what this one would change."""
    try:
        return draw(_mutation(data))
    except (KeyError, IndexError, TypeError, ValueError):
        return "skip", data


@st.composite
def _mutation(draw, data: dict) -> tuple[str, dict]:
    kind = draw(st.sampled_from(["value", "in_range", "scale", "delete", "unknown_key", "rename_key", "wrap"]))
    if kind == "value":
        put(data, draw(st.sampled_from(PATHS)), draw(values))
    elif kind == "in_range":  # a number near today's, often valid: these are the cases that run
        path = draw(st.sampled_from(NUMERIC_PATHS))
        old = get(data, path) if type(get(data, path)) in (int, float) else 1
        new = draw(st.floats(0, 2)) * old
        put(data, path, round(new) if type(old) is int else new)
    elif kind == "scale":
        path = draw(st.sampled_from(NUMERIC_PATHS))
        put(data, path, get(RESOLVED, path) * draw(st.sampled_from([0, 1e-6, 0.5, 3, 100, 1e9, -1])))
    elif kind == "delete":
        path = draw(st.sampled_from(PATHS))
        parent = get(data, path[:-1])
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
        elif isinstance(parent, list) and parent:
            parent.pop(min(path[-1], len(parent) - 1))
    elif kind in ("unknown_key", "rename_key"):
        path = draw(st.sampled_from(MAPPING_PATHS))
        target = get(data, path) if path else data
        if isinstance(target, dict):
            name = draw(st.sampled_from(NAMES))
            if kind == "rename_key" and target:
                key = draw(st.sampled_from(sorted(target, key=str)))
                target[name] = target.pop(key)
            else:
                target[name] = draw(values)
    else:  # nest a value in lists
        path = draw(st.sampled_from(PATHS))
        put(data, path, [[get(data, path)]] * draw(st.integers(1, 3)))
    return kind, data


@st.composite
def scenario_case(draw) -> tuple[list[str], dict, dict]:
    """(mutation kinds, files {name: data}, how to write them): one file, or a child extending the template."""
    data = copy.deepcopy(RESOLVED)
    kinds = [draw(mutation(data))[0] for _ in range(draw(st.integers(1, 3)))]
    if draw(st.booleans()):
        files = {"top.yaml": data}
    else:  # the mutated blocks over a parent that is the template
        overlay = {k: v for k, v in data.items() if v != RESOLVED.get(k)}
        overlay.update({k: None for k in RESOLVED if k not in data})
        files = {"parent.yaml": TEMPLATE, "top.yaml": {"extends": "parent.yaml", **overlay}}
    return kinds, files


def write_yaml(folder: Path, files: dict) -> Path:
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder / "top.yaml"


def assert_one_line_error(err: ScenarioError, folder: Path) -> None:
    msg = str(err)
    assert "\n" not in msg and "\r" not in msg, msg
    assert len(msg) < 1500, f"an over-long message ({len(msg)} characters): {msg[:200]}"
    assert msg.startswith(err.file), msg
    named = Path(err.file).resolve()
    assert named.is_relative_to(folder.resolve()), f"the error names {err.file}, not a file of the case"
    COUNTS["refused"] += 1


def is_share(metric: str) -> bool:
    """A share or rate: a ratio of counts, within [0, 1], NaN when its denominator is empty."""
    return metric.endswith(("_share", "_rate")) or "_share_" in metric or "share_of" in metric


def assert_sane_run(sc) -> None:
    """A one-year run of a small accepted scenario: every summary number finite and >= 0, shares within
    [0, 1]; NaN only for a share or rate whose denominator is empty."""
    from pcnsim.run import run

    if sc.n_patients > 3000 or sc.simulation.burn_in_years + sc.simulation.years > 3:
        return
    res = run(sc, seed=1, threads=1, patients=True)
    table = res.summary()
    for metric, value in zip(table["metric"], table["value"], strict=True):
        if math.isnan(value):
            assert is_share(metric), f"{metric} is NaN"
            continue
        assert math.isfinite(value) and value >= 0, f"{metric} = {value}"
        if is_share(metric):
            assert value <= 1 + 1e-9, f"{metric} = {value}"
    COUNTS["ran"] += 1


def check_scenario_file(top: Path, folder: Path, run_it: bool) -> None:
    try:
        sc = load(top)
    except ScenarioError as err:
        assert_one_line_error(err, folder)
        return
    COUNTS["loaded"] += 1
    if run_it:
        assert_sane_run(sc)


# ---- scenarios: schema mutations -----------------------------------------------------------------------


def test_template_is_valid_and_runs():
    sc = from_dict(TEMPLATE)
    assert sc.n_patients == 300 and sc.levers.complex_care.enabled
    assert_sane_run(sc)


@given(case=scenario_case(), run_it=st.integers(0, 9))
@examples(150)
def test_mutated_scenarios_load_and_run_or_fail_in_one_line(case, run_it):
    _, files = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        top = write_yaml(folder, files)
        COUNTS["scenario"] += 1
        check_scenario_file(top, folder, run_it < 3)


@given(field=st.sampled_from(NUMERIC_PATHS), bad=st.sampled_from([math.nan, math.inf, -math.inf]))
@examples(60, 0.3)
def test_no_number_may_be_nan_or_infinite(field, bad):
    data = copy.deepcopy(RESOLVED)
    put(data, field, bad)
    with tempfile.TemporaryDirectory() as tmp:
        top = write_yaml(Path(tmp), {"top.yaml": data})
        with pytest.raises(ScenarioError) as err:
            load(top)
        assert_one_line_error(err.value, Path(tmp))
        assert "finite" in str(err.value) or "sum to 1" in str(err.value), str(err.value)
    COUNTS["nan_inf"] += 1


@pytest.mark.parametrize("change", [
    {"demography": {"turnover_per_year": 0.7}}, {"demography": {"turnover_per_year": 1.0}},
    {"demography": {"gompertz_a": -3}}, {"demography": {"gompertz_a": 0, "gompertz_b": 0.3}},
    {"demography": {"infant_mortality": 1.0, "newborn_share": 1.0}},
    {"simulation": {"burn_in_years": 2, "years": 1}},
])
def test_extreme_demography_that_validates_also_runs(change):
    """Turnover and mortality at the ends of their ranges once stopped the run on the leavers' buffer."""
    sc = from_dict(deep_merge(TEMPLATE, change))
    assert_sane_run(sc)


@pytest.mark.parametrize("table, words", [
    ({0: [0, 0]}, "positive total"),
    ({0: [0, 0], 105: [5, 5]}, "nobody aged up to population.max_age"),
    ({5: [1, 1]}, "first age band must start at 0"),
    ({0: [1, float("inf")]}, "finite"),
])
def test_age_sex_tables_need_someone_to_draw(table, words):
    data = copy.deepcopy(TEMPLATE)
    data["pcns"][0]["practices"][1]["age_sex_table"] = table
    with pytest.raises(ScenarioError, match=words) as err:
        from_dict(data, "t.yaml")
    assert str(err.value).startswith("t.yaml: pcns[0].practices[1].age_sex_table")


# ---- scenarios within the schema's bounds: these load and run ------------------------------------------


def bounds(path: tuple) -> tuple[float | None, float | None]:
    """The (lower, upper) bounds the schema gives the number at `path` (None where it gives none)."""
    current, found = Scenario, []
    for key in path:
        current = _structural(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields[key]
            found, current = list(info.metadata), info.annotation
        elif get_origin(current) is dict:
            found, current = [], get_args(current)[1]
        elif get_origin(current) in (list, tuple):
            args = get_args(current)
            found, current = [], args[key] if get_origin(current) is tuple and len(args) > key else args[0]
    while get_origin(current) is Annotated:
        current, *extra = get_args(current)
        for item in extra:
            found += getattr(item, "metadata", [item])
    lo = max([m.ge for m in found if hasattr(m, "ge")] + [m.gt for m in found if hasattr(m, "gt")], default=None)
    hi = min([m.le for m in found if hasattr(m, "le")] + [m.lt for m in found if hasattr(m, "lt")], default=None)
    return lo, hi


RUNNABLE_PATHS = [p for p in NUMERIC_PATHS if p[0] not in ("simulation",) and p[-1] != "list_size"]


@st.composite
def in_bounds_case(draw) -> dict:
    """The template with 1-4 numbers drawn within the schema's bounds (a few times today's value where it
    gives no upper bound)."""
    data = copy.deepcopy(RESOLVED)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(RUNNABLE_PATHS))
        old = get(RESOLVED, path)
        lo, hi = bounds(path)
        lo = 0.0 if lo is None else float(lo)
        hi = max(3.0 * abs(old), lo + 1.0) if hi is None else float(hi)
        value = draw(st.one_of(st.just(lo), st.just(hi), st.floats(lo, hi)))
        put(data, path, round(value) if type(old) is int else value)
    return data


@given(data=in_bounds_case())
@examples(40)
def test_scenarios_within_the_schema_bounds_run_sanely(data):
    """Any scenario that validates must run: numbers at and between their bounds give a summary with no
    infinite or negative value (or fail validation in one line, e.g. shares no longer summing to 1)."""
    with tempfile.TemporaryDirectory() as tmp:
        top = write_yaml(Path(tmp), {"top.yaml": data})
        COUNTS["in_bounds"] += 1
        check_scenario_file(top, Path(tmp), run_it=True)


# ---- files: encodings, nesting, anchors, repeated keys, extends ---------------------------------------


def raw_cases() -> st.SearchStrategy:
    text = yaml.safe_dump(TEMPLATE)
    depth = st.integers(1, 3000)
    return st.one_of(
        st.builds(lambda enc: ("encoding", text.replace("fuzz", "füzz€").encode(enc, errors="replace")),
                  st.sampled_from(["utf-16", "utf-32", "latin-1", "cp1252", "utf-8-sig", "utf-8"])),
        st.builds(lambda b: ("bytes", b), st.binary(max_size=300)),
        st.builds(lambda b: ("prefixed bytes", text.encode() + b), st.binary(min_size=1, max_size=20)),
        st.builds(lambda n: ("nested lists", ("name: x\nae: " + "[" * n + "]" * n + "\n").encode()), depth),
        st.builds(lambda n: ("nested maps", ("ae:" + " {a:" * n + " 1" + "}" * n + "\n").encode()), depth),
        st.builds(lambda n: ("block nesting", "".join(f"{' ' * i}k{i}:\n" for i in range(n)).encode()),
                  st.integers(1, 400)),
        st.just(("recursive anchor", b"ae: &a\n  x: *a\n")),
        st.just(("recursive list", b"simulation:\n  closed_dates: &l [1, *l]\n")),
        st.builds(lambda d: ("laughs", laughs(d).encode()), st.integers(1, 9)),
        st.builds(lambda k: ("duplicate key", text.replace("name: fuzz", f"name: fuzz\n{k}: 1").encode()),
                  st.sampled_from(["name", "simulation", "pcns"])),
        st.just(("nested duplicate", b"booking:\n  horizon_days: 3\n  horizon_days: 4\n")),
        st.just(("merge key", b"booking:\n  <<: {horizon_days: 3}\n  same_day_share: 0.4\n")),
        st.builds(lambda t: ("tag", f"name: !!{t} x\n".encode()),
                  st.sampled_from(["python/object:os.system", "binary", "set", "timestamp", "float", "omap"])),
        st.builds(lambda c: ("control character", f"name: 'a{c}b'\n".encode()),
                  st.sampled_from(["\x00", "\x07", "\x1b", "\ufeff", "\u2028", "\x85"])),
        st.builds(lambda s: ("long value", f"name: {'x' * s}\nsimulation: {{years: {'9' * s}}}\n".encode()),
                  st.integers(100, 20000)),
        st.builds(lambda s: ("long key", f"{'k' * s}: 1\n".encode()), st.integers(100, 20000)),
        st.sampled_from([("not a mapping", b"- 1\n- 2\n"), ("scalar", b"42\n"), ("empty", b""),
                         ("null", b"~\n"), ("key types", b"1: 2\nnull: 3\n? [a]\n: 4\n"),
                         ("tabs", b"name:\tx\n\tbooking: 1\n")]),
    )


def laughs(depth: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, depth)]
    return "\n".join(lines) + "\n"


@given(case=raw_cases(), as_parent=st.booleans())
@examples(100)
def test_raw_files_load_or_fail_in_one_line(case, as_parent):
    _, content = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = {"parent.yaml": content, "top.yaml": {"extends": "parent.yaml", "name": "child"}} if as_parent \
            else {"top.yaml": content}
        top = write_yaml(folder, files)
        COUNTS["raw"] += 1
        check_scenario_file(top, folder, run_it=False)


@st.composite
def extends_case(draw) -> tuple[str, dict, list]:
    """A chain of files in a small tree, each extending the next; the last points somewhere odd."""
    n = draw(st.integers(1, 5))
    dirs = ["", "sub/", "sub/deeper/", "other/"]
    names = [f"{draw(st.sampled_from(dirs))}f{i}.yaml" for i in range(n)]
    names[0] = "top.yaml"
    files: dict = {}
    for i, name in enumerate(names[:-1]):
        files[name] = {"extends": os.path.relpath(names[i + 1], os.path.dirname(name) or "."), "name": f"f{i}"}
    end = draw(st.sampled_from(["template", "cycle", "self", "escape", "absolute escape", "dev_zero", "dev_null",
                                "fifo", "directory", "missing", "not yaml", "empty name", "non-string", "huge",
                                "symlink out", "dotdot inside"]))
    last = names[-1]
    here = os.path.dirname(last) or "."
    specials = []
    if end == "template":
        files[last] = TEMPLATE
    else:
        target = {
            "cycle": os.path.relpath("top.yaml", here), "self": os.path.basename(last),
            "escape": "../" * draw(st.integers(2, 6)) + "etc/x.yaml", "absolute escape": "/etc/hostname.yaml",
            "dev_zero": "/dev/zero", "dev_null": "/dev/null", "fifo": "fifo.yaml", "directory": "dir.yaml",
            "missing": "nowhere.yaml", "not yaml": "data.txt", "empty name": " ", "non-string": 5,
            "huge": "huge.yaml", "symlink out": "link.yaml", "dotdot inside": "../" + "top.yaml",
        }[end]
        files[last] = {"extends": target, "name": "last"}
        specials.append((end, os.path.join(here, target) if isinstance(target, str) else None))
    return end, files, specials


def make_special(folder: Path, kind: str, where: str | None) -> None:
    if where is None:
        return
    path = folder / where
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo" and not path.exists():
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir(exist_ok=True)
    elif kind == "not yaml":
        path.write_text(yaml.safe_dump(TEMPLATE))
    elif kind == "huge":
        with path.open("wb") as f:
            f.truncate(MAX_YAML_BYTES + 1)
    elif kind == "symlink out" and not path.exists():
        outside = folder.parent / f"outside-{folder.name}.yaml"
        outside.write_text("name: outside\n")
        path.symlink_to(outside)


@given(case=extends_case())
@examples(100)
def test_extends_chains_load_or_fail_in_one_line(case):
    end, files, specials = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "project" / "scenarios"
        folder.mkdir(parents=True)
        top = write_yaml(folder, files)
        for kind, where in specials:
            make_special(folder, kind, where)
        COUNTS["extends"] += 1
        try:
            sc = load(top)
        except ScenarioError as err:
            assert_one_line_error(err, Path(tmp))
            return
        COUNTS["loaded"] += 1
        # only a chain ending in a real scenario loads: the template, or a link to a file inside the project
        assert end in ("template", "symlink out"), f"a chain ending in {end!r} loaded"
        assert sc.name


# ---- experiment files -----------------------------------------------------------------------------------


def experiment_templates() -> dict[str, dict]:
    return {
        "sweep": {"name": "e", "base": "scenario.yaml", "set": {"levers.complex_care.caseload": 5},
                  "parameters": [{"path": "booking.same_day_share", "values": [0.4, 0.5]},
                                 {"path": "ae.unserved_daily", "kind": "scale", "values": [0.8, 1.2], "low": 0.5,
                                  "high": 1.5}],
                  "design": {"kind": "grid"}, "replicates": 1, "years": 1, "seed": 1,
                  "metrics": ["ae_per_1000"], "output": "out"},
        "calibrate": {"name": "c", "base": "scenario.yaml", "output": "fitted.yaml", "seed": 1, "years": 2,
                      "parameters": [{"path": "ae.background_per_1000", "kind": "scale", "low": 0.5, "high": 1.5}]},
        "optimise": {"name": "o", "base": "scenario.yaml", "roles": [{"role": "gp", "min_fte": 0, "max_fte": 2}],
                     "objective": {"ae_per_1000": 1.0}, "trials": 2, "output": "out"},
    }


EXPERIMENT_LOADERS = {"sweep": sweep.load, "calibrate": calibrate.load_experiment, "optimise": optimise.load}


@st.composite
def experiment_case(draw) -> tuple[str, dict]:
    kind = draw(st.sampled_from(sorted(EXPERIMENT_LOADERS)))
    data = experiment_templates()[kind]
    if kind == "sweep":
        data["design"]["kind"] = draw(st.sampled_from(["grid", "latin_hypercube", "sobol_sequence", "morris",
                                                       "list", "sobol_indices"]))
        if data["design"]["kind"] != "grid":
            data["parameters"][0].update(low=0.3, high=0.6)
            data["design"]["samples"] = 4
            data["design"]["points"] = [{"booking.same_day_share": 0.4, "ae.unserved_daily": 1.0}]
    paths = node_paths(data)
    for _ in range(draw(st.integers(0, 3))):
        what = draw(st.sampled_from(["value", "path", "base", "output", "delete", "unknown"]))
        if what == "value":
            path, value = draw(st.sampled_from(paths)), draw(values)
            try:
                put(data, path, value)
            except (KeyError, IndexError, TypeError):
                continue  # an earlier change removed it
        elif what == "path" and isinstance(data.get("parameters"), list) and data["parameters"] \
                and isinstance(data["parameters"][0], dict):
            data["parameters"][0]["path"] = draw(st.sampled_from(
                ["*", "*.x", "", ".", "ae", "ae.*", "pcns", "pcns[0]", "pcns[9].name", "ae.background_per_1000.*",
                 "booking.same_day_share[0]", "x" * 500, "ae..wait_slope", "levers.*.enabled", "a.b.c.d.e.f"]))
        elif what == "base":
            data["base"] = draw(st.sampled_from(["../../../../etc/passwd.yaml", "/dev/zero", "nowhere.yaml",
                                                 "exp.yaml", "fifo.yaml", "", "scenario.yml", "out"]))
        elif what == "output":
            data["output"] = draw(st.sampled_from(["scenario.yaml", "exp.yaml", ".", "", "out/deeper", "plainfile",
                                                   "plainfile/below"]))
        elif what == "delete":
            data.pop(draw(st.sampled_from(sorted(data))), None)
        else:
            data[draw(st.sampled_from(NAMES))] = 1
    return kind, data


@given(case=experiment_case())
@examples(100)
def test_experiment_files_load_or_fail_in_one_line(case):
    kind, data = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_yaml(folder, {"scenario.yaml": TEMPLATE, "exp.yaml": data})
        (folder / "plainfile").write_text("not a directory\n")
        os.mkfifo(folder / "fifo.yaml")
        COUNTS["experiment"] += 1
        try:
            EXPERIMENT_LOADERS[kind](folder / "exp.yaml")
        except ScenarioError as err:
            assert_one_line_error(err, folder)
            return
        COUNTS["loaded"] += 1


# ---- through the command line ---------------------------------------------------------------------------


def cli_validate(top: Path):
    from typer.testing import CliRunner

    from pcnsim.cli import app

    return CliRunner().invoke(app, ["validate", str(top)])


@given(case=st.one_of(scenario_case().map(lambda c: ("scenario", c[1])),
                      raw_cases().map(lambda c: ("raw", {"top.yaml": c[1]})),
                      extends_case().map(lambda c: ("extends", c))))
@examples(30, 0.1)
def test_validate_command_is_ok_or_one_error_line(case):
    kind, payload = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if kind == "extends":
            _, files, specials = payload
            top = write_yaml(folder, files)
            for special, where in specials:
                make_special(folder, special, where)
        else:
            top = write_yaml(folder, payload)
        result = cli_validate(top)
        COUNTS["cli"] += 1
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        if result.exit_code == 0:
            assert result.stdout.startswith(f"ok: {top}"), result.stdout
        else:
            assert result.exit_code == 2, (result.exit_code, result.output)
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
            assert str(folder) in lines[0] and "Traceback" not in result.output


SUBPROCESS_CASES = {
    "not UTF-8": b"name: \xff\xfe\n",
    "deep nesting": b"ae: " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
    "recursive anchor": b"ae: &a\n  x: *a\n",
    "duplicate key": b"name: a\nname: b\n",
    "NaN": b"ae: {background_per_1000: {0: .nan}}\n",
    "extends /dev/zero": b"extends: /dev/zero\n",
    "huge value": b"simulation: {years: " + b"9" * 100_000 + b"}\n",
}


@pytest.mark.parametrize("case", sorted(SUBPROCESS_CASES))
def test_validate_subprocess_one_line_exit_2(tmp_path, case):
    top = tmp_path / "top.yaml"
    top.write_bytes(SUBPROCESS_CASES[case])
    proc = subprocess.run([sys.executable, "-m", "pcnsim", "validate", str(top)], capture_output=True, text=True,
                          timeout=120)
    COUNTS["cli_subprocess"] += 1
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {top}"), proc.stderr
    assert len(lines[0]) < 400, lines[0]


def test_usage_errors_are_one_line_exit_2(tmp_path):
    for args in (["run", "--reps", "0"], ["run", "--bogus"], ["sweep"], ["compare", "--years", "x"]):
        proc = subprocess.run([sys.executable, "-m", "pcnsim", *args], capture_output=True, text=True, timeout=120,
                              cwd=tmp_path)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), (args, proc.stderr)
        assert "--help" in lines[0]
    assert not (tmp_path / "results").exists()
