"""``numbax.numpy.linalg``: norms, solves, inverses, determinants and
decompositions, built from the ``numbax.lax.linalg`` primitives (``solve``
and ``det`` from ``lu``) and ``lax`` contractions.

Matrix functions take stacks ``(..., m, n)`` and work on each matrix;
integer inputs are promoted to the default float type, as in JAX.
"""

from typing import NamedTuple

import numpy as np

from .. import core, dtypes
from ..lax import elementwise as lax
from ..lax import linalg as lax_linalg
from ..lax import shape as lax_shape
from . import tensor
from .tensor import cross, diagonal, matmul, outer, tensordot, trace, vecdot
from .util import (broadcast_shapes, canonicalize_axis, check_arraylike, ensure_array, normalize_axes,
                   promote_dtypes_inexact)

__all__ = ["norm", "vector_norm", "matrix_norm", "inv", "solve", "cholesky", "det", "slogdet", "eigh",
           "eigvalsh", "svd", "svdvals", "qr", "pinv", "matrix_power", "matrix_rank", "lstsq", "multi_dot",
           "matrix_transpose", "matmul", "outer", "tensordot", "trace", "diagonal", "vecdot", "cross",
           "EighResult", "QRResult", "SlogdetResult", "SVDResult"]


class EighResult(NamedTuple):
    eigenvalues: core.Array
    eigenvectors: core.Array


class QRResult(NamedTuple):
    Q: core.Array
    R: core.Array


class SlogdetResult(NamedTuple):
    sign: core.Array
    logabsdet: core.Array


class SVDResult(NamedTuple):
    U: core.Array
    S: core.Array
    Vh: core.Array


# --- helpers ---------------------------------------------------------------------------------

def _reduce(kind, x, axes):
    from ..lax import reduce as lax_reduce
    return getattr(lax_reduce, f"reduce_{kind}")(x, tuple(axes)) if axes else x


def _float_matrices(fun_name, a, square=True):
    """``a`` as a float array of (square) matrices ``(..., m, n)``."""
    check_arraylike(fun_name, a)
    a = ensure_array(promote_dtypes_inexact(ensure_array(a))[0])
    if a.ndim < 2:
        raise ValueError(f"{fun_name} needs a matrix or a stack of matrices (..., m, n), got shape "
                         f"{tuple(a.shape)}.")
    if square and a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{fun_name} needs square matrices (..., n, n), got shape {tuple(a.shape)}.")
    return a


def matrix_transpose(x, /):
    """Swap the last two axes: ``(..., m, n) -> (..., n, m)``."""
    check_arraylike("matrix_transpose", x)
    x = ensure_array(x)
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose needs an array of rank >= 2, got shape {tuple(x.shape)}.")
    return lax_shape.transpose(x, tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2))


def _identity(shape, dtype):
    """Identity matrices of ``shape`` ``(..., n, n)``."""
    rows = lax.broadcasted_iota(dtypes.int32, shape, len(shape) - 2)
    cols = lax.broadcasted_iota(dtypes.int32, shape, len(shape) - 1)
    return lax.convert_element_type(lax.eq(rows, cols), dtype)


def _broadcast_batch(x, batch):
    """Broadcast ``x`` ``(..., m, n)`` to ``batch + (m, n)``."""
    shape = tuple(batch) + tuple(x.shape[-2:])
    return lax_shape.broadcast_in_dim(x, shape, tuple(range(len(shape) - x.ndim, len(shape))))


def _full(shape, value, dtype):
    return lax_shape.broadcast_in_dim(lax.convert_element_type(value, dtype), tuple(shape), ())


def _reciprocal_where(keep, s):
    """``1 / s`` where ``keep``, else 0 (no division by the dropped values)."""
    ones, zeros = _full(s.shape, 1, s.dtype), _full(s.shape, 0, s.dtype)
    return lax.select_n(keep, zeros, lax.div(ones, lax.select_n(keep, ones, s)))


def _lu_parity_sign(pivots, dtype):
    """``+1``/``-1``: the sign of the row permutation made by LU's pivots."""
    steps = lax.broadcasted_iota(dtypes.int32, pivots.shape, pivots.ndim - 1)
    swaps = _reduce("sum", lax.convert_element_type(lax.ne(pivots, steps), dtypes.int32), (pivots.ndim - 1,))
    odd = lax.convert_element_type(lax.rem(swaps, 2), dtype)
    return lax.sub(lax.convert_element_type(1, dtype), lax.mul(lax.convert_element_type(2, dtype), odd))


def _permute_rows(permutation, b):
    """``b[..., permutation, :]`` as a product with a one-hot matrix, which
    keeps ``solve`` in ``dot_general`` (no gather needed); exact for finite b."""
    shape = tuple(permutation.shape) + (permutation.shape[-1],)
    cols = lax.broadcasted_iota(dtypes.int32, shape, len(shape) - 1)
    rows = lax_shape.broadcast_in_dim(permutation, shape, tuple(range(len(shape) - 1)))
    return matmul(lax.convert_element_type(lax.eq(rows, cols), b.dtype), b)


# --- solves and inverses -----------------------------------------------------------------------

def solve(a, b):
    """Solve ``a @ x = b`` by LU with partial pivoting.

    Args:
      a: ``(..., m, m)`` non-singular matrices.
      b: a vector ``(m,)``, or matrices ``(..., m, k)`` whose batch axes
        broadcast with ``a``'s (NumPy 2's rule: only a 1-D ``b`` is a vector).

    Returns:
      ``x``: ``a``'s batch + ``(m,)`` for a vector ``b``, else the broadcast
      batch + ``(m, k)``; float dtype. Singular ``a`` gives inf/NaN, as in JAX.
    """
    check_arraylike("solve", a, b)
    a, b = (ensure_array(x) for x in promote_dtypes_inexact(ensure_array(a), ensure_array(b)))
    a = _float_matrices("solve", a)
    vector = b.ndim == 1
    if vector:
        b = lax_shape.reshape(b, tuple(b.shape) + (1,))
    if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
        raise ValueError(f"solve got a of shape {tuple(a.shape)} and b of shape "
                         f"{tuple(b.shape[:-1]) if vector else tuple(b.shape)}: b must be a vector (m,) or "
                         f"matrices (..., m, k) with m = {a.shape[-1]}; for a stack of vectors use "
                         "b[..., None] and take [..., 0] of the result.")
    batch = broadcast_shapes(a.shape[:-2], () if vector else b.shape[:-2], fun_name="solve")
    lu, _, permutation = lax_linalg.lu(_broadcast_batch(a, batch))
    x = _permute_rows(permutation, _broadcast_batch(b, batch))
    x = lax_linalg.triangular_solve(lu, x, left_side=True, lower=True, unit_diagonal=True)
    x = lax_linalg.triangular_solve(lu, x, left_side=True, lower=False)
    return lax_shape.squeeze(x, (x.ndim - 1,)) if vector else x


def inv(a):
    """Inverse of square matrices ``(..., n, n)``, by ``solve`` with the
    identity. Same shape, float dtype."""
    a = _float_matrices("inv", a)
    return solve(a, _identity(a.shape, a.dtype))


def cholesky(a, *, upper=False, symmetrize_input=True):
    """Cholesky factor of symmetric positive-definite ``(..., n, n)``: lower
    ``L`` with ``a = L @ L.T`` (or upper ``L.T`` if ``upper``). NaNs for
    matrices that are not positive definite, as in JAX."""
    a = _float_matrices("cholesky", a)
    factor = lax_linalg.cholesky(a, symmetrize_input=symmetrize_input)
    return matrix_transpose(factor) if upper else factor


def det(a):
    """Determinant of ``(..., n, n)`` -> ``(...)``, from the LU factors."""
    a = _float_matrices("det", a)
    lu, pivots, _ = lax_linalg.lu(a)
    diag = tensor._diagonal_last_two(lu, 0)
    return lax.mul(_lu_parity_sign(pivots, a.dtype), _reduce("prod", diag, (diag.ndim - 1,)))


def slogdet(a, *, method=None):
    """Sign and log of the absolute determinant of ``(..., n, n)``, each ``(...)``.
    A singular matrix gives sign 0 and logabsdet -inf.

    Returns:
      ``SlogdetResult(sign, logabsdet)``.
    """
    if method not in (None, "lu"):
        raise NotImplementedError(f"slogdet: method={method!r} is not supported; use method='lu'.")
    a = _float_matrices("slogdet", a)
    lu, pivots, _ = lax_linalg.lu(a)
    diag = tensor._diagonal_last_two(lu, 0)
    last = (diag.ndim - 1,)
    sign = lax.mul(_lu_parity_sign(pivots, a.dtype), _reduce("prod", lax.sign(diag), last))
    return SlogdetResult(sign, _reduce("sum", lax.log(lax.abs(diag)), last))


def pinv(a, rtol=None, hermitian=False, *, rcond=None):
    """Moore-Penrose pseudo-inverse of ``(..., m, n)`` -> ``(..., n, m)``.

    Singular values below ``rtol * max(s)`` count as zero; the default
    ``rtol`` is ``10 * max(m, n) * eps``. ``rcond`` is an older name of
    ``rtol``; ``hermitian`` is accepted and ignored (an SVD is used always).
    """
    a = _float_matrices("pinv", a, square=False)
    rtol = rcond if rtol is None else rtol
    if rtol is None:
        rtol = 10.0 * max(a.shape[-2:]) * float(np.finfo(a.dtype).eps)
    u, s, vh = lax_linalg.svd(a, full_matrices=False)
    if s.shape[-1] == 0:
        return _full(a.shape[:-2] + a.shape[-2:][::-1], 0, a.dtype)
    cutoff = lax.mul(_reduce("max", s, (s.ndim - 1,)), lax.convert_element_type(rtol, a.dtype))
    keep = lax.gt(s, lax_shape.broadcast_in_dim(cutoff, s.shape, tuple(range(s.ndim - 1))))
    s_inv = _reciprocal_where(keep, s)
    scaled = lax.mul(matrix_transpose(vh), lax_shape.reshape(s_inv, s.shape[:-1] + (1, s.shape[-1])))
    return matmul(scaled, matrix_transpose(u))


def matrix_power(a, n):
    """``a`` multiplied by itself ``n`` times (a Python int; 0 gives the
    identity, negative powers invert first). ``(..., m, m)``, ``a``'s dtype
    (integers stay integers unless ``n < 0``)."""
    check_arraylike("matrix_power", a)
    a = ensure_array(a)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"matrix_power needs square matrices (..., m, m), got shape {tuple(a.shape)}.")
    try:
        n = int(n)
    except TypeError:
        raise TypeError(f"matrix_power: n must be a Python int, got {type(n).__name__}.") from None
    if n == 0:
        return _identity(a.shape, a.dtype)
    if n < 0:
        a, n = inv(a), -n
    result = None
    while n:  # binary powering: log2(n) squarings
        if n & 1:
            result = a if result is None else matmul(result, a)
        n >>= 1
        if n:
            a = matmul(a, a)
    return result


# --- decompositions ------------------------------------------------------------------------------

def eigh(a, UPLO=None, symmetrize_input=True):
    """Eigenvalues (ascending) and eigenvectors of symmetric ``(..., n, n)``.

    Args:
      UPLO: ``'L'`` (default) or ``'U'``: the triangle read when not symmetrizing.
      symmetrize_input: use ``(a + a.T) / 2``.

    Returns:
      ``EighResult(eigenvalues (..., n), eigenvectors (..., n, n))``, the
      eigenvectors as columns.
    """
    a = _float_matrices("eigh", a)
    if UPLO not in (None, "L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}.")
    v, w = lax_linalg.eigh(a, lower=UPLO != "U", symmetrize_input=symmetrize_input)
    return EighResult(w, v)


def eigvalsh(a, UPLO="L", *, symmetrize_input=True):
    """Eigenvalues (ascending) of symmetric ``(..., n, n)`` -> ``(..., n)``."""
    return eigh(a, UPLO, symmetrize_input).eigenvalues


def svd(a, full_matrices=True, compute_uv=True, hermitian=False, subset_by_index=None):
    """Singular value decomposition ``a = U @ diag(S) @ Vh`` of ``(..., m, n)``.

    Returns:
      ``SVDResult(U, S, Vh)`` with ``U`` ``(..., m, m)``, ``S`` ``(..., k)``
      descending, ``Vh`` ``(..., n, n)`` (``k = min(m, n)`` columns/rows when
      not ``full_matrices``), or only ``S`` when not ``compute_uv``.
      ``hermitian`` is accepted and ignored.
    """
    a = _float_matrices("svd", a, square=False)
    out = lax_linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv,
                         subset_by_index=subset_by_index)
    return SVDResult(*out) if compute_uv else out


def svdvals(x, /):
    """Singular values of ``(..., m, n)``, descending: ``(..., min(m, n))``."""
    return svd(x, compute_uv=False)


def qr(a, mode="reduced"):
    """QR decomposition of ``(..., m, n)``, ``k = min(m, n)``.

    Args:
      mode: ``'reduced'`` (Q ``(..., m, k)``, R ``(..., k, n)``), ``'complete'``
        (Q ``(..., m, m)``, R ``(..., m, n)``) or ``'r'`` (R only, reduced).

    Returns:
      ``QRResult(Q, R)``, or ``R`` for ``mode='r'``.
    """
    a = _float_matrices("qr", a, square=False)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"qr: mode must be 'reduced', 'complete' or 'r', got {mode!r} "
                         "('raw' is not supported).")
    q, r = lax_linalg.qr(a, full_matrices=mode == "complete")
    return r if mode == "r" else QRResult(q, r)


def matrix_rank(M, rtol=None, *, hermitian=False, tol=None):
    """Number of singular values above ``rtol * max(s)`` (default ``rtol =
    max(m, n) * eps``) per matrix of ``(..., m, n)`` -> int32 ``(...)``.
    ``tol`` is an older name of ``rtol``. Arrays of rank < 2 have rank 1 unless
    all zero."""
    check_arraylike("matrix_rank", M)
    (M,) = promote_dtypes_inexact(ensure_array(M))
    M = ensure_array(M)
    rtol = tol if rtol is None else rtol
    if M.ndim < 2:
        nonzero = lax.ne(M, lax.convert_element_type(0, M.dtype))
        return lax.convert_element_type(_reduce("max", nonzero, range(M.ndim)), dtypes.default_int_dtype())
    s = svdvals(M)
    if s.shape[-1] == 0:
        return _full(s.shape[:-1], 0, dtypes.default_int_dtype())
    if rtol is None:
        rtol = max(M.shape[-2:]) * float(np.finfo(M.dtype).eps)
    tol_abs = lax.mul(_reduce("max", s, (s.ndim - 1,)), lax.convert_element_type(rtol, M.dtype))
    above = lax.gt(s, lax_shape.broadcast_in_dim(tol_abs, s.shape, tuple(range(s.ndim - 1))))
    return _reduce("sum", lax.convert_element_type(above, dtypes.default_int_dtype()), (s.ndim - 1,))


def lstsq(a, b, rcond=None, *, numpy_resid=False):
    """Least-squares solution of ``a @ x = b`` via the SVD.

    Args:
      a: ``(m, n)``.
      b: ``(m,)`` or ``(m, k)``.
      rcond: singular values below ``rcond * s.max()`` count as zero (default
        ``eps * max(m, n)``).
      numpy_resid: residuals as NumPy gives them (empty unless ``a`` has full
        column rank and ``m > n``); needs concrete inputs.

    Returns:
      ``(x, residuals, rank, s)``: ``x`` ``(n,)`` or ``(n, k)``; residuals
      ``(k,)`` (``(1,)`` for a vector ``b``), the squared norms of ``b - a @ x``;
      rank int32 ``()``; singular values ``(min(m, n),)``.
    """
    check_arraylike("lstsq", a, b)
    a, b = (ensure_array(x) for x in promote_dtypes_inexact(ensure_array(a), ensure_array(b)))
    if a.ndim != 2 or b.ndim not in (1, 2) or b.shape[0] != a.shape[0]:
        raise ValueError(f"lstsq needs a of shape (m, n) and b of shape (m,) or (m, k), got "
                         f"{tuple(a.shape)} and {tuple(b.shape)}.")
    vector = b.ndim == 1
    if vector:
        b = lax_shape.reshape(b, (b.shape[0], 1))
    m, n = a.shape
    if rcond is None:
        rcond = float(np.finfo(a.dtype).eps) * max(m, n)
    u, s, vh = lax_linalg.svd(a, full_matrices=False)
    if s.shape[0]:
        cutoff = lax.mul(_reduce("max", s, (0,)), lax.convert_element_type(rcond, a.dtype))
        keep = lax.ge(s, cutoff)
    else:
        keep = lax.ne(s, s)
    s_inv = _reciprocal_where(keep, s)
    rank = _reduce("sum", lax.convert_element_type(keep, dtypes.default_int_dtype()), (0,))
    ut_b = matmul(matrix_transpose(u), b)
    x = matmul(matrix_transpose(vh), lax.mul(lax_shape.reshape(s_inv, (s.shape[0], 1)), ut_b))
    residual = lax.sub(b, matmul(a, x))
    resid = _reduce("sum", lax.mul(residual, residual), (0,))
    if numpy_resid and (int(rank) != n or m <= n):
        resid = _full((0,), 0, a.dtype)
    if vector:
        x = lax_shape.reshape(x, (n,))
    return x, resid, rank, s


def multi_dot(arrays, *, precision=None):
    """Product of a chain of matrices, multiplied in the cheapest order.

    Args:
      arrays: a sequence of 2-D arrays; the first may be 1-D (a row vector)
        and the last 1-D (a column vector).

    Returns:
      The product, with the 1-D ends' axes dropped.
    """
    arrays = [ensure_array(x) for x in arrays]
    if len(arrays) < 2:
        raise ValueError(f"multi_dot needs at least two arrays, got {len(arrays)}.")
    first_vector, last_vector = arrays[0].ndim == 1, arrays[-1].ndim == 1
    if first_vector:
        arrays[0] = lax_shape.reshape(arrays[0], (1,) + tuple(arrays[0].shape))
    if last_vector:
        arrays[-1] = lax_shape.reshape(arrays[-1], tuple(arrays[-1].shape) + (1,))
    if any(x.ndim != 2 for x in arrays):
        raise ValueError(f"multi_dot needs 2-D arrays (1-D allowed first and last), got shapes "
                         f"{[tuple(x.shape) for x in arrays]}.")
    dims = [x.shape[0] for x in arrays] + [arrays[-1].shape[1]]
    count = len(arrays)
    # Classic matrix-chain dynamic programme over the flop counts.
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j], split[i][j] = min(
                (cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1], k) for k in range(i, j))

    def product(i, j):
        if i == j:
            return arrays[i]
        k = split[i][j]
        return tensor.matmul(product(i, k), product(k + 1, j), precision=precision)

    out = product(0, count - 1)
    squeeze = ([0] if first_vector else []) + ([1] if last_vector else [])
    return lax_shape.squeeze(out, squeeze) if squeeze else out


# --- norms ------------------------------------------------------------------------------------

def _vector_norm(x, axes, ord):
    """Norm over ``axes`` (keeping them as size 1)."""
    def keep(y, kind):
        reduced = _reduce(kind, y, axes)
        shape = tuple(1 if i in axes else s for i, s in enumerate(x.shape))
        return lax_shape.reshape(reduced, shape)
    magnitude = lax.abs(x)
    if ord is None or ord == 2:
        return lax.sqrt(keep(lax.mul(x, x), "sum"))
    if ord == np.inf:
        return keep(magnitude, "max")
    if ord == -np.inf:
        return keep(magnitude, "min")
    if ord == 0:
        return keep(lax.convert_element_type(lax.ne(x, lax.convert_element_type(0, x.dtype)), x.dtype), "sum")
    if ord == 1:
        return keep(magnitude, "sum")
    if isinstance(ord, str):
        raise ValueError(f"norm: invalid order {ord!r} for a vector norm; use None, 0, 1, 2, inf, -inf or "
                         "a number.")
    p = lax.convert_element_type(ord, x.dtype)
    return lax.pow(keep(lax.pow(magnitude, p), "sum"), lax.div(lax.convert_element_type(1, x.dtype), p))


def _matrix_norm(x, row_axis, col_axis, ord):
    """Norm of the matrices over ``(row_axis, col_axis)`` (kept as size 1)."""
    def keep(y, kind, axis):
        shape = tuple(1 if i == axis else s for i, s in enumerate(y.shape))
        return lax_shape.reshape(_reduce(kind, y, (axis,)), shape)
    if ord is None or ord == "fro":
        return _vector_norm(x, (row_axis, col_axis), 2)
    if ord in (1, -1, np.inf, -np.inf):
        summed, other = (row_axis, col_axis) if ord in (1, -1) else (col_axis, row_axis)
        return keep(keep(lax.abs(x), "sum", summed), "max" if ord > 0 else "min", other)
    if ord in (2, -2, "nuc"):
        moved = tensor._move_to_end(x, (row_axis, col_axis))
        s = svdvals(moved)
        value = _reduce({2: "max", -2: "min", "nuc": "sum"}[ord], s, (s.ndim - 1,))
        shape = tuple(1 if i in (row_axis, col_axis) else d for i, d in enumerate(x.shape))
        return lax_shape.reshape(value, shape)
    raise ValueError(f"norm: invalid order {ord!r} for a matrix norm; use None, 'fro', 'nuc', 1, -1, 2, -2, "
                     "inf or -inf.")


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm.

    Args:
      x: array; integers are promoted to float.
      ord: for vectors None/2, 1, 0 (count of non-zeros), inf, -inf or any
        number p (``sum(|x|**p)**(1/p)``); for matrices None/'fro', 'nuc', 1,
        -1, 2, -2 (largest/smallest singular value), inf, -inf.
      axis: None (all axes with ``ord=None``; otherwise ``x`` must be 1-D or
        2-D), an int (vector norm) or a pair of ints (matrix norm).
      keepdims: keep the normed axes with size 1.

    Returns:
      Float array: ``x``'s shape without the normed axes (or with size-1 ones).
    """
    check_arraylike("norm", x)
    (x,) = promote_dtypes_inexact(ensure_array(x))
    x = ensure_array(x)
    if axis is None:
        if ord is None:
            out = _vector_norm(x, tuple(range(x.ndim)), None)
            return out if keepdims else lax_shape.reshape(out, ())
        if x.ndim not in (1, 2):
            raise ValueError(f"norm: ord={ord!r} with axis=None needs a 1-D or 2-D array, got shape "
                             f"{tuple(x.shape)}; pass axis= (one axis for a vector norm, two for a matrix "
                             "norm).")
        axis = tuple(range(x.ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    canonical = tuple(canonicalize_axis(a, x.ndim, "norm") for a in axes)
    if len(set(canonical)) != len(canonical) or len(canonical) not in (1, 2):
        raise ValueError(f"norm: axis={axis!r} must be one axis (vector norm) or two distinct axes (matrix "
                         f"norm) of an array of shape {tuple(x.shape)}.")
    if len(canonical) == 1:
        out = _vector_norm(x, canonical, ord)
    else:
        out = _matrix_norm(x, canonical[0], canonical[1], ord)
    if keepdims:
        return out
    return lax_shape.reshape(out, tuple(s for i, s in enumerate(x.shape) if i not in canonical))


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """Vector norm (see ``norm``) over ``axis``: None flattens all axes, an int
    or a tuple of ints treats those axes as one vector."""
    check_arraylike("vector_norm", x)
    (x,) = promote_dtypes_inexact(ensure_array(x))
    x = ensure_array(x)
    axes = normalize_axes(axis, x.ndim, "vector_norm")
    out = _vector_norm(x, axes, ord)
    if keepdims:
        return out
    return lax_shape.reshape(out, tuple(s for i, s in enumerate(x.shape) if i not in axes))


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """Matrix norm (see ``norm``) of the last two axes of ``(..., m, n)``."""
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)
