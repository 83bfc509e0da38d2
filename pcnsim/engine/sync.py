"""Atomic counters and a spin barrier for the two threads of one run (`kernels.run_days`, threads=2).

Both threads run the same kernel on their own half of the patient slots and meet at barriers around the
day's sequential steps (booking, case finding). A barrier is a shared, ever-growing arrival count: at its
b-th barrier a thread adds 1 and waits until the count reaches 2b, so no reset is needed and a thread can
never pass a barrier the other has not reached. Waiting spins (with the CPU's pause hint): the steps
between barriers take up to a few hundred microseconds, less than waking a sleeping thread would. A wait
that lasts longer (the partner was descheduled: other work shares the cores) naps between checks, so the
waiting thread does not hold the core its partner needs (beside one busy process pure spinning ran 3.7x
slower than one thread, spinning on sched_yield 2.7x).

The second thread stays in the kernels between calls (`kernels.serve`): the first posts each call's days
in a mailbox (a compare-and-swap, so a second thread that leaves after idling cannot miss a job) and waits
for the job to be marked done.

The barrier uses LLVM atomics (a sequentially consistent add, an acquire load), which also stop the
compiler and the CPU from moving the day's ordinary loads and stores across it. Nothing else is atomic:
the threads write disjoint patients and their own tallies (an atomic add in the patient loop, even a
relaxed one, made it 10-25% slower by pinning the loads around it). Without the JIT
(NUMBA_DISABLE_JIT=1) they are plain Python operations and only one thread is used. The pause hint is the
CPU's own (x86 `pause`, ARM `yield`, none elsewhere); napping needs POSIX `usleep` (elsewhere a wait
keeps spinning).
"""

import os
import platform

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from .config import OVERLOAD_OPTIONS


def arrive(arr, i):
    """arr[i] += 1 as one atomic step that also publishes every earlier write (a barrier's arrival)."""
    arr[i] += 1


def atomic_load(arr, i):
    """arr[i], read with acquire ordering (arr a 1-D int64 array)."""
    return arr[i]


def compare_swap(arr, i, expected, new):
    """If arr[i] equals `expected`, set it to `new`, as one atomic step (sequentially consistent, so it also
    publishes every earlier write); returns the value arr[i] had."""
    old = arr[i]
    if old == expected:
        arr[i] = new
    return old


def cpu_pause():
    """The spin-wait hint (x86 `pause`, ARM `yield`, nothing elsewhere): lets the partner thread run."""


def nap():
    """Sleep about 50 µs (POSIX `usleep`): free the core for a thread that is not running."""


def _item_pointer(context, builder, aryty, ary, idxty, idx):
    """Pointer to arr[idx] (no bounds check, like the kernels)."""
    shape = cgutils.unpack_tuple(builder, ary.shape)
    strides = cgutils.unpack_tuple(builder, ary.strides)
    return cgutils.get_item_pointer2(context, builder, ary.data, shape, strides, aryty.layout,
                                     [context.cast(builder, idx, idxty, types.intp)], wraparound=False)


def _fits(arr, i):
    return isinstance(arr, types.Array) and arr.ndim == 1 and isinstance(arr.dtype, types.Integer) and isinstance(
        i, types.Integer)


@intrinsic
def _arrive(typingctx, arr, i):
    def codegen(context, builder, sig, args):
        aryty = sig.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        one = context.get_constant(aryty.dtype, 1)
        builder.atomic_rmw("add", _item_pointer(context, builder, aryty, ary, sig.args[1], args[1]), one, "seq_cst")
        return context.get_dummy_value()

    if not _fits(arr, i):
        return None
    return types.void(arr, i), codegen


@intrinsic
def _atomic_load(typingctx, arr, i):
    def codegen(context, builder, sig, args):
        aryty = sig.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = _item_pointer(context, builder, aryty, ary, sig.args[1], args[1])
        return builder.load_atomic(ptr, "acquire", context.get_abi_sizeof(context.get_data_type(aryty.dtype)))

    if not _fits(arr, i):
        return None
    return arr.dtype(arr, i), codegen


@intrinsic
def _compare_swap(typingctx, arr, i, expected, new):
    def codegen(context, builder, sig, args):
        aryty = sig.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = _item_pointer(context, builder, aryty, ary, sig.args[1], args[1])
        cmp = context.cast(builder, args[2], sig.args[2], aryty.dtype)
        val = context.cast(builder, args[3], sig.args[3], aryty.dtype)
        return builder.extract_value(builder.cmpxchg(ptr, cmp, val, "seq_cst", "seq_cst"), 0)

    if not (_fits(arr, i) and isinstance(expected, types.Integer) and isinstance(new, types.Integer)):
        return None
    return arr.dtype(arr, i, expected, new), codegen


MACHINE = platform.machine().lower()


@intrinsic
def _cpu_pause(typingctx):
    def codegen(context, builder, sig, args):
        if MACHINE in ("x86_64", "amd64", "i386", "i686"):
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), []),
                                                "llvm.x86.sse2.pause")
            builder.call(fn, [])
        elif MACHINE in ("arm64", "aarch64"):
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [ir.IntType(32)]),
                                                "llvm.aarch64.hint")
            builder.call(fn, [ir.Constant(ir.IntType(32), 1)])  # hint #1: yield
        return context.get_dummy_value()

    return types.void(), codegen


@intrinsic
def _nap(typingctx):
    def codegen(context, builder, sig, args):
        if os.name == "posix":
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), [ir.IntType(32)]),
                                                "usleep")
            builder.call(fn, [ir.Constant(ir.IntType(32), 50)])
        return context.get_dummy_value()

    return types.void(), codegen


@overload(arrive, jit_options=OVERLOAD_OPTIONS)
def _arrive_overload(arr, i):
    return lambda arr, i: _arrive(arr, i)


@overload(atomic_load, jit_options=OVERLOAD_OPTIONS)
def _atomic_load_overload(arr, i):
    return lambda arr, i: _atomic_load(arr, i)


@overload(compare_swap, jit_options=OVERLOAD_OPTIONS)
def _compare_swap_overload(arr, i, expected, new):
    return lambda arr, i, expected, new: _compare_swap(arr, i, expected, new)


@overload(cpu_pause, jit_options=OVERLOAD_OPTIONS)
def _cpu_pause_overload():
    return lambda: _cpu_pause()


@overload(nap, jit_options=OVERLOAD_OPTIONS)
def _nap_overload():
    return lambda: _nap()
