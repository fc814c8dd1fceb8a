"""numbax.nn activations and initializers against NumPy formulas, with JAX's
result dtypes; numerical stability at large inputs; masks; one_hot edges."""


import dataclasses

import numpy as np
import pytest
import scipy.special as ss

import numbax
import numbax.numpy as jnp
from numbax import nn
from numbax._src.config import enable_x64
from numbax.test_util import values_test, jit_test, grads_test, vmap_test
from numbax.test_util import quiet
from numbax.test_util import BOOL, F32, F64, I32, I64, OpCase, always, float_of, uniform

FLOATS = (F32, F64)
NUMBERS = (F32, F64, I32, I64)
SHAPES = [[()], [(0,)], [(5,)], [(2, 3)]]
TOL = {F32: (1e-5, 1e-6), F64: (1e-12, 1e-13)}




def wide(rng, shape, dtype):
    """Values from -30 to 30 (and small integers), so both tails are exercised."""
    if np.dtype(dtype).kind in "iu":
        return rng.integers(-8, 8, size=shape)
    return rng.uniform(-30, 30, size=shape) * (rng.random(shape) < 0.5) + rng.uniform(-3, 3, size=shape)


def act(name, ref, dtypes=NUMBERS, out=float_of, fun=None, sample=wide):
    return OpCase(name, fun or getattr(nn, name), quiet(ref), SHAPES, dtypes, sample, out, TOL)


def np_elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def np_softmax(x, axis=-1, where=None):
    x = x.astype(np.float64)
    masked = x if where is None else np.where(where, x, -np.inf)
    shift = np.max(masked, axis=axis, keepdims=True, initial=-np.inf)
    e = np.exp(masked - np.where(np.isfinite(shift), shift, 0))
    out = e / np.sum(e, axis=axis, keepdims=True)
    return out if where is None else np.where(where, out, 0.0)


def np_log_softmax(x, axis=-1, where=None):
    x = x.astype(np.float64)
    masked = x if where is None else np.where(where, x, -np.inf)
    out = masked - ss.logsumexp(masked, axis=axis, keepdims=True)
    return out if where is None else np.where(where, out, -np.inf)


def np_standardize(x, axis=-1, where=None):
    x = x.astype(np.float64)
    mean = np.mean(x, axis=axis, keepdims=True, where=where if where is not None else True)
    var = np.mean((x - mean) ** 2, axis=axis, keepdims=True, where=where if where is not None else True)
    return (x - mean) / np.sqrt(var + 1e-5)


SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805

CASES = [
    act("relu", lambda x: np.maximum(x, 0), out=lambda d: d),
    act("relu6", lambda x: np.clip(x, 0, 6)),
    act("sigmoid", ss.expit),
    act("log_sigmoid", lambda x: -np.logaddexp(0, -x)),
    act("softplus", lambda x: np.logaddexp(x, 0)),
    act("soft_sign", lambda x: x / (np.abs(x) + 1)),
    act("silu", lambda x: x * ss.expit(x)),
    act("swish", lambda x: x * ss.expit(x)),
    act("gelu", lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
    act("gelu[exact]", lambda x: x * ss.ndtr(x), fun=lambda x: nn.gelu(x, approximate=False)),
    act("elu", np_elu),
    act("elu[alpha=0.5]", lambda x: np_elu(x, 0.5), fun=lambda x: nn.elu(x, 0.5)),
    act("celu", lambda x: np.maximum(x, 0) + 0.5 * np.expm1(np.minimum(x, 0) / 0.5),
        fun=lambda x: nn.celu(x, 0.5)),
    act("selu", lambda x: SELU_SCALE * np_elu(x, SELU_ALPHA)),
    act("leaky_relu", lambda x: np.where(x >= 0, x, 0.01 * x)),
    act("leaky_relu[0.2]", lambda x: np.where(x >= 0, x, 0.2 * x), fun=lambda x: nn.leaky_relu(x, 0.2)),
    act("hard_tanh", lambda x: np.clip(x, -1, 1), out=lambda d: d),
    act("hard_sigmoid", lambda x: np.clip(x + 3, 0, 6) / 6),
    act("hard_silu", lambda x: x * np.clip(x + 3, 0, 6) / 6),
    act("hard_swish", lambda x: x * np.clip(x + 3, 0, 6) / 6),
    act("mish", lambda x: x * np.tanh(np.logaddexp(x, 0))),
    act("squareplus", lambda x: (x + np.sqrt(x * x + 4)) / 2),
    act("squareplus[b=1]", lambda x: (x + np.sqrt(x * x + 1)) / 2, fun=lambda x: nn.squareplus(x, 1)),
    act("tanh", np.tanh),
    OpCase("glu", nn.glu, lambda x: x[..., :x.shape[-1] // 2] * ss.expit(x[..., x.shape[-1] // 2:]),
           [[(4,)], [(3, 6)], [(2, 0)]], NUMBERS, uniform(-4, 4), float_of, TOL),
    OpCase("glu[axis=0]", lambda x: nn.glu(x, axis=0), lambda x: x[:1] * ss.expit(x[1:]), [[(2, 3)]], FLOATS,
           uniform(-4, 4), tol=TOL),
    OpCase("softmax", nn.softmax, np_softmax, [[(5,)], [(2, 3)], [(2, 0)]], NUMBERS, wide, float_of, TOL),
    OpCase("softmax[axis=0]", lambda x: nn.softmax(x, axis=0), lambda x: np_softmax(x, axis=0),
           [[(5,)], [(2, 3)], [(0, 3)]], FLOATS, wide, tol=TOL),
    OpCase("softmax[where]", lambda x, m: nn.softmax(x, where=m), lambda x, m: np_softmax(x, where=m),
           [[(5,), (5,)], [(2, 3), (2, 3)], [(2, 3), (3,)]], FLOATS, wide, tol=TOL, arg_dtypes=[None, BOOL]),
    OpCase("log_softmax", nn.log_softmax, np_log_softmax, [[(5,)], [(2, 3)], [(2, 0)]], NUMBERS, wide,
           float_of, TOL),
    OpCase("log_softmax[where]", lambda x, m: nn.log_softmax(x, axis=-1, where=m),
           lambda x, m: np_log_softmax(x, where=m), [[(5,), (5,)], [(2, 3), (2, 3)]], FLOATS, wide, tol=TOL,
           arg_dtypes=[None, BOOL]),
    OpCase("nn.logsumexp", lambda x: nn.logsumexp(x, axis=-1), lambda x: ss.logsumexp(x, axis=-1),
           [[(5,)], [(2, 3)]], NUMBERS, wide, float_of, TOL),
    OpCase("standardize", nn.standardize, np_standardize, [[(5,)], [(2, 3)]], NUMBERS, uniform(-3, 3),
           float_of, {F32: (1e-4, 1e-4), F64: (1e-9, 1e-9)}),
    OpCase("standardize[stable, axis=None]", lambda x: nn.standardize(x, axis=None, algorithm="stable"),
           lambda x: np_standardize(x, axis=None), [[(5,)], [(2, 3)]], FLOATS, uniform(-3, 3), tol=TOL),
    OpCase("standardize[where]", lambda x, m: nn.standardize(x, where=m),
           lambda x, m: np_standardize(x, where=m), [[(2, 4), (2, 4)]], FLOATS,
           samplers=[uniform(-3, 3), lambda rng, shape, dtype: np.array([[1, 1, 0, 1], [0, 1, 1, 0]], bool)],
           tol={F32: (1e-4, 1e-4), F64: (1e-9, 1e-9)}, arg_dtypes=[None, BOOL]),
    OpCase("one_hot", lambda x: nn.one_hot(x, 4), lambda x: (x[..., None] == np.arange(4)).astype(np.float32),
           [[()], [(0,)], [(5,)], [(2, 3)]], (I32, I64), uniform(-2, 6),
           lambda d: F64 if d == I64 else F32),  # the default float: float64 on x64 rows
    OpCase("one_hot[axis=0, int8]", lambda x: nn.one_hot(x, 3, dtype=jnp.int8, axis=0),
           lambda x: np.moveaxis(x[..., None] == np.arange(3), -1, 0).astype(np.int8), [[(5,)], [(2, 3)]],
           (I32,), uniform(-1, 4), always(np.int8)),
]


test_op = values_test(CASES)
test_op_jit = jit_test(CASES)


def arr(values, dtype=F32):
    return jnp.asarray(np.asarray(values, dtype=dtype))


def test_stable_at_extremes():
    x = arr([-1000.0, -100.0, 0.0, 100.0, 1000.0])
    np.testing.assert_allclose(nn.softplus(x), [0.0, 0.0, np.log(2), 100.0, 1000.0], atol=1e-30)
    np.testing.assert_allclose(nn.log_sigmoid(x), [-1000.0, -100.0, -np.log(2), 0.0, 0.0], atol=1e-30)
    np.testing.assert_allclose(nn.softmax(arr([1000.0, 1000.0])), [0.5, 0.5])
    np.testing.assert_allclose(nn.mish(x), [0.0, 0.0, 0.0, 100.0, 1000.0], atol=1e-30)
    assert np.isfinite(np.asarray(nn.elu(x))).all()


def test_masked_rows():
    x = arr([[1.0, 2.0], [3.0, 4.0]])
    mask = arr([[True, True], [False, False]], BOOL)
    np.testing.assert_array_equal(nn.softmax(x, where=mask)[1], [0.0, 0.0])
    np.testing.assert_array_equal(nn.log_softmax(x, where=mask)[1], [-np.inf, -np.inf])


def test_one_hot_edges():
    np.testing.assert_array_equal(nn.one_hot(arr([-1, 3, 1], I32), 3), [[0, 0, 0], [0, 0, 0], [0, 1, 0]])
    np.testing.assert_array_equal(nn.one_hot(arr([2, 255], np.uint8), 300)[:, 255], [0, 1])
    np.testing.assert_array_equal(nn.one_hot(arr([1.0, 1.5]), 3), [[0, 1, 0], [0, 0, 0]])
    assert nn.one_hot(arr([[1, 2]], I32), 5, axis=1).shape == (1, 5, 2)
    with enable_x64():
        assert nn.one_hot(arr([1], I32), 2).dtype == F64
    with pytest.raises(TypeError, match=r"one_hot: num_classes must be a static Python int"):
        nn.one_hot(arr([1], I32), 2.5)


def test_relu_has_zero_derivative_at_zero_and_keeps_ints():
    assert nn.relu(arr([-2, 3], I32)).dtype == I32
    assert nn.hard_tanh(arr([-2, 3], I32)).tolist() == [-1, 1]
    jaxpr = numbax.make_jaxpr(nn.relu)(arr([0.0]))
    assert "select_n" in str(jaxpr)  # the kink is a select, so its tangent is 0 at 0 (as jax.nn.relu)


def test_weak_types():
    assert nn.sigmoid(1.0).weak_type and nn.sigmoid(1.0).dtype == F32
    assert not nn.sigmoid(arr([1.0])).weak_type
    assert nn.relu6(arr([1], I32)).dtype == F32


def test_errors():
    with pytest.raises(ValueError, match=r"glu: axis 1 of the input \(shape \(2, 3\)\) must have even"):
        nn.glu(arr(np.ones((2, 3))))
    with pytest.raises(ValueError, match=r"standardize: algorithm must be 'fast' or 'stable'"):
        nn.standardize(arr([1.0]), algorithm="exact")
    with pytest.raises(ValueError, match=r"softmax: axis 3 is out of bounds for an array of rank 2"):
        nn.softmax(arr(np.ones((2, 3))), axis=3)


# --- initializers -----------------------------------------------------------------------------

def test_initializers():
    init = nn.initializers
    z = init.zeros(None, (2, 3))
    assert z.shape == (2, 3) and z.dtype == F32 and not np.asarray(z).any()
    o = init.ones(None, (4,), jnp.int32)
    assert o.dtype == I32 and np.asarray(o).tolist() == [1, 1, 1, 1]
    c = init.constant(-0.5)(None, (2, 2))
    np.testing.assert_array_equal(c, np.full((2, 2), -0.5, np.float32))
    row = init.constant(arr([1.0, 2.0, 3.0]), jnp.float16)(None, (2, 3))
    assert row.dtype == np.float16 and np.asarray(row).tolist() == [[1, 2, 3]] * 2
    assert init.zeros(None, ()).shape == () and init.zeros(None, (0, 2)).shape == (0, 2)
    with enable_x64():
        assert init.zeros(None, (1,)).dtype == F64
        assert init.constant(1, jnp.float32)(None, (1,)).dtype == F32
    with pytest.raises(ValueError, match=r"does not broadcast to the requested shape \(2, 2\)"):
        init.constant(arr([1.0, 2.0, 3.0]))(None, (2, 2))
    f: init.Initializer = init.zeros
    assert callable(f)


# --- the gradient column: every differentiable row, to order 2 ----------------------------
_NOT_DIFFERENTIABLE = {"one_hot", "one_hot[axis=0, int8]"}
GRAD_CASES = [dataclasses.replace(c, grad_order=2, shapes=[s for s in c.shapes if all(d for sh in s for d in sh)])
              for c in CASES if c.name not in _NOT_DIFFERENTIABLE]


test_op_grads = grads_test(GRAD_CASES)


test_op_vmap = vmap_test(CASES)
