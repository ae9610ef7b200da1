"""A hint to the processor to start loading an array element that a kernel will read soon.

The T-cell pass (kernels/tcells.py) visits T cells in slot order, which is not the order of
their voxels, so each T cell's look-ups into the grid and into its partner blast's arrays
are scattered reads. Once the patch outgrows the caches each such read waits for memory,
and the pass branches too unpredictably for the processor to run ahead by itself. Asking
for a T cell's neighbourhood some cells ahead overlaps those waits. A prefetch changes no
value, so results are unchanged.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

_READ = 0  # llvm.prefetch: 0 read, 1 write
_KEEP = 3  # locality 0-3: keep in every cache level
_DATA = 1  # data, not instruction, cache


@intrinsic
def prefetch(typingctx, array, index):
    """`prefetch(array, i)`: start loading the cache line that holds `array[i]` (1-D, `i` in
    range). Compiles to one prefetch instruction; returns nothing."""
    if not isinstance(array, types.Array) or array.ndim != 1 or not isinstance(
            index, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(context, builder, array_type, view, [args[1]])
        byte_pointer = builder.bitcast(pointer, ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        function_type = ir.FunctionType(ir.VoidType(), [byte_pointer.type, i32, i32, i32])
        # llvmlite names the intrinsic for its pointer mode (p0i8 typed, p0 opaque).
        function = builder.module.declare_intrinsic("llvm.prefetch", [byte_pointer.type],
                                                    function_type)
        builder.call(function, [byte_pointer, i32(_READ), i32(_KEEP), i32(_DATA)])
        return context.get_dummy_value()

    return types.void(array, index), codegen
