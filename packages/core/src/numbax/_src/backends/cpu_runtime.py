"""Small numba functions that generated CPU programs call (``rt.<name>``):
scalar semantics numba's operators do not have (lax's NaN-propagating max,
C-style integer division, XLA's shift rules, saturating float-to-int casts)
and kernels too long to print inline (sorting, convolution windows).

They are compiled with ``cache=True`` like the programs, so a warm process
loads them from numba's cache too.
"""

import math
import sys

import numba
import numpy as np


def _import_arraymath_without_its_blas_probe():
    """Import numba.np.arraymath (numba does on its first compile or cache
    load) without the probe it runs at import: ``_check_blas`` imports
    scipy.linalg, 0.2-0.3 s of a warm process's ~0.9 s to its first result
    (W11 of benchmarks/jit_workloads.py), only to learn whether np.vdot may
    call BLAS. numbax requires SciPy, so the answer is yes; numba's linalg
    functions still import scipy.linalg (and check it) when one is compiled."""
    if "numba.np.arraymath" in sys.modules:
        return
    from numba.np import linalg
    probe = linalg.ensure_blas
    linalg.ensure_blas = lambda: None
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        linalg.ensure_blas = probe


_import_arraymath_without_its_blas_probe()

from numba.core import cgutils, types  # noqa: E402
from numba.core.imputils import impl_ret_borrowed  # noqa: E402
from numba.core.typing.npydecl import parse_dtype, parse_shape  # noqa: E402
from numba.extending import intrinsic  # noqa: E402
from numba.np.arrayobj import _empty_nd_impl  # noqa: E402

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@intrinsic
def empty(typingctx, shape, dtype):
    """``np.empty(shape, dtype)`` for a tuple of integers and a NumPy scalar
    type, lowered in place. numba's np.empty is an overload compiled per
    (shape tuple type, dtype) pair, 0.05-0.2 s each on a program's first
    compile; this allocates through the same runtime call
    (``_empty_nd_impl``) with no compile of its own."""
    array = _array_type(shape, dtype)
    if array is None:
        return None

    def codegen(context, builder, signature, args):
        return _allocate(context, builder, array, signature.args[0], args[0])._getvalue()
    return array(shape, dtype), codegen


@intrinsic
def full(typingctx, shape, value, dtype):
    """``np.full(shape, value, dtype)`` lowered in place, as ``empty``."""
    array = _array_type(shape, dtype)
    if array is None or not isinstance(value, (types.Number, types.Boolean)):
        return None

    def codegen(context, builder, signature, args):
        result = _allocate(context, builder, array, signature.args[0], args[0])
        fill = context.cast(builder, args[1], signature.args[1], array.dtype)
        with cgutils.for_range(builder, result.nitems) as loop:
            context.pack_value(builder, array.dtype, fill, builder.gep(result.data, [loop.index]))
        return result._getvalue()
    return array(shape, value, dtype), codegen


def _array_type(shape, dtype):
    ndim, element = parse_shape(shape), parse_dtype(dtype)
    return None if ndim is None or element is None else types.Array(element, ndim, "C")


def _allocate(context, builder, array, shape_type, shape):
    sizes = [context.cast(builder, v, t, types.intp)
             for v, t in zip(cgutils.unpack_tuple(builder, shape, array.ndim), shape_type)]
    return _empty_nd_impl(context, builder, array, sizes)


@intrinsic
def writeable(typingctx, a):
    """``a`` itself, typed as a writeable array. A program's array arguments
    are typed read-only (so one signature takes NumPy's read-only views too);
    inside the program they carry the writeable type its outputs and
    temporaries have, so kernels such as ``np.dot`` are compiled for one type
    instead of both, and donated inputs can be written. An intrinsic is
    lowered in place, with no compile of its own (``np.ascontiguousarray``,
    used before, cost an overload compile of 0.4-0.7 s per input type)."""
    def codegen(context, builder, signature, args):
        return impl_ret_borrowed(context, builder, signature.return_type, args[0])
    return a.copy(readonly=False)(a), codegen


@_jit
def fmax(a, b):
    """lax.max on floats: NaN if either operand is NaN."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a > b else b


@_jit
def fmin(a, b):
    if a != a:
        return a
    if b != b:
        return b
    return a if a < b else b


@_jit
def sign(x):
    if x != x:
        return x
    return (x > 0) - (x < 0)


@_jit
def round_away(x):
    """Round half away from zero (lax.round's default)."""
    t = np.trunc(x)
    if abs(x - t) >= 0.5:
        return t + (1.0 if x > 0 else -1.0)
    return t


@_jit
def int_div(a, b):
    """Integer division rounding toward zero (C semantics, as XLA); x/0 is 0."""
    if b == 0:
        return 0
    q = a // b
    if q < 0 and q * b != a:
        q += 1
    return q


@_jit
def int_rem(a, b):
    """Remainder with the dividend's sign (C fmod semantics); x%0 is 0."""
    if b == 0:
        return 0
    return a - int_div(a, b) * b


@_jit
def shift_left(x, y, bits):
    if y < 0 or y >= bits:
        return 0
    return x << y


@_jit
def shift_right_logical(x, y, bits, mask):
    """Logical right shift of ``x`` viewed as ``bits``-bit unsigned (``mask``
    is 2**bits - 1); out-of-range shifts give 0 as in XLA."""
    if y < 0 or y >= bits:
        return 0
    return (np.uint64(x) & np.uint64(mask)) >> np.uint64(y)


@_jit
def shift_right_arithmetic(x, y, bits):
    if y < 0 or y >= bits:
        y = bits - 1
    return x >> y


@_jit
def float_to_int(x, lo, hi):
    """Truncate toward zero, NaN to 0, saturate at ``[lo, hi]`` (XLA)."""
    if x != x:
        return 0
    if x >= hi:
        return hi
    if x <= lo:
        return lo
    return int(x)


@_jit
def popcount(x, bits):
    v = np.uint64(x) & np.uint64((1 << bits) - 1) if bits < 64 else np.uint64(x)
    count = 0
    while v:
        v &= v - np.uint64(1)
        count += 1
    return count


@_jit
def erf_inv(x):
    """Inverse error function: Giles' single-precision approximation refined
    by two Newton steps on erf (accurate to float64 rounding)."""
    if x <= -1.0:
        return -np.inf if x == -1.0 else np.nan
    if x >= 1.0:
        return np.inf if x == 1.0 else np.nan
    w = -math.log((1.0 - x) * (1.0 + x))
    if w < 5.0:
        w -= 2.5
        p = 2.81022636e-08
        p = 3.43273939e-07 + p * w
        p = -3.5233877e-06 + p * w
        p = -4.39150654e-06 + p * w
        p = 0.00021858087 + p * w
        p = -0.00125372503 + p * w
        p = -0.00417768164 + p * w
        p = 0.246640727 + p * w
        p = 1.50140941 + p * w
    else:
        w = math.sqrt(w) - 3.0
        p = -0.000200214257
        p = 0.000100950558 + p * w
        p = 0.00134934322 + p * w
        p = -0.00367342844 + p * w
        p = 0.00573950773 + p * w
        p = -0.0076224613 + p * w
        p = 0.00943887047 + p * w
        p = 1.00167406 + p * w
        p = 2.83297682 + p * w
    y = p * x
    for _ in range(2):
        y -= (math.erf(y) - x) / (2.0 / math.sqrt(math.pi) * math.exp(-y * y))
    return y


@_jit
def digamma(x):
    """psi(x): reflection for x < 0.5, recurrence up to 6, asymptotic series."""
    if x != x or x == -np.inf:
        return np.nan
    if x <= 0.0 and math.floor(x) == x:
        return np.nan
    result = 0.0
    if x < 0.5:
        result = -math.pi / math.tan(math.pi * x)
        x = 1.0 - x
    while x < 6.0:
        result -= 1.0 / x
        x += 1.0
    inv = 1.0 / x
    inv2 = inv * inv
    series = inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 / 132))))
    return result + math.log(x) - 0.5 * inv - series


@_jit
def logaddexp(a, b):
    big = max(a, b)
    if big == -np.inf:
        return big
    return big + math.log1p(math.exp(-abs(a - b)))


@_jit
def stable_argsort_rows(keys, descending):
    """Stable argsort of each row of a 2-D array; NaNs sort last (as lax.sort),
    and first when ``descending`` (as top_k)."""
    rows, n = keys.shape
    out = np.empty((rows, n), np.int64)
    for r in range(rows):
        row = np.ascontiguousarray(keys[r])
        if descending:
            order = np.argsort(-row, kind="mergesort")
        else:
            order = np.argsort(row, kind="mergesort")
        out[r] = order
    return out


@_jit
def top_k_rows(keys, k):
    """Indices of the k largest of each row, descending and stable (ties keep
    the lower index first; NaN counts as the largest), as lax.top_k."""
    rows, n = keys.shape
    out = np.empty((rows, k), np.int64)
    for r in range(rows):
        ascending = np.argsort(keys[r, ::-1], kind="mergesort")
        for j in range(k):
            out[r, j] = n - 1 - ascending[n - 1 - j]
    return out


@_jit
def refine_order(keys, order):
    """Stably re-sort each row's ``order`` by ``keys``: applied from the last
    key to the first, this is a lexicographic sort (lax.sort with num_keys > 1)."""
    rows, n = keys.shape
    out = np.empty((rows, n), np.int64)
    for r in range(rows):
        current = order[r]
        picked = np.empty(n, keys.dtype)
        for j in range(n):
            picked[j] = keys[r, current[j]]
        again = np.argsort(picked, kind="mergesort")
        for j in range(n):
            out[r, j] = current[again[j]]
    return out


# Matrix products (NumPy's BLAS), convolution and linear-algebra kernels live in their own modules.
from .blas import blas_threads, gemm, matmul_serial, matmul_split  # noqa: E402, F401
from .cpu_kernels import (  # noqa: E402, F401
    cholesky_batched, conv_direct, conv_gemm, conv_scatter, conv_wgrad, eigh_batched, lu_batched, qr_batched,
    svd_batched, triangular_solve_left)
