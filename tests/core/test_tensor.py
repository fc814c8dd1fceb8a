"""Contractions: lax.dot_general/dot/batch_matmul and numbax.numpy's dot,
matmul, einsum, tensordot, outer, inner, vdot, vecdot, trace, diagonal, kron,
cross. References are NumPy's own functions (or explicit einsum strings)."""

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
from numbax import lax
from numbax.errors import NumbaxTypeError
from numbax.test_util import values_test, jit_test, grads_test, vmap_test
from numbax.test_util import (F32, F64, FLOATS, I32, I64, OpCase, always, uniform)

INTS = (I32, I64)
NUMERIC = FLOATS + INTS
TOL = {F32: (1e-4, 1e-4), F64: (1e-12, 1e-12)}


def _rows(name, fun, ref, shapes, dtypes=NUMERIC, grad_order=2, **kw):
    # Contractions are polynomial in their float arguments: every row checks
    # gradients to order 2 (grad_params skips rows without float64).
    return OpCase(name, fun, ref, shapes, dtypes=dtypes, tol=TOL, sample=uniform(-2, 2), grad_order=grad_order,
                  **kw)


EINSUM_CASES = [
    ("ij,jk->ik", [[(2, 3), (3, 4)], [(0, 3), (3, 4)], [(2, 0), (0, 4)]]),
    ("bij,bjk->bik", [[(2, 3, 4), (2, 4, 5)], [(0, 3, 4), (0, 4, 5)]]),
    ("ij,jk", [[(2, 3), (3, 4)]]),
    ("ii->i", [[(3, 3)], [(0, 0)]]),
    ("ii", [[(3, 3)]]),
    ("iij->ji", [[(2, 2, 3)]]),
    ("ij->", [[(2, 3)], [(0, 3)]]),
    ("ba", [[(2, 3)]]),
    ("", [[()]]),
    (",->", [[(), ()]]),
    ("i,->i", [[(3,), ()]]),
    ("i,j->ij", [[(3,), (4,)]]),
    ("i,i,i->", [[(3,), (3,), (3,)]]),
    ("...ij,...jk->...ik", [[(2, 1, 3, 4), (5, 4, 2)], [(3, 4), (4, 2)]]),
    ("...i,...i->...", [[(2, 1, 3), (4, 3)]]),
    ("ij...,jk...->ik...", [[(2, 3), (3, 4, 5)]]),
    ("ij,ij->i", [[(2, 1), (2, 3)]]),
    ("ab,bc,cd,de->ae", [[(2, 3), (3, 2), (2, 4), (4, 2)]]),
    ("abc,cd,a->bd", [[(2, 3, 4), (4, 5), (2,)]]),
    ("ijk,ikj->", [[(2, 3, 3), (2, 3, 3)]]),
]


def _einsum_row(subscripts, shapes):
    return _rows(f"jnp.einsum[{subscripts}]", lambda *xs: jnp.einsum(subscripts, *xs),
                 lambda *xs: np.einsum(subscripts, *xs), shapes)


def _as_3d(v):
    """2-vectors padded with z = 0 (NumPy 2 deprecates 2-vectors in np.cross)."""
    return v if v.shape[-1] == 3 else np.concatenate([v, np.zeros_like(v[..., :1])], axis=-1)


def _dot_general_ref(dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers

    def ref(x, y):
        letters = iter("abcdefghijklmnop")
        xl, yl = [None] * x.ndim, [None] * y.ndim
        for i, j in list(zip(lb, rb)) + list(zip(lc, rc)):
            xl[i] = yl[j] = next(letters)
        xl = [c or next(letters) for c in xl]
        yl = [c or next(letters) for c in yl]
        out = ([xl[i] for i in lb] + [c for i, c in enumerate(xl) if i not in lb + lc]
               + [c for i, c in enumerate(yl) if i not in rb + rc])
        return np.einsum(f"{''.join(xl)},{''.join(yl)}->{''.join(out)}", x, y)
    return ref


DOT_GENERAL_DNUMS = [
    ((((1,), (0,)), ((), ())), [[(2, 3), (3, 4)], [(0, 3), (3, 4)], [(2, 0), (0, 4)]]),
    ((((2,), (1,)), ((0,), (0,))), [[(2, 3, 4), (2, 4, 5)], [(0, 3, 4), (0, 4, 5)]]),
    ((((2,), (1,)), ((1,), (2,))), [[(3, 2, 4), (5, 4, 2)]]),
    ((((0, 2), (1, 0)), ((), ())), [[(3, 4, 2), (2, 3, 5)]]),
    ((((), ()), ((), ())), [[(2,), (3,)], [(), ()], [(2, 3), ()]]),
]

OP_TABLE = [
    *[_rows(f"lax.dot_general[{dn}]", lambda x, y, dn=dn: lax.dot_general(x, y, dn), _dot_general_ref(dn),
            shapes) for dn, shapes in DOT_GENERAL_DNUMS],
    _rows("lax.dot", lax.dot, np.dot, [[(3,), (3,)], [(2, 3), (3,)], [(3,), (3, 4)], [(2, 3), (3, 4)],
                                       [(0, 3), (3, 4)], [(2, 0), (0,)]]),
    _rows("lax.batch_matmul", lax.batch_matmul, np.matmul, [[(2, 3, 4), (2, 4, 5)], [(0, 2, 3), (0, 3, 1)]]),
    _rows("jnp.dot", jnp.dot, np.dot, [[(3,), (3,)], [(2, 3), (3,)], [(3,), (3, 4)], [(2, 3), (3, 4)],
                                       [(2, 3, 4), (5, 4, 2)], [(), (2, 3)], [(2, 3), ()], [(), ()],
                                       [(0, 3), (3, 4)], [(2, 0), (0, 4)]]),
    _rows("jnp.matmul", jnp.matmul, np.matmul, [[(3,), (3,)], [(2, 3), (3,)], [(3,), (3, 4)],
                                                [(2, 3), (3, 4)], [(5, 2, 3), (3, 4)], [(2, 3), (5, 3, 4)],
                                                [(5, 1, 2, 3), (4, 3, 2)], [(6, 2, 3), (3,)],
                                                [(3,), (6, 3, 2)], [(0, 2, 3), (3, 4)], [(2, 0), (0, 3)]]),
    _rows("jnp.matmul[int32@float]", jnp.matmul, np.matmul, [[(2, 3), (3, 4)], [(3,), (3,)]],
          dtypes=FLOATS, arg_dtypes=[I32, None]),
    _rows("jnp.tensordot[axes=2]", jnp.tensordot, lambda a, b: np.tensordot(a, b, 2),
          [[(2, 3, 4), (3, 4, 5)], [(0, 3, 4), (3, 4)]]),
    _rows("jnp.tensordot[axes=0]", lambda a, b: jnp.tensordot(a, b, 0), lambda a, b: np.tensordot(a, b, 0),
          [[(2,), (3, 4)], [(), (3,)]]),
    _rows("jnp.tensordot[pairs]", lambda a, b: jnp.tensordot(a, b, ((0, -1), (1, 0))),
          lambda a, b: np.tensordot(a, b, ((0, 2), (1, 0))), [[(3, 4, 2), (2, 3, 5)]]),
    _rows("jnp.inner", jnp.inner, np.inner, [[(3,), (3,)], [(2, 3), (4, 3)], [(), (3,)], [(0, 3), (3,)]]),
    _rows("jnp.outer", jnp.outer, np.outer, [[(3,), (4,)], [(2, 3), (2,)], [(), (3,)], [(0,), (3,)]]),
    _rows("jnp.vdot", jnp.vdot, lambda a, b: np.dot(a.ravel(), b.ravel()),
          [[(3,), (3,)], [(2, 3), (6,)], [(), ()], [(0,), (0,)]]),
    _rows("jnp.vecdot", jnp.vecdot, lambda a, b: np.sum(a * b, axis=-1),
          [[(3,), (3,)], [(2, 1, 3), (4, 3)], [(0, 3), (3,)]]),
    _rows("jnp.vecdot[axis=0]", lambda a, b: jnp.vecdot(a, b, axis=0), lambda a, b: np.sum(a * b, axis=0),
          [[(3, 2), (3, 1)]]),
    _rows("jnp.diagonal", jnp.diagonal, np.diagonal, [[(3, 4)], [(4, 3)], [(2, 3, 4)], [(0, 3)]]),
    _rows("jnp.diagonal[offset]", lambda a: jnp.diagonal(a, 1, 2, 0), lambda a: np.diagonal(a, 1, 2, 0),
          [[(3, 4, 5)], [(1, 2, 3)]]),
    _rows("jnp.diagonal[negative offset]", lambda a: jnp.diagonal(a, -2, -1, 1),
          lambda a: np.diagonal(a, -2, -1, 1), [[(3, 4, 5)], [(2, 3, 1)]]),
    _rows("jnp.trace", jnp.trace, np.trace, [[(3, 3)], [(3, 4, 5)], [(0, 2)]]),
    _rows("jnp.trace[offset]", lambda a: jnp.trace(a, -1, 1, 2), lambda a: np.trace(a, -1, 1, 2),
          [[(3, 4, 5)]]),
    _rows("jnp.trace[int8]", jnp.trace, lambda a: np.trace(a).astype(np.int32), [[(3, 3)]], dtypes=(I32,),
          arg_dtypes=[np.int8], out_dtype=always(I32)),
    _rows("jnp.kron", jnp.kron, np.kron, [[(2, 3), (4,)], [(2, 1, 3), (2, 2)], [(), (2,)], [(0, 2), (3, 3)]]),
    _rows("jnp.cross", jnp.cross, lambda a, b: np.cross(_as_3d(a), _as_3d(b)),
          [[(3,), (3,)], [(4, 3), (3,)], [(5, 1, 3), (4, 3)], [(0, 3), (3,)], [(2,), (3,)], [(4, 3), (4, 2)]],
          dtypes=FLOATS + (I32,)),
    _rows("jnp.cross[2d]", jnp.cross, lambda a, b: a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0],
          [[(2,), (2,)], [(4, 2), (2,)]], dtypes=FLOATS + (I32,)),
    _rows("jnp.cross[axes]", lambda a, b: jnp.cross(a, b, axisa=0, axisb=1, axisc=0),
          lambda a, b: np.cross(a, b, axisa=0, axisb=1, axisc=0), [[(3, 4), (4, 3)]], dtypes=FLOATS),
    *[_einsum_row(subscripts, shapes) for subscripts, shapes in EINSUM_CASES],
    _rows("jnp.einsum[interleaved]", lambda a, b: jnp.einsum(a, [0, 1], b, [1, 2], [2, 0]),
          lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [2, 0]), [[(2, 3), (3, 4)]]),
    _rows("jnp.einsum[optimize=False]", lambda *xs: jnp.einsum("ab,bc,cd->ad", *xs, optimize=False),
          lambda *xs: np.einsum("ab,bc,cd->ad", *xs), [[(2, 3), (3, 4), (4, 2)]]),
    _rows("jnp.einsum[preferred int32]",
          lambda a, b: jnp.einsum("ij,jk", a, b, preferred_element_type=np.int32),
          lambda a, b: np.einsum("ij,jk", a.astype(np.int32), b.astype(np.int32)),
          [[(2, 3), (3, 4)]], dtypes=(I32,), arg_dtypes=[np.int8, np.int8], out_dtype=always(I32)),
    _rows("jnp.matmul[bool]", jnp.matmul, lambda a, b: np.matmul(a, b), [[(2, 3), (3, 4)]],
          dtypes=(np.dtype(bool),)),
]


test_op_table = values_test(OP_TABLE)
test_op_table_jit = jit_test(OP_TABLE)


test_op_grads = grads_test(OP_TABLE)


def _x(*shape, dtype=np.float32):
    return jnp.asarray(np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape))


def test_precision_accepts_names_and_pairs():
    assert lax.Precision("highest") is lax.Precision.HIGHEST
    assert lax.Precision("tensorfloat32") is lax.Precision.HIGH
    jaxpr = numbax.make_jaxpr(lambda a, b: lax.dot(a, b, precision="highest"))(_x(2, 3), _x(3))
    assert "precision=(Precision.HIGHEST, Precision.HIGHEST)" in str(jaxpr)
    pair = ("default", lax.Precision.HIGH)
    jaxpr = numbax.make_jaxpr(lambda a, b: jnp.dot(a, b, precision=pair))(_x(3), _x(3))
    assert "precision=(Precision.DEFAULT, Precision.HIGH)" in str(jaxpr)
    with pytest.raises(ValueError, match="precision must be None"):
        lax.dot(_x(3), _x(3), precision="ultra")


def test_dot_general_output_order_and_preferred_type():
    out = lax.dot_general(_x(3, 2, 4), _x(5, 4, 2), (((2,), (1,)), ((1,), (2,))))
    assert out.shape == (2, 3, 5)
    ints = jnp.asarray(np.full((4,), 100, np.int8))
    wide = lax.dot_general(ints, ints, (((0,), (0,)), ((), ())), preferred_element_type=np.int32)
    assert wide.dtype == np.int32 and wide.item() == 40000


def test_matmul_broadcasts_without_materializing():
    text = str(numbax.make_jaxpr(jnp.matmul)(_x(5, 1, 2, 3), _x(4, 3, 2)))
    assert text.count("dot_general") == 1 and "broadcast_in_dim" not in text


def test_einsum_stages_to_dot_general():
    text = str(numbax.make_jaxpr(lambda a, b: jnp.einsum("bij,bjk->bik", a, b))(_x(2, 3, 4), _x(2, 4, 5)))
    assert "dot_general[dimension_numbers=(((2,), (1,)), ((0,), (0,)))" in text


def test_result_dtypes_follow_jax():
    i32 = jnp.asarray(np.ones((2, 2), np.int32))
    f32 = jnp.asarray(np.ones((2, 2), np.float32))
    assert jnp.matmul(i32, i32).dtype == np.int32
    assert jnp.matmul(i32, f32).dtype == np.float32
    assert jnp.dot(2, f32).dtype == np.float32
    assert jnp.einsum("ij,jk", i32, f32).dtype == np.float32
    assert lax.dot_general(2.0, 3.0, (((), ()), ((), ()))).weak_type


def test_dot_general_errors():
    message = r"dot_general requires operands of the same dtype.*f32\[2,3\], i32\[3\]"
    with pytest.raises(NumbaxTypeError, match=message):
        lax.dot_general(_x(2, 3), _x(3, dtype=np.int32), (((1,), (0,)), ((), ())))
    with pytest.raises(NumbaxTypeError, match=r"contracting dimensions of equal sizes, got \(3,\)"):
        lax.dot_general(_x(2, 3), _x(4), (((1,), (0,)), ((), ())))
    with pytest.raises(NumbaxTypeError, match=r"out of range for a rank-2 operand"):
        lax.dot_general(_x(2, 3), _x(3), (((2,), (0,)), ((), ())))
    with pytest.raises(NumbaxTypeError, match="narrower than the operands' int32"):
        lax.dot_general(_x(3, dtype=np.int32), _x(3, dtype=np.int32), (((0,), (0,)), ((), ())),
                        preferred_element_type=np.int8)
    with pytest.raises(TypeError, match=r"dimension_numbers must be \(\(lhs_contracting"):
        lax.dot_general(_x(2, 3), _x(3), ((1, 0), ((), ())))
    with pytest.raises(TypeError, match="lax.dot takes vectors and matrices"):
        lax.dot(_x(2, 3, 4), _x(4))


def test_numpy_contraction_errors():
    with pytest.raises(NumbaxTypeError, match=r"matmul got incompatible shapes f32\[2,3\] and f32\[4,5\]"):
        jnp.matmul(_x(2, 3), _x(4, 5))
    with pytest.raises(ValueError, match="matmul needs operands of rank >= 1"):
        jnp.matmul(_x(), _x(3))
    with pytest.raises(NumbaxTypeError, match="matmul got incompatible shapes"):
        jnp.matmul(_x(2, 2, 3), _x(3, 3, 4))
    with pytest.raises(NumbaxTypeError, match=r"dot got incompatible shapes f32\[3\] and f32\[4\]"):
        jnp.dot(_x(3), _x(4))
    with pytest.raises(NumbaxTypeError, match="tensordot got shapes .* a axis 1 has 3, b axis 0 has 4"):
        jnp.tensordot(_x(2, 3), _x(4, 5), 1)
    with pytest.raises(TypeError, match="requires ndarray or scalar arguments, got list"):
        jnp.dot([1.0, 2.0], _x(2))
    with pytest.raises(ValueError, match="diagonal needs an array of rank >= 2"):
        jnp.diagonal(_x(3))
    with pytest.raises(ValueError, match="cross needs vectors of length 2 or 3"):
        jnp.cross(_x(4), _x(4))


def test_einsum_errors():
    with pytest.raises(ValueError, match="name 2 operands but 1 were given"):
        jnp.einsum("ij,jk", _x(2, 3))
    with pytest.raises(ValueError, match=r"subscript 'ij' names 2 axes but its operand has shape \(3,\)"):
        jnp.einsum("ij", _x(3))
    with pytest.raises(NumbaxTypeError, match=r"label 'j' has sizes 3 and 4 in 'ij,jk'"):
        jnp.einsum("ij,jk", _x(2, 3), _x(4, 5))
    with pytest.raises(ValueError, match=r"output labels \['z'\] do not appear"):
        jnp.einsum("ij->z", _x(2, 3))
    with pytest.raises(NumbaxTypeError, match=r"label 'i' has sizes 2 and 3 in 'ii->i'"):
        jnp.einsum("ii->i", _x(2, 3))
    with pytest.raises(NumbaxTypeError, match="a diagonal needs equal sizes"):
        jnp.einsum("ii->i", _x(1, 3))


@pytest.mark.parametrize("x64", [False, True])
def test_f64_matmul_under_x64_and_f32_without(x64):
    from numbax._src.config import enable_x64
    with enable_x64(x64):
        a = jnp.asarray(np.ones((2, 2), np.float64))
        assert jnp.matmul(a, a).dtype == (F64 if x64 else F32)



# --- vmap column and batched contractions (dot_general batch rule) ---------------------------



test_op_vmap = vmap_test(OP_TABLE)


def _stack_on(x, axis, size=3):
    """``size`` different copies of ``x`` stacked along ``axis`` (None: ``x``)."""
    if axis is None:
        return x
    return np.stack([x + i for i in range(size)], axis=axis)


@pytest.mark.parametrize("x_shape,y_shape,x_axis,y_axis", [
    (xs, ys, xa, ya)
    for xs, ys in [((3,), (3,)), ((2, 3), (3, 4)), ((2, 3), (3,)), ((3,), (3, 4))]
    for xa, ya in [(0, 0), (0, None), (None, 0), (2, 1), (None, 2), (1, None)]
    if (xa is None or xa <= len(xs)) and (ya is None or ya <= len(ys))])
def test_vmap_dot_batched_and_unbatched(x_shape, y_shape, x_axis, y_axis):
    x = np.arange(np.prod(x_shape), dtype=np.float32).reshape(x_shape) / 4
    y = np.arange(np.prod(y_shape), dtype=np.float32).reshape(y_shape) / 8 - 1
    xs, ys = _stack_on(x, x_axis), _stack_on(y, y_axis)
    out = numbax.vmap(jnp.dot, in_axes=(x_axis, y_axis))(jnp.asarray(xs), jnp.asarray(ys))
    loop = [np.dot(xs if x_axis is None else np.take(xs, i, x_axis), ys if y_axis is None else np.take(ys, i, y_axis))
            for i in range(3)]
    np.testing.assert_allclose(np.asarray(out), np.stack(loop), rtol=1e-6)


@pytest.mark.parametrize("in_axes", [(0, None), (None, 0), (0, 0), (1, 2)])
def test_vmap_dot_is_one_dot_general_whatever_the_batch_size(in_axes):
    def eqns(size):
        x, y = np.ones((2, 3), np.float32), np.ones((3, 4), np.float32)
        args = [_stack_on(a, ax, size) for a, ax in zip((x, y), in_axes)]
        jaxpr = numbax.make_jaxpr(numbax.vmap(jnp.dot, in_axes=in_axes))(*args)
        return [e.primitive.name for e in jaxpr.eqns]
    small, large = eqns(3), eqns(50)
    assert small.count("dot_general") == 1, small
    assert small == large


def test_vmap_of_vmap_dot_general_keeps_one_contraction():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    y = np.arange(30, dtype=np.float32).reshape(3, 5, 2) - 10
    f = numbax.vmap(numbax.vmap(jnp.dot, in_axes=(0, None)), in_axes=(None, 1))
    jaxpr = numbax.make_jaxpr(f)(x, y)
    assert [e.primitive.name for e in jaxpr.eqns].count("dot_general") == 1
    out = f(jnp.asarray(x), jnp.asarray(y))
    expected = np.stack([np.stack([np.dot(x[i], y[:, j]) for i in range(2)]) for j in range(5)])
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-6)
# --- end of vmap tests ---
