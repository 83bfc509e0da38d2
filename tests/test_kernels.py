"""Engine helpers that the reference tests reach only indirectly: the day's scan and sorts, the prefetch hint
and the state's memory layout."""

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pcnsim.engine import allocate_state, allocate_workspace
from pcnsim.engine.bitscan import lowest_set_bit
from pcnsim.engine.prefetch import prefetch
from pcnsim.engine.seeking import list_due
from pcnsim.engine.sorting import sort_keys
from pcnsim.engine.state import HUGE_PAGE, NEVER, PATIENT, SORT_BITS, state_bytes

call_sort_keys = numba.njit(lambda w, n: sort_keys(w, n))  # kernels are called from kernels only
call_list_due = numba.njit(lambda next_event, active, n, day: list_due(next_event, active, n, day))


def _sorted_by_kernel(keys):
    w = allocate_workspace(max(len(keys), 1))
    w.order_key[: len(keys)] = keys
    call_sort_keys(w, len(keys))
    return w.order[: len(keys)].copy()


@given(st.lists(st.integers(0, 2**63 - 1), max_size=300))
@settings(max_examples=200, deadline=None)
def test_sort_keys_is_a_stable_argsort(keys):
    keys = np.array(keys, dtype=np.uint64)
    assert np.array_equal(_sorted_by_kernel(keys), np.argsort(keys, kind="stable"))


def test_sort_keys_keeps_ties_and_crowded_buckets_in_input_order():
    # A day's keys: urgency rank in the top bits, random priority below; then keys that share their top
    # SORT_BITS bits (one bucket, sorted by insertion) with many exact ties.
    rng = np.random.default_rng(3)
    rank = rng.integers(0, 3, 5_000).astype(np.uint64) << np.uint64(61)
    day = rank | (rng.integers(0, 2**61, 5_000, dtype=np.uint64))
    crowded = (np.uint64(5) << np.uint64(63 - SORT_BITS)) | rng.integers(0, 50, 2_000).astype(np.uint64)
    for keys in (day, crowded, np.zeros(7, np.uint64), np.full(3, 2**63 - 1, np.uint64)):
        assert np.array_equal(_sorted_by_kernel(keys), np.argsort(keys, kind="stable"))


@given(st.lists(st.integers(0, 9), max_size=400), st.integers(0, 9), st.data())
@settings(max_examples=200, deadline=None)
def test_the_days_scan_lists_exactly_the_due_slots_in_order(days, today, data):
    # Lists that end off the scan's 64-slot blocks, shorter than a block, or empty.
    next_event = np.array(days, np.int32)
    n = data.draw(st.integers(0, len(days)))
    active = np.full(len(days), -1, np.int32)
    end = call_list_due(next_event, active, n, today)
    assert np.array_equal(active[:end], np.flatnonzero(next_event[:n] <= today))
    assert (active[end:] == -1).all()


@pytest.mark.parametrize("at", [0, 1, 31, 32, 63])
def test_lowest_set_bit_in_the_kernels_and_in_python(at):
    mask = np.uint64(1 << at) | np.uint64(1 << 63)
    assert lowest_set_bit(mask) == at  # the Python version (kernels without the JIT)
    assert numba.njit(lambda m: lowest_set_bit(m))(mask) == at


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="no machine code without the JIT")
def test_prefetch_emits_a_prefetch_instruction():
    # A hint the compiler dropped would cost nothing visible but the speed; check it reaches the machine code.
    @numba.njit
    def touch(a, b, i):
        prefetch(a, i)
        prefetch(b, i)
        return a[i] + b[i, 0]

    a, b = np.arange(10, dtype=np.int32), np.ones((10, 12))
    assert touch(a, b, 4) == 5.0
    asm = next(iter(touch.inspect_asm().values())).lower()
    # a[i]; the first, and (a row wider than 32 bytes) the middle and last elements of b[i]
    assert asm.count("prefetcht0") >= 4


def _buffer(a):
    while a.base is not None:
        a = a.base
    return a


def test_a_patients_fields_are_one_record_in_one_buffer_on_huge_pages():
    # The engine's speed rests on this layout (a patient's fields on four adjacent cache lines, the state on
    # 2 MiB pages) and no number depends on it, so only a test would notice it undone.
    n = 20_000  # 5.5 MB of state: numpy asks for huge pages from 4 MiB
    s = allocate_state(n, 6, 28)
    for name in PATIENT.names:
        field = getattr(s, name)
        assert field.shape[0] == n and field.strides[0] == PATIENT.itemsize, name
        offset = field.ctypes.data - s.pid.ctypes.data
        assert 0 <= offset and offset + field[0].nbytes <= PATIENT.itemsize, f"{name} leaves patient 0's record"
    assert s.patients.dtype == PATIENT and s.patients.ctypes.data == s.pid.ctypes.data  # the kernels' records
    assert s.pid.ctypes.data % HUGE_PAGE == 0
    assert s.next_event.strides == (4,)  # the day's scan reads a plain array
    arrays = [*s[:-1], *s.kernel]  # every array, and what the kernels are given
    assert all(_buffer(a) is _buffer(s.pid) for a in arrays)
    # What pcnsim.memory counts per patient is what each patient adds to the buffer.
    added = (_buffer(allocate_state(2 * n, 6, 28).pid).nbytes - _buffer(s.pid).nbytes) / n
    assert added == pytest.approx(state_bytes(1), abs=1)
    # A fresh state is empty: no episodes, no events due.
    assert (s.ep_type == -1).all() and (s.ep_next == NEVER).all() and (s.next_event == NEVER).all()


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="without the JIT every kernel is a Python function")
def test_a_kernel_called_from_python_refuses_instead_of_crashing():
    with pytest.raises(TypeError, match="called from other kernels only"):
        sort_keys(allocate_workspace(1), 0)


def test_every_list_size_runs_the_same_compiled_engine():
    """The kernels are given whole arrays only (`state.KernelState`), so a list of one patient, whose field
    views numpy flags as contiguous, does not make numba compile the engine again."""
    from pcnsim.engine import day
    from pcnsim.run import run
    from pcnsim.scenario import load

    def tiny(size):
        return load(overrides={"simulation": {"burn_in_years": 0, "years": 1},
                               "pcns": [{"name": "p", "practices": [{"name": "a", "list_size": size}]}]})

    run(tiny(50), seed=1)
    compiled = len(getattr(day.run_days, "signatures", []))
    run(tiny(1), seed=1)
    assert len(getattr(day.run_days, "signatures", [])) == compiled
