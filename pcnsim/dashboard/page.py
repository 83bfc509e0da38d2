"""The page: the settings in the sidebar (run button first), the results of the last run beside them.

State lives in the page component (`use_reactive`), so each browser session has its own. A run is a
`RunRecord`: what is shown and downloaded names what ran, and any change to the settings after it marks the
results out of date. Runs go through `use_task` in a thread; every error is caught inside the task and shown
as one sentence, so the controls stay on the page.
"""

from __future__ import annotations

import ctypes
import gc
import threading

import solara
import solara.server.settings
from solara.lab import Tab, Tabs, use_task

from .. import registry
from ..vocab import NEED_LABELS
from . import figures
from .record import (
    GROUP_BY_LABELS,
    GROUP_MEASURE_LABELS,
    HEADLINES,
    RunRecord,
    group_table,
    own_terms,
    plain_error,
    prepare,
    readable,
    results_csv,
    run_record,
    verdict_sentence,
)
from .settings import (
    DEFAULT_REPS,
    DEFAULT_YEARS,
    DELIVERY,
    LEVERS,
    WORKFORCE,
    Control,
    cautions,
    changed_controls,
    control_values,
    default_file,
    from_query,
    scenario_data,
    scenario_files,
    scenario_yaml,
    settings,
    to_query,
)


def give_memory_back() -> None:
    """Collect what a closed session left (its results form reference cycles with the page's widgets) and hand
    the freed heap back to the system, so a long-running server does not grow session by session."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the memory is reused, just not returned
        pass


def on_session_start():
    """Solara calls this as a session (virtual kernel) starts and the function it returns as it closes; the
    collection waits a moment, until Solara has closed the session's widgets and dropped its state."""
    return lambda: threading.Timer(2.0, give_memory_back).start()


solara.lab.on_kernel_start(on_session_start)
# Solara's corner banner would sit over the charts' axis labels and the tables' pagers. A session whose browser
# went away without closing its tab keeps its results until its kernel is culled: after 5 minutes, not a day.
solara.server.settings.theme.show_banner = False
solara.server.settings.kernel.cull_timeout = "5m"

STYLE = """
.pcnsim-runbar { position: sticky; top: 0; z-index: 5; background: white; padding: 6px 0 8px 0;
                 border-bottom: 1px solid #ddd; }
.pcnsim-main { padding-bottom: 96px; }
.pcnsim-stale-results { opacity: 0.55; }
.pcnsim-better { color: #1b7a1b; } .pcnsim-worse { color: #c62828; } .pcnsim-none { color: #555; }
.pcnsim-lever-sizes { margin-left: 28px; margin-top: -12px; }
.pcnsim-main .v-tab { padding: 0 10px; min-width: 0; letter-spacing: 0; }
"""


@solara.component
def Heading(text: str, level: int = 3, classes: list[str] | None = None) -> None:
    """A heading as plain HTML (solara.Markdown would load KaTeX for maths, which we do not need)."""
    solara.HTML(tag=f"h{level}", unsafe_innerHTML=text.replace("&", "&amp;").replace("<", "&lt;"),
                classes=classes or [])


@solara.component
def ControlWidget(control: Control, values: solara.Reactive) -> None:
    """A switch, or a slider whose label shows its value and unit."""
    current = values.value[control.path]

    def set_value(v) -> None:
        values.value = {**values.value, control.path: v}

    if control.kind == "switch":
        solara.Switch(label=control.label, value=bool(current), on_value=set_value)
    elif control.kind == "int":
        solara.SliderInt(f"{control.label}: {control.shown(current)}", value=int(current), min=int(control.low),
                         max=int(control.high), step=int(control.step), on_value=set_value)
    else:
        solara.SliderFloat(f"{control.label}: {control.shown(current)}", value=float(current), min=control.low,
                           max=control.high, step=control.step, on_value=set_value)


@solara.component
def Page() -> None:
    files = scenario_files()
    start = default_file(files)
    router = solara.use_router()
    asked = solara.use_memo(lambda: from_query(router.search, files), dependencies=[])  # a shared link's settings
    base_file = solara.use_reactive(asked.get("base", start))
    variant_file = solara.use_reactive(asked.get("start", start))
    data = solara.use_memo(lambda: scenario_data(files[variant_file.value]), dependencies=[variant_file.value])
    values = solara.use_reactive({**control_values(data), **asked["values"]})

    def start_from(name: str) -> None:  # a new starting file: its own settings fill the controls
        values.set(control_values(scenario_data(files[name])))
        variant_file.set(name)
    years = solara.use_reactive(asked.get("years", DEFAULT_YEARS))
    reps = solara.use_reactive(asked.get("reps", DEFAULT_REPS))
    request = solara.use_reactive(None)  # (settings, press number) of the last press of Run
    shown = solara.use_reactive(None)  # the RunRecord on screen
    failure = solara.use_reactive(None)  # one sentence when the last press made no results
    progress = solara.use_reactive(0.0)
    # A closed session gives its results back: the effect's cleanup runs when the page is torn down.
    solara.use_effect(lambda: (lambda: shown.set(None)), [])

    current = settings(base_file.value, variant_file.value, values.value, years.value, reps.value)
    query = to_query(current, data)
    plain = to_query(settings(start, start, control_values(scenario_data(files[start])), DEFAULT_YEARS, DEFAULT_REPS),
                     scenario_data(files[start]))
    if query == plain:  # the page as it opens needs no query
        query = ""

    def show_in_address_bar() -> None:  # the address always reopens the page as set
        if (router.search or "") != query:
            router.push(f"{router.path}?{query}" if query else router.path)

    solara.use_effect(show_in_address_bar, [query])

    def check():
        try:
            prepare(current, files)
            return None
        except Exception as exc:
            return plain_error(exc)

    invalid = solara.use_memo(check, dependencies=[current])

    def work() -> None:
        if request.value is None:
            return
        wanted, _ = request.value
        done, total = [0.0], [1.0]

        def tick(days: float) -> None:  # whole percents only: every update re-renders the progress bar
            before = int(100 * done[0] / total[0])
            done[0] += days
            if int(100 * done[0] / total[0]) != before:
                progress.set(float(min(99, int(100 * done[0] / total[0]))))

        progress.set(0.0)
        try:
            sides = prepare(wanted, files)[:2]  # days to simulate: burn-in and reported years, both sides
            total[0] = wanted.reps * sum((sc.simulation.burn_in_years + wanted.years) * 364 for sc in sides)
            record = run_record(wanted, files, progress=tick)
        except Exception as exc:  # shown as a sentence on the page, never as a traceback
            failure.set(plain_error(exc))
            return
        shown.set(record)
        failure.set(None)

    task = use_task(work, dependencies=[request.value], raise_error=False)

    def press() -> None:
        failure.set(None)
        request.set((current, (request.value or (None, 0))[1] + 1))

    def reset() -> None:
        base_file.set(start)
        variant_file.set(start)
        values.set(control_values(scenario_data(files[start])))
        years.set(DEFAULT_YEARS)
        reps.set(DEFAULT_REPS)

    record: RunRecord | None = shown.value
    stale = record is not None and record.settings != current

    solara.Title("pcnsim: what if?")
    solara.Style(STYLE)
    with solara.Sidebar():
        with solara.Column(classes=["pcnsim-runbar"]):
            with solara.Row():
                solara.Button("Run and compare", color="primary", on_click=press,
                              disabled=task.pending or invalid is not None, classes=["pcnsim-run"])
                solara.Button("Reset", on_click=reset, text=True, disabled=task.pending, classes=["pcnsim-reset"])
            if task.pending:
                Progress(progress)
            elif failure.value:  # beside the button too, wherever the results are scrolled to
                solara.Text(failure.value, style={"color": "#c62828", "font-size": "13px"})
            elif stale:
                solara.Text("Results out of date: press Run and compare", style={"color": "#b26a00"},
                            classes=["pcnsim-stale"])
        Heading("Compare", level=4)
        solara.Select("Compare against (base)", values=list(files), value=base_file)
        solara.Select("Changed side starts from", values=list(files), value=variant_file.value, on_value=start_from)
        solara.Text("The changed side is that file with the levers and workforce set below.",
                    style={"font-size": "12px"})
        solara.SliderInt(f"Reported years: {years.value}", value=years, min=1, max=3)
        solara.SliderInt(f"Paired replicates: {reps.value}", value=reps, min=2, max=10)
        Heading("Levers", level=4)
        for lever in LEVERS:
            ControlWidget(lever.switch, values)
            if values.value[lever.switch.path] and lever.sizes:
                with solara.Column(classes=["pcnsim-lever-sizes"]):
                    for c in lever.sizes:
                        ControlWidget(c, values)
        for c in DELIVERY:
            ControlWidget(c, values)
        Heading("Workforce", level=4)
        for c in WORKFORCE:
            ControlWidget(c, values)
        if invalid is None:
            edited = "_edited" if changed_controls(data, values.value) else ""
            solara.FileDownload(lambda: current_yaml(current, files),
                                filename=f"{current.variant_file.removesuffix('.yaml')}{edited}.yaml",
                                label="Download these settings (YAML)")
    with solara.Column(classes=["pcnsim-main"]):
        Heading(f"What if: {variant_file.value} against {base_file.value}", level=2)
        solara.Text(f"Starting file: {data.get('description') or variant_file.value}")
        if invalid:
            solara.Error(invalid, classes=["pcnsim-message"])
        for sentence in cautions(values.value):
            solara.Warning(f"Caution: {sentence} The model is less certain this far from usual practice.")
        if failure.value:
            solara.Error(failure.value, classes=["pcnsim-message"])
        elif task.error:
            solara.Error(plain_error(task.exception), classes=["pcnsim-message"])
        if base_file.value == variant_file.value and not changed_controls(data, values.value):
            solara.Info("Both sides are the same settings, so every difference would be zero: switch a lever on, "
                        "move a setting or start the changed side from another file.")
        if record is None and not task.pending:
            solara.Info("Choose what to compare, move the levers, then press Run and compare. Both sides run on "
                        "the same random numbers (paired replicates), so the differences come from the settings.")
        if record is not None:
            if stale:
                solara.Warning("Out of date: the settings have changed since these results were made. They still "
                               "show the run described below; press Run and compare to update them.",
                               classes=["pcnsim-stale"])
            Results(record, stale)


def current_yaml(current, files) -> str:
    _, variant, _ = prepare(current, files)
    return scenario_yaml(variant, current.base_file, current.reps)


@solara.component
def Progress(progress: solara.Reactive) -> None:
    """Only this small component reads the progress, so only it re-renders as the run advances."""
    solara.ProgressLinear(value=progress.value)
    solara.Text(f"Simulating base and change: {progress.value:.0f}%")


@solara.component
def Card(record: RunRecord, row) -> None:
    """One headline measure: the value with the change, the change with its interval, a verdict, own terms."""
    m = registry.get(row["metric"])
    verdict = m.verdict(row["low_95"], row["high_95"])
    tone = {"better": "pcnsim-better", "worse": "pcnsim-worse"}.get(verdict, "pcnsim-none")
    with solara.Card(m.label, style={"width": "290px"}, classes=["pcnsim-card"]):
        solara.HTML(tag="div", unsafe_innerHTML=m.format(row["value"]), classes=["pcnsim-value"],
                    style={"font-size": "26px"})
        solara.Text(f"{m.unit}, with the change; base {m.format(row['base'])}", style={"font-size": "12px"})
        solara.HTML(tag="div", unsafe_innerHTML=f"{m.format_change(row['diff'])} "
                    f"({registry.format_percent(registry.percent_change(row['diff'], row['base']))}): {verdict}",
                    classes=[tone, "pcnsim-change"], style={"font-weight": "bold"})
        solara.Text(verdict_sentence(row["metric"], row["base"], row["diff"], row["low_95"], row["high_95"]),
                    style={"font-size": "12px", "display": "block"})
        terms = own_terms(row["metric"], row["diff"], record.patients)
        if terms:
            solara.Text(terms, style={"font-size": "12px", "display": "block"})


@solara.component
def Results(record: RunRecord, stale: bool) -> None:
    s = record.settings
    Heading(f"Results: {record.variant_label} compared with {record.base_label}", level=3,
            classes=["pcnsim-results-title"])
    solara.Text(f"{s.years} reported year{'s' if s.years > 1 else ''} after a warm-up year, {s.reps} paired "
                f"replicates, seed {record.seed}, {record.patients:,} patients.", classes=["pcnsim-run-facts"])
    if record.variant.n_patients != record.base.n_patients:
        solara.Warning("The two sides have different patient lists, so the differences are not like for like.")
    table = record.comparison.table
    rows = table[table["scenario"] == record.names[1]].set_index("metric")
    with solara.Column(classes=["pcnsim-stale-results"] if stale else []):
        with solara.Row(style={"flex-wrap": "wrap"}):
            for metric in HEADLINES:
                if metric in rows.index:
                    Card(record, rows.loc[metric].to_dict() | {"metric": metric})
        solara.Text("Each difference is paired: both sides ran on the same random numbers, replicate by replicate. "
                    "The 95% interval is the range the true difference is likely in; when it includes no "
                    "difference the result is 'no clear change'. More replicates narrow it.",
                    style={"font-size": "12px"})
        with solara.Row():
            solara.FileDownload(lambda: results_csv(record), filename=f"{record.variant.name}-vs-"
                                f"{record.base.name}.csv", label="Download results (CSV)")
            solara.FileDownload(lambda: scenario_yaml(record.variant, record.base_label, s.reps),
                                filename=f"{record.variant.name}.yaml", label="Download the scenario that ran (YAML)")
        ResultTabs(record)


@solara.component
def ResultTabs(record: RunRecord) -> None:
    """The charts, drawn once per run (memoised on the record) and only when their tab is opened."""
    with Tabs(lazy=True):
        with Tab("Changes"):
            Chart(record, "headline")
            solara.DataFrame(readable(record), items_per_page=12)
        with Tab("Over time"):
            Chart(record, "care")
            Chart(record, "hospital")
        with Tab("By group"):
            Breakdown(record)
        with Tab("Frequent attenders"):
            FrequentAttenders(record)
        with Tab("Who never comes"):
            Chart(record, "never")
        with Tab("Workforce"):
            Chart(record, "workforce")
        with Tab("One patient"):
            DeepDive(record)


CHARTS = {
    "headline": lambda r: figures.headline_changes(r, (*HEADLINES, "unserved_requests_per_1000", "revisit_rate",
                                                       "primary_care_contacts_per_person")),
    "care": lambda r: figures.over_time(r, ("gp", "nurse", "pharmacist", "splw", "mdt"),
                                        "Primary-care contacts by role, per 1,000 patients a year"),
    "hospital": lambda r: figures.over_time(r, ("ae", "admission"),
                                            "A&E attendances and emergency admissions, per 1,000 patients a year"),
    "never": figures.never_come,
    "workforce": figures.utilisation,
}


@solara.component
def Chart(record: RunRecord, kind: str) -> None:
    """One chart of a run, drawn once (memoised on the record)."""
    data = solara.use_memo(lambda: figures.png(CHARTS[kind](record)), dependencies=[record, kind])
    solara.Image(data)


@solara.component
def Breakdown(record: RunRecord) -> None:
    """Rates by practice, PCN, age, sex, deprivation or complex needs, base beside the change."""
    by = solara.use_reactive("practice")
    measure = solara.use_reactive("gp")
    labels = {v: k for k, v in GROUP_BY_LABELS.items()}
    measures = {v: k for k, v in GROUP_MEASURE_LABELS.items()}
    with solara.Row():
        solara.Select("Break down by", values=list(labels), value=GROUP_BY_LABELS[by.value],
                      on_value=lambda v: by.set(labels[v]))
        solara.Select("Measure", values=list(measures), value=GROUP_MEASURE_LABELS[measure.value],
                      on_value=lambda v: measure.set(measures[v]))
    table = solara.use_memo(lambda: group_table(record, by.value, measure.value),
                            dependencies=[record, by.value, measure.value])
    data = solara.use_memo(lambda: figures.png(figures.by_group(table, GROUP_MEASURE_LABELS[measure.value],
                                                                GROUP_BY_LABELS[by.value])),
                           dependencies=[record, by.value, measure.value])
    solara.Image(data)
    shown = table.assign(**{c: table[c].map(lambda v: f"{v:,.1f}") for c in ("Base", "With the change")},
                         Difference=table["Difference"].map(lambda v: f"{v:+,.1f}"),
                         **{"95% interval": [f"{lo:+,.1f} to {hi:+,.1f}" for lo, hi in zip(table["low"], table["high"],
                                                                                          strict=True)]},
                         **{"% change": table["% change"].map(registry.format_percent)}).drop(columns=["low", "high"])
    solara.DataFrame(shown, items_per_page=20)


@solara.component
def FrequentAttenders(record: RunRecord) -> None:
    """Frequent-attender churn year to year, base and change side by side."""
    from .. import plots

    base_name, variant_name = record.names

    def flows():
        return [figures.png(plots.churn_flow(record.comparison.results[n].patients)) for n in (base_name, variant_name)]

    images = solara.use_memo(flows, dependencies=[record])
    if record.settings.years < 2:
        solara.Info("Frequent-attender churn compares one year with the next: choose 2 or more reported years.")
    with solara.Row(style={"flex-wrap": "wrap"}):
        for who, data in zip(("Base", "With the change"), images, strict=True):
            with solara.Column(style={"width": "48%", "min-width": "420px"}):
                Heading(who, level=4)
                solara.Image(data, width="100%")


@solara.component
def DeepDive(record: RunRecord) -> None:
    """The top frequent attender's touchpoints, base and change side by side (one replicate, ledger kept)."""
    from ..experiments.deepdive import deep_dive

    asked = solara.use_reactive(0)
    problem = solara.use_reactive(None)

    def work():
        if not asked.value:
            return None
        try:
            return deep_dive(record.variant, record.base, who="top-fa:1")
        except Exception as exc:  # a sentence on the page, never a traceback
            problem.set(plain_error(exc))
            return None

    dive = use_task(work, dependencies=[asked.value, record], raise_error=False)
    solara.Button("Show the top frequent attender's timeline", on_click=lambda: asked.set(asked.value + 1),
                  disabled=dive.pending)
    if problem.value:
        solara.Error(problem.value)
    if dive.pending:
        solara.ProgressLinear(True)
    elif dive.finished and dive.value is not None:
        pid = dive.value.patient_ids[0]
        Heading(f"Patient {pid}: the day of each touchpoint, base and with the change", level=4)
        solara.DataFrame(plain_timeline(dive.value.side_by_side(pid), record.variant.name), items_per_page=30)


def plain_timeline(table, variant_name: str):
    """The deep dive's table in words: needs and outcomes by their plain names, columns named for people."""
    import re

    words = {**NEED_LABELS, "dna": "did not attend", "revisit": "revisit", "resolved": "resolved"}
    pattern = re.compile(r"\b(" + "|".join(sorted(words, key=len, reverse=True)) + r")\b")
    out = table.rename(columns={"day": "Day", "base": "Base", variant_name: "With the change"})
    for column in ("Base", "With the change"):
        if column in out:
            out[column] = out[column].map(lambda text: pattern.sub(lambda m: words[m.group(1)], str(text)))
    return out
