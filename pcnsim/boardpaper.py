"""The report of a comparison, written for a board paper: what was compared and why, what each change does
(absolute and % change, the interval, better or worse), in the PCN's own units a week and a year, what it
costs, who it changes, how well the base fits the evidence, and the caveats that apply.

One self-contained HTML file (figures embedded as data, a print stylesheet), made from a folder that
`pcnsim compare` wrote (`Comparison.save`), with a Jinja2 template (`templates/comparison.html.j2`, on the
pages every report shares: `pcnsim.report_page`). Every metric is named and formatted by the metric registry.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml

from . import plots, registry, report_page
from .metrics import AGE_BAND_LABELS
from .registry import GROUP_COLUMNS, KEY_METRICS, SEGMENT_WORDS

GROUP_TITLES = {"age_band": "age band", "sex": "sex", "deprivation": "deprivation quintile (1 = most deprived)",
                "practice": "practice", "pcn": "primary care network", "segment": "needs segment",
                "complex_needs": "complex needs (complexity 2-3)",
                "cohort": "the lever's own cohort (the same people in the base run)"}
GROUP_MEASURES = {"primary_care_contacts": "Primary-care contacts", "gp": "GP contacts", "ae": "A&E attendances",
                  "admission": "Emergency admissions", "unmet_days": "Days with an unmet need",
                  "revisits": "Revisits"}
assert set(GROUP_MEASURES) == set(GROUP_COLUMNS)
# Effects read a week and a year for the whole list (rates per 1,000 person-years as events).
OWN_TERMS = ("gp_per_1000", "ae_per_1000", "admissions_per_1000")
CAVEATS = (
    "Intervals show the run-to-run (Monte Carlo) spread of the model with its parameters fixed; they do not "
    "include uncertainty in the parameters themselves, most of which are starting values or fits to national "
    "figures.",
    "Needs segments are fixed for life, there is no seasonality, continuity of care counts GPs only, and "
    "long-term-condition reviews wait for the patient to ask (see the model's documentation, 'What the model "
    "does not do').",
    "Costs are care contacts at national unit costs plus the employment cost of staff in post; overheads, "
    "estates and set-up costs are not included.",
)


def _flat(data, prefix: str = "") -> dict[str, object]:
    """A scenario's settings by dotted path (mappings opened, lists kept whole)."""
    if not isinstance(data, dict):
        return {prefix: data}
    out = {}
    for key, value in data.items():
        out.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _differing_settings(base: dict, other: dict) -> list[tuple[str, str, str]]:
    """(setting, base value, changed value) for every leaf setting that differs, names and descriptions apart."""
    a, b = _flat(base), _flat(other)
    rows = []
    for path in sorted(set(a) | set(b)):
        if path in ("name", "description"):
            continue
        if a.get(path) != b.get(path):
            rows.append((path, report_page.text(a.get(path, "(not set)")), report_page.text(b.get(path, "(not set)"))))
    return rows


def _headline(rows: pd.DataFrame) -> list[dict]:
    out = []
    for row in rows.itertuples():
        metric = registry.get(row.metric)
        change = metric.change(row.base, row.diff, row.low_95, row.high_95)
        out.append({"label": metric.label, "unit": metric.unit, "how": metric.how, **vars(change)})
    return out


def _own_terms(rows: pd.DataFrame, patients: int) -> list[str]:
    """Sentences in the PCN's own units: events a week and a year for its list, where the change is clear."""
    sentences = []
    by_metric = rows.set_index("metric")
    for key in OWN_TERMS:
        if key not in by_metric.index:
            continue
        noun = registry.get(key).events
        row = by_metric.loc[key]
        if registry.get(key).verdict(row.low_95, row.high_95) == "no clear change":
            sentences.append(f"No clear change in {noun} (the interval includes no change).")
            continue
        a_week = registry.per_week(row["diff"], patients)
        word = "fewer" if a_week < 0 else "more"
        sentences.append(f"About {abs(a_week):,.1f} {word} {noun} a week, {abs(a_week) * 52:,.0f} a year, for the "
                         f"PCN's {patients:,} patients (95% CI {registry.per_week(row.low_95, patients) * 52:+,.0f} "
                         f"to {registry.per_week(row.high_95, patients) * 52:+,.0f} a year).")
    return sentences


def _money(rows: pd.DataFrame, patients: int) -> list[str]:
    """The net cost difference a year for the PCN, and the cost per A&E attendance avoided where that is clear."""
    by_metric = rows.set_index("metric")
    if "net_cost_per_person" not in by_metric.index:
        return []
    net = by_metric.loc["net_cost_per_person"]
    lines = [f"Net cost (staff in post plus care contacts): {net['diff'] * patients:+,.0f} GBP a year for the "
             f"PCN (95% CI {net['low_95'] * patients:+,.0f} to {net['high_95'] * patients:+,.0f}), "
             f"{registry.get('net_cost_per_person').format_change(net['diff'])} GBP per person-year."]
    if "staff_cost_per_person" in by_metric.index:
        staff = by_metric.loc["staff_cost_per_person"]
        lines.append(f"Of which staff in post: {staff['diff'] * patients:+,.0f} GBP a year.")
    if "ae_per_1000" in by_metric.index:
        ae = by_metric.loc["ae_per_1000"]
        if ae["high_95"] < 0 and net["diff"] > 0:
            avoided = -ae["diff"] / 1000 * patients
            lines.append(f"Net cost per A&E attendance avoided: about {net['diff'] * patients / avoided:,.0f} GBP "
                         f"({avoided:,.0f} attendances avoided a year).")
    return lines


def _groups(groups: pd.DataFrame, scenario: str) -> list[dict]:
    out = []
    mine = groups[groups["scenario"] == scenario]
    for by, title in GROUP_TITLES.items():
        part = mine[mine["by"] == by]
        if part.empty or (by != "cohort" and part["group"].nunique() < 2):  # one PCN, say: nothing to compare
            continue
        rows = []
        order = list(AGE_BAND_LABELS) if by == "age_band" else sorted(set(part["group"]))
        for group, g in sorted(part.groupby("group", sort=False), key=lambda kv: order.index(kv[0])):
            cells = {}
            for measure in ("primary_care_contacts", "ae", "unmet_days"):
                r = g[g["measure"] == measure].iloc[0]
                percent = registry.format_percent(registry.percent_change(r["diff"], r["base"]))
                cells[measure] = (f"{r['diff']:+,.1f} ({percent})",
                                  "better" if r["high_95"] < 0 else "worse" if r["low_95"] > 0 else "")
            rows.append({"group": SEGMENT_WORDS.get(group, group) if by == "segment" else group, "cells": cells})
        out.append({"title": title, "rows": rows})
    return out


def html(folder: str | Path) -> str:
    """The board-paper report of a comparison folder, as one self-contained HTML page."""
    folder = Path(folder)
    about = json.loads((folder / "comparison.json").read_text(encoding="utf-8"))
    table = pd.read_parquet(folder / "comparison.parquet")
    groups = pd.read_parquet(folder / "by_group.parquet")
    fit = pd.read_parquet(folder / "fit.parquet") if (folder / "fit.parquet").is_file() else None
    scenarios = {name: yaml.safe_load((folder / info["file"]).read_text(encoding="utf-8"))
                 for name, info in about["scenarios"].items()}
    base, patients = about["base"], int(about["patients"])
    changes = []
    for name in [n for n in about["scenarios"] if n != base]:
        rows = table[(table["scenario"] == name) & table["metric"].isin(KEY_METRICS)]
        rows = rows.set_index("metric").reindex([m for m in KEY_METRICS if m in set(rows["metric"])]).reset_index()
        changes.append({
            "name": name, "description": about["scenarios"][name]["description"],
            "settings": _differing_settings(scenarios[base], scenarios[name]),
            "headline": _headline(rows), "own_terms": _own_terms(rows, patients),
            "money": _money(table[table["scenario"] == name], patients), "groups": _groups(groups, name),
        })
    figure = report_page.figure(plots.comparison(table, KEY_METRICS, title=f"What each change does against {base}"))
    return report_page.render(
        "comparison.html.j2", folder, base=base, base_description=about["scenarios"][base]["description"],
        changes=changes, figure=figure, about=about, patients=patients, group_measures=GROUP_MEASURES,
        fit=None if fit is None else report_page.fit_table(fit), caveats=CAVEATS)


def write(folder: str | Path, target: Path) -> Path:
    """Write the report of a comparison folder as `target`/index.html; returns its path."""
    target.mkdir(parents=True, exist_ok=True)
    page = target / "index.html"
    page.write_text(html(folder), encoding="utf-8")
    return page
