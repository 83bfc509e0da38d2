"""The JSON Schemas pcnsim publishes for the files it reads, and telling which kind of file one is.

Four kinds: scenario files (read by run, compare, describe, ...) and the experiment files of sweep,
optimise and calibrate. Each schema is made from the pydantic model that checks the file, as JSON Schema
draft 2020-12 with a `$schema` and a stable `$id`, so an editor that reads the line
`# yaml-language-server: $schema=PATH` completes and checks the same names, types and bounds as pcnsim.

A scenario file is merged onto its parent (`extends:`) and the defaults before pydantic checks it, so its
schema is the *partial* form of the scenario's: wherever a value is reached through mappings no field is
required and null is allowed (null deletes an entry, so the default applies again), and `extends:` is
allowed at the top. A list replaces what it overrides, so each list item (a PCN, a practice) is checked
whole, required fields and all. Whether the merged scenario is complete and consistent is checked by
pydantic after merging (`pcnsim validate`). Experiment files are read as written, so their schemas are
the models' own.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from .yamlio import MODELINE, allowed_fields

__all__ = ["DIALECT", "KINDS", "MODELINE", "FileKind", "file_schema", "kind_of", "partial"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ANNOTATIONS = ("title", "description", "default")


@dataclass(frozen=True)
class FileKind:
    """One kind of input file: its name (that of the command reading it, for experiments), its schema's
    title and description, and the model that checks it."""

    name: str
    title: str
    description: str

    @property
    def id(self) -> str:
        """The schema's `$id`: the same for every pcnsim version (a URN; the schema has no web address)."""
        return f"urn:pcnsim:schema:{self.name}"

    @property
    def file_name(self) -> str:
        """The schema's file name in the repository's schemas/ folder."""
        return f"{self.name}.schema.json"

    def model(self) -> type[BaseModel]:
        """The pydantic model that checks this kind of file (imported when asked: experiments load scipy)."""
        if self.name == "scenario":
            from .schema import Scenario

            return Scenario
        if self.name == "sweep":
            from .experiments.sweep import Experiment

            return Experiment
        if self.name == "optimise":
            from .experiments.optimise import WorkforceExperiment

            return WorkforceExperiment
        from .experiments.calibrate import Calibration

        return Calibration

    def fields(self) -> set[str]:
        """The top-level names a file of this kind may hold."""
        return set(self.model().model_fields) | ({"extends"} if self.name == "scenario" else set())


KINDS = {k.name: k for k in (
    FileKind("scenario", "pcnsim scenario file",
             "A scenario: the place, its people, their care and the levers pulled. Every field is optional: a "
             "file names what it changes from its parent (extends:) or from the defaults."),
    FileKind("sweep", "pcnsim sweep experiment",
             "A parameter sweep: a base scenario, the parameters to vary and the design that varies them."),
    FileKind("optimise", "pcnsim workforce optimisation experiment",
             "Where staff should sit and how many of each role, for a budget: roles, objective and search."),
    FileKind("calibrate", "pcnsim calibration experiment",
             "Free parameters of a base scenario fitted to the evidence targets; writes the fitted scenario."),
)}


def file_schema(kind: str) -> dict:
    """The JSON Schema of one kind of file (a name of `KINDS`), as `pcnsim schema` publishes it."""
    spec = KINDS[kind]
    schema = spec.model().model_json_schema()
    if kind == "scenario":
        schema = partial(schema)
    schema["title"], schema["description"] = spec.title, spec.description
    return {"$schema": DIALECT, "$id": spec.id, **schema}


def partial(schema: dict) -> dict:
    """The schema of a file that is merged onto defaults: see the module's description."""
    source = schema.get("$defs", {})
    defs: dict[str, dict] = {}
    names: dict[tuple[str, bool], str] = {}

    def ref(name: str, merged: bool) -> str:
        """The name of the definition `name` in the given context, made when first asked for."""
        key = (name, merged)
        if key not in names:
            taken = set(names.values())
            names[key] = name if name not in taken else f"{name}{'Partial' if merged else 'Whole'}"
            defs[names[key]] = {}  # reserved first: a definition may refer to itself
            defs[names[key]] = walk(source[name], merged)
        return names[key]

    def walk(node: Any, merged: bool) -> Any:
        if isinstance(node, list):
            return [walk(n, merged) for n in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key == "$ref" and value.startswith("#/$defs/"):
                out[key] = "#/$defs/" + ref(value.removeprefix("#/$defs/"), merged)
            elif key == "required" and merged:
                continue
            elif key == "properties":
                out[key] = {name: nullable(walk(v, merged)) if merged else walk(v, merged)
                            for name, v in value.items()}
            elif key == "additionalProperties" and isinstance(value, dict):
                out[key] = nullable(walk(value, merged)) if merged else walk(value, merged)
            elif key in ("items", "prefixItems"):
                out[key] = walk(value, False)  # a list replaces what it overrides: its items are whole
            elif key in ("default", "examples", "const", "enum"):
                out[key] = copy.deepcopy(value)  # values, not schemas
            else:
                out[key] = walk(value, merged)
        return out

    body = {k: v for k, v in schema.items() if k != "$defs"}
    out = walk(body, True)
    out["properties"]["extends"] = {
        "type": ["string", "null"],
        "description": "Path of a parent scenario file (.yaml or .yml), relative to this file; this file's "
                       "fields override the parent's, mappings merging key by key.",
    }
    return {**out, "$defs": dict(sorted(defs.items()))}


def nullable(node: dict) -> dict:
    """`node`, also allowing null. A typed node adds "null" to its types (so a wrong value is still told
    what type it should be); any other is wrapped in anyOf, its title, description and default kept at
    the top for editors."""
    if node.get("type") == "null" or any(b.get("type") == "null" for b in node.get("anyOf", [])):
        return node
    if isinstance(node.get("type"), str) and "const" not in node:
        out = {**node, "type": [node["type"], "null"]}
        if "enum" in node:
            out["enum"] = [*node["enum"], None]
        return out
    core = {k: v for k, v in node.items() if k not in ANNOTATIONS}
    return {**{k: node[k] for k in ANNOTATIONS if k in node}, "anyOf": [core, {"type": "null"}]}


def kind_of(data: dict) -> str:
    """Which kind of file a mapping read from YAML is, by its names: the kind that knows the most of them, at
    the top and one level down (in a list, its first item), the first of `KINDS` on a tie. A file with a
    mistyped name is still told by the others, so the check of its kind names the mistake."""
    return max(KINDS, key=lambda name: _known_names(KINDS[name], data))


def _known_names(kind: FileKind, data: dict) -> int:
    """How many of the names in `data`, at the top and one level down, a kind of file has."""
    model, top = kind.model(), kind.fields()
    known = 0
    for key, value in data.items():
        if key not in top:
            continue
        known += 1
        inner = value[0] if isinstance(value, list) and value else value
        if isinstance(inner, dict):
            where = (key, 0) if isinstance(value, list) else (key,)
            known += len(set(inner) & set(allowed_fields(model, where)))
    return known
