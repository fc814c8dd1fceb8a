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

from .. import dtypes
from ..array import ArrayImpl
from ..core import ShapedArray
from ..interpreters import jvp as _ad
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


# --- helpers of the differentiation rules --------------------------------------------------
# Rules work on stacks of matrices with numbax.lax ops only. Tangents meet
# primal-derived values through matmul, triangular solves and products with
# constant masks, so every tangent computation stays linear (and transposable).

def _T(x):
    """Swap the last two axes."""
    from .shape import transpose
    return transpose(x, tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2))


def _matmul(a, b):
    """Batched matrix product of ``(..., m, k)`` and ``(..., k, n)`` (equal batch shapes)."""
    from .dot import dot_general
    batch = tuple(range(a.ndim - 2))
    return dot_general(a, b, (((a.ndim - 1,), (b.ndim - 2,)), (batch, batch)))


def _mask(x, which, k=0):
    """A constant of ``x``'s shape and dtype: ``np.tril``/``np.triu``/``np.eye``
    of ones (``k``-th diagonal) on every matrix."""
    rows, cols = x.shape[-2:]
    ones = np.ones((rows, cols), x.dtype)
    matrix = {"tril": np.tril(ones, k), "triu": np.triu(ones, k), "eye": np.eye(rows, cols, k, x.dtype)}[which]
    return ArrayImpl(np.ascontiguousarray(np.broadcast_to(matrix, x.shape)))


def _tril(x, k=0):
    from .elementwise import mul
    return mul(x, _mask(x, "tril", k))


def _triu(x, k=0):
    from .elementwise import mul
    return mul(x, _mask(x, "triu", k))


def _diagonal(x):
    """``(..., n, n) -> (..., n)``: the diagonals."""
    from .elementwise import mul
    from .reduce import reduce_sum
    return reduce_sum(mul(x, _mask(x, "eye")), (x.ndim - 1,))


def _rows_like(v, rows):
    """``v`` ``(..., k)`` broadcast to ``(..., rows, k)``: ``v[j]`` in column j."""
    from .shape import broadcast_in_dim
    shape = tuple(v.shape[:-1]) + (rows, v.shape[-1])
    return broadcast_in_dim(v, shape, tuple(range(v.ndim - 1)) + (v.ndim,))


def _cols_like(v, cols):
    """``v`` ``(..., k)`` broadcast to ``(..., k, cols)``: ``v[i]`` in row i."""
    from .shape import broadcast_in_dim
    return broadcast_in_dim(v, tuple(v.shape) + (cols,), tuple(range(v.ndim)))


def _reciprocal_off_diagonal(d):
    """``1 / d`` off the diagonal, 0 on it (``d`` is ``(..., n, n)``, zero diagonal)."""
    from .elementwise import add, integer_pow, sub
    eye = _mask(d, "eye")
    return sub(integer_pow(add(d, eye), -1), eye)


def _symmetric_from_triangle(t, lower):
    """The symmetric matrix a primitive that reads only one triangle sees:
    ``tril(t) + tril(t, -1).T`` (or the same with ``triu``)."""
    from .elementwise import add
    if lower:
        return add(_tril(t), _T(_tril(t, -1)))
    return add(_triu(t), _T(_triu(t, 1)))


def _zero_tangent(x):
    return _ad.Zero(_ad.tangent_aval(x.aval))


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


def _cholesky_jvp(primals, tangents):
    # x = L L^T  =>  dL = L Phi(L^-1 dx L^-T), Phi = lower triangle with the
    # diagonal halved (Murray 2016, arXiv:1602.07527).
    (x,), (t,) = primals, tangents
    factor = cholesky_p.bind(x)
    t = _symmetric_from_triangle(_ad.instantiate(t), lower=True)
    solve = dict(lower=True, conjugate_a=False, unit_diagonal=False)
    right = triangular_solve_p.bind(factor, t, left_side=False, transpose_a=True, **solve)
    inner = triangular_solve_p.bind(factor, right, left_side=True, transpose_a=False, **solve)
    from .elementwise import mul
    phi = mul(inner, ArrayImpl(np.ascontiguousarray(np.broadcast_to(
        np.tril(np.ones(x.shape[-2:]), -1) + 0.5 * np.eye(x.shape[-1]), x.shape).astype(x.dtype))))
    return factor, _matmul(factor, phi)


cholesky_p.def_jvp(_cholesky_jvp)


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
    import scipy.linalg  # imported on first use: it costs ~0.1 s of ``import numbax``
    # BLAS trsm does no singularity check: a zero pivot gives inf/NaN, as in XLA.
    trsm = scipy.linalg.blas.get_blas_funcs("trsm", dtype=b.dtype)
    for index in np.ndindex(*b.shape[:-2]):
        out[index] = trsm(1.0, a[index], b[index], side=0 if left_side else 1, lower=int(lower),
                          trans_a=int(transpose_a), diag=int(unit_diagonal))
    return out


triangular_solve_p = standard_primitive("triangular_solve", _triangular_solve_abstract_eval,
                                        _triangular_solve_impl)


# Linear in b (the transpose solves with op(a) transposed); in a, differentiate
# op(a) x = b: dx = -op(a)^-1 op(da) x (left side), -x op(da) op(a)^-1 (right),
# where da is restricted to the triangle the solve reads.

def _triangular_solve_jvp_a(g, ans, a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    from .elementwise import neg
    k = 1 if unit_diagonal else 0
    g = _tril(g, -k) if lower else _triu(g, k)
    g = _T(g) if transpose_a else g
    product = _matmul(g, ans) if left_side else _matmul(ans, g)
    return neg(triangular_solve_p.bind(a, product, left_side=left_side, lower=lower, transpose_a=transpose_a,
                                       conjugate_a=conjugate_a, unit_diagonal=unit_diagonal))


def _triangular_solve_transpose(ct, a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    from ..interpreters.transpose import is_undefined_primal
    if is_undefined_primal(a):
        raise NotImplementedError("triangular_solve is not linear in its matrix a; cannot transpose it.")
    return [None, triangular_solve_p.bind(a, ct, left_side=left_side, lower=lower, transpose_a=not transpose_a,
                                          conjugate_a=conjugate_a, unit_diagonal=unit_diagonal)]


_ad.defjvp2(triangular_solve_p, _triangular_solve_jvp_a,
            lambda g, ans, a, b, **params: triangular_solve_p.bind(a, g, **params))
triangular_solve_p.def_transpose(_triangular_solve_transpose)


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
        import scipy.linalg  # imported on first use, see _triangular_solve_impl
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


def _lu_jvp(primals, tangents):
    # P a = L U  =>  L^-1 P da U^-1 = L^-1 dL + dU U^-1, a strictly lower plus
    # an upper triangular part: dL = L tril(., -1), dU = triu(.) U (De Hoog,
    # Anderssen and Lukas). Rectangular factors are completed to square L
    # (m, m) and U (n, n) with identity blocks.
    from .elementwise import add, broadcasted_iota, convert_element_type, eq
    from .shape import broadcast_in_dim, pad, slice as lax_slice
    (a,), (da,) = primals, tangents
    lu, pivots, permutation = lu_p.bind(a)
    *batch, m, n = a.shape
    k = min(m, n)
    nb = len(batch)
    da = _ad.instantiate(da)
    # P da as a product with the one-hot permutation matrix (linear in da).
    shape = tuple(permutation.shape) + (m,)
    rows = broadcast_in_dim(permutation, shape, tuple(range(nb + 1)))
    one_hot = convert_element_type(eq(rows, broadcasted_iota(permutation.dtype, shape, nb + 1)), a.dtype)
    permuted = _matmul(one_hot, da)
    zero = ArrayImpl(np.zeros((), a.dtype))
    keep = [(0, 0, 0)] * nb
    lower = lax_slice(lu, (0,) * (nb + 2), tuple(batch) + (m, k))
    lower = add(pad(_tril(lower, -1), zero, keep + [(0, 0, 0), (0, m - k, 0)]),
                _mask(ShapedArray(tuple(batch) + (m, m), a.dtype), "eye"))
    upper = lax_slice(lu, (0,) * (nb + 2), tuple(batch) + (k, n))
    upper_eye = np.eye(n, dtype=a.dtype)
    upper_eye[:k, :k] = 0
    upper = add(pad(_triu(upper), zero, keep + [(0, n - k, 0), (0, 0, 0)]),
                ArrayImpl(np.ascontiguousarray(np.broadcast_to(upper_eye, tuple(batch) + (n, n)))))
    inner = triangular_solve_p.bind(lower, permuted, left_side=True, lower=True, transpose_a=False,
                                    conjugate_a=False, unit_diagonal=True)
    inner = triangular_solve_p.bind(upper, inner, left_side=False, lower=False, transpose_a=False,
                                    conjugate_a=False, unit_diagonal=False)
    dlu = add(_matmul(lower, _tril(inner, -1)), _matmul(_triu(inner), upper))
    return [lu, pivots, permutation], [dlu, _zero_tangent(pivots), _zero_tangent(permutation)]


lu_p.def_jvp(_lu_jvp)


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


def _qr_jvp_tall(q, r, dx):
    """Tangents of ``x = q r`` with ``q`` ``(..., m, n)`` orthonormal columns,
    ``m >= n``: with C = q^T dx r^-1, dr = (C - W) r and dq = q (W - C) + dx r^-1,
    where W = tril(C, -1) - tril(C, -1)^T is skew (arXiv j-towns qr-derivative)."""
    from .elementwise import add, sub
    dx_rinv = triangular_solve_p.bind(r, dx, left_side=False, lower=False, transpose_a=False, conjugate_a=False,
                                      unit_diagonal=False)
    c = _matmul(_T(q), dx_rinv)
    strict = _tril(c, -1)
    w = sub(strict, _T(strict))
    return add(_matmul(q, sub(w, c)), dx_rinv), _matmul(sub(c, w), r)


def _qr_jvp(primals, tangents, *, full_matrices):
    from .shape import concatenate, slice as lax_slice
    from .elementwise import add
    (x,), (dx,) = primals, tangents
    q, r = qr_p.bind(x, full_matrices=full_matrices)
    *batch, m, n = x.shape
    dx = _ad.instantiate(dx)
    if m >= n:
        if full_matrices and m > n:
            raise NotImplementedError(
                f"Differentiation of qr with full_matrices=True is not implemented for tall matrices "
                f"({m}x{n}): the extra {m - n} columns of q are not unique. Use full_matrices=False "
                "(numbax.numpy.linalg.qr's default mode='reduced').")
        dq, dr = _qr_jvp_tall(q, r, dx)
        return [q, r], [dq, dr]
    # Wide: x = [x1 x2] with square x1 = q r1, and r2 = q^T x2.
    nb = len(batch)
    start, left, right = (0,) * (nb + 2), tuple(batch) + (m, m), tuple(batch) + (m, n)
    r1 = lax_slice(r, start, left)
    dq, dr1 = _qr_jvp_tall(q, r1, lax_slice(dx, start, left))
    right_start = (0,) * (nb + 1) + (m,)
    x2, dx2 = lax_slice(x, right_start, right), lax_slice(dx, right_start, right)
    dr2 = add(_matmul(_T(dq), x2), _matmul(_T(q), dx2))
    return [q, r], [dq, concatenate([dr1, dr2], nb + 1)]


qr_p.def_jvp(_qr_jvp)


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


def _eigh_jvp(primals, tangents, *, lower, sort_eigenvalues, subset_by_index):
    # a v_j = w_j v_j  =>  dw_j = v_j^T da v_j and
    # dv_j = sum_{i != j} v_i (v_i^T da v_j) / (w_j - w_i)  (distinct eigenvalues).
    # A subset needs every eigenvector: the full decomposition is sliced.
    from .elementwise import mul, sub
    from .shape import slice as lax_slice
    (a,), (da,) = primals, tangents
    n = a.shape[-1]
    v, w = eigh_p.bind(a, lower=lower, sort_eigenvalues=sort_eigenvalues, subset_by_index=None)
    da = _symmetric_from_triangle(_ad.instantiate(da), lower)
    projected = _matmul(_matmul(_T(v), da), v)
    f = _reciprocal_off_diagonal(sub(_rows_like(w, n), _cols_like(w, n)))
    dv, dw = _matmul(v, mul(f, projected)), _diagonal(projected)
    lo, hi = subset_by_index or (0, n)
    if (lo, hi) != (0, n):
        v, w, dv, dw = (lax_slice(x, (0,) * (x.ndim - 1) + (lo,), tuple(x.shape[:-1]) + (hi,))
                        for x in (v, w, dv, dw))
    return [v, w], [dv, dw]


eigh_p.def_jvp(_eigh_jvp)


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


def _svd_jvp(primals, tangents, *, full_matrices, compute_uv, subset_by_index):
    # With dS = u^T da v (k x k): ds = diag(dS), and for distinct nonzero
    # singular values du = u (F o (dS s + s dS^T)), dv = v (F o (s dS + dS^T s)),
    # F_ij = 1 / (s_j^2 - s_i^2) off the diagonal, plus the parts of du (tall)
    # or dv (wide) outside the span of u or v: (1 - u u^T) da v / s.
    from .elementwise import add, div, mul, sub
    (a,), (da,) = primals, tangents
    *_, m, n = a.shape
    k = min(m, n)
    lo, hi = subset_by_index or (0, k)
    if compute_uv and (lo, hi) != (0, k):
        raise NotImplementedError(
            f"Differentiation of svd with compute_uv=True and subset_by_index={subset_by_index} is not "
            "implemented; take the full decomposition and slice it.")
    if compute_uv and full_matrices and m != n:
        raise NotImplementedError(
            f"Differentiation of svd with full_matrices=True is not implemented for non-square ({m}x{n}) "
            "matrices: the extra singular vectors are not unique. Use full_matrices=False.")
    outs = svd_p.bind(a, full_matrices=full_matrices, compute_uv=compute_uv, subset_by_index=subset_by_index)
    if compute_uv:
        s, u, vt = outs
    else:
        s, u, vt = svd_p.bind(a, full_matrices=False, compute_uv=True, subset_by_index=subset_by_index)
    if hi - lo == 0:
        return outs, [_ad.instantiate(_zero_tangent(x)) for x in outs]
    da = _ad.instantiate(da)
    v = _T(vt)
    ds_matrix = _matmul(_matmul(_T(u), da), v)
    ds = _diagonal(ds_matrix)
    if not compute_uv:
        return outs, [ds]
    size = s.shape[-1]
    s_j, s_i = _rows_like(s, size), _cols_like(s, size)
    f = _reciprocal_off_diagonal(mul(add(s_j, s_i), sub(s_j, s_i)))
    ds_s, s_ds = mul(ds_matrix, s_j), mul(s_i, ds_matrix)
    du = _matmul(u, mul(f, add(ds_s, _T(ds_s))))
    dv = _matmul(v, mul(f, add(s_ds, _T(s_ds))))
    if m > n:
        dav = _matmul(da, v)
        du = add(du, div(sub(dav, _matmul(u, _matmul(_T(u), dav))), _rows_like(s, m)))
    if n > m:
        dau = _matmul(_T(da), u)
        dv = add(dv, div(sub(dau, _matmul(v, _matmul(vt, dau))), _rows_like(s, n)))
    return [s, u, vt], [ds, du, _T(dv)]


svd_p.def_jvp(_svd_jvp)


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


# --- batching rules ------------------------------------------------------------
# Every primitive already works matrix by matrix over leading axes: the batch
# axis goes first. triangular_solve with an unbatched a instead folds the
# examples into b's independent columns (left side) or rows (right side), so
# a is neither copied nor factored per example.

from ..interpreters import batching as _batching  # noqa: E402


def _leading_batch(prim):
    def rule(args, dims, **params):
        (x,), (d,) = args, dims
        out = prim.bind(_batching.bdim_at_front(x, d, x.shape[d]), **params)
        return (out, [0] * len(out)) if prim.multiple_results else (out, 0)
    rule.__name__ = f"_{prim.name}_batch"
    return rule


for _prim in (cholesky_p, lu_p, qr_p, eigh_p, svd_p):
    _prim.def_batch(_leading_batch(_prim))


def _triangular_solve_batch(args, dims, *, left_side, **params):
    from .shape import reshape
    (a, b), (ad, bd) = args, dims
    if ad is None:
        # b (..., m, n): solve (..., m, size * n) with the examples inside the
        # columns; right side, b (..., n, m): (..., size * n, m) in the rows.
        size, rank = b.shape[bd], b.ndim - 1
        merge = rank - 1 if left_side else rank - 2
        b = _batching.move_batch_axis(b, bd, size, merge)
        shape = tuple(b.shape[:merge]) + (size * b.shape[merge + 1],) + tuple(b.shape[merge + 2:])
        out = triangular_solve_p.bind(a, reshape(b, shape), left_side=left_side, **params)
        return reshape(out, tuple(b.shape)), merge
    size = a.shape[ad]
    a, b = (_batching.bdim_at_front(x, d, size) for x, d in ((a, ad), (b, bd)))
    return triangular_solve_p.bind(a, b, left_side=left_side, **params), 0


triangular_solve_p.def_batch(_triangular_solve_batch)

# --- end of batching rules ---


# --- lowering (jit) ----------------------------------------------------------------------------
# Each primitive calls one kernel of backends/cpu_kernels.py on the operand
# viewed as a stack of matrices (B, m, n), which loops over the stack: numba's
# np.linalg (the LAPACK routines NumPy's impls call: potrf, syevd, gesdd,
# geqrf+orgqr) for cholesky, eigh, svd and qr; loops for triangular_solve and
# lu (numba exposes no trsm/getrf). Empty matrices never reach LAPACK: their
# results (identity bases, as the impls give) are printed directly.

def _stack(ctx, v):
    """``v`` ``(..., m, n)`` as a ``(B, m, n)`` array expression."""
    *batch, m, n = v.aval.shape
    return f"{ctx.read(v)}.reshape(({int(np.prod(batch))}, {m}, {n}))"


def _define_stacked(ctx, out, expr, subset_axis=None, subset=None):
    """Bind ``out`` to the stacked kernel result ``expr``, keeping ``subset``
    ``(lo, hi)`` of axis ``subset_axis`` (of the stack) when given."""
    if subset is not None:
        index = ", ".join(f"{subset[0]}:{subset[1]}" if d == subset_axis else ":" for d in range(3))
        expr = f"np.ascontiguousarray({expr}[{index}])"
    ctx.define(out, f"{expr}.reshape({tuple(out.aval.shape) or (1,)})")


def _define_eye(ctx, out):
    """``out`` ``(..., r, c)``: identity matrices (ones on the main diagonal)."""
    *batch, rows, cols = out.aval.shape
    name = ctx.define(out, f"rt.full({tuple(out.aval.shape)}, 0, {ctx.dtype(out)})")
    count = int(np.prod(batch))
    if count and min(rows, cols):
        flat = ctx.fresh("eye")
        ctx.emit(f"{flat} = {name}.reshape(({count}, {rows}, {cols}))")
        with ctx.loops((count, min(rows, cols)), parallel=False) as (b, i):
            ctx.emit(f"{flat}[{b}, {i}, {i}] = 1")


def _results(ctx, call, count):
    names = [ctx.fresh("r") for _ in range(count)]
    ctx.emit(f"{', '.join(names)}{',' if count == 1 else ''} = {call}")
    return names


def _cholesky_lower(ctx, eqn):
    (x,), (out,) = eqn.invars, eqn.outvars
    if 0 in x.aval.shape:
        ctx.define(out, ctx.empty(out.aval))
        return
    _define_stacked(ctx, out, f"rt.cholesky_batched({_stack(ctx, x)})")


def _triangular_solve_lower(ctx, eqn):
    (a, b), (out,) = eqn.invars, eqn.outvars
    p = eqn.params
    if 0 in b.aval.shape:
        ctx.define(out, ctx.empty(out.aval))
        return
    flags = f"{p['lower']}, {{}}, {p['unit_diagonal']}"
    if p["left_side"]:
        call = f"rt.triangular_solve_left({_stack(ctx, a)}, {_stack(ctx, b)}, {flags.format(p['transpose_a'])})"
    else:
        # x op(a) = b  <=>  op(a)^T x^T = b^T: a left solve with the transpose flag flipped.
        rhs, solved = ctx.fresh("bt"), ctx.fresh("xt")
        ctx.emit(f"{rhs} = np.ascontiguousarray({_stack(ctx, b)}.transpose((0, 2, 1)))")
        ctx.emit(f"{solved} = rt.triangular_solve_left({_stack(ctx, a)}, {rhs}, "
                 f"{flags.format(not p['transpose_a'])})")
        call = f"np.ascontiguousarray({solved}.transpose((0, 2, 1)))"
    _define_stacked(ctx, out, call)


def _lu_lower(ctx, eqn):
    # lu_batched needs no LAPACK, so empty matrices go through it too.
    (x,), outs = eqn.invars, eqn.outvars
    for out, name in zip(outs, _results(ctx, f"rt.lu_batched({_stack(ctx, x)})", 3)):
        _define_stacked(ctx, out, name)


def _qr_lower(ctx, eqn):
    (x,), (q, r) = eqn.invars, eqn.outvars
    if 0 in x.aval.shape:
        _define_eye(ctx, q)
        ctx.define(r, f"rt.full({tuple(r.aval.shape)}, 0, {ctx.dtype(r)})")
        return
    names = _results(ctx, f"rt.qr_batched({_stack(ctx, x)}, {eqn.params['full_matrices']})", 2)
    for out, name in zip((q, r), names):
        _define_stacked(ctx, out, name)


def _eigh_lower(ctx, eqn):
    (x,), (v, w) = eqn.invars, eqn.outvars
    p = eqn.params
    if 0 in x.aval.shape:
        for out in (v, w):
            ctx.define(out, ctx.empty(out.aval))
        return
    n = x.aval.shape[-1]
    subset = p["subset_by_index"] if p["subset_by_index"] not in (None, (0, n)) else None
    vs, ws = _results(ctx, f"rt.eigh_batched({_stack(ctx, x)}, {p['lower']})", 2)
    _define_stacked(ctx, v, vs, 2, subset)
    batch = int(np.prod(x.aval.shape[:-2]))
    _define_stacked(ctx, w, f"{ws}.reshape(({batch}, 1, {n}))", 2, subset)


def _svd_lower(ctx, eqn):
    (x,), outs = eqn.invars, eqn.outvars
    p = eqn.params
    *batch, m, n = x.aval.shape
    k = min(m, n)
    if 0 in x.aval.shape:
        ctx.define(outs[0], f"rt.full({tuple(outs[0].aval.shape)}, 0, {ctx.dtype(outs[0])})")
        for out in outs[1:]:
            _define_eye(ctx, out)
        return
    subset = p["subset_by_index"] if p["subset_by_index"] not in (None, (0, k)) else None
    full = p["full_matrices"] and p["compute_uv"]
    s, u, vt = _results(ctx, f"rt.svd_batched({_stack(ctx, x)}, {full})", 3)
    count = int(np.prod(batch))
    _define_stacked(ctx, outs[0], f"{s}.reshape(({count}, 1, {k}))", 2, subset)
    if p["compute_uv"]:
        _define_stacked(ctx, outs[1], u, 2, subset)
        _define_stacked(ctx, outs[2], vt, 1, subset)


cholesky_p.def_lowering(_cholesky_lower, "cpu")
triangular_solve_p.def_lowering(_triangular_solve_lower, "cpu")
lu_p.def_lowering(_lu_lower, "cpu")
qr_p.def_lowering(_qr_lower, "cpu")
eigh_p.def_lowering(_eigh_lower, "cpu")
svd_p.def_lowering(_svd_lower, "cpu")
