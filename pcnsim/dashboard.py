"""The Solara dashboard: choose a scenario, move the levers, run a paired comparison, look and download.

Served by `pcnsim dashboard` (Solara, production mode). Every control is bounded by the scenario schema,
so whatever the page builds validates as a scenario file. State lives in the page component
(`use_reactive`), so each browser session has its own; runs go through `use_task` in a thread with a
progress bar, so the page never freezes. Front-end assets come from the `solara-assets` package (no CDN).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import solara
import yaml
from solara.lab import Tab, Tabs, use_task

from . import plots
from .compare import KEY_METRICS, compare
from .paths import leaves, parse_path, resolved_data, set_value
from .scenario import Scenario, from_dict
from .vocab import ROLES

SCENARIO_DIRS = (Path.cwd() / "scenarios", Path(__file__).resolve().parents[1] / "scenarios",
                 Path(__file__).with_name("data"))


@dataclass(frozen=True)
class Control:
    """A number or switch of the scenario that the page exposes, by dotted path."""

    label: str
    path: str
    kind: str  # "switch", "float" or "int"
    low: float = 0.0
    high: float = 1.0
    step: float = 0.1


LEVER_SWITCHES = (
    Control("Pool ARRS roles at network level", "levers.pooled_roles.enabled", "switch"),
    Control("Complex-care team", "levers.complex_care.enabled", "switch"),
    Control("Shared leg-ulcer expertise", "levers.shared_expertise.enabled", "switch"),
    Control("Social prescribing", "levers.social_prescribing.enabled", "switch"),
    Control("Acute visiting service", "levers.acute_visiting.enabled", "switch"),
    Control("Care navigation", "levers.care_navigation.enabled", "switch"),
    Control("Outreach to young people", "levers.outreach.enabled", "switch"),
)
LEVER_SIZES = (
    Control("Complex-care caseload per PCN", "levers.complex_care.caseload", "int", 0, 1000, 10),
    Control("Complex-care team FTE", "levers.complex_care.fte", "float", 0, 20, 0.5),
    Control("Extra link-worker FTE", "levers.social_prescribing.extra_splw_fte", "float", 0, 20, 0.5),
    Control("Acute visiting paramedic FTE", "levers.acute_visiting.paramedic_fte", "float", 0, 20, 0.5),
    Control("Care navigation strength", "levers.care_navigation.strength", "float", 0, 1, 0.05),
    Control("Outreach access multiplier", "levers.outreach.access_multiplier", "float", 1, 3, 0.1),
    Control("Project-management FTE", "levers.delivery.project_manager_fte", "float", 0, 5, 0.25),
)
WORKFORCE = (
    Control("GP FTE per 1,000 patients", "workforce.practice_fte_per_1000.gp", "float", 0.2, 1.0, 0.01),
    Control("Practice nurse FTE per 1,000", "workforce.practice_fte_per_1000.nurse", "float", 0.1, 0.8, 0.01),
    Control("Network hand-off cost", "workforce.network_handoff_cost", "float", 0, 0.5, 0.01),
)
HEADLINES = {"ae_per_1000": "A&E attendances per 1,000", "revisits_per_1000": "Revisits per 1,000",
             "gp_per_1000": "GP contacts per 1,000", "unmet_days_per_person": "Unmet-need days per person"}


def scenario_files() -> dict[str, Path]:
    """Scenario files by name, from ./scenarios, the repository's scenarios/ or the packaged baseline."""
    for folder in SCENARIO_DIRS:
        files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
        if files:
            return {f.name: f for f in files}
    return {}


def get(data: dict, path: str):
    (container, key), *_ = leaves(data, parse_path(path))
    return container[key]


def build(data: dict, values: dict[str, object]) -> Scenario:
    """The scenario: `data` (resolved plain data) with the controls' values; levers switched on start on day 0."""
    import copy

    out = copy.deepcopy(data)
    for path, value in values.items():
        set_value(out, path, value)
        if path.endswith(".enabled") and value and not get(data, path):
            set_value(out, path.removesuffix(".enabled") + ".start_day", 0)
    out["name"] = f"{data.get('name', 'scenario')}_dashboard"
    return from_dict(out)


def scenario_yaml(sc: Scenario) -> str:
    """A scenario file of the current settings that `pcnsim run` accepts (every value resolved)."""
    data = sc.model_dump(mode="json")
    return ("# Written by the pcnsim dashboard: the full scenario with the settings chosen on the page.\n"
            + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def weekly_series(comparison, settings: tuple[str, ...]) -> pd.DataFrame:
    """Touchpoints per 1,000 per year, week by week, for each scenario (replicates averaged)."""
    from .results import WEEKLY_METRICS

    rows = []
    for name, res in comparison.results.items():
        scale = 1000 * 52 / res.scenario.n_patients
        for s in settings:
            values = res.weekly[..., WEEKLY_METRICS.index(s)].sum(axis=2).mean(axis=0) * scale
            rows += [{"scenario": name, "setting": s, "week": w, "per_1000_year": v} for w, v in enumerate(values)]
    return pd.DataFrame(rows)


def series_figure(series: pd.DataFrame, title: str):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.4))
    for (name, setting), g in series.groupby(["scenario", "setting"], sort=False):
        ax.plot(g["week"], g["per_1000_year"], label=f"{setting} ({name})",
                ls="-" if name == series["scenario"].iloc[0] else "--")
    ax.set_xlabel("week of the reported period")
    ax.set_ylabel("per 1,000 per year")
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def utilisation_figure(res):
    import matplotlib.pyplot as plt

    offered = res.capacity_offered.sum(axis=(0, 1))
    used = res.capacity_used.sum(axis=(0, 1))
    roles = [r for j, r in enumerate(ROLES) if offered[:, j].sum() > 0]
    fig, ax = plt.subplots(figsize=(8, 3.4))
    names = res.unit_names
    width = 0.8 / max(len(names), 1)
    for u, name in enumerate(names):
        share = [used[u, ROLES.index(r)] / offered[u, ROLES.index(r)] if offered[u, ROLES.index(r)] else np.nan
                 for r in roles]
        ax.bar(np.arange(len(roles)) + u * width, share, width, label=name)
    ax.set_xticks(np.arange(len(roles)) + 0.4 - width / 2, roles, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("share of slots used")
    ax.set_ylim(0, 1.05)
    ax.set_title("Workforce utilisation by role and unit (with the levers)")
    ax.legend(fontsize=6, ncol=3)
    fig.tight_layout()
    return fig


def headline_table(comparison) -> pd.DataFrame:
    t = comparison.table
    name = list(comparison.results)[1]
    t = t[(t["scenario"] == name) & t["metric"].isin(KEY_METRICS)]
    return t[["metric", "base", "value", "diff", "low_95", "high_95"]].reset_index(drop=True)


@solara.component
def Heading(text: str, level: int = 3) -> None:
    """A heading as plain HTML (solara.Markdown would load KaTeX for maths, which we do not need)."""
    solara.HTML(tag=f"h{level}", unsafe_innerHTML=text.replace("&", "&amp;").replace("<", "&lt;"))


@solara.component
def Number(label: str, row) -> None:
    with solara.Card(label, style={"min-width": "230px"}):
        solara.HTML(tag="div", unsafe_innerHTML=f"{row['value']:,.1f}", classes=["pcnsim-value"],
                    style={"font-size": "28px"})
        solara.Text(f"baseline {row['base']:,.1f}; difference {row['diff']:+,.2f} "
                    f"(95% interval {row['low_95']:+,.2f} to {row['high_95']:+,.2f})", style={"font-size": "12px"})


@solara.component
def ControlWidget(control: Control, values: solara.Reactive) -> None:
    current = values.value[control.path]

    def set_value(v) -> None:
        values.value = {**values.value, control.path: v}

    if control.kind == "switch":
        solara.Switch(label=control.label, value=bool(current), on_value=set_value)
    elif control.kind == "int":
        solara.SliderInt(f"{control.label}: {int(current)}", value=int(current), min=int(control.low),
                         max=int(control.high), step=int(control.step), on_value=set_value)
    else:
        solara.SliderFloat(f"{control.label}: {float(current):g}", value=float(current), min=control.low,
                           max=control.high, step=control.step, on_value=set_value)


@solara.component
def Page() -> None:
    files = scenario_files()
    choice = solara.use_reactive(next(iter(files)) if "baseline.yaml" not in files else "baseline.yaml")
    data = solara.use_memo(lambda: resolved_data(files[choice.value]), dependencies=[choice.value])
    controls = LEVER_SWITCHES + LEVER_SIZES + WORKFORCE
    values = solara.use_reactive({c.path: get(data, c.path) for c in controls})
    solara.use_effect(lambda: values.set({c.path: get(data, c.path) for c in controls}), [choice.value])
    years = solara.use_reactive(1)
    reps = solara.use_reactive(3)
    runs = solara.use_reactive(0)
    progress = solara.use_reactive(0.0)
    def settle() -> tuple[Scenario | None, str | None]:
        try:
            return build(data, values.value), None
        except ValueError as exc:  # a ScenarioError: settings the schema refuses
            return None, str(exc)

    scenario, error = solara.use_memo(settle, dependencies=[choice.value, values.value])

    def work():
        if runs.value == 0 or scenario is None:
            return None
        base = from_dict(data)
        total = 2 * reps.value * (base.simulation.burn_in_years + years.value) * 364
        done = [0]

        def tick(days: int) -> None:  # whole percents only: every update re-renders the progress bar
            before = int(100 * done[0] / total)
            done[0] += days
            if int(100 * done[0] / total) != before:
                progress.set(float(int(100 * done[0] / total)))

        progress.set(0.0)
        return compare(base, [scenario], years=years.value, reps=reps.value, progress=tick)

    result = use_task(work, dependencies=[runs.value])

    solara.Title("pcnsim: what if?")
    with solara.Sidebar():
        Heading("Scenario")
        solara.Select("Scenario file", values=list(files), value=choice)
        solara.SliderInt("Reported years", value=years, min=1, max=3)
        solara.SliderInt("Paired replicates", value=reps, min=2, max=10)
        Heading("Levers")
        for c in LEVER_SWITCHES:
            ControlWidget(c, values)
        for c in LEVER_SIZES:
            ControlWidget(c, values)
        Heading("Workforce")
        for c in WORKFORCE:
            ControlWidget(c, values)
        solara.Button("Run and compare", color="primary", on_click=lambda: runs.set(runs.value + 1),
                      disabled=result.pending or scenario is None, classes=["pcnsim-run"])
        if scenario is not None:
            solara.FileDownload(lambda: scenario_yaml(scenario), filename=f"{scenario.name}.yaml",
                                label="Download scenario YAML")
    with solara.Column():
        Heading(f"{files[choice.value].name}: {data.get('description') or 'scenario'}", level=2)
        if error:
            solara.Error(error)
        if result.pending:
            Progress(progress)
        elif runs.value == 0:
            solara.Info("Move the levers, then press Run and compare. Both sides run on the same seeds "
                        "(common random numbers), so differences are paired.")
        if result.error:
            solara.Error(f"The run failed: {result.exception}")
        comparison = result.value if result.finished and not result.pending else None
        if comparison is not None:
            Results(comparison)


@solara.component
def Progress(progress: solara.Reactive) -> None:
    """Only this small component reads the progress, so only it re-renders as the run advances."""
    solara.ProgressLinear(value=progress.value)
    solara.Text(f"Simulating base and levers: {progress.value:.0f}%")


@solara.component
def Results(comparison) -> None:
    table = headline_table(comparison)
    by_metric = table.set_index("metric")
    with solara.Row(style={"flex-wrap": "wrap"}):
        for metric, label in HEADLINES.items():
            if metric in by_metric.index:
                Number(label, by_metric.loc[metric])
    buffer = io.StringIO()
    comparison.table.to_csv(buffer, index=False)
    solara.FileDownload(buffer.getvalue(), filename="comparison.csv", label="Download results CSV")
    lever = list(comparison.results)[1]
    res = comparison.results[lever]
    with Tabs():
        with Tab("Comparison"):
            solara.FigureMatplotlib(plots.comparison(comparison.table, KEY_METRICS), format="png")
            solara.DataFrame(table)
        with Tab("Touchpoints over time"):
            solara.FigureMatplotlib(series_figure(weekly_series(comparison, ("gp", "nurse", "pharmacist", "splw",
                                                                             "mdt")), "Primary care by setting"),
                                    format="png")
            solara.FigureMatplotlib(series_figure(weekly_series(comparison, ("ae", "admission")),
                                                  "A&E attendances and emergency admissions"), format="png")
        with Tab("Frequent attenders"):
            if res.patients["year"].nunique() >= 2:
                solara.FigureMatplotlib(plots.churn_flow(res.patients), format="png")
            else:
                solara.Info("The frequent-attender flow needs at least 2 reported years.")
        with Tab("Who never comes"):
            solara.FigureMatplotlib(plots.zero_contact_by_age(res.patients), format="png")
        with Tab("Workforce"):
            solara.FigureMatplotlib(utilisation_figure(res), format="png")
            solara.DataFrame(res.workforce().round(3), items_per_page=20)
        with Tab("Patient timeline"):
            DeepDive(comparison)


@solara.component
def DeepDive(comparison) -> None:
    """The top frequent attender's touchpoints, base and levers side by side (one replicate, ledger kept)."""
    from .deepdive import deep_dive

    asked = solara.use_reactive(0)
    names = list(comparison.results)
    base, lever = (comparison.results[n].scenario for n in names)

    def work():
        return deep_dive(lever, base, patients="top-fa:1") if asked.value else None

    dive = use_task(work, dependencies=[asked.value])
    solara.Button("Show the top frequent attender's timeline", on_click=lambda: asked.set(asked.value + 1),
                  disabled=dive.pending)
    if dive.pending:
        solara.ProgressLinear(True)
    elif dive.finished and dive.value is not None:
        pid = dive.value.patient_ids[0]
        Heading(f"Patient {pid}", level=4)
        solara.DataFrame(dive.value.side_by_side(pid), items_per_page=30)
