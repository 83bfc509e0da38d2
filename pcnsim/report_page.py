"""What every self-contained HTML report shares: the Jinja2 templates (`templates/page.html.j2` holds the one
stylesheet, with its print layout, and `templates/tables.html.j2` the one way a table is drawn), figures
embedded as data, the one formatter of table cells, the fit to the evidence as a table, and where the
results came from (their manifest's provenance) in words.

One page per results folder, with nothing outside it: a report can be emailed or printed as it is.
"""

from __future__ import annotations

import base64
import io
import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from . import outdir, plots, provenance, registry, targets

TEMPLATES = jinja2.Environment(loader=jinja2.PackageLoader("pcnsim", "templates"), autoescape=True,
                               undefined=jinja2.StrictUndefined)


@dataclass(frozen=True)
class Cell:
    """One cell of a report table, written for people; `style` is its CSS class ('text' for words, which
    sit left; 'better', 'worse', 'in', 'out' colour a verdict)."""

    text: str
    style: str = ""


@dataclass(frozen=True)
class Table:
    headers: list[Cell]
    rows: list[list[Cell]]


def cell(value, metric: str | registry.Metric | None = None, style: str = "") -> Cell:
    """The one formatter of report tables: words as they are (left-aligned); a metric's value as the metric
    registry writes it (its decimals, shares as percentages); any other number, a setting or a count, to four
    significant figures with thousands separators (0.8, 1, 40,159)."""
    if isinstance(value, str):
        return Cell(value, style or "text")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Cell("n/a", style)
    if isinstance(value, (bool, np.bool_)):
        return Cell("yes" if value else "no", style or "text")
    if isinstance(metric, str) and metric in registry.METRICS:
        metric = registry.get(metric)
    if isinstance(metric, registry.Metric):
        return Cell(metric.format(float(value)), style)
    x = float(value)
    return Cell(f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}", style)


def text(value) -> str:
    """A setting's value as text, as YAML and JSON write it (true, [1, 2]); strings as they are."""
    return value if isinstance(value, str) else json.dumps(value)


def interval(mean: float, low: float, high: float, metric: str | registry.Metric | None = None) -> Cell:
    """A mean with its 95% interval, 'mean (low to high)', each number by `cell`."""
    if low == high == mean:
        return cell(mean, metric)
    return Cell(f"{cell(mean, metric).text} ({cell(low, metric).text} to {cell(high, metric).text})")


def table(headers: list[str], rows: list[list[Cell]]) -> Table:
    """A table whose header cells sit as their column does (left over words)."""
    first = rows[0] if rows else []
    styles = [first[i].style if i < len(first) and first[i].style == "text" else "" for i in range(len(headers))]
    return Table([Cell(h, s) for h, s in zip(headers, styles, strict=True)], rows)


def figure(fig) -> str:
    """A matplotlib figure as a PNG data URI (embedded in the page, so the page needs no other file)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plots.plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def fit_table(fit: pd.DataFrame) -> Table:
    """The fit to the evidence (`pcnsim.targets.fit_table`): each target check's range, the model's mean
    and the 95% range of its replicates, and whether the mean is in range."""
    rows = [[cell(r.target), cell(r.source), cell(targets.measure_label(r.measure)),
             Cell(f"{cell(r.low).text} to {cell(r.high).text}"),
             interval(r.model, r.model_low_95, r.model_high_95),
             Cell("in range", "in") if r.in_range else Cell("out of range", "out")] for r in fit.itertuples()]
    return table(["target", "source", "measure", "range", "model (95% range of replicates)", "fit"], rows)


def origin(folder: Path) -> list[str]:
    """Where a results folder came from, in sentences, from its manifest's provenance (none without one)."""
    made = (outdir.read_manifest(folder) or {}).get("provenance")
    if not isinstance(made, dict):
        return []
    git = made.get("git")
    checkout = "" if not git else f" at commit {git['commit'][:12]}" + (
        " with changes not yet committed" if git.get("dirty") else "")
    lines = [f"Made by pcnsim {made.get('pcnsim', '?')}{checkout}, Python {made.get('python', '?')} on "
             f"{made.get('platform', '?')}; every library's version is in manifest.json."]
    started = made.get("started")
    when = f", started {datetime.fromisoformat(started):%d %B %Y %H:%M} UTC" if started else ""
    where = f" in {made['working_directory']}" if made.get("working_directory") else ""
    took = f", took {made['wall_seconds']:,.0f} s" if isinstance(made.get("wall_seconds"), (int, float)) else ""
    lines.append(f"Command: {made.get('command', '?')}{where}{when}{took}.")
    seeds = made.get("seeds") or {}
    if "root" in seeds:
        spawned = len(seeds.get("replicates", []))
        lines.append(f"Root seed {seeds['root']}" + (f", {spawned} replicate seed(s) spawned from it" if spawned
                                                     else "") + " (all in manifest.json).")
    files = [*made.get("scenarios", []), *([made["experiment"]] if made.get("experiment") else [])]
    if files:
        lines.append(f"The scenarios as they ran{' and the experiment file' if made.get('experiment') else ''}: "
                     f"{', '.join(files)}, in the results folder; manifest.json lists every file with its "
                     "SHA-256 checksum.")
    return lines


def render(template: str, folder: Path, **values) -> str:
    """A report page from its template, with the folder's provenance and when and by what it was made."""
    return TEMPLATES.get_template(template).render(origin=origin(folder), made=date.today().isoformat(),
                                                   version=provenance.pcnsim_version(), **values)
