"""Dotted paths into plain scenario data, shared by calibration and sweeps.

`a.b.c` walks mappings (integer-looking keys match age bands), `[i]` indexes lists, `*` means every
entry. A parameter (anything with `.path` and `.kind`) of kind `value` sets the leaves it reaches to x;
kind `scale` multiplies the base values beneath them by x.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np

from .scenario import ScenarioError, deep_merge, load_raw, scenario_defaults
from .yamlio import shown

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_path(path: str) -> list[str | int]:
    tokens: list[str | int] = []
    for name, index in _TOKEN.findall(path):
        tokens.append(int(index) if index else name)
    if not tokens:
        raise ValueError(f"empty path {path!r}")
    return tokens


def leaves(data, tokens: list[str | int], where: str = "", create: bool = False) -> list[tuple[object, object]]:
    """(container, key) of every leaf a path reaches; raises KeyError naming the missing step.

    create: the last step may name a key a mapping does not have yet (set by a `value` parameter)."""
    if not tokens:
        raise KeyError(where)
    head, rest = tokens[0], tokens[1:]
    if create and not rest and isinstance(data, dict) and head != "*" and head not in data:
        if not (isinstance(head, str) and head.lstrip("-").isdigit() and int(head) in data):
            return [(data, int(head) if isinstance(head, str) and head.isdigit() else head)]
    if head == "*":
        keys = list(data) if isinstance(data, dict) else list(range(len(data)))
    elif isinstance(data, dict):
        key = head
        if key not in data and isinstance(head, str) and head.lstrip("-").isdigit() and int(head) in data:
            key = int(head)
        if key not in data:
            raise KeyError(f"{where}.{head}".lstrip("."))
        keys = [key]
    elif isinstance(data, list) and isinstance(head, int) and head < len(data):
        keys = [head]
    else:
        raise KeyError(f"{where}.{head}".lstrip("."))
    if not rest:
        return [(data, k) for k in keys]
    found = []
    for k in keys:
        found += leaves(data[k], rest, f"{where}.{k}", create)
    return found


def _lists(x):
    """Tuples to lists, recursively (so leaves can be assigned and YAML stays plain)."""
    if isinstance(x, dict):
        return {k: _lists(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_lists(v) for v in x]
    return x


def resolved_data(path: Path) -> dict:
    """A scenario file as plain data with every default filled in."""
    return _lists(deep_merge(scenario_defaults(), load_raw(path)))


def _scaled(value, factor: float):
    """Every number beneath a value (a number, list or mapping) multiplied by factor."""
    if isinstance(value, dict):
        return {k: _scaled(v, factor) for k, v in value.items()}
    if isinstance(value, list):
        return [_scaled(v, factor) for v in value]
    return float(value) * factor


def apply(base: dict, params: list, x: np.ndarray, source: Path | None = None, where: str = "parameters") -> dict:
    """The base data with each parameter's leaves set to (value) or multiplied by (scale) its x.

    A path that no longer reaches a value once the parameters before it are applied (one path inside
    another's), or a scale over something that is not a number, is a ScenarioError naming `source`."""
    data = copy.deepcopy(base)
    for i, (p, value) in enumerate(zip(params, x, strict=True)):
        try:
            for container, key in leaves(data, parse_path(p.path), create=p.kind == "value"):
                container[key] = float(value) if p.kind == "value" else _scaled(container[key], float(value))
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise ScenarioError(source, f"{where}[{i}].path", f"{shown(p.path)} cannot be applied after the "
                                f"parameters before it ({type(exc).__name__}: {shown(str(exc))}); paths must "
                                "not overlap, and a scale must reach numbers") from None
    return data


def set_value(data: dict, path: str, value) -> None:
    """Set every leaf a path reaches (creating a missing last key) to `value`."""
    for container, key in leaves(data, parse_path(path), create=True):
        container[key] = value


def require(data: dict, params: list, source: Path, where: str = "parameters") -> None:
    """Raise a ScenarioError naming `where[i].path` when a parameter's path does not reach the scenario."""
    for i, p in enumerate(params):
        try:
            if parse_path(p.path)[0] == "*":
                raise ScenarioError(source, f"{where}[{i}].path", f"{shown(p.path)} must start with a scenario "
                                    "block name (e.g. ae.wait_slope), not '*'")
            leaves(data, parse_path(p.path), create=p.kind == "value")
        except ScenarioError:
            raise
        except (KeyError, ValueError) as exc:
            raise ScenarioError(source, f"{where}[{i}].path", f"{shown(p.path)} does not reach a scenario value "
                                f"(missing {shown(exc.args[0])})") from None
