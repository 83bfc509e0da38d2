"""Scenario schema and loader: defaults, extends: inheritance, strictness and error messages."""

from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pcnsim.scenario import Scenario, ScenarioError, from_dict, json_schema, load, to_yaml

ROOT = Path(__file__).resolve().parents[1]


def write(path: Path, data) -> Path:
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def test_embedded_default_is_the_baseline_file(baseline):
    assert baseline == load(ROOT / "scenarios" / "baseline.yaml")
    assert baseline.n_patients == 42_000
    assert [p.list_size for p in baseline.pcns[0].practices] == [13000, 10000, 8000, 6000, 5000]


def test_extends_merges_mappings_and_replaces_lists(tmp_path):
    write(tmp_path / "a.yaml", {"name": "a", "booking": {"same_day_share": 0.5, "horizon_days": 21},
                                "simulation": {"closed_dates": ["2025-06-02", "2025-06-03"]}})
    write(tmp_path / "b.yaml", {"extends": "a.yaml", "name": "b", "booking": {"horizon_days": 14},
                                "simulation": {"closed_dates": ["2025-06-09"]}})
    sc = load(tmp_path / "b.yaml")
    assert sc.name == "b"
    assert sc.booking.same_day_share == 0.5 and sc.booking.horizon_days == 14
    assert sc.simulation.closed_dates == [date(2025, 6, 9)]


def test_extends_chain_with_relative_paths(tmp_path):
    (tmp_path / "deep").mkdir()
    write(tmp_path / "base.yaml", {"name": "base", "ae": {"wait_slope": 0.3}})
    write(tmp_path / "deep" / "mid.yaml", {"extends": "../base.yaml", "access": {"follow_up_multiplier": 1.5}})
    write(tmp_path / "top.yaml", {"extends": "deep/mid.yaml", "name": "top"})
    sc = load(tmp_path / "top.yaml")
    assert (sc.name, sc.ae.wait_slope, sc.access.follow_up_multiplier) == ("top", 0.3, 1.5)


def test_circular_extends(tmp_path):
    write(tmp_path / "x.yaml", {"extends": "y.yaml"})
    write(tmp_path / "y.yaml", {"extends": "x.yaml"})
    with pytest.raises(ScenarioError, match=r"circular inheritance: x\.yaml -> y\.yaml -> x\.yaml"):
        load(tmp_path / "x.yaml")


def test_round_trip_through_yaml(baseline):
    assert from_dict(yaml.safe_load(to_yaml(baseline))) == baseline


@pytest.mark.parametrize("data, field, words", [
    ({"nonsense": 1}, "nonsense", "allowed here: name, description, simulation"),
    ({"ae": {"direct": [0, 0.1, 0.5], "wait_slop": 1}}, "ae.wait_slop", "allowed here: background_per_1000"),
    ({"needs": {"social": {"routing": {"gp": 1, "vet": 1}}}}, "needs.social", "unknown role ['vet']"),
    ({"booking": {"dna_same_day": 1.2}}, "booking.dna_same_day", "less than or equal to 1 (got 1.2)"),
    ({"workforce": {"practice_fte_per_1000": {"gp": -0.1}}}, "workforce.practice_fte_per_1000.gp",
     "greater than or equal to 0"),
    ({"pcns": [{"name": "p", "practices": [{"name": "a", "list_size": 100,
                                           "deprivation_mix": [0.5, 0.5, 0.5, 0, 0]}]}]},
     "pcns[0].practices[0].deprivation_mix", "must sum to 1"),
    ({"needs": {"social": {"routing": {"fcp": 1.0}}}}, "needs", "no match entry for social"),
    ({"simulation": {"years": "two"}}, "simulation.years", "valid integer"),
])
def test_errors_name_field_and_allowed_values(data, field, words):
    with pytest.raises(ScenarioError) as err:
        from_dict(data, "my.yaml")
    msg = str(err.value)
    assert msg.startswith(f"my.yaml: {field}"), msg
    assert words in msg, msg
    assert "\n" not in msg


def test_missing_file_and_broken_yaml(tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        load(tmp_path / "absent.yaml")
    bad = write(tmp_path / "bad.yaml", "name: x\nbooking: {horizon_days: 3\n")
    with pytest.raises(ScenarioError, match=r"bad.yaml: broken YAML at line \d+"):
        load(bad)
    listy = write(tmp_path / "list.yaml", "- 1\n- 2\n")
    with pytest.raises(ScenarioError, match="must be a mapping"):
        load(listy)


PROBABILITY_FIELDS = [("booking", "same_day_share"), ("ae", "admission_resolves"),
                      ("demography", "turnover_per_year"), ("complexity", "fit_threshold")]


@given(field=st.sampled_from(PROBABILITY_FIELDS), value=st.floats(0, 1))
@settings(max_examples=60, deadline=None)
def test_any_probability_in_range_validates(field, value):
    block, name = field
    sc = from_dict({block: {name: value}})
    assert getattr(getattr(sc, block), name) == value


@given(field=st.sampled_from(PROBABILITY_FIELDS), value=st.floats(1.0, 1e9, exclude_min=True))
@settings(max_examples=60, deadline=None)
def test_any_probability_above_one_is_rejected(field, value):
    block, name = field
    with pytest.raises(ScenarioError, match=rf"{block}\.{name}: Input should be less than or equal to 1"):
        from_dict({block: {name: value}})


def test_json_schema_has_every_block_and_descriptions():
    schema = json_schema()
    assert set(Scenario.model_fields) | {"extends"} <= set(schema["properties"])
    booking = schema["$defs"]["Booking"]["properties"]["same_day_share"]
    assert booking["maximum"] == 1 and "same-day" in booking["description"]


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.name)
def test_every_scenario_file_validates_and_opens_with_its_question(path):
    text = path.read_text(encoding="utf-8")
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert text.startswith("#") and len(" ".join(header)) > 80, f"{path.name}: no comment header"
    sc = load(path)
    assert sc.n_patients > 0 and sc.name
