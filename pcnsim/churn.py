"""Frequent attenders (FAs) and their churn, from the per-patient yearly table.

Three definitions, side by side (docs/model.md, Outputs and metric definitions):
- `top10`: top 10% of patients by primary-care contacts within their age band and sex (as Smits 2008);
  ties at the cut-off are broken by a hash of the patient id, so exactly 10% (rounded up) of each band;
- `12plus`: 12 or more primary-care contacts in the year;
- `30day`: more than 3 primary-care contacts in some 30-day window (the engine counts contacts that
  were at least the 4th within 30 days).
Only people registered for the whole year can be FAs in it (the population at risk).

Churn from year t to t+1, for the FAs of year t: `persist` (FA again), `left_or_died` (not registered
for the whole of t+1), `still_high` (registered, not FA, but at least half their contacts of year t)
and `dissipated` (the rest); these four shares add up to 1. `inflow_share` is the share of year t+1's
FAs who were not FAs in year t. Complex needs = complexity level 2 or 3 at the end of the year.
Everything is computed from yearly counters, so it scales to any population size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .metrics import age_band, interval
from .vocab import DAYS_PER_YEAR

DEFINITIONS = {
    "top10": "top 10% by contacts within age band and sex",
    "12plus": "12 or more contacts a year",
    "30day": "more than 3 contacts in a 30-day window",
}
COMPLEX_LEVEL = 2
TOP_SHARE = 0.1  # `top10`: the share of each age band and sex
LEVELS = 128  # score levels counted apart when finding a group's top share (`_top_share`)
EXITS = ("persist", "still_high", "dissipated", "left_or_died")


def _tiebreak(ids: pd.Series) -> np.ndarray:
    """A fixed pseudo-random number in [0, 1) per patient id (splitmix64), to break ties fairly."""
    z = ids.to_numpy().astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / 2.0**53


def add_fa_flags(patients: pd.DataFrame) -> pd.DataFrame:
    """Add boolean columns fa_top10, fa_12plus, fa_30day (and `complex_needs`) to a patients_yearly table."""
    df = patients.copy(deep=False)  # new columns only: the caller's table is left as it was (copy on write)
    full = (df["registered_days"] == DAYS_PER_YEAR).to_numpy()
    contacts = df["primary_care_contacts"].to_numpy()
    score = contacts + _tiebreak(df["patient_id"])  # contacts first, hash breaks ties
    group = _group_ids([df["replicate"], df["year"], age_band(df["age"]), df["sex"]])
    df["fa_top10"] = _top_share(group, score, full & (group >= 0), TOP_SHARE) & (contacts > 0)
    df["fa_12plus"] = full & (contacts >= 12)
    df["fa_30day"] = full & (df["clustered_contacts"] > 0).to_numpy()
    df["complex_needs"] = df["complexity"] >= COMPLEX_LEVEL
    return df


def _group_ids(keys: list) -> np.ndarray:
    """One id per distinct combination of the keys (arrays or Series of one length), ids below the number
    of combinations possible; -1 where a key is missing (such rows belong to no group, as in a groupby
    that drops them)."""
    group = np.zeros(len(keys[0]), np.int64)
    missing = np.zeros(len(keys[0]), np.bool_)
    size = 1
    for key in keys:
        codes, uniques = pd.factorize(key)
        if size * max(len(uniques), 1) >= 1 << 62:  # renumber the combinations so far from 0
            group, seen = pd.factorize(group)
            size = len(seen)
        group = group * max(len(uniques), 1) + codes
        size *= max(len(uniques), 1)
        missing |= codes < 0
    return np.where(missing, -1, group)


def _top_share(group: np.ndarray, score: np.ndarray, eligible: np.ndarray, share: float) -> np.ndarray:
    """Whether each eligible row is within the first ceil(share x eligible rows) of its group by score,
    highest first, equal scores in row order: a groupby rank(method="first", ascending=False) <= that
    count, without sorting every group. Scores are >= 0. Rows are counted by score level (its integer
    part, levels past LEVELS pooled): the levels above a group's cut-off are all in, those below all out,
    and only the rows at the cut-off's level are sorted."""
    flags = np.zeros(len(score), np.bool_)
    rows = np.flatnonzero(eligible)
    if rows.size == 0:
        return flags
    g = group[rows]
    if int(g.max()) >= 4 * rows.size:  # few of the possible groups seen: number them from 0
        g = pd.factorize(g)[0]
        group = np.full(len(score), -1, np.int64)
        group[rows] = g
    level = np.minimum(np.floor(score[rows]), LEVELS - 1).astype(np.int64)
    n_groups = int(g.max()) + 1
    at_level = np.bincount(g * LEVELS + level, minlength=n_groups * LEVELS).reshape(n_groups, LEVELS)
    at_or_above = np.zeros((n_groups, LEVELS + 1), np.int64)  # rows at a level or above, by group
    at_or_above[:, :LEVELS] = at_level[:, ::-1].cumsum(axis=1)[:, ::-1]
    k = np.ceil(share * at_or_above[:, 0]).astype(np.int64)
    cut = (at_or_above[:, :LEVELS] >= k[:, None]).sum(axis=1) - 1  # the highest level with k rows at or above
    room = k - at_or_above[np.arange(n_groups), cut + 1]  # places left for the rows at the cut's level
    flags[rows[level > cut[g]]] = True
    tied = rows[level == cut[g]]
    by_score = tied[np.argsort(-score[tied], kind="stable")]
    order = by_score[np.argsort(group[by_score], kind="stable")]  # by group, then score, then row
    tied_group = group[order]
    first = np.searchsorted(tied_group, tied_group, side="left")  # where each row's group starts
    flags[order] = np.arange(len(order)) - first < room[tied_group]
    return flags


def _flags(df: pd.DataFrame) -> pd.DataFrame:
    return df if "fa_top10" in df.columns else add_fa_flags(df)


def churn_table(patients: pd.DataFrame) -> pd.DataFrame:
    """Tidy churn metrics: replicate, year (t), definition, metric, value."""
    df = _flags(patients)
    rows = []
    for rep, rep_df in df.groupby("replicate", sort=True):
        by_year = {y: g.set_index("patient_id") for y, g in rep_df.groupby("year", sort=True)}
        years = sorted(by_year)
        for definition in DEFINITIONS:
            col = f"fa_{definition}"
            for y in years:
                rows += [(rep, y, definition, m, v) for m, v in _year_metrics(by_year, years, y, col).items()]
    return pd.DataFrame(rows, columns=["replicate", "year", "definition", "metric", "value"])


def _year_metrics(by_year: dict, years: list, y: int, col: str) -> dict:
    now = by_year[y]
    full = now[now["registered_days"] == DAYS_PER_YEAR]
    fa = full[full[col]]
    total = full["primary_care_contacts"].sum()
    out = {
        "fa_count": float(len(fa)),
        "prevalence": len(fa) / len(full) if len(full) else np.nan,
        "share_of_contacts": fa["primary_care_contacts"].sum() / total if total else np.nan,
        "complex_share": fa["complex_needs"].mean() if len(fa) else np.nan,
    }
    if y + 1 in by_year:
        nxt = by_year[y + 1]
        outcome = exit_outcomes(fa, nxt, col)
        for name in EXITS:
            out[name] = float((outcome == name).mean()) if len(fa) else np.nan
        for label, mask in (("complex", fa["complex_needs"]), ("transient", ~fa["complex_needs"])):
            out[f"persist_{label}"] = float((outcome[mask] == "persist").mean()) if mask.any() else np.nan
        nxt_full = nxt[nxt["registered_days"] == DAYS_PER_YEAR]
        new_fa = nxt_full[nxt_full[col]]
        was_fa = new_fa.index.isin(fa.index)
        out["inflow_share"] = float((~was_fa).mean()) if len(new_fa) else np.nan
        out["inflow_count"] = float((~was_fa).sum())
    if y == years[0]:
        still = fa.index
        for k, later in enumerate(years[1:], start=2):
            nxt = by_year[later]
            still = still[still.isin(nxt.index[nxt[col].to_numpy()])]
            out[f"persist_{k}_years"] = len(still) / len(fa) if len(fa) else np.nan
    return out


def exit_outcomes(fa: pd.DataFrame, nxt: pd.DataFrame, col: str) -> pd.Series:
    """What became of year t's FAs in year t+1: persist, still_high, dissipated or left_or_died."""
    nxt = nxt.reindex(fa.index)
    present = nxt["registered_days"].to_numpy() == DAYS_PER_YEAR
    again = present & nxt[col].fillna(False).to_numpy().astype(bool)
    high = present & ~again & (nxt["primary_care_contacts"].to_numpy() >= 0.5 * fa["primary_care_contacts"].to_numpy())
    outcome = np.where(~present, "left_or_died", np.where(again, "persist", np.where(high, "still_high", "dissipated")))
    return pd.Series(outcome, index=fa.index)


def churn_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% interval over replicates (years pooled per replicate): metric x definition."""
    per_rep = table.groupby(["definition", "metric", "replicate"])["value"].mean()
    rows = []
    for (definition, metric), values in per_rep.groupby(level=[0, 1]):
        mean, lo, hi = interval(values.to_numpy())
        rows.append((metric, definition, mean, lo, hi))
    out = pd.DataFrame(rows, columns=["metric", "definition", "mean", "low_95", "high_95"])
    order = {m: i for i, m in enumerate(
        ["prevalence", "share_of_contacts", "complex_share", *EXITS, "persist_complex", "persist_transient",
         "inflow_share", "inflow_count", "fa_count"])}
    out["_o"] = out["metric"].map(lambda m: order.get(m, 100 + int(m.split("_")[1]) if m.startswith("persist_")
                                                     and m.split("_")[1].isdigit() else 200))
    return out.sort_values(["_o", "definition"]).drop(columns="_o").reset_index(drop=True)


def flow_counts(patients: pd.DataFrame, definition: str = "top10") -> pd.DataFrame:
    """FAs of year t by what became of them in t+1, and the FAs of t+1 by where they came from, split
    complex vs transient; counts averaged over replicates and year pairs. Columns: side, group, need, count."""
    df = _flags(patients)
    col = f"fa_{definition}"
    tallies: dict[tuple[str, str, str], float] = {}
    pairs = 0
    for _, rep_df in df.groupby("replicate", sort=True):
        by_year = {y: g.set_index("patient_id") for y, g in rep_df.groupby("year", sort=True)}
        for y in sorted(by_year)[:-1]:
            now, nxt = by_year[y], by_year[y + 1]
            fa = now[(now["registered_days"] == DAYS_PER_YEAR) & now[col]]
            outcome = exit_outcomes(fa, nxt, col)
            for name in EXITS:
                for need, mask in (("complex", fa["complex_needs"]), ("transient", ~fa["complex_needs"])):
                    key = ("year t", name, need)
                    tallies[key] = tallies.get(key, 0) + float(((outcome == name) & mask).sum())
            new = nxt[(nxt["registered_days"] == DAYS_PER_YEAR) & nxt[col]]
            origin = np.where(new.index.isin(fa.index), "persist", "new")
            for name in ("persist", "new"):
                for need, mask in (("complex", new["complex_needs"]), ("transient", ~new["complex_needs"])):
                    key = ("year t+1", name, need)
                    tallies[key] = tallies.get(key, 0) + float(((origin == name) & mask.to_numpy()).sum())
            pairs += 1
    rows = [(side, group, need, count / max(pairs, 1)) for (side, group, need), count in tallies.items()]
    return pd.DataFrame(rows, columns=["side", "group", "need", "count"])
