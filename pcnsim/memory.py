"""How much memory a run will need, checked before anything is allocated.

The engine's arrays are sized by the number of patients (state, the day's workspace, leavers' records,
the optional ledger) and the per-patient yearly tables kept for every replicate. Their bytes per patient
are read off the allocators themselves (the state's record layout; the other buffers allocated for one
patient), so the estimate follows the code.
"""

from __future__ import annotations

import os

from . import engine, partition
from .scenario import Scenario, ScenarioError
from .vocab import N_ROLES

# The per-patient yearly table: about 149 B a row in pandas (42 columns) and 1.1 rows a registered
# patient-year (the year's leavers too), held at most twice at a run's peak (`Results.patients` joins the
# replicates' tables); benchmarks/README.md gives the measured peak.
TABLE_BYTES_PER_PATIENT_YEAR = 168
LEDGER_ROWS_PER_PATIENT_YEAR = 40  # the ledger buffer the model reserves (touchpoints are ~10 a year)
HEADROOM = 0.85  # share of the available memory a run may plan to use


def per_patient_bytes(sc: Scenario, ledger: bool = False) -> dict[str, float]:
    """Bytes per registered patient of each part of one run (engine arrays; tables per reported year)."""
    memory = sc.levers.complex_care.min_contacts
    state = engine.state.state_bytes(1, memory)  # per patient: their record, next event, contact memory
    two, one_ws = engine.allocate_workspace(2), engine.allocate_workspace(1)
    workspace = sum(a.nbytes for a in two) - sum(a.nbytes for a in one_ws)
    tally = engine.allocate_tally(1, 1, 1, exit_capacity=2)
    exits = (tally.exit_meta.nbytes + tally.exit_counters.nbytes) / 2 * 0.5  # room for half the list leaving
    out = {"state": float(state), "workspace": float(workspace), "leavers": exits}
    if ledger:
        out["ledger"] = LEDGER_ROWS_PER_PATIENT_YEAR * tally.ledger.shape[1] * tally.ledger.itemsize
    return out


def largest_group(sc: Scenario) -> int:
    """Patients of the largest group of PCNs simulated on its own (`pcnsim.partition`)."""
    return max(sum(p.list_size for c in group for p in sc.pcns[c].practices) for group in partition.groups(sc))


def breakdown(sc: Scenario, reps: int = 1, ledger: bool = False, patients: bool = True,
              at_once: int = 1) -> dict[str, int]:
    """Bytes a run of `reps` replicates will hold at its peak, by part: engine arrays of the `at_once`
    groups of PCNs simulated at once (at most the largest),
    per-patient tables, ledger, weekly tallies."""
    n = sc.n_patients
    parts = per_patient_bytes(sc, ledger)
    in_flight = min(n * reps, largest_group(sc) * at_once)
    years = sc.simulation.years
    n_practices = sum(len(pcn.practices) for pcn in sc.pcns)
    units = n_practices + len(sc.pcns) + 1
    copies = 2 if len(partition.groups(sc)) == 1 else 3  # several groups: joined in run, and sorted
    return {
        "engine arrays": int(in_flight * sum(v for k, v in parts.items() if k != "ledger")),
        "per-patient tables": n * reps * years * TABLE_BYTES_PER_PATIENT_YEAR * copies if patients else 0,
        "touchpoint ledger": int(in_flight * parts.get("ledger", 0.0)) + (n * reps * years * 400 if ledger else 0),
        "weekly tallies": reps * (years * 52 + 1) * (n_practices * engine.state.N_WEEKLY + 2 * units * N_ROLES) * 8,
    }


def estimate(sc: Scenario, reps: int = 1, ledger: bool = False, patients: bool = True, at_once: int = 1) -> int:
    """Bytes a run will hold at its peak (the sum of `breakdown`)."""
    return sum(breakdown(sc, reps, ledger, patients, at_once).values())


def available() -> int:
    """Memory the system can give a new process now (MemAvailable), or the physical total if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check(sc: Scenario, reps: int = 1, ledger: bool = False, patients: bool = True, source=None,
          at_once: int = 1) -> None:
    """Raise a one-line ScenarioError, before allocating, when the run would not fit in memory."""
    parts, have = breakdown(sc, reps, ledger, patients, at_once), available()
    need = sum(parts.values())
    if need > HEADROOM * have:
        shown = ", ".join(f"{name} {size / 2**30:.1f}" for name, size in parts.items() if size >= 0.05 * 2**30)
        hints = [h for h, on in (("drop --ledger", ledger), ("keep no per-patient tables (--no-patients)", patients),
                                 ("run fewer replicates", reps > 1)) if on]
        raise ScenarioError(source or sc.name, "", f"this run needs about {need / 2**30:.1f} GiB ({shown}; "
                            f"{sc.n_patients:,} patients) but only {have / 2**30:.1f} GiB is available; "
                            + ("; ".join(hints) or "simulate fewer patients"))
