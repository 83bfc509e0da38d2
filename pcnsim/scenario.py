"""Scenarios: loading YAML files with `extends:` inheritance, validating them, writing and describing them.

A scenario is everything a run needs apart from the seed. Its schema is in `pcnsim.schema` (needs, care,
A&E, continuity, costs and `Scenario`), `pcnsim.schema_place` (calendar, PCNs, practices, workforce,
population) and `pcnsim.lever_schema` (the levers); the safe reading of files and the one-line error
messages are in `pcnsim.yamlio`. This module is the public import path for all of them (`from
pcnsim.scenario import Scenario, ScenarioError, load`).

User mistakes raise `ScenarioError`, whose message is one line naming the file, the field path and
what is allowed.

`from_practices` builds a scenario for a real PCN from NHS England's open practice data (it lives in
`pcnsim.practice_data`, which reads the files, and is imported from there on first use).

`extends:` is followed only to regular .yaml/.yml files of at most 16 MiB; a relative path must stay
inside the folder of the file the user named or that folder's parent (`pcnsim.yamlio.check_parent`).
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from pydantic import ValidationError

from .lever_schema import (
    ARRS_ROLES,
    AcuteVisiting,
    CareNavigation,
    ComplexCareTeam,
    Delivery,
    Levers,
    LeverTiming,
    NetworkOfNetworks,
    Outreach,
    PooledRoles,
    SharedExpertise,
    SocialPrescribing,
)
from .schema import AE, Access, Booking, Complexity, Continuity, Costs, Demography, Need, Onset, Scenario
from .schema_place import PCN, Population, Practice, Role, Simulation, Workforce
from .schema_types import AgeBanded, NonNegative, Probability, Strict
from .yamlio import (
    MAX_DEPTH,
    ScenarioError,
    allowed_roots,
    check_output,
    check_parent,
    first_error,
    format_location,
    read_yaml,
    validate_file,
)

__all__ = [
    "AE",
    "ARRS_ROLES",
    "PCN",
    "Access",
    "AcuteVisiting",
    "AgeBanded",
    "Booking",
    "CareNavigation",
    "ComplexCareTeam",
    "Complexity",
    "Continuity",
    "Costs",
    "Delivery",
    "Demography",
    "LeverTiming",
    "Levers",
    "Need",
    "NetworkOfNetworks",
    "NonNegative",
    "Onset",
    "Outreach",
    "PooledRoles",
    "Population",
    "Practice",
    "Probability",
    "Role",
    "Scenario",
    "ScenarioError",
    "SharedExpertise",
    "Simulation",
    "SocialPrescribing",
    "Strict",
    "Workforce",
    "allowed_roots",
    "base_path",
    "check_output",
    "deep_merge",
    "format_location",
    "from_dict",
    "from_practices",
    "json_schema",
    "load",
    "load_raw",
    "read_yaml",
    "scenario_defaults",
    "to_yaml",
    "validate_file",
]

DEFAULT_SCENARIO = Path(__file__).with_name("data") / "baseline.yaml"


def from_practices(*args, **kwargs):
    """A scenario for a real PCN built from NHS England's open practice data: `pcnsim.practice_data.
    from_practices`, which takes the same arguments, imported on first use (it builds on this module)."""
    from .practice_data import from_practices as build

    return build(*args, **kwargs)


def deep_merge(base: dict, override: dict) -> dict:
    """Merge `override` into a copy of `base`: mappings merge key by key, null deletes an entry,
    anything else (lists, values) replaces."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def scenario_defaults() -> dict:
    """Every default as plain data: the root that each scenario file is merged onto."""
    data = Scenario().model_dump()
    data.pop("pcns")  # a scenario names its own PCNs (or takes the default one whole)
    return data


def load_raw(path: str | Path, data: dict | None = None, _seen: tuple[Path, ...] = (), _top: Path | None = None
             ) -> dict:
    """Read a scenario file and resolve its `extends:` chain into one plain mapping.

    The file named may be any readable file of at most 16 MiB; each parent it extends must pass
    `pcnsim.yamlio.check_parent` (a regular YAML file; a relative path stays within the folder of the named
    file, or of the last file reached by an absolute path, or that folder's parent). data: the named file's
    content, if it has been read already (a pipe can be read only once)."""
    path = Path(path)
    top = _top or path
    if path.resolve() in _seen:
        chain = " -> ".join(p.name for p in (*_seen, path.resolve()))
        raise ScenarioError(path, "extends", f"circular inheritance: {chain}")
    if data is None:
        data = read_yaml(path, "YAML scenario file", regular_only=bool(_seen))
    data = dict(data)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(path, "extends", "must be the path of another scenario file")
    parent_path = check_parent(path, parent, top)
    next_top = parent_path if Path(parent).is_absolute() else top
    return deep_merge(load_raw(parent_path, None, (*_seen, path.resolve()), next_top), data)


def base_path(experiment: Path, base: str) -> Path:
    """The base scenario an experiment file names (`base:`), checked like an `extends:` parent."""
    return check_parent(Path(experiment), base, Path(experiment), field="base")


def from_dict(data: dict, source: str | Path | None = None) -> Scenario:
    """Validate a mapping (merged onto the defaults) into a Scenario; the first error becomes a one-line
    ScenarioError naming `source`, the field path and what is allowed."""
    if not isinstance(data, dict):
        raise ScenarioError(source, "", f"must be a mapping of scenario fields, got {type(data).__name__}")
    try:
        return Scenario.model_validate(deep_merge(scenario_defaults(), data))
    except ValidationError as exc:
        field, msg = first_error(exc, Scenario)
        raise ScenarioError(source, field, msg) from None
    except RecursionError:
        raise ScenarioError(source, "", f"nested too deeply (at most {MAX_DEPTH} levels)") from None


def load(path: str | Path | None = None, overrides: dict | None = None) -> Scenario:
    """Load a scenario file (default: the embedded baseline), resolving `extends:` and applying overrides."""
    source = Path(path) if path is not None else DEFAULT_SCENARIO
    data = load_raw(source)
    if overrides:
        data = deep_merge(data, overrides)
    return from_dict(data, source)


def to_yaml(scenario: Scenario) -> str:
    """The fully resolved scenario as YAML (every field explicit), loadable by `load`."""
    return yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def json_schema() -> dict:
    """JSON Schema of a whole scenario (every field, its default, bounds and which are required) and
    `extends:`: what the parameters page documents. The schema published for files, in which every field
    is optional, is `pcnsim.file_schemas.file_schema("scenario")` (`pcnsim schema`)."""
    schema = Scenario.model_json_schema()
    schema["properties"]["extends"] = {
        "type": "string",
        "description": "Path of a parent scenario, relative to this file; this file's fields override it.",
    }
    schema["title"] = "pcnsim scenario"
    return schema
