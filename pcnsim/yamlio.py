"""Reading YAML input files safely, and turning every problem with them into one-line `ScenarioError`s.

Scenario files and experiment files (sweeps, calibration, the workforce optimiser) are read here. A user
mistake never becomes a traceback: the message is one line naming the file, the field path and what is
allowed, and any value echoed back is cut to `MAX_SHOWN` characters.

What a read accepts, and why:

- at most `MAX_YAML_BYTES` (16 MiB; england.yaml, 6,400 practices, is about 1 MiB): larger input is
  refused after reading that much, so `/dev/zero` or a runaway file cannot fill the memory;
- UTF-8 text (a byte-order mark is allowed);
- YAML without repeated keys in a mapping (YAML says keys are unique; PyYAML would silently keep the
  last one, so a typo'd copy-paste would change a number unseen); `<<` merge keys are allowed;
- no alias that contains itself (a recursive anchor), at most `MAX_DEPTH` levels of nesting and at most
  `MAX_NODES` values once aliases are expanded (a "billion laughs" file is refused before anything walks it).

Where `extends:` may point is decided by the loader (`pcnsim.scenario.load_raw`) with `check_parent`.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from .vocab import MATCH_COLUMNS, NEEDS, ROLES, SEGMENTS, SETTINGS

MAX_YAML_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 40
MAX_NODES = 2_000_000
MAX_SHOWN = 80
YAML_SUFFIXES = (".yaml", ".yml")
MODELINE = "# yaml-language-server: $schema="
"""The comment line naming the JSON Schema a file follows, for editors (`pcnsim.file_schemas`)."""


class ScenarioError(ValueError):
    """A user mistake in a scenario or experiment file: carries the file, the field path and what is allowed.

    Its message is always one line (line breaks in any part become spaces)."""

    def __init__(self, file: str | Path | None, field: str, message: str):
        self.file = str(file) if file is not None else "<scenario>"
        self.field = _one_line(field)
        self.message = _one_line(message)
        where = f"{self.file}: {self.field}" if self.field else self.file
        super().__init__(_one_line(f"{where}: {self.message}"))


def _one_line(text: str) -> str:
    return re.sub(r"\s*[\r\n]+\s*", " ", str(text))


def shown(value: Any, limit: int = MAX_SHOWN) -> str:
    """repr(value), cut to `limit` characters (with '...') so a huge bad value is not echoed whole."""
    try:
        text = repr(value)
    except RecursionError:
        text = "<recursive value>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---- reading ---------------------------------------------------------------------------------------------


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a mapping that names the same key twice (merge keys `<<` aside)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                except TypeError:
                    continue  # unhashable: the base class reports it
                if duplicate:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark,
                        f"found duplicate key {shown(key)} (first at line {seen[key].line + 1})", key_node.start_mark)
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def read_text(path: Path, what: str = "YAML file", regular_only: bool = False) -> str:
    """The text of a file, at most MAX_YAML_BYTES, as UTF-8; problems are one-line ScenarioErrors.

    regular_only: refuse anything but a regular file (a FIFO would block, a device never ends). The file a
    user names may be a pipe (`pcnsim run <(...)`); the size limit bounds what is read from it."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ScenarioError(path, "", "file not found") from None
    except OSError as exc:
        raise ScenarioError(path, "", f"cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise ScenarioError(path, "", f"is a directory, expected a {what}")
    if regular_only and not stat.S_ISREG(info.st_mode):
        raise ScenarioError(path, "", f"is not a regular file (a device, FIFO or socket), expected a {what}")
    if stat.S_ISREG(info.st_mode) and info.st_size > MAX_YAML_BYTES:
        raise ScenarioError(path, "", f"is {info.st_size:,} bytes; a {what} may be at most {MAX_YAML_BYTES:,}")
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_YAML_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(path, "", f"cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_YAML_BYTES:
        raise ScenarioError(path, "", f"is more than {MAX_YAML_BYTES:,} bytes, the most a {what} may be")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError(path, "", f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); save it "
                            "as UTF-8") from None


def parse_yaml(text: str, path: Path) -> Any:
    """YAML text as plain data (safe loader, no repeated keys); problems are one-line ScenarioErrors."""
    try:
        data = yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader subclass: plain data only
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["unreadable"])[0]
        raise ScenarioError(path, "", f"broken YAML at {where}{problem}") from None
    except RecursionError:
        raise ScenarioError(path, "", f"nested too deeply (at most {MAX_DEPTH} levels)") from None
    except (ValueError, TypeError, AttributeError, OverflowError, IndexError, KeyError) as exc:
        # PyYAML's constructors fail this way on a value that does not read as its explicit tag (!!timestamp x)
        raise ScenarioError(path, "", f"broken YAML: a value does not read as its tag says ({type(exc).__name__}: "
                            f"{shown(str(exc))})") from None
    check_shape(data, path)
    return data


def check_shape(data: Any, path: Path) -> None:
    """Refuse a value containing itself (a recursive anchor), deeper than MAX_DEPTH or with more than
    MAX_NODES values once aliases are expanded; walks each distinct container once, without recursion."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, int, bool]] = [(data, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        children = list(node.values()) if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        key = id(node)
        if done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes.get(id(c), 1) for c in children)
            if sizes[key] > MAX_NODES:
                raise ScenarioError(path, "", f"expands to more than {MAX_NODES:,} values (aliases of aliases?)")
            continue
        if key in on_path:
            raise ScenarioError(path, "", "an anchor refers to itself (recursive YAML alias)")
        if key in sizes:
            continue
        if depth > MAX_DEPTH:
            raise ScenarioError(path, "", f"nested too deeply (at most {MAX_DEPTH} levels)")
        on_path.add(key)
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in children if isinstance(c, (dict, list)))


def read_yaml(path: Path, what: str = "YAML file", regular_only: bool = False) -> dict:
    """A YAML mapping from a file (empty file: {}); any problem becomes a one-line ScenarioError naming it."""
    data = parse_yaml(read_text(path, what, regular_only), path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ScenarioError(path, "", f"must be a mapping of fields, got {type(data).__name__}")
    bad = [k for k in data if not isinstance(k, str)]
    if bad:
        raise ScenarioError(path, shown(bad[0]), "field names must be text")
    return data


def check_parent(child: Path, parent: str, top: Path, field: str = "extends") -> Path:
    """The file an `extends:` (or an experiment's `base:`) names, if it may be read; else a ScenarioError.

    The rule: the parent must be a regular .yaml or .yml file (not a directory, device, FIFO or socket). A
    relative path is taken from the folder of the file that names it and must stay inside the folder of
    `top` (the file the user named, or the last file reached by an absolute path) or that folder's parent,
    so experiments/x.yaml may use ../scenarios/y.yaml but no file can climb further; an absolute path is
    taken as written (pcnsim optimise writes one in best.yaml). Symbolic links are followed first."""
    if not parent.strip():
        raise ScenarioError(child, field, "must be the path of a scenario file, got ''")
    given = Path(parent)
    target = given if given.is_absolute() else child.parent / given
    if given.suffix.lower() not in YAML_SUFFIXES:
        raise ScenarioError(child, field, f"{shown(parent)} is not a .yaml or .yml file")
    try:
        resolved = target.resolve()
        info = resolved.stat() if resolved.exists() else None
    except (OSError, RuntimeError, ValueError) as exc:
        raise ScenarioError(child, field, f"{shown(parent)} cannot be resolved ({exc})") from None
    if not given.is_absolute():
        roots = allowed_roots(top)
        if not any(resolved.is_relative_to(r) for r in roots):
            raise ScenarioError(child, field, f"{shown(parent)} leads outside {' and '.join(map(str, roots))} "
                                "(relative paths may not leave the folder of the file named, or its parent)")
    if info is None:
        raise ScenarioError(child, field, f"parent scenario {shown(parent)} not found (looked in {target})")
    if not stat.S_ISREG(info.st_mode):
        raise ScenarioError(child, field, f"{shown(parent)} is not a regular file (a directory, device, FIFO "
                            "or socket)")
    return resolved


def allowed_roots(top: Path) -> list[Path]:
    """Folders a relative `extends:` may reach: the named file's folder and, unless it is /, its parent."""
    folder = top.resolve().parent
    roots = [folder]
    if folder.parent != folder.parent.parent:
        roots.append(folder.parent)
    return roots


# ---- validation errors as one line -----------------------------------------------------------------------

VOCABULARIES = {
    frozenset(ROLES): "role",
    frozenset(NEEDS): "need",
    frozenset(SEGMENTS): "segment",
    frozenset(SEGMENTS[1:]): "segment",
    frozenset(SETTINGS): "setting",
    frozenset(MATCH_COLUMNS): "service",
}


def format_location(loc: tuple) -> str:
    """A pydantic error location as a field path: a.b[0].c (long keys cut short)."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in ("function-after[", "function-before[") or "[" in str(item):
            continue
        else:
            text = str(item)
            text = text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."
            parts.append(("." if parts else "") + text)
    return "".join(parts)


def first_error(exc: ValidationError, model: type[BaseModel] | None = None) -> tuple[str, str]:
    """(field path, message) of a validation's first error, in words a user can act on: unknown fields list
    what is allowed there, names outside the model's vocabulary (roles, needs, ...) say which are known,
    and a bad value is echoed (cut short)."""
    errors = exc.errors(include_url=False)
    err = errors[0]
    loc = tuple(err["loc"])
    if err["type"] == "literal_error":
        return _literal_error(errors, loc)
    field = format_location(loc)
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        allowed = allowed_fields(model, loc[:-1]) if model is not None else []
        msg = f"unknown field; allowed here: {', '.join(allowed)}" if allowed else "unknown field"
    elif err["type"] == "finite_number":
        msg = f"must be a finite number, not {shown(err.get('input'))}"
    elif "input" in err and not isinstance(err["input"], (dict, list)) and err["type"] != "missing":
        msg = f"{msg} (got {shown(err['input'])})"
    return field, msg


def _literal_error(errors: list[dict], loc: tuple) -> tuple[str, str]:
    """One message for every unknown name in the same mapping's keys or list: 'unknown role ['vet']; allowed'."""
    expected = re.findall(r"'((?:[^'\\]|\\.)*)'", errors[0].get("ctx", {}).get("expected", ""))
    noun = VOCABULARIES.get(frozenset(expected), "value")
    allowed = f"allowed: {', '.join(expected)}"
    if loc and (loc[-1] == "[key]" or isinstance(loc[-1], int)):
        container = loc[:-2] if loc[-1] == "[key]" else loc[:-1]
        names = [e["input"] for e in errors if e["type"] == "literal_error"
                 and tuple(e["loc"])[: len(container)] == container and len(e["loc"]) - len(container) in (1, 2)]
        return format_location(container), f"unknown {noun} {shown(names)}; {allowed}"
    return format_location(loc), f"unknown {noun} {shown(errors[0].get('input'))}; {allowed}"


def allowed_fields(model: type[BaseModel] | None, loc: tuple) -> list[str]:
    """The field names allowed at `loc` inside `model` (empty when the location is not a model's)."""
    current: Any = model
    for item in loc:
        current = _structural(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(item) if isinstance(item, str) else None
            if field is None:
                return []
            current = field.annotation
        elif get_origin(current) in (dict, list, tuple):
            args = get_args(current)
            current = args[-1] if get_origin(current) is dict else args[0] if args else None
        else:
            return []
    current = _structural(current)
    return list(current.model_fields) if isinstance(current, type) and issubclass(current, BaseModel) else []


def _structural(annotation: Any) -> Any:
    """The model, dict or list inside an annotation (Annotated[...] and `X | None` unwrapped)."""
    for _ in range(10):
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, UnionType):
            found = [a for a in get_args(annotation) if a is not type(None)]
            annotation = found[0] if found else None
        else:
            return annotation
    return annotation


def validate_file(model: type[BaseModel], path: Path, raw: dict | None = None, overrides: dict | None = None) -> Any:
    """Read a YAML file and validate it against `model` (an experiment schema); the first error becomes a
    one-line ScenarioError naming the file and the field.

    raw: the file's content, if it has been read already; overrides: top-level fields set on the command
    line (`--reps` and the like), which replace the file's (an error in one says so)."""
    raw = read_yaml(path, "experiment file") if raw is None else raw
    try:
        return model.model_validate({**raw, **(overrides or {})})
    except ValidationError as exc:
        field, msg = first_error(exc, model)
        if field.split(".")[0].split("[")[0] in (overrides or {}):
            field = f"{field} (as set on the command line)"
        raise ScenarioError(path, field, msg) from None
    except RecursionError:
        raise ScenarioError(path, "", f"nested too deeply (at most {MAX_DEPTH} levels)") from None


def check_output(experiment: Path, output: str, kind: str) -> Path:
    """Where an experiment writes (`output:`, relative to the experiment file), if it can: a directory
    (kind 'directory') must not be an existing file, a file (kind 'file') not an existing directory."""
    if not output.strip():
        raise ScenarioError(experiment, "output", f"must name a {kind}, got ''")
    try:
        target = (Path(experiment).parent / output).resolve()
        if kind == "directory" and target.exists() and not target.is_dir():
            raise ScenarioError(experiment, "output", f"{shown(str(target))} exists and is not a directory; name "
                                "a directory")
        if kind == "file" and target.is_dir():
            raise ScenarioError(experiment, "output", f"{shown(str(target))} is a directory; name the scenario "
                                "file to write")
        for parent in target.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise ScenarioError(experiment, "output", f"{shown(str(parent))} is a file, so "
                                        f"{shown(output)} cannot be made below it")
                break
    except (OSError, RuntimeError, ValueError) as exc:
        if isinstance(exc, ScenarioError):
            raise
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ScenarioError(experiment, "output", f"{shown(output)} cannot be used ({reason})") from None
    return target
