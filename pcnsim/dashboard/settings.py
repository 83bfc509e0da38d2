"""What the page lets a manager set: the controls (each a number or switch of the scenario, by dotted path,
bounded by the schema), the scenario files on offer, the page's settings as one comparable value, and the
scenario those settings build.

A lever's size controls belong to the lever, so the page shows them under its switch and only while it is on.
`typical` is the range seen in practice; outside it the page cautions that the model is being stretched.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..paths import leaves, parse_path, resolved_data, set_value
from ..scenario import Scenario, from_dict

SCENARIO_DIRS = (Path.cwd() / "scenarios", Path(__file__).resolve().parents[2] / "scenarios",
                 Path(__file__).resolve().parents[1] / "data")
DEFAULT_FILE = "baseline.yaml"
DEFAULT_YEARS = 2  # two reported years, so frequent-attender churn (year to year) has something to show
DEFAULT_REPS = 3


@dataclass(frozen=True)
class Control:
    """A number or switch of the scenario that the page exposes, by dotted path, with its unit."""

    label: str
    path: str
    kind: str  # "switch", "float" or "int"
    low: float = 0.0
    high: float = 1.0
    step: float = 0.1
    unit: str = ""
    typical: tuple[float, float] | None = None

    def shown(self, value) -> str:
        """The value as the page writes it, with its unit."""
        if self.kind == "switch":
            return "on" if value else "off"
        number = f"{int(value):,}" if self.kind == "int" else f"{float(value):g}"
        return f"{number} {self.unit}".strip()


@dataclass(frozen=True)
class Lever:
    """A lever's on/off switch and the controls that size it."""

    switch: Control
    sizes: tuple[Control, ...] = ()


def _switch(label: str, name: str) -> Control:
    return Control(label, f"levers.{name}.enabled", "switch")


LEVERS = (
    Lever(_switch("Pool ARRS roles at network level", "pooled_roles")),
    Lever(_switch("Complex-care team", "complex_care"), (
        Control("Caseload", "levers.complex_care.caseload", "int", 0, 1000, 10, "patients per PCN", (50, 400)),
        Control("Team size", "levers.complex_care.fte", "float", 0, 20, 0.5, "FTE per PCN", (1, 8)))),
    Lever(_switch("Shared leg-ulcer expertise", "shared_expertise")),
    Lever(_switch("Social prescribing", "social_prescribing"), (
        Control("Extra link workers", "levers.social_prescribing.extra_splw_fte", "float", 0, 20, 0.5, "FTE",
                (0.5, 6)),)),
    Lever(_switch("Acute visiting service", "acute_visiting"), (
        Control("Paramedics", "levers.acute_visiting.paramedic_fte", "float", 0, 20, 0.5, "FTE", (0.5, 6)),)),
    Lever(_switch("Care navigation", "care_navigation"), (
        Control("Extra care coordinators", "levers.care_navigation.extra_care_coordinator_fte", "float", 0, 20,
                0.5, "FTE per PCN", (0.5, 6)),)),
    Lever(_switch("Outreach to young people", "outreach"), (
        Control("Access multiplier", "levers.outreach.access_multiplier", "float", 1, 3, 0.1, "x usual", (1, 2)),)),
)
DELIVERY = (Control("Project management", "levers.delivery.project_manager_fte", "float", 0, 5, 0.25, "FTE per PCN",
                    (0, 2)),)
WORKFORCE = (
    Control("GPs", "workforce.practice_fte_per_1000.gp", "float", 0.2, 1.0, 0.01, "FTE per 1,000 patients",
            (0.35, 0.75)),
    Control("Practice nurses", "workforce.practice_fte_per_1000.nurse", "float", 0.1, 0.8, 0.01,
            "FTE per 1,000 patients", (0.2, 0.5)),
    Control("Network hand-off loss", "workforce.network_handoff_cost", "float", 0, 0.5, 0.01,
            "share of pooled capacity", (0, 0.25)),
)
LEVER_SWITCHES = tuple(lever.switch for lever in LEVERS)
LEVER_SIZES = tuple(c for lever in LEVERS for c in lever.sizes) + DELIVERY
CONTROLS = LEVER_SWITCHES + LEVER_SIZES + WORKFORCE
BY_PATH = {c.path: c for c in CONTROLS}


def scenario_files() -> dict[str, Path]:
    """Scenario files by name, from ./scenarios, the repository's scenarios/ or the packaged baseline."""
    for folder in SCENARIO_DIRS:
        files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
        if files:
            return {f.name: f for f in files}
    return {}


def scenario_data(path: Path) -> dict:
    """A scenario file's resolved plain data, read once per version of the file for every session (a national
    file takes seconds to resolve). Shared: callers copy before changing it (`build` does)."""
    return _resolved(str(path), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _resolved(path: str, mtime: int) -> dict:
    return resolved_data(Path(path))


def default_file(files: dict[str, Path]) -> str:
    return DEFAULT_FILE if DEFAULT_FILE in files else next(iter(files))


def get(data: dict, path: str):
    """The value at a dotted path of plain scenario data."""
    (container, key), *_ = leaves(data, parse_path(path))
    return container[key]


def control_values(data: dict) -> dict[str, object]:
    """Every control's value in a scenario's resolved data."""
    return {c.path: get(data, c.path) for c in CONTROLS}


@dataclass(frozen=True)
class Settings:
    """Everything that decides a run, as one comparable value: results made from other settings are out of date."""

    base_file: str
    variant_file: str
    values: tuple[tuple[str, object], ...]
    years: int
    reps: int

    @property
    def value_map(self) -> dict[str, object]:
        return dict(self.values)


def settings(base_file: str, variant_file: str, values: dict[str, object], years: int, reps: int) -> Settings:
    return Settings(base_file, variant_file, tuple(sorted(values.items())), int(years), int(reps))


def changed_controls(data: dict, values: dict[str, object]) -> list[Control]:
    """The controls set away from the file's own values."""
    return [c for c in CONTROLS if c.path in values and values[c.path] != get(data, c.path)]


def build(data: dict, values: dict[str, object], years: int) -> Scenario:
    """The scenario: `data` (resolved plain data) with the controls' values and the reported years; a lever
    switched on here starts on day 0. Its name is the file's, marked 'edited' when a control was moved."""
    out = copy.deepcopy(data)
    for path, value in values.items():
        set_value(out, path, value)
        if path.endswith(".enabled") and value and not get(data, path):
            set_value(out, path.removesuffix(".enabled") + ".start_day", 0)
    out.setdefault("simulation", {})["years"] = int(years)
    if changed_controls(data, values):
        out["name"] = f"{data.get('name', 'scenario')}_edited"
    return from_dict(out)


def cautions(values: dict[str, object]) -> list[str]:
    """One sentence for each control set outside the range seen in practice (only for levers that are on)."""
    out = []
    for lever in LEVERS:
        if not values.get(lever.switch.path):
            continue
        out.extend(f"{lever.switch.label}: {c.label.lower()} of {c.shown(values[c.path])} is outside the usual "
                   f"{c.typical[0]:g} to {c.typical[1]:g}." for c in lever.sizes
                   if c.typical and not c.typical[0] <= float(values[c.path]) <= c.typical[1])
    out.extend(f"{c.label} at {c.shown(values[c.path])} is outside the usual {c.typical[0]:g} to {c.typical[1]:g}."
               for c in (*DELIVERY, *WORKFORCE)
               if c.typical and not c.typical[0] <= float(values[c.path]) <= c.typical[1])
    return out


def scenario_yaml(sc: Scenario, base_file: str | None = None, reps: int | None = None) -> str:
    """A scenario file that `pcnsim run` and `pcnsim compare` accept, every value resolved (years and seed
    included); its header says how to repeat the comparison it came from (base file and replicates)."""
    data = sc.model_dump(mode="json")
    head = "# Written by the pcnsim dashboard: the full scenario with the settings chosen on the page.\n"
    if base_file and reps:
        head += (f"# Compared on the page with {base_file}, {reps} paired replicates, seed "
                 f"{sc.simulation.seed}; to repeat it:\n"
                 f"#   pcnsim compare scenarios/{base_file} {sc.name}.yaml --years {sc.simulation.years} "
                 f"--reps {reps} --seed {sc.simulation.seed}\n")
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def to_query(s: Settings, data: dict) -> str:
    """The settings as a URL query, so a link reopens the page as set: the files, years, replicates and each
    control moved away from the starting file's value."""
    from urllib.parse import urlencode

    values = s.value_map
    pairs = [("base", s.base_file), ("start", s.variant_file), ("years", s.years), ("reps", s.reps)]
    pairs += [(c.path, int(bool(values[c.path])) if c.kind == "switch" else values[c.path])
              for c in changed_controls(data, values)]
    return urlencode(pairs)


def from_query(search: str | None, files: dict[str, Path]) -> dict:
    """What a URL query sets (see `to_query`); anything unknown, unreadable or out of range is ignored."""
    from urllib.parse import parse_qsl

    out: dict = {"values": {}}
    for key, text in parse_qsl(search or ""):
        try:
            if key in ("base", "start") and text in files:
                out[key] = text
            elif key == "years" and 1 <= int(text) <= 3:
                out[key] = int(text)
            elif key == "reps" and 2 <= int(text) <= 10:
                out[key] = int(text)
            elif key in BY_PATH:
                c = BY_PATH[key]
                value = bool(int(text)) if c.kind == "switch" else int(text) if c.kind == "int" else float(text)
                if c.kind == "switch" or c.low <= value <= c.high:
                    out["values"][key] = value
        except ValueError:
            continue
    return out
