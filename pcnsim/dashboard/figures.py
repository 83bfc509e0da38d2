"""The dashboard's charts: titled, axes labelled in words, legends outside the data, base beside the change.

Figures are made with `matplotlib.figure.Figure` (not pyplot, whose registry would keep every session's
figures alive) and handed to the page as PNG bytes.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib import dates as mdates
from matplotlib.figure import Figure

from .. import dates, metrics, registry
from ..results import WEEKLY_METRICS, Results
from ..vocab import DAYS_PER_YEAR, ROLE_LABELS, ROLES
from .record import RunRecord

BASE_COLOUR, CHANGE_COLOUR = "#7f7f7f", "#1f77b4"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")


def png(fig) -> bytes:
    """The figure as PNG bytes; closes it if pyplot made it, so no session keeps figures alive."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    try:
        import matplotlib.pyplot as plt

        plt.close(fig)
    except Exception:  # a Figure pyplot never knew about
        pass
    return buffer.getvalue()


def headline_changes(record: RunRecord, keys: tuple[str, ...]) -> Figure:
    """Each headline measure's paired change as % of base, with its 95% interval; green better, red worse."""
    t = record.comparison.table
    t = t[(t["scenario"] == record.names[1])].set_index("metric")
    keys = [k for k in keys if k in t.index]
    fig = Figure(figsize=(8.5, 0.5 * len(keys) + 1.6))
    ax = fig.subplots()
    for i, k in enumerate(keys):
        r, m = t.loc[k], registry.get(k)
        base = r["base"] or np.nan
        mid, lo, hi = (100 * r[c] / base for c in ("diff", "low_95", "high_95"))
        colour = {"better": "#2ca02c", "worse": "#d62728"}.get(m.verdict(r["low_95"], r["high_95"]), BASE_COLOUR)
        ax.errorbar(mid, i, xerr=[[mid - lo], [hi - mid]], fmt="o", color=colour, capsize=4)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(keys)), [registry.label(k) for k in keys])
    ax.invert_yaxis()
    ax.set_xlabel("change with the settings, % of the base (dot: mean; bar: 95% interval)")
    ax.set_title(f"{record.variant_label} against {record.base_label}")
    ax.grid(axis="x", alpha=0.3)
    return fig


def weekly_rates(res: Results, setting: str) -> np.ndarray:
    """A setting's touchpoints per 1,000 per year, week by week (replicates averaged, practices summed)."""
    values = res.weekly[..., WEEKLY_METRICS.index(setting)].sum(axis=2).mean(axis=0)
    return values * 1000 * 52 / res.scenario.n_patients


def over_time(record: RunRecord, settings: tuple[str, ...], title: str) -> Figure:
    """Base (solid) and change (dashed) week by week, 4-week averages, one colour per setting."""
    fig = Figure(figsize=(9, 3.6))
    ax = fig.subplots()
    base_name, variant_name = record.names
    for colour, setting in zip(PALETTE, settings, strict=False):
        for name, style, who in ((base_name, "-", "base"), (variant_name, "--", "with change")):
            res = record.comparison.results[name]
            weekly = pd.Series(weekly_rates(res, setting)).rolling(4, min_periods=1).mean()
            starts = dates.week_starts(res.scenario.simulation, len(weekly))
            words = registry.SERIES_WORDS[setting]
            ax.plot(starts, weekly, style, color=colour, label=f"{words[0].upper()}{words[1:]} ({who})")
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    ax.set_xlabel("week starting")
    ax.set_ylabel("per 1,000 patients a year")
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return fig


def utilisation(record: RunRecord) -> Figure:
    """Share of offered slots used, by role, across the whole PCN: base beside the change."""
    fig = Figure(figsize=(9, 3.6))
    ax = fig.subplots()
    shares = {}
    for name, who in zip(record.names, ("base", "with change"), strict=True):
        res = record.comparison.results[name]
        offered = res.capacity_offered.sum(axis=(0, 1, 2))
        used = res.capacity_used.sum(axis=(0, 1, 2))
        shares[who] = {r: used[j] / offered[j] for j, r in enumerate(ROLES) if offered[j] > 0}
    roles = [r for r in ROLES if any(r in s for s in shares.values())]
    x = np.arange(len(roles))
    for k, (who, colour) in enumerate((("base", BASE_COLOUR), ("with change", CHANGE_COLOUR))):
        ax.bar(x + (k - 0.5) * 0.4, [shares[who].get(r, np.nan) for r in roles], 0.4, color=colour, label=who)
    ax.set_xticks(x, [ROLE_LABELS[r] for r in roles], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("share of offered slots used")
    ax.set_ylim(0, 1.05)
    ax.set_title("How busy each role is (all practices and network pools)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def never_come(record: RunRecord) -> Figure:
    """Share of people registered all year with no primary-care contact, by age band: base beside the change."""
    fig = Figure(figsize=(9, 3.6))
    ax = fig.subplots()
    bands = list(metrics.AGE_BAND_LABELS)
    x = np.arange(len(bands))
    for k, (name, who, colour) in enumerate(zip(record.names, ("base", "with change"), (BASE_COLOUR, CHANGE_COLOUR),
                                                strict=True)):
        p = record.comparison.results[name].patients
        full = p[p["registered_days"] == DAYS_PER_YEAR]
        share = (full["primary_care_contacts"] == 0).groupby(metrics.age_band(full["age"]).astype(str)).mean()
        ax.bar(x + (k - 0.5) * 0.4, [100 * share.get(b, np.nan) for b in bands], 0.4, color=colour, label=who)
    ax.set_xticks(x, bands, rotation=30, fontsize=8)
    ax.set_xlabel("age band (years)")
    ax.set_ylabel("% with no contact in a year")
    ax.set_title("People registered all year who never saw primary care")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def by_group(table: pd.DataFrame, measure_label: str, by_label: str) -> Figure:
    """Base and with-the-change rates by group, the change's 95% interval as an error bar."""
    fig = Figure(figsize=(9, 0.42 * len(table) + 1.6))
    ax = fig.subplots()
    y = np.arange(len(table))
    ax.barh(y - 0.2, table["Base"], 0.4, color=BASE_COLOUR, label="base")
    change = table["With the change"]
    err = [change - (table["Base"] + table["low"]), (table["Base"] + table["high"]) - change]
    ax.barh(y + 0.2, change, 0.4, color=CHANGE_COLOUR, label="with change (bar: 95% interval)", xerr=err,
            error_kw={"capsize": 3, "lw": 1})
    ax.set_yticks(y, table["Group"], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"{measure_label} per 1,000 person-years")
    ax.set_title(f"{measure_label} by {by_label.lower()}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return fig
