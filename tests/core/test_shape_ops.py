"""Shape manipulation against NumPy: reshaping, permuting, joining, splitting,
tiling, repeating, broadcasting, padding, flips and rolls; static index
patterns become slices under a trace; bad arguments raise clear errors."""

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
from numbax import lax
from numbax.errors import ConcretizationTypeError
from numbax.test_util import values_test, jit_test, grads_test, vmap_test
from numbax.test_util import (BOOL, F32, F64, I32, I64, U8, OpCase)

DTYPES = (F32, F64, I32, BOOL)
NUMERIC = (F32, F64, I32, I64)


def rows(name, fun, ref, shapes, dtypes=DTYPES, grad_order=2, **kw):
    """A row; every function here is linear in its float arguments, so each
    row's gradient column checks derivatives to order 2 unless it says otherwise."""
    return OpCase(name, fun, ref, shapes, dtypes=dtypes, grad_order=grad_order, **kw)


def both(name, call, shapes, dtypes=DTYPES, **kw):
    """A row whose numbax call and NumPy reference are the same expression,
    ``call(module, *args)`` with ``module`` numbax.numpy or numpy."""
    return rows(name, lambda *args: call(jnp, *args), lambda *args: call(np, *args), shapes, dtypes, **kw)


def promoted_with_int32(d):
    """JAX's result dtype of ``d`` joined with int32."""
    return I32 if d in (BOOL, U8) else d


def repeat_total_ref(x, repeats, total):
    """JAX's total_repeat_length rule: truncate, or fill with the last element."""
    out = np.repeat(x, repeats)
    return out[:total] if len(out) >= total else np.concatenate([out, np.repeat(x[-1:], total - len(out))])


def pad_ref(x, value, config):
    """lax.pad in NumPy: interior padding by strided assignment, then each edge
    padded (positive) or cropped (negative)."""
    inner = [n + max(n - 1, 0) * interior for n, (_, _, interior) in zip(x.shape, config)]
    out = np.full(inner, value, x.dtype)
    out[tuple(slice(None, None, interior + 1) for _, _, interior in config)] = x
    for axis, (lo, hi, _) in enumerate(config):
        out = np.pad(out, [(max(lo, 0), max(hi, 0)) if a == axis else (0, 0) for a in range(x.ndim)],
                     constant_values=value)
        out = out[tuple(slice(max(-lo, 0), out.shape[axis] - max(-hi, 0)) if a == axis else slice(None)
                        for a in range(x.ndim))]
    return out


PAD_CONFIG = ((1, -1, 1), (-2, 2, 0), (0, 0, 2))


# The gradient column uses each row's first two shapes: keep non-trivial ones first.
ANY = [[(2, 3)], [(4,)], [()], [(0,)], [(2, 0, 3)]]
AT_LEAST_1D = [[(5,)], [(2, 3)], [(0,)], [(2, 3, 4)]]
AT_LEAST_2D = [[(2, 3)], [(3, 2, 4)], [(0, 3)]]
AT_LEAST_3D = [[(2, 3, 4)], [(1, 0, 2)]]

CASES = [
    both("reshape", lambda m, x: m.reshape(x, (-1, x.shape[-1]) if x.ndim else (1, 1)),
         ANY[:3] + ANY[4:]),
    both("reshape:F", lambda m, x: m.reshape(x, (x.shape[-1], -1), order="F"),
         [[(4,)], [(2, 3)], [(2, 3, 4)]]),
    both("ravel", lambda m, x: m.ravel(x), ANY),
    both("ravel:F", lambda m, x: m.ravel(x, order="F"), ANY),
    both("transpose", lambda m, x: m.transpose(x), ANY),
    both("transpose:axes", lambda m, x: m.transpose(x, (1, -1, 0)), AT_LEAST_3D),
    both("swapaxes", lambda m, x: m.swapaxes(x, 0, -1), AT_LEAST_1D),
    both("moveaxis", lambda m, x: m.moveaxis(x, 0, -1), AT_LEAST_1D),
    both("moveaxis:many", lambda m, x: m.moveaxis(x, [0, 1], [-1, 0]), AT_LEAST_3D),
    both("expand_dims", lambda m, x: m.expand_dims(x, 0), ANY),
    both("expand_dims:tuple", lambda m, x: m.expand_dims(x, (0, -1)), ANY),
    both("squeeze", lambda m, x: m.squeeze(x), [[(1, 3, 1)], [(2, 3)], [()], [(1,)], [(1, 0)]]),
    both("squeeze:axis", lambda m, x: m.squeeze(x, (0, -1)), [[(1, 1)], [(1, 3, 1)], [(1, 0, 1)]]),
    both("concatenate", lambda m, *xs: m.concatenate(xs),
         [[(2, 3), (1, 3), (0, 3)], [(2,), (3,), (1,)], [(0,), (0,)]]),
    both("concatenate:axis", lambda m, *xs: m.concatenate(xs, axis=-1),
         [[(2, 3), (2, 1), (2, 0)], [(2, 2, 1), (2, 2, 2)]]),
    both("concatenate:None", lambda m, *xs: m.concatenate(xs, axis=None), [[(2, 3), (4,), ()]]),
    both("concatenate:promotes", lambda m, x, y: m.concatenate([x, y]), [[(2,), (3,)], [(1, 2), (2, 2)]],
         arg_dtypes=[None, I32], out_dtype=promoted_with_int32, grad_argnums=(0,)),
    rows("concatenate:dtype", lambda x, y: jnp.concatenate([x, y], dtype=jnp.float32),
         lambda x, y: np.concatenate([x, y]).astype(np.float32), [[(2,), (3,)]], out_dtype=lambda d: F32),
    rows("concatenate:array", lambda x: jnp.concatenate(x, axis=1),
         lambda x: np.concatenate(list(x), axis=1), [[(2, 3, 4)], [(3, 1, 0)]]),
    both("append", lambda m, x, y: m.append(x, y), [[(2, 3), (2,)], [(), ()], [(0,), (3,)]]),
    both("append:axis", lambda m, x, y: m.append(x, y, axis=0), [[(2, 3), (1, 3)]]),
    both("stack", lambda m, *xs: m.stack(xs), [[(), ()], [(3,), (3,), (3,)], [(0, 2), (0, 2)]]),
    both("stack:axis", lambda m, *xs: m.stack(xs, axis=-1), [[(), ()], [(2, 3), (2, 3)]]),
    rows("stack:array", lambda x: jnp.stack(x, axis=1), lambda x: np.stack(list(x), axis=1),
         [[(2, 3)], [(4, 0)]]),
    both("vstack", lambda m, *xs: m.vstack(xs), [[(3,), (3,)], [(2, 3), (3,)], [(), ()]]),
    both("hstack", lambda m, *xs: m.hstack(xs), [[(3,), (2,)], [(2, 3), (2, 1)], [(), (2,)]]),
    both("dstack", lambda m, *xs: m.dstack(xs), [[(3,), (3,)], [(2, 3), (2, 3)], [(), ()]]),
    both("column_stack", lambda m, *xs: m.column_stack(xs), [[(3,), (3, 2)], [(), ()], [(0,), (0,)]]),
    both("split", lambda m, x: m.split(x, 2), [[(4,)], [(2, 3)], [(0,)]]),
    both("split:indices", lambda m, x: m.split(x, [1, -1, 10], axis=-1), [[(4,)], [(2, 5)], [(0,)]]),
    both("array_split", lambda m, x: m.array_split(x, 4, axis=-1), [[(3,)], [(2, 7)], [(0,)]]),
    both("hsplit", lambda m, x: m.hsplit(x, 2), [[(4,)], [(3, 2)]]),
    both("vsplit", lambda m, x: m.vsplit(x, [1]), [[(3, 2)], [(2, 2, 2)]]),
    both("dsplit", lambda m, x: m.dsplit(x, 2), [[(1, 2, 4)]]),
    both("tile", lambda m, x: m.tile(x, 2), ANY),
    both("tile:reps", lambda m, x: m.tile(x, (2, 1, 3)), ANY),
    both("tile:zero", lambda m, x: m.tile(x, (0, 2)), [[(3,)], [(2, 3)]]),
    both("repeat", lambda m, x: m.repeat(x, 2), ANY),
    both("repeat:axis", lambda m, x: m.repeat(x, 3, axis=-1), AT_LEAST_1D),
    both("repeat:per_element", lambda m, x: m.repeat(x, np.array([2, 0, 1]), axis=0), [[(3,)], [(3, 2)]]),
    both("repeat:irregular", lambda m, x: m.repeat(x, np.arange(40) % 3), [[(40,)]]),
    rows("repeat:total_repeat_length",
         lambda x: (jnp.repeat(x, np.array([1, 2, 0]), total_repeat_length=5),
                    jnp.repeat(x, np.array([1, 2, 3]), total_repeat_length=4)),
         lambda x: (repeat_total_ref(x, [1, 2, 0], 5), repeat_total_ref(x, [1, 2, 3], 4)), [[(3,)]]),
    both("broadcast_to", lambda m, x: m.broadcast_to(x, (2,) + x.shape), ANY),
    both("broadcast_to:stretch", lambda m, x: m.broadcast_to(x, (4, 3)), [[(3,)], [(4, 1)], [()], [(1,)]]),
    both("broadcast_arrays", lambda m, *xs: m.broadcast_arrays(*xs),
         [[(3, 1), (4,)], [(), (2, 0)], [(2,), (2,)]]),
    both("pad", lambda m, x: m.pad(x, 2), ANY[1:]),
    both("pad:constant_values", lambda m, x: m.pad(x, ((1, 0), (2, 1)), constant_values=((1, 0), (True, 1))),
         [[(2, 3)], [(0, 2)]]),
    both("pad:traced_value", lambda m, x, v: m.pad(x, (1, 2), constant_values=v), [[(3,), ()], [(2, 2), ()]]),
    rows("pad:empty", lambda x: jnp.pad(x, 1, mode="empty"), lambda x: np.pad(x, 1), [[(2, 3)]]),
    both("pad:edge", lambda m, x: m.pad(x, ((0, 3), (2, 1)), mode="edge"), [[(2, 3)], [(1, 1)]]),
    both("pad:reflect", lambda m, x: m.pad(x, (2, 5), mode="reflect"), [[(3,)], [(2, 3)], [(1, 4)]]),
    both("pad:symmetric", lambda m, x: m.pad(x, (4, 1), mode="symmetric"), [[(3,)], [(2, 3)]]),
    both("pad:wrap", lambda m, x: m.pad(x, (7, 2), mode="wrap"), [[(3,)], [(2, 3)]]),
    both("pad:linear_ramp",
         lambda m, x: m.pad(x, ((2, 1), (0, 3)), mode="linear_ramp", end_values=((5, -2), (1, 3))),
         [[(2, 3)], [(1, 1)]], dtypes=(F32, F64, I32)),
    both("flip", lambda m, x: m.flip(x), ANY),
    both("flip:axis", lambda m, x: m.flip(x, (0, -1)), AT_LEAST_2D),
    both("fliplr", lambda m, x: m.fliplr(x), AT_LEAST_2D),
    both("flipud", lambda m, x: m.flipud(x), AT_LEAST_1D),
    both("roll", lambda m, x: m.roll(x, 4), ANY),
    both("roll:axis", lambda m, x: m.roll(x, -1, axis=-1), AT_LEAST_1D),
    both("roll:tuple", lambda m, x: m.roll(x, (1, 5, -2), (0, 1, 0)), AT_LEAST_2D),
    both("rot90", lambda m, x: [m.rot90(x, k) for k in range(-1, 4)], AT_LEAST_2D),
    both("rot90:axes", lambda m, x: m.rot90(x, 1, axes=(2, 0)), AT_LEAST_3D),
    both("meshgrid", lambda m, *xs: m.meshgrid(*xs),
         [[(3,)], [(3,), (2,)], [(3,), (2,), (4,)], [(0,), (2,)]]),
    both("meshgrid:ij_sparse", lambda m, *xs: m.meshgrid(*xs, indexing="ij", sparse=True),
         [[(3,), (2,)], [(3,), (2,), (4,)]]),
    both("meshgrid:xy_sparse", lambda m, *xs: m.meshgrid(*xs, sparse=True), [[(3,), (2,), (4,)]]),
    both("atleast_1d", lambda m, *xs: m.atleast_1d(*xs), ANY + [[(), (2,)]]),
    both("atleast_2d", lambda m, *xs: m.atleast_2d(*xs), ANY + [[(), (2,)]]),
    both("atleast_3d", lambda m, *xs: m.atleast_3d(*xs), ANY + [[(), (2,), (2, 3)]]),
    both("delete", lambda m, x: m.delete(x, [0, -1]), [[(4,)], [(2, 3)]]),
    both("delete:axis", lambda m, x: (m.delete(x, 1, axis=0), m.delete(x, slice(None, None, 2), axis=-1)),
         [[(3, 5)]]),
    both("delete:mask", lambda m, x: m.delete(x, np.array([True, False, True])), [[(3,)]]),
    both("insert", lambda m, x, v: m.insert(x, 1, v), [[(4,), ()], [(4,), (2,)], [(2, 2), (3,)]]),
    both("insert:indices", lambda m, x, v: m.insert(x, [3, 0, -1], v), [[(4,), ()], [(4,), (3,)]]),
    both("insert:axis", lambda m, x, v: m.insert(x, [2], v, axis=1), [[(2, 3), (2, 1)], [(2, 3), ()]]),
    # lax's shape primitives directly, with the parameters jnp does not reach
    rows("lax.pad", lambda x, v: lax.pad(x, v, PAD_CONFIG), lambda x, v: pad_ref(x, v, PAD_CONFIG),
         [[(3, 4, 2), ()], [(1, 3, 0), ()]], dtypes=NUMERIC),
    rows("lax.slice:strides", lambda x: lax.slice(x, (0, 1, 1), (3, 4, 2), (2, 2, 1)),
         lambda x: x[0:3:2, 1:4:2, 1:2], [[(3, 4, 2)], [(4, 5, 3)]]),
    rows("lax.concatenate", lambda x, y: lax.concatenate([x, y, x], 1),
         lambda x, y: np.concatenate([x, y, x], 1), [[(2, 3), (2, 1)], [(1, 0), (1, 2)]]),
    rows("lax.broadcast_in_dim:stretch", lambda x: lax.broadcast_in_dim(x, (2, 3, 4), (1, 2)),
         lambda x: np.broadcast_to(x[None], (2, 3, 4)), [[(3, 1)], [(1, 4)], [(1, 1)]]),
    rows("lax.reshape:dimensions", lambda x: lax.reshape(x, (4, 6), dimensions=(2, 0, 1)),
         lambda x: np.transpose(x, (2, 0, 1)).reshape(4, 6), [[(2, 3, 4)]]),
    rows("lax.rev", lambda x: lax.rev(x, (0, 2)), lambda x: x[::-1, :, ::-1], [[(2, 3, 4)]]),
    rows("lax.squeeze", lambda x: lax.squeeze(x, (0, 2)), lambda x: x[0, :, 0], [[(1, 3, 1)]]),
    rows("lax.transpose", lambda x: lax.transpose(x, (1, 2, 0)), lambda x: np.transpose(x, (1, 2, 0)),
         [[(2, 3, 4)]]),
]


test_op_table = values_test(CASES)
test_op_table_jit = jit_test(CASES)


test_op_grads = grads_test(CASES)


test_op_vmap = vmap_test(CASES)


def _vmap_vs_loop(fun, args, in_axes, size=3):
    """``vmap(fun, in_axes)`` against a Python loop over the examples, stacked."""
    out = numbax.vmap(fun, in_axes=in_axes)(*[jnp.asarray(a) for a in args])
    examples = [np.asarray(fun(*[jnp.asarray(a if ax is None else np.take(a, b, axis=ax))
                                 for a, ax in zip(args, in_axes)])) for b in range(size)]
    np.testing.assert_array_equal(np.asarray(out), np.stack(examples))


@pytest.mark.parametrize("axis", [0, 1, 3])
def test_vmap_of_lax_shape_primitives_over_any_axis(axis):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    x = np.stack([x, x + 1, x * 2], axis)  # the batch axis of (2, 3, 4) examples
    for fun in (lambda x: lax.broadcast_in_dim(x[:, :1], (5, 2, 1, 3, 4), (1, 2, 4)),
                lambda x: lax.reshape(x, (4, 6), dimensions=(2, 0, 1)), lambda x: lax.reshape(x, (6, 4)),
                lambda x: lax.transpose(x, (1, 2, 0)), lambda x: lax.squeeze(x[:1, :, 2:3], (0, 2)),
                lambda x: lax.rev(x, (0, 2)), lambda x: lax.slice(x, (0, 1, 1), (2, 3, 4), (2, 1, 2)),
                lambda x: lax.pad(x, np.float32(-1), PAD_CONFIG)):
        _vmap_vs_loop(fun, [x], (axis,))
    y = np.ones((2, 1, 4), np.float32)
    for in_axes in [(axis, None), (None, 0)]:
        args = [x if in_axes[0] is not None else x.take(0, axis), y if in_axes[1] is None else np.stack([y] * 3)]
        _vmap_vs_loop(lambda x, y: lax.concatenate([y, x, y], 1), args, in_axes)
    values = np.array([-1.0, 0.5, 7.0], np.float32)
    for in_axes in [(axis, 0), (None, 0)]:
        operand = x if in_axes[0] is not None else x.take(1, axis)
        _vmap_vs_loop(lambda x, v: lax.pad(x, v, PAD_CONFIG), [operand, values], in_axes)


def test_static_index_patterns_become_slices():
    x = jnp.ones((3, 4))
    for fun in (lambda x: jnp.pad(x, 5, mode="reflect"), lambda x: jnp.pad(x, 2, mode="wrap"),
                lambda x: jnp.roll(x, 1, axis=1), lambda x: jnp.delete(x, 1, axis=1),
                lambda x: jnp.insert(x, 2, 0.0, axis=0), lambda x: jnp.repeat(x, np.array([1, 2, 1]), axis=0),
                lambda x: jnp.tile(x, (2, 1)), lambda x: jnp.split(x, 2, axis=1)):
        names = {eqn.primitive.name for eqn in numbax.make_jaxpr(fun)(x).eqns}
        assert names <= {"slice", "rev", "broadcast_in_dim", "concatenate", "reshape"}, names


def test_constant_pad_is_one_pad():
    jaxpr = numbax.make_jaxpr(lambda x: jnp.pad(x, ((1, 2), (0, 3)), constant_values=1.5))(jnp.ones((2, 2)))
    assert [eqn.primitive.name for eqn in jaxpr.eqns] == ["pad"]
    assert "padding_config=((1, 2, 0), (0, 3, 0))" in str(jaxpr)


@pytest.mark.skipif(not hasattr(lax, "dynamic_slice_in_dim"),
                    reason="needs lax.dynamic_slice_in_dim (lax/index.py)")
def test_roll_by_a_traced_shift():
    x = jnp.asarray(np.arange(10, dtype=np.float32).reshape(2, 5))
    for shift in (-7, -1, 0, 3, 12):
        jaxpr = numbax.make_jaxpr(lambda x, s: jnp.roll(x, s, axis=1))(x, shift)
        out = numbax._src.core.jaxpr_as_fun(jaxpr)(x, jnp.asarray(shift))[0]
        np.testing.assert_array_equal(np.asarray(out), np.roll(np.asarray(x), shift, axis=1))


def test_shape_ndim_size():
    x = jnp.ones((2, 3))
    assert jnp.shape(x) == (2, 3) and jnp.ndim(x) == 2 and jnp.size(x) == 6 and jnp.size(x, -1) == 3
    assert jnp.shape([[1, 2, 3]]) == (1, 3) and jnp.ndim(1.0) == 0 and jnp.size([]) == 0

    def traced(x):
        assert jnp.shape(x) == (2, 3) and jnp.ndim(x) == 2 and jnp.size(x, 0) == 2
        return x
    numbax.make_jaxpr(traced)(x)


def test_broadcast_shapes():
    assert jnp.broadcast_shapes((2, 1), (3,), ()) == (2, 3)
    assert jnp.broadcast_shapes(3, (1, 1)) == (1, 3)
    assert jnp.broadcast_shapes() == ()


def test_array_methods_use_these_functions():
    x = jnp.asarray(np.arange(6, dtype=np.float32).reshape(1, 2, 3))
    assert x.reshape(3, 2).shape == (3, 2) and x.reshape((-1,)).shape == (6,)
    assert x.squeeze().shape == (2, 3) and x.ravel().shape == (6,)
    assert x.transpose(2, 0, 1).shape == (3, 1, 2) and x.T.shape == (3, 2, 1)
    assert x.swapaxes(0, 2).shape == (3, 2, 1) and x.repeat(2, axis=1).shape == (1, 4, 3)


@pytest.mark.parametrize("make,error,match", [
    (lambda x: jnp.reshape(x, (4, -1)), TypeError,
     r"cannot reshape an array of shape \(2, 3\) \(size 6\) into shape \(4, -1\).*does not evenly divide 6"),
    (lambda x: jnp.reshape(x, (5,)), TypeError, r"into shape \(5,\) \(size 5\); the sizes must multiply"),
    (lambda x: jnp.reshape(x, (-1, -1)), TypeError, "at most one -1"),
    (lambda x: jnp.reshape(x, 6, order="A"), ValueError, "order must be 'C' or 'F'"),
    (lambda x: jnp.reshape([1, 2], 2), TypeError, "reshape requires ndarray or scalar arguments, got list"),
    (lambda x: jnp.transpose(x, (0, 0)), TypeError, r"axes \(0, 0\) is not a permutation of the 2 axes"),
    (lambda x: jnp.moveaxis(x, 0, 5), ValueError, "moveaxis: axis 5 is out of bounds for an array of rank 2"),
    (lambda x: jnp.moveaxis(x, [0, 1], [0]), ValueError, "same number of axes"),
    (lambda x: jnp.expand_dims(x, (0, 0)), ValueError, "repeated axis"),
    (lambda x: jnp.squeeze(x, 0), ValueError, r"cannot remove axis 0 of an array of shape \(2, 3\): its"),
    (lambda x: jnp.concatenate([x[0, 0], x[0, 1]]), ValueError, "0-d arrays cannot be concatenated"),
    (lambda x: jnp.concatenate([x, x.T]), TypeError, r"agree except along axis 0, got \(2, 3\), \(3, 2\)"),
    (lambda x: jnp.concatenate([]), ValueError, "need at least one array"),
    (lambda x: jnp.concatenate([x, [1, 2, 3]]), TypeError, "got list at position 1"),
    (lambda x: jnp.stack([x, x.T]), ValueError, r"same shape, got \(2, 3\), \(3, 2\)"),
    (lambda x: jnp.split(x, 2, axis=1), ValueError, "size 3 does not split into 2 equal parts; use array_"),
    (lambda x: jnp.split(x, 0), ValueError, "number of sections must be positive"),
    (lambda x: jnp.vsplit(x[0], 1), ValueError, "at least 2-d"),
    (lambda x: jnp.tile(x, -1), ValueError, "negative dimension"),
    (lambda x: jnp.repeat(x, -1), ValueError, "non-negative"),
    (lambda x: jnp.repeat(x, np.array([1, 2, 3]), axis=0), ValueError, "3 repeat counts for an axis of size"),
    (lambda x: jnp.repeat(x, 1.5), TypeError, "repeats must be an int"),
    (lambda x: jnp.broadcast_to(x, (3, 3)), ValueError,
     r"cannot broadcast an array of shape \(2, 3\) to shape \(3, 3\)"),
    (lambda x: jnp.broadcast_to(x, (3,)), ValueError, "rank cannot shrink"),
    (lambda x: jnp.broadcast_shapes((2,), (3,)), ValueError, r"incompatible shapes \(2,\) and \(3,\)"),
    (lambda x: jnp.pad(x, -1), ValueError, "pad_width must be non-negative"),
    (lambda x: jnp.pad(x, 1.5), TypeError, "pad_width must be integers"),
    (lambda x: jnp.pad(x, ((1, 2, 3),)), ValueError, "one pair per axis"),
    (lambda x: jnp.pad(x, 1, mode="mean"), NotImplementedError, "mode 'mean' is not supported"),
    (lambda x: jnp.pad(x, 1, mode="bogus"), ValueError, "mode 'bogus' is not supported"),
    (lambda x: jnp.pad(x, 1, mode="edge", constant_values=1), TypeError,
     r"unexpected keyword arguments \['constant_values'\]"),
    (lambda x: jnp.pad(x[:0], 1, mode="wrap"), ValueError, "cannot extend the empty axis 0"),
    (lambda x: jnp.pad(x, 1, mode="reflect", reflect_type="odd"), NotImplementedError, "reflect_type='odd'"),
    (lambda x: jnp.fliplr(x[0]), ValueError, "at least 2-d"),
    (lambda x: jnp.rot90(x, axes=(0, 0)), ValueError, "repeated axis"),
    (lambda x: jnp.meshgrid(x), ValueError, r"must be 1-d, got shapes \[\(2, 3\)\]"),
    (lambda x: jnp.meshgrid(x[0], indexing="ji"), ValueError, "indexing must be 'xy' or 'ij'"),
    (lambda x: jnp.delete(x, 7), IndexError, "delete: .*out of bounds"),
    (lambda x: jnp.insert(x, 8, 1), IndexError, "index 8 is out of bounds for an axis of size 6"),
    (lambda x: jnp.roll(x, 1.5), TypeError, "shift and axis must be ints"),
])
def test_bad_arguments_raise_clear_errors(make, error, match):
    with pytest.raises(error, match=match):
        make(jnp.asarray(np.arange(6, dtype=np.float32).reshape(2, 3)))


def test_traced_static_arguments_raise_concretization_errors():
    x = jnp.ones(4)
    for fun in (lambda x, n: jnp.repeat(x, n), lambda x, n: jnp.split(x, n), lambda x, n: jnp.tile(x, n),
                lambda x, n: jnp.reshape(x, (n, -1)), lambda x, n: jnp.pad(x, n),
                lambda x, n: jnp.delete(x, n)):
        with pytest.raises(ConcretizationTypeError, match="must be static"):
            numbax.make_jaxpr(fun)(x, 2)
