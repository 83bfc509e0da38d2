"""A cache prefetch hint for numba kernels: `prefetch(arr, i)` asks for row i of `arr` ahead of use.

The day's patients are visited in slot order and its requests in a random priority order, so on a large
list each one's record is a miss in the core's cache; the patient pass and the booking loop would wait
on those loads (`hints.prefetch_patient` asks for a patient's record a few places ahead). A hint changes
no result. Without the JIT (NUMBA_DISABLE_JIT=1) it is a Python no-op.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from .config import OVERLOAD_OPTIONS


def prefetch(arr, i):
    """Hint that arr[i] (a 1-D array) or row i (a 2-D array) is needed soon. A row's first cache line is
    asked for; a row wider than WIDE_ROW bytes has its middle and last elements asked for too (every line
    of a row of up to 128 bytes)."""


WIDE_ROW = 32  # bytes; a narrower row (an episode field: 3-12 bytes) rarely straddles two cache lines


@intrinsic
def _prefetch(typingctx, arr, i):
    def codegen(context, builder, sig, args):
        aryty, ity = sig.args
        ary = context.make_array(aryty)(context, builder, args[0])
        shape = cgutils.unpack_tuple(builder, ary.shape)
        strides = cgutils.unpack_tuple(builder, ary.strides)
        row = context.cast(builder, args[1], ity, types.intp)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), "llvm.prefetch.p0"
        )

        def hint(idx):
            ptr = cgutils.get_item_pointer2(context, builder, ary.data, shape, strides, aryty.layout, idx,
                                            wraparound=False)
            # read access, keep in all cache levels, data cache
            builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])

        if aryty.ndim == 1:
            hint([row])
            return context.get_dummy_value()
        zero, one = context.get_constant(types.intp, 0), context.get_constant(types.intp, 1)
        hint([row, zero])
        width = builder.mul(shape[1], context.get_constant(types.intp, context.get_abi_sizeof(
            context.get_data_type(aryty.dtype))))
        with builder.if_then(builder.icmp_signed(">", width, context.get_constant(types.intp, WIDE_ROW))):
            hint([row, builder.ashr(shape[1], one)])
            hint([row, builder.sub(shape[1], one)])
        return context.get_dummy_value()

    if not isinstance(arr, types.Array) or arr.ndim > 2 or not isinstance(i, types.Integer):
        return None
    return types.void(arr, i), codegen


@overload(prefetch, jit_options=OVERLOAD_OPTIONS)
def _prefetch_overload(arr, i):
    return lambda arr, i: _prefetch(arr, i)
