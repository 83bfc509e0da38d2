"""Reproducibility: the same scenario and seed give identical numbers, whatever the thread count."""

import hashlib
import os
import subprocess
import sys

import numpy as np
import pandas as pd

from pcnsim.run import replicate_seeds, run

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
