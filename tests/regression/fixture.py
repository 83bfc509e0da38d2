"""Fixed-seed runs whose saved tables must not change when the engine is restructured.

`python3 -m tests.regression.fixture` (from the repository root) rewrites `expected.json`: a SHA-256 per
column of `summary.parquet`, `patients_yearly.parquet` and `series.parquet` of each run below, as saved by
`Results.save` and read back with pandas. Regenerate it only in a commit that changes numbers on purpose,
and say why in that commit.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

from pcnsim.run import run
from pcnsim.scenario import load

EXPECTED = Path(__file__).with_name("expected.json")
TABLES = ("summary.parquet", "patients_yearly.parquet", "series.parquet")

# Two PCNs of five small practices with every lever switched on during the first reported year (so
# levers ramp in mid-run) and a project manager: the engine's every mechanism is exercised.
LEVERS = {
    "name": "regression_levers",
    "pcns": [
        {"name": "North PCN", "practices": [
            {"name": "North A", "list_size": 1800, "deprivation_mix": [0.4, 0.3, 0.2, 0.1, 0.0]},
            {"name": "North B", "list_size": 1200, "deprivation_mix": [0.0, 0.1, 0.2, 0.3, 0.4]},
            {"name": "North C", "list_size": 900}]},
        {"name": "South PCN", "practices": [
            {"name": "South A", "list_size": 1500},
            {"name": "South B", "list_size": 1000, "deprivation_mix": [0.1, 0.1, 0.2, 0.3, 0.3]}]},
    ],
    "workforce": {"pcn_fte": {"pharmacist": 0.6, "splw": 0.3, "paramedic": 0.2, "fcp": 0.3, "mhp": 0.3,
                              "pa": 0.2, "care_coordinator": 0.2, "community_nurse": 0.4}},
    "levers": {
        "delivery": {"project_manager_fte": 0.5},
        "pooled_roles": {"enabled": True, "start_day": 60, "share": 0.5},
        "complex_care": {"enabled": True, "start_day": 30, "fte": 0.4, "caseload": 25, "min_complexity": 1},
        "shared_expertise": {"enabled": True, "start_day": 90, "home_practice": "North A",
                             "sessions_per_week": 2.0},
        "social_prescribing": {"enabled": True, "start_day": 120, "extra_splw_fte": 0.3},
        "acute_visiting": {"enabled": True, "start_day": 45, "paramedic_fte": 0.4},
        "care_navigation": {"enabled": True, "start_day": 150, "extra_care_coordinator_fte": 0.5},
        "outreach": {"enabled": True, "start_day": 10, "age_from": 7, "age_to": 28,
                     "deprivation_quintiles": [1, 2], "access_multiplier": 1.5},
        "network_of_networks": {"enabled": True, "start_day": 200, "trust": 0.5,
                                "roles": ["pharmacist", "fcp", "mhp", "mdt", "shared_expertise"]},
    },
}

RUNS = {
    # (scenario, run keyword arguments)
    "baseline": (None, {"seed": 20261207, "years": 1, "reps": 1}),
    "levers": (LEVERS, {"seed": 4242, "years": 2, "reps": 2}),
}


def column_digests(frame: pd.DataFrame) -> dict[str, str]:
    """SHA-256 of each column's values (and dtype), in row order."""
    out = {}
    for name in frame.columns:
        col = frame[name]
        h = hashlib.sha256(str(col.dtype).encode())
        h.update(pd.util.hash_pandas_object(col, index=False).to_numpy().tobytes())
        out[str(name)] = h.hexdigest()
    return out


def digests() -> dict[str, dict[str, dict[str, str]]]:
    """Each run's tables, saved and read back, as column digests."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for name, (overrides, kwargs) in RUNS.items():
        scenario = load() if overrides is None else load(overrides=overrides)
        res = run(scenario, **kwargs)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / name
            res.save(folder)
            out[name] = {table: column_digests(pd.read_parquet(folder / table)) for table in TABLES}
    return out


if __name__ == "__main__":
    EXPECTED.write_text(json.dumps(digests(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {EXPECTED}", file=sys.stderr)
