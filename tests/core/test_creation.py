"""Array creation: array/asarray dtype rules and host copies, filled arrays,
ranges and matrices, each against NumPy; creation under a trace records
small jaxprs; bad arguments raise errors that name the fix."""

import re

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
from numbax._src import core
from numbax._src.config import enable_x64
from numbax.errors import ConcretizationTypeError
from numbax.test_util import values_test, jit_test, grads_test, vmap_test
from numbax.test_util import (BOOL, F32, F64, FLOATS, I32, I64, U8, OpCase, always, float_of, positive)

ALL = FLOATS + (I32, I64, U8, BOOL)
NUMERIC = FLOATS + (I32, I64)


def default_float(d):
    """The default float dtype of a row: float64 on 64-bit (x64) rows."""
    return F64 if np.dtype(d).itemsize == 8 else F32


def default_int(d):
    return I64 if np.dtype(d).itemsize == 8 else I32


# The gradient column uses each row's first two shapes: keep non-trivial ones first.
SCALAR_AND_ARRAYS = [[(2, 3)], [()], [(0,)], [(3,)]]
MATRICES = [[(3, 3)], [(2, 4)], [(4, 2)], [(0, 0)], [(2, 3, 3)]]

CASES = [
    OpCase("array", lambda x: jnp.array(x), lambda x: x, SCALAR_AND_ARRAYS, ALL, grad_order=2),
    OpCase("array:list_of_arrays", lambda x: jnp.array([x, x]), lambda x: np.array([x, x]),
           SCALAR_AND_ARRAYS, ALL, grad_order=2),
    OpCase("array:list_with_int", lambda x: jnp.array([[x, 1], [1, x]]),
           lambda x: np.array([[x, 1], [1, x]]), [[()]], ALL,
           out_dtype=lambda d: default_int(d) if d == BOOL else d),
    OpCase("array:ndmin", lambda x: jnp.array(x, ndmin=3), lambda x: np.array(x, ndmin=3),
           SCALAR_AND_ARRAYS, ALL, grad_order=2),
    OpCase("array:dtype", lambda x: jnp.array(x, dtype=jnp.float32), lambda x: x.astype(np.float32),
           SCALAR_AND_ARRAYS, ALL, out_dtype=always(F32), grad_order=2),
    OpCase("asarray", lambda x: jnp.asarray(x), lambda x: x, SCALAR_AND_ARRAYS, ALL, grad_order=2),
    OpCase("asarray:dtype", lambda x: jnp.asarray(x, dtype=jnp.int32), lambda x: x.astype(np.int32),
           SCALAR_AND_ARRAYS, (I32, I64, U8, BOOL), out_dtype=always(I32)),
    OpCase("copy", jnp.copy, lambda x: x.copy(), SCALAR_AND_ARRAYS, ALL, grad_order=2),
    OpCase("zeros", lambda x: jnp.zeros(x.shape, x.dtype), lambda x: np.zeros(x.shape, x.dtype),
           SCALAR_AND_ARRAYS, ALL),
    OpCase("zeros:default_dtype", lambda x: jnp.zeros(x.shape), lambda x: np.zeros(x.shape),
           SCALAR_AND_ARRAYS, (F32, F64), out_dtype=default_float),
    OpCase("ones", lambda x: jnp.ones(x.shape, x.dtype), lambda x: np.ones(x.shape, x.dtype),
           SCALAR_AND_ARRAYS, ALL),
    OpCase("empty", lambda x: jnp.empty(x.shape, x.dtype), lambda x: np.zeros(x.shape, x.dtype),
           SCALAR_AND_ARRAYS, ALL),
    OpCase("full", lambda x: jnp.full((2,) + x.shape, x), lambda x: np.full((2,) + x.shape, x),
           SCALAR_AND_ARRAYS, ALL, grad_order=2),
    OpCase("full:scalar_dtype", lambda x: jnp.full(x.shape, 7, x.dtype),
           lambda x: np.full(x.shape, 7, x.dtype), SCALAR_AND_ARRAYS, NUMERIC),
    OpCase("zeros_like", jnp.zeros_like, np.zeros_like, SCALAR_AND_ARRAYS, ALL),
    OpCase("ones_like", jnp.ones_like, np.ones_like, SCALAR_AND_ARRAYS, ALL),
    OpCase("empty_like", jnp.empty_like, np.zeros_like, SCALAR_AND_ARRAYS, ALL),
    OpCase("full_like", lambda x: jnp.full_like(x, 2.5), lambda x: np.full_like(x, 2.5),
           SCALAR_AND_ARRAYS, ALL),
    OpCase("zeros_like:shape_dtype", lambda x: jnp.zeros_like(x, dtype=jnp.int32, shape=(2, 1)),
           lambda x: np.zeros((2, 1), np.int32), [[()], [(3,)]], ALL, out_dtype=always(I32)),
    OpCase("arange", lambda x: jnp.arange(1, 2 * x.size + 1, 2, dtype=x.dtype),
           lambda x: np.arange(1, 2 * x.size + 1, 2, dtype=x.dtype), SCALAR_AND_ARRAYS, NUMERIC),
    OpCase("arange:stop", lambda x: jnp.arange(x.size), lambda x: np.arange(x.size),
           SCALAR_AND_ARRAYS, (I32, I64), out_dtype=default_int),
    OpCase("arange:float", lambda x: jnp.arange(0.5, x.size, 0.25), lambda x: np.arange(0.5, x.size, 0.25),
           SCALAR_AND_ARRAYS, FLOATS, out_dtype=default_float),
    OpCase("arange:negative_step", lambda x: jnp.arange(x.size, -2, -3), lambda x: np.arange(x.size, -2, -3),
           SCALAR_AND_ARRAYS, (I32, I64), out_dtype=default_int),
    OpCase("linspace", lambda x: jnp.linspace(x, 2 * x + 1, 5), lambda x: np.linspace(x, 2 * x + 1, 5),
           SCALAR_AND_ARRAYS, NUMERIC, out_dtype=float_of, grad_order=2),
    OpCase("linspace:axis_no_endpoint", lambda x: jnp.linspace(x, 3.0, 4, endpoint=False, axis=-1),
           lambda x: np.linspace(x, 3.0, 4, endpoint=False, axis=-1), SCALAR_AND_ARRAYS, FLOATS, grad_order=2),
    OpCase("linspace:retstep", lambda x: jnp.linspace(x, x + 1, 3, retstep=True),
           lambda x: np.linspace(x, x + 1, 3, retstep=True), [[()], [(2,)]], FLOATS, grad_order=2),
    OpCase("linspace:num_0_and_1", lambda x: (jnp.linspace(x, 2, 0), jnp.linspace(x, 2, 1)),
           lambda x: (np.linspace(x, 2, 0), np.linspace(x, 2, 1)), [[()], [(2,)]], FLOATS, grad_order=2),
    OpCase("linspace:int_dtype", lambda x: jnp.linspace(-10, x, 6, dtype=jnp.int32),
           lambda x: np.linspace(-10, x, 6, dtype=np.int32), [[()], [(3,)]], FLOATS, out_dtype=always(I32)),
    OpCase("logspace", lambda x: jnp.logspace(x, 2, 4), lambda x: np.logspace(x, 2, 4),
           SCALAR_AND_ARRAYS, FLOATS, tol={F32: (1e-5, 1e-5)}, grad_order=2),
    OpCase("logspace:base", lambda x: jnp.logspace(0, x, 3, base=2.0, endpoint=False, axis=-1),
           lambda x: np.logspace(0, x, 3, base=2.0, endpoint=False, axis=-1), [[()], [(2,)]], FLOATS, grad_order=2),
    OpCase("geomspace", lambda x: jnp.geomspace(x, 8 * x, 4), lambda x: np.geomspace(x, 8 * x, 4),
           SCALAR_AND_ARRAYS, FLOATS, sample=positive(0.5, 3.0), grad_order=2),
    OpCase("geomspace:negative", lambda x: jnp.geomspace(-x, -2 * x, 3, endpoint=False, axis=-1),
           lambda x: np.geomspace(-x, -2 * x, 3, endpoint=False, axis=-1), [[()], [(2,)]], FLOATS,
           sample=positive(0.5, 3.0), grad_order=2),
    OpCase("eye", lambda x: jnp.eye(*x.shape[-2:], dtype=x.dtype),
           lambda x: np.eye(*x.shape[-2:], dtype=x.dtype), MATRICES, ALL),
    OpCase("eye:k", lambda x: (jnp.eye(*x.shape[-2:], k=1), jnp.eye(*x.shape[-2:], k=-2)),
           lambda x: (np.eye(*x.shape[-2:], k=1), np.eye(*x.shape[-2:], k=-2)), MATRICES, (F32, F64),
           out_dtype=default_float),
    OpCase("identity", lambda x: jnp.identity(x.shape[-1], x.dtype),
           lambda x: np.identity(x.shape[-1], x.dtype), MATRICES, ALL),
    OpCase("tri", lambda x: jnp.tri(*x.shape[-2:], k=1, dtype=x.dtype),
           lambda x: np.tri(*x.shape[-2:], k=1, dtype=x.dtype), MATRICES, ALL),
    OpCase("tril", jnp.tril, np.tril, MATRICES, ALL, grad_order=2),
    OpCase("tril:k", lambda x: jnp.tril(x, -1), lambda x: np.tril(x, -1), MATRICES, NUMERIC, grad_order=2),
    OpCase("triu", jnp.triu, np.triu, MATRICES, ALL, grad_order=2),
    OpCase("triu:k", lambda x: jnp.triu(x, 2), lambda x: np.triu(x, 2), MATRICES, NUMERIC, grad_order=2),
    OpCase("diag", jnp.diag, np.diag, [[(3,)], [(2, 4)], [(0,)], [(3, 3)], [(0, 3)]], ALL, grad_order=2),
    OpCase("diag:k", lambda x: (jnp.diag(x, 1), jnp.diag(x, -2), jnp.diag(x, 7)),
           lambda x: (np.diag(x, 1), np.diag(x, -2), np.diag(x, 7)),
           [[(3,)], [(3, 4)], [(0,)], [(4, 2)]], ALL, grad_order=2),
    OpCase("diagflat", lambda x: jnp.diagflat(x, -1), lambda x: np.diagflat(x, -1),
           [[()], [(3,)], [(2, 2)]], ALL, grad_order=2),
    OpCase("vander", jnp.vander, np.vander, [[(3,)], [(4,)], [(0,)]], NUMERIC, grad_order=2),
    OpCase("vander:N_increasing", lambda x: jnp.vander(x, 2, increasing=True),
           lambda x: np.vander(x, 2, increasing=True), [[(3,)]], NUMERIC, grad_order=2),
]


test_op_table = values_test(CASES)
test_op_table_jit = jit_test(CASES)


test_op_grads = grads_test(CASES)


test_op_vmap = vmap_test(CASES)


# --- array / asarray ------------------------------------------------------------------------

@pytest.mark.parametrize("value,dtype,weak", [
    (1.0, F32, True), (1, I32, True), (True, BOOL, False),
    ([1.0, 2.0], F32, False), ([1, 2], I32, False), ([1, 2.0], F32, False), ([True, 1], I32, False),
    ([], F32, False), ([[], []], F32, False), ((1, (2, 3))[1:], I32, False),
    (np.float64(1.0), F32, False), (np.array([1, 2], np.int64), I32, False),
    ([np.uint8(3), 1], U8, False), ([np.float16(1.0), 2.0], np.dtype(np.float16), False),
    (np.arange(3, dtype=np.uint8), U8, False),
])
def test_array_infers_jax_dtypes(value, dtype, weak):
    for make in (jnp.array, jnp.asarray):
        out = make(value)
        assert out.dtype == dtype and out.weak_type is weak, (value, out.dtype, out.weak_type)
        np.testing.assert_array_equal(np.asarray(out), np.array(value).astype(dtype))


def test_array_dtypes_follow_x64():
    with enable_x64():
        assert jnp.array([1.5]).dtype == F64 and jnp.array(np.arange(2)).dtype == I64
        assert jnp.array(2 ** 40).item() == 2 ** 40
        assert jnp.arange(3).dtype == I64 and jnp.zeros(2).dtype == F64
    assert jnp.array([1.5]).dtype == F32 and jnp.array(np.arange(2)).dtype == I32


def test_array_explicit_dtype_and_weak_types():
    assert jnp.array(1.0, dtype=jnp.float32).weak_type is False
    assert jnp.array(jnp.array(1.0)).weak_type is True
    out = jnp.array([1.7, -2.7, np.nan], dtype=jnp.int32)
    assert out.dtype == I32 and out.tolist() == [1, -2, 0]  # truncates; NaN -> 0 as lax converts
    assert jnp.array(jnp.arange(3), dtype=jnp.float32).dtype == F32
    assert jnp.full(3, 1.0).weak_type and not jnp.full(3, np.float32(1.0)).weak_type
    assert jnp.zeros_like(1.0).weak_type and not jnp.zeros(3).weak_type


def test_array_accepts_objects_with_array_interfaces():
    class HasArray:
        def __array__(self, dtype=None, copy=None):
            return np.arange(3.0)

    class HasJaxArray:
        def __jax_array__(self):
            return jnp.arange(2)

    assert jnp.asarray(HasArray()).tolist() == [0.0, 1.0, 2.0]
    assert jnp.array(HasJaxArray()).tolist() == [0, 1]
    assert jnp.array(memoryview(np.arange(2, dtype=np.int32))).tolist() == [0, 1]


def test_host_data_is_copied_and_views_are_read_only():
    for make in (jnp.array, jnp.asarray, lambda v: jnp.asarray(v, dtype=jnp.float32), jnp.copy):
        source = np.arange(4.0, dtype=np.float32)
        x = make(source)
        source[0] = 100.0
        assert x.tolist() == [0.0, 1.0, 2.0, 3.0]
        view = np.asarray(x)
        assert not view.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            view[1] = 5.0
    nested = [np.arange(2.0)]
    x = jnp.array(nested)
    nested[0][0] = 9.0
    assert x.tolist() == [[0.0, 1.0]]


def test_asarray_of_host_data_binds_no_primitive(monkeypatch):
    calls = []
    original = core.Primitive.bind
    monkeypatch.setattr(core.Primitive, "bind",
                        lambda self, *args, **params: calls.append(self) or original(self, *args, **params))
    x = np.ones((2, 3))
    jnp.asarray(x), jnp.array(x), jnp.array([[1, 2], [3, 4]]), jnp.array(2.5), jnp.array(x, ndmin=4)
    jnp.asarray(jnp.asarray(x)), jnp.array([1.5, 2.5], dtype=jnp.int32)
    assert calls == []


def test_list_of_tracers_stacks():
    jaxpr = numbax.make_jaxpr(lambda x: jnp.array([x, 1.0, x]))(1.0)
    names = [eqn.primitive.name for eqn in jaxpr.eqns]
    assert names.count("broadcast_in_dim") == 3 and names[-1] == "concatenate"
    assert jaxpr.out_avals[0].shape == (3,) and jaxpr.out_avals[0].weak_type is False
    out = core.jaxpr_as_fun(jaxpr)(jnp.asarray(np.float32(2.0)))[0]
    assert out.tolist() == [2.0, 1.0, 2.0]


def test_creation_under_a_trace_records_small_jaxprs():
    def one_line(f, *args):
        return re.sub(r"\s+", " ", str(numbax.make_jaxpr(f)(*args)))

    assert one_line(lambda: jnp.zeros((2, 3))) == (
        "{ lambda ; . let a:f32[2,3] = broadcast_in_dim[broadcast_dimensions=() shape=(2, 3)] 0.0:f32[] "
        "in (a,) }")
    assert "broadcast_in_dim[broadcast_dimensions=() shape=(3,)] 0:i32[]" in one_line(
        jnp.zeros_like, jnp.arange(3))
    assert one_line(lambda: jnp.arange(4)) == (
        "{ lambda ; . let a:i32[4] = iota[dimension=0 dtype=int32 shape=(4,)] in (a,) }")
    assert "eq a b" in one_line(lambda: jnp.eye(3))
    for make in (lambda: jnp.tril(jnp.ones((3, 3))), lambda: jnp.linspace(0.0, 1.0, 5),
                 lambda: jnp.diag(jnp.arange(3)), lambda: jnp.full((2, 2), 3.0)):
        assert not numbax.make_jaxpr(make)().consts  # built from literals, not captured host data


# --- errors -------------------------------------------------------------------------------------

def test_traced_bounds_must_be_static():
    with pytest.raises(ConcretizationTypeError, match=r"arange: stop is a traced i32\[\].*must be static"):
        numbax.make_jaxpr(jnp.arange)(3)
    with pytest.raises(ConcretizationTypeError, match="zeros: shape is a traced"):
        numbax.make_jaxpr(lambda n: jnp.zeros(n))(3)
    with pytest.raises(ConcretizationTypeError, match="linspace: num is a traced"):
        numbax.make_jaxpr(lambda n: jnp.linspace(0.0, 1.0, n))(3)
    with pytest.raises(ConcretizationTypeError, match="eye: N is a traced"):
        numbax.make_jaxpr(jnp.eye)(3)


@pytest.mark.parametrize("make,error,match", [
    (lambda: jnp.array([[1, 2], [3]]), ValueError, "nested sequence is ragged"),
    (lambda: numbax.make_jaxpr(lambda x: jnp.array([x, jnp.ones(3)]))(jnp.ones(2)), ValueError,
     r"ragged: its items have shapes \[\(2,\), \(3,\)\]"),
    (lambda: jnp.array(2 ** 40), OverflowError, "does not fit in int32.*jax_enable_x64"),
    (lambda: jnp.array(None), TypeError, "cannot convert NoneType"),
    (lambda: jnp.array(["a"]), TypeError, "cannot convert a sequence of str"),
    (lambda: jnp.array(np.ones(2, np.complex64)), TypeError, "complex is not supported"),
    (lambda: jnp.zeros(3, dtype="float128x"), TypeError, "zeros: .*not a valid dtype"),
    (lambda: jnp.zeros((2, -1)), ValueError, r"zeros: shape \(2, -1\) has a negative dimension"),
    (lambda: jnp.ones(2.5), TypeError, "ones: shape must be an integer, got 2.5"),
    (lambda: jnp.full((2,), jnp.ones(3)), ValueError, r"full: cannot broadcast an array of shape \(3,\)"),
    (lambda: jnp.zeros_like([1, 2]), TypeError, "zeros_like requires ndarray or scalar arguments, got list"),
    (lambda: jnp.arange(0, 5, 0), ZeroDivisionError, "step must not be zero"),
    (lambda: jnp.arange(True), TypeError, "bool is not a valid dtype"),
    (lambda: jnp.arange(jnp.ones(2)), TypeError, r"arange: stop must be a scalar, got an array of shape"),
    (lambda: jnp.linspace(0, 1, -1), ValueError, "num must be non-negative"),
    (lambda: jnp.linspace(0, jnp.ones(2), 3, axis=3), ValueError, "axis 3 is out of bounds"),
    (lambda: jnp.linspace(jnp.ones(2), jnp.ones(3), 3), TypeError, "incompatible shapes"),
    (lambda: jnp.geomspace(0, 1), ValueError, "start must be nonzero"),
    (lambda: jnp.eye(-1), ValueError, "must be non-negative"),
    (lambda: jnp.tril(jnp.ones(3)), ValueError, r"tril: .*at least 2-D.*shape \(3,\)"),
    (lambda: jnp.diag(jnp.ones((2, 2, 2))), ValueError, r"diag: v must be 1-D .* or 2-D .*\(2, 2, 2\)"),
    (lambda: jnp.vander(jnp.ones((2, 2))), ValueError, "vander: x must be 1-D"),
])
def test_bad_arguments_raise_clear_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()
