"""Patient deep dive: the dated touchpoint timeline of chosen patients, base and lever side by side.

This is the "notes review" practices bring to a PCN meeting: for a few patients (the top frequent
attenders, or named ids), every GP, nurse, network, A&E, admission and outpatient touchpoint over the
reported years. Both scenarios run one replicate on the same seed, so with common random numbers the
same people live the same lives until a lever changes something for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..run import resolve_scenario, run
from ..scenario import Scenario
from ..vocab import ROLE_LABELS

SPEC = re.compile(r"^((?P<kind>top-fa|enrolled):(?P<n>\d+)|(?P<ids>\d+(,\d+)*))$")
PROFILE_COLUMNS = ("practice", "age", "sex", "deprivation", "segment", "complexity", "primary_care_contacts",
                   "ae", "admission", "revisits", "unmet_days", "mdt_enrolled_months")
SETTING_LABELS = {**ROLE_LABELS, "ae": "A&E", "admission": "emergency admission", "outpatient": "outpatients"}


@dataclass
class DeepDive:
    """Timelines (one row per touchpoint) and yearly profiles of the chosen patients in each scenario."""

    names: list[str]  # the scenarios, base first
    patient_ids: list[int]
    timelines: pd.DataFrame  # scenario, patient_id, day, setting, unit, need, outcome, urgency
    profiles: pd.DataFrame  # scenario, patient_id, year and PROFILE_COLUMNS

    def side_by_side(self, patient_id: int) -> pd.DataFrame:
        """One row per day with a touchpoint in either scenario; one column of events per scenario."""
        t = self.timelines[self.timelines["patient_id"] == patient_id]
        cells = t.assign(event=describe_events(t)).groupby(["day", "scenario"], observed=True)["event"]
        table = cells.agg("; ".join).unstack("scenario").reindex(columns=self.names).fillna("")
        return table.reset_index()


def describe_events(t: pd.DataFrame) -> pd.Series:
    """'GP: complex, revisit' style labels; network units are marked."""

    def text(column: str) -> pd.Series:
        return t[column].astype(object).fillna("").astype(str)

    setting = text("setting").map(lambda s: SETTING_LABELS.get(s, s))
    where = text("unit").str.contains("pool", regex=False).map({True: " (network)", False: ""})
    need = text("need").replace({"": "injury/other"})
    outcome = text("outcome").map(lambda o: "" if o == "no_episode" else f", {o}")
    return setting + where + ": " + need + outcome


def choose_patients(res, spec: str, lever=None) -> list[int]:
    """Patient ids from 'top-fa:N' (most primary-care contacts in the base run `res`'s reported years, ties
    by id), 'enrolled:N' (most months on the complex-care caseload in the `lever` run, then most contacts,
    then id) or a comma-separated list of ids; raises ValueError for anything else."""
    m = SPEC.match(spec.strip())
    if m is None:
        raise ValueError(f"--who {spec!r}: expected top-fa:N or enrolled:N (N >= 1), or patient ids like 12,345")
    if m["ids"]:
        ids = [int(x) for x in m["ids"].split(",")]
        known = set(res.patients["patient_id"])
        missing = [i for i in ids if i not in known]
        if missing:
            raise ValueError(f"--who: no patient with id {missing[0]} in this run (ids run from 0 to "
                             f"{max(known)})")
        return ids
    n = int(m["n"])
    if n < 1:
        raise ValueError(f"--who {m['kind']}:N needs N >= 1")
    if m["kind"] == "enrolled":
        source = res if lever is None else lever
        totals = source.patients.groupby("patient_id")[["mdt_enrolled_months", "primary_care_contacts"]].sum()
        totals = totals[totals["mdt_enrolled_months"] > 0].reset_index()
        if totals.empty:
            raise ValueError(f"--who {spec}: no one was on a complex-care team's caseload in "
                             f"{source.scenario.name!r}; choose a scenario with levers.complex_care enabled")
        ranked = totals.sort_values(["mdt_enrolled_months", "primary_care_contacts", "patient_id"],
                                    ascending=[False, False, True])
        return [int(x) for x in ranked["patient_id"].head(n)]
    totals = res.patients.groupby("patient_id")["primary_care_contacts"].sum()
    ranked = totals.reset_index().sort_values(["primary_care_contacts", "patient_id"], ascending=[False, True])
    return [int(x) for x in ranked["patient_id"].head(n)]


def deep_dive(scenario: Scenario | str | Path, base: Scenario | str | Path | None = None,
              who: str = "top-fa:5", years: int | None = None, seed: int | None = None,
              threads: int | None = None) -> DeepDive:
    """Run the base (default: the embedded baseline) and the scenario on one seed with the ledger kept,
    choose patients in the base run (`who`: top-fa:N or ids, `choose_patients`), and return their timelines
    in both. threads: as `pcnsim.run.run`'s (the groups of a larger place run side by side)."""
    sc = resolve_scenario(scenario, years)
    base_sc = resolve_scenario(base, years if years is not None else sc.simulation.years)
    root = base_sc.simulation.seed if seed is None else seed
    pairs = [(base_sc, "base")] if base_sc == sc else [(base_sc, "base"), (sc, sc.name)]
    results = {label: run(s, seed=root, reps=1, ledger=True, threads=threads) for s, label in pairs}
    ids = choose_patients(results["base"], who, results[pairs[-1][1]])
    timelines, profiles = [], []
    for label, res in results.items():
        ledger = res.ledger[res.ledger["patient_id"].isin(ids)]
        timelines.append(ledger.drop(columns=["replicate", "episode_slot"]).assign(scenario=label))
        p = res.patients[res.patients["patient_id"].isin(ids)]
        profiles.append(p[["patient_id", "year", *PROFILE_COLUMNS]].assign(scenario=label))
    return DeepDive(names=list(results), patient_ids=ids, timelines=pd.concat(timelines, ignore_index=True),
                    profiles=pd.concat(profiles, ignore_index=True))
