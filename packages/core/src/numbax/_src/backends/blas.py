"""Matrix products for generated programs: ``matmul_serial``,
``matmul_split`` and (inside parallel loops) ``gemm`` call the ``gemm`` of
NumPy's own OpenBLAS, single-threaded.

Why not numba's ``np.dot``: numba compiles its np.dot overloads anew in every
process for each mix of layouts (~1.7 s of an MLP train step's 8.4 s first
compile), and it calls SciPy's OpenBLAS, a second thread pool beside NumPy's
that takes the cores from it. NumPy 2 wheels bundle an ILP64 OpenBLAS
(``numpy.libs/libscipy_openblas64_*``, symbols ``scipy_cblas_sgemm64_`` and
``scipy_cblas_dgemm64_``), the same pool eager numbax and user code use.

Cache safety: the compiled code calls the external functions ``numbax_sgemm``
and ``numbax_dgemm`` by name; their addresses are registered with LLVM at
import (``llvmlite.binding.add_symbol``) and resolved when a program is linked,
so a program loaded from numba's disk cache finds this process's library, as
numba's own helper symbols are found, instead of an address baked in by the
process that compiled it.

``AVAILABLE`` is False where that library is not found (NumPy built against
another BLAS) or ``NUMBAX_NUMPY_BLAS=0``; products then go through numba's
``np.dot``. The CPU backend puts ``AVAILABLE`` into every program's cache key.
"""

import numba
import numpy as np
from llvmlite import binding, ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from . import numpy_gemm

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")

# cblas enums (C ints); the sizes and leading dimensions are 64-bit (ILP64)
ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112
# The names programs call them by (numpy_gemm.SYMBOLS: what they are in NumPy's OpenBLAS)
_NAMES = {"float32": "numbax_sgemm", "float64": "numbax_dgemm", "threads": "numbax_blas_threads_local"}

# How many blocks ``matmul_split`` makes: numba's thread count, a constant of
# the compiled code (numba.get_num_threads() would make it impossible to cache).
_THREADS = numba.config.NUMBA_NUM_THREADS


# Registered even when NUMBAX_NUMPY_BLAS=0 (which tests the fallback): kernels
# loaded from numba's cache (conv_gemm) may have been compiled calling them.
for _key, _address in (numpy_gemm.addresses() or {}).items():
    binding.add_symbol(_NAMES[_key], _address)
AVAILABLE = numpy_gemm.available()


@intrinsic
def _gemm(typingctx, trans_a, trans_b, m, n, k, a, lda, b, ldb, out, ldc):
    """``out = op(a) @ op(b)`` through cblas ``gemm`` (row-major, alpha 1,
    beta 0); ``a``, ``b``, ``out`` are arrays of out's float type, passed by
    their data pointers."""
    dtype = out.dtype
    if str(dtype) not in ("float32", "float64") or a.dtype != dtype or b.dtype != dtype:
        return None
    sig = types.void(trans_a, trans_b, m, n, k, a, lda, b, ldb, out, ldc)

    def codegen(context, builder, signature, args):
        real = context.get_value_type(dtype)
        enum, size, pointer = ir.IntType(32), ir.IntType(64), real.as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [enum, enum, enum, size, size, size, real, pointer, size,
                                               pointer, size, real, pointer, size])
        gemm = cgutils.get_or_insert_function(builder.module, fnty, _NAMES[str(dtype)])

        def arg(i, to):
            return context.cast(builder, args[i], signature.args[i], to)

        def data(i):
            return context.make_array(signature.args[i])(context, builder, value=args[i]).data
        builder.call(gemm, [enum(ROW_MAJOR), arg(0, types.int32), arg(1, types.int32),
                            arg(2, types.int64), arg(3, types.int64), arg(4, types.int64), real(1.0),
                            data(5), arg(6, types.int64), data(7), arg(8, types.int64), real(0.0),
                            data(9), arg(10, types.int64)])
        return context.get_dummy_value()
    return sig, codegen


@intrinsic
def _set_threads_local(typingctx, threads):
    """OpenBLAS's ``openblas_set_num_threads_local``; returns the previous
    setting. In NumPy's build this sets the process-wide thread count (a
    call from another thread changes what the main thread sees), so it must
    never run on two threads at once: two threads restoring their 'previous'
    values in the wrong order leave NumPy's BLAS on one thread for good."""
    sig = types.int32(types.int32)

    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ir.IntType(32), [ir.IntType(32)])
        setter = cgutils.get_or_insert_function(builder.module, fnty, _NAMES["threads"])
        return builder.call(setter, [args[0]])
    return sig, codegen


@_jit
def _layout(x):
    """``(transpose flag, leading dimension)`` under which BLAS reads the 2-D
    array ``x`` in place: row-major (C order, or rows of a wider C array) as
    is, column-major (a transposed view) transposed; ``(0, 0)`` if neither
    (a flipped or broadcast view). Strides of size-1 axes do not matter."""
    rows, cols = x.shape
    item = x.itemsize
    s0, s1 = x.strides[0] // item, x.strides[1] // item
    if (cols <= 1 or x.strides[1] == item) and (rows <= 1 or s0 >= cols):
        return NO_TRANS, s0 if rows > 1 else max(cols, 1)
    if (rows <= 1 or x.strides[0] == item) and (cols <= 1 or s1 >= rows):
        return TRANS, s1 if cols > 1 else max(rows, 1)
    return 0, 0


if AVAILABLE:
    @_jit
    def _gemm_call(a, b, out):
        """``out[...] = a @ b`` by one ``gemm`` (non-empty operands), on as many
        threads as OpenBLAS's current setting allows."""
        m, k = a.shape
        n = b.shape[1]
        trans_out, ldc = _layout(out)
        if trans_out != NO_TRANS:
            raise ValueError("matmul: out must be row-major")
        trans_a, lda = _layout(a)
        trans_b, ldb = _layout(b)
        if trans_a and trans_b:
            _gemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, out, ldc)
        else:
            _gemm(NO_TRANS, NO_TRANS, m, n, k, np.ascontiguousarray(a), k, np.ascontiguousarray(b), n, out, ldc)

    @_jit
    def blas_threads(threads):
        """Set NumPy's OpenBLAS to ``threads`` threads; returns the previous
        count. Call it outside parallel loops only (see _set_threads_local)."""
        return _set_threads_local(np.int32(threads))
else:
    @_jit
    def _gemm_call(a, b, out):
        """``out[...] = a @ b`` through numba's np.dot (SciPy's BLAS, one thread)."""
        np.dot(a, b, out)

    @_jit
    def blas_threads(threads):
        """(SciPy's BLAS is kept on one thread by cpu.py.)"""
        return np.int32(0)


@_jit
def gemm(a, b, out):
    """``out[...] = a @ b`` for 2-D float arrays of one dtype; ``out``
    row-major. Transposed views are read in place; other layouts copied.
    Inside parallel loops, whose caller put BLAS on one thread
    (``blas_threads``) around the loop."""
    if out.size == 0:
        return
    if a.shape[1] == 0:
        out[...] = 0
        return
    _gemm_call(a, b, out)


@_jit
def matmul_serial(a, b, out):
    """``gemm`` on the calling thread alone (OpenBLAS would hand products
    from ~256K multiply-adds to its thread pool). Not inside parallel loops."""
    previous = blas_threads(1)
    gemm(a, b, out)
    blas_threads(previous)


@numba.njit(cache=True, nogil=True, error_model="numpy", parallel=True)
def matmul_split(a, b, out):
    """``gemm`` as one single-threaded product per block of out's rows (of its
    columns when it has fewer rows), a block per numba thread: for large
    products (cpu.SPLIT_PRODUCT), in programs compiled ``parallel=True``."""
    m, n = out.shape
    by_rows = m >= n
    size = -(-(m if by_rows else n) // _THREADS)
    previous = blas_threads(1)
    for part in numba.prange(_THREADS):
        lo = part * size
        hi = min(lo + size, m if by_rows else n)
        if lo < hi:
            if by_rows:
                gemm(a[lo:hi], b, out[lo:hi])
            else:
                gemm(a, b[:, lo:hi], out[:, lo:hi])
    blas_threads(previous)
