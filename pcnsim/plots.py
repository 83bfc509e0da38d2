"""Static figures (matplotlib, no display needed): one function per chart, each returning a Figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from . import churn, metrics, registry

COLOURS = {"male": "#1f77b4", "female": "#d62728", "complex": "#6a3d9a", "transient": "#ff7f00"}
OUTCOME_LABELS = {"persist": "still a frequent attender", "still_high": "below threshold, still high",
                  "dissipated": "need dissipated", "left_or_died": "left the list / died"}


def _rate_by(patients: pd.DataFrame, column: str, by: list[str]) -> pd.Series:
    df = patients.assign(age_band=metrics.age_band(patients["age"]))
    g = df.groupby(by, observed=False)
    return g[column].sum() / (g["registered_days"].sum() / 364)


def contacts_by_age_sex(patients: pd.DataFrame):
    rate = _rate_by(patients, "primary_care_contacts", ["age_band", "sex"]).unstack("sex")
    fig, ax = plt.subplots(figsize=(8, 4))
    for sex in rate.columns:
        ax.plot(range(len(rate)), rate[sex], marker="o", label=sex, color=COLOURS.get(str(sex)))
    ax.set_xticks(range(len(rate)), rate.index.astype(str), rotation=45)
    ax.set(xlabel="age band", ylabel="primary-care contacts per person-year",
           title="Primary-care contacts by age and sex")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def zero_contact_by_age(patients: pd.DataFrame):
    share = metrics.zero_contact_by_age(patients)
    fig, ax = plt.subplots(figsize=(8, 4))
    x = np.arange(len(share))
    for i, sex in enumerate(share.columns):
        ax.bar(x + (i - 0.5) * 0.4, share[sex], width=0.4, label=sex, color=COLOURS.get(str(sex)))
    ax.set_xticks(x, share.index.astype(str), rotation=45)
    ax.set(xlabel="age band", ylabel="share with no primary-care contact in the year",
           title="Who never comes: people registered all year with no contact")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def ae_by_age_and_deprivation(patients: pd.DataFrame):
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    by_age = 1000 * _rate_by(patients, "ae", ["age_band"])
    a1.bar(range(len(by_age)), by_age, color="#2ca02c")
    a1.set_xticks(range(len(by_age)), by_age.index.astype(str), rotation=45)
    a1.set(xlabel="age band", ylabel="A&E attendances per 1,000 a year", title="A&E by age")
    by_dep = 1000 * _rate_by(patients, "ae", ["deprivation"])
    a2.bar(range(len(by_dep)), by_dep, color="#8c564b")
    a2.set_xticks(range(len(by_dep)), [f"Q{q}" for q in by_dep.index])
    a2.set(xlabel="deprivation quintile (Q1 = most deprived)", title="A&E by deprivation")
    for ax in (a1, a2):
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def churn_flow(patients: pd.DataFrame, definition: str = "top10"):
    """Year t's FAs by what became of them, beside year t+1's FAs: persisting and the new cohort."""
    flows = churn.flow_counts(patients, definition).set_index(["side", "group", "need"])["count"]
    fig, ax = plt.subplots(figsize=(9, 5.5))
    if flows.empty:
        ax.text(0.5, 0.5, "Churn needs at least two reported years (run with --years 2 or more).",
                ha="center", va="center", fontsize=12)
        ax.set_axis_off()
        return fig
    width = 0.35
    segments_left = [(g, n) for g in churn.EXITS for n in ("complex", "transient")]
    segments_right = [(g, n) for g in ("persist", "new") for n in ("complex", "transient")]
    shades = {"persist": 1.0, "still_high": 0.75, "dissipated": 0.5, "left_or_died": 0.3, "new": 0.55}
    spans = {}
    for x, side, segments in ((0, "year t", segments_left), (1, "year t+1", segments_right)):
        bottom = 0.0
        for group, need in segments:
            h = float(flows.get((side, group, need), 0.0))
            ax.bar(x, h, width, bottom=bottom, color=COLOURS[need], alpha=shades[group], edgecolor="white")
            if h > 0.03 * flows.xs(side).sum():
                label = OUTCOME_LABELS.get(group, "new this year") + f" ({need})"
                ax.text(x + (-width / 2 - 0.02 if x == 0 else width / 2 + 0.02), bottom + h / 2,
                        f"{label}: {h:,.0f}", ha="right" if x == 0 else "left", va="center", fontsize=8)
            spans[(side, group, need)] = (bottom, bottom + h)
            bottom += h
    for need in ("complex", "transient"):
        (l0, l1), (r0, r1) = spans[("year t", "persist", need)], spans[("year t+1", "persist", need)]
        ax.fill([width / 2, 1 - width / 2, 1 - width / 2, width / 2], [l0, r0, r1, l1], color=COLOURS[need], alpha=0.25)
    ax.set_xticks([0, 1], ["frequent attenders in year t", "frequent attenders in year t+1"])
    ax.set_xlim(-1.1, 2.1)
    ax.set_ylabel("people (mean per year pair and replicate)")
    ax.set_title(f"Frequent-attender churn ({churn.DEFINITIONS[definition]})")
    fig.tight_layout()
    return fig


def save(fig, path) -> None:
    fig.savefig(path, dpi=110)
    plt.close(fig)


def comparison(table: pd.DataFrame, metrics_shown: tuple[str, ...], title: str | None = None):
    """Paired differences (as % of the baseline) with 95% intervals, one row per metric, one colour per scenario;
    metrics by their plain names, the legend beside the plot."""
    table = table[table["metric"].isin(metrics_shown)]
    scenarios = list(dict.fromkeys(table["scenario"]))
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(metrics_shown) * max(1, len(scenarios)) + 1.5))
    y = 0
    ticks, labels = [], []
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for metric in metrics_shown:
        for i, name in enumerate(scenarios):
            row = table[(table["metric"] == metric) & (table["scenario"] == name)]
            if row.empty or not row["base"].iloc[0]:
                continue
            base = row["base"].iloc[0]
            mid, lo, hi = (100 * row[c].iloc[0] / base for c in ("diff", "low_95", "high_95"))
            ax.errorbar(mid, y, xerr=[[mid - lo], [hi - mid]], fmt="o", color=colours[i % len(colours)],
                        label=name if metric == metrics_shown[0] else None, capsize=3)
            ticks.append(y)
            labels.append(registry.label(metric) if i == 0 else "")
            y -= 1
        y -= 0.5
    ax.axvline(0, color="grey", lw=1)
    ax.set_yticks(ticks, labels)
    ax.set_xlabel("difference from the baseline, % (paired replicates, 95% interval of the mean)")
    ax.set_title(title or f"What {', '.join(scenarios)} changes, against the baseline")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title="scenario")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def sensitivity(si: pd.DataFrame, kind: str):
    """Sobol total and first-order indices, or Morris mu* and sigma, per parameter, ranked (the most
    influential at the top); one panel per metric."""
    metrics_shown = list(dict.fromkeys(si["metric"]))
    fig, axes = plt.subplots(1, len(metrics_shown), figsize=(4.5 * len(metrics_shown), 0.45 * si["parameter"].nunique()
                                                              + 1.8), squeeze=False)
    rank = "ST" if kind == "sobol_indices" else "mu_star"
    for ax, metric in zip(axes[0], metrics_shown, strict=True):
        rows = si[si["metric"] == metric].sort_values(rank, kind="stable")  # barh draws upwards: largest on top
        y = np.arange(len(rows))
        if kind == "sobol_indices":
            ax.barh(y + 0.2, rows["ST"], 0.4, xerr=rows["ST_conf"], label="total (ST)")
            ax.barh(y - 0.2, rows["S1"], 0.4, xerr=rows["S1_conf"], label="first order (S1)")
            ax.set_xlabel("Sobol index (share of variance)")
        else:
            ax.barh(y + 0.2, rows["mu_star"], 0.4, xerr=rows["mu_star_conf"], label="mu* (mean |effect|)")
            ax.barh(y - 0.2, rows["sigma"], 0.4, label="sigma (non-linearity, interactions)")
            ax.set_xlabel("Morris elementary effect over each parameter's range")
        ax.set_yticks(y, rows["parameter"])
        ax.set_title(registry.label(metric))
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


def sweep_effects(summary: pd.DataFrame, parameters: list[str], metrics_shown: list[str]):
    """Each metric (a row of panels) against each parameter (a column): every design point's mean over
    replicates with its 95% interval, so what moves a metric shows as a slope."""
    fig, axes = plt.subplots(len(metrics_shown), len(parameters), figsize=(3.4 * len(parameters) + 0.6,
                                                                            2.6 * len(metrics_shown) + 0.4),
                             squeeze=False)
    for i, metric in enumerate(metrics_shown):
        rows = summary[summary["metric"] == metric]
        for j, parameter in enumerate(parameters):
            ax = axes[i][j]
            ax.errorbar(rows[parameter], rows["mean"], yerr=[rows["mean"] - rows["low_95"],
                                                             rows["high_95"] - rows["mean"]],
                        fmt="o", ms=3.5, alpha=0.7, elinewidth=0.8, capsize=2)
            ax.grid(alpha=0.3)
            if i == len(metrics_shown) - 1:
                ax.set_xlabel(parameter)
            if j == 0:
                ax.set_ylabel(registry.label(metric), fontsize=9)
    fig.tight_layout()
    return fig


def convergence(evaluations: pd.DataFrame):
    """A calibration's cost at each evaluation (finite-difference runs included) and the best so far."""
    fig, ax = plt.subplots(figsize=(8, 3.8))
    ax.plot(evaluations["evaluation"], evaluations["cost"], "o", ms=4, alpha=0.6, label="each evaluation")
    ax.step(evaluations["evaluation"], evaluations["cost"].cummin(), where="post", color="crimson",
            label="best so far")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("evaluation (simulation run)")
    ax.set_ylabel("least-squares cost (0 = every check mid-range)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def sweep(summary: pd.DataFrame, parameters: list[str], metrics_shown: list[str]):
    """Each metric against the first parameter (one line per value of the second, if any), with 95%
    intervals over replicates; None when there are more than two parameters."""
    if len(parameters) > 2:
        return None
    cols = min(4, len(metrics_shown))
    rows = -(-len(metrics_shown) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    for ax in axes.flat[len(metrics_shown):]:
        ax.set_visible(False)
    x = parameters[0]
    for ax, metric in zip(axes.flat, metrics_shown, strict=False):
        rows = summary[summary["metric"] == metric]
        groups = rows.groupby(parameters[1]) if len(parameters) == 2 else [(None, rows)]
        for value, group in groups:
            group = group.sort_values(x)
            label = f"{parameters[1]} = {value:g}" if value is not None else None
            ax.plot(group[x], group["mean"], marker="o", label=label)
            ax.fill_between(group[x], group["low_95"], group["high_95"], alpha=0.2)
        ax.set_xlabel(x)
        ax.set_title(registry.label_with_unit(metric), fontsize=9)
        ax.grid(alpha=0.3)
    if len(parameters) == 2:
        axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def tradeoff(trials: pd.DataFrame, best: str):
    """Staff cost against the objective for every allocation tried; policies labelled, the best starred."""
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    searched = trials[trials["kind"] == "trial"]
    ax.scatter(searched["staff_cost"] / 1000, searched["objective"], s=18, alpha=0.5, label="allocations tried")
    for row in trials[trials["kind"] == "policy"].itertuples():
        ax.errorbar(row.staff_cost / 1000, row.objective, yerr=[[row.objective - row.low_95],
                                                                [row.high_95 - row.objective]], fmt="s", capsize=3)
        ax.annotate(row.label.removeprefix("policy: "), (row.staff_cost / 1000, row.objective), fontsize=8,
                    xytext=(4, 4), textcoords="offset points")
    top = trials[trials["label"] == best].iloc[0]
    ax.scatter([top["staff_cost"] / 1000], [top["objective"]], marker="*", s=220, color="crimson", zorder=5,
               label=f"best ({best})")
    ax.set_xlabel("staff cost of the placed roles, GBP thousand a year")
    ax.set_ylabel("objective (lower is better; mean over replicates)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
