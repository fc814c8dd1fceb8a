"""Linear algebra: the numbax.lax.linalg primitives and numbax.numpy.linalg.

Factorizations with a unique answer are checked against loop references
(Cholesky-Banachiewicz, Doolittle with partial pivoting) or NumPy; those
defined up to signs (qr, eigh, svd) through what they must satisfy:
reconstruction, orthonormality, triangularity."""

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
from numbax import lax
from numbax.errors import NumbaxTypeError
from numbax.test_util import values_test, grads_test, jit_test, vmap_test
from numbax.test_util import (F32, F64, FLOATS, I32, I64, OpCase, always, uniform)

TOL = {F32: (2e-4, 2e-4), F64: (1e-10, 1e-10)}


# --- samplers and references ---------------------------------------------------------------------

def well_conditioned(rng, shape, dtype):
    """Matrices ``(..., n, n)`` (or any shape) with a dominant diagonal."""
    x = rng.uniform(-1, 1, shape)
    if len(shape) >= 2 and shape[-1] == shape[-2]:
        x = x + shape[-1] * np.eye(shape[-1])
    return x.astype(dtype)


def positive_definite(rng, shape, dtype):
    x = rng.uniform(-1, 1, shape)
    return (x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dtype)


def rank_two(rng, shape, dtype):
    left = rng.uniform(-1, 1, shape[:-1] + (2,))
    right = rng.uniform(-1, 1, shape[:-2] + (2, shape[-1]))
    return (left @ right).astype(dtype)


def cholesky_reference(a):
    out = np.zeros(a.shape, np.float64)
    for index in np.ndindex(*a.shape[:-2]):
        m, n = a[index].astype(np.float64), a.shape[-1]
        factor = out[index]
        for i in range(n):
            for j in range(i + 1):
                s = m[i, j] - factor[i, :j] @ factor[j, :j]
                factor[i, j] = np.sqrt(s) if i == j else s / factor[j, j]
    return out


def lu_reference(a):
    *batch, m, n = a.shape
    lu = a.astype(np.float64).copy()
    pivots = np.zeros(tuple(batch) + (min(m, n),), np.int32)
    perms = np.zeros(tuple(batch) + (m,), np.int32)
    for index in np.ndindex(*batch):
        x, perm = lu[index], np.arange(m)
        for k in range(min(m, n)):
            p = k + int(np.argmax(np.abs(x[k:, k])))
            pivots[index + (k,)] = p
            x[[k, p]] = x[[p, k]]
            perm[[k, p]] = perm[[p, k]]
            if x[k, k] != 0:
                x[k + 1:, k] /= x[k, k]
                x[k + 1:, k + 1:] -= np.outer(x[k + 1:, k], x[k, k + 1:])
        perms[index] = perm
    return lu, pivots, perms


def triangular_solve_reference(left_side, lower, transpose_a, unit_diagonal):
    def ref(a, b):
        t = np.tril(a) if lower else np.triu(a)
        if unit_diagonal:
            t = t - t * np.eye(a.shape[-1]) + np.eye(a.shape[-1])
        if transpose_a:
            t = np.swapaxes(t, -1, -2)
        if left_side:
            return np.linalg.solve(t, b)
        return np.swapaxes(np.linalg.solve(np.swapaxes(t, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)
    return ref


def _t(x):
    return jnp.swapaxes(x, -1, -2)


def _eye_like(x, n):
    return np.broadcast_to(np.eye(n), x.shape[:-2] + (n, n))


def _strictly_lower(x):
    return x * np.tril(np.ones(x.shape[-2:]), -1)


def _qr_properties(full_matrices):
    def fun(a):
        q, r = lax.linalg.qr(a, full_matrices=full_matrices)
        return jnp.matmul(q, r), jnp.matmul(_t(q), q), _strictly_lower(r)

    def ref(a):
        k = a.shape[-2] if full_matrices else min(a.shape[-2:])
        r_shape = a.shape[:-2] + (k, a.shape[-1])
        return a, _eye_like(a, k), np.zeros(r_shape)
    return fun, ref


def _svd_properties(full_matrices):
    def fun(a):
        u, s, vh = lax.linalg.svd(a, full_matrices=full_matrices)
        k = s.shape[-1]
        u_k = lax.slice_in_dim(u, 0, k, axis=u.ndim - 1)
        vh_k = lax.slice_in_dim(vh, 0, k, axis=vh.ndim - 2)
        reconstructed = jnp.matmul(jnp.multiply(u_k, jnp.expand_dims(s, -2)), vh_k)
        return reconstructed, jnp.matmul(_t(u), u), jnp.matmul(vh, _t(vh)), s

    def ref(a):
        m, n = a.shape[-2:]
        k = min(m, n)
        cols, rows = (m, n) if full_matrices else (k, k)
        return a, _eye_like(a, cols), _eye_like(a, rows), np.linalg.svd(a, compute_uv=False)
    return fun, ref


def _eigh_properties(a):
    v, w = lax.linalg.eigh(a)
    return jnp.matmul(jnp.multiply(v, jnp.expand_dims(w, -2)), _t(v)), jnp.matmul(_t(v), v), w


def _eigh_reference(a):
    sym = (a + np.swapaxes(a, -1, -2)) / 2
    return sym, _eye_like(a, a.shape[-1]), np.linalg.eigvalsh(sym)


def _squares(decomposition):
    """``x * x`` of every factor: invariant under each vector's sign."""
    def fun(a):
        return tuple(x * x for x in decomposition(a))
    return fun


def _symmetric(rng, shape, dtype):
    x = rng.uniform(-1, 1, shape)
    return ((x + np.swapaxes(x, -1, -2)) / 2).astype(dtype)


def _row(name, fun, ref, shapes, sample=well_conditioned, **kw):
    kw.setdefault("tol", TOL)
    return OpCase(name, fun, ref, shapes, dtypes=FLOATS, sample=sample, **kw)


def _index_dtype(d):
    return I64 if d == F64 else I32


SQUARE = [[(3, 3)], [(2, 4, 4)], [(1, 1)], [(0, 0)], [(0, 3, 3)]]
RECTANGULAR = [[(4, 3)], [(3, 4)], [(2, 3, 3)], [(0, 3)], [(3, 0)]]

LAX_TABLE = [
    _row("lax.linalg.cholesky", lax.linalg.cholesky, cholesky_reference, SQUARE, sample=positive_definite,
         grad_order=2),
    *[_row(f"lax.linalg.triangular_solve[left={ls} lower={lo} transpose={tr} unit={ud}]",
           lambda a, b, f=(ls, lo, tr, ud): lax.linalg.triangular_solve(
               a, b, left_side=f[0], lower=f[1], transpose_a=f[2], unit_diagonal=f[3]),
           triangular_solve_reference(ls, lo, tr, ud),
           [[(3, 3), (3, 2) if ls else (2, 3)], [(2, 4, 4), (2, 4, 1) if ls else (2, 1, 4)],
            [(0, 0), (0, 2) if ls else (2, 0)]], grad_order=2)
      for ls, lo, tr, ud in [(True, True, False, False), (True, False, True, True),
                             (False, False, False, False), (False, True, True, False)]],
    _row("lax.linalg.lu", lax.linalg.lu, lu_reference, RECTANGULAR + [[(2, 4, 4)], [(0, 0)]],
         sample=uniform(-1, 1), out_dtype=lambda d: (d, I32, I32), grad_order=2),
    # Full bases of non-square matrices are not unique: no derivative (JAX neither).
    *[_row(f"lax.linalg.qr[full_matrices={fm}]", *_qr_properties(fm), RECTANGULAR, sample=uniform(-1, 1),
           grad_order=0 if fm else 2)
      for fm in (True, False)],
    _row("lax.linalg.eigh", _eigh_properties, _eigh_reference, SQUARE, sample=uniform(-1, 1), grad_order=2),
    *[_row(f"lax.linalg.svd[full_matrices={fm}]", *_svd_properties(fm), RECTANGULAR, sample=uniform(-1, 1),
           grad_order=0 if fm else 2)
      for fm in (True, False)],
    _row("lax.linalg.svd[compute_uv=False]", lambda a: lax.linalg.svd(a, compute_uv=False),
         lambda a: np.linalg.svd(a, compute_uv=False), RECTANGULAR, sample=uniform(-1, 1), grad_order=2),
    # Elementwise squares of the factors do not depend on the sign of each
    # singular/eigen vector, yet move with them: they exercise the vectors'
    # derivatives (the property rows above are mostly constant).
    _row("lax.linalg.qr[squares]", _squares(lambda a: lax.linalg.qr(a, full_matrices=False)),
         _squares(lambda a: np.linalg.qr(a)), [[(4, 3)], [(3, 4)], [(2, 3, 3)]], sample=uniform(-1, 1),
         grad_order=2),
    _row("lax.linalg.eigh[squares]", _squares(lax.linalg.eigh), _squares(lambda a: np.linalg.eigh(a)[::-1]),
         [[(3, 3)], [(2, 4, 4)]], sample=_symmetric, grad_order=2),
    _row("lax.linalg.eigh[subset squares]", _squares(lambda a: lax.linalg.eigh(a, subset_by_index=(1, 3))),
         _squares(lambda a: tuple(x[..., 1:3] for x in np.linalg.eigh(a)[::-1])), [[(4, 4)], [(2, 3, 3)]],
         sample=_symmetric, grad_order=2),
    _row("lax.linalg.svd[squares]", _squares(lambda a: lax.linalg.svd(a, full_matrices=False)),
         _squares(lambda a: np.linalg.svd(a, full_matrices=False)), [[(4, 3)], [(3, 4)], [(2, 3, 3)]],
         sample=uniform(-1, 1), grad_order=2),
    _row("lax.linalg.svd[square full_matrices]", _squares(lax.linalg.svd), _squares(np.linalg.svd),
         [[(3, 3)]], sample=uniform(-1, 1), grad_order=2),
]


def _norm_row(label, ord, axis, shapes, keepdims=False, dtypes=FLOATS, out_dtype=None, grad_order=2):
    kw = {"out_dtype": out_dtype} if out_dtype else {}
    return OpCase(f"jnp.linalg.norm[{label}]", lambda x: jnp.linalg.norm(x, ord, axis, keepdims),
                  lambda x: np.linalg.norm(x, ord, axis, keepdims), shapes, dtypes=dtypes, tol=TOL,
                  sample=uniform(-2, 2), grad_order=grad_order, **kw)


def _qr_numpy_properties(mode):
    def fun(a):
        q, r = jnp.linalg.qr(a, mode)
        return jnp.matmul(q, r), _strictly_lower(r)

    def ref(a):
        return a, np.zeros(np.linalg.qr(a, mode).R.shape)
    return fun, ref


def _svd_numpy_properties(a):
    u, s, vh = jnp.linalg.svd(a, full_matrices=False)
    return jnp.matmul(jnp.multiply(u, jnp.expand_dims(s, -2)), vh), s


def _eigh_numpy_properties(a):
    w, v = jnp.linalg.eigh(a)
    return jnp.matmul(jnp.multiply(v, jnp.expand_dims(w, -2)), _t(v)), w


NUMPY_TABLE = [
    # max/min over no elements has no value in NumPy: no size-0 rows for inf norms.
    *[_norm_row(f"vector ord={o}", o, -1, [[(5,)], [(2, 3)]] + ([] if o in (np.inf, -np.inf) else [[(0,)]]))
      for o in (None, 0, 1, 2, np.inf, -np.inf, 3, 0.5)],
    *[_norm_row(f"matrix ord={o}", o, (-2, -1), [[(3, 4)], [(2, 3, 3)]] + [[(0, 3)]] * (o in (None, "fro")))
      for o in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf)],
    _norm_row("matrix axes (2, 0) keepdims", 1, (2, 0), [[(3, 4, 2)]], keepdims=True),
    _norm_row("all axes", None, None, [[(2, 3, 4)], [()], [(0,)]]),
    _norm_row("int", None, None, [[(4,)]], dtypes=(I32,), out_dtype=always(F32)),
    OpCase("jnp.linalg.vector_norm", lambda x: jnp.linalg.vector_norm(x, axis=(0, 2), ord=1),
           lambda x: np.linalg.vector_norm(x, axis=(0, 2), ord=1), [[(2, 3, 4)]], tol=TOL, grad_order=2),
    OpCase("jnp.linalg.matrix_norm", lambda x: jnp.linalg.matrix_norm(x, ord="nuc"),
           lambda x: np.linalg.matrix_norm(x, ord="nuc"), [[(2, 3, 4)]], tol=TOL, grad_order=2),
    _row("jnp.linalg.inv", jnp.linalg.inv, np.linalg.inv, SQUARE, grad_order=2),
    _row("jnp.linalg.solve", jnp.linalg.solve, np.linalg.solve,
         [[(3, 3), (3,)], [(2, 3, 3), (3,)], [(2, 3, 3), (2, 3, 2)], [(3, 3), (4, 3, 2)],
          [(2, 1, 3, 3), (5, 3, 1)], [(0, 3, 3), (3, 2)], [(3, 3), (3, 0)]],
         samplers=[well_conditioned, uniform(-1, 1)], grad_order=2),
    _row("jnp.linalg.cholesky", jnp.linalg.cholesky, np.linalg.cholesky, SQUARE, sample=positive_definite,
         grad_order=2),
    _row("jnp.linalg.cholesky[upper]", lambda a: jnp.linalg.cholesky(a, upper=True),
         lambda a: np.linalg.cholesky(a, upper=True), SQUARE[:2], sample=positive_definite, grad_order=2),
    _row("jnp.linalg.det", jnp.linalg.det, np.linalg.det, SQUARE, sample=uniform(-1, 1), grad_order=2),
    _row("jnp.linalg.det[singular]", jnp.linalg.det, np.linalg.det, [[(3, 3)]], sample=rank_two),
    _row("jnp.linalg.slogdet", jnp.linalg.slogdet, np.linalg.slogdet, SQUARE, sample=uniform(-1, 1),
         grad_order=2),
    _row("jnp.linalg.eigh", _eigh_numpy_properties, lambda a: _eigh_reference(a)[::2], SQUARE,
         sample=uniform(-1, 1), grad_order=2),
    _row("jnp.linalg.eigvalsh", jnp.linalg.eigvalsh, lambda a: _eigh_reference(a)[2], SQUARE,
         sample=uniform(-1, 1), grad_order=2),
    _row("jnp.linalg.svd", _svd_numpy_properties, lambda a: (a, np.linalg.svd(a, compute_uv=False)),
         RECTANGULAR, sample=uniform(-1, 1), grad_order=2),
    _row("jnp.linalg.svdvals", jnp.linalg.svdvals, lambda a: np.linalg.svd(a, compute_uv=False), RECTANGULAR,
         sample=uniform(-1, 1), grad_order=2),
    *[_row(f"jnp.linalg.qr[{mode}]", *_qr_numpy_properties(mode), RECTANGULAR, sample=uniform(-1, 1),
           grad_order=2 if mode == "reduced" else 0)
      for mode in ("reduced", "complete")],
    _row("jnp.linalg.qr[r]", lambda a: jnp.matmul(_t(jnp.linalg.qr(a, "r")), jnp.linalg.qr(a, "r")),
         lambda a: np.swapaxes(a, -1, -2) @ a, [[(4, 3)], [(2, 3, 3)]], sample=uniform(-1, 1), grad_order=2),
    _row("jnp.linalg.pinv", jnp.linalg.pinv, np.linalg.pinv, RECTANGULAR, sample=uniform(-1, 1), grad_order=2),
    *[OpCase(f"jnp.linalg.matrix_power[{n}]", lambda a, n=n: jnp.linalg.matrix_power(a, n),
             lambda a, n=n: np.linalg.matrix_power(a, n), [[(3, 3)], [(2, 2, 2)], [(0, 0)]],
             dtypes=FLOATS + ((I32,) if n >= 0 else ()), sample=well_conditioned if n < 0 else uniform(-2, 2),
             tol=TOL, grad_order=2)
      for n in (0, 1, 3, -2)],
    _row("jnp.linalg.matrix_rank", jnp.linalg.matrix_rank, np.linalg.matrix_rank,
         [[(4, 4)], [(2, 3, 5)]], sample=rank_two, out_dtype=_index_dtype),
    _row("jnp.linalg.matrix_rank[full]", jnp.linalg.matrix_rank, np.linalg.matrix_rank, [[(3, 3)], [(2,)]],
         out_dtype=_index_dtype),
    _row("jnp.linalg.lstsq", jnp.linalg.lstsq, lambda a, b: np.linalg.lstsq(a, b),
         [[(5, 3), (5,)], [(5, 3), (5, 2)]], sample=uniform(-1, 1),
         out_dtype=lambda d: (d, d, _index_dtype(d), d), grad_order=2),
    _row("jnp.linalg.multi_dot", lambda *xs: jnp.linalg.multi_dot(xs), lambda *xs: np.linalg.multi_dot(xs),
         [[(3,), (3, 4), (4, 2), (2,)], [(2, 3), (3, 4)], [(2, 5), (5, 3), (3, 6), (6, 2)]],
         sample=uniform(-1, 1), grad_order=2),
]


test_op_table = values_test(LAX_TABLE + NUMPY_TABLE)


test_op_grads = grads_test(LAX_TABLE + NUMPY_TABLE)


# numba's compile time grows faster than the program: three programs (the
# lax rows, the norms, the other numpy rows) compile in half the CPU time of one.
test_lax_op_jit = jit_test(LAX_TABLE)


test_norm_op_jit = jit_test([case for case in NUMPY_TABLE if case.name.startswith("jnp.linalg.norm[")])


test_numpy_op_jit = jit_test([case for case in NUMPY_TABLE if not case.name.startswith("jnp.linalg.norm[")])


def _x(*shape, dtype=np.float32):
    return jnp.asarray(np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape))


def test_failures_give_nans_not_exceptions():
    not_pd = jnp.asarray(np.array([[1.0, 2.0], [2.0, 1.0]], np.float32))
    factor = np.asarray(lax.linalg.cholesky(not_pd))
    assert np.isnan(factor[np.tril_indices(2)]).all() and factor[0, 1] == 0
    s = np.asarray(jnp.linalg.svdvals(jnp.asarray(np.full((2, 2), np.nan, np.float32))))
    assert np.isnan(s).all()
    singular = lax.linalg.triangular_solve(jnp.asarray(np.zeros((2, 2), np.float32)),
                                           jnp.asarray(np.ones((2, 2), np.float32)), left_side=True)
    assert not np.isfinite(np.asarray(singular)).any()
    sign, logdet = jnp.linalg.slogdet(jnp.asarray(np.ones((3, 3), np.float32)))
    assert sign.item() == 0 and logdet.item() == -np.inf


def test_lu_outputs_and_jaxpr():
    a = jnp.asarray(np.array([[1.0, 2, 3], [4, 5, 6], [7, 8, 10]], np.float32))
    lu, pivots, permutation = lax.linalg.lu(a)
    assert pivots.tolist() == [2, 2, 2] and permutation.tolist() == [2, 0, 1]
    text = str(numbax.make_jaxpr(lax.linalg.lu)(_x(3, 2)))
    assert "b:f32[3,2] c:i32[2] d:i32[3] = lu a" in text
    text = str(numbax.make_jaxpr(jnp.linalg.solve)(_x(3, 3), _x(3)))
    assert text.count("triangular_solve") == 2 and "= lu " in text


def test_eigh_subset_and_svd_values_only():
    a = jnp.asarray(np.diag([3.0, 1.0, 2.0]).astype(np.float32))
    v, w = lax.linalg.eigh(a, subset_by_index=(1, 3))
    assert v.shape == (3, 2) and np.allclose(np.asarray(w), [2.0, 3.0])
    assert lax.linalg.svd(a, compute_uv=False).shape == (3,)
    assert lax.linalg.qr(_x(4, 2), full_matrices=False)[0].shape == (4, 2)


def test_linalg_errors():
    message = r"cholesky needs square matrices \(\.\.\., n, n\) for its operand \(got f32\[2,3\]\)"
    with pytest.raises(NumbaxTypeError, match=message):
        lax.linalg.cholesky(_x(2, 3))
    with pytest.raises(NumbaxTypeError, match="lu supports float32 and float64 only; convert the operand"):
        lax.linalg.lu(_x(3, 3, dtype=np.int32))
    with pytest.raises(NumbaxTypeError, match=r"triangular_solve with left_side=True needs a and b shaped "
                                              r"\(\.\.\., m, m\) and \(\.\.\., m, n\)"):
        lax.linalg.triangular_solve(_x(3, 3), _x(2, 3), left_side=True)
    with pytest.raises(ValueError, match=r"solve got a of shape \(3, 3\) and b of shape \(4,\)"):
        jnp.linalg.solve(_x(3, 3), _x(4))
    with pytest.raises(ValueError, match=r"inv needs square matrices \(\.\.\., n, n\), got shape \(2, 3\)"):
        jnp.linalg.inv(_x(2, 3))
    with pytest.raises(ValueError, match="invalid order 'fro' for a vector norm"):
        jnp.linalg.norm(_x(3), "fro")
    with pytest.raises(ValueError, match="invalid order 3 for a matrix norm"):
        jnp.linalg.norm(_x(2, 3), 3)
    with pytest.raises(ValueError, match="ord=2 with axis=None needs a 1-D or 2-D array"):
        jnp.linalg.norm(_x(2, 3, 4), 2)
    with pytest.raises(ValueError, match="qr: mode must be 'reduced', 'complete' or 'r'"):
        jnp.linalg.qr(_x(2, 2), "raw")
    with pytest.raises(NotImplementedError, match="pivoting=True"):
        lax.linalg.qr(_x(2, 2), pivoting=True)


# --- vmap column and batched decompositions (linalg batch rules) --------------------------------



test_op_vmap = vmap_test(LAX_TABLE + NUMPY_TABLE)


def _well_conditioned_stack(rng, shape, axis, size=3):
    a = rng.uniform(-1, 1, (size,) + shape) + 4 * np.eye(shape[-1])
    return np.moveaxis(a, 0, axis).astype(np.float32)


@pytest.mark.parametrize("a_axis,b_axis", [(0, 0), (0, None), (None, 0), (2, 1), (1, None), (None, 1)])
@pytest.mark.parametrize("b_shape", [(3,), (3, 2)])
def test_vmap_solve_equals_loop(a_axis, b_axis, b_shape):
    rng = np.random.default_rng(0)
    a = _well_conditioned_stack(rng, (3, 3), 0)[0] if a_axis is None else _well_conditioned_stack(rng, (3, 3), a_axis)
    b = rng.uniform(-1, 1, b_shape if b_axis is None else b_shape[:b_axis] + (3,) + b_shape[b_axis:])
    b = b.astype(np.float32)
    out = numbax.vmap(jnp.linalg.solve, in_axes=(a_axis, b_axis))(jnp.asarray(a), jnp.asarray(b))
    loop = [np.asarray(jnp.linalg.solve(jnp.asarray(a if a_axis is None else np.take(a, i, a_axis)),
                                        jnp.asarray(b if b_axis is None else np.take(b, i, b_axis))))
            for i in range(3)]
    np.testing.assert_allclose(np.asarray(out), np.stack(loop), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("left_side", [True, False])
@pytest.mark.parametrize("a_axis,b_axis", [(None, 0), (None, 2), (0, None), (1, 2), (0, 0)])
def test_vmap_triangular_solve_equals_loop(left_side, a_axis, b_axis):
    rng = np.random.default_rng(3)
    a = _well_conditioned_stack(rng, (4, 4), 0)[0] if a_axis is None else _well_conditioned_stack(rng, (4, 4), a_axis)
    b_shape = (4, 2) if left_side else (2, 4)
    b = rng.uniform(-1, 1, b_shape if b_axis is None else b_shape[:b_axis] + (3,) + b_shape[b_axis:])
    b = b.astype(np.float32)

    def fun(a, b):
        return lax.linalg.triangular_solve(a, b, left_side=left_side, lower=True, transpose_a=True)
    out = numbax.vmap(fun, in_axes=(a_axis, b_axis))(jnp.asarray(a), jnp.asarray(b))
    loop = [np.asarray(fun(jnp.asarray(a if a_axis is None else np.take(a, i, a_axis)),
                           jnp.asarray(b if b_axis is None else np.take(b, i, b_axis)))) for i in range(3)]
    np.testing.assert_allclose(np.asarray(out), np.stack(loop), rtol=1e-5, atol=1e-5)
    if a_axis is None:  # the examples ride in b's columns (rows): a is not broadcast
        jaxpr = numbax.make_jaxpr(numbax.vmap(fun, in_axes=(a_axis, b_axis)))(a, b)
        assert all(e.primitive.name != "broadcast_in_dim" for e in jaxpr.eqns), jaxpr
# --- end of vmap tests ---
