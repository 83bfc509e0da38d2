"""MkDocs hook: generates the parameters page from the scenario schema at build time.

The page is not a file in docs/: it is made from `pcnsim.scenario.json_schema()` (structure, units,
ranges, descriptions) and the defaults of `pcnsim.scenario.Scenario()` each time the site is built, so it
cannot drift from the code. Referenced from mkdocs.yml (`hooks:`).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import yaml
from mkdocs.structure.files import File, Files

PAGE = "parameters.md"
REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # document this checkout's schema, whichever pcnsim is installed
    sys.path.insert(0, str(REPO))

INTRO = """# Parameters

Every parameter a scenario file can set, generated from the scenario schema (`pcnsim/scenario.py`)
when this site is built, so it always matches the installed code. The same information is available
offline with `pcnsim schema` (JSON Schema) and `pcnsim describe --full` (the resolved values).

How to read the tables:

- **Parameter** is the dotted path you write in YAML: `booking.horizon_days` is
  `booking: {horizon_days: 28}`. `<need>`, `<role>`, `<segment>` and `<setting>` stand for a key of a
  mapping (the names are listed under [Names](#names) at the end); `[]` marks an item of a list.
- **Default** is the value used when no scenario file names the parameter. Values marked *(start)* in a
  description are starting assumptions that calibration may change; the calibrated baseline
  (`scenarios/baseline.yaml`) overrides a few of them.
- **Allowed** is what validation accepts. A value outside it is refused with a one-line error naming
  the file and the field.
- A scenario file only names what it changes; mappings merge key by key onto these defaults and
  `null` deletes an entry.
"""


def _resolve(node: dict, defs: dict) -> dict:
    while "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[-1]]
    return node


def _int_keys(value: Any) -> Any:
    """Age bands come out of JSON mode with string keys ('0'); show them as the integers users write."""
    if isinstance(value, dict):
        return {(int(k) if isinstance(k, str) and k.isdigit() else k): _int_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_int_keys(v) for v in value]
    return value


def _fmt_value(value: Any) -> str:
    if value is None:
        return "none"
    value = _int_keys(value)
    text = yaml.safe_dump(value, default_flow_style=True, width=math.inf, sort_keys=False).strip()
    text = text.removesuffix("\n...").strip()
    return f"`{text}`"


def _range(node: dict, defs: dict) -> str:
    """What validation accepts, in words, from one JSON Schema node."""
    node = _resolve(node, defs)
    if "anyOf" in node:
        parts = [_range(n, defs) for n in node["anyOf"] if n.get("type") != "null"]
        optional = any(n.get("type") == "null" for n in node["anyOf"])
        text = " or ".join(p for p in parts if p)
        if optional:
            return f"{text}, or none" if text else "optional"
        return text
    kind = node.get("type")
    bits = []
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    lo, hi = node.get("minimum"), node.get("maximum")
    xlo, xhi = node.get("exclusiveMinimum"), node.get("exclusiveMaximum")
    if lo is not None or xlo is not None or hi is not None or xhi is not None:
        left = f"{lo:g} ≤ " if lo is not None else (f"{xlo:g} < " if xlo is not None else "")
        right = f" ≤ {hi:g}" if hi is not None else (f" < {xhi:g}" if xhi is not None else "")
        bits.append(f"{left}x{right}")
    if kind == "array":
        n_lo, n_hi = node.get("minItems"), node.get("maxItems")
        if n_lo is not None and n_lo == n_hi:
            bits.append(f"{n_lo} items")
        elif n_lo is not None:
            bits.append(f"at least {n_lo} item" + ("s" if n_lo != 1 else ""))
        item = node.get("items") or node.get("prefixItems")
        if isinstance(item, dict):
            inner = _range(item, defs)
            if inner:
                bits.append(f"each {inner}")
        elif isinstance(item, list) and item:
            inner = _range(item[0], defs)
            bits.append(f"pairs, each {inner}" if inner else "pairs")
    elif kind == "object":
        inner = node.get("additionalProperties")
        if isinstance(inner, dict) and not _is_model(inner, defs):
            inner_text = _range(inner, defs)
            if inner_text:
                bits.append(f"each value {inner_text}")
    elif kind == "boolean":
        bits.append("true or false")
    return ", ".join(bits)


def _is_model(node: dict, defs: dict) -> bool:
    return "properties" in _resolve(node, defs)


def _plural(kind: str) -> str:
    head, _, rest = kind.partition(" ")
    return " ".join(filter(None, [head + "s", rest]))


def _type(node: dict, defs: dict) -> str:
    node = _resolve(node, defs)
    if "anyOf" in node:
        return " or ".join(_type(n, defs) for n in node["anyOf"] if n.get("type") != "null")
    kind = node.get("type", "")
    if kind == "object" and isinstance(node.get("additionalProperties"), dict):
        inner = node["additionalProperties"]
        if _is_model(inner, defs):
            return "mapping of " + _resolve(inner, defs).get("title", "") + " blocks"
        return "mapping of " + _plural(_type(inner, defs))
    if kind == "array":
        return "list"
    return {"number": "number", "integer": "integer", "string": "text", "boolean": "true/false"}.get(kind, kind)


KEY_NAMES = {"needs": "<need>", "match": "<need>", "roles": "<role>", "per_contact": "<setting>"}


def _rows(prefix: str, model: dict, defaults: Any, defs: dict):
    """Table rows (path, type, default, allowed, description) for every leaf below one schema block."""
    for name, prop in model.get("properties", {}).items():
        path = f"{prefix}.{name}" if prefix else name
        default = defaults.get(name) if isinstance(defaults, dict) else None
        node = _resolve(prop, defs)
        description = prop.get("description") or node.get("description", "")
        if _is_model(prop, defs):
            yield from _rows(path, node, default, defs)
            continue
        inner = node.get("additionalProperties")
        if node.get("type") == "object" and isinstance(inner, dict) and _is_model(inner, defs):
            # A mapping of blocks (needs, workforce roles): one row per field of the block, with each key's default.
            key = KEY_NAMES.get(name, "<key>")
            block = _resolve(inner, defs)
            yield (path, "mapping", "", "", description)
            for field, fprop in block["properties"].items():
                per_key = {k: v.get(field) for k, v in (default or {}).items()} if isinstance(default, dict) else None
                yield (f"{path}.{key}.{field}", _type(fprop, defs), _fmt_value(per_key) if per_key else "",
                       _range(fprop, defs), fprop.get("description", ""))
            continue
        items = node.get("items")
        if node.get("type") == "array" and isinstance(items, dict) and _is_model(items, defs):
            yield (path, "list", f"{len(default)} item(s)" if isinstance(default, list) else "",
                   _range(node, defs), description)
            first = default[0] if isinstance(default, list) and default else {}
            yield from _rows(f"{path}[]", _resolve(items, defs), first, defs)
            continue
        if default is None and "default" in prop:
            default = prop["default"]
        yield (path, _type(prop, defs), _fmt_value(default), _range(prop, defs), description)


def _cell(text: str) -> str:
    """Plain text for a table cell: pipes and angle brackets escaped."""
    return str(text).replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def _code(text: str) -> str:
    """A value already in backticks: only pipes need escaping (code spans escape HTML themselves)."""
    return str(text).replace("|", "\\|")


SECTION_NOTES = {
    "simulation": "Seed, horizon and calendar of a run.",
    "pcns": "The place: its PCNs and their member practices. The default is one PCN of 42,000 patients in "
            "five practices; the rows below show its first PCN and first practice.",
    "workforce": "Staff by role and where they sit (a practice or the network pool), their throughput and cost.",
    "population": "Who is on the lists: the age-sex profile, needs segments and starting complexity.",
    "onset": "How often need episodes start (episodes per person-year) and what raises or lowers that rate.",
    "access": "The chance that a person with a need asks primary care.",
    "booking": "Diaries: the same-day reserve, how far ahead routine requests book, and did-not-attend.",
    "ae": "A&E attendances (background, direct and after an unserved request) and emergency admissions.",
    "complexity": "Monthly movement of the latent complexity level 0-3.",
    "demography": "Deaths, births and registration turnover.",
    "costs": "Unit costs of touchpoints, GBP.",
    "levers": "What the network does together; every lever is off by default. See the Levers page.",
}


def render() -> str:
    """The parameters page as Markdown."""
    from pcnsim import vocab
    from pcnsim.scenario import Scenario, json_schema

    schema = json_schema()
    defs = schema.get("$defs", {})
    defaults = Scenario().model_dump(mode="json")
    out = [INTRO]
    for section, prop in schema["properties"].items():
        node = _resolve(prop, defs)
        out.append(f"\n## {section}\n")
        note = SECTION_NOTES.get(section) or prop.get("description") or node.get("description")
        if note:
            out.append(_cell(note) + "\n")
        out.append("| Parameter | Type | Default | Allowed | Description |")
        out.append("|---|---|---|---|---|")
        if _is_model(prop, defs):
            rows = list(_rows(section, node, defaults.get(section), defs))
        else:
            rows = list(_rows("", {"properties": {section: prop}}, defaults, defs))
        for path, kind, default, allowed, description in rows:
            out.append(f"| `{_code(path)}` | {_cell(kind)} | {_code(default)} | {_cell(allowed)} | "
                       f"{_cell(description)} |")
    out.append("\n## Names\n")
    out.append("Keys that mappings accept; anything else is refused.\n")
    for label, names in (("&lt;need&gt;", vocab.NEEDS), ("&lt;role&gt;", vocab.ROLES),
                         ("&lt;segment&gt;", vocab.SEGMENTS), ("&lt;setting&gt;", vocab.SETTINGS),
                         ("services in `match`", vocab.MATCH_COLUMNS)):
        out.append(f"- **{label}**: " + ", ".join(f"`{n}`" for n in names))
    return "\n".join(out) + "\n"


def on_files(files: Files, config) -> Files:
    files.append(File.generated(config, PAGE, content=render()))
    return files
