"""Tables for people: a run's headline figures and a comparison's effects, in plain words from the metric
registry (labels, units, % change, better or worse), as the CLI prints them.
"""

from __future__ import annotations

import math

import pandas as pd
from rich.table import Table

from . import registry


def headline_table(head: pd.DataFrame, title: str, replicates: int) -> Table:
    """A run's headline metrics: mean and the range the middle 95% of replicates fall in."""
    from .metrics import HEADLINE

    table = Table(title=title, title_justify="left")
    table.add_column("measure", min_width=24)
    table.add_column("unit")
    table.add_column("mean", justify="right")
    ranged = replicates > 1
    table.add_column("range of replicates (2.5-97.5%)" if ranged else "", justify="right")
    for key in HEADLINE:
        if key not in head.index:
            continue
        metric = registry.get(key)
        mean, lo, hi = head.loc[key, ["mean", "low_95", "high_95"]]
        table.add_row(metric.label, metric.unit, metric.format(mean),
                      f"{metric.format(lo)} to {metric.format(hi)}" if ranged else "")
    return table


def comparison_table(rows: pd.DataFrame, title: str, patients: int) -> Table:
    """One scenario's effects against the base (`Comparison.table` rows of that scenario): the base value,
    the change and its % of the base, the 95% confidence interval of the mean paired change, whether that
    is better or worse, and the change in the PCN's own terms a week where one applies."""
    table = Table(title=title, title_justify="left",
                  caption="Change: scenario minus base, paired on the same seeds; 95% CI: confidence interval of "
                          "the mean change over replicates.", caption_justify="left")
    table.add_column("measure", min_width=24, ratio=3)
    for name, justify in (("base", "right"), ("change", "right"), ("% change", "right"),
                          ("95% CI of the change", "right"), ("verdict", "left"), ("a week, this PCN", "left")):
        table.add_column(name, justify=justify, ratio=1)
    order = {key: i for i, key in enumerate(registry.KEY_METRICS)}
    for row in sorted(rows.itertuples(), key=lambda r: order.get(r.metric, len(order))):
        metric = registry.get(row.metric)
        change = metric.change(row.base, row.diff, row.low_95, row.high_95)
        colour = {"better": "green", "worse": "red"}.get(change.verdict, "")
        weekly = (f"{registry.per_week(row.diff, patients):+,.1f} {metric.events}"
                  if metric.events and not math.isnan(row.diff) else "")
        table.add_row(f"{metric.label}\n[dim]{metric.unit}[/dim]", change.base, change.change, change.percent,
                      change.interval, f"[{colour}]{change.verdict}[/{colour}]" if colour else change.verdict, weekly)
    return table
