"""Matrix decompositions and triangular solves (public as ``numbax.lax.linalg``):
``cholesky``, ``triangular_solve``, ``lu``, ``qr``, ``eigh``, ``svd``.

Every primitive takes float32/float64 arrays of shape ``(..., m, n)`` and works
on each matrix of the leading (batch) axes. Like JAX, a factorization that
fails numerically (a non-positive-definite ``cholesky``, an SVD that does not
converge on NaNs) gives NaNs instead of raising. The impls call NumPy's
batched LAPACK routines, or SciPy's BLAS/LAPACK wrappers matrix by matrix
where NumPy has no equivalent.
"""

import numpy as np
import scipy.linalg

from .. import dtypes
from ..core import ShapedArray
from .utils import coerce_scalars, shape_error, standard_primitive

__all__ = ["cholesky", "triangular_solve", "lu", "qr", "eigh", "svd"]

_LINALG_FLOATS = (dtypes.float32, dtypes.float64)


def _check_matrices(name, aval, square=True, what="operand"):
    if aval.ndim < 2:
        raise shape_error(name, f"needs its {what} to be a matrix or a stack of matrices (..., m, n)", aval)
    if square and aval.shape[-1] != aval.shape[-2]:
        raise shape_error(name, f"needs square matrices (..., n, n) for its {what}", aval)
    if aval.dtype not in _LINALG_FLOATS:
        raise shape_error(name, f"supports float32 and float64 only; convert the {what} with "
                          "x.astype(numbax.numpy.float32)", aval)


def _each_matrix(fun, x, out_avals):
    """Apply ``fun`` (a matrix -> tuple of arrays) to every matrix of ``x``;
    a matrix on which LAPACK fails gets NaNs."""
    batch = x.shape[:-2]
    outs = [np.empty(batch + a.shape[len(batch):], a.dtype) for a in out_avals]
    for index in np.ndindex(*batch):
        try:
            results = fun(x[index])
        except (np.linalg.LinAlgError, ValueError):
            results = [np.full(o.shape[len(batch):], np.nan) for o in outs]
        for out, result in zip(outs, results):
            out[index] = result
    return outs


# --- cholesky ------------------------------------------------------------------------------

def _cholesky_abstract_eval(x):
    _check_matrices("cholesky", x)
    return ShapedArray(x.shape, x.dtype)


def _cholesky_impl(x):
    try:
        return np.linalg.cholesky(x)
    except np.linalg.LinAlgError:
        pass
    # Some matrix is not positive definite: redo one by one, as JAX giving
    # NaNs on and below the diagonal of the failed ones.
    def one(a):
        try:
            return (np.linalg.cholesky(a),)
        except np.linalg.LinAlgError:
            return (np.tril(np.full(a.shape, np.nan, a.dtype)),)
    return _each_matrix(one, x, [ShapedArray(x.shape, x.dtype)])[0]


cholesky_p = standard_primitive("cholesky", _cholesky_abstract_eval, _cholesky_impl)


def cholesky(x, *, symmetrize_input=True):
    """Lower Cholesky factor ``L`` with ``x = L @ L.T``.

    Args:
      x: float array ``(..., n, n)``, symmetric positive definite.
      symmetrize_input: use ``(x + x.T) / 2``; otherwise only the lower
        triangle of ``x`` is read.

    Returns:
      ``(..., n, n)`` lower-triangular array; NaNs (on and below the diagonal)
      for matrices that are not positive definite.
    """
    (x,) = coerce_scalars(x)
    if symmetrize_input:
        _check_matrices("cholesky", x.aval)
        x = _symmetrize(x)
    return cholesky_p.bind(x)


def _symmetrize(x):
    """``(x + swapaxes(x, -1, -2)) / 2``."""
    from . import elementwise, shape
    perm = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return elementwise.div(elementwise.add(x, shape.transpose(x, perm)), 2)


# --- triangular_solve ---------------------------------------------------------------------

def _triangular_solve_abstract_eval(a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    _check_matrices("triangular_solve", a, what="a")
    _check_matrices("triangular_solve", b, square=False, what="b")
    if a.dtype != b.dtype:
        raise shape_error("triangular_solve", "needs a and b of the same dtype", a, b)
    solved_axis = b.ndim - 2 if left_side else b.ndim - 1
    if a.ndim != b.ndim or a.shape[:-2] != b.shape[:-2] or b.shape[solved_axis] != a.shape[-1]:
        side = "(..., m, m) and (..., m, n)" if left_side else "(..., m, m) and (..., n, m)"
        raise shape_error("triangular_solve", f"with left_side={left_side} needs a and b shaped {side} with "
                          "equal batch shapes; broadcast the batch axes first, or flip left_side", a, b)
    return ShapedArray(b.shape, b.dtype)


def _triangular_solve_impl(a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    out = np.empty(b.shape, b.dtype)
    if b.size == 0:
        return out
    # BLAS trsm does no singularity check: a zero pivot gives inf/NaN, as in XLA.
    trsm = scipy.linalg.blas.get_blas_funcs("trsm", dtype=b.dtype)
    for index in np.ndindex(*b.shape[:-2]):
        out[index] = trsm(1.0, a[index], b[index], side=0 if left_side else 1, lower=int(lower),
                          trans_a=int(transpose_a), diag=int(unit_diagonal))
    return out


triangular_solve_p = standard_primitive("triangular_solve", _triangular_solve_abstract_eval,
                                        _triangular_solve_impl)


def triangular_solve(a, b, left_side=False, lower=False, transpose_a=False, conjugate_a=False,
                     unit_diagonal=False):
    """Solve a triangular system.

    Args:
      a: ``(..., m, m)`` triangular matrices; only the triangle named by
        ``lower`` is read (and not its diagonal when ``unit_diagonal``).
      b: ``(..., m, n)`` if ``left_side`` else ``(..., n, m)``, same batch shape.
      left_side: solve ``op(a) @ x = b`` instead of ``x @ op(a) = b``.
      transpose_a: ``op(a) = a.T`` (else ``a``); conjugate_a is a no-op for reals.

    Returns:
      ``x`` with ``b``'s shape and dtype.
    """
    a, b = coerce_scalars(a, b)
    return triangular_solve_p.bind(a, b, left_side=bool(left_side), lower=bool(lower),
                                   transpose_a=bool(transpose_a), conjugate_a=bool(conjugate_a),
                                   unit_diagonal=bool(unit_diagonal))


# --- lu ----------------------------------------------------------------------------------------

def _lu_abstract_eval(x):
    _check_matrices("lu", x, square=False)
    *batch, m, n = x.shape
    batch = tuple(batch)
    return (ShapedArray(x.shape, x.dtype), ShapedArray(batch + (min(m, n),), dtypes.int32),
            ShapedArray(batch + (m,), dtypes.int32))


def _lu_impl(x):
    *batch, m, n = x.shape
    batch = tuple(batch)
    lu = x.copy()
    pivots = np.broadcast_to(np.arange(min(m, n), dtype=np.int32), batch + (min(m, n),)).copy()
    if x.size:
        # LAPACK's getrf, not scipy.linalg.lu_factor: that one warns on singular
        # matrices, where JAX returns the factors (with a zero on U's diagonal).
        getrf = scipy.linalg.lapack.get_lapack_funcs("getrf", dtype=x.dtype)
        for index in np.ndindex(*batch):
            lu[index], pivots[index], _ = getrf(x[index])
    return lu, pivots, _pivots_to_permutation(pivots, m)


def _pivots_to_permutation(pivots, size):
    """Apply the row swaps ``i <-> pivots[..., i]`` in order to ``arange(size)``."""
    perm = np.broadcast_to(np.arange(size, dtype=np.int32), pivots.shape[:-1] + (size,)).copy()
    for i in range(pivots.shape[-1]):
        j = pivots[..., i:i + 1]
        row_i = perm[..., i:i + 1].copy()
        perm[..., i:i + 1] = np.take_along_axis(perm, j, -1)
        np.put_along_axis(perm, j, row_i, -1)
    return perm


lu_p = standard_primitive("lu", _lu_abstract_eval, _lu_impl, multiple_results=True)


def lu(x):
    """LU decomposition with partial pivoting: ``x[..., perm, :] = L @ U``.

    Args:
      x: float array ``(..., m, n)``.

    Returns:
      ``(lu, pivots, permutation)``: ``lu`` ``(..., m, n)`` holds ``U`` on and
      above the diagonal and ``L`` below it (unit diagonal implied); ``pivots``
      ``(..., min(m, n))`` int32 are LAPACK's row swaps (row i was swapped with
      row ``pivots[i]``); ``permutation`` ``(..., m)`` int32 is their result.
    """
    (x,) = coerce_scalars(x)
    return tuple(lu_p.bind(x))


# --- qr ------------------------------------------------------------------------------------------

def _qr_abstract_eval(x, *, full_matrices):
    _check_matrices("qr", x, square=False)
    *batch, m, n = x.shape
    k = m if full_matrices else min(m, n)
    return ShapedArray(tuple(batch) + (m, k), x.dtype), ShapedArray(tuple(batch) + (k, n), x.dtype)


def _qr_impl(x, *, full_matrices):
    q, r = np.linalg.qr(x, mode="complete" if full_matrices else "reduced")
    return q, r


qr_p = standard_primitive("qr", _qr_abstract_eval, _qr_impl, multiple_results=True)


def qr(x, *, pivoting=False, full_matrices=True):
    """QR decomposition ``x = q @ r``.

    Args:
      x: float array ``(..., m, n)``.
      full_matrices: ``q`` is ``(..., m, m)`` and ``r`` ``(..., m, n)``;
        otherwise ``(..., m, k)`` and ``(..., k, n)`` with ``k = min(m, n)``.

    Returns:
      ``(q, r)``: ``q`` with orthonormal columns, ``r`` upper triangular.

    Differences from JAX: ``pivoting=True`` is not supported.
    """
    if pivoting:
        raise NotImplementedError("qr(pivoting=True) is not supported by numbax; use pivoting=False.")
    (x,) = coerce_scalars(x)
    return tuple(qr_p.bind(x, full_matrices=bool(full_matrices)))


# --- eigh ------------------------------------------------------------------------------------------

def _eigh_abstract_eval(x, *, lower, sort_eigenvalues, subset_by_index):
    _check_matrices("eigh", x)
    n = x.shape[-1]
    lo, hi = subset_by_index or (0, n)
    if not 0 <= lo <= hi <= n:
        raise shape_error("eigh", f"got subset_by_index={subset_by_index}, which is not within [0, {n}]", x)
    batch = x.shape[:-2]
    return ShapedArray(batch + (n, hi - lo), x.dtype), ShapedArray(batch + (hi - lo,), x.dtype)


def _eigh_impl(x, *, lower, sort_eigenvalues, subset_by_index):
    n = x.shape[-1]
    lo, hi = subset_by_index or (0, n)
    uplo = "L" if lower else "U"
    try:
        w, v = np.linalg.eigh(x, UPLO=uplo)
    except np.linalg.LinAlgError:
        v, w = _each_matrix(lambda a: np.linalg.eigh(a, UPLO=uplo)[::-1], x,
                            [ShapedArray(x.shape, x.dtype), ShapedArray(x.shape[:-1], x.dtype)])
    return v[..., lo:hi], w[..., lo:hi]


eigh_p = standard_primitive("eigh", _eigh_abstract_eval, _eigh_impl, multiple_results=True)


def eigh(x, *, lower=True, symmetrize_input=True, sort_eigenvalues=True, subset_by_index=None):
    """Eigendecomposition of symmetric matrices: ``x @ v = v * w``.

    Args:
      x: float array ``(..., n, n)``.
      lower: read the lower triangle (else the upper) when not symmetrizing.
      symmetrize_input: use ``(x + x.T) / 2``.
      sort_eigenvalues: eigenvalues ascending (NumPy always sorts them).
      subset_by_index: ``(lo, hi)`` keeps eigenpairs ``lo:hi`` of the sorted order.

    Returns:
      ``(v, w)``: eigenvectors as the columns of ``v`` ``(..., n, k)`` and the
      eigenvalues ``w`` ``(..., k)``, ``k = n`` or ``hi - lo``.
    """
    (x,) = coerce_scalars(x)
    if symmetrize_input:
        _check_matrices("eigh", x.aval)
        x = _symmetrize(x)
    subset = None if subset_by_index is None else tuple(int(i) for i in subset_by_index)
    return tuple(eigh_p.bind(x, lower=bool(lower), sort_eigenvalues=bool(sort_eigenvalues),
                             subset_by_index=subset))


# --- svd -----------------------------------------------------------------------------------------

def _svd_abstract_eval(x, *, full_matrices, compute_uv, subset_by_index):
    _check_matrices("svd", x, square=False)
    *batch, m, n = x.shape
    batch, k = tuple(batch), min(m, n)
    lo, hi = subset_by_index or (0, k)
    if not 0 <= lo <= hi <= k:
        raise shape_error("svd", f"got subset_by_index={subset_by_index}, which is not within [0, {k}]", x)
    if subset_by_index is not None and full_matrices and (lo, hi) != (0, k):
        raise shape_error("svd", "cannot combine subset_by_index with full_matrices=True", x)
    s = ShapedArray(batch + (hi - lo,), x.dtype)
    if not compute_uv:
        return (s,)
    u_cols, v_rows = (m, n) if full_matrices else (hi - lo, hi - lo)
    return s, ShapedArray(batch + (m, u_cols), x.dtype), ShapedArray(batch + (v_rows, n), x.dtype)


def _svd_impl(x, *, full_matrices, compute_uv, subset_by_index):
    *batch, m, n = x.shape
    k = min(m, n)
    lo, hi = subset_by_index or (0, k)
    avals = _svd_abstract_eval(ShapedArray(x.shape, x.dtype), full_matrices=full_matrices,
                               compute_uv=compute_uv, subset_by_index=None)
    if k == 0:
        # An empty matrix has no singular values; the full bases are identities.
        eye = [np.broadcast_to(np.eye(*a.shape[-2:], dtype=x.dtype), a.shape) for a in avals[1:]]
        return [np.zeros(avals[0].shape, x.dtype)] + eye

    def one(a):
        out = np.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
        return (out,) if not compute_uv else (out[1], out[0], out[2])
    try:
        outs = one(x)
    except np.linalg.LinAlgError:
        outs = _each_matrix(one, x, avals)
    if not compute_uv:
        return [outs[0][..., lo:hi]]
    s, u, vt = outs
    if subset_by_index is None:
        return [s, u, vt]
    return [s[..., lo:hi], u[..., lo:hi], vt[..., lo:hi, :]]


svd_p = standard_primitive("svd", _svd_abstract_eval, _svd_impl, multiple_results=True)


def svd(x, *, full_matrices=True, compute_uv=True, subset_by_index=None):
    """Singular value decomposition ``x = u @ diag(s) @ vh``.

    Args:
      x: float array ``(..., m, n)``; let ``k = min(m, n)``.
      full_matrices: ``u`` ``(..., m, m)`` and ``vh`` ``(..., n, n)``; otherwise
        ``(..., m, k)`` and ``(..., k, n)``.
      compute_uv: return only ``s`` when False.
      subset_by_index: ``(lo, hi)`` keeps singular triplets ``lo:hi`` (of the
        descending order); needs ``full_matrices=False``.

    Returns:
      ``s`` ``(..., k)`` descending, or ``(u, s, vh)``.
    """
    (x,) = coerce_scalars(x)
    subset = None if subset_by_index is None else tuple(int(i) for i in subset_by_index)
    outs = svd_p.bind(x, full_matrices=bool(full_matrices), compute_uv=bool(compute_uv),
                      subset_by_index=subset)
    if not compute_uv:
        return outs[0]
    s, u, vh = outs
    return u, s, vh
