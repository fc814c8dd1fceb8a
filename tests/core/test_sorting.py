"""Sorting and searching (numbax.numpy and numbax.lax) against NumPy: NaNs
last, stable ties, descending order, unique with size= under tracing, and
clear errors."""

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
from numbax import lax
from numbax.errors import ConcretizationTypeError
from numbax.test_util import values_test, jit_test, grads_test, vmap_test
from numbax.test_util import (BOOL, F32, F64, I32, I64, OpCase, always)

FLOATS = (F32, F64)
NUMBERS = (F32, F64, I32, I64)
ALL = NUMBERS + (BOOL,)


def index_of(d):
    """The default integer of a row: int64 on x64 rows."""
    return I64 if np.dtype(d).itemsize == 8 else I32


def ties(rng, shape, dtype):
    """Few distinct values (and some NaNs for floats), so order among equals matters."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    x = rng.integers(-2, 3, size=shape).astype(dtype)
    if dtype.kind == "f":
        x = np.where(rng.random(shape) < 0.2, np.nan, x).astype(dtype)
    return x


def distinct(rng, shape, dtype):
    """Values at least 0.25 apart in random order (ints: a permutation): with
    no ties the sort order is locally constant, so finite differences apply."""
    n = int(np.prod(shape, dtype=np.int64))
    values = (rng.permutation(n) - n // 2) * (0.5 if np.dtype(dtype).kind == "f" else 1)
    if np.dtype(dtype).kind == "f":
        values = values + rng.uniform(0, 0.25, n)
    return values.reshape(shape).astype(dtype)


def descending_order(x):
    """Reference descending stable order of a 1-D array: NaN first, ties by index."""
    def key(i):
        nan = isinstance(x[i], np.floating) and np.isnan(x[i])
        return (not nan, 0 if nan else -float(x[i]), i)
    return np.array(sorted(range(len(x)), key=key), dtype=np.int64)


def top_k_ref(k):
    def ref(x):
        order = np.apply_along_axis(descending_order, -1, x)[..., :k] if x.size else \
            np.zeros(x.shape[:-1] + (k,), np.int64)
        return np.take_along_axis(x, order, -1), order
    return ref


def unique_ref(size, **flags):
    """NumPy's unique padded/truncated to ``size`` as jnp.unique(size=) does."""
    def ref(x):
        out = np.unique(x, return_index=True, return_inverse=True, return_counts=True, equal_nan=True)
        values, index, inverse, counts = out
        pad = size - len(values)
        values = np.concatenate([values, np.full(max(pad, 0), values[0])])[:size]
        index = np.concatenate([index, np.full(max(pad, 0), index[0])])[:size]
        counts = np.concatenate([counts, np.zeros(max(pad, 0), counts.dtype)])[:size]
        chosen = [values] + [v for k, v in [("return_index", index), ("return_inverse", inverse),
                                            ("return_counts", counts)] if flags.get(k)]
        return tuple(chosen) if len(chosen) > 1 else values
    return ref


def searchsorted_ref(side):
    return lambda a, v: np.searchsorted(np.sort(a), v, side=side)


ANY_1D = [[(0,)], [(6,)], [(2, 5)], [(3, 0)], [(2, 3, 4)]]


def row(name, fun, ref, shapes, dtypes=ALL, **kw):
    return OpCase(name, fun, ref, shapes, dtypes=dtypes, **kw)


CASES = [
    row("sort", jnp.sort, lambda x: np.sort(x, kind="stable"), ANY_1D, sample=ties),
    row("sort:axis", lambda x: jnp.sort(x, axis=0), lambda x: np.sort(x, axis=0), ANY_1D[1:], sample=ties),
    row("sort:None", lambda x: jnp.sort(x, axis=None), lambda x: np.sort(x, axis=None),
        [[()], [(2, 3)]], sample=ties),
    row("sort:descending", lambda x: jnp.sort(x, descending=True), lambda x: np.flip(np.sort(x), -1),
        ANY_1D[:3], sample=ties),
    row("argsort", jnp.argsort, lambda x: np.argsort(x, kind="stable"), ANY_1D, out_dtype=index_of,
        sample=ties),
    row("argsort:axis", lambda x: jnp.argsort(x, axis=0), lambda x: np.argsort(x, axis=0, kind="stable"),
        [[(4, 3)], [(0, 2)]], out_dtype=index_of, sample=ties),
    row("argsort:descending", lambda x: jnp.argsort(x, descending=True),
        lambda x: np.apply_along_axis(descending_order, -1, x) if x.size else np.zeros(x.shape, np.int64),
        [[(7,)], [(3, 5)], [(0,)]], out_dtype=index_of, sample=ties),
    row("argsort:None", lambda x: jnp.argsort(x, axis=None),
        lambda x: np.argsort(x, axis=None, kind="stable"),
        [[()], [(2, 3)]], out_dtype=index_of, sample=ties),
    row("lexsort", lambda a, b: jnp.lexsort([a, b]), lambda a, b: np.lexsort([a, b]),
        [[(6,), (6,)], [(2, 5), (2, 5)], [(0,), (0,)]], out_dtype=index_of, sample=ties),
    row("lexsort:axis", lambda a, b, c: jnp.lexsort((a, b, c), axis=0),
        lambda a, b, c: np.lexsort((a, b, c), axis=0),
        [[(5, 2), (5, 2), (5, 2)]], out_dtype=index_of, sample=ties),
    row("partition", lambda x: lax.slice_in_dim(jnp.partition(x, 2), 2, 3, axis=-1),
        lambda x: np.partition(x, 2)[..., 2:3], [[(5,)], [(3, 4)]], NUMBERS, grad_order=2),
    row("argpartition", lambda x: lax.slice_in_dim(jnp.argpartition(x, -2, axis=0), 3, 4, axis=0),
        lambda x: np.argpartition(x, -2, axis=0)[3:4], [[(5,)], [(5, 2)]], FLOATS, out_dtype=index_of),
    row("searchsorted", lambda a, v: jnp.searchsorted(jnp.sort(a), v), searchsorted_ref("left"),
        [[(6,), (4,)], [(5,), ()], [(0,), (3,)], [(4,), (2, 3)], [(3,), (0,)]], out_dtype=always(I32),
        sample=ties),
    row("searchsorted:right", lambda a, v: jnp.searchsorted(jnp.sort(a), v, side="right"),
        searchsorted_ref("right"), [[(6,), (4,)], [(4,), (2, 3)]], out_dtype=always(I32), sample=ties),
    row("searchsorted:compare_all", lambda a, v: jnp.searchsorted(jnp.sort(a), v, method="compare_all"),
        searchsorted_ref("left"), [[(6,), (4,)], [(0,), (2,)]], out_dtype=always(I32), sample=ties),
    row("searchsorted:compare_all_right",
        lambda a, v: jnp.searchsorted(jnp.sort(a), v, side="right", method="compare_all"),
        searchsorted_ref("right"), [[(6,), (2, 2)]], out_dtype=always(I32), sample=ties),
    row("unique", lambda x: jnp.unique(x, size=x.size), lambda x: unique_ref(x.size)(x), [[(7,)], [(2, 3)]],
        sample=ties),
    row("unique:all", lambda x: jnp.unique(x, return_index=True, return_inverse=True, return_counts=True,
                                           size=x.size),
        lambda x: unique_ref(x.size, return_index=True, return_inverse=True, return_counts=True)(x),
        [[(8,)], [(3, 3)], [()]], out_dtype=lambda d: (d, index_of(d), index_of(d), index_of(d)),
        sample=ties),
    row("unique:small_size", lambda x: jnp.unique(x, return_counts=True, size=2),
        unique_ref(2, return_counts=True), [[(8,)]], out_dtype=lambda d: (d, index_of(d)), sample=ties),
    row("lax.sort", lambda x: lax.sort(x, dimension=0), lambda x: np.sort(x, axis=0, kind="stable"),
        [[(6,)], [(4, 3)], [(0, 2)]], sample=ties),
    row("lax.sort:keys", lambda a, b, c: lax.sort((a, b, c), num_keys=2),
        lambda a, b, c: tuple(np.take_along_axis(o, np.lexsort((b, a), axis=-1), -1) for o in (a, b, c)),
        [[(7,), (7,), (7,)], [(2, 5), (2, 5), (2, 5)]], sample=ties),
    row("lax.sort_key_val", lambda k, v: lax.sort_key_val(k, v),
        lambda k, v: (np.sort(k, kind="stable"), np.take_along_axis(v, np.argsort(k, kind="stable"), -1)),
        [[(7,), (7,)], [(3, 4), (3, 4)]], sample=ties),
    row("lax.top_k", lambda x: lax.top_k(x, 3), top_k_ref(3), [[(5,)], [(2, 4)], [(0, 3)]],
        out_dtype=lambda d: (d, I32), sample=ties),
    # The gradient column: distinct values (and integer operands riding along).
    row("sort:grad", jnp.sort, np.sort, [[(6,)], [(3, 4)]], FLOATS, sample=distinct, grad_order=2),
    row("sort:grad_axis", lambda x: jnp.sort(x, axis=0, descending=True), lambda x: np.flip(np.sort(x, 0), 0),
        [[(5, 3)], [(2, 3, 2)]], FLOATS, sample=distinct, grad_order=2),
    row("sort:grad_None", lambda x: jnp.sort(x, axis=None), lambda x: np.sort(x, axis=None), [[(2, 3)], [()]],
        FLOATS, sample=distinct, grad_order=2),
    row("lax.sort:grad_keys", lambda a, b, c: lax.sort((a, b, c), num_keys=2),
        lambda a, b, c: tuple(np.take_along_axis(o, np.lexsort((b, a), axis=-1), -1) for o in (a, b, c)),
        [[(7,), (7,), (7,)], [(2, 5), (2, 5), (2, 5)]], FLOATS, samplers=[ties, distinct, None],
        arg_dtypes=[I32, None, None], out_dtype=lambda d: (I32, d, d), grad_order=2),
    row("lax.sort_key_val:grad", lambda k, v: lax.sort_key_val(k, v, dimension=0),
        lambda k, v: (np.sort(k, axis=0), np.take_along_axis(v, np.argsort(k, axis=0), 0)),
        [[(6,), (6,)], [(4, 3), (4, 3)]], FLOATS, sample=distinct, grad_order=2),
    row("lax.sort_key_val:int_values", lambda k, v: lax.sort_key_val(k, v),
        lambda k, v: (np.sort(k), np.take_along_axis(v, np.argsort(k), -1)), [[(6,), (6,)], [(2, 4), (2, 4)]],
        FLOATS, sample=distinct, arg_dtypes=[None, I32], out_dtype=lambda d: (d, I32), grad_order=2),
    row("lax.top_k:grad", lambda x: lax.top_k(x, 3), top_k_ref(3), [[(5,)], [(2, 4)]],
        FLOATS, out_dtype=lambda d: (d, I32), sample=distinct, grad_order=2),
    row("lax.top_k:grad_axis", lambda x: lax.top_k(x, 2, axis=0)[0], lambda x: np.flip(np.sort(x, 0), 0)[:2],
        [[(4, 3)], [(3, 2, 2)]], FLOATS, sample=distinct, grad_order=2),
    row("lax.top_k:axis", lambda x: lax.top_k(x, 1, axis=0), lambda x: tuple(
        np.swapaxes(r, 0, -1) for r in top_k_ref(1)(np.swapaxes(x, 0, -1))), [[(3, 2)]],
        out_dtype=lambda d: (d, I32), sample=ties),
]


test_op_table = values_test(CASES)
test_op_table_jit = jit_test(CASES)


test_op_grads = grads_test(CASES)


test_op_vmap = vmap_test(CASES)


def test_nans_sort_last_and_zeros_keep_their_order():
    x = jnp.asarray(np.array([1.0, np.nan, -np.nan, 3.0, -0.0, 0.0, -np.inf], np.float32))
    out = np.asarray(jnp.sort(x))
    np.testing.assert_array_equal(out[:5], [-np.inf, 0.0, 0.0, 1.0, 3.0])
    assert np.signbit(out[1]) and not np.signbit(out[2]) and np.isnan(out[5:]).all()
    np.testing.assert_array_equal(np.asarray(jnp.argsort(x, descending=True)), [1, 2, 3, 0, 4, 5, 6])
    values, indices = lax.top_k(x, 2)
    assert np.isnan(np.asarray(values)).all() and np.asarray(indices).tolist() == [1, 2]


def test_unique_without_size_matches_numpy():
    x = np.array([[3, 1, 3], [2, 1, 7]], np.int32)
    flags = dict(return_index=True, return_inverse=True, return_counts=True)
    for got, want in zip(jnp.unique(jnp.asarray(x), **flags), np.unique(x, **flags)):
        np.testing.assert_array_equal(np.asarray(got), want)
    nans = jnp.asarray(np.array([np.nan, 1.0, np.nan], np.float32))
    assert np.asarray(jnp.unique(nans)).size == 2
    assert np.asarray(jnp.unique(nans, equal_nan=False)).size == 3
    assert np.asarray(jnp.unique(jnp.zeros(0))).shape == (0,)


def test_unique_along_an_axis():
    x = np.array([[3, 1], [3, 2], [3, 1]], np.int32)
    got = jnp.unique(jnp.asarray(x), axis=0, return_index=True, return_inverse=True, return_counts=True)
    want = np.unique(x, axis=0, return_index=True, return_inverse=True, return_counts=True)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(np.asarray(g), w.reshape(-1) if w.ndim == 1 else w)
    padded = jnp.unique(jnp.asarray(x.T), axis=1, size=3, fill_value=0)
    np.testing.assert_array_equal(np.asarray(padded), [[3, 3, 0], [1, 2, 0]])


def test_unique_under_tracing_needs_size():
    x = jnp.asarray(np.array([3, 1, 3, 2], np.int32))
    with pytest.raises(ConcretizationTypeError, match=r"jnp\.unique of a traced array needs size="):
        numbax.make_jaxpr(jnp.unique)(x)
    jaxpr = numbax.make_jaxpr(lambda x: jnp.unique(x, size=3, fill_value=-1))(x)
    assert "sort[dimension=0 is_stable=True num_keys=1]" in str(jaxpr)
    out = numbax._src.core.eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, x)[0]
    np.testing.assert_array_equal(np.asarray(out), [1, 2, 3])
    np.testing.assert_array_equal(np.asarray(jnp.unique(x, size=5, fill_value=-1)), [1, 2, 3, -1, -1])


def test_searchsorted_with_sorter():
    if not hasattr(jnp, "take"):
        pytest.skip("jnp.take (the indexing module) is not available yet")
    a = jnp.asarray(np.array([3, 1, 2], np.int32))
    assert int(jnp.searchsorted(a, 2, sorter=jnp.asarray(np.array([1, 2, 0], np.int32)))) == 1


def test_jaxprs_read_like_jax():
    x = jnp.ones((2, 3))
    text = str(numbax.make_jaxpr(lambda x: lax.top_k(x, 2))(x))
    assert "b:f32[2,2] c:i32[2,2] = top_k[axis=1 k=2] a" in text
    text = str(numbax.make_jaxpr(lambda x: lax.sort((x, x), num_keys=1))(x))
    assert "sort[dimension=1 is_stable=True num_keys=1] a a" in text


def test_sort_and_top_k_gradients_route_cotangents_back():
    x = np.array([0.5, -2.0, 3.0, 1.0], np.float32)
    w = np.array([1.0, 10.0, 100.0, 1000.0], np.float32)
    got = numbax.grad(lambda x: jnp.sum(jnp.sort(x) * jnp.asarray(w)))(jnp.asarray(x))
    np.testing.assert_array_equal(np.asarray(got), [10, 1, 1000, 100])  # w at each element's sorted rank
    values_grad = numbax.grad(lambda x: jnp.sum(lax.top_k(x, 2)[0] * jnp.asarray(w[:2])))(jnp.asarray(x))
    np.testing.assert_array_equal(np.asarray(values_grad), [0, 0, 1, 10])
    # keys and values ride along one permutation; integer keys get no tangent
    keys = jnp.asarray(np.array([2, 0, 1, 0], np.int32))
    _, t = numbax.jvp(lambda v: lax.sort_key_val(keys, v)[1], (jnp.asarray(x),), (jnp.asarray(w),))
    np.testing.assert_array_equal(np.asarray(t), [10, 1000, 100, 1])
    jac = numbax.jacrev(lambda x: jnp.sort(x, axis=0))(jnp.asarray(x))
    np.testing.assert_array_equal(np.asarray(jac), np.eye(4)[np.argsort(x)])


def loop(fun, x, axis):
    """``fun`` on each slice of ``x`` along ``axis``, stacked on a new axis 0."""
    return np.stack([np.asarray(fun(jnp.asarray(np.take(x, i, axis=axis)))) for i in range(x.shape[axis])])


def test_vmap_of_sorts_matches_a_loop():
    x = np.random.default_rng(0).integers(-2, 3, size=(4, 3, 5)).astype(np.float32)  # ties: stability shows
    np.testing.assert_array_equal(np.asarray(numbax.vmap(jnp.argsort)(jnp.asarray(x))), loop(jnp.argsort, x, 0))
    got = numbax.vmap(jnp.sort, in_axes=2)(jnp.asarray(x))
    np.testing.assert_array_equal(np.asarray(got), loop(jnp.sort, x, 2))
    got = numbax.vmap(lambda v: jnp.sort(v, axis=0), in_axes=1, out_axes=1)(jnp.asarray(x))
    np.testing.assert_array_equal(np.asarray(got), np.sort(x, axis=0, kind="stable"))
    values, indices = numbax.vmap(lambda v: lax.top_k(v, 2), in_axes=1)(jnp.asarray(x))
    for i in range(x.shape[1]):
        want_values, want_indices = lax.top_k(jnp.asarray(x[:, i]), 2)
        np.testing.assert_array_equal(np.asarray(values[i]), np.asarray(want_values))
        np.testing.assert_array_equal(np.asarray(indices[i]), np.asarray(want_indices))
    text = str(numbax.make_jaxpr(numbax.vmap(jnp.sort, in_axes=1))(jnp.ones((4, 3))))
    assert text.count("sort[") == 1 and "sort[dimension=0" in text


def test_vmap_of_sort_broadcasts_unbatched_operands():
    keys = np.random.default_rng(1).integers(0, 3, size=(5, 3)).astype(np.int32)
    values = np.arange(5, dtype=np.float32)
    f = numbax.vmap(lambda k, v: lax.sort_key_val(k, v), in_axes=(1, None))
    got_keys, got_values = f(jnp.asarray(keys), jnp.asarray(values))
    order = np.argsort(keys, axis=0, kind="stable").T
    np.testing.assert_array_equal(np.asarray(got_keys), np.sort(keys, axis=0).T)
    np.testing.assert_array_equal(np.asarray(got_values), values[order])
    # an unbatched key sorts a batched payload: one order, every example permuted by it
    got = numbax.vmap(lambda k, v: lax.sort((k, v), num_keys=1)[1], in_axes=(None, 0))(
        jnp.asarray(keys[:, 0]), jnp.asarray(keys.T))
    np.testing.assert_array_equal(np.asarray(got), keys.T[:, np.argsort(keys[:, 0], kind="stable")])
    # batched operands with their batch axes in different places
    payload = np.random.default_rng(2).normal(size=(3, 5)).astype(np.float32)
    got_keys, got_values = numbax.vmap(lambda k, v: lax.sort_key_val(k, v), in_axes=(1, 0))(
        jnp.asarray(keys), jnp.asarray(payload))
    np.testing.assert_array_equal(np.asarray(got_keys), np.sort(keys, axis=0).T)
    np.testing.assert_array_equal(np.asarray(got_values), np.take_along_axis(payload, order, 1))
    empty = f(jnp.zeros((5, 0), jnp.int32), jnp.asarray(values))
    assert [tuple(o.shape) for o in empty] == [(0, 5), (0, 5)]


def test_array_methods_sort():
    x = jnp.asarray(np.array([3.0, 1.0, 2.0], np.float32))
    np.testing.assert_array_equal(np.asarray(x.sort()), [1, 2, 3])
    np.testing.assert_array_equal(np.asarray(x.argsort()), [1, 2, 0])
    assert int(jnp.sort(x).searchsorted(2.5)) == 2


X = jnp.ones((2, 3))


@pytest.mark.parametrize("make,error,match", [
    (lambda: jnp.sort(jnp.ones(())), ValueError, r"jnp\.sort: axis -1 is out of bounds for a 0-d array"),
    (lambda: jnp.sort(X, axis=2), ValueError, r"axis 2 is out of bounds for an array of rank 2"),
    (lambda: jnp.sort(X, kind="quicksort"), TypeError, r"kind= is not supported; use stable="),
    (lambda: jnp.argsort(X, order="f"), NotImplementedError, r"order= \(structured arrays\)"),
    (lambda: jnp.lexsort([]), TypeError, r"non-empty sequence of keys"),
    (lambda: jnp.lexsort([jnp.ones(2), jnp.ones(3)]), ValueError, r"same shape, got \(2,\), \(3,\)"),
    (lambda: jnp.partition(jnp.ones(3), 3), ValueError, r"kth=3 is out of bounds for an axis of size 3"),
    (lambda: jnp.partition(jnp.ones(3), 1.5), TypeError, r"kth must be a static Python int"),
    (lambda: jnp.searchsorted(X, 1.0), ValueError, r"a must be 1-D, got shape \(2, 3\)"),
    (lambda: jnp.searchsorted(jnp.ones(3), 1.0, side="middle"), ValueError, r"side='middle'"),
    (lambda: jnp.searchsorted(jnp.ones(3), 1.0, method="bin"), ValueError, r"method='bin'.*'compare_all'"),
    (lambda: jnp.unique(jnp.zeros(0), size=2), ValueError, r"empty array with size > 0 needs fill_value="),
    (lambda: jnp.unique(jnp.ones(()), axis=0), ValueError, r"out of bounds for a 0-d array; use axis=None"),
    (lambda: lax.sort(jnp.ones(())), ValueError, r"sort: dimension -1 is out of bounds for operands of rank"),
    (lambda: lax.sort((X, jnp.ones(3))), TypeError, r"sort requires operands of one shape"),
    (lambda: lax.sort((X, X), num_keys=3), TypeError, r"needs 1 <= num_keys <= 2"),
    (lambda: lax.top_k(jnp.ones(3), 4), TypeError, r"top_k needs 0 <= k <= 3"),
    (lambda: lax.top_k(jnp.ones(3), jnp.ones(())), TypeError, r"k must be a Python int"),
])
def test_bad_arguments_raise_clear_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()
