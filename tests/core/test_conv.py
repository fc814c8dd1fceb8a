"""Convolutions (lax.conv_general_dilated and its wrappers) and windowed
reductions (lax.reduce_window), against plain-loop references that visit
every output element and every window tap."""

import functools
import itertools

import numpy as np
import pytest

import numbax
import numbax.numpy as jnp
from numbax import lax
from numbax._src.lax.conv import reduce_window_sum_p
from numbax.errors import NumbaxTypeError
from numbax.test_util import values_test, grads_test, jit_test, vmap_test
from numbax.test_util import F32, F64, FLOATS, I32, OpCase, uniform

TOL = {F32: (1e-4, 1e-4), F64: (1e-12, 1e-12)}


# --- references --------------------------------------------------------------------------------

def _dilate_and_pad(x, first_axis, pads, dilation, fill):
    """Insert ``dilation - 1`` fill values between elements of the axes from
    ``first_axis`` on, then pad (negative pads crop)."""
    for axis, ((lo, hi), d) in enumerate(zip(pads, dilation), start=first_axis):
        size = x.shape[axis]
        shape = list(x.shape)
        shape[axis] = (size - 1) * d + 1 if size else 0
        out = np.full(shape, fill, x.dtype)
        index = [slice(None)] * x.ndim
        index[axis] = slice(None, None, d)
        out[tuple(index)] = x
        widths = [(0, 0)] * x.ndim
        widths[axis] = (max(lo, 0), max(hi, 0))
        out = np.pad(out, widths, constant_values=fill)
        index[axis] = slice(max(-lo, 0), out.shape[axis] - max(-hi, 0))
        x = out[tuple(index)]
    return x


def conv_reference(lhs, rhs, strides, padding, lhs_dilation=None, rhs_dilation=None, specs=None,
                   feature_group_count=1, batch_group_count=1):
    """Cross-correlation by loops over output elements; ``specs`` are the
    lhs/rhs/out axis permutations (batch/feature first)."""
    nsp = lhs.ndim - 2
    specs = specs or (tuple(range(lhs.ndim)),) * 3
    lhs_dilation, rhs_dilation = lhs_dilation or (1,) * nsp, rhs_dilation or (1,) * nsp
    x = np.transpose(lhs, specs[0]).astype(np.float64)
    w = np.transpose(rhs, specs[1]).astype(np.float64)
    x = _dilate_and_pad(x, 2, padding, lhs_dilation, 0)
    batch, out_features, in_features = x.shape[0] // batch_group_count, w.shape[0], w.shape[1]
    window = [(k - 1) * d + 1 for k, d in zip(w.shape[2:], rhs_dilation)]
    out_spatial = [max(0, (p - k) // s + 1) if p >= k else 0 for p, k, s in zip(x.shape[2:], window, strides)]
    out = np.zeros([batch, out_features] + out_spatial)
    per_feature_group = out_features // feature_group_count
    per_batch_group = out_features // batch_group_count
    for n, o in itertools.product(range(batch), range(out_features)):
        source = (o // per_batch_group) * batch + n
        first_channel = (o // per_feature_group) * in_features
        for position in itertools.product(*map(range, out_spatial)):
            acc = 0.0
            for i in range(in_features):
                for tap in itertools.product(*map(range, w.shape[2:])):
                    at = tuple(p * s + t * d for p, s, t, d in zip(position, strides, tap, rhs_dilation))
                    acc += x[(source, first_channel + i) + at] * w[(o, i) + tap]
            out[(n, o) + position] = acc
    return np.transpose(out, np.argsort(specs[2]))


def window_reference(x, kind, window, strides, padding, base_dilation=None, window_dilation=None, init=None):
    """Reduce every (dilated, strided) window by loops; padding never counts."""
    base_dilation = base_dilation or (1,) * x.ndim
    window_dilation = window_dilation or (1,) * x.ndim
    marker = np.zeros(x.shape, bool)
    padded = _dilate_and_pad(x.astype(np.float64), 0, padding, base_dilation, 0)
    real = _dilate_and_pad(~marker, 0, padding, base_dilation, False)
    extent = [(w - 1) * d + 1 for w, d in zip(window, window_dilation)]
    out_shape = [max(0, (p - e) // s + 1) if p >= e else 0 for p, e, s in zip(padded.shape, extent, strides)]
    combine = {"sum": sum, "max": max, "min": min}[kind]
    out = np.zeros(out_shape)
    for position in itertools.product(*map(range, out_shape)):
        values = []
        for tap in itertools.product(*map(range, window)):
            at = tuple(p * s + t * d for p, s, t, d in zip(position, strides, tap, window_dilation))
            if real[at]:
                values.append(padded[at])
        if init is not None:
            values.append(init)
        out[position] = combine(values) if values else {"sum": 0, "max": -np.inf, "min": np.inf}[kind]
    return out


# --- op table --------------------------------------------------------------------------------

def _conv_row(name, shapes, *, dtypes=FLOATS, strides, padding, dimension_numbers=None, lhs_dilation=None,
              rhs_dilation=None, feature_group_count=1, batch_group_count=1, specs=None, ref_padding=None,
              grad_order=2):
    fun = functools.partial(lax.conv_general_dilated, window_strides=strides, padding=padding,
                            lhs_dilation=lhs_dilation, rhs_dilation=rhs_dilation,
                            dimension_numbers=dimension_numbers, feature_group_count=feature_group_count,
                            batch_group_count=batch_group_count)

    def ref(lhs, rhs):
        pads = ref_padding(lhs, rhs) if callable(ref_padding) else ref_padding or padding
        return conv_reference(lhs, rhs, strides, pads, lhs_dilation, rhs_dilation, specs,
                              feature_group_count, batch_group_count)
    return OpCase(f"lax.conv_general_dilated[{name}]", fun, ref, shapes, dtypes=dtypes, tol=TOL,
                  sample=uniform(-1, 1), grad_order=grad_order)


def _window_row(name, shapes, kind, init, computation, window, strides, padding, ref_padding=None,
                base_dilation=None, window_dilation=None, dtypes=FLOATS + (I32,), ref_init=None, grad_order=2):
    def fun(x):
        return lax.reduce_window(x, init, computation, window, strides, padding, base_dilation,
                                 window_dilation)

    def ref(x):
        return window_reference(x, kind, window, strides, ref_padding or padding, base_dilation,
                                window_dilation, ref_init)
    # Max/min rows sample distinct floats: the chosen element is unique, so
    # finite differences see the same argmax as the JVP.
    return OpCase(f"lax.reduce_window[{name}]", fun, ref, shapes, dtypes=dtypes, tol=TOL,
                  sample=uniform(-3, 3), grad_order=grad_order)


NHWC = ("NHWC", "HWIO", "NHWC")
NHWC_SPECS = ((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))

OP_TABLE = [
    _conv_row("1d", [[(2, 3, 7), (4, 3, 3)], [(0, 3, 7), (4, 3, 3)], [(2, 3, 2), (4, 3, 3)]],
              strides=(1,), padding=((0, 0),), dtypes=FLOATS + (I32,)),
    _conv_row("1d strided padded", [[(2, 2, 9), (3, 2, 2)]], strides=(2,), padding=((2, 1),)),
    _conv_row("1d negative padding", [[(1, 2, 8), (2, 2, 3)]], strides=(1,), padding=((-1, 2),)),
    _conv_row("2d NCHW", [[(2, 3, 5, 6), (4, 3, 3, 2)], [(1, 1, 3, 3), (1, 1, 3, 3)]],
              strides=(1, 2), padding=((1, 1), (0, 1))),
    _conv_row("2d NHWC SAME", [[(2, 5, 6, 3), (3, 3, 3, 4)], [(1, 4, 4, 2), (2, 2, 2, 1)]], strides=(1, 1),
              padding="SAME", dimension_numbers=NHWC, specs=NHWC_SPECS,
              ref_padding=lambda x, w: lax.padtype_to_pads(x.shape[1:3], w.shape[:2], (1, 1), "SAME")),
    _conv_row("2d NHWC VALID strided", [[(2, 7, 6, 2), (3, 2, 2, 3)]], strides=(2, 2), padding="VALID",
              dimension_numbers=NHWC, specs=NHWC_SPECS, ref_padding=((0, 0), (0, 0))),
    _conv_row("2d dilated", [[(1, 2, 7, 7), (2, 2, 3, 2)]], strides=(1, 1), padding=((1, 2), (0, 0)),
              lhs_dilation=(2, 1), rhs_dilation=(1, 3)),
    _conv_row("2d feature groups", [[(2, 4, 5, 5), (6, 2, 2, 2)]], strides=(1, 1), padding=((0, 0), (1, 0)),
              feature_group_count=2),
    _conv_row("2d depthwise", [[(1, 3, 4, 4), (3, 1, 3, 3)]], strides=(1, 1), padding=((1, 1), (1, 1)),
              feature_group_count=3),
    _conv_row("2d batch groups", [[(4, 2, 4, 4), (6, 2, 2, 2)]], strides=(1, 1), padding=((0, 0), (0, 0)),
              batch_group_count=2),
    _conv_row("3d", [[(1, 2, 4, 3, 5), (2, 2, 2, 2, 3)]], strides=(1, 2, 1),
              padding=((0, 1), (1, 0), (1, 1))),
    OpCase("lax.conv", lambda x, w: lax.conv(x, w, (1, 1), "VALID"),
           lambda x, w: conv_reference(x, w, (1, 1), ((0, 0), (0, 0))), [[(2, 2, 4, 4), (3, 2, 2, 2)]],
           tol=TOL, sample=uniform(-1, 1), grad_order=2),
    OpCase("lax.conv_with_general_padding",
           lambda x, w: lax.conv_with_general_padding(x, w, (2,), ((1, 0),), (2,), (1,)),
           lambda x, w: conv_reference(x, w, (2,), ((1, 0),), (2,), (1,)), [[(2, 2, 5), (3, 2, 2)]],
           tol=TOL, sample=uniform(-1, 1), grad_order=2),
    # conv_transpose is the convolution of the stride-dilated input with JAX's
    # paddings: (k - 1, k - 1 + max(s - k, 0)) for VALID, and for SAME a total
    # of k + s - 2 split low-first unless the stride covers the kernel.
    OpCase("lax.conv_transpose[VALID]", lambda x, w: lax.conv_transpose(x, w, (2, 1), "VALID"),
           lambda x, w: conv_reference(x, w, (1, 1), ((2, 2), (1, 1)), (2, 1), None, NHWC_SPECS),
           [[(2, 4, 3, 2), (3, 2, 2, 3)]], tol=TOL, sample=uniform(-1, 1), grad_order=2),
    OpCase("lax.conv_transpose[SAME]", lambda x, w: lax.conv_transpose(x, w, (2, 3), "SAME"),
           lambda x, w: conv_reference(x, w, (1, 1), ((2, 1), (1, 2)), (2, 3), None, NHWC_SPECS),
           [[(1, 3, 3, 2), (3, 2, 2, 2)]], tol=TOL, sample=uniform(-1, 1), grad_order=2),
    OpCase("lax.conv_transpose[transpose_kernel]",
           lambda x, w: lax.conv_transpose(x, w, (2,), ((1, 1),), dimension_numbers=("NCH", "OIH", "NCH"),
                                           transpose_kernel=True),
           lambda x, w: conv_reference(x, np.swapaxes(w[..., ::-1], 0, 1), (1,), ((1, 1),), (2,)),
           [[(2, 3, 4), (3, 2, 3)]], tol=TOL, sample=uniform(-1, 1), grad_order=2),
    _window_row("max 2x2 VALID", [[(2, 4, 5, 3)], [(0, 4, 4, 1)]], "max", -np.inf, lax.max, (1, 2, 2, 1),
                (1, 2, 2, 1), "VALID", ((0, 0),) * 4),
    # 'SAME' pads: in 5 / stride 2 / window 3 -> (1, 1); in 6 / stride 1 -> (1, 1); in 1 -> (1, 1).
    _window_row("max SAME", [[(5, 6)], [(1, 1)]], "max", -np.inf, lax.max, (3, 3), (2, 1), "SAME",
                ref_padding=((1, 1), (1, 1))),
    OpCase("lax.reduce_window[sum padded]",
           lambda x: lax.reduce_window(x, 0, lax.add, (3,) * x.ndim, (1,) * x.ndim, ((1, 2),) * x.ndim),
           lambda x: window_reference(x, "sum", (3,) * x.ndim, (1,) * x.ndim, ((1, 2),) * x.ndim),
           [[(6,)], [(0,)], [(3, 4)], [()]], dtypes=FLOATS + (I32,), tol=TOL, sample=uniform(-3, 3), grad_order=2),
    _window_row("min dilated", [[(7, 5)]], "min", np.inf, lax.min, (2, 2), (1, 2), ((1, 0), (0, 1)),
                base_dilation=(2, 1), window_dilation=(1, 2)),
    _window_row("sum init 1", [[(5, 4)]], "sum", 1, lax.add, (2, 2), (1, 1), ((1, 1), (0, 0)), ref_init=1),
    _window_row("max jnp.maximum", [[(6,)]], "max", -np.inf, jnp.maximum, (2,), (2,), ((0, 0),)),
]


test_op_table = values_test(OP_TABLE)


test_op_grads = grads_test(OP_TABLE)


test_op_jit = jit_test(OP_TABLE)


def _x(*shape, dtype=np.float32):
    return jnp.asarray(np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape))


def test_padtype_to_pads():
    assert lax.padtype_to_pads((5, 6), (3, 2), (2, 1), "SAME") == ((1, 1), (0, 1))
    assert lax.padtype_to_pads((5, 6), (3, 2), (2, 1), "SAME_LOWER") == ((1, 1), (1, 0))
    assert lax.padtype_to_pads((5, 6), (3, 2), (2, 1), "VALID") == ((0, 0), (0, 0))
    assert lax.padtype_to_pads((0, 1), (3, 4), (2, 1), "SAME") == ((0, 1), (1, 2))


def test_conv_dimension_numbers():
    dn = lax.conv_dimension_numbers((1, 5, 6, 3), (2, 3, 3, 4), ("NHWC", "HWIO", "NHWC"))
    assert dn == lax.ConvDimensionNumbers((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))
    # Spatial axes pair up by letter, in the kernel's order.
    dn = lax.conv_dimension_numbers((1, 5, 6, 3), (2, 3, 3, 4), ("NWHC", "HWIO", "NHWC"))
    assert dn.lhs_spec == (0, 3, 2, 1)
    assert lax.conv_dimension_numbers((1, 2, 3), (1, 2, 3), None) == ((0, 1, 2),) * 3


def test_conv_output_shapes():
    assert lax.conv_general_dilated(_x(1, 1, 2), _x(1, 1, 3), (1,), "VALID").shape == (1, 1, 0)
    assert lax.conv_transpose(_x(1, 5, 1), _x(3, 1, 1), (2,), "SAME").shape == (1, 10, 1)
    assert lax.conv_transpose(_x(1, 5, 1), _x(4, 1, 1), (2,), "VALID").shape == (1, 12, 1)
    assert lax.reduce_window(_x(4), 0.0, lax.add, (3,), (2,), "SAME", (2,)).shape == (3,)


def test_conv_jaxpr_params():
    text = str(numbax.make_jaxpr(lambda x, w: lax.conv_general_dilated(x, w, (1, 1), "SAME",
                                                                       dimension_numbers=NHWC))(
        _x(1, 5, 5, 3), _x(3, 3, 3, 4)))
    assert "conv_general_dilated[batch_group_count=1 dimension_numbers=ConvDimensionNumbers(lhs_spec=(0, 3, " \
           "1, 2), rhs_spec=(3, 2, 0, 1), out_spec=(0, 3, 1, 2)) feature_group_count=1 lhs_dilation=(1, 1) " \
           "padding=((1, 1), (1, 1))" in text
    pool = numbax.make_jaxpr(lambda x: lax.reduce_window(x, -np.inf, lax.max, (2,), (2,), "VALID"))
    text = str(pool(_x(4)))
    assert "reduce_window_max[base_dilation=(1,) padding=((0, 0),) window_dilation=(1,)" in text


def test_integer_max_pool_with_float_infinity_init():
    out = lax.reduce_window(_x(5, dtype=np.int32), -np.inf, lax.max, (2,), (1,), ((1, 1),))
    assert out.dtype == np.int32 and out.tolist() == [0, 1, 2, 3, 4, 4]


def test_conv_errors():
    message = r"lhs feature size \(5, axis 1\) to equal the rhs input-feature size \(3, axis 1\).*'NHWC'"
    with pytest.raises(NumbaxTypeError, match=message):
        lax.conv_general_dilated(_x(1, 5, 5, 3), _x(3, 3, 3, 4), (1, 1), "SAME")
    with pytest.raises(NumbaxTypeError, match="same dtype"):
        lax.conv(_x(1, 1, 4), _x(1, 1, 2, dtype=np.int32), (1,), "VALID")
    with pytest.raises(ValueError, match="window_strides needs 2 entries"):
        lax.conv(_x(1, 1, 4, 4), _x(1, 1, 2, 2), (1,), "VALID")
    with pytest.raises(ValueError, match="not defined together with lhs_dilation"):
        lax.conv_general_dilated(_x(1, 1, 4), _x(1, 1, 2), (1,), "SAME", lhs_dilation=(2,))
    with pytest.raises(ValueError, match="dimension_numbers strings must name the same spatial letters"):
        lax.conv_general_dilated(_x(1, 4, 4, 1), _x(2, 2, 1, 1), (1, 1), "VALID",
                                 dimension_numbers=("NHWC", "HXIO", "NHWC"))
    with pytest.raises(ValueError, match="padding must be 'SAME', 'SAME_LOWER', 'VALID'"):
        lax.conv(_x(1, 1, 4), _x(1, 1, 2), (1,), "FULL")


def test_reduce_window_errors():
    with pytest.raises(NotImplementedError, match=r"computation=lax.add, lax.max or lax.min.*lambda"):
        lax.reduce_window(_x(4), 1.0, lambda a, b: a * b, (2,), (1,), "VALID")
    with pytest.raises(TypeError, match="init_value 0.0 is a float but the operand is int32"):
        lax.reduce_window(_x(4, dtype=np.int32), 0.0, lax.add, (2,), (1,), "VALID")
    with pytest.raises(NumbaxTypeError, match=r"reduce_window_sum needs window_dimensions for each of the 2"):
        reduce_window_sum_p.bind(_x(4, 4), window_dimensions=(2,), window_strides=(1, 1),
                                 padding=((0, 0), (0, 0)), base_dilation=(1, 1), window_dilation=(1, 1))
    with pytest.raises(ValueError, match="window_dimensions needs 2 entries"):
        lax.reduce_window(_x(4, 4), 0.0, lax.add, (2,), (1, 1), "VALID")


# --- vmap column and batched convolutions (conv / reduce_window batch rules) ------------------



test_op_vmap = vmap_test(OP_TABLE)


def _conv_vmap_vs_loop(fun, lhs, rhs, in_axes, size=3):
    out = numbax.vmap(fun, in_axes=in_axes)(jnp.asarray(lhs), jnp.asarray(rhs))
    pick = [(lambda a, i, ax=ax: a if ax is None else np.take(a, i, ax)) for ax in in_axes]
    loop = [np.asarray(fun(jnp.asarray(pick[0](lhs, i)), jnp.asarray(pick[1](rhs, i)))) for i in range(size)]
    np.testing.assert_allclose(np.asarray(out), np.stack(loop), rtol=1e-5, atol=1e-5)


# (feature_group_count, batch_group_count, lhs shape, rhs shape) in NCHW / OIHW.
GROUPINGS = [(1, 1, (2, 3, 5, 6), (4, 3, 3, 2)), (2, 1, (2, 4, 5, 5), (6, 2, 2, 2)),
             (1, 2, (4, 2, 4, 4), (6, 2, 2, 2))]


@pytest.mark.parametrize("in_axes", [(None, 0), (None, 3), (0, None), (4, None), (0, 0), (2, 1)])
@pytest.mark.parametrize("groups,batch_groups,lhs_shape,rhs_shape", GROUPINGS)
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_vmap_conv_equals_loop(groups, batch_groups, lhs_shape, rhs_shape, in_axes, layout):
    rng = np.random.default_rng(0)
    dnums = None
    if layout == "NHWC":
        lhs_shape, rhs_shape = tuple(np.array(lhs_shape)[[0, 2, 3, 1]]), tuple(np.array(rhs_shape)[[2, 3, 1, 0]])
        dnums = NHWC

    def fun(x, w):
        return lax.conv_general_dilated(x, w, (1, 2), ((1, 0), (0, 1)), rhs_dilation=(2, 1),
                                        dimension_numbers=dnums, feature_group_count=groups,
                                        batch_group_count=batch_groups)

    def batched(shape, axis):
        shape = shape if axis is None else shape[:axis] + (3,) + shape[axis:]
        return rng.uniform(-1, 1, shape).astype(np.float32)
    _conv_vmap_vs_loop(fun, batched(lhs_shape, in_axes[0]), batched(rhs_shape, in_axes[1]), in_axes)


def test_vmap_conv_over_a_batch_of_kernels_is_one_convolution():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (2, 5, 5, 3)).astype(np.float32)
    kernels = rng.uniform(-1, 1, (4, 3, 3, 3, 2)).astype(np.float32)

    def fun(w):
        return lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=NHWC)
    out = numbax.vmap(fun)(jnp.asarray(kernels))
    np.testing.assert_allclose(np.asarray(out), np.stack([np.asarray(fun(jnp.asarray(w))) for w in kernels]),
                               rtol=1e-5, atol=1e-5)
    names = [e.primitive.name for e in numbax.make_jaxpr(numbax.vmap(fun))(kernels).eqns]
    assert names.count("conv_general_dilated") == 1, names


@pytest.mark.parametrize("in_axes", [(0, 0), (None, 0), (0, None)])
def test_vmap_conv_size_zero_batch(in_axes):
    x, w = np.ones((2, 3, 5), np.float32), np.ones((4, 3, 2), np.float32)
    args = [a if ax is None else np.zeros((0,) + a.shape, np.float32) for a, ax in zip((x, w), in_axes)]
    out = numbax.vmap(lambda a, b: lax.conv(a, b, (1,), "VALID"), in_axes=in_axes)(*map(jnp.asarray, args))
    assert out.shape == (0, 2, 4, 4) and out.dtype == np.float32


@pytest.mark.parametrize("computation,init", [(lax.add, 0.0), (lax.max, -np.inf), (lax.min, np.inf)])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_vmap_reduce_window_equals_loop(computation, init, axis):
    x = np.random.default_rng(2).uniform(-1, 1, (5, 7)).astype(np.float32)
    xs = np.stack([x * (i + 1) for i in range(3)], axis=axis)

    def fun(a):
        return lax.reduce_window(a, init, computation, (2, 3), (1, 2), ((1, 0), (0, 1)), (2, 1), (1, 2))
    out = numbax.vmap(fun, in_axes=axis)(jnp.asarray(xs))
    loop = [np.asarray(fun(jnp.asarray(np.take(xs, i, axis)))) for i in range(3)]
    np.testing.assert_allclose(np.asarray(out), np.stack(loop), rtol=1e-6)
# --- end of vmap tests ---
