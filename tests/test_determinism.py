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
import pytest

from pcnsim import engine
from pcnsim.model import PCNModel
from pcnsim.run import replicate_seeds, run
from pcnsim.scenario import load

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


def test_two_engine_threads_give_the_one_thread_numbers():
    """One run on two cores splits its engine over two threads (each its half of the patients, meeting at
    spin barriers around booking and case finding); the numbers are those of one thread. The complex-care
    scenario exercises case finding, whose candidates and leavers' records are joined across the halves."""
    sc = load(ROOT / "scenarios" / "complex_care_team.yaml")
    one = run(sc, seed=7, years=1, threads=1)
    two = run(sc, seed=7, years=1, threads=2)
    assert np.array_equal(one.weekly, two.weekly)
    assert np.array_equal(one.capacity_offered, two.capacity_offered)
    assert np.array_equal(one.capacity_used, two.capacity_used)
    pd.testing.assert_frame_equal(one.patients, two.patients)
    assert one.patients["mdt_enrolled_months"].sum() > 0 and one.patients["exit"].ne("none").sum() > 0


@pytest.mark.skipif(not engine.SPLITS, reason="two engine threads need the JIT")
def test_a_model_on_two_threads_really_splits_and_matches_step_by_step(baseline, monkeypatch):
    # Waits that outlast spinning (other work on the cores, e.g. a previous test's processes) would send the
    # model to one thread for a while (its own test covers that); here it must stay on two, whatever the load.
    monkeypatch.setattr("pcnsim.model.CONTENDED_WAITS", 10**9)
    a, b = PCNModel(baseline, seed=3), PCNModel(baseline, seed=3, threads=2)
    n = a.state.pid.shape[0]
    for week in range(10):  # two 4-week months: deaths, leavers and newcomers on both halves
        a.step()
        b.step()
        assert np.array_equal(a.tally.weekly, b.tally.weekly), f"week {week}"
    assert b.workspace.sync[0] > 0 and list(b.workspace.bounds) == [0, n // 2, n]  # the barriers were used
    for name, x, y in zip(a.state._fields, a.state, b.state, strict=True):
        assert np.array_equal(x, y), name
    exits = int(a.tally.n_exits[0])
    assert exits > 0 and int(b.tally.n_exits[0]) == exits
    assert np.array_equal(a.tally.exit_meta[:exits], b.tally.exit_meta[:exits])  # slot order across halves
    assert not b.second_tally.weekly.any()  # the second thread's counts were all handed over


@pytest.mark.skipif(not engine.SPLITS, reason="two engine threads need the JIT")
def test_the_second_thread_stays_between_calls_and_leaves_when_idle(baseline, monkeypatch):
    """A run's second engine thread stays in the kernels between weekly calls (a thread started each week
    cost ~10% of a run); new parameters (a lever moving) get a new thread and the old one leaves; an idle one
    leaves by itself and the next call starts another. The numbers stay those of one thread throughout."""
    from pcnsim.engine import kernels

    monkeypatch.setattr("pcnsim.model.CONTENDED_WAITS", 10**9)  # stay on two threads, whatever the load
    a, b = PCNModel(baseline, seed=3), PCNModel(baseline, seed=3, threads=2)
    W = b.workspace

    def step(weeks):
        for _ in range(weeks):
            a.step()
            b.step()

    step(3)
    first = engine._helpers[id(W.sync)].thread
    assert first.is_alive() and W.sync[kernels.MAIL] == W.sync[kernels.MAIL_DONE] == 3  # one thread, 3 weeks
    serial = W.sync[kernels.MAIL_SERIAL]
    a.params, b.params = a.params._replace(keys=a.params.keys.copy()), b.params._replace(keys=b.params.keys.copy())
    step(1)
    first.join(timeout=30)
    second = engine._helpers[id(W.sync)].thread
    assert not first.is_alive() and second is not first and W.sync[kernels.MAIL_SERIAL] > serial
    second.join(timeout=30)  # nothing posted: it leaves within ~25 ms and closes the mailbox
    assert not second.is_alive() and W.sync[kernels.MAIL] == kernels.CLOSED
    step(2)
    assert engine._helpers[id(W.sync)].thread.is_alive() and W.sync[kernels.MAIL] == W.sync[kernels.MAIL_DONE] == 2
    assert np.array_equal(a.tally.weekly, b.tally.weekly)
    for name, x, y in zip(a.state._fields, a.state, b.state, strict=True):
        assert np.array_equal(x, y), name


def test_two_engine_threads_refuse_the_ledger(baseline):
    with pytest.raises(ValueError, match="threads must be 1 or 2, and 1 with the touchpoint ledger"):
        PCNModel(baseline, seed=1, ledger=True, threads=2)


@pytest.mark.skipif(not engine.SPLITS, reason="two engine threads need the JIT")
def test_a_called_off_run_frees_the_waiting_thread(baseline):
    """If the caller is interrupted before its thread enters the kernel, the other thread must not spin at
    the first barrier for ever: the call-off flag releases it."""
    import threading

    from pcnsim.engine import kernels

    model = PCNModel(baseline, seed=1, threads=2)
    S, W = model.state, model.workspace
    n = S.pid.shape[0]
    W.bounds[:] = (0, n // 2, n)
    W.sync[:] = 0
    W.sync[1] = 1
    helper = threading.Thread(target=kernels.run_days, daemon=True, args=(
        S, model.params, model.tally, model.second_tally, W, 0, 7, kernels.YEAR_ON, -1, 1, 2))
    helper.start()
    helper.join(timeout=60)
    assert not helper.is_alive()
    assert W.sync[0] == 1  # it arrived at the first barrier alone and left


@pytest.mark.skipif(not engine.SPLITS, reason="two engine threads need the JIT")
def test_a_late_partner_is_counted_as_a_contended_wait(baseline):
    """A thread whose partner starts 50 ms late waits past its spinning (about 1 ms) and naps: the wait is
    counted once (not once per nap), which is what sends a model on busy cores back to one thread. Thread
    1's own count is not asserted: on a shared machine thread 0 can be descheduled for over a millisecond
    too, and production tolerates such strays (`CONTENDED_WAITS`)."""
    import threading
    import time

    from pcnsim.engine import kernels

    model = PCNModel(baseline, seed=1, threads=2)
    S, W = model.state, model.workspace
    model.step()  # compiled and warm
    n = S.pid.shape[0]
    W.bounds[:] = (0, n // 2, n)
    W.sync[:] = 0

    def late_partner():
        time.sleep(0.05)
        kernels.run_days(S, model.params, model.tally, model.second_tally, W, 7, 8, kernels.YEAR_ON, -1, 1, 2)

    helper = threading.Thread(target=late_partner, daemon=True)
    helper.start()
    kernels.run_days(S, model.params, model.tally, model.second_tally, W, 7, 8, kernels.YEAR_ON, -1, 0, 2)
    helper.join(timeout=60)
    assert 1 <= W.sync[9] <= W.sync[8] - 1  # thread 0 napped at its first barrier, not at every one after


@pytest.mark.skipif(not engine.SPLITS, reason="two engine threads need the JIT")
def test_a_contended_model_falls_back_to_one_thread_and_back_with_the_same_numbers(baseline, monkeypatch):
    """Every two-thread week is taken as contended (threshold below zero) and a contended week sends the
    next one to one thread: the run alternates between the two paths and still gives one thread's numbers."""
    import pcnsim.model as model_module

    monkeypatch.setattr(model_module, "CONTENDED_WAITS", -1)
    monkeypatch.setattr(model_module, "SOLO_WEEKS", 1)
    paths = []
    advance = engine.advance

    def recording_advance(*args, **kwargs):
        paths.append(2 if args[6] is not None else 1)  # the second tally
        return advance(*args, **kwargs)

    monkeypatch.setattr(engine, "advance", recording_advance)
    a, b = PCNModel(baseline, seed=5), PCNModel(baseline, seed=5, threads=2)
    for _ in range(10):
        a.step()
    for _ in range(10):
        b.step()
    assert paths == [1] * 10 + [2, 1] * 5
    assert np.array_equal(a.tally.weekly, b.tally.weekly)
    for name, x, y in zip(a.state._fields, a.state, b.state, strict=True):
        assert np.array_equal(x, y), name


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
    assert len(calls) < 20 and a.lever_intensity == b.lever_intensity and b.lever_intensity["acute_visiting"] > 0
