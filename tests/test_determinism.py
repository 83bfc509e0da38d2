"""Reproducibility: the same scenario and seed give identical numbers, whatever the thread count."""

import gc
import hashlib
import os
import subprocess
import sys
import weakref
from pathlib import Path

import numpy as np
import pandas as pd

from pcnsim import engine
from pcnsim.model import PCNModel
from pcnsim.run import replicate_seeds, run

ROOT = Path(__file__).resolve().parents[1]

FINGERPRINT = """
import hashlib, sys
from pcnsim.run import run
res = run(years=1, seed=int(sys.argv[1]), reps=1)
h = hashlib.sha256(res.weekly.tobytes())
h.update(res.patients.drop(columns=[]).to_csv(index=False).encode())
print(h.hexdigest())
"""


def fingerprint(res) -> str:
    h = hashlib.sha256(res.weekly.tobytes())
    h.update(res.patients.to_csv(index=False).encode())
    return h.hexdigest()


def test_same_seed_same_numbers_in_process(baseline):
    a = run(baseline, seed=5, years=1)
    b = run(baseline, seed=5, years=1)
    assert np.array_equal(a.weekly, b.weekly)
    pd.testing.assert_frame_equal(a.patients, b.patients)
    c = run(baseline, seed=6, years=1)
    assert not np.array_equal(a.weekly, c.weekly)


def test_identical_for_one_and_two_threads(baseline):
    expected = fingerprint(run(baseline, seed=11, years=1))
    for threads in ("1", "2"):
        env = {**os.environ, "NUMBA_NUM_THREADS": threads}
        out = subprocess.run([sys.executable, "-c", FINGERPRINT, "11"], env=env, capture_output=True, text=True,
                             check=True, timeout=600)
        assert out.stdout.strip().splitlines()[-1] == expected, f"NUMBA_NUM_THREADS={threads}"


def test_replicate_seeds_are_spawned_and_stable():
    seeds = replicate_seeds(123, 4)
    assert seeds[:2] == replicate_seeds(123, 2)  # adding replicates keeps the earlier ones
    assert len(set(seeds)) == 4
    assert replicate_seeds(124, 1) != seeds[:1]


def test_replicates_differ_but_each_is_reproducible(baseline_run, baseline):
    res = baseline_run
    assert not np.array_equal(res.weekly[0], res.weekly[1])
    again = run(baseline, seed=res.root_seed, years=1, reps=1)
    assert np.array_equal(again.weekly[0], res.weekly[0])
    assert hashlib.sha256(again.weekly[0].tobytes()).hexdigest() == hashlib.sha256(res.weekly[0].tobytes()).hexdigest()


def test_replicates_in_threads_give_the_numbers_of_one_thread(baseline):
    """Replicates run side by side in threads (the kernels release the GIL); each is computed alone, so the
    results, in replicate order, are those of a one-at-a-time run; and replicate r alone is replicate r."""
    one = run(baseline, seed=3, years=1, reps=3, threads=1)
    two = run(baseline, seed=3, years=1, reps=3, threads=2)
    assert np.array_equal(one.weekly, two.weekly) and np.array_equal(one.capacity_used, two.capacity_used)
    pd.testing.assert_frame_equal(one.patients, two.patients)
    alone = run(baseline, seed=3, years=1, reps=3, replicates=[2])
    assert np.array_equal(alone.weekly[0], one.weekly[2])


def test_a_finished_model_is_freed(baseline):
    # Mesa keys its agent-id counters by model; left there, every replicate's engine state stayed in memory
    # for the life of the process (a sweep's memory grew by ~12 MB a run). A model nobody holds is freed.
    model = PCNModel(baseline, seed=1, keep_patients=False)
    model.step()
    gone = weakref.ref(model)
    del model
    gc.collect()
    assert gone() is None


def test_advancing_many_weeks_a_call_gives_the_numbers_of_week_by_week(baseline, monkeypatch):
    """`PCNModel.advance` runs up to a year of weeks in one engine call (each call has a fixed cost). It stops
    at each year end and before any week in which a lever's intensity changes, so its numbers are `step`'s:
    here a lever ramps over the first 60 reported days (the tables change about every 3 days)."""
    sc = baseline.model_copy(deep=True)
    sc.levers.acute_visiting.enabled = True
    sc.levers.acute_visiting.start_day = 30
    sc.levers.acute_visiting.ramp_days = 60
    calls = []
    advance = engine.advance

    def recording_advance(*args, **kwargs):
        calls.append((args[4], args[5]))
        return advance(*args, **kwargs)

    a, b = PCNModel(sc, seed=11), PCNModel(sc, seed=11)
    while not a.finished:
        a.step()
    monkeypatch.setattr(engine, "advance", recording_advance)
    while not b.finished:
        b.advance(52)
    assert np.array_equal(a.tally.weekly, b.tally.weekly)
    for name, x, y in zip(a.state._fields, a.state, b.state, strict=True):
        if name != "kernel":  # the kernels' view of the same arrays
            assert np.array_equal(x, y), name
    kept = a.patient_table()
    pd.testing.assert_frame_equal(kept, b.patient_table())
    a.release_patient_table()  # the model lets go of the table's columns; tables made before keep them
    assert a.patient_table() is None
    pd.testing.assert_frame_equal(kept, b.patient_table())
    year, ramp = engine.DAYS_PER_YEAR, range(engine.DAYS_PER_YEAR + 30, engine.DAYS_PER_YEAR + 91)
    assert calls[0] == (0, year)  # the burn-in year in one call
    assert all(d0 // year == (d1 - 1) // year for d0, d1 in calls)  # no call crosses a year end
    assert all(d1 - d0 == 7 for d0, d1 in calls if d0 + 7 in ramp)  # week by week while the lever ramps
    assert len(calls) < 20 and a.lever_intensity == b.lever_intensity and b.lever_intensity["acute_visiting"].staff > 0
